//! The live sources of a profile, built for the daemon, and the machine's
//! sensors listed for `mmcl sensors`.
//!
//! `build` opens one `Source` per configured live section (`[sources.camera]`,
//! `[sources.imu]`, `[sources.audio]`; `open` says how each kind is read and
//! which are wrapped in `Restarting`). A device that cannot be opened is, when
//! its section says `optional = true`, left out and reported in
//! `Built::absent` (its modality is absent from every window); otherwise the
//! build fails with every such device named, not just the first. A replay
//! profile has no live sources: `build` returns none (replay is built by the
//! daemon from the dataset).
//!
//! `inventory` probes the configured sources and lists what the machine has.

mod inventory;
mod open;

pub use inventory::{configured, machine, Inventory, SensorRow, SensorState, PROBE_TIME};
pub use open::{AUDIO, CAMERA, IMU};

use crate::config::SourcesConfig;
use crate::sample::Modality;
use crate::sensor::Source;
use crate::shutdown::Shutdown;
use crate::time::Clock;
use std::sync::Arc;

/// What every live source shares with the pipeline it feeds.
#[derive(Clone)]
pub struct LiveContext {
    /// The pipeline's clock: every live sample is stamped on it, so the daemon
    /// must start its pipeline (`start`) on the same clock.
    pub clock: Arc<dyn Clock>,
    /// The encoder's input (width, height): frames are reduced to it at capture.
    pub frame_size: (u32, u32),
}

/// A configured source that is not there (or would not open).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unavailable {
    /// The source's name (`camera`, `imu`, `audio`).
    pub name: String,
    pub modality: Modality,
    /// The device or file the profile names (`/dev/video0`, an IIO root, `default`).
    pub device: String,
    /// Why it could not be opened, as the device or driver said.
    pub reason: String,
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}) {}: {}",
            self.name, self.modality, self.device, self.reason
        )
    }
}

/// The opened sources and the optional ones left out.
#[derive(Default)]
pub struct Built {
    pub sources: Vec<Box<dyn Source>>,
    pub absent: Vec<Unavailable>,
}

/// Required live sources that could not be opened, every one of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe(.missing))]
pub struct BuildError {
    pub missing: Vec<Unavailable>,
}

fn describe(missing: &[Unavailable]) -> String {
    let n = missing.len();
    let list: Vec<String> = missing.iter().map(Unavailable::to_string).collect();
    let s = if n == 1 { "" } else { "s" };
    format!("{n} required live source{s} unavailable (mark a section `optional = true` to run without it): {}", list.join("; "))
}

/// One configured section, before it is opened.
pub(crate) struct Planned<'a> {
    pub name: &'static str,
    pub modality: Modality,
    pub device: String,
    pub optional: bool,
    pub section: Section<'a>,
}

pub(crate) enum Section<'a> {
    Camera(&'a crate::config::CameraSource),
    Imu(&'a crate::config::ImuSource),
    Audio(&'a crate::config::AudioSource),
}

/// The configured live sections, in modality order.
pub(crate) fn plan(sources: &SourcesConfig) -> Vec<Planned<'_>> {
    let mut planned = Vec::new();
    if let Some(c) = sources.camera() {
        let device = c.device().display().to_string();
        planned.push(Planned {
            name: CAMERA,
            modality: Modality::Video,
            device,
            optional: c.optional(),
            section: Section::Camera(c),
        });
    }
    if let Some(i) = sources.imu() {
        planned.push(Planned {
            name: IMU,
            modality: Modality::Imu,
            device: imu_device(i),
            optional: i.optional(),
            section: Section::Imu(i),
        });
    }
    if let Some(a) = sources.audio() {
        let device = a.device().to_string();
        planned.push(Planned {
            name: AUDIO,
            modality: Modality::Audio,
            device,
            optional: a.optional(),
            section: Section::Audio(a),
        });
    }
    planned
}

/// The path, or for a discovered IIO device the root it is searched under.
fn imu_device(i: &crate::config::ImuSource) -> String {
    match (i.path(), i.iio()) {
        (Some(p), _) => p.display().to_string(),
        (None, Some(iio)) => format!("{} (first IMU found)", iio.root.display()),
        (None, None) => "(no path)".into(),
    }
}

/// Opens one planned section.
pub(crate) fn open_planned(
    p: &Planned<'_>,
    sources: &SourcesConfig,
    ctx: &LiveContext,
    shutdown: &Shutdown,
) -> Result<Box<dyn Source>, crate::sensor::SourceError> {
    let backoff = sources.restart().backoff();
    match p.section {
        Section::Camera(c) => open::camera(c, ctx, backoff, shutdown),
        Section::Imu(i) => open::imu(i, ctx, backoff),
        Section::Audio(a) => open::audio(a, ctx, backoff, shutdown),
    }
}

/// One `Source` per configured live device; see the module docs.
pub fn build(
    sources: &SourcesConfig,
    ctx: &LiveContext,
    shutdown: &Shutdown,
) -> Result<Built, BuildError> {
    let mut built = Built::default();
    let mut missing = Vec::new();
    for p in plan(sources) {
        match open_planned(&p, sources, ctx, shutdown) {
            Ok(source) => built.sources.push(source),
            Err(e) => {
                let gone = Unavailable {
                    name: p.name.into(),
                    modality: p.modality,
                    device: p.device.clone(),
                    reason: e.to_string(),
                };
                match p.optional {
                    true => built.absent.push(gone),
                    false => missing.push(gone),
                }
            }
        }
    }
    match missing.is_empty() {
        true => Ok(built),
        false => Err(BuildError { missing }),
    }
}
