//! The systemd notification protocol (`sd_notify(3)`): one datagram of `KEY=VALUE` lines to
//! the socket in `$NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace). Written
//! here in a few lines on `std` rather than through a crate: it is the whole protocol.
//! Without `$NOTIFY_SOCKET` (not started by systemd) every call does nothing.
//!
//! The daemon sends `READY=1` once the pipeline delivers samples, `STATUS=...` lines,
//! `WATCHDOG=1` only when the pipeline made progress since the last ping (a stuck pipeline
//! stops the pings and systemd restarts the service), and `STOPPING=1` on shutdown.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// Where notifications go, if anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notifier {
    socket: Option<String>,
    /// `$WATCHDOG_USEC`, when systemd expects pings from this process.
    watchdog: Option<Duration>,
}

impl Notifier {
    /// From the environment systemd set for this process.
    pub fn from_env() -> Notifier {
        let socket = std::env::var("NOTIFY_SOCKET")
            .ok()
            .filter(|s| !s.is_empty());
        let pid_ok = std::env::var("WATCHDOG_PID")
            .ok()
            .is_none_or(|p| p.parse::<u32>().ok() == Some(std::process::id()));
        let watchdog = std::env::var("WATCHDOG_USEC")
            .ok()
            .and_then(|u| u.parse::<u64>().ok())
            .filter(|u| *u > 0 && pid_ok)
            .map(Duration::from_micros);
        Notifier { socket, watchdog }
    }

    /// A notifier that sends nothing.
    pub fn none() -> Notifier {
        Notifier {
            socket: None,
            watchdog: None,
        }
    }

    /// How often systemd expects `WATCHDOG=1` at the latest.
    pub fn watchdog(&self) -> Option<Duration> {
        self.watchdog
    }

    pub fn ready(&self) {
        self.send("READY=1");
    }

    pub fn status(&self, line: &str) {
        // One line: a newline would start another assignment.
        self.send(&format!("STATUS={}", line.replace('\n', " ")));
    }

    pub fn watchdog_ping(&self) {
        self.send("WATCHDOG=1");
    }

    pub fn stopping(&self) {
        self.send("STOPPING=1");
    }

    /// Best effort: a notification that cannot be sent is not worth stopping for.
    fn send(&self, message: &str) {
        let Some(socket) = &self.socket else { return };
        let Ok(sock) = UnixDatagram::unbound() else {
            return;
        };
        let _ = match socket.strip_prefix('@') {
            Some(name) => send_abstract(&sock, name, message),
            None => sock.send_to(message.as_bytes(), socket).map(|_| ()),
        };
    }
}

fn send_abstract(sock: &UnixDatagram, name: &str, message: &str) -> std::io::Result<()> {
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
    sock.send_to_addr(message.as_bytes(), &addr).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_reach_the_notify_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let listener = UnixDatagram::bind(&path).unwrap();
        let n = Notifier {
            socket: Some(path.display().to_string()),
            watchdog: None,
        };
        n.ready();
        n.status("running:\n3 classes");
        let mut buf = [0u8; 128];
        let len = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"READY=1");
        let len = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"STATUS=running: 3 classes");
        Notifier::none().ready();
    }
}
