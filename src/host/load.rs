//! The host under load (`mmcl bench host`): the real server (`server::router`, the
//! storage `--db` opens) on a loopback port in this process, and N devices, each on its
//! own thread with the device's own blocking client (`uplink::client::Client`), pushing M
//! distinct bundles one after another. Measures bundles stored per second of wall time
//! and each upload's latency (request sent -> host's answer, the storage commit
//! included), and checks that every bundle was stored exactly once.

use super::auth::{new_token, token_hash};
use super::server::{self, Host, Policy};
use super::storage::{Storage, StorageError};
use crate::classes::{Change, ChangeKind, ClassModel, ClassName, Enrollment};
use crate::embedding::Embedding;
use crate::learn::{self, LearnerConfig, Strategy};
use crate::store::Snapshot;
use crate::time::Timestamp;
use crate::uplink::client::{Client, Outcome};
use crate::uplink::queue::Pending;
use crate::uplink::{content_hash, Bundle};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to load the host with.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    pub devices: usize,
    pub bundles_per_device: usize,
    /// Classes in each bundle's learner (ncm, so the bundle's size is classes x dim).
    pub classes: usize,
    pub dim: usize,
    /// The encoder sha256 the bundles name (the server is told it knows it).
    pub encoder_sha256: String,
}

/// What the run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadReport {
    pub devices: usize,
    pub bundles: usize,
    pub bytes_per_bundle: u64,
    pub seconds: f64,
    pub bundles_per_s: f64,
    pub latency_ms: Latency,
    /// Bundles the host's storage holds afterwards, over every device.
    pub stored: usize,
    /// Uploads not acknowledged as newly stored, with the first reason.
    pub failed: usize,
    pub first_failure: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

/// Why the run could not be made.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("bench host: storage")]
    Storage(#[from] StorageError),
    #[error("bench host: {action}: {error}")]
    Io {
        action: &'static str,
        error: std::io::Error,
    },
    #[error("bench host: build a bundle: {0}")]
    Bundle(String),
}

/// Runs `plan` against the server on `storage`; the server stops before it returns.
pub fn run(plan: &LoadPlan, storage: Arc<dyn Storage>) -> Result<LoadReport, LoadError> {
    let devices = register(plan, storage.as_ref())?;
    let uploads = bundles(plan, &devices)?;
    let bytes_per_bundle = uploads
        .first()
        .and_then(|d| d.2.first())
        .map_or(0, |p| p.bytes.len() as u64);
    let host = Arc::new(Host {
        storage: storage.clone(),
        policy: Policy {
            max_bundle_bytes: server::DEFAULT_MAX_BUNDLE_BYTES,
            known_encoders: BTreeSet::from([plan.encoder_sha256.clone()]),
        },
    });
    let running = Running::start(host)?;
    let t0 = Instant::now();
    let results = push_all(&running.url, uploads);
    let seconds = t0.elapsed().as_secs_f64();
    running.stop();
    let mut stored = 0;
    for (device, _) in &devices {
        stored += storage.history(device)?.len();
    }
    Ok(summarize(
        plan,
        results,
        (seconds, stored, bytes_per_bundle),
    ))
}

/// `bench-<k>` for each device, with a fresh token registered on `storage`.
fn register(plan: &LoadPlan, storage: &dyn Storage) -> Result<Vec<(String, String)>, LoadError> {
    let run = super::unix_ms();
    (0..plan.devices)
        .map(|k| {
            let device = format!("bench-{run}-{k}");
            let token = new_token();
            storage.add_token(&device, &token_hash(&token), run)?;
            Ok((device, token))
        })
        .collect()
}

/// Each device's id, token and bundles, encoded (distinct: each names its own snapshot).
type Uploads = Vec<(String, String, Vec<Pending>)>;

fn bundles(plan: &LoadPlan, devices: &[(String, String)]) -> Result<Uploads, LoadError> {
    let sections = model_sections(plan)?;
    let mut out = Vec::new();
    for (device, token) in devices {
        let pending = (0..plan.bundles_per_device)
            .map(|seq| {
                let bundle = Bundle {
                    device_id: device.clone(),
                    snapshot_seq: seq as u64 + 1,
                    created_at_ms: seq as u64 + 1,
                    snapshot: Snapshot {
                        encoder_sha256: plan.encoder_sha256.clone(),
                        journal_seq: seq as u64,
                        sections: sections.clone(),
                    },
                };
                let bytes = bundle.encode();
                Pending {
                    n: seq as u64,
                    path: Default::default(),
                    hash: content_hash(&bytes),
                    bytes,
                }
            })
            .collect();
        out.push((device.clone(), token.clone(), pending));
    }
    Ok(out)
}

