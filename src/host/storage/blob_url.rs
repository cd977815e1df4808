//! Where blobs go, as the CLI's `--blobs` names it, checked once: a directory
//! (`BlobLocation::Dir`) or S3-compatible object storage (`s3://BUCKET[/PREFIX]`, with the
//! endpoint, region and plain-HTTP permission from flags or the standard `AWS_*`
//! variables, `S3Config`).

use super::StorageError;
use std::path::{Path, PathBuf};

/// Why S3 flags without `--blobs s3://...` are refused (they would be ignored).
const S3_FLAGS_NEED_S3: &str =
    "--s3-endpoint, --s3-region and --s3-allow-http need --blobs s3://BUCKET[/PREFIX]";

/// A checked `--blobs` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobLocation {
    Dir(PathBuf),
    S3(S3Config),
}

impl From<&Path> for BlobLocation {
    fn from(dir: &Path) -> BlobLocation {
        BlobLocation::Dir(dir.to_path_buf())
    }
}

/// The S3 flags of `host serve` and friends; each, when given, overrides its `AWS_*`
/// variable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Options {
    /// `--s3-endpoint`: an S3-compatible server (MinIO, Ceph, moto) instead of AWS.
    pub endpoint: Option<String>,
    /// `--s3-region`.
    pub region: Option<String>,
    /// `--s3-allow-http`: an `http://` endpoint is refused without it.
    pub allow_http: bool,
}

/// How the S3 client signs its requests.
#[derive(Clone, PartialEq, Eq)]
pub enum S3Credentials {
    /// The standard chain: `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
    /// `AWS_SESSION_TOKEN`, else web identity, ECS or EC2 instance credentials.
    Environment,
    /// Given keys (tests and embedders; the CLI never takes secrets as flags).
    Static {
        access_key_id: String,
        secret_access_key: String,
    },
}

impl std::fmt::Debug for S3Credentials {
    /// Never prints a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            S3Credentials::Environment => f.write_str("Environment"),
            S3Credentials::Static { access_key_id, .. } => {
                write!(f, "Static {{ access_key_id: {access_key_id:?}, .. }}")
            }
        }
    }
}

/// Object storage for blobs: a bucket, a key prefix inside it, and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Config {
    pub bucket: String,
    /// Keys are `PREFIX/<2 hex>/<hash>.mmcl`; empty: at the bucket's root.
    pub prefix: String,
    pub options: S3Options,
    pub credentials: S3Credentials,
}

