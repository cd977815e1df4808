//! The accept thread: waits on the listener and the wake pipe, admits each peer the allow
//! list names while fewer than `max_clients` are connected, and gives it a session thread.
//! A refused peer gets one error frame (`permission_denied` or `busy`) in place of the
//! greeting and is closed; the write cannot block, as a fresh socket's buffer is empty.

use super::listener::BoundSocket;
use super::{session, Counters, Shared};
use crate::control::api::{ControlError, ErrorKind};
use crate::control::protocol::{encode, ResponseFrame};
use crate::control::sys::{self, Ready};
use std::io::{ErrorKind as IoKind, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Session threads need little stack: a frame buffer and a JSON value or two.
const SESSION_STACK: usize = 256 * 1024;
/// After `accept` fails for want of a resource (descriptors, memory), wait this long
/// before trying again rather than spinning on a listener that stays readable.
const RESOURCE_BACKOFF: Duration = Duration::from_millis(50);

/// Runs until the wake pipe is raised; then closes the listener (removing its file) and
/// waits for every session thread.
pub(super) fn run(socket: BoundSocket, shared: &Arc<Shared>) {
    let mut sessions: Vec<JoinHandle<()>> = Vec::new();
    let fd = socket.listener.as_raw_fd();
    loop {
        match sys::wait_readable(fd, shared.wake.fd(), None) {
            Ok(Ready::Readable) => accept_ready(&socket, shared, &mut sessions),
            Ok(Ready::TimedOut) => {}
            // A failed poll cannot be waited out: stop as if asked to.
            Ok(Ready::Woken) | Err(_) => break,
        }
        sessions.retain(|s| !s.is_finished());
    }
    drop(socket);
    for s in sessions {
        let _ = s.join();
    }
}

/// Accepts every connection waiting now.
fn accept_ready(socket: &BoundSocket, shared: &Arc<Shared>, sessions: &mut Vec<JoinHandle<()>>) {
    loop {
        match socket.listener.accept() {
            Ok((stream, _)) => {
                if let Some(s) = admit(stream, shared) {
                    sessions.push(s);
                }
            }
            Err(e) if e.kind() == IoKind::WouldBlock => return,
            Err(e) if e.kind() == IoKind::Interrupted => continue,
            // The peer gave up before we took it (ECONNABORTED): take the next.
            Err(e) if e.kind() == IoKind::ConnectionAborted => continue,
            Err(_) => {
                shared.shutdown.wait_timeout(RESOURCE_BACKOFF);
                return;
            }
        }
    }
}

/// Checks the peer and the client limit; starts its session.
fn admit(stream: UnixStream, shared: &Arc<Shared>) -> Option<JoinHandle<()>> {
    let allowed = match sys::peer(&stream) {
        Ok(peer) if shared.config.allow_uids.contains(&peer.uid) => Ok(()),
        Ok(peer) => Err(format!(
            "uid {} is not allowed to use this mmcl daemon ([control] allow_uids)",
            peer.uid
        )),
        Err(e) => Err(format!("the peer's credentials could not be read: {e}")),
    };
    if let Err(message) = allowed {
        Counters::add(&shared.counters.refused_peers);
        refuse(&stream, ErrorKind::PermissionDenied, message);
        return None;
    }
    let Some(slot) = Slot::take(shared) else {
        Counters::add(&shared.counters.refused_busy);
        let max = shared.config.max_clients;
        let message =
            format!("the daemon is serving its limit of {max} control clients; try again");
        refuse(&stream, ErrorKind::Busy, message);
        return None;
    };
    let body = {
        let shared = Arc::clone(shared);
        move || {
            let _slot = slot;
            session::run(stream, &shared);
        }
    };
    let spawned = std::thread::Builder::new()
        .name("control-client".to_string())
        .stack_size(SESSION_STACK)
        .spawn(body);
    // On failure the closure, its stream and its slot are dropped: the peer sees a close.
    spawned
        .ok()
        .inspect(|_| Counters::add(&shared.counters.accepted))
}

/// One error frame, written without blocking (best effort), then the stream is closed.
fn refuse(stream: &UnixStream, kind: ErrorKind, message: String) {
    let frame = encode(&ResponseFrame::error(
        None,
        ControlError::new(kind, message),
    ));
    if stream.set_nonblocking(true).is_ok() {
        let _ = (&*stream).write_all(&frame);
    }
}

/// A client slot; dropping it frees the slot (also when a session panics).
struct Slot(Arc<Shared>);

impl Slot {
    fn take(shared: &Arc<Shared>) -> Option<Slot> {
        let max = shared.config.max_clients;
        let took = shared
            .clients
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            });
        took.ok().map(|_| Slot(Arc::clone(shared)))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.clients.fetch_sub(1, Ordering::AcqRel);
    }
}
