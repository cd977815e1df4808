//! The blocking HTTP client (ureq 3, rustls with ring: no C TLS library, no async runtime)
//! that sends one queued bundle to the host and says what to do with it. Over https it
//! trusts Mozilla's roots (webpki-roots), or only the CA certificates `[uplink] ca_file`
//! names, for a host with a private CA.

use super::queue::Pending;
use std::time::Duration;

/// What the host's answer means for the queued bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Acknowledged: `stored` false when the host had it already. It leaves the queue.
    Acknowledged { stored: bool },
    /// Refused for good (too large, malformed, an encoder the host does not know): it
    /// moves aside so it cannot block the queue.
    Refused { status: u16, message: String },
    /// Not acknowledged (network, host down, wrong or revoked token, a transit checksum
    /// failure): it stays queued and is retried after a backoff.
    Retry { why: String },
}

/// Why a CA file's PEM gave no trust roots.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("PEM section {index} is not readable: {message}")]
    Pem { index: usize, message: String },
    #[error("no CERTIFICATE section in {sections} PEM section(s)")]
    NoCertificate { sections: usize },
}

/// The CA certificates of a PEM file's bytes (other sections, such as keys, are skipped).
pub fn ca_roots(pem: &[u8]) -> Result<Vec<ureq::tls::Certificate<'static>>, CaError> {
    let mut certs = Vec::new();
    let mut sections = 0;
    for (index, item) in ureq::tls::parse_pem(pem).enumerate() {
        sections += 1;
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(e) => {
                return Err(CaError::Pem {
                    index,
                    message: e.to_string(),
                })
            }
        }
    }
    match certs.is_empty() {
        true => Err(CaError::NoCertificate { sections }),
        false => Ok(certs),
    }
}

/// A client of one host for one device.
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    base: String,
    token: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("Client").field("base", &self.base).finish()
    }
}

impl Client {
    /// A client of the host at `base` (http:// or https://) with `token`; each request
    /// gives up after `timeout`.
    pub fn new(base: &str, token: &str, timeout: Duration) -> Client {
        Client::build(base, token, timeout, ureq::tls::RootCerts::WebPki)
    }

    /// Like `new`, trusting only the CA certificates in `ca_pem` for https.
    pub fn with_ca(
        base: &str,
        token: &str,
        timeout: Duration,
        ca_pem: &[u8],
    ) -> Result<Client, CaError> {
        let roots = ureq::tls::RootCerts::new_with_certs(&ca_roots(ca_pem)?);
        Ok(Client::build(base, token, timeout, roots))
    }

    fn build(base: &str, token: &str, timeout: Duration, roots: ureq::tls::RootCerts) -> Client {
        let tls = ureq::tls::TlsConfig::builder().root_certs(roots).build();
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .tls_config(tls)
            .build()
            .into();
        Client {
            agent,
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
        }
    }

    /// Uploads `pending` as a bundle of `device`.
    pub fn send(&self, device: &str, pending: &Pending) -> Outcome {
        let url = format!("{}/v1/devices/{device}/bundles/{}", self.base, pending.hash);
        let sent = self
            .agent
            .put(&url)
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("Content-Type", "application/octet-stream")
            .send(&pending.bytes[..]);
        let mut response = match sent {
            Ok(r) => r,
            Err(e) => {
                return Outcome::Retry {
                    why: format!("PUT {url}: {e}"),
                }
            }
        };
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 << 10)
            .read_to_string()
            .unwrap_or_default();
        classify(status, &body)
    }
}

/// The host's status and `{"error": {"kind", "message"}}` body -> what to do.
fn classify(status: u16, body: &str) -> Outcome {
    let error: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let kind = error["error"]["kind"].as_str().unwrap_or("");
    let message = error["error"]["message"]
        .as_str()
        .unwrap_or(body)
        .to_string();
    match status {
        201 => Outcome::Acknowledged { stored: true },
        200 => Outcome::Acknowledged { stored: false },
        413 | 422 => Outcome::Refused { status, message },
        // The body was checked intact before it was sent: a checksum or truncation error
        // happened in transit and is worth another try.
        400 if !matches!(kind, "checksum" | "truncated") => Outcome::Refused { status, message },
        _ => Outcome::Retry {
            why: format!("host answered {status}: {message}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_needs_a_certificate() {
        let key = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(matches!(
            ca_roots(key),
            Err(CaError::NoCertificate { sections: 1 })
        ));
        assert!(matches!(
            ca_roots(b"not pem"),
            Err(CaError::NoCertificate { sections: 0 })
        ));
        let cert = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(ca_roots(cert).map(|c| c.len()).ok(), Some(1));
    }

    #[test]
    fn answers_map_to_what_the_queue_does() {
        let err = |kind: &str| format!(r#"{{"error":{{"kind":"{kind}","message":"m"}}}}"#);
        assert_eq!(classify(201, ""), Outcome::Acknowledged { stored: true });
        assert_eq!(classify(200, ""), Outcome::Acknowledged { stored: false });
        for (status, kind) in [(413, "too_large"), (422, "refused"), (400, "malformed")] {
            assert!(
                matches!(classify(status, &err(kind)), Outcome::Refused { .. }),
                "{status}"
            );
        }
        for (status, kind) in [
            (400, "checksum"),
            (401, "unauthorized"),
            (500, "internal"),
            (503, ""),
        ] {
            assert!(
                matches!(classify(status, &err(kind)), Outcome::Retry { .. }),
                "{status}"
            );
        }
    }
}
