//! `[sources.camera]`: a V4L2 device (by path or index) or a recording played
//! as a camera, the mode asked of it, and whether it may be missing.

use super::super::check::Checker;
use super::super::choice::Choice;
use super::super::raw::RawCamera;
use crate::sensor::camera::PixelFormat;
use std::path::{Path, PathBuf};

pub const DEFAULT_CAMERA_SIZE: (u32, u32) = (640, 480);
pub const DEFAULT_CAMERA_FPS: u32 = 30;
pub const MAX_CAMERA_INDEX: i64 = 63;
/// `format = "any"`: the preferred format the camera offers.
const ANY_FORMAT: &str = "any";

/// Where a camera's frames come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraInput {
    /// A V4L2 device (`device`, or `index` N as `/dev/videoN`).
    Device(PathBuf),
    /// A recording played as a camera: an `.mp4` or a frame folder.
    File { path: PathBuf, looping: bool },
}

/// `[sources.camera]`.
#[derive(Debug, Clone, PartialEq)]
pub struct CameraSource {
    input: CameraInput,
    width: u32,
    height: u32,
    fps: u32,
    format: Option<PixelFormat>,
    optional: bool,
}

impl CameraSource {
    /// The device (`/dev/video0`) or the file played; not checked at config time (hot-plug).
    pub fn device(&self) -> &Path {
        match &self.input {
            CameraInput::Device(path) | CameraInput::File { path, .. } => path,
        }
    }

    pub fn input(&self) -> &CameraInput {
        &self.input
    }

    /// Capture width in pixels, in 16..=7680 (frames are resized for the encoder).
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Capture height in pixels, in 16..=4320.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Requested frames per second (a file: its rate), in 1..=240.
    pub fn fps(&self) -> u32 {
        self.fps
    }

    /// The pixel format insisted on; `None` = the best the camera offers.
    pub fn format(&self) -> Option<PixelFormat> {
        self.format
    }

    /// Missing at start = the video modality absent, not an error.
    pub fn optional(&self) -> bool {
        self.optional
    }

    pub(super) fn from_raw(raw: &RawCamera, c: &mut Checker) -> Option<CameraSource> {
        let input = camera_input(raw, c);
        let size = DEFAULT_CAMERA_SIZE;
        let width = c.int_in(
            "sources.camera.width",
            raw.width.unwrap_or(size.0.into()),
            16,
            7680,
        );
        let height = c.int_in(
            "sources.camera.height",
            raw.height.unwrap_or(size.1.into()),
            16,
            4320,
        );
        let fps = c.int_in(
            "sources.camera.fps",
            raw.fps.unwrap_or(DEFAULT_CAMERA_FPS.into()),
            1,
            240,
        );
        let format = match raw.format.as_deref() {
            None | Some(ANY_FORMAT) => Some(None),
            Some(name) => pixel_format(name, c).map(Some),
        };
        if raw.file.is_some() && format.is_some_and(|f| f.is_some()) {
            c.error::<()>(
                "sources.camera.format",
                format!("{:?}", raw.format.as_deref().unwrap_or("")),
                "only with a device (a file is decoded whatever its format)",
            );
        }
        Some(CameraSource {
            input: input?,
            width: width?,
            height: height?,
            fps: fps?,
            format: format?,
            optional: raw.optional.unwrap_or(false),
        })
    }

    pub(super) fn to_raw(&self) -> RawCamera {
        let (device, file, looping) = match &self.input {
            CameraInput::Device(path) => (Some(path.clone()), None, None),
            CameraInput::File { path, looping } => (None, Some(path.clone()), Some(*looping)),
        };
        RawCamera {
            device,
            index: None,
            file,
            looping,
            width: Some(self.width.into()),
            height: Some(self.height.into()),
            fps: Some(self.fps.into()),
            format: Some(
                self.format
                    .map_or(ANY_FORMAT, PixelFormat::name)
                    .to_string(),
            ),
            optional: Some(self.optional),
        }
    }
}

fn pixel_format(name: &str, c: &mut Checker) -> Option<PixelFormat> {
    match <PixelFormat as Choice>::from_name(name) {
        Some(f) => Some(f),
        None => c.error(
            "sources.camera.format",
            format!("{name:?}"),
            format!(
                "must be \"any\" or one of {}",
                <PixelFormat as Choice>::expected()
            ),
        ),
    }
}

/// Exactly one of `device`, `index`, `file`; `loop` only with `file`.
fn camera_input(raw: &RawCamera, c: &mut Checker) -> Option<CameraInput> {
    let given = [
        raw.device.is_some(),
        raw.index.is_some(),
        raw.file.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        let value = if given.contains(&true) {
            "(several)"
        } else {
            super::super::check::MISSING
        };
        return c.error(
            "sources.camera.device",
            value,
            "set exactly one of device, index (a V4L2 device number) or file (a recording)",
        );
    }
    if raw.looping.is_some() && raw.file.is_none() {
        return c.error(
            "sources.camera.loop",
            "true",
            "only with file (a device does not end)",
        );
    }
    if let Some(index) = raw.index {
        let index: u32 = c.int_in("sources.camera.index", index, 0, MAX_CAMERA_INDEX)?;
        return Some(CameraInput::Device(PathBuf::from(format!(
            "/dev/video{index}"
        ))));
    }
    if let Some(file) = &raw.file {
        let path = c.nonempty_path("sources.camera.file", file)?;
        return Some(CameraInput::File {
            path,
            looping: raw.looping.unwrap_or(false),
        });
    }
    let device = raw.device.as_deref()?;
    c.nonempty_path("sources.camera.device", device)
        .map(CameraInput::Device)
}
