//! Health: what every stage reports while it runs, and the one serializable
//! snapshot `Pipeline::health()` returns (the daemon's `mmcl status --json`
//! prints it; DESIGN.md's `sources: [{modality, state, rate_hz}]` is
//! `PipelineHealth::by_modality`, its `dropped` is `PipelineHealth::dropped`).
//!
//! Each stage writes its own cell (a mutex taken once per sample or window,
//! never contended for long); channels count on their `Gauge`s. Everything held
//! is bounded (a rate meter per stream, the last few hundred encoder times).

use super::channel::Gauge;
use super::meter::{Percentiles, RateMeter, RecentValues};
use crate::align::AlignStats;
use crate::encode::FrameCounts;
use crate::sample::Modality;
use crate::sensor::{SourceMonitor, SourceReport};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long the achieved rate is averaged over.
const RATE_INTERVAL: Duration = Duration::from_secs(2);
/// Encoder times kept for the percentiles.
const RECENT_ENCODES: usize = 512;
/// An interval between two samples of a stream longer than this many nominal
/// periods is a gap: long enough not to count jitter, short enough to see one
/// lost frame in three.
const GAP_PERIODS: f64 = 2.5;

/// A source's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceState {
    /// Started, no sample delivered yet.
    Starting,
    Running,
    /// Lost its device and is reopening it (`sensor::Restarting`); its
    /// modalities are absent meanwhile.
    Restarting,
    /// Its stream ended, or the pipeline stopped it.
    Ended,
    /// A fatal error (or a panic) stopped it.
    Failed,
}

/// The aligner's or the encoder's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StageState {
    Running,
    Ended,
    Failed,
}

/// Locks a health cell; a stage that panicked mid-update left whole values behind.
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One modality of one source, as its thread sees it.
#[derive(Debug)]
pub(super) struct StreamCell {
    pub modality: Modality,
    pub delivered: u64,
    pub rate: RateMeter,
    pub expected_rate_hz: Option<f64>,
    pub gauge: Arc<Gauge>,
    /// The previous sample's timestamp, for gaps.
    pub last_t_ns: Option<u64>,
    pub gaps: u64,
    pub longest_gap_ns: u64,
}

impl StreamCell {
    /// Counts a gap when the step from the previous sample to `t_ns` is longer
    /// than `GAP_PERIODS` nominal periods (only when the rate is known).
    pub fn note_time(&mut self, t_ns: u64) {
        let step = self.last_t_ns.map(|last| t_ns.saturating_sub(last));
        self.last_t_ns = Some(t_ns);
        let (Some(step), Some(rate)) = (step, self.expected_rate_hz) else {
            return;
        };
        if rate > 0.0 && step as f64 > GAP_PERIODS * 1e9 / rate {
            self.gaps += 1;
            self.longest_gap_ns = self.longest_gap_ns.max(step);
        }
    }
}

/// A source thread's report.
#[derive(Debug)]
pub(super) struct SourceCell {
    pub name: String,
    pub state: SourceState,
    pub streams: Vec<StreamCell>,
    pub last_sample_ns: Option<u64>,
    pub transient_errors: u64,
    pub fatal_errors: u64,
    pub last_error: Option<String>,
    /// The source's own report (`Source::monitor`), read at every snapshot.
    pub monitor: Option<SourceMonitor>,
}

impl SourceCell {
    pub fn new(name: String, gauges: &[(Modality, Arc<Gauge>)]) -> Arc<Mutex<SourceCell>> {
        let now = Instant::now();
        let streams = gauges
            .iter()
            .map(|(m, g)| StreamCell {
                modality: *m,
                delivered: 0,
                rate: RateMeter::new(RATE_INTERVAL, now),
                expected_rate_hz: None,
                gauge: g.clone(),
                last_t_ns: None,
                gaps: 0,
                longest_gap_ns: 0,
            })
            .collect();
        Arc::new(Mutex::new(SourceCell {
            name,
            state: SourceState::Starting,
            streams,
            last_sample_ns: None,
            transient_errors: 0,
            fatal_errors: 0,
            last_error: None,
            monitor: None,
        }))
    }

    pub fn stream_mut(&mut self, m: Modality) -> Option<&mut StreamCell> {
        self.streams.iter_mut().find(|s| s.modality == m)
    }

