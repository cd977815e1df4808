//! The control server over a real socket in a temp dir, against the fake target: every
//! request answered with its id, bad requests answered without losing the connection,
//! the frame limit, the allow list, the client limit, the socket file's mode and its stale
//! and live predecessors, the idle and write timeouts, and stopping within 100 ms.

mod control_support;

use control_support::{snapshot_bytes, Fake, Raw, Running, LEARN_TIME};
use mmcl::control::api::Event;
use mmcl::control::client::{Client, ClientError};
use mmcl::control::protocol::Request;
use mmcl::control::server::{serve, ListenerConfig, ServeError};
use mmcl::shutdown::Shutdown;
use serde_json::Value;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::time::{Duration, Instant};

fn ok(answer: &Value, id: u64) -> &Value {
    assert_eq!(answer["id"], id, "{answer}");
    assert!(answer.get("error").is_none(), "{answer}");
    &answer["ok"]
}

fn error_kind(answer: &Value) -> &str {
    answer["error"]["kind"].as_str().unwrap_or_else(|| panic!("not an error: {answer}"))
}

#[test]
fn every_request_is_answered_with_its_id() {
    let running = Running::start();
    let mut c = Raw::connect(&running.path);
    assert_eq!(ok(&c.ask(r#"{"v":1,"id":1,"request":"status"}"#), 1)["classes"], 2);
    let classes = c.ask(r#"{"v":1,"id":2,"request":"classes"}"#);
    assert_eq!(ok(&classes, 2)["classes"][1]["name"], "cycling");
    let start = c.ask(r#"{"v":1,"id":3,"request":"enroll_start","args":{"label":"running"}}"#);
    let enrollment = ok(&start, 3)["id"].as_u64().expect("enrollment id");
    let progress = format!(r#"{{"v":1,"id":4,"request":"enroll_progress","args":{{"enrollment":{enrollment}}}}}"#);
    assert_eq!(ok(&c.ask(&progress), 4)["state"], "capturing");
    let t0 = Instant::now();
    let stop = format!(r#"{{"v":1,"id":5,"request":"enroll_stop","args":{{"enrollment":{enrollment}}}}}"#);
    let outcome = c.ask(&stop);
    assert!(t0.elapsed() >= LEARN_TIME);
    assert_eq!(ok(&outcome, 5)["label"], "running");
    assert_eq!(outcome["ok"]["classes"], 3);
    let again = c.ask(r#"{"v":1,"id":6,"request":"enroll_start","args":{"label":"x","seconds":2.5}}"#);
    let second = ok(&again, 6)["id"].as_u64().unwrap();
    assert_eq!(again["ok"]["target_seconds"], 2.5);
    let cancel = format!(r#"{{"v":1,"id":7,"request":"enroll_cancel","args":{{"enrollment":{second}}}}}"#);
    assert_eq!(ok(&c.ask(&cancel), 7)["cancelled"], true);
    let forget = c.ask(r#"{"v":1,"id":8,"request":"forget","args":{"name":"walking"}}"#);
    assert_eq!(ok(&forget, 8)["classes"], 2);
    let rename = c.ask(r#"{"v":1,"id":9,"request":"rename","args":{"from":"cycling","to":"biking"}}"#);
    assert_eq!(ok(&rename, 9)["name"], "biking");
    assert_eq!(ok(&c.ask(r#"{"v":1,"id":10,"request":"checkpoint"}"#), 10)["snapshot_seq"], 1);
    let header = c.ask(r#"{"v":1,"id":11,"request":"export_snapshot"}"#);
    let n = ok(&header, 11)["bytes"].as_u64().unwrap() as usize;
    assert_eq!(c.bytes(n), snapshot_bytes());
    // The connection is still framed after the raw bytes.
    assert_eq!(ok(&c.ask(r#"{"v":1,"id":12,"request":"status"}"#), 12)["classes"], 2);
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
        (b"{\"v\":1,\"id\":3,\"request\":\"frobnicate\"}\n", "bad_request", 3.into()),
        (b"{\"v\":2,\"id\":4,\"request\":\"status\"}\n", "bad_request", 4.into()),
        (b"{\"v\":1,\"id\":5,\"request\":\"forget\",\"args\":{\"name\":7}}\n", "bad_request", 5.into()),
        (b"{\"v\":1,\"id\":6,\"request\":\"forget\",\"args\":{\"name\":\"\"}}\n", "invalid", 6.into()),
        (b"{\"v\":1,\"id\":7,\"request\":\"forget\",\"args\":{\"name\":\"swimming\"}}\n", "not_found", 7.into()),
        (b"\n", "bad_request", Value::Null),
    ];
    for (line, kind, id) in cases {
        c.send(line).unwrap();
        let answer = c.frame().expect("an answer");
        assert_eq!(error_kind(&answer), kind, "{answer}");
        assert_eq!(answer.get("id").cloned().unwrap_or(Value::Null), id, "{answer}");
    }
    assert_eq!(ok(&c.ask(r#"{"v":1,"id":8,"request":"status"}"#), 8)["state"], "running");
    assert_eq!(running.counters().bad_requests, 6);
}

#[test]
fn a_line_over_64_kib_is_refused_and_the_connection_closed() {
    let running = Running::start();
    let mut c = Raw::connect(&running.path);
    let mut line = format!(r#"{{"v":1,"id":1,"request":"forget","args":{{"name":"{}"}}}}"#, "x".repeat(70_000));
    line.push('\n');
    // The server stops reading at the limit, so the write may fail: the answer is there.
    let _ = c.send(line.as_bytes());
    let answer = c.frame().expect("an answer before the close");
    assert_eq!(error_kind(&answer), "bad_request");
    assert!(answer["error"]["message"].as_str().unwrap().contains("65536"), "{answer}");
    assert!(c.frame().is_none(), "closed after the refusal");
    // A request of exactly the limit is read.
    let mut c = Raw::connect(&running.path);
    let head = r#"{"v":1,"id":2,"request":"status","pad":""#;
    let pad = "y".repeat(65_536 - head.len() - 3);
    let answer = c.ask(&format!("{head}{pad}\"}}"));
    assert!(answer["error"]["message"].as_str().unwrap().contains("pad"), "{answer}");
}

#[test]
fn a_peer_not_in_the_allow_list_gets_one_refusal() {
    let own = own_uid();
    let running = Running::with(Fake::with_classes(&[]), |c| c.allow_uids = vec![own + 1]);
    let (mut raw, first) = Raw::open(&running.path);
    let first = first.expect("a refusal frame");
    assert_eq!(error_kind(&first), "permission_denied", "{first}");
    assert!(first["error"]["message"].as_str().unwrap().contains(&format!("uid {own}")));
    assert!(raw.frame().is_none(), "closed after the refusal");
    match Client::connect(&running.path) {
        Err(ClientError::PermissionDenied { access, uid, daemon, .. }) => {
            assert_eq!(uid, own);
            assert!(access.contains("mode 0660"), "{access}");
            assert!(daemon.unwrap().contains("allow_uids"));
        }
        other => panic!("expected PermissionDenied, got {other:?}"),
    }
    assert_eq!(running.counters().refused_peers, 2);
    assert!(running.fake.calls().is_empty(), "a refused peer reaches no method");
}

/// This process's uid, from the socket file it owns (no libc call in the test).
fn own_uid() -> u32 {
    let dir = tempfile::tempdir().unwrap();
    std::fs::metadata(dir.path()).unwrap().uid()
}

#[test]
fn past_the_client_limit_the_next_client_is_told_to_retry() {
    let running = Running::with(Fake::with_classes(&[]), |c| c.max_clients = 2);
    let a = Raw::connect(&running.path);
    let _b = Raw::connect(&running.path);
    let (_c, first) = Raw::open(&running.path);
    let first = first.expect("a refusal frame");
    assert_eq!(error_kind(&first), "busy", "{first}");
    assert!(first["error"]["message"].as_str().unwrap().contains("limit of 2"), "{first}");
    drop(a);
    let t0 = Instant::now();
    while running.clients() >= 2 && t0.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut d = Raw::connect(&running.path);
    assert_eq!(ok(&d.ask(r#"{"v":1,"id":1,"request":"status"}"#), 1)["state"], "running");
    assert_eq!(running.counters().refused_busy, 1);
}

#[test]
fn the_socket_file_has_mode_0660_and_is_removed_on_stop() {
    let running = Running::start();
    let path = running.path.clone();
    let meta = std::fs::symlink_metadata(&path).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);
    let (took, _) = running.stop();
    eprintln!("stopped with no client in {:.2} ms", took.as_secs_f64() * 1e3);
    assert!(!path.exists());
}

#[test]
fn a_stale_socket_is_replaced_and_a_live_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("control.sock");
    // A crashed daemon's socket: bound, then the listener gone and the file left.
    drop(UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let shutdown = Shutdown::new();
    let fake = Fake::with_classes(&[]);
    let server = serve(ListenerConfig::new(&path), fake.clone(), shutdown.clone()).expect("stale replaced");
    let mut c = Raw::connect(&path);
    assert_eq!(ok(&c.ask(r#"{"v":1,"id":1,"request":"status"}"#), 1)["state"], "running");
    match serve(ListenerConfig::new(&path), fake.clone(), Shutdown::new()) {
        Err(ServeError::AlreadyRunning { path: p }) => assert_eq!(p, path),
        Err(e) => panic!("expected AlreadyRunning, got {e}"),
        Ok(_) => panic!("a second server took a live socket"),
    }
    shutdown.trigger();
    server.join();
    std::fs::write(&path, b"not a socket").unwrap();
    let err = serve(ListenerConfig::new(&path), fake, Shutdown::new()).err().expect("refused");
    assert!(matches!(err, ServeError::NotASocket { .. }), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), b"not a socket", "left alone");
}

#[test]
fn owner_and_group_are_applied_to_the_socket_file() {
    let running = Running::with(Fake::with_classes(&[]), |c| {
        c.owner = Some(1);
        c.group = Some(2);
    });
    let meta = std::fs::symlink_metadata(&running.path).unwrap();
    // Needs the right to chown (root); as another user serve itself would have failed.
    assert_eq!((meta.uid(), meta.gid()), (1, 2));
}

#[test]
fn profile_names_are_resolved_or_refused_by_name() {
    let text = "profile = \"p\"\nstate_dir = \"/tmp\"\n[sources.replay]\ndataset = \"d\"\n[control]\nsocket = \"/tmp/x.sock\"\nowner = \"root\"\ngroup = \"no-such-group-mmcl\"\nallow_uids = [0, 1000]\n";
    let config = mmcl::config::Config::parse(text, std::path::Path::new("/etc/mmcl/p.toml")).unwrap();
    let err = ListenerConfig::from_config(config.control()).unwrap_err();
    assert_eq!(err.to_string(), "[control] group \"no-such-group-mmcl\": no such group on this machine");
    let config = mmcl::config::Config::parse(&text.replace("no-such-group-mmcl", "0"), std::path::Path::new("/etc/mmcl/p.toml")).unwrap();
    let listener = ListenerConfig::from_config(config.control()).unwrap();
    assert_eq!((listener.owner, listener.group), (Some(0), Some(0)));
    assert_eq!(listener.allow_uids, [0, 1000]);
}

#[test]
fn an_idle_client_is_closed_after_the_idle_timeout() {
    let running = Running::with(Fake::with_classes(&[]), |c| c.idle_timeout = Duration::from_millis(200));
    let mut c = Raw::connect(&running.path);
    let t0 = Instant::now();
    assert!(c.frame().is_none());
    let waited = t0.elapsed();
    assert!(waited >= Duration::from_millis(200) && waited < Duration::from_secs(4), "{waited:?}");
}

#[test]
fn a_subscriber_that_never_reads_is_dropped_after_the_write_timeout() {
    let running = Running::with(Fake::with_classes(&[]), |c| c.write_timeout = Duration::from_millis(100));
    let mut c = Raw::connect(&running.path);
    assert_eq!(ok(&c.ask(r#"{"v":1,"id":1,"request":"subscribe"}"#), 1)["subscribed"], true);
    let event = Event::Window(control_support::prediction(7, "walking"));
    let t0 = Instant::now();
    while running.counters().write_timeouts == 0 && t0.elapsed() < Duration::from_secs(20) {
        for _ in 0..64 {
            running.fake.publish(&event);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(running.counters().write_timeouts, 1);
    // Meanwhile another client is served.
    let mut d = Raw::connect(&running.path);
    assert_eq!(ok(&d.ask(r#"{"v":1,"id":2,"request":"status"}"#), 2)["state"], "running");
}

#[test]
fn the_server_stops_within_100_ms_with_clients_connected() {
    let running = Running::start();
    let _idle = Raw::connect(&running.path);
    let mut half = Raw::connect(&running.path);
    half.send(br#"{"v":1,"id":1,"requ"#).unwrap();
    let mut sub = Raw::connect(&running.path);
    assert_eq!(ok(&sub.ask(r#"{"v":1,"id":1,"request":"subscribe"}"#), 1)["subscribed"], true);
    let path = running.path.clone();
    let (took, counters) = running.stop();
    eprintln!(
        "stopped with 3 clients (idle, mid-line, subscribed) in {:.2} ms",
        took.as_secs_f64() * 1e3
    );
    assert!(took < Duration::from_millis(100), "took {took:?}");
    assert_eq!(counters.accepted, 3);
    assert!(!path.exists());
    assert!(sub.frame().is_none(), "the subscription is closed");
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
        .call(Request::Forget(mmcl::control::protocol::Forget { name: "nope".into() }))
        .unwrap_err();
    assert_eq!(err.kind(), "not_found");
    assert_eq!(err.to_string(), "no class named \"nope\"");
    let mut events = client.subscribe().unwrap();
    running.fake.publish(&Event::Lagged { missed: 2 });
    assert_eq!(events.next_event().unwrap(), Some(Event::Lagged { missed: 2 }));
    drop(running);
    assert_eq!(events.next_event().unwrap(), None, "the daemon's stop ends the stream");
}

#[test]
fn no_daemon_is_said_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("control.sock");
    let err = Client::connect(&path).unwrap_err();
    assert_eq!(err.kind(), "not_running");
    assert_eq!(
        err.to_string(),
        format!("no mmcl daemon at {} (is `mmcl run` / mmcl.service running?)", path.display())
    );
    drop(UnixListener::bind(&path).unwrap());
    assert_eq!(Client::connect(&path).unwrap_err().kind(), "not_running", "a stale socket");
}
