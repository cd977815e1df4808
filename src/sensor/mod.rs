//! Sources of samples: the `Source` trait and its implementations.
//!
//! A source runs on its own thread (see `pipeline`) and hands out samples in
//! timestamp order. Implemented so far: `replay` (dataset clips played back on a
//! clock). Live camera (nokhwa), IMU (IIO) and microphone (cpal) sources arrive
//! with the daemon and implement the same trait.

pub mod replay;

use crate::sample::{Modality, Sample};

/// Why a source stopped.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("replay of clip {clip}: {source}")]
    Dataset {
        clip: String,
        source: Box<crate::dataset::DatasetError>,
    },
}

/// A stream of samples from one device (or one recording).
///
/// Required: `modalities` (what it may emit, fixed for its life) and `next_sample`.
/// `next_sample` returns samples of each modality in non-decreasing timestamp order;
/// `Ok(None)` means the stream ended and every later call returns `Ok(None)` too; an
/// error ends the stream as well (the pipeline reports it and stops that source).
pub trait Source: Send {
    fn modalities(&self) -> &[Modality];
    fn next_sample(&mut self) -> Result<Option<Sample>, SourceError>;
}
