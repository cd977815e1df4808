//! The UESTC-MMEA-CL dataset layout, read from disk: split lists (`list`), raw
//! sensor CSVs converted to IMU samples (`sensor`, `median`), frame folders
//! (`frames`, `jpeg`) and `.mp4` clips (`mp4`, optional feature), joined into
//! `Dataset` / `Clip` / `VideoSource` (`clip`, `video`), frames decoded within
//! bounds (`decode`), a clip read as the encoder reads it (`windows`), and the
//! `dataset check` report (`check`); `synth` writes synthetic datasets in the same
//! layout. `layout` says where each file lives; DESIGN.md describes the format.
//! Files are read through `fsread` (regular files, size caps). Every refused input
//! is a `DatasetError` naming its file and line.

pub mod check;
pub mod clip;
pub mod decode;
pub mod error;
pub mod frames;
pub mod jpeg;
pub mod layout;
pub mod list;
pub mod median;
pub mod mp4;
pub mod sensor;
pub mod synth;
pub mod video;
pub mod windows;

pub use clip::{Clip, Dataset};
pub use error::DatasetError;
pub use layout::Split;
pub use list::ClipEntry;
pub use video::{VideoSource, VideoStorage};
