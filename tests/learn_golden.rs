//! The learner state formats pinned by golden files (tests/data/learn/README.md): version 1
//! (`<strategy>.snap`), version 2 (`v2/<strategy>.snap`), version 3 (`v3/<strategy>.snap`) and
//! version 4 (`v4/<strategy>.snap`),
//! the same learned state, of every strategy keep loading and predicting what
//! `<strategy>.json` says, all re-save as exactly the version-4 bytes, and a flipped byte or a
//! truncation in any of them is refused naming the format and what failed. `MMCL_BLESS=1`
//! writes the current version's files from the version-1 ones: only on a format change that
//! bumps `learn::snapshot::FORMAT_VERSION`, and then the older files stay as fixtures.

mod format_support;
mod learn_support;

use format_support::{damaged, names_the_failure};
use learn_support::{data, windows, DIM};
use mmcl::embedding::Embedding;
use mmcl::learn::rng::Rng;
use mmcl::learn::{load, LearnError, Strategy};

/// The version this build writes, and every version pinned.
const CURRENT: u32 = 4;
const VERSIONS: [u32; 4] = [1, 2, 3, 4];

/// Fixed probes and the predictions each golden learner must keep giving.
fn golden_probes() -> Vec<Embedding> {
    windows(&mut Rng::new(123), &[0, 1, 2, 0])
}

fn golden(version: u32, s: Strategy) -> String {
    match version {
        1 => format!("learn/{s}.snap"),
        _ => format!("learn/v{version}/{s}.snap"),
    }
}

#[test]
fn golden_states_of_every_version_load_predict_and_re_save_as_the_current_version() {
    if std::env::var("MMCL_BLESS").is_ok() {
        std::fs::create_dir_all(data(&format!("learn/v{CURRENT}"))).expect("mkdir");
        for s in Strategy::ALL {
            let v1 = std::fs::read(data(&golden(1, s))).expect("golden");
            let learner = load(&v1).expect("loads");
            std::fs::write(data(&golden(CURRENT, s)), learner.save()).expect("write golden");
        }
    }
    for s in Strategy::ALL {
        let current =
            std::fs::read(data(&golden(CURRENT, s))).unwrap_or_else(|e| panic!("{s}: {e}"));
        let expected: serde_json::Value =
            serde_json::from_slice(&std::fs::read(data(&format!("learn/{s}.json"))).expect("json"))
                .expect("json");
        for version in VERSIONS {
            let bytes = std::fs::read(data(&golden(version, s))).expect("golden");
            let learner = load(&bytes).unwrap_or_else(|e| panic!("v{version} {s}: {e}"));
            assert_eq!(
                (learner.name(), learner.dim(), learner.classes()),
                (s.name(), DIM, vec![0, 1, 2])
            );
            assert!(
                learner.save() == current,
                "v{version} {s}: re-saving does not give the version-{CURRENT} golden bytes"
            );
            let got: Vec<_> = golden_probes()
                .iter()
                .map(|p| learner.predict(p).expect("predicts"))
                .collect();
            // Scores may differ in the last bits where the CPU picks other gemm kernels.
            assert!(
                close(&serde_json::to_value(&got).expect("json"), &expected),
                "v{version} {s}: predictions changed: {got:?}"
            );
        }
    }
}

/// The strategies' own fields are the same in both versions: the version-1 body minus its
/// header (strategy, dimension, config JSON) ends the version-2 body.
#[test]
fn version_1_and_2_carry_the_same_strategy_fields() {
    let body = |b: &[u8]| b[20..b.len() - 32].to_vec();
    let u64_at =
        |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap()) as usize;
    for s in Strategy::ALL {
        let v1 = body(&std::fs::read(data(&golden(1, s))).expect("golden"));
        let v2 = body(&std::fs::read(data(&golden(2, s))).expect("golden"));
        let name_end = 8 + u64_at(&v1, 0);
        let json_at = name_end + 8;
        let fields = &v1[json_at + 8 + u64_at(&v1, json_at)..];
        assert!(!fields.is_empty() && v2.ends_with(fields), "{s}");
    }
}

#[test]
fn a_flipped_byte_or_a_truncation_in_any_golden_state_is_refused_by_name() {
    for version in VERSIONS {
        for s in Strategy::ALL {
            let bytes = std::fs::read(data(&golden(version, s))).expect("golden");
            let cuts = [0, 7, 30, bytes.len() / 2, bytes.len() - 1];
            for (what, b) in damaged(&bytes, 0, 5, &cuts) {
                let err = load(&b)
                    .err()
                    .unwrap_or_else(|| panic!("v{version} {s} {what}: loaded"));
                let text = err.to_string();
                assert!(
                    matches!(err, LearnError::Snapshot { .. })
                        && text.starts_with("learner state: "),
                    "v{version} {s} {what}: {text}"
                );
                assert!(names_the_failure(&text), "v{version} {s} {what}: {text}");
            }
        }
    }
}

/// Same JSON shape, numbers equal within 1e-4 relative.
fn close(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value::{Array, Number, Object};
    match (a, b) {
        (Number(x), Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            (x - y).abs() <= 1e-4 * x.abs().max(y.abs()).max(1.0)
        }
        (Array(x), Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| close(p, q)),
        (Object(x), Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w)))
        }
        _ => a == b,
    }
}
