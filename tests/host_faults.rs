#![cfg(feature = "host")]
//! The host on loopback under faults: duplicates, wrong and revoked tokens, truncated and
//! corrupted bundles, a 1 GB upload and an oversized chunked stream refused early, and the
//! host killed mid-upload then restarted — nothing stored twice, nothing lost from the
//! device's queue. Each runs on every storage backend (host_support::backends).

mod host_support;

use host_support::backends::backends;
use host_support::{bundle, get, put, Server};
use mmcl::uplink::client::Client;
use mmcl::uplink::{content_hash, drain, Queue};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn history_len(server: &Server, device: &str) -> usize {
    let (status, v) = get(&format!("{}/v1/devices/{device}/bundles", server.url));
    assert_eq!(status, 200);
    v["bundles"].as_array().map_or(0, Vec::len)
}

#[test]
fn duplicates_wrong_tokens_and_damaged_bundles_store_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    for backend in backends(dir.path()) {
        eprintln!("backend {}", backend.name);
        duplicates_wrong_tokens_and_damaged_bundles(&backend.args());
    }
}

fn duplicates_wrong_tokens_and_damaged_bundles(store: &[String]) {
    let server = Server::start_on(store, 0, 1 << 20);
    let token = server.token_add("d1");
    let other = server.token_add("d2");
    let bytes = bundle("d1", 1, 2).encode();
    let hash = content_hash(&bytes);
    assert_eq!(
        put(&server.url, "d1", &hash, &token, &bytes),
        (201, String::new())
    );
    assert_eq!(
        put(&server.url, "d1", &hash, &token, &bytes),
        (200, String::new()),
        "duplicate"
    );
    assert_eq!(
        put(&server.url, "d1", &hash, "nope", &bytes).0,
        401,
        "wrong token"
    );
    assert_eq!(
        put(&server.url, "d1", &hash, &other, &bytes).0,
        401,
        "another device's token"
    );
    let cut = &bytes[..bytes.len() - 9];
    assert_eq!(
        put(&server.url, "d1", &hash, &token, cut),
        (400, "checksum".into()),
        "truncated"
    );
    let mut flipped = bytes.clone();
    flipped[40] ^= 1;
    let (status, kind) = put(&server.url, "d1", &content_hash(&flipped), &token, &flipped);
    assert_eq!(
        (status, kind.as_str()),
        (400, "malformed"),
        "corrupted, hash of the corrupt bytes"
    );
    let theirs = bundle("d2", 1, 1).encode();
    assert_eq!(
        put(&server.url, "d1", &content_hash(&theirs), &token, &theirs).0,
        422,
        "another device's bundle"
    );
    assert_eq!(history_len(&server, "d1"), 1, "stored once");
    assert_eq!(history_len(&server, "d2"), 0);
    let revoke = host_support::mmcl()
        .args(["host", "token", "revoke", "d1"])
        .args(&server.store)
        .output()
        .unwrap();
    assert!(revoke.status.success());
    let next = bundle("d1", 2, 3).encode();
    assert_eq!(
        put(&server.url, "d1", &content_hash(&next), &token, &next).0,
        401,
        "revoked"
    );
    assert_eq!(history_len(&server, "d1"), 1);
}

/// Sends `head` then body bytes in `chunk`s until the server answers; the status line and
/// how many body bytes went out.
fn raw_upload(port: u16, head: &str, chunk: &[u8], chunked: bool, most: usize) -> (String, usize) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let mut sent = 0;
    let mut answer = Vec::new();
    while sent < most {
        let framed = if chunked {
            [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat()
        } else {
            chunk.to_vec()
        };
        if s.write_all(&framed).is_err() {
            break;
        }
        sent += chunk.len();
        let mut buf = [0u8; 512];
        if let Ok(n) = s.read(&mut buf) {
            answer.extend_from_slice(&buf[..n]);
            if n > 0 {
                break;
            }
        }
    }
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 512];
    if answer.is_empty() {
        if let Ok(n) = s.read(&mut buf) {
            answer.extend_from_slice(&buf[..n]);
        }
    }
    let text = String::from_utf8_lossy(&answer).to_string();
    (text.lines().next().unwrap_or("").to_string(), sent)
}

#[test]
fn a_1gb_upload_and_an_oversized_chunked_stream_are_refused_early() {
    let dir = tempfile::tempdir().unwrap();
    for backend in backends(dir.path()) {
        eprintln!("backend {}", backend.name);
        oversized_uploads_refused(&backend.args());
    }
}

fn oversized_uploads_refused(store: &[String]) {
    let server = Server::start_on(store, 0, 1 << 20);
    let token = server.token_add("d1");
    let path = format!("/v1/devices/d1/bundles/{}", "ab".repeat(32));
    let chunk = vec![0u8; 64 << 10];
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: 1000000000\r\n\r\n"
    );
    let started = Instant::now();
    let (status, sent) = raw_upload(server.port(), &head, &chunk, false, 1 << 30);
    assert!(status.contains("413"), "{status}");
    assert!(sent < 4 << 20, "answered after {sent} bytes");
    assert!(started.elapsed() < Duration::from_secs(10));
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let (status, sent) = raw_upload(server.port(), &head, &chunk, true, 1 << 30);
    assert!(status.contains("413"), "{status}");
    assert!(
        sent < 8 << 20,
        "chunked answered after {sent} bytes (limit 1 MiB)"
    );
    assert_eq!(history_len(&server, "d1"), 0);
}

#[test]
fn the_host_killed_mid_upload_loses_nothing_and_stores_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    for backend in backends(dir.path()) {
        eprintln!("backend {}", backend.name);
        killed_mid_upload(&backend.args());
    }
}

fn killed_mid_upload(store: &[String]) {
    let device_dir = tempfile::tempdir().unwrap();
    let mut server = Server::start_on(store, 0, 1 << 20);
    let port = server.port();
    let token = server.token_add("d1");
    let queue = Queue::open(device_dir.path(), 1 << 20).unwrap();
    for seq in 1..=3 {
        queue
            .push(&bundle("d1", seq, seq as usize).encode(), seq)
            .unwrap();
    }
    let client = Client::new(&server.url, &token, Duration::from_secs(5));
    // The first bundle reaches the host; then an upload is cut off by the host's death.
    let first = queue.oldest().unwrap().unwrap();
    assert!(matches!(
        client.send("d1", &first),
        mmcl::uplink::client::Outcome::Acknowledged { stored: true }
    ));
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "PUT /v1/devices/d1/bundles/{} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n",
        first.hash,
        first.bytes.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&first.bytes[..first.bytes.len() / 2]).unwrap();
    server.kill();
    let down = drain(&queue, &client, "d1").unwrap();
    assert!(down.stopped.is_some(), "host down: {down:?}");
    assert_eq!(queue.status().unwrap().queued, 3, "nothing left the queue");
    let server = Server::start_on(store, port, 1 << 20);
    let up = drain(&queue, &client, "d1").unwrap();
    assert_eq!(
        (up.sent, up.duplicates, up.stopped),
        (2, 1, None),
        "the first was a duplicate"
    );
    let status = queue.status().unwrap();
    assert_eq!((status.queued, status.counters.sent), (0, 3));
    assert_eq!(history_len(&server, "d1"), 3, "each snapshot once");
}
