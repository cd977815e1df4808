//! `[learner]`: the continual-learning strategy, the memory budget it must stay
//! within, and the seed that makes its random choices repeatable. Strategy
//! names are `learn::Strategy`'s; `learner_config` hands the section to
//! `learn::build` with every hyper-parameter a profile does not set at the
//! strategy's defaults. The defaults are the learner's own (one definition):
//! its default strategy and seed, and the benchmark budget for the encoder's
//! embedding dimension (`learn::default_budget`) when no budget is set.

use super::bytes::parse_bytes;
use super::check::Checker;
use super::error::ConfigErrors;
use super::raw::{RawBytes, RawLearner};
use crate::learn;
use std::path::Path;

/// The product default: the learner's own default strategy.
pub fn default_strategy() -> learn::Strategy {
    learn::LearnerConfig::default().strategy
}

/// The validated `[learner]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct LearnerConfig {
    strategy: learn::Strategy,
    /// `None`: the benchmark budget for the encoder's dimension (`learn::default_budget`).
    budget_bytes: Option<u64>,
    seed: u64,
}

impl Default for LearnerConfig {
    fn default() -> LearnerConfig {
        LearnerConfig {
            strategy: default_strategy(),
            budget_bytes: None,
            seed: learn::LearnerConfig::default().seed,
        }
    }
}

impl LearnerConfig {
    /// Checks a `[learner]` table on its own (benchmarks sweep strategies and budgets).
    pub fn new(raw: &RawLearner) -> Result<LearnerConfig, ConfigErrors> {
        let mut c = Checker::new(Path::new(""));
        let built = LearnerConfig::from_raw(raw, &mut c);
        c.finish(built).map(|(checked, _warnings)| checked)
    }

    pub fn strategy(&self) -> learn::Strategy {
        self.strategy
    }

    /// The most bytes the learner's state (head + memory) may hold, > 0, as the
    /// profile sets it; `None` = `learn::default_budget` of the encoder's dimension.
    pub fn budget_bytes(&self) -> Option<u64> {
        self.budget_bytes
    }

