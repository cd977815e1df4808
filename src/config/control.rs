//! `[control]`: where the daemon listens for the CLI (`mmcl status`, `enroll`, ...), who
//! owns the socket file, and which peers may talk to it. The file's mode and owner decide
//! who can connect at all; the allow list (checked on every connection with `SO_PEERCRED`)
//! decides who is served, so a socket in a shared group still serves only listed users.

use super::check::{path_text, Checker};
use super::raw::RawControl;
use crate::control::sys;
use std::path::{Path, PathBuf};

/// File name of the socket inside `state_dir` when `control.socket` is not set.
pub const DEFAULT_SOCKET_NAME: &str = "control.sock";
/// `sun_path` holds 108 bytes including the terminating NUL on Linux.
pub const MAX_SOCKET_PATH_BYTES: usize = 107;
/// `(uid_t)-1` means "no change" to chown and is no one's id.
const MAX_ID: i64 = u32::MAX as i64 - 1;

/// The validated `[control]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlConfig {
    socket: PathBuf,
    /// The socket file's owner (a user name or a numeric uid); unset: the daemon's user.
    owner: Option<String>,
    /// The socket file's group; members of it can connect (mode 0660) when allowed below.
    group: Option<String>,
    /// The uids served; unset: the daemon's own uid and root, which only the running
    /// daemon knows, so the effective profile leaves it unset too.
    allow_uids: Option<Vec<u32>>,
}

impl ControlConfig {
    /// The Unix socket path, resolved; at most 107 bytes so `bind` can take it.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    pub fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    pub fn group(&self) -> Option<&str> {
        self.group.as_deref()
    }

    pub fn allow_uids(&self) -> Option<&[u32]> {
        self.allow_uids.as_deref()
    }

    /// `state_dir` is the resolved state directory, if it was valid: the default
    /// socket lives there so a device needs no extra writable directory.
    pub(crate) fn from_raw(
        raw: &RawControl,
        state_dir: Option<&Path>,
        c: &mut Checker,
    ) -> Option<ControlConfig> {
        let socket = socket_path(raw, state_dir, c);
        let owner = account(c, "control.owner", raw.owner.as_deref(), sys::user_id);
        let group = account(c, "control.group", raw.group.as_deref(), sys::group_id);
        let allow_uids = match &raw.allow_uids {
            Some(list) => Some(Some(uid_list(c, list)?)),
            None => Some(None),
        };
        Some(ControlConfig {
            socket: socket?,
            owner: owner?,
            group: group?,
            allow_uids: allow_uids?,
        })
    }

    pub(crate) fn to_raw(&self) -> RawControl {
        RawControl {
            socket: Some(self.socket.clone()),
            owner: self.owner.clone(),
            group: self.group.clone(),
            allow_uids: self
                .allow_uids
                .as_ref()
                .map(|uids| uids.iter().map(|&u| i64::from(u)).collect()),
        }
    }
}

fn socket_path(raw: &RawControl, state_dir: Option<&Path>, c: &mut Checker) -> Option<PathBuf> {
    let socket = match &raw.socket {
        Some(p) => c.nonempty_path("control.socket", p)?,
        None => state_dir?.join(DEFAULT_SOCKET_NAME),
    };
    let len = socket.as_os_str().len();
    if len <= MAX_SOCKET_PATH_BYTES {
        return Some(socket);
    }
    let written = raw.socket.as_deref().map_or_else(
        || "(default: state_dir/control.sock)".to_string(),
        path_text,
    );
    let rule = format!(
        "resolves to {} ({len} bytes); a Unix socket path must be at most {MAX_SOCKET_PATH_BYTES} bytes",
        socket.display()
    );
    c.error("control.socket", written, rule)
}

