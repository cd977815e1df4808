//! `Strategy`, the closed set of continual-learning strategies, and `LearnerConfig`: the
//! strategy, the byte budget, the seed and every strategy's hyper-parameters, validated once
//! (`LearnerConfig::validate`) before a learner is built.
//!
//! Defaults are the values the benchmark uses; each field says which strategies read it. A
//! learner snapshot stores the config field by field under its own config version
//! (`snapshot::config`), so renaming or removing a field here needs a new config version there.

use super::quant::Quant;
use super::whiten::MAX_BLOCKS;
use super::LearnError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A continual-learning strategy (`strategies/` holds one file per strategy). Its `name` is
/// the spelling profiles, the command line, reports and snapshots use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Plain SGD on each task: the lower bound.
    Finetune,
    /// Elastic weight consolidation.
    Ewc,
    /// Learning without forgetting (distillation).
    Lwf,
    /// Experience replay.
    Er,
    /// iCaRL: herding exemplars, nearest-mean-of-exemplars classifier.
    Icarl,
    /// SGD head + replay + prototypes.
    Proto,
    /// Nearest class mean (under a shared covariance with `shrinkage > 0`): the product
    /// default (`LearnerConfig::default`, chosen on val: firmware-config/README.md).
    Ncm,
    /// Closed-form ridge head on random features.
    Analytic,
    /// Retrains on everything seen: the upper bound.
    Joint,
}

impl Strategy {
    /// Every strategy: lower bound first, upper bound last (the order reports list them in).
    pub const ALL: [Strategy; 9] = [
        Strategy::Finetune,
        Strategy::Ewc,
        Strategy::Lwf,
        Strategy::Er,
        Strategy::Icarl,
        Strategy::Proto,
        Strategy::Ncm,
        Strategy::Analytic,
        Strategy::Joint,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Finetune => "finetune",
            Strategy::Ewc => "ewc",
            Strategy::Lwf => "lwf",
            Strategy::Er => "er",
            Strategy::Icarl => "icarl",
            Strategy::Proto => "proto",
            Strategy::Ncm => "ncm",
            Strategy::Analytic => "analytic",
            Strategy::Joint => "joint",
        }
    }

    /// `finetune, ewc, ...` for messages.
    pub fn names() -> String {
        Strategy::ALL.map(Strategy::name).join(", ")
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// A strategy name that is none of `Strategy::ALL`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown strategy {name:?} (known: {})", Strategy::names())]
pub struct UnknownStrategy {
    pub name: String,
}

impl FromStr for Strategy {
    type Err = UnknownStrategy;

    /// The exact spelling of `name()`.
    fn from_str(name: &str) -> Result<Strategy, UnknownStrategy> {
        Strategy::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| UnknownStrategy { name: name.into() })
    }
}

/// The SGD head's form (`head.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum HeadKind {
    /// `W x̂ + b` on the L2-normalized embedding.
    Linear,
    /// `scale * cos(w_c, x)`: no bias, no weight-norm drift towards new classes (Hou et al. 2019).
    #[default]
    Cosine,
}

