//! The device data path as a graph of threads: one thread per source, each
//! feeding a bounded channel per modality; one aligner thread fed by all of
//! them; a bounded window channel into one encoder thread; encoded windows out
//! on a bounded channel to the consumer (the daemon's predictor and enrollment).
//!
//! Threads are plain `std::thread`s joined by `crossbeam-channel` bounded
//! channels. A full channel applies its named `ChannelPolicy` and counts what it
//! cost: video frames `DropOldest` (a stale frame is worth less than a fresh
//! one), IMU and audio samples `Block` (never dropped; the time the source waits
//! is counted), windows and output `Block`. The caller's `Shutdown` is handed to
//! every stage; each stops within 100 ms of its trigger, and `join` reports each
//! stage's outcome by name (a hung source included, after a bounded wait).
//! docs/pipeline.md states the memory bound of every stage.
//!
//! - `settings`: channel capacities and policies, join timeout, frame size.
//! - `channel`: the policy-applying sender and its `Gauge`.
//! - `source_stage`, `align_stage`, `encode_stage`: the three kinds of thread.
//! - `reduce`: frames reduced to the encoder's input size at entry.
//! - `graph`: `Pipeline` (start, output, health, join, stop); `join`: the threads.
//! - `health`, `meter`: the serializable health snapshot and its bounded measures.
//! - `stage`: stage names, outcomes and `PipelineError`.
//! - `replay`: dataset clips through the graph, for the demo and tools.

mod align_stage;
mod channel;
mod encode_stage;
mod graph;
mod health;
mod join;
mod meter;
mod reduce;
mod replay;
mod settings;
mod source_stage;
mod stage;

pub use align_stage::SeqWindow;
pub use encode_stage::EncodedWindow;
pub use graph::Pipeline;
pub use health::{
    AlignerHealth, ChannelHealth, EncoderHealth, ModalityStatus, PipelineHealth, SourceHealth,
    SourceState, SourceStreamHealth, StageState,
};
pub use meter::{Percentiles, RateMeter, RecentValues};
pub use reduce::reduce_frame;
pub use replay::{replay_encoded, replay_windows};
pub use settings::{ChannelPolicy, ChannelSettings, PipelineSettings};
pub use stage::{PipelineError, PipelineOutcome, Stage, StageEnd, StageOutcome};

#[cfg(test)]
mod tests;