/// The snapshot sections of an ncm learner of `plan.classes` classes of `plan.dim`.
fn model_sections(plan: &LoadPlan) -> Result<crate::store::Sections, LoadError> {
    let config = LearnerConfig::for_strategy(Strategy::Ncm, plan.dim);
    let learner = learn::build(plan.dim, &config).map_err(|e| LoadError::Bundle(e.to_string()))?;
    let model = ClassModel::new(learner);
    for c in 0..plan.classes {
        let v: Vec<f32> = (0..plan.dim)
            .map(|d| ((c * 31 + d) % 17) as f32 / 17.0 + 0.01)
            .collect();
        let embedding =
            Embedding::new(v, plan.dim).map_err(|e| LoadError::Bundle(e.to_string()))?;
        let label = ClassName::new(&format!("activity-{c}"))
            .map_err(|e| LoadError::Bundle(e.to_string()))?;
        let change = Change {
            at_ms: c as u64,
            kind: ChangeKind::Enroll(Enrollment {
                label,
                embeddings: vec![embedding],
                span: (Timestamp(0), Timestamp(1)),
                source: "bench host".into(),
            }),
        };
        model
            .apply(&change)
            .map_err(|e| LoadError::Bundle(e.to_string()))?;
    }
    Ok(model.sections())
}

/// An upload slower than this counts as failed.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// One device's uploads: each one's latency, or why it was not newly stored.
type DeviceResult = Vec<Result<f64, String>>;

/// Every device pushes its bundles on its own thread, all at once.
fn push_all(url: &str, uploads: Uploads) -> Vec<DeviceResult> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = uploads
            .into_iter()
            .map(|(device, token, pending)| {
                let client = Client::new(url, &token, UPLOAD_TIMEOUT);
                scope.spawn(move || push_device(&client, &device, &pending))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec![Err("device thread panicked".into())])
            })
            .collect()
    })
}

fn push_device(client: &Client, device: &str, pending: &[Pending]) -> DeviceResult {
    pending
        .iter()
        .map(|p| {
            let t = Instant::now();
            match client.send(device, p) {
                Outcome::Acknowledged { stored: true } => Ok(t.elapsed().as_secs_f64() * 1e3),
                other => Err(format!("{other:?}")),
            }
        })
        .collect()
}

fn summarize(
    plan: &LoadPlan,
    results: Vec<DeviceResult>,
    (seconds, stored, bytes_per_bundle): (f64, usize, u64),
) -> LoadReport {
    let mut latencies: Vec<f64> = Vec::new();
    let (mut failed, mut first_failure) = (0, None);
    for r in results.into_iter().flatten() {
        match r {
            Ok(ms) => latencies.push(ms),
            Err(why) => {
                failed += 1;
                first_failure.get_or_insert(why);
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    let bundles = plan.devices * plan.bundles_per_device;
    LoadReport {
        devices: plan.devices,
        bundles,
        bytes_per_bundle,
        seconds,
        bundles_per_s: latencies.len() as f64 / seconds.max(1e-9),
        latency_ms: Latency {
            p50: percentile(&latencies, 0.50),
            p99: percentile(&latencies, 0.99),
            max: latencies.last().copied().unwrap_or(0.0),
        },
        stored,
        failed,
        first_failure,
    }
}

/// The `q` quantile of sorted values (nearest rank); 0 for none.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return 0.0;
    };
    let rank = (last as f64 * q).round() as usize;
    sorted.get(rank.min(last)).copied().unwrap_or(0.0)
}

/// The server on a loopback port, on a tokio runtime of its own thread.
struct Running {
    url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<std::io::Result<()>>,
}

impl Running {
    fn start(host: Arc<Host>) -> Result<Running, LoadError> {
        let io = |action| move |error| LoadError::Io { action, error };
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").map_err(io("listen on loopback"))?;
        let addr = listener
            .local_addr()
            .map_err(io("read the bound address"))?;
        listener
            .set_nonblocking(true)
            .map_err(io("set the listener non-blocking"))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(io("start the async runtime"))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("bench-host".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)?;
                    let shutdown = async move {
                        let _ = stopped.await;
                    };
                    server::serve(listener, server::router(host), shutdown).await
                })
            })
            .map_err(io("start the server thread"))?;
        Ok(Running {
            url: format!("http://{addr}"),
            stop,
            thread,
        })
    }

    fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!((percentile(&v, 0.5), percentile(&v, 0.99)), (51.0, 99.0));
        assert_eq!(percentile(&[], 0.5), 0.0);
        assert_eq!(percentile(&[3.0], 0.99), 3.0);
    }
}
