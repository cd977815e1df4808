//! Who the control server serves and for how long, over a real socket in a temp dir: the
//! allow list, the client limit, the socket file's mode, owner and group (and the
//! profile's names for them), its stale and live predecessors, the idle and write
//! timeouts, and stopping within 100 ms with clients connected.

mod control_support;

use control_support::{Fake, Raw, Running};
use mmcl::control::api::Event;
use mmcl::control::client::{Client, ClientError};
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
    answer["error"]["kind"]
        .as_str()
        .unwrap_or_else(|| panic!("not an error: {answer}"))
}

#[test]
fn a_peer_not_in_the_allow_list_gets_one_refusal() {
    let own = own_uid();
    let running = Running::with(Fake::with_classes(&[]), |c| c.allow_uids = vec![own + 1]);
    let (mut raw, first) = Raw::open(&running.path);
    let first = first.expect("a refusal frame");
    assert_eq!(error_kind(&first), "permission_denied", "{first}");
    assert!(first["error"]["message"]
        .as_str()
        .unwrap()
        .contains(&format!("uid {own}")));
    assert!(raw.frame().is_none(), "closed after the refusal");
    match Client::connect(&running.path) {
        Err(ClientError::PermissionDenied {
            access,
            uid,
            daemon,
            ..
        }) => {
            assert_eq!(uid, own);
            assert!(access.contains("mode 0660"), "{access}");
            assert!(daemon.unwrap().contains("allow_uids"));
        }
        other => panic!("expected PermissionDenied, got {other:?}"),
    }
    assert_eq!(running.counters().refused_peers, 2);
    assert!(
        running.fake.calls().is_empty(),
        "a refused peer reaches no method"
    );
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
    assert!(
        first["error"]["message"]
            .as_str()
            .unwrap()
            .contains("limit of 2"),
        "{first}"
    );
    drop(a);
    let t0 = Instant::now();
    while running.clients() >= 2 && t0.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut d = Raw::connect(&running.path);
    assert_eq!(
        ok(&d.ask(r#"{"v":1,"id":1,"request":"status"}"#), 1)["state"],
        "running"
    );
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
    eprintln!(
        "stopped with no client in {:.2} ms",
        took.as_secs_f64() * 1e3
    );
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
    let server =
        serve(ListenerConfig::new(&path), fake.clone(), shutdown.clone()).expect("stale replaced");
    let mut c = Raw::connect(&path);
    assert_eq!(
        ok(&c.ask(r#"{"v":1,"id":1,"request":"status"}"#), 1)["state"],
        "running"
    );
    match serve(ListenerConfig::new(&path), fake.clone(), Shutdown::new()) {
        Err(ServeError::AlreadyRunning { path: p }) => assert_eq!(p, path),
        Err(e) => panic!("expected AlreadyRunning, got {e}"),
        Ok(_) => panic!("a second server took a live socket"),
    }
    shutdown.trigger();
    server.join();
    std::fs::write(&path, b"not a socket").unwrap();
    let err = serve(ListenerConfig::new(&path), fake, Shutdown::new())
        .err()
        .expect("refused");
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
    let config =
        mmcl::config::Config::parse(text, std::path::Path::new("/etc/mmcl/p.toml")).unwrap();
    let err = ListenerConfig::from_config(config.control()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "[control] group \"no-such-group-mmcl\": no such group on this machine"
    );
    let config = mmcl::config::Config::parse(
        &text.replace("no-such-group-mmcl", "0"),
        std::path::Path::new("/etc/mmcl/p.toml"),
    )
    .unwrap();
    let listener = ListenerConfig::from_config(config.control()).unwrap();
    assert_eq!((listener.owner, listener.group), (Some(0), Some(0)));
    assert_eq!(listener.allow_uids, [0, 1000]);
}

#[test]
fn an_idle_client_is_closed_after_the_idle_timeout() {
    let running = Running::with(Fake::with_classes(&[]), |c| {
        c.idle_timeout = Duration::from_millis(200)
    });
    let mut c = Raw::connect(&running.path);
    let t0 = Instant::now();
    assert!(c.frame().is_none());
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_millis(200) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
}

#[test]
fn a_subscriber_that_never_reads_is_dropped_after_the_write_timeout() {
    let running = Running::with(Fake::with_classes(&[]), |c| {
        c.write_timeout = Duration::from_millis(100)
    });
    let mut c = Raw::connect(&running.path);
    assert_eq!(
        ok(&c.ask(r#"{"v":1,"id":1,"request":"subscribe"}"#), 1)["subscribed"],
        true
    );
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
    assert_eq!(
        ok(&d.ask(r#"{"v":1,"id":2,"request":"status"}"#), 2)["state"],
        "running"
    );
}

#[test]
fn the_server_stops_within_100_ms_with_clients_connected() {
    let running = Running::start();
    let _idle = Raw::connect(&running.path);
    let mut half = Raw::connect(&running.path);
    half.send(br#"{"v":1,"id":1,"requ"#).unwrap();
    let mut sub = Raw::connect(&running.path);
    assert_eq!(
        ok(&sub.ask(r#"{"v":1,"id":1,"request":"subscribe"}"#), 1)["subscribed"],
        true
    );
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
