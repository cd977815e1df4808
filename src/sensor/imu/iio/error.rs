//! What can go wrong reading an IIO device, each naming the file or device and
//! the numbers involved. Causes are written into the message (no `#[source]`):
//! these errors travel as `SourceError` text into health and `mmcl sensors`.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum IioError {
    #[error("cannot {action} {}: {error}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        error: std::io::Error,
    },
    /// An attribute with no default is absent under every name the ABI allows.
    #[error("device {device}: no {what} for {channel}: none of {} exists", tried.join(", "))]
    MissingAttribute {
        device: String,
        channel: String,
        what: &'static str,
        tried: Vec<String>,
    },
    #[error("{}: `{text}` is not {expected}", path.display())]
    BadValue {
        path: PathBuf,
        text: String,
        expected: &'static str,
    },
    /// No device under the root offers what is needed.
    #[error("no IIO device under {} {what}", root.display())]
    NotFound { root: PathBuf, what: String },
    /// The device's sysfs directory went away (unplugged, driver unbound).
    #[error("IIO device {device} is gone ({} no longer exists)", dir.display())]
    Gone { device: String, dir: PathBuf },
    /// Buffered reading needs one device with every channel and a usable layout.
    #[error("device {device}: buffered reading impossible: {reason}")]
    Buffer { device: String, reason: String },
}

impl IioError {
    pub(crate) fn io(
        path: impl Into<PathBuf>,
        action: &'static str,
        error: std::io::Error,
    ) -> Self {
        IioError::Io {
            path: path.into(),
            action,
            error,
        }
    }
}
