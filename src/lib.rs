//! mmcl: on-device multimodal continual learning.
//!
//! Modules in data-path order (DESIGN.md draws the whole path):
//! - `time`, `sample`: monotonic timestamps, injected clocks, and one reading of one sensor.
//! - `fsread`: reading untrusted files: regular files only, size caps, never blocking.
//! - `config`: TOML device profiles, `RawConfig` validated once into `Config`.
//! - `dataset`: the UESTC-MMEA-CL layout (lists, frames, mp4, sensor CSV) and the
//!   synthetic generator that writes the same layout.
//! - `sensor`: sample sources (dataset replay now; camera, IMU, microphone with the daemon).
//! - `pipeline`: source threads, bounded channels with named drop policies, the window stream.
//! - `align`: timestamped sample streams cut into aligned `Window`s.
//! - `window`: the aligned span the encoder sees, with per-modality presence.
//! - `encode`: the frozen ONNX encoder (tract by default, ONNX Runtime behind `ort`).
//! - `embedding`: the encoder's checked output vector.
//! - `learn`: the continual learner: strategies, bounded replay, prototypes.
//! - `eval`: the continual-learning protocol, metrics and reports.
//! - `store`: versioned snapshot files of the learner state, written atomically.
//! - `cli`: the `mmcl` command line, one file per command.

pub mod align;
pub mod cli;
pub mod config;
pub mod dataset;
pub mod embedding;
pub mod encode;
pub mod eval;
pub mod fsread;
pub mod learn;
pub mod pipeline;
pub mod sample;
pub mod sensor;
pub mod store;
pub mod time;
pub mod window;
