//! Camera sources: a V4L2 camera (nokhwa, feature `camera`) and a video file
//! played as a camera (`file`, for soak tests with real video).
//!
//! Live capture (`enabled`, or `disabled` without the feature: one API, chosen
//! here once) negotiates the mode closest to the profile's (`mode`), converts
//! each frame to RGB (`convert`) and reduces it to the encoder's input size on
//! the capture thread, so the queue holds small frames; the pipeline's own
//! reduction at entry is then the identity. Frames are stamped with their
//! capture time on the pipeline clock.
//!
//! A camera that is not there is refused at open with the device named, before
//! any driver is touched; `live::build` turns that into an error or, for an
//! optional camera, an absent modality.

mod convert;
mod file;
mod mode;

#[cfg(feature = "camera")]
mod enabled;
#[cfg(feature = "camera")]
use enabled as backend;
#[cfg(not(feature = "camera"))]
mod disabled;
#[cfg(not(feature = "camera"))]
use disabled as backend;

pub use backend::ENABLED;
pub use convert::{to_rgb, ConvertError, PixelFormat};
pub use file::{FileCamera, FileCameraOptions};
pub use mode::{choose, Mode};

use super::{Source, SourceError, SourceMonitor};
use crate::shutdown::Shutdown;
use crate::time::Clock;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where Linux describes its video devices.
pub const SYS_VIDEO4LINUX: &str = "/sys/class/video4linux";

/// Everything a live camera needs.
#[derive(Clone)]
pub struct CameraOptions {
    pub name: String,
    /// `/dev/videoN`, or a link to one (`/dev/v4l/by-id/...`).
    pub device: PathBuf,
    /// The mode asked for; the closest offered one is taken.
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// A pixel format to insist on; `None` = the preferred convertible one.
    pub format: Option<PixelFormat>,
    /// Frames are reduced to this at capture (the encoder's input size).
    pub frame_size: Option<(u32, u32)>,
    pub clock: Arc<dyn Clock>,
    pub monitor: SourceMonitor,
}

/// Opens the camera: the device must exist and be a V4L2 node.
pub fn open(options: &CameraOptions, shutdown: &Shutdown) -> Result<Box<dyn Source>, SourceError> {
    let index = video_index(&options.device).map_err(|reason| {
        SourceError::fatal(format!("open camera {}", options.device.display()), reason)
    })?;
    backend::open(options, index, shutdown)
}

/// N of `/dev/videoN`, following links; the reason when it is not one.
fn video_index(device: &Path) -> Result<u32, String> {
    if !device.exists() {
        return Err("no such device (no camera connected there)".into());
    }
    let real = std::fs::canonicalize(device).map_err(|e| e.to_string())?;
    real.file_name()
        .and_then(|n| n.to_str()?.strip_prefix("video")?.parse::<u32>().ok())
        .ok_or_else(|| format!("{} is not a V4L2 video node (/dev/videoN)", real.display()))
}

/// A video device the machine lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraInfo {
    pub device: String,
    /// The driver's name for it, when sysfs gives one.
    pub name: Option<String>,
}

/// The video nodes under `sys` (`/sys/class/video4linux`), as `/dev/videoN`.
/// A capture card lists several nodes; not all of them capture.
pub fn list(sys: &Path) -> Vec<CameraInfo> {
    let Ok(entries) = std::fs::read_dir(sys) else {
        return Vec::new();
    };
    let mut found: Vec<(u32, CameraInfo)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let node = e.file_name().to_string_lossy().into_owned();
            let n = node.strip_prefix("video")?.parse::<u32>().ok()?;
            let name = std::fs::read_to_string(e.path().join("name")).ok();
            let device = format!("/dev/{node}");
            Some((
                n,
                CameraInfo {
                    device,
                    name: name.map(|s| s.trim().to_string()),
                },
            ))
        })
        .collect();
    found.sort_by_key(|(n, _)| *n);
    found.into_iter().map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_foreign_device_is_named_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let missing = video_index(&dir.path().join("video0")).unwrap_err();
        assert!(missing.contains("no such device"), "{missing}");
        let other = dir.path().join("ttyUSB0");
        std::fs::write(&other, "").unwrap();
        assert!(video_index(&other)
            .unwrap_err()
            .contains("not a V4L2 video node"));
        let node = dir.path().join("video3");
        std::fs::write(&node, "").unwrap();
        std::os::unix::fs::symlink(&node, dir.path().join("by-id")).unwrap();
        assert_eq!(video_index(&dir.path().join("by-id")), Ok(3));
    }

    #[test]
    fn video_nodes_are_listed_in_number_order_with_their_names() {
        let dir = tempfile::tempdir().unwrap();
        for (node, name) in [("video10", "b"), ("video2", "a")] {
            std::fs::create_dir(dir.path().join(node)).unwrap();
            std::fs::write(dir.path().join(node).join("name"), format!("{name}\n")).unwrap();
        }
        std::fs::create_dir(dir.path().join("v4l-subdev0")).unwrap();
        let got = list(dir.path());
        assert_eq!(
            got.iter().map(|c| c.device.as_str()).collect::<Vec<_>>(),
            ["/dev/video2", "/dev/video10"]
        );
        assert_eq!(got[0].name.as_deref(), Some("a"));
        assert!(list(&dir.path().join("none")).is_empty());
    }
}
