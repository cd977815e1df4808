//! The bad-request acceptance: a running server with the fake target (cheap `status`,
//! `enroll_stop` learning 300 ms) keeps answering `status` while other clients send
//! garbage, 100 MB lines, unknown requests, wrong types and versions, never read their
//! replies or their subscription, loop over the slow `enroll_stop`, and 50 more clients
//! ask at once. Prints the status round-trip p50/p99 without and with the abuse, side by
//! side, and the memory the 100 MB lines cost (run with `--nocapture` to see them).

mod control_support;

use control_support::{percentile, rss_bytes, Raw, Running};
use mmcl::control::api::Event;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const SAMPLES: usize = 300;
/// The 100 MB line, sent from one reused 1 MiB buffer so the test itself stays small.
const HUGE_LINE: usize = 100 << 20;
/// One status answer may take this long under abuse before the server counts as blocked.
const BLOCKED: Duration = Duration::from_secs(2);
/// How long the stalled clients hold their connection: past the server's 2 s write timeout.
const HOLD: Duration = Duration::from_secs(4);
/// The abuse runs at least this long, so the stalled clients meet the write timeout.
const ABUSE: Duration = Duration::from_secs(3);

#[derive(Default)]
struct Tally {
    /// Most bytes of a 100 MB line the server took before refusing it.
    huge_line_accepted: AtomicU64,
    huge_lines_refused: AtomicU64,
    answers: AtomicU64,
}

/// Status round trips on one connection.
fn round_trips(c: &mut Raw, n: usize) -> Vec<Duration> {
    (0..n)
        .map(|i| {
            let t0 = Instant::now();
            let answer = c.ask(&format!(r#"{{"v":1,"id":{i},"request":"status"}}"#));
            let took = t0.elapsed();
            assert_eq!(answer["ok"]["state"], "running", "{answer}");
            assert!(
                took < BLOCKED,
                "status took {took:?}: the server is blocked"
            );
            took
        })
        .collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Runs `body` in a loop on its own thread until `stop`.
fn abuser(
    stop: &Arc<AtomicBool>,
    mut body: impl FnMut(&AtomicBool) + Send + 'static,
) -> JoinHandle<()> {
    let stop = Arc::clone(stop);
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            body(&stop);
        }
    })
}

/// A greeted connection, or `None` when the server is at its client limit (an abuser's
/// previous connection may still be closing).
fn greeted(path: &Path) -> Option<Raw> {
    let (raw, first) = Raw::open(path);
    first.filter(|f| f.get("hello").is_some()).map(|_| raw)
}

