//! The storage backends a host test runs on: SQLite + blob files always, PostgreSQL when
//! `MMCL_TEST_PG_URL` names a server whose role may create databases, and each of those
//! with its blobs in S3 when `MMCL_TEST_S3_URL` names an S3-compatible server and bucket
//! (`http://127.0.0.1:PORT/BUCKET`; .ci/run starts moto and sets both). Each PostgreSQL
//! backend is a scratch database of its own, dropped with it, and each S3 backend a key
//! prefix of its own, so tests run in parallel.

use mmcl::host::storage::{
    self, BlobDir, BlobLocation, BlobStore, S3Config, S3Credentials, S3Options, Storage,
};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

pub const PG_URL_VAR: &str = "MMCL_TEST_PG_URL";
pub const S3_URL_VAR: &str = "MMCL_TEST_S3_URL";
/// What the test S3 server (moto) takes as credentials; `mmcl()` children get them as
/// the standard variables.
pub const S3_KEY_ID: &str = "testing";
pub const S3_SECRET: &str = "testing";

/// One fresh, empty store: the `--db` URL and `--blobs` location that open it.
pub struct Backend {
    pub name: &'static str,
    pub db: String,
    pub blobs: BlobLocation,
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

    /// `--db URL --blobs DIR|s3://... [S3 flags]` for `mmcl host ...`.
    pub fn args(&self) -> Vec<String> {
        let mut args = vec!["--db".into(), self.db.clone(), "--blobs".into()];
        match &self.blobs {
            BlobLocation::Dir(dir) => args.push(dir.display().to_string()),
            BlobLocation::S3(s3) => {
                args.push(s3.url());
                if let Some(endpoint) = &s3.options.endpoint {
                    args.extend(["--s3-endpoint".into(), endpoint.clone()]);
                }
                if s3.options.allow_http {
                    args.push("--s3-allow-http".into());
                }
            }
        }
        args
    }

    /// The blob store alone (to damage a blob behind the metadata's back).
    pub fn blob_store(&self) -> std::sync::Arc<dyn BlobStore> {
        storage::open_blobs(&self.blobs).unwrap_or_else(|e| panic!("{}: {e}", self.name))
    }

    /// Removes the blob of `hash` behind the store's back.
    pub fn delete_blob(&self, hash: &str) {
        match &self.blobs {
            BlobLocation::Dir(dir) => {
                let path = BlobDir::open(dir).unwrap().path_of(hash);
                std::fs::remove_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
            BlobLocation::S3(s3) => {
                // The object's URL, path-style, with moto's unchecked signature.
                let key = self.blob_store().location(hash);
                let key = key.trim_start_matches("s3://");
                let endpoint = s3.options.endpoint.as_deref().expect("test endpoint");
                let status = agent()
                    .delete(&format!("{endpoint}/{key}"))
                    .header("Authorization", MOTO_AUTH)
                    .call()
                    .expect("DELETE object")
                    .status();
                assert!(status.is_success(), "DELETE {key}: {status}");
            }
        }
    }

    /// This backend with its S3 endpoint moved to a loopback port nothing listens on
    /// (`None` for a backend with blob files).
    pub fn with_s3_down(&self) -> Option<BlobLocation> {
        let BlobLocation::S3(s3) = &self.blobs else {
            return None;
        };
        let dead = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut down = s3.clone();
        down.options.endpoint = Some(format!("http://127.0.0.1:{dead}"));
        Some(BlobLocation::S3(down))
    }
}

/// moto answers a request without credentials as an anonymous one (403 on a private
/// bucket) but checks no signature: any SigV4-shaped header with its key id will do.
const MOTO_AUTH: &str = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, \
                         SignedHeaders=host, Signature=0";

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// SQLite in `dir` (always): the store the host uses without a `--db` server.
pub fn sqlite(dir: &Path) -> Backend {
    Backend {
        name: "sqlite",
        db: format!("sqlite:{}", dir.join("host.db").display()),
        blobs: BlobLocation::Dir(dir.join("blobs")),
        _scratch: None,
    }
}

/// Every backend this machine can reach, each fresh, with its files under `dir`.
pub fn backends(dir: &Path) -> Vec<Backend> {
    let mut out = vec![sqlite(&dir.join("sqlite"))];
    let pg = match std::env::var(PG_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!(
                "skipping PostgreSQL: {PG_URL_VAR} is not set (.ci/run starts a server and sets it)"
            );
            None
        }
    };
    if let Some(url) = &pg {
        out.push(postgres(
            url,
            BlobLocation::Dir(dir.join("pg-blobs")),
            "postgres",
        ));
    }
    let Some(s3) = s3_test_server() else {
        eprintln!("skipping S3 blobs: {S3_URL_VAR} is not set (.ci/run starts moto and sets it)");
        return out;
    };
    let mut sqlite_s3 = sqlite(&dir.join("sqlite-s3"));
    sqlite_s3.name = "sqlite+s3";
    sqlite_s3.blobs = s3_prefix(&s3);
    out.push(sqlite_s3);
    if let Some(url) = &pg {
        out.push(postgres(url, s3_prefix(&s3), "postgres+s3"));
    }
    out
}

