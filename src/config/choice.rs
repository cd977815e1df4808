//! The closed sets of names a profile may choose from, spelled in TOML as the
//! lower-case names their owners give them. The sets belong to the domain
//! modules (`encode::Backend`, `encode::ExecutionProvider`, `dataset::Split`,
//! `learn::Strategy`, `sensor::imu::iio::IioMode`, `sensor::camera::PixelFormat`);
//! this file only teaches the checker to read them. The IMU kind is config's
//! own: only a profile names how an IMU is read.

use crate::dataset::Split;
use crate::encode::{Backend, ExecutionProvider};
use crate::learn::Strategy;
use crate::sensor::camera::PixelFormat;
use crate::sensor::imu::iio::IioMode;
use std::fmt;

/// An enum whose values are written in a profile by name.
pub trait Choice: Copy + Sized + 'static {
    /// Every value, in the order error messages list them.
    const ALL: &'static [Self];
    /// The name written in TOML.
    fn name(self) -> &'static str;

    /// The value written as `name` (exact spelling), if there is one.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == name)
    }

    /// `"a", "b" or "c"` for error messages.
    fn expected() -> String {
        one_of(Self::ALL.iter().map(|v| v.name()))
    }
}

/// `"a", "b" or "c"`: the names a key accepts, quoted as TOML writes them.
pub(crate) fn one_of<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<String> = names.into_iter().map(|n| format!("{n:?}")).collect();
    match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

impl Choice for Backend {
    const ALL: &'static [Backend] = &Backend::ALL;
    fn name(self) -> &'static str {
        Backend::name(self)
    }
}

impl Choice for ExecutionProvider {
    const ALL: &'static [ExecutionProvider] = &ExecutionProvider::ALL;
    fn name(self) -> &'static str {
        ExecutionProvider::name(self)
    }
}

impl Choice for Strategy {
    const ALL: &'static [Strategy] = &Strategy::ALL;
    fn name(self) -> &'static str {
        Strategy::name(self)
    }
}

impl Choice for IioMode {
    const ALL: &'static [IioMode] = &IioMode::ALL;
    fn name(self) -> &'static str {
        IioMode::name(self)
    }
}

impl Choice for PixelFormat {
    const ALL: &'static [PixelFormat] = &PixelFormat::PREFERENCE;
    fn name(self) -> &'static str {
        PixelFormat::name(self)
    }
}

impl Choice for Split {
    const ALL: &'static [Split] = &Split::ALL;
    fn name(self) -> &'static str {
        Split::name(self)
    }
}

/// How the IMU is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImuKind {
    /// Linux Industrial I/O: a sysfs device directory or `/dev/iio:deviceN`.
    Iio,
    /// Comma-separated readings from a file, FIFO or serial port (format: `sensor::imu`).
    CsvStream,
    /// A recorded CSV played as a live IMU at its stated rate (soak tests, demos).
    CsvFile,
}

impl Choice for ImuKind {
    const ALL: &'static [ImuKind] = &[ImuKind::Iio, ImuKind::CsvStream, ImuKind::CsvFile];
    fn name(self) -> &'static str {
        match self {
            ImuKind::Iio => "iio",
            ImuKind::CsvStream => "csv-stream",
            ImuKind::CsvFile => "csv-file",
        }
    }
}

impl fmt::Display for ImuKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for ep in <ExecutionProvider as Choice>::ALL {
            assert_eq!(ExecutionProvider::from_name(ep.name()), Some(*ep));
        }
        for split in <Split as Choice>::ALL {
            assert_eq!(<Split as Choice>::from_name(split.name()), Some(*split));
        }
        assert_eq!(ImuKind::from_name("csv-stream"), Some(ImuKind::CsvStream));
        // Exact spelling: a profile is not a command line.
        assert_eq!(Backend::from_name("Tract"), None);
        assert_eq!(ExecutionProvider::from_name("CUDA"), None);
    }

    #[test]
    fn expected_lists_every_name() {
        assert_eq!(Backend::expected(), "\"tract\" or \"ort\"");
        assert_eq!(Split::expected(), "\"train\", \"val\" or \"test\"");
        assert_eq!(one_of(["ncm"]), "\"ncm\"");
    }
}
