//! Fuzz target: the ONNX reader and the encoder contract (`onnx_proto::parse_model`
//! then `ModelContract::check`, what `ModelFile::read`, `mmcl model inspect` and
//! `encode::open` run) on mutated real models, on contract models of arbitrary
//! sizes and on arbitrary bytes. Never a panic; a model that passes the contract
//! states only sizes within its bounds, so nothing built from it can explode.

mod fuzz_support;
#[path = "hostile_support/onnx.rs"]
mod onnx;

use fuzz_support::{fuzz, mutated, Outcomes};
use mmcl::encode::onnx_proto::parse_model;
use mmcl::encode::ModelContract;
use onnx::{contract_model, Dim, Sizes};
use proptest::prelude::*;
use std::path::Path;

fn fixtures() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/encoder");
    let mut seeds: Vec<Vec<u8>> = ["tiny_encoder.onnx", "tiny_broken.onnx"]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    seeds.push(contract_model(Sizes::default()));
    seeds
}

fn size() -> impl Strategy<Value = u64> {
    prop_oneof![
        1u64..64,
        0u64..5000,
        any::<u64>(),
        Just(1 << 31),
        Just(60_000)
    ]
}

fn sizes() -> impl Strategy<Value = Vec<u8>> {
    let batch = prop_oneof![Just(Dim::Symbol("N")), size().prop_map(Dim::Fixed)];
    let sizes = [size(), size(), size(), size(), size(), size(), size()];
    (batch, sizes, any::<bool>()).prop_map(|(batch, s, orphans)| {
        contract_model(Sizes {
            batch,
            frames: s[0],
            height: s[1],
            width: s[2],
            imu_len: s[3],
            dim: s[4],
            video_dim: s[5],
            imu_dim: s[6],
            orphans,
        })
    })
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    let real = prop::sample::select(fixtures()).prop_flat_map(mutated);
    prop_oneof![real, sizes(), prop::collection::vec(any::<u8>(), 0..600)]
}

#[test]
fn fuzz_onnx() {
    let outcomes = Outcomes::default();
    fuzz("onnx", input(), |bytes| {
        let Ok(summary) = parse_model(&bytes) else {
            outcomes.count("not a model");
            return Ok(());
        };
        let Ok(c) = ModelContract::check(&summary, &"0".repeat(64)) else {
            outcomes.count("breaks the contract");
            return Ok(());
        };
        outcomes.count("passes the contract");
        prop_assert!(c.frames <= 256 && c.height <= 4096 && c.width <= 4096);
        prop_assert!(c.imu_len <= 1 << 20);
        prop_assert!(c.dim <= 1 << 16 && c.video_dim <= 1 << 16 && c.imu_dim <= 1 << 16);
        let window = c.frames * 3 * c.height * c.width + 6 * c.imu_len + 2;
        prop_assert!(window <= 1 << 24);
        if let Some(rows) = c.fixed_batch {
            prop_assert!(rows <= 1024 && rows * window <= 1 << 26);
        }
        Ok(())
    });
    outcomes.print("onnx");
}