fn postgres(admin: &str, blobs: BlobLocation, name: &'static str) -> Backend {
    let scratch = ScratchDb::create(admin);
    Backend {
        name,
        db: scratch.url.clone(),
        blobs,
        _scratch: Some(scratch),
    }
}

/// The test S3 server: its endpoint and bucket (created if missing), from `MMCL_TEST_S3_URL`.
pub fn s3_test_server() -> Option<(String, String)> {
    let url = std::env::var(S3_URL_VAR).ok().filter(|u| !u.is_empty())?;
    let (endpoint, bucket) = url
        .trim_end_matches('/')
        .rsplit_once('/')
        .filter(|(e, _)| e.starts_with("http"))
        .unwrap_or_else(|| panic!("{S3_URL_VAR}={url}: want http://HOST:PORT/BUCKET"));
    static CREATED: std::sync::Once = std::sync::Once::new();
    CREATED.call_once(|| {
        // CreateBucket; 409 is a bucket that exists already.
        let r = agent()
            .put(&format!("{endpoint}/{bucket}"))
            .header("Authorization", MOTO_AUTH)
            .send_empty()
            .unwrap_or_else(|e| panic!("{S3_URL_VAR}={url}: create bucket: {e}"));
        let status = r.status().as_u16();
        assert!(
            status == 200 || status == 409,
            "create bucket {bucket}: {status}"
        );
    });
    Some((endpoint.to_string(), bucket.to_string()))
}

/// A key prefix of its own in the test bucket.
fn s3_prefix((endpoint, bucket): &(String, String)) -> BlobLocation {
    BlobLocation::S3(S3Config {
        bucket: bucket.clone(),
        prefix: format!("t-{}", unique()),
        options: S3Options {
            endpoint: Some(endpoint.clone()),
            region: Some("us-east-1".into()),
            allow_http: true,
        },
        credentials: S3Credentials::Static {
            access_key_id: S3_KEY_ID.into(),
            secret_access_key: S3_SECRET.into(),
        },
    })
}

/// `<pid>_<n>_<nanos>`: unique across this run's tests and runs sharing a server.
fn unique() -> String {
    static MADE: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{}_{}_{nanos}",
        std::process::id(),
        MADE.fetch_add(1, Ordering::Relaxed)
    )
}

/// A database created for one test on the server of `MMCL_TEST_PG_URL`; dropped on drop.
pub struct ScratchDb {
    admin: String,
    name: String,
    pub url: String,
}

impl ScratchDb {
    pub fn create(admin: &str) -> ScratchDb {
        let name = format!("mmcl_test_{}", unique());
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
