//! `FileCamera`: a real video played as a live camera (`[sources.camera] file
//! = "..."`): an `.mp4` (decoded by `dataset::mp4`, feature `mp4`) or a folder
//! of JPEG frames, at the profile's frames per second, on the pipeline clock
//! from the moment it opens, optionally looping (each pass goes on where the
//! last ended). Frames decode one at a time as they come due and are reduced to
//! the encoder's size, as a camera's would be. For soak tests with real
//! signals (`tests/sensor_soak.rs`).

use crate::dataset::frames::FrameFolder;
use crate::dataset::mp4::Mp4Video;
use crate::dataset::video::FrameStream;
use crate::dataset::{VideoSource, VideoStorage};
use crate::pipeline::reduce_frame;
use crate::sample::{Modality, Sample};
use crate::sensor::{Pacer, Pacing, Source, SourceError, SourceMonitor};
use crate::shutdown::Shutdown;
use crate::time::{Clock, Timestamp};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Clone)]
pub struct FileCameraOptions {
    pub name: String,
    /// An `.mp4`, or a directory of `img_000001.jpg` / `000001.jpg` frames.
    pub path: PathBuf,
    /// Frames per second of the recording.
    pub fps: u32,
    pub looping: bool,
    pub frame_size: Option<(u32, u32)>,
    pub clock: Arc<dyn Clock>,
    pub monitor: SourceMonitor,
}

pub struct FileCamera {
    options: FileCameraOptions,
    video: VideoSource,
    stream: FrameStream,
    pacer: Pacer,
    /// Where the current pass starts on the clock.
    pass_start: Timestamp,
    pass_ns: u64,
}

impl FileCamera {
    /// Opens the file (headers only) and starts its timeline at `clock.now()`.
    pub fn open(options: &FileCameraOptions) -> Result<FileCamera, SourceError> {
        let action = || format!("open video file {}", options.path.display());
        let fatal = |e: crate::dataset::DatasetError| SourceError::fatal(action(), e);
        let storage = match options.path.is_dir() {
            true => VideoStorage::Frames(FrameFolder::open(&options.path).map_err(fatal)?),
            false => {
                VideoStorage::Mp4(Mp4Video::open(&options.path, &options.name).map_err(fatal)?)
            }
        };
        let fps = f64::from(options.fps.max(1));
        let frames = match &storage {
            VideoStorage::Frames(f) => f.len(),
            VideoStorage::Mp4(m) => m.len(),
        };
        let video = VideoSource::new(storage, frames as f64 / fps);
        let stream = video.stream().map_err(fatal)?;
        let pass_start = options.clock.now();
        let pacing = Pacing::Clock {
            clock: options.clock.clone(),
            speed: 1.0,
            origin: pass_start,
        };
        let looping = if options.looping { ", looping" } else { "" };
        let format = format!("{frames} frames at {fps} fps{looping}");
        options
            .monitor
            .opened(options.path.display().to_string(), format, Some(fps));
        Ok(FileCamera {
            options: options.clone(),
            pass_ns: (frames as f64 * 1e9 / fps).round() as u64,
            video,
            stream,
            pacer: Pacer::new(pacing),
            pass_start,
        })
    }

    fn decode_error(&self, e: crate::dataset::DatasetError) -> SourceError {
        SourceError::fatal(
            format!("decode video file {}", self.options.path.display()),
            e,
        )
    }
}

impl Source for FileCamera {
    fn name(&self) -> &str {
        &self.options.name
    }

    fn modalities(&self) -> &[Modality] {
        &[Modality::Video]
    }

    fn next_sample(&mut self, shutdown: &Shutdown) -> Result<Option<Sample>, SourceError> {
        loop {
            let frame = self.stream.next_frame().map_err(|e| self.decode_error(e))?;
            let Some(mut frame) = frame else {
                if !self.options.looping || self.video.is_empty() {
                    return Ok(None);
                }
                self.stream = self.video.stream().map_err(|e| self.decode_error(e))?;
                self.pass_start = self.pass_start.add_nanos(self.pass_ns);
                continue;
            };
            frame.t = self.pass_start.add_nanos(frame.t.nanos());
            let frame = match self.options.frame_size {
                Some(size) => reduce_frame(frame, size),
                None => frame,
            };
            let due = self.pacer.wait_until(frame.t, shutdown);
            return Ok(due.then_some(Sample::Frame(frame)));
        }
    }

    fn expected_rate_hz(&self, modality: Modality) -> Option<f64> {
        (modality == Modality::Video).then_some(f64::from(self.options.fps))
    }

    fn monitor(&self) -> Option<SourceMonitor> {
        Some(self.options.monitor.clone())
    }
}
