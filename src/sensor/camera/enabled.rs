//! The V4L2 camera through nokhwa (feature `camera`). nokhwa's `Camera` is not
//! `Send` and its `frame()` blocks without a timeout, so it lives on a capture
//! thread (`sensor::capture`): opened there, its modes listed, the closest one
//! chosen (`mode::choose`) and set, the stream opened, then every frame
//! converted to RGB (`convert`), reduced to the encoder's size and queued.
//!
//! Each frame's timestamp is its capture time on the pipeline clock: V4L2 stamps
//! the buffer when the frame was captured (nokhwa gives it as wall time), so
//! its age at dequeue is subtracted from the clock's reading then.

use super::convert::{to_rgb, PixelFormat};
use super::mode::{choose, Mode};
use super::CameraOptions;
use crate::pipeline::reduce_frame;
use crate::sample::{Frame, Sample};
use crate::sensor::capture::{Capture, Feed, Ready};
use crate::sensor::{Source, SourceError, SourceMonitor};
use crate::shutdown::Shutdown;
use crate::time::{Clock, Timestamp};
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType,
    Resolution,
};
use nokhwa::Camera;
use std::time::{Duration, SystemTime};

pub const ENABLED: bool = true;

/// Opening a USB camera and starting its stream takes up to a second or two.
const OPEN_TIMEOUT: Duration = Duration::from_secs(5);
/// Frames queued between the capture thread and the source: a little slack
/// for scheduling; older frames are worth less than the newest.
const QUEUE: usize = 4;
/// A capture time older than this is not believed (a driver without timestamps).
const MAX_AGE: Duration = Duration::from_secs(1);

/// Every format `convert` handles, as nokhwa names them.
const FRAME_FORMATS: [FrameFormat; 6] = [
    FrameFormat::YUYV,
    FrameFormat::MJPEG,
    FrameFormat::NV12,
    FrameFormat::RAWRGB,
    FrameFormat::RAWBGR,
    FrameFormat::GRAY,
];

fn ours(f: FrameFormat) -> PixelFormat {
    match f {
        FrameFormat::YUYV => PixelFormat::Yuyv,
        FrameFormat::MJPEG => PixelFormat::Mjpeg,
        FrameFormat::NV12 => PixelFormat::Nv12,
        FrameFormat::RAWRGB => PixelFormat::Rgb,
        FrameFormat::RAWBGR => PixelFormat::Bgr,
        FrameFormat::GRAY => PixelFormat::Gray,
    }
}

fn theirs(f: PixelFormat) -> FrameFormat {
    match f {
        PixelFormat::Yuyv => FrameFormat::YUYV,
        PixelFormat::Mjpeg => FrameFormat::MJPEG,
        PixelFormat::Nv12 => FrameFormat::NV12,
        PixelFormat::Rgb => FrameFormat::RAWRGB,
        PixelFormat::Bgr => FrameFormat::RAWBGR,
        PixelFormat::Gray => FrameFormat::GRAY,
    }
}

fn mode_of(f: &CameraFormat) -> Mode {
    Mode {
        width: f.width(),
        height: f.height(),
        fps: f.frame_rate(),
        format: ours(f.format()),
    }
}

/// A live camera: frames from its capture thread.
struct LiveCamera {
    name: String,
    capture: Capture,
    fps: u32,
    monitor: SourceMonitor,
}

/// Opens the camera on its capture thread; the negotiated mode goes on the monitor.
pub fn open(
    options: &CameraOptions,
    index: u32,
    shutdown: &Shutdown,
) -> Result<Box<dyn Source>, SourceError> {
    let o = options.clone();
    let wanted = Mode {
        width: o.width,
        height: o.height,
        fps: o.fps,
        format: PixelFormat::Yuyv,
    };
    let (capture, mode) = Capture::start(
        &options.name,
        QUEUE,
        OPEN_TIMEOUT,
        o.monitor.clone(),
        shutdown,
        move |feed, ready| run(feed, ready, index, wanted, &o),
    )?;
    options.monitor.opened(
        options.device.display().to_string(),
        mode.to_string(),
        Some(f64::from(mode.fps)),
    );
    Ok(Box::new(LiveCamera {
        name: options.name.clone(),
        capture,
        fps: mode.fps,
        monitor: options.monitor.clone(),
    }))
}