fn connect(path: &Path) -> UnixStream {
    let s = UnixStream::connect(path).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// Keeps a connection open, unread, for `HOLD` or until `stop`.
fn hold(stop: &AtomicBool) {
    let t0 = Instant::now();
    while t0.elapsed() < HOLD && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends lines and reads one answer per line.
fn ask_each(path: &Path, lines: &[&[u8]], tally: &Tally) {
    let Some(mut c) = greeted(path) else {
        return std::thread::sleep(Duration::from_millis(10));
    };
    for line in lines {
        if c.send(line).is_err() {
            return;
        }
        match c.frame() {
            Some(answer) => {
                assert!(answer.get("error").is_some(), "{answer}");
                tally.answers.fetch_add(1, Ordering::Relaxed);
            }
            None => return,
        }
    }
}

/// Writes a 100 MB line; records how much the server took before refusing it.
fn huge_line(path: &Path, tally: &Tally) {
    let mut s = connect(path);
    let chunk = vec![b'x'; 1 << 20];
    let mut sent = 0usize;
    while sent < HUGE_LINE {
        match s.write(&chunk) {
            Ok(n) => sent += n,
            Err(_) => break,
        }
    }
    tally
        .huge_line_accepted
        .fetch_max(sent as u64, Ordering::Relaxed);
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    if String::from_utf8_lossy(&answer).contains("longer than 65536 bytes") {
        tally.huge_lines_refused.fetch_add(1, Ordering::Relaxed);
    }
}

/// Asks for status again and again without reading a reply until its writes block, then
/// holds the connection: the server's reply write times out.
fn never_reads(path: &Path, stop: &AtomicBool) {
    let mut s = connect(path);
    s.set_write_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let line = b"{\"v\":1,\"id\":1,\"request\":\"status\"}\n";
    while s.write_all(line).is_ok() && !stop.load(Ordering::Relaxed) {}
    hold(stop);
}

/// Subscribes, then never reads; the server drops it after its write timeout.
fn subscribes_never_reads(path: &Path, stop: &AtomicBool) {
    let mut s = connect(path);
    let _ = s.write_all(b"{\"v\":1,\"id\":1,\"request\":\"subscribe\"}\n");
    hold(stop);
}

/// The slow request: an enrollment started and learned (300 ms) over and over.
fn slow_learns(path: &Path) {
    let Some(mut c) = greeted(path) else {
        return std::thread::sleep(Duration::from_millis(10));
    };
    let start = c.ask(r#"{"v":1,"id":1,"request":"enroll_start","args":{"label":"walking"}}"#);
    if let Some(id) = start["ok"]["id"].as_u64() {
        let stop =
            format!(r#"{{"v":1,"id":2,"request":"enroll_stop","args":{{"enrollment":{id}}}}}"#);
        c.ask(&stop);
    }
}

/// A status client of the 50: ask, read, pause 5 ms, again.
fn steady_client(path: PathBuf, stop: Arc<AtomicBool>) -> JoinHandle<()> {
    let mut c = Raw::connect(&path);
    std::thread::spawn(move || {
        let mut id = 0u64;
        while !stop.load(Ordering::Relaxed) {
            id += 1;
            let answer = c.ask(&format!(r#"{{"v":1,"id":{id},"request":"status"}}"#));
            assert_eq!(answer["id"], id, "{answer}");
            std::thread::sleep(Duration::from_millis(5));
        }
    })
}

fn start_abuse(
    running: &Running,
    stop: &Arc<AtomicBool>,
    tally: &Arc<Tally>,
) -> Vec<JoinHandle<()>> {
    let path = running.path.clone();
    let mut threads = Vec::new();
    let bad: [&'static [u8]; 5] = [
        b"\x00\xff\xfe garbage \x07\n",
        b"{\"v\":1,\"id\":2,\"request\":\"frobnicate\"}\n",
        b"{\"v\":1,\"id\":3,\"request\":\"enroll_start\",\"args\":{\"label\":[1,2]}}\n",
        b"{\"v\":9,\"id\":4,\"request\":\"status\"}\n",
        b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n",
    ];
    for line in bad {
        let (path, tally) = (path.clone(), Arc::clone(tally));
        threads.push(abuser(stop, move |_| ask_each(&path, &[line; 20], &tally)));
    }
    let (p, t) = (path.clone(), Arc::clone(tally));
    threads.push(abuser(stop, move |_| huge_line(&p, &t)));
    let p = path.clone();
    threads.push(abuser(stop, move |stop| never_reads(&p, stop)));
    let p = path.clone();
    threads.push(abuser(stop, move |stop| subscribes_never_reads(&p, stop)));
    let p = path.clone();
    threads.push(abuser(stop, move |_| slow_learns(&p)));
    let fake = Arc::clone(&running.fake);
    threads.push(abuser(stop, move |_| {
        fake.publish(&Event::Window(control_support::prediction(1, "walking")));
        std::thread::sleep(Duration::from_millis(2));
    }));
    for _ in 0..50 {
        threads.push(steady_client(path.clone(), Arc::clone(stop)));
    }
    threads
}

#[test]
fn the_server_keeps_answering_through_abuse() {
    let running = Running::start();
    // The probe connects before the abuse, so the client limit never refuses it.
    let mut probe = Raw::connect(&running.path);
    round_trips(&mut probe, 20);
    let mut quiet = round_trips(&mut probe, SAMPLES);
    let rss_before = rss_bytes();
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let t0 = Instant::now();
    let threads = start_abuse(&running, &stop, &tally);
    std::thread::sleep(Duration::from_millis(500));
    let mut abused = round_trips(&mut probe, SAMPLES);
    let rss_during = rss_bytes();
    let clients_during = running.clients();
    std::thread::sleep(ABUSE.saturating_sub(t0.elapsed()));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("an abuser thread");
    }
    let counters = running.counters();
    eprintln!("status round trip over one connection, {SAMPLES} samples each:");
    eprintln!("               p50        p99        max");
    for (name, s) in [("quiet", &mut quiet), ("abused", &mut abused)] {
        let (p50, p99, max) = (
            percentile(s, 50.0),
            percentile(s, 99.0),
            percentile(s, 100.0),
        );
        eprintln!(
            "  {name:<8} {:>7.3} ms {:>7.3} ms {:>7.3} ms",
            ms(p50),
            ms(p99),
            ms(max)
        );
    }
    let accepted = tally.huge_line_accepted.load(Ordering::Relaxed);
    eprintln!(
        "clients connected during abuse: {clients_during}; 100 MB lines refused: {}, most bytes taken of one: {accepted}",
        tally.huge_lines_refused.load(Ordering::Relaxed)
    );
    eprintln!(
        "test process RSS: {:.1} MiB before abuse, {:.1} MiB during; server counters: {counters:?}",
        rss_before as f64 / 1048576.0,
        rss_during as f64 / 1048576.0
    );
    assert!(tally.huge_lines_refused.load(Ordering::Relaxed) >= 1);
    // 64 KiB read, plus what the two socket buffers hold: never the 100 MB.
    assert!(
        accepted < 4 << 20,
        "{accepted} bytes of a 100 MB line taken"
    );
    assert!(
        rss_during < rss_before + (64 << 20),
        "{rss_before} -> {rss_during}"
    );
    assert!(tally.answers.load(Ordering::Relaxed) > 0);
    assert!(counters.write_timeouts >= 1, "{counters:?}");
    assert!(counters.bad_requests >= 5, "{counters:?}");
    assert!(
        clients_during >= 50,
        "the 50 clients were served at once: {clients_during}"
    );
    // Still healthy afterwards, and still stops promptly.
    round_trips(&mut Raw::connect(&running.path), 10);
    drop(probe);
    let (took, _) = running.stop();
    eprintln!("stopped after the abuse in {:.1} ms", ms(took));
}
