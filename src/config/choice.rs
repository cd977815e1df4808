//! The closed sets of names a profile may choose from (backend, execution
//! provider, strategy, split, IMU kind), each a Rust enum spelled in TOML as the
//! lower-case name listed here.

use std::fmt;

/// An enum whose values are written in a profile by name.
pub trait Choice: Copy + Sized + 'static {
    /// Every value, in the order error messages list them.
    const ALL: &'static [Self];
    /// The name written in TOML.
    fn name(self) -> &'static str;

    /// The value written as `name`, if there is one.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == name)
    }

    /// `"a", "b" or "c"` for error messages.
    fn expected() -> String {
        let names: Vec<String> = Self::ALL
            .iter()
            .map(|v| format!("{:?}", v.name()))
            .collect();
        match names.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }
}

macro_rules! choice {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl Choice for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];
            fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

choice! {
    /// Which ONNX runtime runs the encoder.
    Backend {
        /// Pure Rust, always built (feature `tract`).
        Tract = "tract",
        /// ONNX Runtime loaded at run time (feature `ort`), with execution providers.
        Ort = "ort",
    }
}

choice! {
    /// An ONNX Runtime execution provider; a profile lists them in order of preference.
    ExecutionProvider {
        TensorRt = "tensorrt",
        Cuda = "cuda",
        OpenVino = "openvino",
        Qnn = "qnn",
        Xnnpack = "xnnpack",
        CoreMl = "coreml",
        Cpu = "cpu",
    }
}

choice! {
    /// The continual-learning strategy the learner runs (see `learn`).
    Strategy {
        Finetune = "finetune",
        Joint = "joint",
        Ewc = "ewc",
        Lwf = "lwf",
        Er = "er",
        Icarl = "icarl",
        Proto = "proto",
        Ncm = "ncm",
        Analytic = "analytic",
    }
}

choice! {
    /// A dataset split list (`train.txt`, `val.txt`, `test.txt`).
    Split {
        Train = "train",
        Val = "val",
        Test = "test",
    }
}

choice! {
    /// How the IMU is read.
    ImuKind {
        /// Linux Industrial I/O: a sysfs device directory or `/dev/iio:deviceN`.
        Iio = "iio",
        /// Comma-separated readings from a file, FIFO or serial port (format: `sensor::imu`).
        CsvStream = "csv-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for ep in ExecutionProvider::ALL {
            assert_eq!(ExecutionProvider::from_name(ep.name()), Some(*ep));
        }
        assert_eq!(ImuKind::from_name("csv-stream"), Some(ImuKind::CsvStream));
        assert_eq!(Backend::from_name("Tract"), None);
    }

    #[test]
    fn expected_lists_every_name() {
        assert_eq!(Backend::expected(), "\"tract\" or \"ort\"");
        assert_eq!(Split::expected(), "\"train\", \"val\" or \"test\"");
    }
}
