//! Golden protocol frames (`tests/data/control/`): one request and one response of each
//! kind, plus the greeting, the event kinds, and refusals. Each file must decode (requests
//! through the server's own decoder, responses into their report types) and re-encode to
//! the same bytes; and the frames this build writes must equal the files. `MMCL_BLESS=1`
//! rewrites them (only when the protocol changes on purpose: old clients read these).

mod control_support;

use control_support::prediction;
use mmcl::control::api::{
    CheckpointReport, ClassChange, ClassRow, ClassesReport, ControlError, EnrollOutcome,
    EnrollProgress, ErrorKind, Event, Latency, ReplayStatus, SourceStatus, StatusReport,
};
use mmcl::control::protocol::{
    decode_request, encode, sha256_hex, Body, Cancelled, EnrollStart, EnrollmentId, Forget, Hello,
    Rename, Request, RequestFrame, ResponseFrame, SnapshotHeader, Subscribed,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/control")
}

/// Checks (or with MMCL_BLESS writes) `name` against `bytes`.
fn golden(name: &str, bytes: &[u8]) -> Vec<u8> {
    let path = dir().join(name);
    if std::env::var_os("MMCL_BLESS").is_some() {
        std::fs::create_dir_all(dir()).unwrap();
        std::fs::write(&path, bytes).unwrap();
    }
    let file = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{} ({e}; MMCL_BLESS=1 writes it)", path.display()));
    assert_eq!(
        String::from_utf8_lossy(&file),
        String::from_utf8_lossy(bytes),
        "{name}: this build writes another frame"
    );
    file
}

fn requests() -> Vec<(&'static str, Request)> {
    let id = EnrollmentId { enrollment: 3 };
    vec![
        ("status", Request::Status),
        ("classes", Request::Classes),
        (
            "enroll_start",
            Request::EnrollStart(EnrollStart {
                label: "brushing teeth".into(),
                seconds: Some(30.0),
                clips: None,
            }),
        ),
        ("enroll_progress", Request::EnrollProgress(id)),
        ("enroll_stop", Request::EnrollStop(id)),
        ("enroll_cancel", Request::EnrollCancel(id)),
        ("subscribe", Request::Subscribe),
        (
            "forget",
            Request::Forget(Forget {
                name: "walking".into(),
            }),
        ),
        (
            "rename",
            Request::Rename(Rename {
                from: "cycling".into(),
                to: "biking".into(),
            }),
        ),
        ("checkpoint", Request::Checkpoint),
        ("export_snapshot", Request::ExportSnapshot),
    ]
}

fn value<T: Serialize>(report: &T) -> Value {
    serde_json::to_value(report).unwrap()
}

fn status() -> StatusReport {
    StatusReport {
        state: "running".into(),
        profile: "jetson-orin".into(),
        classes: 2,
        learner_bytes: 52_480,
        budget_bytes: Some(33_554_432),
        rss_bytes: 88_080_384,
        windows_per_s: 1.0,
        latency_ms: Latency {
            p50: Some(12.5),
            p99: Some(30.25),
        },
        dropped: [("imu".to_string(), 0), ("video".to_string(), 3)]
            .into_iter()
            .collect(),
        sources: vec![SourceStatus {
            modality: "imu".into(),
            source: "iio:device0".into(),
            state: "running".into(),
            rate_hz: 100.0,
        }],
        backend: "ort".into(),
        execution_provider: "cuda".into(),
        snapshot_seq: Some(12),
        prediction: Some(prediction(41, "walking")),
        enrollment: Some(progress()),
        replay: Some(ReplayStatus {
            clip: Some("1_upstairs/1_upstairs_1".into()),
            true_class: Some("upstairs".into()),
            online_accuracy: Some(0.875),
            windows_scored: 120,
        }),
        pipeline: serde_json::json!({"windows": 41, "encoder": {"batches": 41}}),
    }
}

fn progress() -> EnrollProgress {
    EnrollProgress {
        id: 3,
        label: "brushing teeth".into(),
        state: "capturing".into(),
        windows: 12,
        seconds: 12.5,
        target_seconds: Some(30.0),
        clips: None,
        target_clips: None,
    }
}

fn change(name: &str) -> ClassChange {
    ClassChange {
        class: 1,
        name: name.into(),
        classes: 2,
        journal_seq: 8,
    }
}

/// Reads an `ok` as its report type and writes it back.
type Retype = fn(&Value) -> Value;

