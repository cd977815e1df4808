//! `mmcl host eval` end to end on a small synthetic dataset and the tiny encoder: a device
//! whose snapshots enrolled the train split's classes two tasks at a time (under the
//! display names replay uses), stored in SQLite; the command embeds the test split through
//! the shared cache and writes report.json and report.html. The report's last row is
//! checked against predictions made here on the test split; a device of another encoder
//! shows in the fleet as not evaluated; the wrong encoder is refused by name.
#![cfg(all(feature = "host", feature = "tract"))]

mod host_support;

use host_support::mmcl;
use mmcl::classes::{Change, ChangeKind, ClassModel, ClassName, Enrollment};
use mmcl::embedding::Embedding;
use mmcl::encode::cache::{EmbeddingCache, Variant};
use mmcl::encode::sha256_hex;
use mmcl::host::auth::token_hash;
use mmcl::host::storage::{self, BundleMeta, Storage};
use mmcl::learn::{self, LearnerConfig, Strategy};
use mmcl::store::Snapshot;
use mmcl::time::Timestamp;
use mmcl::uplink::{content_hash, Bundle};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn tiny() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/encoder/tiny_encoder.onnx")
}

fn run_ok(args: &[&str]) -> Vec<u8> {
    let out = mmcl().args(args).output().expect("run mmcl");
    assert!(
        out.status.success(),
        "mmcl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `3_drinking` -> `drinking`.
fn display(folder: &str) -> String {
    folder
        .split_once('_')
        .map_or(folder, |(_, r)| r)
        .to_string()
}

/// The cache's embeddings of `split` (variant All) by class folder.
fn by_folder(cache: &EmbeddingCache, split: &str) -> BTreeMap<String, Vec<Embedding>> {
    let mut out: BTreeMap<String, Vec<Embedding>> = BTreeMap::new();
    for e in cache
        .entries()
        .filter(|e| e.split == split && e.variant == Variant::All)
    {
        let folder = e.clip.split('/').next().unwrap().to_string();
        out.entry(folder).or_default().push(e.embedding.clone());
    }
    out
}

fn enroll(model: &ClassModel, name: &str, embeddings: &[Embedding], at: u64) {
    let change = Change {
        at_ms: at,
        kind: ChangeKind::Enroll(Enrollment {
            label: ClassName::new(name).unwrap(),
            embeddings: embeddings.to_vec(),
            span: (Timestamp(0), Timestamp(1)),
            source: "test".into(),
        }),
    };
    model.apply(&change).unwrap();
}

fn store(s: &dyn Storage, device: &str, seq: u64, encoder: &str, model: &ClassModel) {
    let bundle = Bundle {
        device_id: device.into(),
        snapshot_seq: seq,
        created_at_ms: 1000 + seq,
        snapshot: Snapshot {
            encoder_sha256: encoder.into(),
            journal_seq: seq,
            sections: model.sections(),
        },
    };
    let bytes = bundle.encode();
    let meta = BundleMeta {
        content_hash: content_hash(&bytes),
        device_id: device.into(),
        snapshot_seq: seq,
        journal_seq: seq,
        encoder_sha256: encoder.into(),
        created_at_ms: bundle.created_at_ms,
        received_at_ms: 0,
        bytes: bytes.len() as u64,
        classes: 0,
    };
    s.put_bundle(&meta, &bytes).unwrap();
}

#[test]
fn host_eval_writes_the_report_of_every_stored_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (d, model_path) = (data.display().to_string(), tiny().display().to_string());
    run_ok(&[
        "synth",
        "--out",
        &d,
        "--classes",
        "4",
        "--clips-per-class",
        "6",
        "--size",
        "24",
        "--seed",
        "3",
        "--json",
    ]);
    run_ok(&["embed", "--dataset", &d, "--model", &model_path, "--json"]);
    let sha = sha256_hex(&std::fs::read(tiny()).unwrap());
    let inspect: Value =
        serde_json::from_slice(&run_ok(&["model", "inspect", &model_path, "--json"])).unwrap();
    assert_eq!(inspect["sha256"].as_str(), Some(sha.as_str()));
    let dim = inspect["embedding_dim"].as_u64().unwrap() as usize;
    let (cache, _) = EmbeddingCache::load(&data.join(".mmcl-cache"), &sha, dim).unwrap();
    let train = by_folder(&cache, "train");
    let test = by_folder(&cache, "test");
    assert_eq!(train.len(), 4, "four classes");

    let db = format!("sqlite:{}", tmp.path().join("host.db").display());
    let s = storage::open(&db, None).unwrap();
    s.add_token("dev1", &token_hash("a"), 0).unwrap();
    s.add_token("other", &token_hash("b"), 0).unwrap();
    let config = LearnerConfig::for_strategy(Strategy::Ncm, dim);
    let model = ClassModel::new(learn::build(dim, &config).unwrap());
    let folders: Vec<&String> = train.keys().collect();
    for (task, pair) in folders.chunks(2).enumerate() {
        for f in pair {
            enroll(&model, &display(f), &train[*f], task as u64);
        }
        store(s.as_ref(), "dev1", task as u64 + 1, &sha, &model);
    }
    store(s.as_ref(), "other", 1, &"ab".repeat(32), &model);

    let out = tmp.path().join("report");
    let db_arg = db.clone();
    let json: Value = serde_json::from_slice(&run_ok(&[
        "host",
        "eval",
        "--device",
        "dev1",
        "--testset",
        &d,
        "--db",
        &db_arg,
        "--out",
        &out.display().to_string(),
        "--model",
        &model_path,
        "--json",
    ]))
    .unwrap();
    let on_disk: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(json, on_disk, "stdout is report.json");

    let matrix = json["accuracy_matrix"].as_array().unwrap();
    assert_eq!(matrix.len(), 2, "two tasks: {json}");
    assert_eq!(matrix[0].as_array().unwrap().len(), 1);
    assert_eq!(matrix[1].as_array().unwrap().len(), 2);
    assert_eq!(json["snapshots"].as_array().unwrap().len(), 2);
    assert_eq!(
        json["test_samples"].as_u64(),
        Some(test.values().map(Vec::len).sum::<usize>() as u64)
    );

    // The newest snapshot's per-class accuracy, predicted here.
    let per_class = json["per_class_accuracy"].as_array().unwrap();
    assert_eq!(per_class.len(), 4);
    for (folder, samples) in &test {
        let name = display(folder);
        let right = samples
            .iter()
            .filter(|e| model.current().predict(e).unwrap().name == name)
            .count();
        let expected = right as f64 / samples.len() as f64;
        let got = per_class
            .iter()
            .find(|c| c["name"] == name.as_str())
            .unwrap_or_else(|| panic!("{name} in {per_class:?}"));
        assert!(
            (got["accuracy"].as_f64().unwrap() - expected).abs() < 1e-9,
            "{name}: {got}"
        );
    }
    let last: Vec<f64> = matrix[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let final_accuracy = last.iter().sum::<f64>() / last.len() as f64;
    assert!((json["final_accuracy"].as_f64().unwrap() - final_accuracy).abs() < 1e-9);

    let fleet = json["fleet"].as_array().unwrap();
    assert_eq!(fleet.len(), 2);
    assert!(fleet[0]["final_accuracy"].is_number(), "{fleet:?}");
    let skipped = fleet[1]["skipped"].as_str().unwrap();
    assert!(
        skipped.contains("encoder") && skipped.contains(&"ab".repeat(32)),
        "{skipped}"
    );

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 3, "three inline plots");
    for id in ["matrix", "snapshots", "per-class"] {
        assert!(html.contains(&format!("<figure id=\"{id}\">")), "{id}");
    }
    assert!(
        !html.contains(" src=") && !html.contains(" href="),
        "no external asset"
    );

    // The built-in encoder is not the snapshots': refused by name, nothing encoded.
    let wrong = mmcl()
        .args([
            "host",
            "eval",
            "--device",
            "dev1",
            "--testset",
            &d,
            "--db",
            &db,
            "--out",
        ])
        .arg(tmp.path().join("r2"))
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(2));
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(err.contains(&sha) && err.contains("encoder"), "{err}");
    assert!(!tmp.path().join("r2").exists());
}
