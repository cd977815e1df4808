#![cfg(all(feature = "host", feature = "tract"))]
//! Acceptance end to end on loopback: `mmcl host serve` (child, temp SQLite) and a daemon
//! (in-process) on a replay profile with an `[uplink]` section enroll three tasks of two
//! classes, each class by `enroll --clips` over its train clips as they play, and sync
//! after each task (checkpoint -> bundle -> queue -> host). `mmcl host eval` over the
//! stored history then gives the accuracy matrix `mmcl bench cl` gives for the same
//! classes, class order and strategy (ncm) within 1e-6. Run with `-- --nocapture` to see
//! both matrices and the largest difference.

mod host_support;

use host_support::{get, mmcl, token_add, Server};
use mmcl::config::{Config, Settings};
use mmcl::control::api::{EnrollOutcome, EnrollProgress};
use mmcl::control::protocol::{EnrollStart, EnrollmentId, Request};
use mmcl::control::Client;
use mmcl::daemon::{self, Notifier, StartOptions};
use mmcl::shutdown::Shutdown;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const DEVICE: &str = "e2e-device";

fn tiny() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/encoder/tiny_encoder.onnx")
}

fn ok_json(args: &[&str]) -> Value {
    let out = mmcl().args(args).output().expect("run mmcl");
    assert!(
        out.status.success(),
        "mmcl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// The train clips of each class, by label, as the train list holds them.
fn train_clips(data: &Path) -> Vec<(u32, String, usize)> {
    let list = std::fs::read_to_string(data.join("train.txt")).expect("train list");
    let mut classes: Vec<(u32, String, usize)> = Vec::new();
    for line in list.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let label: u32 = fields[3].parse().expect("label");
        let folder = fields[0]
            .rsplit('/')
            .nth(1)
            .expect("class folder")
            .to_string();
        match classes.iter_mut().find(|c| c.0 == label) {
            Some(c) => c.2 += 1,
            None => classes.push((label, folder, 1)),
        }
    }
    classes
}

fn settings(root: &Path, url: &str, token: &str) -> Settings {
    let text = format!(
        r#"
profile = "e2e"
state_dir = "{state}"
[encoder]
model = "{model}"
[window]
stride_seconds = 1.0
[learner]
strategy = "ncm"
[sources.replay]
dataset = "{data}"
split = "train"
speed = 8.0
loop = true
order = "by-class"
[daemon]
checkpoint_changes = 100
[control]
socket = "{socket}"
[uplink]
url = "{url}"
token = "{token}"
device_id = "{DEVICE}"
interval = 0.2
"#,
        state = root.join("state").display(),
        model = tiny().display(),
        data = root.join("data").display(),
        socket = root.join("control.sock").display(),
    );
    let path = root.join("profile.toml");
    std::fs::write(&path, text).expect("write profile");
    Settings::resolve(Config::load(&path).expect("profile")).expect("settings")
}

fn until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !done() {
        assert!(t0.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `enroll FOLDER --clips N` through the socket, as `mmcl enroll` does.
fn enroll_clips(socket: &Path, folder: &str, clips: usize) -> EnrollOutcome {
    let mut client = Client::connect(socket).expect("connect");
    let start = Request::EnrollStart(EnrollStart {
        label: folder.to_string(),
        seconds: None,
        clips: Some(clips as u32),
    });
    let started: EnrollProgress = client.call_as(start).expect("enroll_start");
    let id = EnrollmentId {
        enrollment: started.id,
    };
    until(Duration::from_secs(300), folder, || {
        let p: EnrollProgress = client
            .call_as(Request::EnrollProgress(id))
            .expect("progress");
        p.state != "capturing"
    });
    client
        .call_as(Request::EnrollStop(id))
        .expect("enroll_stop")
}

fn stored(server: &Server) -> usize {
    let (status, v) = get(&format!("{}/v1/devices/{DEVICE}/bundles", server.url));
    assert_eq!(status, 200);
    v["bundles"].as_array().map_or(0, Vec::len)
}

/// The matrix's rows; `None` where a task was not learned yet.
fn matrix(v: &Value) -> Vec<Vec<Option<f64>>> {
    let rows = v
        .as_array()
        .or_else(|| v["rows"].as_array())
        .expect("matrix");
    rows.iter()
        .map(|r| {
            r.as_array()
                .expect("row")
                .iter()
                .map(Value::as_f64)
                .collect()
        })
        .collect()
}

#[test]
fn host_eval_of_a_synced_daemon_reproduces_bench_cl() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let data = root.join("data");
    let d = data.display().to_string();
    ok_json(&[
        "synth",
        "--out",
        &d,
        "--classes",
        "6",
        "--clips-per-class",
        "8",
        "--size",
        "24",
        "--seed",
        "5",
        "--json",
    ]);
    let classes = train_clips(&data);
    let labels: Vec<String> = classes.iter().map(|c| c.0.to_string()).collect();
    let report = root.join("bench");
    let bench = ok_json(&[
        "bench",
        "cl",
        "--dataset",
        &d,
        "--model",
        &tiny().display().to_string(),
        "--strategies",
        "ncm",
        "--seeds",
        "1",
        "--increment",
        "2",
        "--classes",
        &labels.join(","),
        "--out",
        &report.display().to_string(),
        "--json",
    ]);
    let run = &bench["strategies"][0];
    let order: Vec<u32> = run["per_seed"][0]["class_order"]
        .as_array()
        .expect("class order")
        .iter()
        .map(|c| c.as_u64().expect("label") as u32)
        .collect();
    assert_eq!(order.len(), 6);

    let inspected = ok_json(&["model", "inspect", &tiny().display().to_string(), "--json"]);
    let server = Server::start_with_encoder(root, inspected["sha256"].as_str().expect("sha256"));
    let token = token_add(&server.db, DEVICE);
    let options = StartOptions {
        notifier: Notifier::none(),
        control_socket: true,
    };
    let running = daemon::start(
        settings(root, &server.url, &token),
        options,
        Shutdown::new(),
    )
    .expect("daemon starts");
    let socket = root.join("control.sock");
    for (task, pair) in order.chunks(2).enumerate() {
        for label in pair {
            let (_, folder, clips) = classes.iter().find(|c| c.0 == *label).expect("class");
            let outcome = enroll_clips(&socket, folder, *clips);
            assert_eq!(outcome.windows, *clips, "one embedding per clip: {folder}");
        }
        let mut client = Client::connect(&socket).expect("connect");
        client.call(Request::Checkpoint).expect("checkpoint");
        until(Duration::from_secs(60), "the bundle on the host", || {
            stored(&server) == task + 1
        });
    }
    running.stop().expect("daemon stops");

    let out = root.join("eval");
    let eval = ok_json(&[
        "host",
        "eval",
        "--device",
        DEVICE,
        "--testset",
        &d,
        "--db",
        &server.db,
        "--model",
        &tiny().display().to_string(),
        "--out",
        &out.display().to_string(),
        "--json",
    ]);
    let host = matrix(&eval["accuracy_matrix"]);
    let bench = matrix(&run["accuracy_matrix"]);
    println!("bench cl matrix {bench:?}\nhost eval matrix {host:?}");
    assert_eq!(host.len(), 3);
    assert_eq!(host.len(), bench.len());
    let mut worst = 0.0f64;
    for (h, b) in host.iter().zip(&bench) {
        // Host rows stop at the tasks learned; bench's pad the rest with nulls.
        assert!(b[h.len()..].iter().all(Option::is_none), "bench {b:?}");
        for (x, y) in h.iter().zip(b) {
            match (x, y) {
                (Some(x), Some(y)) => worst = worst.max((x - y).abs()),
                _ => assert_eq!(x, y, "host {h:?} bench {b:?}"),
            }
        }
    }
    println!("max abs difference {worst:e}");
    assert!(worst <= 1e-6, "host {host:?} bench {bench:?}");
}
