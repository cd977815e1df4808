//! Sources of samples: the `Source` contract and its implementations.
//!
//! A source runs on its own thread (see `pipeline`) and hands out samples in
//! timestamp order. Implemented: `replay` (dataset clips played on a timeline,
//! with a play log of what it played); `imu` (Linux IIO devices, polled or
//! buffered; comma-separated readings from a file, FIFO or serial port; a CSV
//! recording played live); `camera` (V4L2 through nokhwa, feature `camera`, or
//! a video file played as a camera); `audio` (a microphone through cpal,
//! feature `audio`). `live` builds the sources a profile's `[sources.*]` names
//! and lists what the machine offers (`mmcl sensors`).
//!
//! Around them: `restart` (`Restarting`: a lost device reopened with backoff),
//! `monitor` (what a live source reports of itself to health), `capture` (a
//! blocking driver read on a thread of its own), `pace` (waiting for a
//! sample's time on an injected clock, honouring the shutdown signal).

pub mod audio;
pub mod camera;
// Only the device readers behind `camera` and `audio` use the capture thread.
#[cfg(any(feature = "camera", feature = "audio"))]
mod capture;
pub mod imu;
pub mod live;
mod monitor;
mod pace;
pub mod replay;
mod restart;

pub use monitor::{RateCheckReport, RestartReport, SourceMonitor, SourceReport};
pub use pace::{Pacer, Pacing};
pub use restart::{Backoff, Restarting};

use crate::dataset::DatasetError;
use crate::sample::{Modality, Sample};
use crate::shutdown::Shutdown;
use std::time::Duration;

/// The longest a source may block inside `next_sample` between two looks at the
/// shutdown signal. The pipeline promises every stage stops within 100 ms of a
/// trigger; this leaves the rest for the other stages and the joins.
pub const MAX_BLOCK: Duration = Duration::from_millis(20);

/// Why `next_sample` produced no sample. `Transient` errors are retried by the
/// pipeline (counted, shown as the source's last error); every other variant is
/// fatal: the source stops and its modalities go absent in later windows.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A momentary failure (a dropped frame, EAGAIN, a torn line, a read error
    /// that may pass): ask again.
    #[error("{action}: {reason} (transient)")]
    Transient { action: String, reason: String },
    /// The device or file is gone or unusable; the source cannot go on.
    #[error("{action}: {reason}")]
    Fatal { action: String, reason: String },
    /// A replayed clip could not be read (fatal: the dataset is broken).
    #[error("replay of clip {clip}: {error}")]
    Clip {
        clip: String,
        error: Box<DatasetError>,
    },
}

impl SourceError {
    pub fn transient(action: impl Into<String>, reason: impl ToString) -> SourceError {
        SourceError::Transient {
            action: action.into(),
            reason: reason.to_string(),
        }
    }

    pub fn fatal(action: impl Into<String>, reason: impl ToString) -> SourceError {
        SourceError::Fatal {
            action: action.into(),
            reason: reason.to_string(),
        }
    }

    /// True when the pipeline should ask the source again.
    pub fn is_transient(&self) -> bool {
        matches!(self, SourceError::Transient { .. })
    }
}

/// A stream of samples from one device (or one recording).
///
/// Required methods:
/// - `name`: a short stable name ("replay", "imu0"), used in health reports and
///   errors; unique within one pipeline.
/// - `modalities`: every modality it may emit, fixed for its life. A sample of
///   another modality is refused by the pipeline (counted as a transient error).
/// - `next_sample`: the next sample.
///   - `Ok(Some(sample))`: samples of each modality come in non-decreasing
///     timestamp order, on the pipeline's one monotonic clock.
///   - `Ok(None)`: the stream ended (a recording ran out, or `shutdown` was
///     triggered); the pipeline does not call again.
///   - `Err(e)` with `e.is_transient()`: counted; the pipeline calls again after a
///     short back-off.
///   - any other `Err`: the source failed; the pipeline reports it by name, does
///     not call again, and the other sources go on.
///
///   It may block waiting for data, but for at most `MAX_BLOCK` between two looks
///   at `shutdown` (use poll or read timeouts, never an unbounded blocking read);
///   once `shutdown` is triggered it returns promptly (`Ok(None)` is fine).
///
/// Provided: `expected_rate_hz`, the nominal rate of a modality when the source
/// knows it (health compares it with the achieved rate); `None` by default.
/// `monitor`, the handle through which a live source reports its device, the
/// mode it negotiated and its restarts (`SourceMonitor`); the pipeline takes it
/// once, when it wires the source, and reads it in every health snapshot.
/// `None` by default (a recording has nothing to add).
pub trait Source: Send {
    fn name(&self) -> &str;
    fn modalities(&self) -> &[Modality];
    fn next_sample(&mut self, shutdown: &Shutdown) -> Result<Option<Sample>, SourceError>;

    fn expected_rate_hz(&self, _modality: Modality) -> Option<f64> {
        None
    }

    fn monitor(&self) -> Option<SourceMonitor> {
        None
    }
}
