//! `Checker`: the one-pass rule checker every section's `from_raw` writes into.
//!
//! Each check records an `Issue` and returns `None` when the rule is broken, so a
//! section can keep checking its other keys and report all of them; a section is
//! built only when every one of its checks returned `Some`.

use super::choice::Choice;
use super::error::{ConfigErrors, Issue};
use std::path::{Component, Path, PathBuf};

pub(crate) const MISSING: &str = "(missing)";

/// Collects errors and warnings; resolves relative paths against `base_dir`.
#[derive(Debug)]
pub(crate) struct Checker {
    base_dir: PathBuf,
    pub(crate) errors: Vec<Issue>,
    pub(crate) warnings: Vec<Issue>,
}

impl Checker {
    pub(crate) fn new(base_dir: &Path) -> Checker {
        Checker {
            base_dir: base_dir.to_path_buf(),
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The checked value with the warnings, or every error: `built` is `None`
    /// only when some check failed, and a failed check always left an error.
    pub(crate) fn finish<T>(self, built: Option<T>) -> Result<(T, Vec<Issue>), ConfigErrors> {
        match built {
            Some(value) if self.errors.is_empty() => Ok((value, self.warnings)),
            _ => Err(ConfigErrors {
                errors: self.errors,
                warnings: self.warnings,
            }),
        }
    }

    pub(crate) fn error<T>(
        &mut self,
        key: &str,
        value: impl Into<String>,
        rule: impl Into<String>,
    ) -> Option<T> {
        self.errors.push(Issue::new(key, value, rule));
        None
    }

    pub(crate) fn warn(&mut self, key: &str, value: impl Into<String>, note: impl Into<String>) {
        self.warnings.push(Issue::new(key, value, note));
    }

    /// A key with no default.
    pub(crate) fn required<T>(&mut self, key: &str, value: Option<T>) -> Option<T> {
        match value {
            Some(v) => Some(v),
            None => self.error(key, MISSING, "required"),
        }
    }

    /// An integer in `lo..=hi`, converted to the type the validated config stores.
    pub(crate) fn int_in<T: TryFrom<i64>>(
        &mut self,
        key: &str,
        value: i64,
        lo: i64,
        hi: i64,
    ) -> Option<T> {
        if (lo..=hi).contains(&value) {
            T::try_from(value).ok()
        } else {
            self.error(key, value.to_string(), format!("must be in {lo}..={hi}"))
        }
    }

    /// A finite number `> 0`, and `<= max` when a bound is given. `max` carries
    /// its own label so a bound taken from another key reads as that key.
    pub(crate) fn positive(&mut self, key: &str, value: f64, max: Option<Bound>) -> Option<f64> {
        let within = match &max {
            Some(b) => value <= b.value,
            None => true,
        };
        if value.is_finite() && value > 0.0 && within {
            return Some(value);
        }
        let rule = match max {
            Some(b) => format!("must be > 0 and <= {}", b.label),
            None => "must be a finite number > 0".to_string(),
        };
        self.error(key, float_text(value), rule)
    }

    /// One of the names of `C`.
    pub(crate) fn choice<C: Choice>(&mut self, key: &str, name: &str) -> Option<C> {
        match C::from_name(name) {
            Some(v) => Some(v),
            None => self.error(
                key,
                format!("{name:?}"),
                format!("must be one of {}", C::expected()),
            ),
        }
    }

    /// `path` made absolute against the config file's directory (no file-system
    /// access: devices may be hot-plugged and state directories made later).
    pub(crate) fn resolve(&self, path: &Path) -> PathBuf {
        let joined = self.base_dir.join(path);
        // Drop `.` components so reports read cleanly; `..` is kept because
        // removing it lexically is wrong across symlinks.
        joined
            .components()
            .filter(|c| *c != Component::CurDir)
            .collect()
    }

    /// A resolved path that must name an existing file now (the encoder model,
    /// the ONNX Runtime library): the error names the key and where it looked.
    pub(crate) fn existing_file(&mut self, key: &str, path: &Path) -> Option<PathBuf> {
        let resolved = self.resolve(path);
        if resolved.is_file() {
            return Some(resolved);
        }
        let what = if resolved.exists() {
            "is not a regular file"
        } else {
            "does not exist"
        };
        let rule = format!(
            "{what}: {} (relative paths resolve against the config file's directory)",
            resolved.display()
        );
        self.error(key, path_text(path), rule)
    }

    /// A path that must not be empty (an empty path would resolve to the config
    /// directory itself, which is never what was meant).
    pub(crate) fn nonempty_path(&mut self, key: &str, path: &Path) -> Option<PathBuf> {
        if path.as_os_str().is_empty() {
            return self.error(key, "\"\"", "must not be empty");
        }
        Some(self.resolve(path))
    }
}

/// An upper bound and how an error message names it: `60`, or
/// `window.seconds (5.12)` when it comes from another key.
#[derive(Debug, Clone)]
pub(crate) struct Bound {
    pub value: f64,
    pub label: String,
}

impl Bound {
    pub(crate) fn fixed(value: f64) -> Bound {
        Bound {
            value,
            label: float_text(value),
        }
    }

    pub(crate) fn key(key: &str, value: f64) -> Bound {
        Bound {
            value,
            label: format!("{key} ({})", float_text(value)),
        }
    }
}

/// A float as TOML would read it back (`inf`, `nan` included).
pub(crate) fn float_text(v: f64) -> String {
    v.to_string()
}

pub(crate) fn path_text(path: &Path) -> String {
    format!("{:?}", path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::Backend;

    #[test]
    fn every_broken_rule_is_kept() {
        let mut c = Checker::new(Path::new("/etc/mmcl"));
        assert_eq!(c.int_in::<u32>("a.threads", 0, 1, 64), None);
        assert_eq!(c.positive("a.seconds", 0.0, Some(Bound::fixed(60.0))), None);
        assert_eq!(
            c.positive("a.stride", 6.0, Some(Bound::key("a.seconds", 5.12))),
            None
        );
        assert_eq!(c.choice::<Backend>("a.backend", "onnx"), None);
        let text: Vec<String> = c.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            text,
            [
                "a.threads = 0: must be in 1..=64",
                "a.seconds = 0: must be > 0 and <= 60",
                "a.stride = 6: must be > 0 and <= a.seconds (5.12)",
                "a.backend = \"onnx\": must be one of \"tract\" or \"ort\"",
            ]
        );
    }

    #[test]
    fn non_finite_numbers_are_refused() {
        let mut c = Checker::new(Path::new("/"));
        assert_eq!(c.positive("k", f64::NAN, None), None);
        assert_eq!(c.positive("k", f64::INFINITY, None), None);
        assert_eq!(
            c.positive("k", f64::INFINITY, Some(Bound::fixed(f64::MAX))),
            None
        );
        assert_eq!(c.errors.len(), 3);
        assert_eq!(c.positive("k", 0.5, None), Some(0.5));
    }

    #[test]
    fn relative_paths_resolve_against_the_base() {
        let c = Checker::new(Path::new("/etc/mmcl"));
        assert_eq!(
            c.resolve(Path::new("./a/b")),
            PathBuf::from("/etc/mmcl/a/b")
        );
        assert_eq!(
            c.resolve(Path::new("../m.onnx")),
            PathBuf::from("/etc/mmcl/../m.onnx")
        );
        assert_eq!(
            c.resolve(Path::new("/dev/video0")),
            PathBuf::from("/dev/video0")
        );
    }

    #[test]
    fn missing_file_names_key_and_resolved_path() {
        let mut c = Checker::new(Path::new("/nonexistent-mmcl-dir"));
        assert_eq!(c.existing_file("encoder.model", Path::new("m.onnx")), None);
        let e = &c.errors[0];
        assert_eq!(e.key, "encoder.model");
        assert!(
            e.message.contains("/nonexistent-mmcl-dir/m.onnx"),
            "{}",
            e.message
        );
    }
}
