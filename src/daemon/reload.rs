//! SIGHUP: reload the profile and apply what can change while running — the `[daemon]`
//! section (smoothing, hysteresis, checkpoint policy, enrollment bound) — and refuse the
//! rest by name: a new encoder, window, learner, source or socket needs a restart, since
//! the pipeline, the learned state and the clients depend on them.

use super::service::{lock, Daemon};
use super::smooth::Smoother;
use crate::config::Config;

/// What a reload did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reloaded {
    /// `[daemon]` keys whose new values are in force.
    pub applied: Vec<String>,
    /// Sections that differ but can only change with a restart.
    pub refused: Vec<String>,
}

impl Daemon {
    /// Applies `new`'s live settings (see the module docs).
    pub fn reload(&self, new: &Config) -> Reloaded {
        let (old, fresh) = (self.settings.config().to_raw(), new.to_raw());
        let mut refused = Vec::new();
        let sections = [
            ("profile", old.profile != fresh.profile),
            ("state_dir", old.state_dir != fresh.state_dir),
            ("[encoder]", old.encoder != fresh.encoder),
            ("[window]", old.window != fresh.window),
            ("[learner]", old.learner != fresh.learner),
            ("[sources]", old.sources != fresh.sources),
            ("[channels]", old.channels != fresh.channels),
            ("[control]", old.control != fresh.control),
        ];
        for (name, differs) in sections {
            if differs {
                refused.push(name.to_string());
            }
        }
        let mut live = lock(&self.live);
        let applied = changed_keys(&live.to_raw_toml(), &new.daemon().to_raw_toml());
        if !applied.is_empty() {
            *live = new.daemon().clone();
            lock(&self.predicting).smoother = Smoother::new(&live);
        }
        Reloaded { applied, refused }
    }
}

/// The `[daemon]` keys whose values differ between two renderings of the section.
fn changed_keys(old: &toml::Table, new: &toml::Table) -> Vec<String> {
    new.iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, _)| format!("daemon.{k}"))
        .collect()
}
