//! mmcl: on-device multimodal continual learning.
//!
//! Modules in data-path order (DESIGN.md draws the whole path):
//! - `time`, `sample`: monotonic timestamps, injected clocks, and one reading of one sensor.
//! - `shutdown`: the stop signal the caller hands to every pipeline stage.
//! - `config`: TOML device profiles, `RawConfig` validated once into `Config`.
//! - `dataset`: the UESTC-MMEA-CL layout (lists, frames, mp4, sensor CSV) and the
//!   synthetic generator that writes the same layout.
//! - `sensor`: the `Source` contract; dataset replay, IMU streams (camera, microphone with the daemon).
//! - `pipeline`: the thread graph: sources, bounded channels, aligner, encoder; health.
//! - `align`: timestamped sample streams cut into aligned `Window`s.
//! - `window`: the aligned span the encoder sees, with per-modality presence.
//! - `encode`: the frozen ONNX encoder (tract by default, ONNX Runtime behind `ort`).
//! - `embedding`: the encoder's checked output vector.
//! - `learn`: the continual learner: strategies, bounded replay, prototypes.
//! - `eval`: the continual-learning protocol, metrics and reports.
//! - `store`: the snapshot store and the journal of enrollments: crash-safe state on disk.
//! - `envelope`: the one framing (magic, version, length, checksum) every file format shares,
//!   its field codec, and the one atomic file write.
//! - `cli`: the `mmcl` command line, one file per command.

pub mod align;
pub mod classes;
pub mod cli;
pub mod config;
pub mod control;
pub mod daemon;
pub mod dataset;
pub mod embedding;
pub mod encode;
pub mod envelope;
pub mod eval;
pub mod learn;
pub mod pipeline;
pub mod sample;
pub mod sensor;
pub mod shutdown;
pub mod store;
pub mod time;
pub mod window;