/// The capture thread: open, report, then frames until stopped or the device fails.
fn run(feed: Feed, ready: Ready<Mode>, index: u32, wanted: Mode, o: &CameraOptions) {
    let action = format!("open camera {}", o.device.display());
    let (mut camera, mode) = match start(index, wanted, o.format) {
        Ok(opened) => opened,
        Err(reason) => {
            let _ = ready.send(Err(SourceError::fatal(action, reason)));
            return;
        }
    };
    if ready.send(Ok(mode)).is_err() {
        return;
    }
    while !feed.stopped() {
        let item = match camera.frame() {
            Ok(buffer) => frame(&buffer, mode, o.frame_size, o.clock.as_ref()),
            // A dequeue error is what an unplugged camera gives: fatal, to restart.
            Err(e) => Err(SourceError::fatal(
                format!("read camera {}", o.device.display()),
                e,
            )),
        };
        let fatal = matches!(&item, Err(e) if !e.is_transient());
        if !feed.push(item) || fatal {
            return;
        }
    }
}

/// Opens device `index`, chooses the mode and starts the stream.
fn start(index: u32, wanted: Mode, format: Option<PixelFormat>) -> Result<(Camera, Mode), String> {
    let any = RequestedFormat::with_formats(RequestedFormatType::None, &FRAME_FORMATS);
    let mut camera = Camera::with_backend(CameraIndex::Index(index), any, ApiBackend::Video4Linux)
        .map_err(|e| e.to_string())?;
    let offered: Vec<Mode> = camera
        .compatible_camera_formats()
        .map_err(|e| e.to_string())?
        .iter()
        .map(mode_of)
        .collect();
    let Some(chosen) = choose(&offered, wanted, format) else {
        let asked = format.map_or("any convertible format".to_string(), |f| f.to_string());
        return Err(format!(
            "offers no mode in {asked} ({} modes listed)",
            offered.len()
        ));
    };
    let res = Resolution::new(chosen.width, chosen.height);
    let exact =
        RequestedFormatType::Exact(CameraFormat::new(res, theirs(chosen.format), chosen.fps));
    camera
        .set_camera_requset(RequestedFormat::with_formats(exact, &FRAME_FORMATS))
        .map_err(|e| e.to_string())?;
    camera.open_stream().map_err(|e| e.to_string())?;
    let mode = mode_of(&camera.camera_format());
    Ok((camera, mode))
}

/// One buffer as a reduced RGB frame stamped with its capture time.
fn frame(
    buffer: &nokhwa::Buffer,
    mode: Mode,
    size: Option<(u32, u32)>,
    clock: &dyn Clock,
) -> Result<Sample, SourceError> {
    let now = clock.now();
    let age = buffer
        .capture_timestamp()
        .and_then(|at| {
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .ok()?
                .checked_sub(at)
        })
        .filter(|age| *age <= MAX_AGE)
        .unwrap_or_default();
    let t = Timestamp(now.nanos().saturating_sub(age.as_nanos() as u64));
    let res = buffer.resolution();
    let format = ours(buffer.source_frame_format());
    let rgb = to_rgb(format, res.width(), res.height(), buffer.buffer())
        .map_err(|e| SourceError::transient(format!("convert a {mode} frame"), e))?;
    let frame = Frame::new(t, res.width(), res.height(), rgb)
        .map_err(|e| SourceError::transient("convert a frame", e))?;
    Ok(Sample::Frame(match size {
        Some(size) => reduce_frame(frame, size),
        None => frame,
    }))
}

impl Source for LiveCamera {
    fn name(&self) -> &str {
        &self.name
    }

    fn modalities(&self) -> &[crate::sample::Modality] {
        &[crate::sample::Modality::Video]
    }

    fn next_sample(&mut self, shutdown: &Shutdown) -> Result<Option<Sample>, SourceError> {
        self.capture.next(shutdown)
    }

    fn expected_rate_hz(&self, modality: crate::sample::Modality) -> Option<f64> {
        (modality == crate::sample::Modality::Video).then_some(f64::from(self.fps))
    }

    fn monitor(&self) -> Option<SourceMonitor> {
        Some(self.monitor.clone())
    }
}