    fn snapshot(&self, now: Instant) -> SourceHealth {
        let streams: Vec<SourceStreamHealth> = self
            .streams
            .iter()
            .map(|s| SourceStreamHealth {
                modality: s.modality,
                delivered: s.delivered,
                dropped: s.gauge.dropped(),
                blocked_ms: s.gauge.blocked_ns() as f64 * 1e-6,
                rate_hz: s.rate.rate_hz(now),
                expected_rate_hz: s.expected_rate_hz,
                gaps: s.gaps,
                longest_gap_ms: s.longest_gap_ns as f64 * 1e-6,
            })
            .collect();
        let report = self.monitor.as_ref().map(|m| m.report(now));
        let restarting = report
            .as_ref()
            .and_then(|r| r.restart.as_ref())
            .is_some_and(|r| r.restarting);
        let live = matches!(self.state, SourceState::Starting | SourceState::Running);
        SourceHealth {
            name: self.name.clone(),
            state: match restarting && live {
                true => SourceState::Restarting,
                false => self.state,
            },
            samples_delivered: streams.iter().map(|s| s.delivered).sum(),
            dropped: streams.iter().map(|s| s.dropped).sum(),
            blocked_ms: streams.iter().map(|s| s.blocked_ms).sum(),
            modalities: streams,
            last_sample_ns: self.last_sample_ns,
            transient_errors: self.transient_errors,
            fatal_errors: self.fatal_errors,
            last_error: self.last_error.clone(),
            report,
        }
    }
}

/// The aligner thread's report.
#[derive(Debug)]
pub(super) struct AlignCell {
    pub state: StageState,
    pub stats: AlignStats,
    pub buffered: BTreeMap<Modality, usize>,
    pub last_error: Option<String>,
}

/// The encoder thread's report.
#[derive(Debug)]
pub(super) struct EncodeCell {
    pub state: StageState,
    pub windows_encoded: u64,
    pub windows_skipped_empty: u64,
    pub batches: u64,
    pub ms_per_window: RecentValues,
    pub frames: FrameCounts,
    pub last_error: Option<String>,
}

impl EncodeCell {
    pub fn new() -> Arc<Mutex<EncodeCell>> {
        Arc::new(Mutex::new(EncodeCell {
            state: StageState::Running,
            windows_encoded: 0,
            windows_skipped_empty: 0,
            batches: 0,
            ms_per_window: RecentValues::new(RECENT_ENCODES),
            frames: FrameCounts::default(),
            last_error: None,
        }))
    }
}

impl AlignCell {
    pub fn new() -> Arc<Mutex<AlignCell>> {
        Arc::new(Mutex::new(AlignCell {
            state: StageState::Running,
            stats: AlignStats::default(),
            buffered: BTreeMap::new(),
            last_error: None,
        }))
    }
}

/// Every cell of one pipeline, for snapshots.
#[derive(Debug, Clone)]
pub(super) struct Cells {
    pub sources: Vec<Arc<Mutex<SourceCell>>>,
    pub aligner: Arc<Mutex<AlignCell>>,
    pub encoder: Option<Arc<Mutex<EncodeCell>>>,
    pub channels: Vec<Arc<Gauge>>,
}

impl Cells {
    pub fn snapshot(&self) -> PipelineHealth {
        let now = Instant::now();
        let sources: Vec<SourceHealth> =
            self.sources.iter().map(|c| lock(c).snapshot(now)).collect();
        let mut dropped = BTreeMap::new();
        for stream in sources.iter().flat_map(|s| &s.modalities) {
            *dropped
                .entry(stream.modality.name().to_string())
                .or_insert(0) += stream.dropped;
        }
        PipelineHealth {
            sources,
            aligner: align_health(&lock(&self.aligner)),
            encoder: self.encoder.as_ref().map(|e| encode_health(&lock(e))),
            channels: self.channels.iter().map(|g| channel_health(g)).collect(),
            dropped,
        }
    }
}

fn align_health(c: &AlignCell) -> AlignerHealth {
    AlignerHealth {
        state: c.state,
        windows_emitted: c.stats.windows_emitted,
        buffered: c
            .buffered
            .iter()
            .map(|(m, n)| (m.name().to_string(), *n))
            .collect(),
        stats: c.stats,
        last_error: c.last_error.clone(),
    }
}

