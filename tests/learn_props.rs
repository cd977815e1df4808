//! Property tests of the learner's invariants: the byte budget holds across any sequence of
//! calls, incremental statistics equal batch ones (prototypes, the analytic ridge head),
//! snapshots reproduce predictions, and `forget` really removes a class.

use mmcl::embedding::Embedding;
use mmcl::learn::rng::Rng;
// `Kind`: proptest's prelude already has a `Strategy`.
use mmcl::learn::Strategy as Kind;
use mmcl::learn::{build, load, Analytic, LearnError, Learner, LearnerConfig, Prototypes, Quant};
use proptest::prelude::*;

/// Small, quick configs: few epochs, few planned classes (analytic sizes P from them), each
/// strategy's own covariance shrinkage and feature map (`learn::whiten`, `learn::standardize`).
fn config(strategy: Kind, budget: usize, seed: u64) -> LearnerConfig {
    let defaults = LearnerConfig::for_strategy(strategy, 8);
    LearnerConfig {
        strategy,
        budget_bytes: budget,
        seed,
        epochs: 2,
        planned_classes: 3,
        shrinkage: defaults.shrinkage,
        standardize: defaults.standardize,
        ..LearnerConfig::default()
    }
}

/// `config` with two modality blocks splitting `dim` (odd rows of the tests use them).
fn blocked(config: LearnerConfig, dim: usize, on: bool) -> LearnerConfig {
    let modality_dims = if on && dim >= 2 {
        vec![dim / 2, dim - dim / 2]
    } else {
        Vec::new()
    };
    LearnerConfig {
        modality_dims,
        ..config
    }
}

fn embedding(rng: &mut Rng, dim: usize, class: u32) -> Embedding {
    let v = (0..dim).map(|d| if d % 4 == class as usize % 4 { 2.0 } else { 0.0 } + rng.gaussian() as f32 * 0.5).collect();
    Embedding::new(v, dim).expect("finite")
}

fn batch(rng: &mut Rng, dim: usize, labels: &[u32]) -> Vec<Embedding> {
    labels.iter().map(|l| embedding(rng, dim, *l)).collect()
}

