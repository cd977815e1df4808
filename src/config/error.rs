//! What can go wrong loading a profile: the file cannot be read (`Io`), it is
//! not TOML of the expected shape (`Parse`, with line and column), or its values
//! break the rules (`Invalid`, every broken rule at once as `Issue`s).

use std::fmt;
use std::path::PathBuf;

/// One finding about one key: `window.stride_seconds = 0: must be > 0 and <=
/// window.seconds (5.12)`. Used for errors and for warnings alike.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Issue {
    /// The dotted key, e.g. `encoder.threads`; `sources` for whole-section rules.
    pub key: String,
    /// The value as written (TOML-like: strings quoted), or `(missing)`.
    pub value: String,
    /// The rule that was broken, with the numbers it compares against.
    pub message: String,
}

impl Issue {
    pub fn new(
        key: impl Into<String>,
        value: impl Into<String>,
        message: impl Into<String>,
    ) -> Issue {
        Issue {
            key: key.into(),
            value: value.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {}: {}", self.key, self.value, self.message)
    }
}

/// Every rule a raw profile broke, collected in one pass (never just the first),
/// plus the warnings found on the way so a report can show both.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigErrors {
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
}

impl ConfigErrors {
    /// True when some error names exactly `key`.
    pub fn has_key(&self, key: &str) -> bool {
        self.errors.iter().any(|e| e.key == key)
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        write!(f, "{n} invalid value{}", if n == 1 { "" } else { "s" })?;
        for e in &self.errors {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Why `Config::load` refused a file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Not TOML, a value of the wrong type, or an unknown key. Only the first such
    /// error is reported (the parser stops there); `message` starts with the
    /// dotted key when it can be told from the line. Line and column are 1-based.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("config {} has {errors}", path.display())]
    Invalid { path: PathBuf, errors: ConfigErrors },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_reads_key_value_rule() {
        let issue = Issue::new(
            "window.stride_seconds",
            "0",
            "must be > 0 and <= window.seconds (5.12)",
        );
        assert_eq!(
            issue.to_string(),
            "window.stride_seconds = 0: must be > 0 and <= window.seconds (5.12)"
        );
    }

    #[test]
    fn invalid_lists_every_error() {
        let errors = ConfigErrors {
            errors: vec![Issue::new("a", "1", "x"), Issue::new("b", "2", "y")],
            warnings: vec![],
        };
        let e = ConfigError::Invalid {
            path: "p.toml".into(),
            errors,
        };
        assert_eq!(
            e.to_string(),
            "config p.toml has 2 invalid values\n  a = 1: x\n  b = 2: y"
        );
    }
}