/// Everything needed to build a learner. Unknown fields are refused (TOML profiles embed it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LearnerConfig {
    pub strategy: Strategy,
    /// Upper bound on `memory_bytes()` (all strategies but `joint`, whose budget is `usize::MAX`).
    pub budget_bytes: usize,
    /// Seeds every random choice (initialization, shuffles, pseudo-features, projection).
    pub seed: u64,
    /// SGD head form (finetune, joint, ewc, lwf, er, proto).
    pub head: HeadKind,
    /// Multiplies cosine similarities (cosine head, ncm, icarl) and ridge outputs (analytic)
    /// into logits; also the confidence's softmax sharpness. For the cosine head it is the
    /// softmax temperature SGD trains under: at 16 the head cannot fit these embeddings' class
    /// margins (a cap near 83 % on val for joint); 64 was best of 16, 32, 64, 128 on val
    /// for joint, er and proto (docs/learning.md; `head_scale` gives each strategy its own
    /// val choice). For ncm, icarl and analytic it changes no prediction, only how sharp the
    /// confidence is.
    pub scale: f32,
    /// SGD passes over each `learn` call's training set.
    pub epochs: usize,
    /// SGD step size.
    pub lr: f32,
    /// SGD momentum (heavy ball), reset at every `learn`.
    pub momentum: f32,
    /// SGD mini-batch size.
    pub batch_size: usize,
    /// Class-balanced loss weights in SGD (each class present weighs the same).
    pub balanced: bool,
    /// Distillation temperature (lwf, proto when `proto_distill > 0`).
    pub temperature: f32,
    /// Weight of the distillation loss in lwf (Li & Hoiem 2016 use 1).
    pub lwf_lambda: f32,
    /// Weight of the distillation loss in proto (0 = off).
    pub proto_distill: f32,
    /// EWC penalty strength (Kirkpatrick et al. 2017).
    pub ewc_lambda: f32,
    /// Online-EWC decay of the old Fisher at each learn (Schwarz et al. 2018; 1 = plain sum).
    pub ewc_decay: f32,
    /// Exemplar encoding in the replay buffer (er, icarl, proto).
    pub quant: Quant,
    /// proto: pseudo-features drawn per new embedding (spread evenly over the old classes).
    /// 0.5 was chosen on the val split among 0, 0.5, 1, 2, 4 (docs/learning.md): final
    /// accuracy 90.4, 90.6, 90.6, 90.1, 90.9 %, with the video absent 62.7, 63.3, 60.4, 62.5,
    /// 60.4 % (likely because a diagonal Gaussian draw stands in poorly for a class inside
    /// one block, which its one-modality variants are trained on alone).
    pub pseudo_ratio: f32,
    /// analytic: ridge regularizer lambda in `(G + lambda I)^-1 Q` (features have unit scale, so
    /// 10 is the prior weight of ~20 windows: it keeps `G + lambda I` well conditioned while
    /// the first task has few windows and is small against what a task brings). Chosen on the
    /// val split (`bench cl --sweep-val`, docs/learning.md) among 1, 10, 100: final accuracy
    /// 89.3, 89.1, 87.0 %, with the video absent 59.1, 60.1, 58.3 %.
    pub ridge: f64,
    /// analytic: random-feature size P (0 = the largest multiple of 64 whose statistics fit the
    /// budget for `planned_classes` classes).
    pub projection: usize,
    /// analytic: classes the automatic P leaves room for.
    pub planned_classes: usize,
    /// The embedding's modality blocks, in order (the encoder contract's `video_dim`,
    /// `imu_dim`); their sum is the learner's dimension. Empty: one block, no modality
    /// structure. With two or more blocks every strategy learns so that a window with a
    /// modality absent is classified from the others (docs/learning.md): the SGD heads and
    /// analytic also learn each embedding as its one-modality variants, ncm and icarl score
    /// over the blocks present.
    pub modality_dims: Vec<usize>,
    /// analytic: ReLU on the random features (RanPAC's `relu(S H D x)`); off, the features are
    /// a plain random projection, which on the default encoder's embeddings is more accurate
    /// and degrades less with a modality absent (chosen on val, docs/learning.md).
    pub relu: bool,
    /// analytic: choose the ridge lambda at every `learn` on a held-out fifth of the batch
    /// (RanPAC's per-task choice) among `RIDGE_CANDIDATES`; off: always `ridge`.
    pub ridge_select: bool,
    /// ncm, icarl, joint: shrinkage `a` of the shared within-class covariance towards the
    /// scaled identity (`learn::whiten`); 0 = off: ncm and icarl score by the cosine to each
    /// class mean, joint trains the SGD head. Each strategy's default is its best on the val
    /// split (`shrinkage`, docs/learning.md).
    pub shrinkage: f32,
    /// SGD head (er, proto, joint by default): each modality block standardized by the running
    /// per-dimension mean and deviation of everything learned, and the cosine head's rows
    /// normalized per block (`learn::standardize`); chosen on val (docs/learning.md).
    pub standardize: bool,
}

/// The ridge lambdas `ridge_select` chooses from.
pub const RIDGE_CANDIDATES: [f64; 6] = [0.1, 0.3, 1.0, 3.0, 10.0, 30.0];