/// One call in a random sequence: learn `size` windows of classes from `first..first+spread`, or forget.
#[derive(Debug, Clone)]
enum Op {
    Learn {
        first: u32,
        spread: u32,
        size: usize,
    },
    Forget(u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u32..6, 1u32..3, 1usize..10).prop_map(|(first, spread, size)| Op::Learn { first, spread, size }),
        1 => (0u32..7).prop_map(Op::Forget),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn budget_is_never_exceeded(s in 0..Kind::ALL.len(), dim in 2usize..10, budget in 60usize..4000,
                                seed in any::<u64>(), q in 0usize..3, ops in prop::collection::vec(op(), 1..12)) {
        let quant = [Quant::Int8, Quant::F16, Quant::F32][q];
        let config = blocked(LearnerConfig { quant, ..config(Kind::ALL[s], budget, seed) }, dim, seed % 2 == 1);
        let Ok(mut learner) = build(dim, &config) else { return Ok(()) };
        let mut rng = Rng::new(seed);
        for op in ops {
            let before = learner.save();
            let result = match op {
                Op::Learn { first, spread, size } => {
                    let labels: Vec<u32> = (0..size).map(|i| first + i as u32 % spread).collect();
                    learner.learn(&batch(&mut rng, dim, &labels), &labels).map(|_| ())
                }
                Op::Forget(class) => learner.forget(class),
            };
            match result {
                Ok(()) => {}
                Err(LearnError::BudgetTooSmall { .. } | LearnError::UnknownClass { .. }) => prop_assert_eq!(&learner.save(), &before),
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
            prop_assert!(learner.memory_bytes() <= learner.budget_bytes(),
                "{}: {} > {}", Kind::ALL[s], learner.memory_bytes(), learner.budget_bytes());
        }
    }

    #[test]
    fn prototypes_over_any_chunking_equal_batch_statistics(dim in 1usize..6, rows in 1usize..60,
                                                          cuts in prop::collection::vec(1usize..60, 0..6), seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        let data: Vec<Vec<f32>> = (0..rows).map(|_| (0..dim).map(|_| (rng.gaussian() * 3.0 + 1.0) as f32).collect()).collect();
        let mut protos = Prototypes::new(dim, true);
        let mut bounds: Vec<usize> = cuts.into_iter().filter(|c| *c < rows).collect();
        bounds.extend([0, rows]);
        bounds.sort_unstable();
        bounds.dedup();
        for w in bounds.windows(2) {
            let chunk: Vec<&[f32]> = data[w[0]..w[1]].iter().map(|r| r.as_slice()).collect();
            protos.update(9, &chunk);
        }
        let p = protos.get(9).expect("class 9");
        prop_assert_eq!(p.count, rows as u64);
        let var = p.variance();
        for d in 0..dim {
            let mean = data.iter().map(|r| f64::from(r[d])).sum::<f64>() / rows as f64;
            let v = data.iter().map(|r| (f64::from(r[d]) - mean).powi(2)).sum::<f64>() / rows as f64;
            prop_assert!((f64::from(p.mean[d]) - mean).abs() <= 1e-5 * mean.abs().max(1.0), "mean {} vs {}", p.mean[d], mean);
            prop_assert!((f64::from(var[d]) - v).abs() <= 1e-5 * v.max(1.0), "variance {} vs {}", var[d], v);
        }
    }

    #[test]
    fn analytic_head_equals_batch_ridge_on_all_data(dim in 3usize..12, tasks in 1usize..4, ridge in 0.05f64..20.0,
                                                    seed in any::<u64>(), forget in any::<bool>()) {
        let config = LearnerConfig { ridge, projection: 8.min(dim.next_power_of_two()), ..config(Kind::Analytic, 1 << 20, seed) };
        let mut learner = Analytic::new(dim, &config).expect("builds");
        let mut rng = Rng::new(seed);
        let (mut seen, mut labels) = (Vec::new(), Vec::new());
        for t in 0..tasks as u32 {
            let task_labels: Vec<u32> = (0..7).map(|i| 2 * t + i % 2).collect();
            let x = batch(&mut rng, dim, &task_labels);
            learner.learn(&x, &task_labels).expect("learn");
            seen.extend(x);
            labels.extend(task_labels);
        }
        if forget {
            learner.forget(0).expect("class 0 is known");
        }
        let classes = learner.classes();
        let h: Vec<Vec<f64>> = seen.iter().map(|e| learner.features(e.as_slice()).iter().map(|v| f64::from(*v)).collect()).collect();
        let w = ridge_solve(&h, &labels, &classes, ridge);
        for probe in seen.iter().take(6) {
            let f: Vec<f64> = learner.features(probe.as_slice()).iter().map(|v| f64::from(*v)).collect();
            let got = learner.predict(probe).expect("predict").scores;
            let expected: Vec<f64> = (0..classes.len()).map(|c| f64::from(config.scale) * f.iter().zip(&w).map(|(a, row)| a * row[c]).sum::<f64>()).collect();
            let scale = expected.iter().fold(1e-3f64, |m, v| m.max(v.abs()));
            for ((class, g), e) in got.iter().zip(&expected) {
                prop_assert!((f64::from(*g) - e).abs() <= 1e-4 * scale, "class {class}: {g} vs {e}");
            }
        }
    }

    #[test]
    fn whitened_ncm_over_any_chunking_equals_one_batch(dim in 2usize..9, rows in 4usize..40, blocks in any::<bool>(),
                                                       cuts in prop::collection::vec(1usize..40, 0..5), seed in any::<u64>()) {
        let config = blocked(config(Kind::Ncm, 1 << 20, seed), dim, blocks);
        let mut rng = Rng::new(seed);
        let labels: Vec<u32> = (0..rows).map(|i| (i % 3) as u32).collect();
        let x = batch(&mut rng, dim, &labels);
        let mut whole = build(dim, &config).expect("builds");
        whole.learn(&x, &labels).expect("learn");
        let mut chunked = build(dim, &config).expect("builds");
        let mut bounds: Vec<usize> = cuts.into_iter().filter(|c| *c < rows).collect();
        bounds.extend([0, rows]);
        bounds.sort_unstable();
        bounds.dedup();
        for w in bounds.windows(2) {
            chunked.learn(&x[w[0]..w[1]], &labels[w[0]..w[1]]).expect("learn");
        }
        for probe in batch(&mut rng, dim, &[0, 1, 2]) {
            let (a, b) = (whole.predict(&probe).unwrap().scores, chunked.predict(&probe).unwrap().scores);
            let scale = a.iter().fold(1.0f32, |m, (_, v)| m.max(v.abs()));
            for ((_, p), (_, q)) in a.iter().zip(&b) {
                prop_assert!((p - q).abs() <= 1e-3 * scale, "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn save_load_keeps_predictions_and_bytes(s in 0..Kind::ALL.len(), dim in 2usize..10, seed in any::<u64>()) {
        let mut learner = build(dim, &blocked(config(Kind::ALL[s], 1 << 16, seed), dim, seed % 2 == 1)).expect("builds");
        let mut rng = Rng::new(seed);
        for labels in [vec![0, 1, 0, 1, 0], vec![2, 2, 2, 1]] {
            learner.learn(&batch(&mut rng, dim, &labels), &labels).expect("learn");
        }
        let bytes = learner.save();
        let loaded = load(&bytes).expect("loads");
        prop_assert_eq!(loaded.save(), bytes);
        prop_assert_eq!(loaded.name(), learner.name());
        for probe in batch(&mut rng, dim, &[0, 1, 2, 3]) {
            prop_assert_eq!(loaded.predict(&probe).unwrap(), learner.predict(&probe).unwrap());
        }
    }

    #[test]
    fn forget_removes_the_class_and_frees_memory(s in 0..Kind::ALL.len(), dim in 2usize..10, seed in any::<u64>()) {
        let mut learner = build(dim, &config(Kind::ALL[s], 1 << 16, seed)).expect("builds");
        let mut rng = Rng::new(seed);
        let labels = [0, 1, 2, 0, 1, 2, 0, 1, 2];
        learner.learn(&batch(&mut rng, dim, &labels), &labels).expect("learn");
        let before = learner.memory_bytes();
        learner.forget(1).expect("known");
        prop_assert_eq!(learner.classes(), vec![0, 2]);
        prop_assert!(learner.memory_bytes() < before);
        for probe in batch(&mut rng, dim, &[1, 1, 0]) {
            let p = learner.predict(&probe).unwrap();
            prop_assert!(p.class != 1 && p.scores.iter().all(|(c, _)| *c != 1));
        }
        let refused = matches!(learner.forget(1), Err(LearnError::UnknownClass { class: 1, .. }));
        prop_assert!(refused);
    }
}

/// Independent batch ridge: `(H^T H + lambda I) W = H^T Y` by Gauss-Jordan with partial
/// pivoting in f64 (Y one-hot over `classes`; a forgotten class's rows have an all-zero target).
fn ridge_solve(h: &[Vec<f64>], labels: &[u32], classes: &[u32], ridge: f64) -> Vec<Vec<f64>> {
    let (p, c) = (h[0].len(), classes.len());
    let mut a = vec![vec![0.0; p + c]; p];
    for (row, label) in h.iter().zip(labels) {
        for i in 0..p {
            for j in 0..p {
                a[i][j] += row[i] * row[j];
            }
            if let Some(k) = classes.iter().position(|k| k == label) {
                a[i][p + k] += row[i];
            }
        }
    }
    (0..p).for_each(|i| a[i][i] += ridge);
    for col in 0..p {
        let pivot = (col..p)
            .max_by(|x, y| a[*x][col].abs().total_cmp(&a[*y][col].abs()))
            .unwrap_or(col);
        a.swap(col, pivot);
        let d = a[col][col];
        a[col].iter_mut().for_each(|v| *v /= d);
        for r in 0..p {
            if r != col {
                let f = a[r][col];
                let pivot_row = a[col].clone();
                a[r].iter_mut()
                    .zip(&pivot_row)
                    .for_each(|(v, q)| *v -= f * q);
            }
        }
    }
    a.into_iter().map(|row| row[p..].to_vec()).collect()
}