fn encode_health(c: &EncodeCell) -> EncoderHealth {
    EncoderHealth {
        state: c.state,
        windows_encoded: c.windows_encoded,
        windows_skipped_empty: c.windows_skipped_empty,
        batches: c.batches,
        ms_per_window: c.ms_per_window.percentiles(),
        frames: c.frames,
        last_error: c.last_error.clone(),
    }
}

fn channel_health(g: &Gauge) -> ChannelHealth {
    ChannelHealth {
        name: g.name.clone(),
        depth: g.depth(),
        capacity: g.capacity,
        policy: g.policy.name(),
        dropped: g.dropped(),
        blocked_ms: g.blocked_ns() as f64 * 1e-6,
    }
}

/// One snapshot of the whole graph.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PipelineHealth {
    pub sources: Vec<SourceHealth>,
    pub aligner: AlignerHealth,
    /// `None` in the windows-only form.
    pub encoder: Option<EncoderHealth>,
    /// Every channel: sources' (`<source>/<modality>`), `windows`, `output`.
    pub channels: Vec<ChannelHealth>,
    /// Samples dropped by channel policies, per modality name.
    pub dropped: BTreeMap<String, u64>,
}

/// One source.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SourceHealth {
    pub name: String,
    pub state: SourceState,
    pub modalities: Vec<SourceStreamHealth>,
    pub samples_delivered: u64,
    /// Samples its channels dropped (`DropOldest`).
    pub dropped: u64,
    /// Time it waited for room in its channels (`Block`), milliseconds.
    pub blocked_ms: f64,
    /// Timestamp of the newest sample it delivered, nanoseconds.
    pub last_sample_ns: Option<u64>,
    pub transient_errors: u64,
    pub fatal_errors: u64,
    pub last_error: Option<String>,
    /// What a live source says of itself: device, negotiated mode, restarts,
    /// rate checks (`sensor::SourceReport`); `None` for sources without a monitor.
    pub report: Option<SourceReport>,
}

/// One modality of one source.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SourceStreamHealth {
    pub modality: Modality,
    pub delivered: u64,
    pub dropped: u64,
    pub blocked_ms: f64,
    /// Samples per second of wall time over the last ~2 s.
    pub rate_hz: f64,
    /// What the source says it should be, when it knows.
    pub expected_rate_hz: Option<f64>,
    /// Steps between consecutive sample times longer than 2.5 nominal periods
    /// (counted only when the expected rate is known), and the longest, ms.
    pub gaps: u64,
    pub longest_gap_ms: f64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AlignerHealth {
    pub state: StageState,
    pub windows_emitted: u64,
    /// Samples buffered now, per modality name (bounded: docs/align.md).
    pub buffered: BTreeMap<String, usize>,
    pub stats: AlignStats,
    /// The last sample the aligner refused, why (also counted in `stats`).
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EncoderHealth {
    pub state: StageState,
    pub windows_encoded: u64,
    /// Windows with no modality present, passed over (nothing to encode).
    pub windows_skipped_empty: u64,
    pub batches: u64,
    /// Encoder time per window over the last 512 windows; `None` before the first.
    pub ms_per_window: Option<Percentiles>,
    /// Frames encoded and reused by the frame cache, windows fused or encoded whole.
    pub frames: FrameCounts,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ChannelHealth {
    pub name: String,
    pub depth: usize,
    pub capacity: usize,
    pub policy: &'static str,
    pub dropped: u64,
    pub blocked_ms: f64,
}

/// One row of DESIGN.md's `sources: [{modality, state, rate_hz}]`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ModalityStatus {
    pub modality: Modality,
    pub source: String,
    pub state: SourceState,
    pub rate_hz: f64,
}

impl PipelineHealth {
    /// One row per (source, modality), in source order.
    pub fn by_modality(&self) -> Vec<ModalityStatus> {
        self.sources
            .iter()
            .flat_map(|s| {
                s.modalities.iter().map(|m| ModalityStatus {
                    modality: m.modality,
                    source: s.name.clone(),
                    state: s.state,
                    rate_hz: m.rate_hz,
                })
            })
            .collect()
    }

    /// The source named `name`.
    pub fn source(&self, name: &str) -> Option<&SourceHealth> {
        self.sources.iter().find(|s| s.name == name)
    }
}
