//! What the control tests share: `Fake` (`fake`), a server started on a socket in a temp
//! dir (`Running`), a raw connection (`Raw`) that writes bytes and reads frames as JSON
//! values, and running the `mmcl` binary against it (`cli`).
#![allow(dead_code)]

pub mod cli;
mod fake;

pub use fake::*;

use mmcl::control::server::{serve, ListenerConfig, ServerCounters, ServerHandle};
use mmcl::shutdown::Shutdown;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A server on a socket in a temp dir, stopped on drop.
pub struct Running {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub fake: Arc<Fake>,
    pub shutdown: Shutdown,
    server: Option<ServerHandle>,
}

impl Running {
    pub fn start() -> Running {
        Running::with(Fake::with_classes(&["walking", "cycling"]), |_| {})
    }

    pub fn with(fake: Arc<Fake>, edit: impl FnOnce(&mut ListenerConfig)) -> Running {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("control.sock");
        let mut config = ListenerConfig::new(&path);
        edit(&mut config);
        let shutdown = Shutdown::new();
        let server = serve(config, fake.clone(), shutdown.clone()).expect("server starts");
        Running {
            dir,
            path,
            fake,
            shutdown,
            server: Some(server),
        }
    }

    pub fn counters(&self) -> ServerCounters {
        self.server
            .as_ref()
            .map(ServerHandle::counters)
            .unwrap_or_default()
    }

    pub fn clients(&self) -> usize {
        self.server.as_ref().map_or(0, ServerHandle::clients)
    }

    /// Triggers the shutdown and joins: how long the server took, and its counters.
    pub fn stop(mut self) -> (Duration, ServerCounters) {
        let server = self.server.take().expect("running");
        let t0 = Instant::now();
        self.shutdown.trigger();
        let counters = server.join();
        (t0.elapsed(), counters)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown.trigger();
        if let Some(server) = self.server.take() {
            server.join();
        }
    }
}

/// A connection that speaks raw lines; reads time out after 5 s so a test cannot hang.
pub struct Raw {
    pub stream: UnixStream,
    reader: BufReader<UnixStream>,
}

impl Raw {
    /// Connects and returns the first frame (the greeting or a refusal) with the connection.
    pub fn open(path: &Path) -> (Raw, Option<Value>) {
        let stream = UnixStream::connect(path).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream
            .set_write_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let reader = BufReader::new(stream.try_clone().unwrap());
        let mut raw = Raw { stream, reader };
        let first = raw.frame();
        (raw, first)
    }

    /// Connects and checks the greeting.
    pub fn connect(path: &Path) -> Raw {
        let (raw, hello) = Raw::open(path);
        let hello = hello.expect("a greeting");
        assert_eq!(hello["v"], 1, "{hello}");
        assert_eq!(hello["hello"]["daemon"], "mmcl", "{hello}");
        raw
    }

    pub fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// The next frame as JSON; `None` at end of stream or on a reset.
    pub fn frame(&mut self) -> Option<Value> {
        let mut line = Vec::new();
        match self.reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(serde_json::from_slice(&line).unwrap_or_else(|e| {
                panic!(
                    "frame is not JSON ({e}): {:?}",
                    String::from_utf8_lossy(&line)
                )
            })),
        }
    }

    /// Sends one line (newline added) and reads the answer.
    pub fn ask(&mut self, line: &str) -> Value {
        self.send(format!("{line}\n").as_bytes()).expect("send");
        self.frame().expect("an answer")
    }

    /// Exactly `n` raw bytes (a snapshot after its header).
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut out = vec![0; n];
        std::io::Read::read_exact(&mut self.reader, &mut out).expect("snapshot bytes");
        out
    }
}

/// One `status` round trip on a fresh connection, greeting included.
pub fn status_round_trip(path: &Path) -> Duration {
    let t0 = Instant::now();
    let mut raw = Raw::connect(path);
    let answer = raw.ask(r#"{"v":1,"id":1,"request":"status"}"#);
    assert_eq!(answer["ok"]["state"], "running", "{answer}");
    t0.elapsed()
}

/// The `p`-th percentile (0..=100) of `samples`, by nearest rank.
pub fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

/// Resident memory of this process, bytes (Linux `VmRSS`).
pub fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}
