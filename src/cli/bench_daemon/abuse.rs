//! `mmcl bench daemon --abuse`: what tests/control_abuse.rs does to a control server, aimed
//! at the benchmark's real daemon through its socket: 50 clients asking `status` in a loop
//! (5 ms apart), clients sending garbage, unknown requests, wrong types, another protocol
//! version and deep nesting, a client writing a 100 MB line, one that asks without ever
//! reading its replies, and one that subscribes and never reads. Every abuser is a thread
//! named `mmcl-abuse-N`, so the benchmark can take their CPU out of the daemon's
//! (`super::cpu`): what is left is the daemon serving them.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The clients asking `status` in a loop.
pub const STEADY_CLIENTS: usize = 50;
/// The line the 100 MB client writes, from one reused 1 MiB buffer.
const HUGE_LINE: usize = 100 << 20;
/// How long a stalled client holds its connection: past the server's 2 s write timeout.
const HOLD: Duration = Duration::from_secs(4);
/// The malformed lines, each answered with an error (tests/control_abuse.rs's).
const BAD_LINES: [&[u8]; 5] = [
    b"\x00\xff\xfe garbage \x07\n",
    b"{\"v\":1,\"id\":2,\"request\":\"frobnicate\"}\n",
    b"{\"v\":1,\"id\":3,\"request\":\"enroll_start\",\"args\":{\"label\":[1,2]}}\n",
    b"{\"v\":9,\"id\":4,\"request\":\"status\"}\n",
    b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n",
];
/// The abusers' thread names: this, then a number (`cpu::by_thread` groups them).
pub const THREAD_PREFIX: &str = "mmcl-abuse-";

/// What the abusers got from the daemon.
#[derive(Debug, Default)]
pub struct Tally {
    pub status_answers: AtomicU64,
    pub error_answers: AtomicU64,
    pub huge_lines_refused: AtomicU64,
    /// Most bytes of one 100 MB line the daemon took before refusing it.
    pub huge_line_bytes_taken: AtomicU64,
    pub stalled_connections: AtomicU64,
}

/// The abuse, running until `stop`.
pub struct Abuse {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    pub tally: Arc<Tally>,
}

impl Abuse {
    /// Starts every abuser on `socket`.
    pub fn start(socket: &Path) -> std::io::Result<Abuse> {
        let mut abuse = Abuse {
            stop: Arc::new(AtomicBool::new(false)),
            threads: Vec::new(),
            tally: Arc::new(Tally::default()),
        };
        for line in BAD_LINES {
            abuse.spawn(socket, move |path, tally, _| bad_lines(path, line, tally))?;
        }
        abuse.spawn(socket, |path, tally, _| huge_line(path, tally))?;
        abuse.spawn(socket, never_reads)?;
        abuse.spawn(socket, subscribes_never_reads)?;
        for _ in 0..STEADY_CLIENTS {
            abuse.spawn(socket, steady)?;
        }
        Ok(abuse)
    }

    /// Runs `body` in a loop on a new abuser thread until the stop.
    fn spawn(
        &mut self,
        socket: &Path,
        body: impl Fn(&Path, &Tally, &AtomicBool) + Send + 'static,
    ) -> std::io::Result<()> {
        let (path, tally, stop) = (socket.to_path_buf(), self.tally.clone(), self.stop.clone());
        let name = format!("{THREAD_PREFIX}{}", self.threads.len());
        let handle = std::thread::Builder::new()
            .name(name)
            .stack_size(256 << 10)
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    body(&path, &tally, &stop);
                }
            })?;
        self.threads.push(handle);
        Ok(())
    }

    /// Stops every abuser and waits for them (a stalled one within its hold).
    pub fn stop(self) -> Arc<Tally> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            let _ = t.join();
        }
        self.tally
    }
}

/// A connection with its greeting read, or `None` (the client limit, a closing socket).
fn greeted(path: &Path) -> Option<(UnixStream, BufReader<UnixStream>)> {
    let s = UnixStream::connect(path).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(s.try_clone().ok()?);
    let mut hello = String::new();
    reader.read_line(&mut hello).ok()?;
    hello.contains("\"hello\"").then_some((s, reader))
}

