//! Starting stage threads and joining them with a bound.
//!
//! `std::thread::JoinHandle` has no timed join, so `join_all` polls
//! `is_finished`: it waits as long as the stages run on their own, and once the
//! shutdown is triggered gives them `timeout` more. A stage still running then
//! (a source that ignores the `Source` contract) is reported by name and left
//! detached: the pipeline does not hang on it.

use super::stage::{PipelineError, Stage, StageEnd, StageOutcome};
use crate::shutdown::Shutdown;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A started stage thread.
pub(super) struct Running {
    pub stage: Stage,
    pub handle: JoinHandle<Result<StageEnd, PipelineError>>,
}

/// Starts `body` on a thread named after `stage`; the spawn error by name.
pub(super) fn spawn(
    stage: Stage,
    body: impl FnOnce() -> Result<StageEnd, PipelineError> + Send + 'static,
) -> Result<Running, PipelineError> {
    let name = match &stage {
        Stage::Source(name) => format!("mmcl-src-{name}"),
        Stage::Aligner => "mmcl-aligner".into(),
        Stage::Encoder => "mmcl-encoder".into(),
    };
    match std::thread::Builder::new().name(name).spawn(body) {
        Ok(handle) => Ok(Running { stage, handle }),
        Err(source) => Err(PipelineError::Spawn { stage, source }),
    }
}

/// How often `join_all` looks at the threads once the shutdown is triggered.
const POLL: Duration = Duration::from_millis(1);
/// How often before the trigger (stages may run for hours on their own).
const IDLE_POLL: Duration = Duration::from_millis(5);

/// Waits for every stage as described above; one outcome per stage, in order.
pub(super) fn join_all(
    stages: Vec<Running>,
    shutdown: &Shutdown,
    timeout: Duration,
) -> Vec<StageOutcome> {
    let mut deadline: Option<Instant> = None;
    while !stages.iter().all(|s| s.handle.is_finished()) {
        if deadline.is_none() && shutdown.is_triggered() {
            deadline = Some(Instant::now() + timeout);
        }
        match deadline {
            Some(d) if Instant::now() >= d => break,
            Some(_) => std::thread::sleep(POLL),
            None => {
                shutdown.wait_timeout(IDLE_POLL);
            }
        }
    }
    let waited_ms = timeout.as_millis() as u64;
    stages.into_iter().map(|s| outcome(s, waited_ms)).collect()
}

fn outcome(s: Running, waited_ms: u64) -> StageOutcome {
    let Running { stage, handle } = s;
    if !handle.is_finished() {
        let result = Err(PipelineError::JoinTimeout {
            stage: stage.clone(),
            waited_ms,
        });
        return StageOutcome { stage, result };
    }
    let result = match handle.join() {
        Ok(result) => result,
        Err(_) => Err(PipelineError::Panicked {
            stage: stage.clone(),
        }),
    };
    StageOutcome { stage, result }
}
