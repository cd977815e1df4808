//! The small hyper-parameter sweep `bench cl --sweep-val` runs on the val split, from which
//! the learner's defaults are chosen (docs/learning.md): never on test.
//!
//! Each strategy has a few settings around its defaults; a setting is a name (which is also
//! the run's name in the sweep report) and the change it makes to the strategy's config.

use crate::learn::{LearnerConfig, Strategy};

/// One point of the sweep: what it is called and the config it runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// `<strategy>-<parameter>-<value>`, e.g. `proto-scale-32`.
    pub name: String,
    pub config: LearnerConfig,
}

/// Logit scales of the cosine head tried for the SGD strategies.
const SCALES: [f32; 4] = [16.0, 32.0, 64.0, 128.0];
/// Fixed ridge lambdas tried for analytic (with and without the ReLU).
const RIDGES: [f64; 3] = [1.0, 10.0, 100.0];
/// Covariance shrinkages tried for ncm, icarl and joint (0: their form without it, the cosine
/// to the class means or the SGD head).
const SHRINKAGES: [f32; 5] = [0.0, 0.01, 0.03, 0.1, 0.3];
/// proto: pseudo-features per new embedding tried besides the default (0: replay alone).
const PSEUDO_RATIOS: [f32; 4] = [0.0, 0.5, 2.0, 4.0];
/// proto: distillation weights tried besides the default 0 (off).
const PROTO_DISTILLS: [f32; 1] = [1.0];

/// The settings swept for `strategy`, each built on `base` (the strategy's defaults with the
/// benchmark's budget and modality blocks): the cosine head's scale, analytic's ridge and ReLU,
/// the covariance shrinkage of ncm, icarl and joint (joint also each scale of its SGD head),
/// for the heads with `standardize` the same head without it, and proto's pseudo-feature ratio
/// and distillation weight.
pub fn settings(strategy: Strategy, base: &LearnerConfig) -> Vec<Setting> {
    let named = |what: String, config: LearnerConfig| Setting {
        name: format!("{strategy}-{what}"),
        config,
    };
    let shrunk = SHRINKAGES.iter().filter(|a| **a > 0.0).map(|a| {
        let config = LearnerConfig {
            shrinkage: *a,
            ..base.clone()
        };
        named(format!("shrinkage-{a}"), config)
    });
    match strategy {
        Strategy::Ncm | Strategy::Icarl => {
            let plain = LearnerConfig {
                shrinkage: 0.0,
                ..base.clone()
            };
            std::iter::once(named("cosine".into(), plain))
                .chain(shrunk)
                .collect()
        }
        Strategy::Analytic => {
            let mut out = Vec::new();
            for relu in [false, true] {
                for ridge in RIDGES {
                    let config = LearnerConfig {
                        relu,
                        ridge,
                        ridge_select: false,
                        ..base.clone()
                    };
                    out.push(named(format!("relu-{relu}-ridge-{ridge}"), config));
                }
                let config = LearnerConfig {
                    relu,
                    ridge_select: true,
                    ..base.clone()
                };
                out.push(named(format!("relu-{relu}-ridge-select"), config));
            }
            out
        }
        _ => {
            let scales = SCALES.iter().map(|scale| {
                let config = LearnerConfig {
                    scale: *scale,
                    shrinkage: 0.0,
                    ..base.clone()
                };
                named(format!("scale-{scale}"), config)
            });
            // The head without the per-block feature map, at the default scale.
            let plain = LearnerConfig {
                scale: 64.0,
                shrinkage: 0.0,
                standardize: false,
                ..base.clone()
            };
            let plain = base
                .standardize
                .then(|| named("scale-64-plain".into(), plain));
            let joint = strategy == Strategy::Joint;
            let proto = (strategy == Strategy::Proto).then(|| proto_settings(base));
            let proto = proto.into_iter().flatten().map(|(what, c)| named(what, c));
            scales
                .chain(plain)
                .chain(shrunk.filter(|_| joint))
                .chain(proto)
                .collect()
        }
    }
}

/// proto's own settings at the default scale: the pseudo-feature ratios and distillation weights.
fn proto_settings(base: &LearnerConfig) -> Vec<(String, LearnerConfig)> {
    let ratios = PSEUDO_RATIOS.iter().map(|r| {
        let config = LearnerConfig {
            pseudo_ratio: *r,
            ..base.clone()
        };
        (format!("pseudo-{r}"), config)
    });
    let distills = PROTO_DISTILLS.iter().map(|d| {
        let config = LearnerConfig {
            proto_distill: *d,
            ..base.clone()
        };
        (format!("distill-{d}"), config)
    });
    ratios.chain(distills).collect()
}

/// The settings of `all` named in `only` (every one when `only` is empty), in `all`'s order;
/// a name that is none of them is refused, listing those there are.
pub fn select(all: Vec<Setting>, only: &[String]) -> Result<Vec<Setting>, String> {
    if let Some(unknown) = only.iter().find(|n| !all.iter().any(|s| &&s.name == n)) {
        let known: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
        return Err(format!(
            "no sweep setting {unknown:?} for these strategies (known: {})",
            known.join(", ")
        ));
    }
    Ok(all
        .into_iter()
        .filter(|s| only.is_empty() || only.contains(&s.name))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_is_valid_named_and_built_on_the_base() {
        for strategy in Strategy::ALL {
            let base = LearnerConfig::for_embedding(strategy, 8, &[3, 5]);
            let all = settings(strategy, &base);
            assert!(!all.is_empty());
            for s in &all {
                s.config.validate().expect("valid");
                assert!(s.name.starts_with(strategy.name()), "{}", s.name);
                assert_eq!(
                    (&s.config.modality_dims, s.config.budget_bytes),
                    (&base.modality_dims, base.budget_bytes)
                );
            }
            let mut names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), all.len());
        }
    }

    #[test]
    fn proto_sweeps_its_pseudo_ratio_and_distillation_around_its_defaults() {
        let base = LearnerConfig::for_embedding(Strategy::Proto, 8, &[3, 5]);
        let all = settings(Strategy::Proto, &base);
        let ratio = |name: &str| {
            all.iter()
                .find(|s| s.name == name)
                .map(|s| s.config.pseudo_ratio)
        };
        assert_eq!(ratio("proto-pseudo-0"), Some(0.0));
        assert_eq!(ratio("proto-pseudo-4"), Some(4.0));
        let distill = all.iter().find(|s| s.name == "proto-distill-1").unwrap();
        assert_eq!(distill.config.proto_distill, 1.0);
        assert_eq!(distill.config.scale, base.scale);
        assert!(!settings(Strategy::Er, &base)
            .iter()
            .any(|s| s.name.contains("pseudo")));
    }

    #[test]
    fn select_keeps_the_named_settings_in_order_and_refuses_an_unknown_name() {
        let base = LearnerConfig::for_embedding(Strategy::Ncm, 8, &[3, 5]);
        let all = settings(Strategy::Ncm, &base);
        assert_eq!(select(all.clone(), &[]).unwrap().len(), all.len());
        let only = ["ncm-shrinkage-0.1".to_string(), "ncm-cosine".to_string()];
        let names: Vec<String> = select(all.clone(), &only)
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["ncm-cosine", "ncm-shrinkage-0.1"]);
        let err = select(all, &["ncm-shrinkage-9".to_string()]).unwrap_err();
        assert!(
            err.contains("\"ncm-shrinkage-9\"") && err.contains("ncm-cosine"),
            "{err}"
        );
    }
}
