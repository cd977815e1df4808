//! The control CLI commands that run while the daemon works, as processes against the fake
//! target over a real socket: `mmcl enroll` (for N seconds; open-ended ended by Ctrl-C,
//! which learns; a second Ctrl-C while learning, which cancels; refusals and their exit
//! codes) and `mmcl watch` (changes or every window, as text or JSON lines; its end when the
//! daemon stops).

mod control_support;

use control_support::cli::{interrupt, mmcl, run, wait, wait_for_call, DEADLINE};
use control_support::{prediction, Running};
use mmcl::control::api::Event;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

#[test]
fn enroll_for_seconds_learns_and_says_what() {
    let running = Running::start();
    let ran = run(&running.path, &["enroll", "running", "--seconds", "2"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    // 2 s of stream at one window per second; the fake learns in 300 ms.
    assert_eq!(
        ran.stdout,
        "learned running from 2 windows in 300 ms; now knows 3 classes\n"
    );
    let ran = run(
        &running.path,
        &["enroll", "walking", "--seconds", "1", "--json"],
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let outcome = ran.json();
    assert_eq!(
        (outcome["label"].as_str(), outcome["new_class"].as_bool()),
        (Some("walking"), Some(false))
    );
    assert_eq!(outcome["windows"], 1);
    assert_eq!(
        running
            .fake
            .calls()
            .iter()
            .filter(|c| *c == "enroll_cancel")
            .count(),
        0
    );
}

#[test]
fn ctrl_c_ends_an_open_ended_enrollment_and_learns() {
    let running = Running::start();
    let child = mmcl(&running.path, &["enroll", "dancing", "--json"])
        .spawn()
        .unwrap();
    wait_for_call(&running, "enroll_progress", 3);
    interrupt(&child);
    let ran = wait(child);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let outcome = ran.json();
    assert_eq!(outcome["label"], "dancing");
    assert!(outcome["windows"].as_u64().unwrap() >= 1, "{outcome}");
    assert!(running.fake.class_names().contains(&"dancing".to_string()));
}

#[test]
fn a_second_ctrl_c_cancels_while_learning() {
    let running = Running::start();
    let child = mmcl(&running.path, &["enroll", "dancing", "--json"])
        .spawn()
        .unwrap();
    wait_for_call(&running, "enroll_progress", 2);
    interrupt(&child);
    // The fake learns for 300 ms after enroll_stop: cancel within that.
    wait_for_call(&running, "enroll_stop", 1);
    interrupt(&child);
    let ran = wait(child);
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert_eq!(ran.json()["error"]["kind"], "cancelled");
    assert!(
        ran.stderr
            .contains("enrollment of \"dancing\" cancelled; nothing was learned"),
        "{}",
        ran.stderr
    );
    assert!(running.fake.calls().contains(&"enroll_cancel".to_string()));
    assert!(!running.fake.class_names().contains(&"dancing".to_string()));
}

#[test]
fn enroll_refusals_exit_with_the_users_or_the_daemons_code() {
    let running = Running::start();
    let ran = run(&running.path, &["enroll", " padded", "--json"]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert_eq!(ran.json()["error"]["kind"], "invalid");
    let mut first = mmcl(&running.path, &["enroll", "a"]).spawn().unwrap();
    wait_for_call(&running, "enroll_progress", 1);
    let ran = run(&running.path, &["enroll", "b", "--json"]);
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert_eq!(ran.json()["error"]["kind"], "busy");
    let _ = first.kill();
    let _ = first.wait();
}

/// Runs `mmcl watch ARGS` until it printed `n` lines, publishing events meanwhile.
fn watch_lines(running: &Running, args: &[&str], n: usize) -> Vec<String> {
    let mut child = mmcl(&running.path, args).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut lines = Vec::new();
    let t0 = Instant::now();
    let mut window = 0;
    while lines.len() < n && t0.elapsed() < DEADLINE {
        window += 1;
        running
            .fake
            .publish(&Event::Window(prediction(window, "walking")));
        if window % 3 == 0 {
            running
                .fake
                .publish(&Event::Changed(prediction(window, "walking")));
        }
        lines.extend(rx.try_iter());
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    lines.truncate(n);
    lines
}

#[test]
fn watch_prints_changes_or_every_window() {
    let running = Running::start();
    for line in watch_lines(&running, &["watch", "--json"], 3) {
        let event: Value = serde_json::from_str(&line).expect("one JSON object per line");
        assert_eq!(event["event"], "changed", "{line}");
        assert_eq!(event["window"].as_u64().unwrap() % 3, 0, "{line}");
    }
    let kinds: Vec<String> = watch_lines(&running, &["watch", "--all", "--json"], 8)
        .iter()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(
        kinds.contains(&"window".to_string()) && kinds.contains(&"changed".to_string()),
        "{kinds:?}"
    );
    let human = watch_lines(&running, &["watch", "--all"], 2);
    assert!(human[0].starts_with("window "), "{human:?}");
    assert!(
        human[0].contains("walking 0.50  raw walking 0.75  [video+imu]  12.2 ms"),
        "{human:?}"
    );
}

#[test]
fn watch_ends_with_exit_1_when_the_daemon_stops() {
    let running = Running::start();
    let child = mmcl(&running.path, &["watch", "--json"]).spawn().unwrap();
    wait_for_call(&running, "subscribe", 1);
    drop(running);
    let ran = wait(child);
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert_eq!(ran.json()["error"]["kind"], "closed");
}
