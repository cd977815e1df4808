//! `[control]`: where the daemon listens for the CLI (`mmcl status`, `enroll`, ...).

use super::check::{path_text, Checker};
use super::raw::RawControl;
use std::path::{Path, PathBuf};

/// File name of the socket inside `state_dir` when `control.socket` is not set.
pub const DEFAULT_SOCKET_NAME: &str = "control.sock";
/// `sun_path` holds 108 bytes including the terminating NUL on Linux.
pub const MAX_SOCKET_PATH_BYTES: usize = 107;

/// The validated `[control]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlConfig {
    socket: PathBuf,
}

impl ControlConfig {
    /// The Unix socket path, resolved; at most 107 bytes so `bind` can take it.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// `state_dir` is the resolved state directory, if it was valid: the default
    /// socket lives there so a device needs no extra writable directory.
    pub(crate) fn from_raw(
        raw: &RawControl,
        state_dir: Option<&Path>,
        c: &mut Checker,
    ) -> Option<ControlConfig> {
        let socket = match &raw.socket {
            Some(p) => c.nonempty_path("control.socket", p)?,
            None => state_dir?.join(DEFAULT_SOCKET_NAME),
        };
        let len = socket.as_os_str().len();
        if len > MAX_SOCKET_PATH_BYTES {
            let written = raw.socket.as_deref().map_or_else(
                || "(default: state_dir/control.sock)".to_string(),
                path_text,
            );
            let rule = format!(
                "resolves to {} ({len} bytes); a Unix socket path must be at most {MAX_SOCKET_PATH_BYTES} bytes",
                socket.display()
            );
            return c.error("control.socket", written, rule);
        }
        Some(ControlConfig { socket })
    }

    pub(crate) fn to_raw(&self) -> RawControl {
        RawControl {
            socket: Some(self.socket.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_socket_lives_in_state_dir() {
        let mut c = Checker::new(Path::new("/etc/mmcl"));
        let control = ControlConfig::from_raw(
            &RawControl::default(),
            Some(Path::new("/var/lib/mmcl")),
            &mut c,
        )
        .unwrap();
        assert_eq!(control.socket(), Path::new("/var/lib/mmcl/control.sock"));
    }

    #[test]
    fn overlong_socket_path_is_refused_with_its_length() {
        let mut c = Checker::new(Path::new("/etc/mmcl"));
        let raw = RawControl {
            socket: Some(PathBuf::from("x".repeat(120))),
        };
        assert!(ControlConfig::from_raw(&raw, None, &mut c).is_none());
        assert!(
            c.errors[0].message.contains("(130 bytes)"),
            "{}",
            c.errors[0]
        );
    }
}
