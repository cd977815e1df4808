//! `[uplink]`: where the daemon syncs its snapshots (`crate::uplink`): the host's URL, the
//! device's token (inline or, better, in a file only the service can read), the device id
//! the host knows it by, how many bytes of bundles may wait on disk, how often the
//! queue is retried, and (for a host with a private CA) the CA certificates to trust. The section is optional: without it the device never syncs.

use super::check::{path_text, Bound, Checker};
use super::raw::{RawBytes, RawUplink};
use crate::uplink::check_device_id;
use std::path::PathBuf;

pub const DEFAULT_QUEUE_BYTES: u64 = 64 << 20;
pub const DEFAULT_INTERVAL_SECONDS: f64 = 60.0;

/// Where the device token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    Inline(String),
    /// Read when the uplink starts (and by `mmcl sync`), trimmed.
    File(PathBuf),
}

/// The validated `[uplink]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct UplinkConfig {
    url: String,
    token: TokenSource,
    device_id: String,
    queue_bytes: u64,
    interval_seconds: f64,
    /// PEM CA certificates trusted for https instead of the public roots.
    ca_file: Option<PathBuf>,
}

impl UplinkConfig {
    /// The host's base URL, `http://` or `https://`, no trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn token(&self) -> &TokenSource {
        &self.token
    }

    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// Bytes of bundles the queue holds before it drops the oldest.
    pub fn queue_bytes(&self) -> u64 {
        self.queue_bytes
    }

    /// Seconds between pushes when nothing wakes the sync thread, (0, 86400].
    pub fn interval_seconds(&self) -> f64 {
        self.interval_seconds
    }

    /// The PEM file of CA certificates an https host is checked against, when not the
    /// public roots.
    pub fn ca_file(&self) -> Option<&std::path::Path> {
        self.ca_file.as_deref()
    }

    pub(crate) fn from_raw(raw: &RawUplink, c: &mut Checker) -> Option<UplinkConfig> {
        let url = c
            .required("uplink.url", raw.url.as_deref())
            .and_then(|u| url(u, c));
        let token = token(raw, c);
        let device_id = c.required("uplink.device_id", raw.device_id.as_deref());
        let device_id = device_id.and_then(|id| match check_device_id(id) {
            Ok(()) => Some(id.to_string()),
            Err(e) => c.error("uplink.device_id", format!("{id:?}"), e.to_string()),
        });
        let queue_bytes = match &raw.queue_bytes {
            None => Some(DEFAULT_QUEUE_BYTES),
            Some(b) => queue_bytes(b, c),
        };
        let interval = raw.interval.unwrap_or(DEFAULT_INTERVAL_SECONDS);
        let interval = c.positive("uplink.interval", interval, Some(Bound::fixed(86400.0)));
        let ca_file = match &raw.ca_file {
            None => Some(None),
            Some(p) => c.nonempty_path("uplink.ca_file", p).map(Some),
        };
        Some(UplinkConfig {
            url: url?,
            token: token?,
            device_id: device_id?,
            queue_bytes: queue_bytes?,
            interval_seconds: interval?,
            ca_file: ca_file?,
        })
    }

    pub(crate) fn to_raw(&self) -> RawUplink {
        let (token, token_file) = match &self.token {
            TokenSource::Inline(t) => (Some(t.clone()), None),
            TokenSource::File(p) => (None, Some(p.clone())),
        };
        RawUplink {
            url: Some(self.url.clone()),
            token,
            token_file,
            device_id: Some(self.device_id.clone()),
            queue_bytes: Some(RawBytes::Count(
                i64::try_from(self.queue_bytes).unwrap_or(i64::MAX),
            )),
            interval: Some(self.interval_seconds),
            ca_file: self.ca_file.clone(),
        }
    }
}

fn url(text: &str, c: &mut Checker) -> Option<String> {
    let rest = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => {
            Some(text.trim_end_matches('/').to_string())
        }
        _ => c.error(
            "uplink.url",
            format!("{text:?}"),
            "must be an http:// or https:// URL with a host, e.g. https://host.example:8750",
        ),
    }
}

fn token(raw: &RawUplink, c: &mut Checker) -> Option<TokenSource> {
    match (&raw.token, &raw.token_file) {
        (Some(_), Some(p)) => c.error(
            "uplink.token_file",
            path_text(p),
            "give uplink.token or uplink.token_file, not both",
        ),
        (Some(t), None) if t.trim().is_empty() => c.error("uplink.token", "\"\"", "must not be empty"),
        (Some(t), None) => Some(TokenSource::Inline(t.trim().to_string())),
        (None, Some(p)) => c.nonempty_path("uplink.token_file", p).map(TokenSource::File),
        (None, None) => c.error(
            "uplink.token",
            super::check::MISSING,
            "required: uplink.token or uplink.token_file (mmcl host token add DEVICE_ID prints one)",
        ),
    }
}

fn queue_bytes(raw: &RawBytes, c: &mut Checker) -> Option<u64> {
    const KEY: &str = "uplink.queue_bytes";
    let n = match raw {
        RawBytes::Count(n) => u64::try_from(*n).ok(),
        RawBytes::Text(text) => crate::config::parse_bytes(text).ok(),
    };
    match n {
        Some(n) if (4096..=i64::MAX as u64).contains(&n) => Some(n),
        _ => c.error(
            KEY,
            format!("{raw:?}"),
            "must be a byte count of at least 4096 (e.g. \"64MiB\")",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn raw() -> RawUplink {
        RawUplink {
            url: Some("http://127.0.0.1:8750/".into()),
            token: Some("abc".into()),
            device_id: Some("glasses-7".into()),
            ..RawUplink::default()
        }
    }

    #[test]
    fn defaults_fill_in_and_the_url_loses_its_slash() {
        let mut c = Checker::new(Path::new("/etc/mmcl"));
        let u = UplinkConfig::from_raw(&raw(), &mut c).unwrap();
        assert_eq!(u.url(), "http://127.0.0.1:8750");
        assert_eq!(
            (u.queue_bytes(), u.interval_seconds()),
            (DEFAULT_QUEUE_BYTES, 60.0)
        );
        let mut c = Checker::new(Path::new("/etc/mmcl"));
        assert_eq!(UplinkConfig::from_raw(&u.to_raw(), &mut c), Some(u));
    }

    #[test]
    fn every_bad_key_is_reported_together() {
        let mut c = Checker::new(Path::new("/etc/mmcl"));
        let bad = RawUplink {
            url: Some("ftp://x".into()),
            token: Some("t".into()),
            token_file: Some("t.txt".into()),
            device_id: Some("a/b".into()),
            queue_bytes: Some(RawBytes::Count(10)),
            interval: Some(0.0),
            ca_file: None,
        };
        assert!(UplinkConfig::from_raw(&bad, &mut c).is_none());
        let keys: Vec<&str> = c.errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "uplink.url",
                "uplink.token_file",
                "uplink.device_id",
                "uplink.queue_bytes",
                "uplink.interval"
            ]
        );
    }
}
