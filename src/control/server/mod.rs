//! The control server: a Unix socket the daemon serves its `ControlTarget` on. `serve`
//! binds the socket (`listener`), then one accept thread admits peers (`accept`: the
//! `SO_PEERCRED` allow list, the client limit) and gives each its own thread (`session`:
//! bounded frames, write timeouts, one handler per request in `handlers`, subscriptions
//! in `subscription`). Nothing a client does reaches the daemon's pipeline: a client's
//! stalls cost its own thread, and subscriptions read a channel the daemon never waits on.
//!
//! Stopping: the `Shutdown` the daemon passes in wakes a pipe every thread here polls, so
//! the listener closes, its file is removed and idle clients are dropped within a few
//! milliseconds; a handler in a target call (an `enroll_stop` learning) finishes that call
//! and sends its reply first. `ServerHandle::join` waits for all of them.

mod accept;
mod handlers;
mod listener;
mod session;
mod subscription;

pub use listener::{
    ListenerConfig, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CLIENTS, DEFAULT_MODE, DEFAULT_WRITE_TIMEOUT,
};

use super::api::ControlTarget;
use super::sys::Wake;
use crate::shutdown::Shutdown;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("an mmcl daemon is already listening on {}", path.display())]
    AlreadyRunning { path: PathBuf },
    #[error("{} exists and is not a socket; refusing to replace it", path.display())]
    NotASocket { path: PathBuf },
    #[error("[control] owner {name:?}: no such user on this machine")]
    UnknownUser { name: String },
    #[error("[control] group {name:?}: no such group on this machine")]
    UnknownGroup { name: String },
    #[error("{action} control socket {}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("start the control server's {what}")]
    Start {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// What the server has done so far; for the daemon's status and for tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ServerCounters {
    /// Connections served (greeted and given a thread).
    pub accepted: u64,
    /// Connections refused: a peer not in the allow list.
    pub refused_peers: u64,
    /// Connections refused: the client limit was reached.
    pub refused_busy: u64,
    /// Request lines read, answered or not.
    pub requests: u64,
    /// Lines refused as `bad_request` or `invalid` (malformed, too long, unknown, ...).
    pub bad_requests: u64,
    /// Clients dropped because they did not take a reply within the write timeout.
    pub write_timeouts: u64,
}

#[derive(Debug, Default)]
struct Counters {
    accepted: AtomicU64,
    refused_peers: AtomicU64,
    refused_busy: AtomicU64,
    requests: AtomicU64,
    bad_requests: AtomicU64,
    write_timeouts: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> ServerCounters {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ServerCounters {
            accepted: get(&self.accepted),
            refused_peers: get(&self.refused_peers),
            refused_busy: get(&self.refused_busy),
            requests: get(&self.requests),
            bad_requests: get(&self.bad_requests),
            write_timeouts: get(&self.write_timeouts),
        }
    }
}

/// What every server thread shares.
struct Shared {
    config: ListenerConfig,
    target: Arc<dyn ControlTarget>,
    shutdown: Shutdown,
    wake: Wake,
    /// Client threads running now.
    clients: AtomicUsize,
    counters: Counters,
}

/// The running server. Stop it with the `Shutdown` given to `serve`, then `join`.
pub struct ServerHandle {
    path: PathBuf,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
    waker: JoinHandle<()>,
}

/// Binds `config.path` and serves `target` on it until `shutdown` is triggered.
pub fn serve(
    config: ListenerConfig,
    target: Arc<dyn ControlTarget>,
    shutdown: Shutdown,
) -> Result<ServerHandle, ServeError> {
    let socket = listener::bind(&config)?;
    let wake = Wake::new().map_err(|source| ServeError::Start {
        what: "wake pipe",
        source,
    })?;
    let shared = Arc::new(Shared {
        config,
        target,
        shutdown,
        wake,
        clients: AtomicUsize::new(0),
        counters: Counters::default(),
    });
    // The waker turns the shutdown channel into the pipe every thread polls; it also
    // ends when the accept thread does (its `done` sender is dropped).
    let (done, accept_ended) = crossbeam_channel::bounded::<()>(0);
    let waker = spawn("control-wake", "wake thread", {
        let shared = Arc::clone(&shared);
        move || {
            crossbeam_channel::select! {
                recv(shared.shutdown.signal()) -> _ => {},
                recv(accept_ended) -> _ => {},
            }
            shared.wake.raise();
        }
    })?;
    let path = socket.path.clone();
    let accept = spawn("control-accept", "accept thread", {
        let shared = Arc::clone(&shared);
        move || {
            let _done = done;
            accept::run(socket, &shared);
        }
    })?;
    Ok(ServerHandle {
        path,
        shared,
        accept,
        waker,
    })
}

fn spawn(
    name: &str,
    what: &'static str,
    body: impl FnOnce() + Send + 'static,
) -> Result<JoinHandle<()>, ServeError> {
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(body)
        .map_err(|source| ServeError::Start { what, source })
}

impl ServerHandle {
    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn counters(&self) -> ServerCounters {
        self.shared.counters.snapshot()
    }

    /// Clients connected now.
    pub fn clients(&self) -> usize {
        self.shared.clients.load(Ordering::Relaxed)
    }

    /// Waits until the server has stopped (after the `Shutdown` was triggered): the socket
    /// file is removed and every client thread has ended. Returns the final counters.
    pub fn join(self) -> ServerCounters {
        // A panicked server thread has nothing to hand back; its clients are gone too.
        let _ = self.accept.join();
        let _ = self.waker.join();
        self.shared.counters.snapshot()
    }
}