/// Every response file: name, the frame, and how to re-read its `ok` typed.
fn responses() -> Vec<(&'static str, ResponseFrame, Retype)> {
    let ok = |id, v: Value| ResponseFrame::new(Some(id), Body::Ok(v));
    let classes = ClassesReport {
        classes: vec![ClassRow {
            label: 0,
            name: "walking".into(),
            windows: 40,
            enrolled_at: 1_767_225_599_000,
        }],
    };
    let outcome = EnrollOutcome {
        id: 3,
        label: "brushing teeth".into(),
        class: 2,
        new_class: true,
        windows: 30,
        learn_ms: 41.5,
        classes: 3,
        journal_seq: 7,
    };
    let checkpoint = CheckpointReport {
        snapshot_seq: 13,
        path: "/var/lib/mmcl/snapshot-13.mmcl".into(),
        bytes: 1_048_576,
        journal_seq: 8,
    };
    let bytes = snapshot();
    let header = SnapshotHeader {
        bytes: bytes.len() as u64,
        sha256: sha256_hex(&bytes),
    };
    let denied = ControlError::new(
        ErrorKind::PermissionDenied,
        "uid 1000 is not allowed to use this mmcl daemon ([control] allow_uids)",
    );
    let bad = ControlError::new(
        ErrorKind::BadRequest,
        "request is not JSON: expected value at line 1 column 1",
    );
    let missing = ControlError::new(ErrorKind::NotFound, "no class named \"swimming\"");
    vec![
        (
            "hello",
            ResponseFrame::new(None, Body::Hello(hello())),
            |v| v.clone(),
        ),
        ("status", ok(1, value(&status())), retyped::<StatusReport>),
        ("classes", ok(2, value(&classes)), retyped::<ClassesReport>),
        (
            "enroll_start",
            ok(3, value(&progress())),
            retyped::<EnrollProgress>,
        ),
        (
            "enroll_progress",
            ok(4, value(&progress())),
            retyped::<EnrollProgress>,
        ),
        (
            "enroll_stop",
            ok(5, value(&outcome)),
            retyped::<EnrollOutcome>,
        ),
        (
            "enroll_cancel",
            ok(
                6,
                value(&Cancelled {
                    enrollment: 3,
                    cancelled: true,
                }),
            ),
            retyped::<Cancelled>,
        ),
        (
            "subscribe",
            ok(7, value(&Subscribed { subscribed: true })),
            retyped::<Subscribed>,
        ),
        (
            "forget",
            ok(8, value(&change("walking"))),
            retyped::<ClassChange>,
        ),
        (
            "rename",
            ok(9, value(&change("biking"))),
            retyped::<ClassChange>,
        ),
        (
            "checkpoint",
            ok(10, value(&checkpoint)),
            retyped::<CheckpointReport>,
        ),
        (
            "export_snapshot",
            ok(11, value(&header)),
            retyped::<SnapshotHeader>,
        ),
        ("error", ResponseFrame::error(None, bad), |v| v.clone()),
        (
            "error_not_found",
            ResponseFrame::error(Some(8), missing),
            |v| v.clone(),
        ),
        ("refused", ResponseFrame::error(None, denied), |v| v.clone()),
    ]
}

/// The greeting as a fixed build would write it (the version is this crate's).
fn hello() -> Hello {
    Hello {
        daemon: "mmcl".into(),
        version: "0.1.0".into(),
        max_request_bytes: 65_536,
    }
}

fn snapshot() -> Vec<u8> {
    b"MMCL\x00\x02 a snapshot's bytes\n\x00\xff".to_vec()
}

/// The snapshot's answer is a frame followed by raw bytes, hence not a `.json` file.
fn response_file(name: &str) -> String {
    match name {
        "export_snapshot" => format!("{name}.response.bin"),
        _ => format!("{name}.response.json"),
    }
}

fn retyped<T: Serialize + DeserializeOwned>(v: &Value) -> Value {
    let typed: T = serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{e}: {v}"));
    value(&typed)
}

#[test]
fn every_request_kind_has_a_golden_frame_that_decodes_and_reencodes() {
    for (id, (name, request)) in requests().into_iter().enumerate() {
        assert_eq!(request.name(), name);
        let frame = RequestFrame {
            v: 1,
            id: id as u64 + 1,
            request,
        };
        let file = golden(&format!("{name}.request.json"), &encode(&frame));
        let line = file.strip_suffix(b"\n").expect("one line");
        let decoded = decode_request(line).unwrap_or_else(|r| panic!("{name}: {r:?}"));
        assert_eq!(decoded, frame, "{name}");
        assert_eq!(encode(&decoded), file, "{name}");
    }
}

#[test]
fn every_response_kind_has_a_golden_frame_that_parses_and_reencodes() {
    for (name, frame, retype) in responses() {
        let mut bytes = encode(&frame);
        if name == "export_snapshot" {
            bytes.extend_from_slice(&snapshot());
        }
        let file = golden(&response_file(name), &bytes);
        let end = file.iter().position(|&b| b == b'\n').expect("a frame line") + 1;
        let parsed: ResponseFrame =
            serde_json::from_slice(&file[..end]).unwrap_or_else(|e| panic!("{name}: {e}"));
        let body = match parsed.body.clone() {
            Body::Ok(v) => Body::Ok(retype(&v)),
            other => other,
        };
        let again = encode(&ResponseFrame::new(parsed.id, body));
        assert_eq!(again, &file[..end], "{name}");
        assert_eq!(parsed, frame, "{name}");
        if let Body::Ok(v) = &parsed.body {
            if name == "export_snapshot" {
                let header: SnapshotHeader = serde_json::from_value(v.clone()).unwrap();
                let rest = &file[end..];
                assert_eq!(header.bytes as usize, rest.len());
                assert_eq!(header.sha256, sha256_hex(rest));
            }
        }
    }
}

#[test]
fn every_event_kind_has_a_golden_frame() {
    let events = [
        ("window", Event::Window(prediction(41, "walking"))),
        ("changed", Event::Changed(prediction(41, "walking"))),
        ("lagged", Event::Lagged { missed: 5 }),
    ];
    for (name, event) in events {
        let frame = ResponseFrame::new(Some(7), Body::Event(event));
        let file = golden(&format!("subscribe.event_{name}.json"), &encode(&frame));
        let parsed: ResponseFrame = serde_json::from_slice(&file).unwrap();
        assert_eq!(parsed, frame, "{name}");
        assert_eq!(encode(&parsed), file, "{name}");
    }
}

#[test]
fn every_golden_file_is_one_of_the_kinds_above() {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "README.md")
        .collect();
    names.sort();
    let mut expected: Vec<String> = requests()
        .iter()
        .map(|(n, _)| format!("{n}.request.json"))
        .collect();
    expected.extend(responses().iter().map(|(n, _, _)| response_file(n)));
    expected.extend(["window", "changed", "lagged"].map(|n| format!("subscribe.event_{n}.json")));
    expected.sort();
    assert_eq!(names, expected);
}