/// The cosine-head scale each strategy's defaults use: the best of 16, 32, 64, 128 on the
/// val split for that strategy (`bench cl --sweep-val`, docs/learning.md); 64 where the scale
/// changes no prediction (ncm, icarl, analytic: only the confidence's sharpness).
pub fn head_scale(strategy: Strategy) -> f32 {
    match strategy {
        Strategy::Ewc => 16.0,
        Strategy::Finetune => 32.0,
        Strategy::Lwf => 128.0,
        _ => 64.0,
    }
}

/// The covariance shrinkage each strategy's defaults use (`LearnerConfig::shrinkage`): the
/// best on the val split (`bench cl --sweep-val`, docs/learning.md) for ncm, icarl and joint,
/// whose shared-covariance classifiers beat the cosine to the class means and the SGD head
/// there; 0 (unused) for the others.
pub fn shrinkage(strategy: Strategy) -> f32 {
    match strategy {
        Strategy::Ncm => 0.1,
        Strategy::Icarl => 0.3,
        Strategy::Joint => 0.03,
        _ => 0.0,
    }
}

/// The modality blocks of an encoder contract's fused embedding: `[video_dim, imu_dim]` when
/// they tile `dim` (the default encoder's fusion), else none (no modality structure assumed).
pub fn modality_blocks(dim: usize, video_dim: usize, imu_dim: usize) -> Vec<usize> {
    if video_dim > 0 && imu_dim > 0 && video_dim.checked_add(imu_dim) == Some(dim) {
        vec![video_dim, imu_dim]
    } else {
        Vec::new()
    }
}

/// The benchmark's default budget: 160 f32 exemplars of dimension `dim` (UESTC-MMEA-CL's
/// published baselines keep 160 exemplars).
pub fn default_budget(dim: usize) -> usize {
    160 * dim * 4
}

/// The product's strategy (`ncm`) with strategy-neutral values for every other field (no
/// shrinkage, no feature map): a learner's own defaults are `for_strategy` /
/// `for_embedding`, which profiles, the daemon and `bench cl` use.
impl Default for LearnerConfig {
    fn default() -> Self {
        LearnerConfig {
            strategy: Strategy::Ncm,
            budget_bytes: default_budget(2304),
            seed: 1993,
            head: HeadKind::Cosine,
            scale: 64.0,
            epochs: 8,
            lr: 0.03,
            momentum: 0.9,
            batch_size: 64,
            balanced: true,
            temperature: 2.0,
            lwf_lambda: 1.0,
            proto_distill: 0.0,
            ewc_lambda: 1000.0,
            ewc_decay: 1.0,
            quant: Quant::Int8,
            pseudo_ratio: 0.5,
            ridge: 10.0,
            projection: 0,
            planned_classes: 32,
            modality_dims: Vec::new(),
            relu: false,
            ridge_select: false,
            shrinkage: 0.0,
            standardize: false,
        }
    }
}

impl LearnerConfig {
    /// The defaults for `strategy` with the benchmark budget for `dim`.
    pub fn for_strategy(strategy: Strategy, dim: usize) -> LearnerConfig {
        LearnerConfig {
            strategy,
            budget_bytes: default_budget(dim),
            scale: head_scale(strategy),
            shrinkage: shrinkage(strategy),
            standardize: matches!(strategy, Strategy::Er | Strategy::Proto | Strategy::Joint),
            ..LearnerConfig::default()
        }
    }

    /// The defaults for `strategy` with the benchmark budget for `dim` and the modality blocks
    /// `modality_dims` (the encoder contract's, e.g. `[video_dim, imu_dim]`).
    pub fn for_embedding(strategy: Strategy, dim: usize, modality_dims: &[usize]) -> LearnerConfig {
        LearnerConfig {
            modality_dims: modality_dims.to_vec(),
            ..LearnerConfig::for_strategy(strategy, dim)
        }
    }

    /// Refuses modality blocks that do not tile `dim` (an empty list always fits).
    pub fn check_dim(&self, dim: usize) -> Result<(), LearnError> {
        let sum: usize = self.modality_dims.iter().sum();
        if !self.modality_dims.is_empty() && sum != dim {
            let why = format!("the blocks sum to {sum}, the embedding dimension is {dim}");
            return Err(bad(
                "modality_dims",
                format!("{:?}", self.modality_dims),
                &why,
            ));
        }
        Ok(())
    }