/// Sends `line` and reads the answer line.
fn ask(s: &mut UnixStream, reader: &mut BufReader<UnixStream>, line: &[u8]) -> Option<String> {
    s.write_all(line).ok()?;
    let mut answer = String::new();
    reader.read_line(&mut answer).ok()?;
    (!answer.is_empty()).then_some(answer)
}

/// A status client of the 50: ask, read, 5 ms, again, on one connection.
fn steady(path: &Path, tally: &Tally, stop: &AtomicBool) {
    let Some((mut s, mut reader)) = greeted(path) else {
        return std::thread::sleep(Duration::from_millis(50));
    };
    let line = b"{\"v\":1,\"id\":1,\"request\":\"status\"}\n";
    while !stop.load(Ordering::Relaxed) {
        match ask(&mut s, &mut reader, line) {
            Some(a) if a.contains("\"ok\"") => tally.status_answers.fetch_add(1, Ordering::Relaxed),
            _ => return,
        };
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Twenty copies of one malformed line on one connection, each answered with an error.
fn bad_lines(path: &Path, line: &[u8], tally: &Tally) {
    let Some((mut s, mut reader)) = greeted(path) else {
        return std::thread::sleep(Duration::from_millis(50));
    };
    for _ in 0..20 {
        match ask(&mut s, &mut reader, line) {
            Some(a) if a.contains("\"error\"") => {
                tally.error_answers.fetch_add(1, Ordering::Relaxed)
            }
            _ => return,
        };
    }
}

/// Writes a 100 MB line until the daemon refuses it and closes.
fn huge_line(path: &Path, tally: &Tally) {
    let Ok(mut s) = UnixStream::connect(path) else {
        return std::thread::sleep(Duration::from_millis(50));
    };
    let _ = s.set_write_timeout(Some(Duration::from_secs(5)));
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let chunk = vec![b'x'; 1 << 20];
    let mut sent = 0usize;
    while sent < HUGE_LINE {
        match s.write(&chunk) {
            Ok(n) => sent += n,
            Err(_) => break,
        }
    }
    let taken = u64::try_from(sent).unwrap_or(u64::MAX);
    tally
        .huge_line_bytes_taken
        .fetch_max(taken, Ordering::Relaxed);
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    if String::from_utf8_lossy(&answer).contains("longer than 65536 bytes") {
        tally.huge_lines_refused.fetch_add(1, Ordering::Relaxed);
    }
}

/// Asks for status again and again without reading, until its writes block; then holds.
fn never_reads(path: &Path, tally: &Tally, stop: &AtomicBool) {
    let Ok(mut s) = UnixStream::connect(path) else {
        return std::thread::sleep(Duration::from_millis(50));
    };
    let _ = s.set_write_timeout(Some(Duration::from_millis(200)));
    let line = b"{\"v\":1,\"id\":1,\"request\":\"status\"}\n";
    while s.write_all(line).is_ok() && !stop.load(Ordering::Relaxed) {}
    tally.stalled_connections.fetch_add(1, Ordering::Relaxed);
    hold(stop);
}

/// Subscribes, then never reads; the daemon drops it after its write timeout.
fn subscribes_never_reads(path: &Path, tally: &Tally, stop: &AtomicBool) {
    let Ok(mut s) = UnixStream::connect(path) else {
        return std::thread::sleep(Duration::from_millis(50));
    };
    let _ = s.set_write_timeout(Some(Duration::from_secs(1)));
    let _ = s.write_all(b"{\"v\":1,\"id\":1,\"request\":\"subscribe\"}\n");
    tally.stalled_connections.fetch_add(1, Ordering::Relaxed);
    hold(stop);
}

/// Keeps the caller's connection open, unread, for `HOLD` or until the stop.
fn hold(stop: &AtomicBool) {
    let t0 = Instant::now();
    while t0.elapsed() < HOLD && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The socket `--abuse` aims at: the benchmark's own daemon's.
pub fn socket_of(state: &Path) -> PathBuf {
    state.join("control.sock")
}
