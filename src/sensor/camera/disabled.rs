//! Cameras in a build without the `camera` feature: every open is refused,
//! naming the device and the feature, so a profile that asks for a camera fails
//! at start with the reason (or marks it absent when it is optional).

use super::CameraOptions;
use crate::sensor::{Source, SourceError};
use crate::shutdown::Shutdown;

pub const ENABLED: bool = false;

pub fn open(
    options: &CameraOptions,
    _index: u32,
    _shutdown: &Shutdown,
) -> Result<Box<dyn Source>, SourceError> {
    Err(SourceError::fatal(
        format!("open camera {}", options.device.display()),
        "mmcl was built without the `camera` feature (cargo build --features camera)",
    ))
}
