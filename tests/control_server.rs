//! The control protocol over a real socket in a temp dir, against the fake target: every
//! request answered with its id, a subscription's events, bad requests answered without
//! losing the connection, the 64 KiB frame limit, and the client library reading every
//! report typed (`control_listener.rs` has who is served and for how long).

mod control_support;

use control_support::{snapshot_bytes, Raw, Running, LEARN_TIME};
use mmcl::control::api::Event;
use mmcl::control::client::Client;
use mmcl::control::protocol::Request;
use serde_json::Value;
use std::os::unix::net::UnixListener;
use std::time::{Duration, Instant};

fn ok(answer: &Value, id: u64) -> &Value {
    assert_eq!(answer["id"], id, "{answer}");
    assert!(answer.get("error").is_none(), "{answer}");
    &answer["ok"]
}

fn error_kind(answer: &Value) -> &str {
    answer["error"]["kind"]
        .as_str()
        .unwrap_or_else(|| panic!("not an error: {answer}"))
}

#[test]
fn every_request_is_answered_with_its_id() {
    let running = Running::start();
    let mut c = Raw::connect(&running.path);
    assert_eq!(
        ok(&c.ask(r#"{"v":1,"id":1,"request":"status"}"#), 1)["classes"],
        2
    );
    let classes = c.ask(r#"{"v":1,"id":2,"request":"classes"}"#);
    assert_eq!(ok(&classes, 2)["classes"][1]["name"], "cycling");
    let start = c.ask(r#"{"v":1,"id":3,"request":"enroll_start","args":{"label":"running"}}"#);
    let enrollment = ok(&start, 3)["id"].as_u64().expect("enrollment id");
    let progress = format!(
        r#"{{"v":1,"id":4,"request":"enroll_progress","args":{{"enrollment":{enrollment}}}}}"#
    );
    assert_eq!(ok(&c.ask(&progress), 4)["state"], "capturing");
    let t0 = Instant::now();
    let stop =
        format!(r#"{{"v":1,"id":5,"request":"enroll_stop","args":{{"enrollment":{enrollment}}}}}"#);
    let outcome = c.ask(&stop);
    assert!(t0.elapsed() >= LEARN_TIME);
    assert_eq!(ok(&outcome, 5)["label"], "running");
    assert_eq!(outcome["ok"]["classes"], 3);
    let again =
        c.ask(r#"{"v":1,"id":6,"request":"enroll_start","args":{"label":"x","seconds":2.5}}"#);
    let second = ok(&again, 6)["id"].as_u64().unwrap();
    assert_eq!(again["ok"]["target_seconds"], 2.5);
    let cancel =
        format!(r#"{{"v":1,"id":7,"request":"enroll_cancel","args":{{"enrollment":{second}}}}}"#);
    assert_eq!(ok(&c.ask(&cancel), 7)["cancelled"], true);
    let forget = c.ask(r#"{"v":1,"id":8,"request":"forget","args":{"name":"walking"}}"#);
    assert_eq!(ok(&forget, 8)["classes"], 2);
    let rename =
        c.ask(r#"{"v":1,"id":9,"request":"rename","args":{"from":"cycling","to":"biking"}}"#);
    assert_eq!(ok(&rename, 9)["name"], "biking");
    assert_eq!(
        ok(&c.ask(r#"{"v":1,"id":10,"request":"checkpoint"}"#), 10)["snapshot_seq"],
        1
    );
    let header = c.ask(r#"{"v":1,"id":11,"request":"export_snapshot"}"#);
    let n = ok(&header, 11)["bytes"].as_u64().unwrap() as usize;
    assert_eq!(c.bytes(n), snapshot_bytes());
    // The connection is still framed after the raw bytes.
    assert_eq!(
        ok(&c.ask(r#"{"v":1,"id":12,"request":"status"}"#), 12)["classes"],
        2
    );
    assert_eq!(running.fake.class_names(), ["biking", "running"]);
}

#[test]
fn a_subscription_streams_events_with_its_id() {
    let running = Running::start();
    let mut c = Raw::connect(&running.path);
    let answer = c.ask(r#"{"v":1,"id":41,"request":"subscribe"}"#);
    assert_eq!(ok(&answer, 41)["subscribed"], true);
    let events = [
        Event::Window(control_support::prediction(1, "walking")),
        Event::Changed(control_support::prediction(1, "walking")),
        Event::Lagged { missed: 4 },
    ];
    for e in &events {
        running.fake.publish(e);
    }
    for e in &events {
        let frame = c.frame().expect("an event frame");
        assert_eq!(frame["id"], 41, "{frame}");
        let got: Event = serde_json::from_value(frame["event"].clone()).unwrap();
        assert_eq!(&got, e);
    }
    drop(c);
    // The server notices the close within its peer check and drops the channel.
    let t0 = Instant::now();
    while running.clients() > 0 && t0.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(running.clients(), 0);
    running.fake.publish(&Event::Lagged { missed: 1 });
    assert_eq!(running.fake.subscribers(), 0);
}

#[test]
fn bad_requests_are_answered_and_the_connection_goes_on() {
    let running = Running::start();
    let mut c = Raw::connect(&running.path);
    let cases: [(&[u8], &str, Value); 7] = [
        (b"\x00\xff garbage \x01\n", "bad_request", Value::Null),
        (
            b"{\"v\":1,\"id\":3,\"request\":\"frobnicate\"}\n",
            "bad_request",
            3.into(),
        ),
        (
            b"{\"v\":2,\"id\":4,\"request\":\"status\"}\n",
            "bad_request",
            4.into(),
        ),
        (
            b"{\"v\":1,\"id\":5,\"request\":\"forget\",\"args\":{\"name\":7}}\n",
            "bad_request",
            5.into(),
        ),
        (
            b"{\"v\":1,\"id\":6,\"request\":\"forget\",\"args\":{\"name\":\"\"}}\n",
            "invalid",
            6.into(),
        ),
        (
            b"{\"v\":1,\"id\":7,\"request\":\"forget\",\"args\":{\"name\":\"swimming\"}}\n",
            "not_found",
            7.into(),
        ),
        (b"\n", "bad_request", Value::Null),
    ];
    for (line, kind, id) in cases {
        c.send(line).unwrap();
        let answer = c.frame().expect("an answer");
        assert_eq!(error_kind(&answer), kind, "{answer}");
        assert_eq!(
            answer.get("id").cloned().unwrap_or(Value::Null),
            id,
            "{answer}"
        );
    }
    assert_eq!(
        ok(&c.ask(r#"{"v":1,"id":8,"request":"status"}"#), 8)["state"],
        "running"
    );
    assert_eq!(running.counters().bad_requests, 6);
}

#[test]
fn a_line_over_64_kib_is_refused_and_the_connection_closed() {
    let running = Running::start();
    let mut c = Raw::connect(&running.path);
    let mut line = format!(
        r#"{{"v":1,"id":1,"request":"forget","args":{{"name":"{}"}}}}"#,
        "x".repeat(70_000)
    );
    line.push('\n');
    // The server stops reading at the limit, so the write may fail: the answer is there.
    let _ = c.send(line.as_bytes());
    let answer = c.frame().expect("an answer before the close");
    assert_eq!(error_kind(&answer), "bad_request");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("65536"),
        "{answer}"
    );
    assert!(c.frame().is_none(), "closed after the refusal");
    // A request of exactly the limit is read.
    let mut c = Raw::connect(&running.path);
    let head = r#"{"v":1,"id":2,"request":"status","pad":""#;
    let pad = "y".repeat(65_536 - head.len() - 3);
    let answer = c.ask(&format!("{head}{pad}\"}}"));
    assert!(
        answer["error"]["message"].as_str().unwrap().contains("pad"),
        "{answer}"
    );
}

#[test]
fn the_client_reads_every_report_typed() {
    let running = Running::start();
    let mut client = Client::connect(&running.path).unwrap();
    assert_eq!(client.hello().max_request_bytes, 65_536);
    let status: mmcl::control::api::StatusReport = client.call_as(Request::Status).unwrap();
    assert_eq!(status.classes, 2);
    let (header, bytes) = client.export_snapshot().unwrap();
    assert_eq!(header.bytes as usize, bytes.len());
    assert_eq!(bytes, snapshot_bytes());
    let err = client
        .call(Request::Forget(mmcl::control::protocol::Forget {
            name: "nope".into(),
        }))
        .unwrap_err();
    assert_eq!(err.kind(), "not_found");
    assert_eq!(err.to_string(), "no class named \"nope\"");
    let mut events = client.subscribe().unwrap();
    running.fake.publish(&Event::Lagged { missed: 2 });
    assert_eq!(
        events.next_event().unwrap(),
        Some(Event::Lagged { missed: 2 })
    );
    drop(running);
    assert_eq!(
        events.next_event().unwrap(),
        None,
        "the daemon's stop ends the stream"
    );
}

#[test]
fn no_daemon_is_said_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("control.sock");
    let err = Client::connect(&path).unwrap_err();
    assert_eq!(err.kind(), "not_running");
    assert_eq!(
        err.to_string(),
        format!(
            "no mmcl daemon at {} (is `mmcl run` / mmcl.service running?)",
            path.display()
        )
    );
    drop(UnixListener::bind(&path).unwrap());
    assert_eq!(
        Client::connect(&path).unwrap_err().kind(),
        "not_running",
        "a stale socket"
    );
}
