//! `mmcl status`: the daemon's state in DESIGN.md's fields, assembled from the published
//! model, the predictor's figures, the pipeline's health and the replay's play log.

use super::replay::display_name;
use super::service::{lock, Daemon};
use super::stats::rss_bytes;
use crate::control::api::{ReplayStatus, SourceStatus, StatusReport};
use crate::pipeline::PipelineHealth;
use std::time::Instant;

impl Daemon {
    pub(super) fn status_report(&self) -> StatusReport {
        let health = self.health();
        let model = self.model.current();
        let p = lock(&self.predicting);
        let learner = model.learner();
        StatusReport {
            state: (*lock(&self.lifecycle)).to_string(),
            profile: self.settings.config().profile().to_string(),
            classes: model.book().len(),
            learner_bytes: learner.memory_bytes() as u64,
            budget_bytes: bounded(learner.budget_bytes()),
            rss_bytes: rss_bytes(),
            windows_per_s: p.stats.windows_per_s(Instant::now()),
            latency_ms: p.stats.latency(),
            dropped: health
                .as_ref()
                .map(|h| h.dropped.clone())
                .unwrap_or_default(),
            sources: health.as_ref().map(sources).unwrap_or_default(),
            backend: self.backend.name.to_string(),
            execution_provider: self.backend.execution_provider.clone(),
            snapshot_seq: *lock(&self.snapshot_seq),
            prediction: p.last.clone(),
            enrollment: lock(&self.capture).as_ref().map(|c| c.progress()),
            replay: self.play_log.as_ref().map(|log| ReplayStatus {
                clip: log.now_playing().map(|c| c.clip),
                true_class: log
                    .now_playing()
                    .map(|c| display_name(c.clip.split('/').next().unwrap_or_default())),
                online_accuracy: p.stats.online_accuracy(),
                windows_scored: p.stats.scored,
            }),
            pipeline: health
                .as_ref()
                .and_then(|h| serde_json::to_value(h).ok())
                .unwrap_or(serde_json::Value::Null),
        }
    }

    /// The pipeline's health now; `None` once it was stopped.
    pub fn health(&self) -> Option<PipelineHealth> {
        lock(&self.pipeline).as_ref().map(|p| p.health())
    }

    /// One line for systemd's `STATUS=` and the log.
    pub(super) fn status_line(&self) -> String {
        let s = self.status_report();
        let prediction = s
            .prediction
            .as_ref()
            .and_then(|p| p.class.clone())
            .unwrap_or_else(|| "-".into());
        let accuracy = s
            .replay
            .as_ref()
            .and_then(|r| r.online_accuracy)
            .map_or(String::new(), |a| {
                format!(", online accuracy {:.1} %", 100.0 * a)
            });
        format!(
            "{}: {} classes, {:.2} windows/s, now {prediction}{accuracy}",
            s.state, s.classes, s.windows_per_s
        )
    }
}

fn sources(h: &PipelineHealth) -> Vec<SourceStatus> {
    h.by_modality()
        .into_iter()
        .map(|m| SourceStatus {
            modality: m.modality.name().to_string(),
            source: m.source,
            state: serde_json::to_value(m.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            rate_hz: m.rate_hz,
        })
        .collect()
}

/// A learner's budget for `status`: `None` for an unbounded learner (its budget is
/// `usize::MAX`), which JSON shows as null rather than 18 446 744 073 709 551 615.
fn bounded(budget: usize) -> Option<u64> {
    (budget != usize::MAX).then(|| u64::try_from(budget).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::bounded;

    #[test]
    fn an_unbounded_budget_is_none() {
        assert_eq!(bounded(usize::MAX), None);
        assert_eq!(bounded(1_397_760), Some(1_397_760));
    }
}