/// An owner or group: a portable name (what `useradd` takes) or a numeric id. A name this
/// machine does not know is a warning, not an error: the profile may be checked on
/// another machine than the device it is for (the daemon refuses to start without it).
/// `Some(None)`: not set; `None`: refused.
fn account(
    c: &mut Checker,
    key: &str,
    name: Option<&str>,
    lookup: fn(&str) -> std::io::Result<Option<u32>>,
) -> Option<Option<String>> {
    let Some(name) = name else {
        return Some(None);
    };
    if let Ok(id) = name.parse::<i64>() {
        c.int_in::<u32>(key, id, 0, MAX_ID)?;
        return Some(Some(name.to_string()));
    }
    let portable = name
        .chars()
        .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '.' | '-'));
    if !(1..=32).contains(&name.len()) || !portable || name.starts_with('-') {
        let rule = "must be a numeric id or 1 to 32 of A-Za-z0-9 _ . - not starting with -";
        return c.error(key, format!("{name:?}"), rule);
    }
    if matches!(lookup(name), Ok(None)) {
        let note = "not known on this machine; the daemon cannot start where it is missing";
        c.warn(key, format!("{name:?}"), note);
    }
    Some(Some(name.to_string()))
}

/// The uids served: each a valid uid, at least one (an empty list would refuse everyone).
fn uid_list(c: &mut Checker, list: &[i64]) -> Option<Vec<u32>> {
    if list.is_empty() {
        return c.error(
            "control.allow_uids",
            "[]",
            "must list at least one uid (unset: the daemon's uid and root)",
        );
    }
    let uids: Vec<Option<u32>> = list
        .iter()
        .map(|&uid| c.int_in::<u32>("control.allow_uids", uid, 0, MAX_ID))
        .collect();
    uids.into_iter().collect()
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
            ..RawControl::default()
        };
        assert!(ControlConfig::from_raw(&raw, None, &mut c).is_none());
        assert!(
            c.errors[0].message.contains("(130 bytes)"),
            "{}",
            c.errors[0]
        );
    }

    fn checked(raw: RawControl) -> (Option<ControlConfig>, Checker) {
        let mut c = Checker::new(Path::new("/etc/mmcl"));
        let control = ControlConfig::from_raw(&raw, Some(Path::new("/run/mmcl")), &mut c);
        (control, c)
    }

    #[test]
    fn owner_group_and_allow_list_are_kept_as_written() {
        let raw = RawControl {
            owner: Some("root".into()),
            group: Some("1000".into()),
            allow_uids: Some(vec![0, 1000]),
            ..RawControl::default()
        };
        let (control, c) = checked(raw.clone());
        let control = control.unwrap();
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(control.owner(), Some("root"));
        assert_eq!(control.group(), Some("1000"));
        assert_eq!(control.allow_uids(), Some(&[0, 1000][..]));
        let back = control.to_raw();
        assert_eq!(
            (back.owner, back.group, back.allow_uids),
            (raw.owner, raw.group, raw.allow_uids)
        );
    }

    #[test]
    fn bad_accounts_and_uids_are_each_refused() {
        let raw = RawControl {
            owner: Some("-rf".into()),
            group: Some("4294967295".into()),
            allow_uids: Some(vec![1000, -1]),
            ..RawControl::default()
        };
        let (control, c) = checked(raw);
        assert!(control.is_none());
        let keys: Vec<&str> = c.errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            ["control.owner", "control.group", "control.allow_uids"]
        );
        let (_, c) = checked(RawControl {
            allow_uids: Some(Vec::new()),
            ..RawControl::default()
        });
        assert!(
            c.errors[0].message.contains("at least one uid"),
            "{}",
            c.errors[0]
        );
    }

    #[test]
    fn an_unknown_name_is_a_warning() {
        let (control, c) = checked(RawControl {
            group: Some("no-such-group-mmcl".into()),
            ..RawControl::default()
        });
        assert_eq!(control.unwrap().group(), Some("no-such-group-mmcl"));
        assert_eq!(c.warnings[0].key, "control.group");
    }
}
