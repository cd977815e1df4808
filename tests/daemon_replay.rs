//! The daemon on a replay profile (sped up) in a temp dir: two classes enrolled while
//! their clips play, most later windows of those clips predicted as them, and after a
//! restart both still known by name; the state on disk is a snapshot plus the journal.
//! Run with `-- --nocapture` to see the measured fraction.

use mmcl::config::{Config, Settings};
use mmcl::control::api::Event;
use mmcl::control::ControlTarget;
use mmcl::daemon::{self, Daemon, Notifier, StartOptions};
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
"#,
        state = root.join("state").display(),
        data = root.join("data").display()
    );
    let path = root.join("profile.toml");
    std::fs::write(&path, text).expect("write profile");
    Settings::resolve(Config::load(&path).expect("profile")).expect("settings")
}

fn start(root: &Path) -> daemon::Running {
    let options = StartOptions {
        notifier: Notifier::none(),
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

/// The true class of the latest predicted window.
fn predicted_truth(d: &Daemon) -> Option<String> {
    d.status().prediction.and_then(|p| p.true_class)
}

/// Enrolls `name` from windows of its own clips, as a user watching `status` would.
fn enroll_while_playing(d: &Daemon, name: &str) -> usize {
    until(Duration::from_secs(240), name, || {
        predicted_truth(d).as_deref() == Some(name)
    });
    let id = d.enroll_start(name, None).expect("start").id;
    until(Duration::from_secs(120), "windows", || {
        let p = d.enroll_progress(id).expect("progress");
        p.windows >= 6 || (p.windows >= 2 && predicted_truth(d).as_deref() != Some(name))
    });
    let outcome = d.enroll_stop(id).expect("stop");
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
    let windows: Vec<usize> = CLASSES
        .iter()
        .map(|c| enroll_while_playing(&d, c))
        .collect();
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

    let again = start(dir.path());
    let names: Vec<String> = again
        .daemon()
        .classes()
        .classes
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, CLASSES);
    again.stop().expect("stops");
}
