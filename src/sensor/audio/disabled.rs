//! Microphones in a build without the `audio` feature: every open is refused,
//! naming the device and the feature; nothing is listed.

use super::{AudioDeviceInfo, AudioOptions};
use crate::sensor::{Source, SourceError};
use crate::shutdown::Shutdown;

pub const ENABLED: bool = false;

pub fn open(options: &AudioOptions, _shutdown: &Shutdown) -> Result<Box<dyn Source>, SourceError> {
    Err(SourceError::fatal(
        format!("open microphone {:?}", options.device),
        "mmcl was built without the `audio` feature (cargo build --features audio)",
    ))
}

pub fn list() -> Result<Vec<AudioDeviceInfo>, String> {
    Err("mmcl was built without the `audio` feature".into())
}
