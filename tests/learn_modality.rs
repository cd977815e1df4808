//! The learner's modality-absent variants (`learn::modality::without`, what `augment` trains
//! on and what `bench cl --sweep-val` scores val with) are the embeddings the encoder itself
//! produces with that modality absent (up to the norm, which the learner normalizes away): checked on the cache `embed` writes for the tiny
//! encoder, whose test clips are encoded with each modality absent too.
#![cfg(feature = "tract")]

use mmcl::encode::cache::{EmbeddingCache, Variant};
use mmcl::encode::{check_contract, ModelFile};
use mmcl::learn::{modality, modality_blocks};
use std::path::Path;
use std::process::Command;

fn mmcl(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_mmcl"))
        .args(args)
        .output()
        .expect("run mmcl");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "mmcl {args:?}: {stderr}");
}

fn unit(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter().map(|x| x / norm).collect()
}

#[test]
fn derived_variants_equal_the_encoders_own() {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/encoder/tiny_encoder.onnx");
    let contract = check_contract(&ModelFile::read(&model).unwrap()).unwrap();
    let dims = modality_blocks(contract.dim, contract.video_dim, contract.imu_dim);
    assert_eq!(dims.len(), 2, "{contract:?}");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("data");
    let (r, m) = (root.display().to_string(), model.display().to_string());
    let synth = [
        "synth",
        "--out",
        &r,
        "--classes",
        "3",
        "--clips-per-class",
        "3",
    ];
    mmcl(&[&synth[..], &["--size", "24", "--seed", "2", "--json"]].concat());
    mmcl(&["embed", "--dataset", &r, "--model", &m, "--json"]);

    let cache_dir = root.join(".mmcl-cache");
    let (cache, _) = EmbeddingCache::load(&cache_dir, &contract.sha256, contract.dim).unwrap();
    let mut compared = 0;
    for entry in cache.entries().filter(|e| e.variant == Variant::All) {
        for (variant, absent) in [(Variant::VideoAbsent, 0), (Variant::ImuAbsent, 1)] {
            let Some(encoded) = cache.get(&entry.clip, variant) else {
                continue;
            };
            let derived = modality::without(entry.embedding.as_slice(), &dims, absent).unwrap();
            // The learner normalizes every row, so equal directions are what must hold (a
            // clip's embedding is a mean over its windows, whose norm the variant changes).
            for (d, e) in unit(&derived)
                .iter()
                .zip(unit(encoded.embedding.as_slice()))
            {
                assert!(
                    (d - e).abs() < 1e-4,
                    "{} {variant:?}: {d} vs {e}",
                    entry.clip
                );
            }
            compared += 1;
        }
    }
    assert!(compared >= 6, "only {compared} variants compared");
}
