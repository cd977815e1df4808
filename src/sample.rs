//! Samples: one reading of one sensor at one instant (lexicon in DESIGN.md).
//!
//! Units are fixed here, once: acceleration in g, angular rate in °/s, video as
//! 8-bit RGB, audio as f32 PCM in [-1, 1]. Converters from raw device or dataset
//! units live at the edges (`dataset`, `sensor`).

use crate::time::Timestamp;

/// The modalities mmcl knows, in the fixed order used by `present` vectors.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    Video,
    Imu,
    Audio,
}

impl Modality {
    pub const ALL: [Modality; 3] = [Modality::Video, Modality::Imu, Modality::Audio];

    pub fn name(self) -> &'static str {
        match self {
            Modality::Video => "video",
            Modality::Imu => "imu",
            Modality::Audio => "audio",
        }
    }

    pub fn from_name(name: &str) -> Option<Modality> {
        Modality::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl std::fmt::Display for Modality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One 6-axis IMU reading: accelerometer (g) and gyroscope (°/s), x y z each.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ImuSample {
    pub t: Timestamp,
    pub acc: [f32; 3],
    pub gyro: [f32; 3],
}

impl ImuSample {
    /// The six channels in contract order: acc x y z, gyro x y z.
    pub fn channels(&self) -> [f32; 6] {
        [
            self.acc[0],
            self.acc[1],
            self.acc[2],
            self.gyro[0],
            self.gyro[1],
            self.gyro[2],
        ]
    }
}

/// One video frame, 8-bit RGB, row-major, `width * height * 3` bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub t: Timestamp,
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

impl Frame {
    /// Builds a frame, checking that the buffer matches the size.
    pub fn new(
        t: Timestamp,
        width: u32,
        height: u32,
        rgb: Vec<u8>,
    ) -> Result<Frame, FrameSizeError> {
        let expected = width as usize * height as usize * 3;
        if width == 0 || height == 0 || rgb.len() != expected {
            return Err(FrameSizeError {
                width,
                height,
                expected,
                got: rgb.len(),
            });
        }
        Ok(Frame {
            t,
            width,
            height,
            rgb,
        })
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("frame {width}x{height} needs {expected} RGB bytes, got {got}")]
pub struct FrameSizeError {
    pub width: u32,
    pub height: u32,
    pub expected: usize,
    pub got: usize,
}

/// A chunk of mono audio starting at `t`.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioChunk {
    pub t: Timestamp,
    pub rate_hz: u32,
    pub pcm: Vec<f32>,
}

/// Any sample, as it travels from a source thread to the aligner.
#[derive(Debug, Clone, PartialEq)]
pub enum Sample {
    Frame(Frame),
    Imu(ImuSample),
    Audio(AudioChunk),
}

impl Sample {
    pub fn t(&self) -> Timestamp {
        match self {
            Sample::Frame(f) => f.t,
            Sample::Imu(s) => s.t,
            Sample::Audio(a) => a.t,
        }
    }

    pub fn modality(&self) -> Modality {
        match self {
            Sample::Frame(_) => Modality::Video,
            Sample::Imu(_) => Modality::Imu,
            Sample::Audio(_) => Modality::Audio,
        }
    }
}
