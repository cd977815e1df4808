//! One configured live section to one `Source`. Devices (a camera, an IIO
//! IMU, a serial stream, a microphone) are wrapped in `Restarting`, so a device
//! lost later is reopened with the profile's backoff; recordings played live (a
//! video file, a CSV file) are not: they cannot be unplugged, and their end is
//! an end.

use super::LiveContext;
use crate::config::{AudioSource, CameraInput, CameraSource, ImuKind, ImuSource};
use crate::sensor::audio::{self, AudioOptions};
use crate::sensor::camera::{self, CameraOptions, FileCamera, FileCameraOptions};
use crate::sensor::imu::iio::{IioImu, IioOptions, DEFAULT_DEV_DIR, DEFAULT_ROOT};
use crate::sensor::imu::{ImuStream, ImuStreamOptions, Stamping};
use crate::sensor::{Backoff, Pacing, Restarting, Source, SourceError, SourceMonitor};
use crate::shutdown::Shutdown;
use std::path::PathBuf;

/// Source names: one per section, stable for health and `mmcl status`.
pub const CAMERA: &str = "camera";
pub const IMU: &str = "imu";
pub const AUDIO: &str = "audio";

fn boxed<S: Source + 'static>(s: S) -> Box<dyn Source> {
    Box::new(s)
}

pub fn camera(
    cfg: &CameraSource,
    ctx: &LiveContext,
    backoff: Backoff,
    shutdown: &Shutdown,
) -> Result<Box<dyn Source>, SourceError> {
    let monitor = SourceMonitor::new();
    let frame_size = Some(ctx.frame_size);
    match cfg.input() {
        CameraInput::File { path, looping } => FileCamera::open(&FileCameraOptions {
            name: CAMERA.into(),
            path: path.clone(),
            fps: cfg.fps(),
            looping: *looping,
            frame_size,
            clock: ctx.clock.clone(),
            monitor,
        })
        .map(boxed),
        CameraInput::Device(device) => {
            let options = CameraOptions {
                name: CAMERA.into(),
                device: device.clone(),
                width: cfg.width(),
                height: cfg.height(),
                fps: cfg.fps(),
                format: cfg.format(),
                frame_size,
                clock: ctx.clock.clone(),
                monitor: monitor.clone(),
            };
            let shutdown = shutdown.clone();
            Restarting::start(backoff, monitor, move || camera::open(&options, &shutdown))
                .map(boxed)
        }
    }
}

pub fn imu(
    cfg: &ImuSource,
    ctx: &LiveContext,
    backoff: Backoff,
) -> Result<Box<dyn Source>, SourceError> {
    let monitor = SourceMonitor::new();
    match cfg.kind() {
        ImuKind::Iio => {
            let options = iio_options(cfg, ctx, monitor.clone());
            Restarting::start(backoff, monitor, move || IioImu::open(&options).map(boxed))
                .map(boxed)
        }
        ImuKind::CsvStream => {
            let path = csv_path(cfg)?;
            let options = ImuStreamOptions {
                stamping: Stamping::Arrival(ctx.clock.clone()),
                baud: cfg.baud(),
                monitor: Some(monitor.clone()),
                ..csv_options(cfg)
            };
            Restarting::start(backoff, monitor, move || {
                ImuStream::open(&path, options.clone()).map(boxed)
            })
            .map(boxed)
        }
        ImuKind::CsvFile => {
            let path = csv_path(cfg)?;
            let start = ctx.clock.now();
            let options = ImuStreamOptions {
                stamping: Stamping::Rate {
                    start,
                    rate_hz: cfg.rate_hz(),
                },
                pacing: Pacing::Clock {
                    clock: ctx.clock.clone(),
                    speed: 1.0,
                    origin: start,
                },
                looping: cfg.looping(),
                monitor: Some(monitor),
                ..csv_options(cfg)
            };
            ImuStream::open(&path, options).map(boxed)
        }
    }
}

fn csv_path(cfg: &ImuSource) -> Result<PathBuf, SourceError> {
    let kind = cfg.kind().to_string();
    cfg.path()
        .map(PathBuf::from)
        .ok_or_else(|| SourceError::fatal(format!("open {kind} IMU"), "no path configured"))
}

/// Scales and rate shared by the CSV kinds (values already in g and °/s unless scaled).
fn csv_options(cfg: &ImuSource) -> ImuStreamOptions {
    ImuStreamOptions {
        acc_scale: cfg.acc_scale_g_per_count().unwrap_or(1.0) as f32,
        gyro_scale: cfg.gyro_scale_dps_per_count().unwrap_or(1.0) as f32,
        ..ImuStreamOptions::recording(IMU, cfg.rate_hz())
    }
}

fn iio_options(cfg: &ImuSource, ctx: &LiveContext, monitor: SourceMonitor) -> IioOptions {
    let iio = cfg.iio();
    IioOptions {
        name: IMU.into(),
        root: iio.map_or_else(|| PathBuf::from(DEFAULT_ROOT), |s| s.root.clone()),
        device: cfg.path().map(PathBuf::from),
        dev_dir: iio.map_or_else(|| PathBuf::from(DEFAULT_DEV_DIR), |s| s.dev_dir.clone()),
        mode: iio.map_or(crate::sensor::imu::iio::IioMode::Polled, |s| s.mode),
        rate_hz: cfg.rate_hz(),
        acc_scale: cfg.acc_scale_g_per_count(),
        gyro_scale: cfg.gyro_scale_dps_per_count(),
        trigger: iio.and_then(|s| s.trigger.clone()),
        clock: ctx.clock.clone(),
        monitor,
    }
}

pub fn audio(
    cfg: &AudioSource,
    ctx: &LiveContext,
    backoff: Backoff,
    shutdown: &Shutdown,
) -> Result<Box<dyn Source>, SourceError> {
    let monitor = SourceMonitor::new();
    let options = AudioOptions {
        name: AUDIO.into(),
        device: cfg.device().to_string(),
        rate_hz: cfg.rate_hz(),
        clock: ctx.clock.clone(),
        monitor: monitor.clone(),
    };
    let shutdown = shutdown.clone();
    Restarting::start(backoff, monitor, move || audio::open(&options, &shutdown)).map(boxed)
}
