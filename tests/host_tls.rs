#![cfg(feature = "host")]
//! `mmcl host serve --tls-cert --tls-key` on loopback with the committed test PKI
//! (tests/data/tls, made by its make.sh, valid to 2126): a device client trusting the
//! test CA (`[uplink] ca_file`) pushes a bundle over https and it is stored once; a client
//! trusting another CA, or only the public roots, is refused before any byte of the
//! bundle is sent, with an error that names the certificate problem; plain HTTP to the
//! TLS port gets no answer; unreadable key material stops `host serve` with exit 2.

mod host_support;

use host_support::{bundle, mmcl, token_add, Server};
use mmcl::uplink::client::{Client, Outcome};
use mmcl::uplink::Queue;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn pki(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tls")
        .join(name)
}

fn tls_server(dir: &Path) -> Server {
    let (cert, key) = (pki("server.pem"), pki("server.key"));
    let args = [
        "--tls-cert",
        cert.to_str().expect("utf-8 path"),
        "--tls-key",
        key.to_str().expect("utf-8 path"),
    ];
    Server::start_with_args(dir, &args)
}

fn client(url: &str, token: &str, ca: &str) -> Client {
    let pem = std::fs::read(pki(ca)).expect("CA file");
    Client::with_ca(url, token, Duration::from_secs(5), &pem).expect("CA roots")
}

#[test]
fn a_device_trusting_the_private_ca_pushes_over_https_and_others_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let device_dir = tempfile::tempdir().unwrap();
    let server = tls_server(dir.path());
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let token = token_add(&server.db, "d1");
    let queue = Queue::open(device_dir.path(), 1 << 20).unwrap();
    queue.push(&bundle("d1", 1, 2).encode(), 1).unwrap();
    let pending = queue.oldest().unwrap().unwrap();

    for (who, refused) in [
        ("another CA", client(&server.url, &token, "other-ca.pem")),
        (
            "the public roots",
            Client::new(&server.url, &token, Duration::from_secs(5)),
        ),
    ] {
        let Outcome::Retry { why } = refused.send("d1", &pending) else {
            panic!("{who}: not refused");
        };
        println!("{who}: {why}");
        assert!(
            why.contains("certificate") && why.contains("UnknownIssuer"),
            "{who}: {why}"
        );
    }
    let trusted = client(&server.url, &token, "ca.pem");
    assert_eq!(
        trusted.send("d1", &pending),
        Outcome::Acknowledged { stored: true }
    );
    assert_eq!(
        trusted.send("d1", &pending),
        Outcome::Acknowledged { stored: false }
    );
    let plain = server.url.replacen("https://", "http://", 1);
    let plain = Client::new(&plain, &token, Duration::from_secs(2));
    assert!(matches!(plain.send("d1", &pending), Outcome::Retry { .. }));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::new_with_certs(&[
                    ureq::tls::Certificate::from_pem(&std::fs::read(pki("ca.pem")).unwrap())
                        .unwrap(),
                ]))
                .build(),
        )
        .build()
        .into();
    let text = agent
        .get(&format!("{}/v1/devices/d1/bundles", server.url))
        .call()
        .expect("GET over https")
        .body_mut()
        .read_to_string()
        .expect("body");
    let listed: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(listed["bundles"].as_array().map(Vec::len), Some(1));
}

#[test]
fn unreadable_key_material_stops_the_server_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("h.db").display());
    let not_a_key = pki("ca.pem");
    let out = mmcl()
        .args(["host", "serve", "--listen", "127.0.0.1:0", "--db", &db])
        .args(["--tls-cert", pki("server.pem").to_str().unwrap()])
        .args(["--tls-key", not_a_key.to_str().unwrap()])
        .output()
        .expect("run host serve");
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stderr}");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--tls-key") && stderr.contains("ca.pem"),
        "{stderr}"
    );
    let half = mmcl()
        .args(["host", "serve", "--listen", "127.0.0.1:0", "--db", &db])
        .args(["--tls-cert", pki("server.pem").to_str().unwrap()])
        .output()
        .expect("run host serve");
    assert_eq!(half.status.code(), Some(2), "--tls-cert needs --tls-key");
}
