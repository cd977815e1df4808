//! Start-up recovery (DESIGN.md "State on disk"): the newest valid snapshot of the state
//! directory, plus the journal records after it, replayed through `ClassModel::apply` in
//! order. A torn journal tail is cut (the store reports it), a damaged newer snapshot falls
//! back to the previous one with a warning, and a snapshot made with another encoder is
//! refused by name: its embeddings mean nothing to this encoder.

use super::DaemonError;
use crate::classes::{Change, ClassModel};
use crate::config::Settings;
use crate::learn;
use crate::store::StateDir;

/// What start-up found: the open state directory, the model, and what to tell the user.
pub struct Recovered {
    pub state: StateDir,
    pub model: ClassModel,
    /// The snapshot started from, if any.
    pub snapshot_seq: Option<u64>,
    /// Journal records replayed on it.
    pub replayed: usize,
    pub warnings: Vec<String>,
}

/// Opens `settings`' state directory and rebuilds the model from it.
pub fn recover(settings: &Settings) -> Result<Recovered, DaemonError> {
    let dir = settings.config().state_dir();
    let keep = settings.config().daemon().snapshots_kept();
    let (state, recovery) =
        StateDir::open(dir, &settings.contract().sha256, keep).map_err(|source| {
            DaemonError::State {
                dir: dir.to_path_buf(),
                source: Box::new(source),
            }
        })?;
    let mut warnings: Vec<String> = recovery.warnings.iter().map(|w| w.to_string()).collect();
    warnings.extend(
        recovery
            .strays
            .iter()
            .map(|p| format!("{}: not a file mmcl wrote; left alone", p.display())),
    );
    let (model, snapshot_seq) = match &recovery.snapshot {
        Some(stored) => {
            let model = ClassModel::restore(&stored.snapshot.sections).map_err(|source| {
                DaemonError::Snapshot {
                    path: stored.path.clone(),
                    source: Box::new(source),
                }
            })?;
            warnings.extend(profile_differences(settings, &model));
            (model, Some(stored.seq))
        }
        None => {
            let learner = learn::build(settings.contract().dim, settings.learner())
                .map_err(|source| DaemonError::Learner { source })?;
            (ClassModel::new(learner), None)
        }
    };
    for record in &recovery.records {
        let change = Change::decode(&record.payload).map_err(|source| DaemonError::Record {
            seq: record.seq,
            source,
        })?;
        if let Err(e) = model.apply(&change) {
            warnings.push(format!(
                "journal record {}: not applied again: {e}",
                record.seq
            ));
        }
    }
    Ok(Recovered {
        state,
        model,
        snapshot_seq,
        replayed: recovery.records.len(),
        warnings,
    })
}

/// What the learned state keeps although the profile now asks otherwise: the state wins
/// (it holds what was learned), and the user is told.
fn profile_differences(settings: &Settings, model: &ClassModel) -> Vec<String> {
    let now = model.current();
    let (learner, wanted) = (now.learner(), settings.learner());
    let mut out = Vec::new();
    if learner.name() != wanted.strategy.name() {
        out.push(format!(
            "the state holds a {} learner; the profile asks for {}: the state is kept (move the state directory aside to start a {} learner)",
            learner.name(),
            wanted.strategy,
            wanted.strategy
        ));
    }
    if learner.budget_bytes() != wanted.budget_bytes && wanted.strategy.name() == learner.name() {
        out.push(format!(
            "the state's learner has a budget of {} bytes; the profile asks for {}: the state's is kept",
            learner.budget_bytes(),
            wanted.budget_bytes
        ));
    }
    out
}
