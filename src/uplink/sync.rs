//! Draining the queue: `drain` sends queued bundles oldest first until the queue is empty
//! or the host does not acknowledge one; `Syncer` runs `drain` on its own thread, every
//! `interval` or when woken (`wake`, after each snapshot), backing off exponentially while
//! the host is unreachable; `Uplink` is what the daemon holds: the queue, the client and
//! the thread, built from the profile's `[uplink]`.

use super::bundle::Bundle;
use super::client::{Client, Outcome};
use super::queue::{Queue, QueueError, QueueStatus};
use crate::config::{TokenSource, UplinkConfig};
use crate::shutdown::Shutdown;
use crossbeam_channel::{select, Receiver, Sender};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One request's limit: a bundle of a few MiB on a slow link fits well within it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// What one `drain` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Drain {
    /// Acknowledged as newly stored.
    pub sent: u64,
    /// Acknowledged as already stored (a retry after a lost acknowledgement).
    pub duplicates: u64,
    /// Refused for good and moved aside.
    pub rejected: u64,
    /// Why the pass stopped before the queue was empty.
    pub stopped: Option<String>,
}

/// Sends queued bundles of `device` oldest first; stops at the first one not acknowledged.
pub fn drain(queue: &Queue, client: &Client, device: &str) -> Result<Drain, QueueError> {
    let mut done = Drain::default();
    while let Some(pending) = queue.oldest()? {
        match client.send(device, &pending) {
            Outcome::Acknowledged { stored } => {
                queue.acknowledge(&pending)?;
                if stored {
                    done.sent += 1;
                } else {
                    done.duplicates += 1;
                }
            }
            Outcome::Refused { status, message } => {
                crate::daemon::log(&format!(
                    "uplink: host refused bundle {} ({status}): {message}",
                    pending.hash
                ));
                queue.reject(&pending)?;
                done.rejected += 1;
            }
            Outcome::Retry { why } => {
                done.stopped = Some(why);
                break;
            }
        }
    }
    Ok(done)
}

/// How the sync thread paces itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pacing {
    /// Between passes when the last one emptied the queue.
    pub interval: Duration,
    /// The first backoff after a failed pass; doubled after each further failure...
    pub backoff_min: Duration,
    /// ... up to this.
    pub backoff_max: Duration,
}

impl Pacing {
    pub fn new(interval: Duration) -> Pacing {
        Pacing {
            interval,
            backoff_min: Duration::from_secs(1),
            backoff_max: interval
                .max(Duration::from_secs(1))
                .min(Duration::from_secs(300)),
        }
    }

    /// The wait after a pass: `interval` after success, else the next backoff.
    fn next(&self, failed: bool, backoff: &mut Duration) -> Duration {
        if !failed {
            *backoff = self.backoff_min;
            return self.interval;
        }
        let wait = *backoff;
        *backoff = (*backoff * 2).min(self.backoff_max);
        wait
    }
}

/// The sync thread (see the module docs); stops when `shutdown` triggers.
pub struct Syncer {
    wake: Sender<()>,
    last: Arc<Mutex<Option<Drain>>>,
    thread: Option<JoinHandle<()>>,
}

impl Syncer {
    pub fn spawn(
        queue: Queue,
        client: Client,
        device: String,
        pacing: Pacing,
        shutdown: Shutdown,
    ) -> std::io::Result<Syncer> {
        let (wake, woken) = crossbeam_channel::bounded(1);
        let last = Arc::new(Mutex::new(None));
        let shared = last.clone();
        let thread = std::thread::Builder::new()
            .name("uplink".into())
            .spawn(move || run(&queue, &client, &device, pacing, &woken, &shutdown, &shared))?;
        Ok(Syncer {
            wake,
            last,
            thread: Some(thread),
        })
    }

    /// Asks for a pass now (a full wake channel already holds one).
    pub fn wake(&self) {
        let _ = self.wake.try_send(());
    }

    /// The last pass's outcome.
    pub fn last(&self) -> Option<Drain> {
        self.last.lock().map_or(None, |d| d.clone())
    }

