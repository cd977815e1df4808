//! What the host's integration tests share: a `mmcl host serve` child on a loopback port,
//! tokens made through the CLI, and bundles that hold a real class model.

#![allow(dead_code)]

pub mod backends;

use mmcl::classes::{Change, ChangeKind, ClassModel, ClassName, Enrollment};
use mmcl::embedding::Embedding;
use mmcl::learn::{self, LearnerConfig, Strategy};
use mmcl::store::Snapshot;
use mmcl::time::Timestamp;
use mmcl::uplink::Bundle;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The encoder the test bundles name (the server is told it knows it).
pub const ENCODER: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// The binary, with the test S3 server's credentials as the standard variables (a
/// `--blobs s3://...` child reads them; any other ignores them).
pub fn mmcl() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mmcl"));
    command
        .env("AWS_ACCESS_KEY_ID", backends::S3_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", backends::S3_SECRET)
        .env("AWS_REGION", "us-east-1");
    command
}

/// A running `mmcl host serve`; killed on drop.
pub struct Server {
    pub child: Child,
    pub url: String,
    /// The `--db` URL.
    pub db: String,
    /// `--db URL [--blobs DIR]` as given.
    pub store: Vec<String>,
}

impl Server {
    /// Serves `dir/host.db` on a free loopback port (or `port`), bundles up to `max` bytes.
    pub fn start(dir: &Path, port: u16, max: usize) -> Server {
        Server::start_on(&backends::sqlite(dir).args(), port, max)
    }

    /// Serves the store `store` names (`--db URL [--blobs DIR]`) like `start`.
    pub fn start_on(store: &[String], port: u16, max: usize) -> Server {
        Server::start_with(store, port, (max, ENCODER), &[])
    }

    /// A server on a free loopback port that knows `encoder` (bundles up to 64 MiB).
    pub fn start_with_encoder(dir: &Path, encoder: &str) -> Server {
        Server::start_with(&backends::sqlite(dir).args(), 0, (64 << 20, encoder), &[])
    }

    /// A server on a free loopback port given `extra` arguments (`--tls-cert ...`).
    pub fn start_with_args(dir: &Path, extra: &[&str]) -> Server {
        Server::start_with(&backends::sqlite(dir).args(), 0, (1 << 20, ENCODER), extra)
    }

    fn start_with(
        store: &[String],
        port: u16,
        (max, encoder): (usize, &str),
        extra: &[&str],
    ) -> Server {
        let mut child = mmcl()
            .args(["host", "serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(store)
            .args([
                "--known-encoder",
                encoder,
                "--max-bundle-bytes",
                &max.to_string(),
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn mmcl host serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("listening line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .expect(&line)
            .to_string();
        let db = store.get(1).cloned().unwrap_or_default();
        Server {
            child,
            url,
            db,
            store: store.to_vec(),
        }
    }

    /// `mmcl host token add DEVICE` on this server's store; returns the token.
    pub fn token_add(&self, device: &str) -> String {
        token_add_on(&self.store, device)
    }

    pub fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port")
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `mmcl host token add DEVICE --json` on `db`; returns the token.
pub fn token_add(db: &str, device: &str) -> String {
    token_add_on(&["--db".into(), db.into()], device)
}

/// `mmcl host token add DEVICE --json` on the store `store` names; returns the token.
pub fn token_add_on(store: &[String], device: &str) -> String {
    let out = mmcl()
        .args(["host", "token", "add", device, "--json"])
        .args(store)
        .output()
        .expect("token add");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    v["token"].as_str().expect("token").to_string()
}

/// A bundle of `device`'s snapshot `seq`: an ncm learner of dim 4 that learned `classes`
/// classes.
pub fn bundle(device: &str, seq: u64, classes: usize) -> Bundle {
    let config = LearnerConfig::for_strategy(Strategy::Ncm, 4);
    let model = ClassModel::new(learn::build(4, &config).expect("learner"));
    for c in 0..classes {
        let mut v = vec![0.0; 4];
        v[c % 4] = 1.0 + c as f32;
        let enrollment = Enrollment {
            label: ClassName::new(&format!("class{c}")).expect("name"),
            embeddings: vec![Embedding::new(v, 4).expect("embedding")],
            span: (Timestamp(0), Timestamp(1)),
            source: "test".into(),
        };
        let change = Change {
            at_ms: c as u64,
            kind: ChangeKind::Enroll(enrollment),
        };
        model.apply(&change).expect("enroll");
    }
    Bundle {
        device_id: device.into(),
        snapshot_seq: seq,
        created_at_ms: 1000 + seq,
        snapshot: Snapshot {
            encoder_sha256: ENCODER.into(),
            journal_seq: seq,
            sections: model.sections(),
        },
    }
}

/// `GET url` with ureq; the status and body.
pub fn get(url: &str) -> (u16, serde_json::Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent.get(url).call().expect("GET");
    let body = r.body_mut().read_to_string().unwrap_or_default();
    (
        r.status().as_u16(),
        serde_json::from_str(&body).unwrap_or_default(),
    )
}

/// `PUT` raw bytes to a device's bundle path; the status and error kind.
pub fn put(base: &str, device: &str, hash: &str, token: &str, body: &[u8]) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{base}/v1/devices/{device}/bundles/{hash}");
    let mut r = agent
        .put(&url)
        .header("Authorization", &format!("Bearer {token}"))
        .send(body)
        .expect("PUT");
    let text = r.body_mut().read_to_string().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    (
        r.status().as_u16(),
        v["error"]["kind"].as_str().unwrap_or("").to_string(),
    )
}

pub fn temp_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}
