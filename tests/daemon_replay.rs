//! The daemon on a replay profile (sped up) in a temp dir: two classes enrolled through
//! the control socket (as `mmcl enroll` does) while their clips play, most later windows of those clips predicted as them, and after a
//! restart both still known by name; the state on disk is a snapshot plus the journal.
//! Run with `-- --nocapture` to see the measured fraction.

use mmcl::config::{Config, Settings};
use mmcl::control::api::{EnrollOutcome, EnrollProgress, Event, StatusReport};
use mmcl::control::protocol::{EnrollStart, EnrollmentId, Request};
use mmcl::control::{Client, ControlTarget};
use mmcl::daemon::{self, Notifier, StartOptions};
use mmcl::shutdown::Shutdown;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const CLASSES: [&str; 2] = ["upstairs", "downstairs"];

fn synth(dir: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_mmcl"))
        .args([
            "synth",
            "--classes",
            "4",
            "--clips-per-class",
            "8",
            "--seed",
            "3",
            "--out",
        ])
        .arg(dir)
        .output()
        .expect("run mmcl synth");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn settings(root: &Path) -> Settings {
    let text = format!(
        r#"
profile = "replay-test"
state_dir = "{state}"
[window]
stride_seconds = 2.0
[sources.replay]
dataset = "{data}"
split = "train"
speed = 4.0
loop = true
order = "by-class"
classes = ["upstairs", "downstairs"]
clips_per_class = 3
[daemon]
checkpoint_changes = 100
[control]
socket = "{socket}"
"#,
        state = root.join("state").display(),
        socket = root.join("control.sock").display(),
        data = root.join("data").display()
    );
    let path = root.join("profile.toml");
    std::fs::write(&path, text).expect("write profile");
    Settings::resolve(Config::load(&path).expect("profile")).expect("settings")
}

fn start(root: &Path) -> daemon::Running {
    let options = StartOptions {
        notifier: Notifier::none(),
        control_socket: true,
    };
    daemon::start(settings(root), options, Shutdown::new()).expect("daemon starts")
}

/// Waits until `done` holds (polling), panicking after `limit`.
fn until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !done() {
        assert!(t0.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The true class of the latest predicted window, as `mmcl status` shows it.
fn predicted_truth(client: &mut Client) -> Option<String> {
    let status: StatusReport = client.call_as(Request::Status).expect("status");
    status.prediction.and_then(|p| p.true_class)
}

/// Enrolls `name` through the socket from windows of its own clips, as a user watching
/// `mmcl status` would: start when its clip plays, stop after 6 windows or when it ends.
fn enroll_while_playing(socket: &Path, name: &str) -> usize {
    let mut client = Client::connect(socket).expect("connect");
    until(Duration::from_secs(240), name, || {
        predicted_truth(&mut client).as_deref() == Some(name)
    });
    let start = Request::EnrollStart(EnrollStart {
        label: name.to_string(),
        seconds: None,
        clips: None,
    });
    let started: EnrollProgress = client.call_as(start).expect("enroll_start");
    let id = EnrollmentId {
        enrollment: started.id,
    };
    until(Duration::from_secs(120), "windows", || {
        let p: EnrollProgress = client
            .call_as(Request::EnrollProgress(id))
            .expect("progress");
        p.windows >= 6 || (p.windows >= 2 && predicted_truth(&mut client).as_deref() != Some(name))
    });
    let outcome: EnrollOutcome = client.call_as(Request::EnrollStop(id)).expect("stop");
    assert_eq!(outcome.label, name);
    assert!(outcome.journal_seq > 0);
    outcome.windows
}

#[test]
fn enrolled_classes_are_predicted_and_survive_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    synth(&dir.path().join("data"));
    let running = start(dir.path());
    let d = running.daemon().clone();
    let socket = dir.path().join("control.sock");
    let windows: Vec<usize> = CLASSES
        .iter()
        .map(|c| enroll_while_playing(&socket, c))
        .collect();
    // The journal holds both enrollments and no snapshot was written yet: the export
    // writes one first (this once deadlocked the daemon's control socket).
    let (_, bytes) = Client::connect(&socket)
        .expect("connect")
        .export_snapshot()
        .expect("snapshot export with pending changes");
    let (_, snapshot) = mmcl::store::decode(&bytes).expect("an exported snapshot decodes");
    let exported = mmcl::classes::ClassModel::restore(&snapshot.sections).expect("restores");
    assert_eq!(exported.current().book().len(), 2);
    let status: StatusReport = Client::connect(&socket)
        .expect("connect")
        .call_as(Request::Status)
        .expect("status still answers after the export");
    assert!(status.snapshot_seq.is_some());
    let events = d.subscribe();
    let (mut right, mut all) = (0usize, 0usize);
    let t0 = Instant::now();
    while all < 40 && t0.elapsed() < Duration::from_secs(240) {
        let Ok(Event::Window(p)) = events.recv_timeout(Duration::from_secs(5)) else {
            continue;
        };
        let Some(truth) = p.true_class.filter(|t| CLASSES.contains(&t.as_str())) else {
            continue;
        };
        all += 1;
        right += usize::from(p.raw.as_deref() == Some(truth.as_str()));
    }
    let fraction = right as f64 / all.max(1) as f64;
    println!("enrolled windows {windows:?}; later windows of those classes predicted right: {right}/{all} = {fraction:.3}");
    assert!(all >= 20, "too few later windows: {all}");
    assert!(fraction > 0.5, "{right}/{all}");
    let status = d.status();
    assert!(status
        .replay
        .as_ref()
        .and_then(|r| r.online_accuracy)
        .is_some());
    drop((d, events));
    let summary = running.stop().expect("stops");
    assert_eq!(summary.classes, 2);
    assert!(
        summary.snapshot_seq.is_some(),
        "a final snapshot folds the journal in"
    );

    assert!(!socket.exists(), "the socket file goes with the daemon");

    let again = start(dir.path());
    let classes: serde_json::Value = Client::connect(&socket)
        .expect("connect after the restart")
        .call(Request::Classes)
        .expect("classes");
    let names: Vec<&str> = (classes["classes"].as_array().expect("a list").iter())
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, CLASSES);
    again.stop().expect("stops");
}