    /// Waits for the thread (after the shutdown was triggered).
    pub fn join(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(
    queue: &Queue,
    client: &Client,
    device: &str,
    pacing: Pacing,
    woken: &Receiver<()>,
    shutdown: &Shutdown,
    last: &Mutex<Option<Drain>>,
) {
    let mut backoff = pacing.backoff_min;
    while !shutdown.is_triggered() {
        let failed = match drain(queue, client, device) {
            Ok(d) => {
                let failed = d.stopped.is_some();
                if let Ok(mut slot) = last.lock() {
                    *slot = Some(d);
                }
                failed
            }
            Err(e) => {
                crate::daemon::log(&format!("uplink: {e}"));
                true
            }
        };
        let wait = pacing.next(failed, &mut backoff);
        select! {
            recv(woken) -> _ => {}
            recv(shutdown.signal()) -> _ => break,
            default(wait) => {}
        }
    }
}

/// Why the uplink could not start.
#[derive(Debug, thiserror::Error)]
pub enum UplinkError {
    #[error("uplink: read the token file {}: {error}", path.display())]
    Token {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    #[error("uplink: read the CA file {}: {error}", path.display())]
    CaFile {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    #[error("uplink: the CA file {}", path.display())]
    Ca {
        path: std::path::PathBuf,
        #[source]
        source: super::client::CaError,
    },
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("uplink: start the sync thread: {0}")]
    Spawn(std::io::Error),
}

/// The token `[uplink]` names.
pub fn read_token(config: &UplinkConfig) -> Result<String, UplinkError> {
    match config.token() {
        TokenSource::Inline(t) => Ok(t.clone()),
        TokenSource::File(path) => std::fs::read_to_string(path)
            .map(|t| t.trim().to_string())
            .map_err(|error| UplinkError::Token {
                path: path.clone(),
                error,
            }),
    }
}

/// The client of the host `[uplink]` names: its token, and its `ca_file` when given.
pub fn client_for(config: &UplinkConfig, timeout: Duration) -> Result<Client, UplinkError> {
    let token = read_token(config)?;
    let Some(path) = config.ca_file() else {
        return Ok(Client::new(config.url(), &token, timeout));
    };
    let pem = std::fs::read(path).map_err(|error| UplinkError::CaFile {
        path: path.to_path_buf(),
        error,
    })?;
    Client::with_ca(config.url(), &token, timeout, &pem).map_err(|source| UplinkError::Ca {
        path: path.to_path_buf(),
        source,
    })
}

/// The daemon's uplink: the queue in its state directory and the sync thread.
pub struct Uplink {
    queue: Queue,
    device_id: String,
    syncer: Syncer,
}

impl Uplink {
    /// Opens the queue of `state_dir` and starts the sync thread.
    pub fn start(
        config: &UplinkConfig,
        state_dir: &Path,
        shutdown: Shutdown,
    ) -> Result<Uplink, UplinkError> {
        let queue = Queue::open(state_dir, config.queue_bytes())?;
        let client = client_for(config, REQUEST_TIMEOUT)?;
        let pacing = Pacing::new(Duration::from_secs_f64(config.interval_seconds()));
        let device_id = config.device_id().to_string();
        let syncer = Syncer::spawn(queue.clone(), client, device_id.clone(), pacing, shutdown)
            .map_err(UplinkError::Spawn)?;
        Ok(Uplink {
            queue,
            device_id,
            syncer,
        })
    }

    /// Queues the snapshot just written at `path` as a bundle and wakes the sync thread.
    pub fn snapshot_written(&self, seq: u64, path: &Path) -> Result<(), QueueError> {
        let bytes = std::fs::read(path).map_err(|error| QueueError::Io {
            path: path.to_path_buf(),
            action: "read snapshot",
            error,
        })?;
        // The store read it back right after writing it; a failure here is a race with
        // pruning and the next snapshot will carry the same state.
        let Ok((_, snapshot)) = crate::store::decode(&bytes) else {
            return Ok(());
        };
        let bundle = Bundle {
            device_id: self.device_id.clone(),
            snapshot_seq: seq,
            created_at_ms: unix_ms(),
            snapshot,
        };
        self.queue.push(&bundle.encode(), seq)?;
        self.syncer.wake();
        Ok(())
    }

    pub fn status(&self) -> Result<QueueStatus, QueueError> {
        self.queue.status()
    }

    /// Waits for the sync thread (after the shutdown was triggered).
    pub fn join(self) {
        self.syncer.join();
    }
}

/// Unix milliseconds now (bundle creation times).
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_cap_and_resets_on_success() {
        let p = Pacing {
            interval: Duration::from_secs(60),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(5),
        };
        let mut b = p.backoff_min;
        let waits: Vec<u64> = [true, true, true, true, false, true]
            .iter()
            .map(|&f| p.next(f, &mut b).as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 5, 60, 1]);
    }
}