    /// Refuses any out-of-range parameter, naming it.
    pub fn validate(&self) -> Result<(), LearnError> {
        if self.modality_dims.contains(&0) {
            let value = format!("{:?}", self.modality_dims);
            return Err(bad("modality_dims", value, "every block must be > 0"));
        }
        positive_int("budget_bytes", self.budget_bytes)?;
        positive_int("epochs", self.epochs)?;
        positive_int("batch_size", self.batch_size)?;
        positive_int("planned_classes", self.planned_classes)?;
        positive("scale", self.scale)?;
        positive("lr", self.lr)?;
        positive("temperature", self.temperature)?;
        in_range("momentum", self.momentum, 0.0, 0.999)?;
        in_range("ewc_decay", self.ewc_decay, 0.0, 1.0)?;
        in_range("lwf_lambda", self.lwf_lambda, 0.0, 1e6)?;
        in_range("proto_distill", self.proto_distill, 0.0, 1e6)?;
        in_range("ewc_lambda", self.ewc_lambda, 0.0, 1e12)?;
        in_range("pseudo_ratio", self.pseudo_ratio, 0.0, 100.0)?;
        in_range("shrinkage", self.shrinkage, 0.0, 0.999)?;
        if self.shrinkage > 0.0 && self.modality_dims.len() > MAX_BLOCKS {
            let value = format!("{:?}", self.modality_dims);
            let why = format!("at most {MAX_BLOCKS} blocks with shrinkage > 0");
            return Err(bad("modality_dims", value, &why));
        }
        if !(self.ridge.is_finite() && self.ridge > 0.0) {
            return Err(bad("ridge", self.ridge, "must be finite and > 0"));
        }
        Ok(())
    }
}

fn bad(name: &str, value: impl ToString, why: &str) -> LearnError {
    LearnError::BadParameter {
        name: name.into(),
        value: value.to_string(),
        why: why.into(),
    }
}

fn positive_int(name: &str, value: usize) -> Result<(), LearnError> {
    if value == 0 {
        return Err(bad(name, value, "must be > 0"));
    }
    Ok(())
}

fn positive(name: &str, value: f32) -> Result<(), LearnError> {
    if !(value.is_finite() && value > 0.0) {
        return Err(bad(name, value, "must be finite and > 0"));
    }
    Ok(())
}

fn in_range(name: &str, value: f32, lo: f32, hi: f32) -> Result<(), LearnError> {
    if !(value.is_finite() && (lo..=hi).contains(&value)) {
        return Err(bad(name, value, &format!("must lie in [{lo}, {hi}]")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_bad_values_are_named() {
        for s in Strategy::ALL {
            LearnerConfig::for_strategy(s, 16)
                .validate()
                .expect("defaults are valid");
        }
        let zero = LearnerConfig {
            budget_bytes: 0,
            ..LearnerConfig::default()
        };
        assert!(
            matches!(zero.validate(), Err(LearnError::BadParameter { name, .. }) if name == "budget_bytes")
        );
        let nan = LearnerConfig {
            lr: f32::NAN,
            ..LearnerConfig::default()
        };
        assert!(nan.validate().unwrap_err().to_string().contains("lr"));
    }

    #[test]
    fn strategy_names_round_trip_and_an_unknown_one_lists_the_known() {
        for s in Strategy::ALL {
            assert_eq!(s.name().parse::<Strategy>(), Ok(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("{:?}", s.name())
            );
        }
        assert_eq!(
            "Proto".parse::<Strategy>().unwrap_err().to_string(),
            "unknown strategy \"Proto\" (known: finetune, ewc, lwf, er, icarl, proto, ncm, analytic, joint)"
        );
    }

    #[test]
    fn json_round_trip_fills_missing_fields_with_defaults() {
        let c: LearnerConfig =
            serde_json::from_str(r#"{"strategy":"ncm","budget_bytes":10}"#).unwrap();
        assert_eq!(c.strategy, Strategy::Ncm);
        assert_eq!(c.epochs, LearnerConfig::default().epochs);
        let back: LearnerConfig =
            serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
        assert!(serde_json::from_str::<LearnerConfig>(r#"{"typo":1}"#).is_err());
    }
}
