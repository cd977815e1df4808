//! `ClientError`: why a control request did not get its answer, worded for the person at
//! the terminal: no daemon (with the hint to start one), permission (naming the socket,
//! its owner, group and mode, and the caller's uid), the daemon's own refusal, or a
//! broken connection. `kind` is the stable name `--json` prints.

use crate::control::api::ControlError;
use crate::control::sys;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No socket there, or nobody listening on it.
    #[error("no mmcl daemon at {} (is `mmcl run` / mmcl.service running?)", path.display())]
    NotRunning { path: PathBuf },
    /// The socket's mode refused the connection, or the daemon's allow list did.
    #[error("permission denied on {} ({access}; you are uid {uid}){}", path.display(), said(daemon))]
    PermissionDenied {
        path: PathBuf,
        /// "owner root (0), group mmcl (998), mode 0660".
        access: String,
        uid: u32,
        /// What the daemon said, when it was the daemon that refused.
        daemon: Option<String>,
    },
    /// The daemon answered the request with an error.
    #[error(transparent)]
    Refused(ControlError),
    #[error("{action} {}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// A frame that is not protocol version 1, or not the answer that was due.
    #[error("the daemon at {} answered outside the protocol: {message}", path.display())]
    Protocol { path: PathBuf, message: String },
    #[error("the daemon at {} closed the connection", path.display())]
    Closed { path: PathBuf },
    #[error("the daemon at {} did not answer within {seconds} s", path.display())]
    Timeout { path: PathBuf, seconds: u64 },
}

fn said(daemon: &Option<String>) -> String {
    daemon
        .as_ref()
        .map_or_else(String::new, |m| format!(": the daemon says {m}"))
}

impl ClientError {
    /// The stable name of the failure: the daemon's `ErrorKind` name when it refused,
    /// else `not_running`, `permission_denied`, `io`, `protocol`, `closed` or
    /// `timeout`.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientError::NotRunning { .. } => "not_running",
            ClientError::PermissionDenied { .. } => "permission_denied",
            ClientError::Refused(e) => e.kind.name(),
            ClientError::Io { .. } => "io",
            ClientError::Protocol { .. } => "protocol",
            ClientError::Closed { .. } => "closed",
            ClientError::Timeout { .. } => "timeout",
        }
    }

    pub(super) fn permission(path: &Path, daemon: Option<String>) -> ClientError {
        ClientError::PermissionDenied {
            path: path.to_path_buf(),
            access: access(path),
            uid: sys::effective_uid(),
            daemon,
        }
    }

    pub(super) fn protocol(path: &Path, message: impl Into<String>) -> ClientError {
        ClientError::Protocol {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    pub(super) fn io<'a>(
        path: &'a Path,
        action: &'static str,
    ) -> impl FnOnce(std::io::Error) -> ClientError + 'a {
        move |source| ClientError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    }
}

/// Who may open the socket file: its owner, group and mode, names where known.
fn access(path: &Path) -> String {
    let Ok(meta) = std::fs::metadata(path) else {
        return "the socket could not be examined".to_string();
    };
    let name = |name: Option<String>, id: u32| match name {
        Some(name) => format!("{name} ({id})"),
        None => id.to_string(),
    };
    format!(
        "owner {}, group {}, mode {:04o}",
        name(sys::user_name(meta.uid()), meta.uid()),
        name(sys::group_name(meta.gid()), meta.gid()),
        meta.permissions().mode() & 0o7777
    )
}