impl S3Config {
    /// `s3://BUCKET/PREFIX` as given.
    pub fn url(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

impl BlobLocation {
    /// Reads `--blobs`: `s3://BUCKET[/PREFIX]` is object storage, anything else a
    /// directory. S3 flags with a directory are an error (they would be ignored).
    pub fn parse(text: &str, options: S3Options) -> Result<BlobLocation, StorageError> {
        let bad = |why: String| StorageError::BlobUrl {
            url: text.to_string(),
            why,
        };
        let Some(rest) = text.strip_prefix("s3://") else {
            if options != S3Options::default() {
                return Err(bad(S3_FLAGS_NEED_S3.into()));
            }
            if text.is_empty() {
                return Err(bad("an empty blob directory".into()));
            }
            return Ok(BlobLocation::Dir(PathBuf::from(text)));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        check_bucket(bucket).map_err(&bad)?;
        let prefix = prefix.trim_end_matches('/');
        if prefix
            .split('/')
            .any(|p| (p.is_empty() && !prefix.is_empty()) || p == "." || p == "..")
        {
            return Err(bad(format!(
                "the key prefix {prefix:?} has an empty, `.` or `..` part"
            )));
        }
        check_endpoint(&options).map_err(bad)?;
        Ok(BlobLocation::S3(S3Config {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
            options,
            credentials: S3Credentials::Environment,
        }))
    }

    /// `--blobs` if given (`None`: the backend's default); S3 flags without it are an error.
    pub fn from_flags(
        blobs: Option<&str>,
        options: S3Options,
    ) -> Result<Option<BlobLocation>, StorageError> {
        match blobs {
            Some(text) => BlobLocation::parse(text, options).map(Some),
            None if options != S3Options::default() => Err(StorageError::BlobUrl {
                url: "(no --blobs)".into(),
                why: S3_FLAGS_NEED_S3.into(),
            }),
            None => Ok(None),
        }
    }

    /// `--blobs` as the user would write it, for messages.
    pub fn describe(&self) -> String {
        match self {
            BlobLocation::Dir(dir) => dir.display().to_string(),
            BlobLocation::S3(s3) => s3.url(),
        }
    }
}

/// S3's bucket naming rules, the part that keeps a URL unambiguous: 3-63 characters of
/// lowercase letters, digits, `.` and `-`.
fn check_bucket(bucket: &str) -> Result<(), String> {
    let ok_chars = bucket
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    if !(3..=63).contains(&bucket.len()) || !ok_chars {
        return Err(format!(
            "bucket {bucket:?}: a bucket name is 3-63 characters of a-z, 0-9, '.' and '-'"
        ));
    }
    Ok(())
}

/// An endpoint is an http(s) URL; plain HTTP only with `--s3-allow-http` (credentials and
/// bundles would cross the network in clear).
fn check_endpoint(options: &S3Options) -> Result<(), String> {
    let Some(endpoint) = &options.endpoint else {
        return Ok(());
    };
    if endpoint.starts_with("http://") {
        if !options.allow_http {
            return Err(format!(
                "--s3-endpoint {endpoint} is plain HTTP: pass --s3-allow-http to use it (requests and bundles cross the network in clear)"
            ));
        }
        return Ok(());
    }
    if !endpoint.starts_with("https://") {
        return Err(format!(
            "--s3-endpoint {endpoint:?}: an endpoint is an https:// (or, with --s3-allow-http, http://) URL"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3(text: &str, options: S3Options) -> Result<S3Config, String> {
        match BlobLocation::parse(text, options) {
            Ok(BlobLocation::S3(c)) => Ok(c),
            Ok(other) => Err(format!("not S3: {other:?}")),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn s3_urls_name_a_bucket_and_a_prefix() {
        let c = s3("s3://mmcl-blobs/fleet/a/", S3Options::default()).unwrap();
        assert_eq!(
            (c.bucket.as_str(), c.prefix.as_str()),
            ("mmcl-blobs", "fleet/a")
        );
        assert_eq!(c.url(), "s3://mmcl-blobs/fleet/a");
        let c = s3("s3://mmcl-blobs", S3Options::default()).unwrap();
        assert_eq!(c.prefix, "");
        assert_eq!(c.url(), "s3://mmcl-blobs");
    }

    #[test]
    fn bad_buckets_prefixes_and_endpoints_are_refused_with_the_reason() {
        let cases = [
            ("s3://", S3Options::default(), "bucket \"\""),
            ("s3://Big_Bucket/x", S3Options::default(), "3-63 characters"),
            ("s3://bkt/a//b", S3Options::default(), "empty, `.` or `..`"),
            ("s3://bkt/a/../b", S3Options::default(), "`..`"),
        ];
        for (url, options, want) in cases {
            let err = s3(url, options).unwrap_err();
            assert!(err.contains(want), "{url}: {err}");
            assert!(err.contains(url), "{url}: names the URL: {err}");
        }
        let plain = S3Options {
            endpoint: Some("http://127.0.0.1:9000".into()),
            ..S3Options::default()
        };
        let err = s3("s3://bkt", plain.clone()).unwrap_err();
        assert!(err.contains("--s3-allow-http"), "{err}");
        let allowed = S3Options {
            allow_http: true,
            ..plain
        };
        assert_eq!(
            s3("s3://bkt", allowed.clone()).unwrap().options.endpoint,
            allowed.endpoint
        );
        let odd = S3Options {
            endpoint: Some("ftp://x".into()),
            ..S3Options::default()
        };
        assert!(s3("s3://bkt", odd).unwrap_err().contains("https://"));
    }

    #[test]
    fn directories_take_no_s3_flags() {
        assert_eq!(
            BlobLocation::parse("/srv/blobs", S3Options::default()).unwrap(),
            BlobLocation::Dir("/srv/blobs".into())
        );
        let region = S3Options {
            region: Some("eu-west-1".into()),
            ..S3Options::default()
        };
        let err = BlobLocation::parse("/srv/blobs", region)
            .unwrap_err()
            .to_string();
        assert!(err.contains("need --blobs s3://"), "{err}");
    }

    #[test]
    fn credentials_never_print_their_secret() {
        let c = S3Credentials::Static {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI".into(),
        };
        let shown = format!("{c:?}");
        assert!(
            shown.contains("AKIDEXAMPLE") && !shown.contains("wJalr"),
            "{shown}"
        );
    }
}