    /// The budget for embeddings of dimension `dim`: the profile's, else the default.
    pub fn budget_for(&self, dim: usize) -> u64 {
        self.budget_bytes
            .unwrap_or(learn::default_budget(dim) as u64)
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// What `learn::build(dim, ..)` needs: the strategy's defaults
    /// (`learn::LearnerConfig::for_strategy`) with this profile's budget and seed, and no
    /// modality blocks (`learner_config_for` gives the encoder's).
    pub fn learner_config(&self, dim: usize) -> learn::LearnerConfig {
        self.learner_config_for(dim, &[])
    }

    /// `learner_config` with the embedding's modality blocks (`learn::modality_blocks` of the
    /// encoder contract), so the learner stays accurate when a modality is absent.
    pub fn learner_config_for(&self, dim: usize, blocks: &[usize]) -> learn::LearnerConfig {
        learn::LearnerConfig {
            // A budget beyond the address space cannot be reached anyway.
            budget_bytes: usize::try_from(self.budget_for(dim)).unwrap_or(usize::MAX),
            seed: self.seed,
            ..learn::LearnerConfig::for_embedding(self.strategy, dim, blocks)
        }
    }

    pub(crate) fn from_raw(raw: &RawLearner, c: &mut Checker) -> Option<LearnerConfig> {
        let strategy = match &raw.strategy {
            Some(name) => c.choice("learner.strategy", name),
            None => Some(default_strategy()),
        };
        let budget = match &raw.budget_bytes {
            Some(b) => budget_bytes(b, c).map(Some),
            None => Some(None),
        };
        // TOML integers are i64, so a seed above i64::MAX could not be written back.
        let seed = c.int_in(
            "learner.seed",
            raw.seed
                .unwrap_or(learn::LearnerConfig::default().seed as i64),
            0,
            i64::MAX,
        );
        Some(LearnerConfig {
            strategy: strategy?,
            budget_bytes: budget?,
            seed: seed?,
        })
    }

    pub(crate) fn to_raw(&self) -> RawLearner {
        RawLearner {
            strategy: Some(self.strategy.name().to_string()),
            // Lossless: validation keeps the budget within i64.
            budget_bytes: self
                .budget_bytes
                .map(|b| RawBytes::Count(i64::try_from(b).unwrap_or(i64::MAX))),
            seed: Some(i64::try_from(self.seed).unwrap_or(i64::MAX)),
        }
    }
}

/// An integer or a string with a unit, > 0 and within TOML's integer range so the
/// effective config can be written back as a plain integer.
fn budget_bytes(raw: &RawBytes, c: &mut Checker) -> Option<u64> {
    const KEY: &str = "learner.budget_bytes";
    match raw {
        RawBytes::Count(n) => c.int_in(KEY, *n, 1, i64::MAX),
        RawBytes::Text(text) => match parse_bytes(text) {
            Ok(n) if n > 0 && i64::try_from(n).is_ok() => Some(n),
            Ok(_) => c.error(
                KEY,
                format!("{text:?}"),
                format!("must be in 1..={} bytes", i64::MAX),
            ),
            Err(why) => c.error(KEY, format!("{text:?}"), why),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_reads_units() {
        let raw = RawLearner {
            budget_bytes: Some(RawBytes::Text("256KiB".into())),
            ..Default::default()
        };
        assert_eq!(
            LearnerConfig::new(&raw).unwrap().budget_bytes(),
            Some(256 * 1024)
        );
        let raw = RawLearner {
            budget_bytes: Some(RawBytes::Count(4096)),
            ..Default::default()
        };
        assert_eq!(LearnerConfig::new(&raw).unwrap().budget_bytes(), Some(4096));
    }

    #[test]
    fn bad_values_are_all_named() {
        let raw = RawLearner {
            strategy: Some("gem".into()),
            budget_bytes: Some(RawBytes::Text("0MiB".into())),
            seed: Some(-1),
        };
        let text: Vec<String> = LearnerConfig::new(&raw)
            .unwrap_err()
            .errors
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(text.len(), 3);
        assert!(
            text[0].starts_with("learner.strategy = \"gem\": must be one of \"finetune\""),
            "{}",
            text[0]
        );
        assert!(
            text[1].starts_with("learner.budget_bytes = \"0MiB\": must be in 1..="),
            "{}",
            text[1]
        );
        assert_eq!(
            text[2],
            format!("learner.seed = -1: must be in 0..={}", i64::MAX)
        );
    }

    #[test]
    fn every_strategy_is_accepted_and_handed_to_the_learner() {
        for name in learn::Strategy::ALL {
            let raw = RawLearner {
                strategy: Some(name.to_string()),
                budget_bytes: Some(RawBytes::Text("3MiB".into())),
                seed: Some(7),
            };
            let config = LearnerConfig::new(&raw).unwrap().learner_config(2184);
            assert_eq!(
                (config.strategy, config.budget_bytes, config.seed),
                (name, 3 << 20, 7)
            );
            // Every hyper-parameter a profile cannot set is the strategy's default.
            let defaults = learn::LearnerConfig::for_strategy(name, 2184);
            let rest = learn::LearnerConfig {
                budget_bytes: defaults.budget_bytes,
                seed: defaults.seed,
                ..config.clone()
            };
            assert_eq!(rest, defaults);
            assert!(config.validate().is_ok(), "{name}");
        }
    }

    #[test]
    fn zero_budget_is_refused() {
        let raw = RawLearner {
            budget_bytes: Some(RawBytes::Count(0)),
            ..Default::default()
        };
        assert!(LearnerConfig::new(&raw)
            .unwrap_err()
            .has_key("learner.budget_bytes"));
    }
}

#[cfg(test)]
mod default_tests {
    use super::*;

    #[test]
    fn defaults_are_the_learners_own() {
        let c = LearnerConfig::new(&RawLearner::default()).unwrap();
        let learner = learn::LearnerConfig::default();
        assert_eq!((c.strategy(), c.seed()), (learner.strategy, learner.seed));
        assert_eq!(c.budget_bytes(), None);
        assert_eq!(c.budget_for(2184), learn::default_budget(2184) as u64);
        assert_eq!(c.learner_config(2184).budget_bytes, 160 * 2184 * 4);
        assert_eq!(c.to_raw().budget_bytes, None);
    }
}
