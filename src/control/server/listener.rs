//! The listening socket: `ListenerConfig` (where, which mode and owner, whom to serve, the
//! per-client limits) and `bind`, which replaces a stale socket file left by a crashed
//! daemon but refuses one with a live daemon behind it, and never replaces anything that
//! is not a socket. `BoundSocket` removes its file on drop only while the file is still
//! the one it bound, so a newer daemon's socket is never removed by an older one.

use super::ServeError;
use crate::config::ControlConfig;
use crate::control::sys;
use std::io::ErrorKind;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Group-readable and -writable: connecting needs write permission on the file.
pub const DEFAULT_MODE: u32 = 0o660;
/// Each client is a thread; past this many the next one is told so and closed.
pub const DEFAULT_MAX_CLIENTS: usize = 64;
/// A client that does not take a reply within this long is dropped (it never blocks the
/// daemon: only its own thread waits).
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// A connection with no request for this long is closed, freeing its client slot.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How the control server listens and whom it serves.
#[derive(Debug, Clone, PartialEq)]
pub struct ListenerConfig {
    pub path: PathBuf,
    pub mode: u32,
    /// uid and gid to `chown` the socket file to; `None` keeps the daemon's.
    pub owner: Option<u32>,
    pub group: Option<u32>,
    /// Peers served, by the uid the kernel reports for them (`SO_PEERCRED`).
    pub allow_uids: Vec<u32>,
    pub max_clients: usize,
    pub write_timeout: Duration,
    pub idle_timeout: Duration,
}

impl ListenerConfig {
    /// A socket at `path` with the defaults: mode 0660, owned by the daemon, serving the
    /// daemon's own uid and root.
    pub fn new(path: impl Into<PathBuf>) -> ListenerConfig {
        ListenerConfig {
            path: path.into(),
            mode: DEFAULT_MODE,
            owner: None,
            group: None,
            allow_uids: default_allow_uids(),
            max_clients: DEFAULT_MAX_CLIENTS,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
        }
    }

    /// The profile's `[control]`, with owner and group names looked up on this machine.
    pub fn from_config(control: &ControlConfig) -> Result<ListenerConfig, ServeError> {
        let mut config = ListenerConfig::new(control.socket());
        config.owner = control.owner().map(resolve_user).transpose()?;
        config.group = control.group().map(resolve_group).transpose()?;
        if let Some(uids) = control.allow_uids() {
            config.allow_uids = uids.to_vec();
        }
        Ok(config)
    }
}

/// The daemon's own uid, and root (which can read the socket anyway).
fn default_allow_uids() -> Vec<u32> {
    let own = sys::effective_uid();
    if own == 0 {
        vec![0]
    } else {
        vec![own, 0]
    }
}

fn resolve_user(name: &str) -> Result<u32, ServeError> {
    resolve(name, sys::user_id).ok_or_else(|| ServeError::UnknownUser {
        name: name.to_string(),
    })
}

fn resolve_group(name: &str) -> Result<u32, ServeError> {
    resolve(name, sys::group_id).ok_or_else(|| ServeError::UnknownGroup {
        name: name.to_string(),
    })
}

/// A numeric id as given, else the name looked up.
fn resolve(name: &str, lookup: fn(&str) -> std::io::Result<Option<u32>>) -> Option<u32> {
    match name.parse::<u32>() {
        Ok(id) => Some(id),
        Err(_) => lookup(name).ok().flatten(),
    }
}

/// A bound listener and the identity of the file it made.
#[derive(Debug)]
pub(super) struct BoundSocket {
    pub listener: UnixListener,
    pub path: PathBuf,
    /// (device, inode) of the socket file, to tell it from a successor's.
    file: (u64, u64),
}

/// Binds `config.path` with the configured mode and owner.
pub(super) fn bind(config: &ListenerConfig) -> Result<BoundSocket, ServeError> {
    let path = &config.path;
    clear_stale(path)?;
    let listener = UnixListener::bind(path).map_err(io_error(path, "bind"))?;
    let mut bound = BoundSocket {
        listener,
        path: path.clone(),
        file: (0, 0),
    };
    // From here `bound` removes the file if a later step fails.
    let meta = std::fs::symlink_metadata(path).map_err(io_error(path, "stat"))?;
    bound.file = (meta.dev(), meta.ino());
    let mode = std::fs::Permissions::from_mode(config.mode);
    std::fs::set_permissions(path, mode).map_err(io_error(path, "chmod"))?;
    if config.owner.is_some() || config.group.is_some() {
        std::os::unix::fs::chown(path, config.owner, config.group)
            .map_err(io_error(path, "chown"))?;
    }
    bound
        .listener
        .set_nonblocking(true)
        .map_err(io_error(path, "configure"))?;
    Ok(bound)
}

/// Removes a socket file no daemon answers on; refuses a live one or a non-socket.
fn clear_stale(path: &Path) -> Result<(), ServeError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error(path, "stat")(e)),
    };
    if !meta.file_type().is_socket() {
        return Err(ServeError::NotASocket {
            path: path.to_path_buf(),
        });
    }
    match UnixStream::connect(path) {
        Ok(_) => Err(ServeError::AlreadyRunning {
            path: path.to_path_buf(),
        }),
        // Nobody listens: a crashed daemon's file.
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
            std::fs::remove_file(path).map_err(io_error(path, "remove stale"))
        }
        Err(e) => Err(io_error(path, "probe")(e)),
    }
}

fn io_error<'a>(
    path: &'a Path,
    action: &'static str,
) -> impl FnOnce(std::io::Error) -> ServeError + 'a {
    move |source| ServeError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

impl BoundSocket {
    /// True while `path` is still the file this socket made.
    fn owns_file(&self) -> bool {
        std::fs::symlink_metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == self.file)
    }
}

impl Drop for BoundSocket {
    fn drop(&mut self) {
        if self.owns_file() {
            // Best effort: a file left behind is cleared as stale by the next daemon.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
