//! Stages, how each ended, and why the pipeline could not start or a stage failed.

use crate::align::{AlignError, SpecError};
use crate::encode::EncodeError;
use crate::sample::Modality;
use crate::sensor::SourceError;

/// A thread of the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// A source thread, by the source's name.
    Source(String),
    Aligner,
    Encoder,
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stage::Source(name) => write!(f, "source `{name}`"),
            Stage::Aligner => f.write_str("aligner"),
            Stage::Encoder => f.write_str("encoder"),
        }
    }
}

/// How a stage that did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageEnd {
    /// Its input ended and everything it held was passed on.
    Finished,
    /// The shutdown was triggered.
    Stopped,
    /// The stage it feeds is gone (it failed, or the consumer dropped the output).
    Abandoned,
}

/// One stage's outcome, as `Pipeline::join` returns it.
#[derive(Debug)]
pub struct StageOutcome {
    pub stage: Stage,
    pub result: Result<StageEnd, PipelineError>,
}

/// Why the pipeline could not start, or why one stage stopped early.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("the pipeline has no sources")]
    NoSources,
    #[error("two sources are named `{name}`; names identify sources in health and errors")]
    DuplicateName { name: String },
    #[error("sources `{first}` and `{second}` both emit {modality}; the aligner takes one stream per modality")]
    DuplicateModality {
        modality: Modality,
        first: String,
        second: String,
    },
    #[error("source `{source_name}` emits audio, but encoder {encoder} has no audio input (its modalities: {modalities})")]
    AudioUnsupported {
        source_name: String,
        encoder: String,
        modalities: String,
    },
    #[error("window spec and encoder {encoder} disagree on {what}: the spec has {spec}, the encoder takes {model}")]
    SpecMismatch {
        encoder: String,
        what: &'static str,
        spec: String,
        model: String,
    },
    #[error("window spec with frames reduced to {width}x{height}: {error}")]
    FrameSize {
        width: u32,
        height: u32,
        error: SpecError,
    },
    #[error("aligner cannot start: {0}")]
    Align(AlignError),
    #[error("cannot start the {stage} thread")]
    Spawn {
        stage: Stage,
        source: std::io::Error,
    },
    #[error("source `{name}` failed: {error}")]
    Source { name: String, error: SourceError },
    #[error("encoder {encoder} failed on windows {first_seq}..={last_seq}: {error}")]
    Encode {
        encoder: String,
        first_seq: u64,
        last_seq: u64,
        error: EncodeError,
    },
    #[error("the {stage} thread panicked")]
    Panicked { stage: Stage },
    #[error("the {stage} thread did not stop within {waited_ms} ms of the shutdown; left running")]
    JoinTimeout { stage: Stage, waited_ms: u64 },
}

/// Every stage's outcome, sources first, then the aligner, then the encoder.
#[derive(Debug)]
pub struct PipelineOutcome {
    pub stages: Vec<StageOutcome>,
}

impl PipelineOutcome {
    pub fn stage(&self, stage: &Stage) -> Option<&StageOutcome> {
        self.stages.iter().find(|s| &s.stage == stage)
    }

    /// The errors of the stages that failed, in stage order.
    pub fn errors(&self) -> impl Iterator<Item = &PipelineError> {
        self.stages.iter().filter_map(|s| s.result.as_ref().err())
    }

    /// `Ok` when no stage failed, else the first failure.
    pub fn into_result(self) -> Result<(), PipelineError> {
        match self.stages.into_iter().find_map(|s| s.result.err()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
