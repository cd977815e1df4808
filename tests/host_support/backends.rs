//! The storage backends a host test runs on: SQLite + blob files always, PostgreSQL when
//! `MMCL_TEST_PG_URL` names a server whose role may create databases (.ci/run starts one).
//! Each PostgreSQL backend is a scratch database of its own, dropped with it, so tests run
//! in parallel and leave nothing behind.

use mmcl::host::storage::{self, Storage};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const PG_URL_VAR: &str = "MMCL_TEST_PG_URL";

/// One fresh, empty store: the `--db` URL and `--blobs` directory that open it.
pub struct Backend {
    pub name: &'static str,
    pub db: String,
    pub blobs: PathBuf,
    _scratch: Option<ScratchDb>,
}

impl Backend {
    pub fn open(&self) -> Box<dyn Storage> {
        storage::open(&self.db, Some(&self.blobs))
            .unwrap_or_else(|e| panic!("open {}: {e}", self.name))
    }

    /// Why opening the store fails (the test expects it to).
    pub fn open_err(&self) -> String {
        match storage::open(&self.db, Some(&self.blobs)) {
            Ok(_) => panic!("{}: opened", self.name),
            Err(e) => e.to_string(),
        }
    }

    /// `--db URL --blobs DIR` for `mmcl host ...`.
    pub fn args(&self) -> Vec<String> {
        vec![
            "--db".into(),
            self.db.clone(),
            "--blobs".into(),
            self.blobs.display().to_string(),
        ]
    }
}

/// SQLite in `dir` (always): the store the host uses without a `--db` server.
pub fn sqlite(dir: &Path) -> Backend {
    Backend {
        name: "sqlite",
        db: format!("sqlite:{}", dir.join("host.db").display()),
        blobs: dir.join("blobs"),
        _scratch: None,
    }
}

/// Every backend this machine can reach, each fresh, with its files under `dir`.
pub fn backends(dir: &Path) -> Vec<Backend> {
    let mut out = vec![sqlite(&dir.join("sqlite"))];
    match std::env::var(PG_URL_VAR) {
        Ok(url) if !url.is_empty() => {
            let scratch = ScratchDb::create(&url);
            out.push(Backend {
                name: "postgres",
                db: scratch.url.clone(),
                blobs: dir.join("pg-blobs"),
                _scratch: Some(scratch),
            });
        }
        _ => eprintln!(
            "skipping PostgreSQL: {PG_URL_VAR} is not set (.ci/run starts a server and sets it)"
        ),
    }
    out
}

/// A database created for one test on the server of `MMCL_TEST_PG_URL`; dropped on drop.
pub struct ScratchDb {
    admin: String,
    name: String,
    pub url: String,
}

impl ScratchDb {
    pub fn create(admin: &str) -> ScratchDb {
        static MADE: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "mmcl_test_{}_{}_{nanos}",
            std::process::id(),
            MADE.fetch_add(1, Ordering::Relaxed)
        );
        let mut client = postgres::Client::connect(admin, postgres::NoTls)
            .unwrap_or_else(|e| panic!("{PG_URL_VAR}={admin}: {e}"));
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("create scratch database {name}: {e}"));
        ScratchDb {
            url: with_database(admin, &name),
            admin: admin.to_string(),
            name,
        }
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        // FORCE ends the connections a storage or a killed server left open.
        if let Ok(mut client) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = client.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// `url` naming database `name` instead of its own (`scheme://authority/db?params`).
pub fn with_database(url: &str, name: &str) -> String {
    let (head, query) = url.split_once('?').map_or((url, ""), |(h, q)| (h, q));
    let start = head.find("://").map_or(0, |i| i + 3);
    let authority_end = head[start..].find('/').map_or(head.len(), |i| start + i);
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!("{}/{name}{query}", &head[..authority_end])
}
