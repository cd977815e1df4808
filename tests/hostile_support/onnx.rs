//! A minimal ONNX `ModelProto` writer for tests: the graph inputs, outputs and
//! metadata the encoder contract checks, and one `Identity` node per output so
//! every output is produced (`orphans` leaves them unproduced). A model built with
//! sane sizes passes `ModelContract::check`, so a test that changes one size is
//! refused for that size alone. Nothing here computes an embedding.

#![allow(dead_code)]

/// One dimension of a declared shape.
#[derive(Debug, Clone, Copy)]
pub enum Dim {
    Fixed(u64),
    Symbol(&'static str),
}

/// The sizes a contract model declares, in its shapes and its metadata alike.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub batch: Dim,
    pub frames: u64,
    pub height: u64,
    pub width: u64,
    pub imu_len: u64,
    pub dim: u64,
    pub video_dim: u64,
    pub imu_dim: u64,
    /// Leave the outputs unproduced (no nodes at all).
    pub orphans: bool,
}

impl Default for Sizes {
    /// The tiny test encoder's sizes.
    fn default() -> Sizes {
        Sizes {
            batch: Dim::Symbol("N"),
            frames: 4,
            height: 24,
            width: 32,
            imu_len: 40,
            dim: 11,
            video_dim: 6,
            imu_dim: 5,
            orphans: false,
        }
    }
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn bytes_field(number: u64, payload: &[u8], out: &mut Vec<u8>) {
    varint(number << 3 | 2, out);
    varint(payload.len() as u64, out);
    out.extend_from_slice(payload);
}

fn varint_field(number: u64, v: u64, out: &mut Vec<u8>) {
    varint(number << 3, out);
    varint(v, out);
}

fn value_info(name: &str, dims: &[Dim]) -> Vec<u8> {
    let mut shape = Vec::new();
    for d in dims {
        let mut dim = Vec::new();
        match d {
            Dim::Fixed(v) => varint_field(1, *v, &mut dim),
            Dim::Symbol(s) => bytes_field(2, s.as_bytes(), &mut dim),
        }
        bytes_field(1, &dim, &mut shape);
    }
    let mut tensor = Vec::new();
    varint_field(1, 1, &mut tensor); // float32
    bytes_field(2, &shape, &mut tensor);
    let mut ty = Vec::new();
    bytes_field(1, &tensor, &mut ty);
    let mut info = Vec::new();
    bytes_field(1, name.as_bytes(), &mut info);
    bytes_field(2, &ty, &mut info);
    info
}

/// A metadata_props entry, appended to a model's bytes (a later entry wins).
pub fn metadata_entry(key: &str, value: &str) -> Vec<u8> {
    let mut pair = Vec::new();
    bytes_field(1, key.as_bytes(), &mut pair);
    bytes_field(2, value.as_bytes(), &mut pair);
    let mut out = Vec::new();
    bytes_field(14, &pair, &mut out);
    out
}

/// A model declaring `s` in its inputs, outputs and metadata.
pub fn contract_model(s: Sizes) -> Vec<u8> {
    let f = Dim::Fixed;
    let mut graph = Vec::new();
    bytes_field(2, b"g", &mut graph);
    let inputs = [
        (
            "video",
            vec![s.batch, f(s.frames), f(3), f(s.height), f(s.width)],
        ),
        ("imu", vec![s.batch, f(6), f(s.imu_len)]),
        ("present", vec![s.batch, f(2)]),
    ];
    for (name, dims) in &inputs {
        bytes_field(11, &value_info(name, dims), &mut graph);
    }
    let outputs = [
        ("embedding", s.dim),
        ("video_embedding", s.video_dim),
        ("imu_embedding", s.imu_dim),
    ];
    for (name, d) in outputs {
        bytes_field(12, &value_info(name, &[s.batch, f(d)]), &mut graph);
        if !s.orphans {
            let mut node = Vec::new();
            bytes_field(1, b"present", &mut node);
            bytes_field(2, name.as_bytes(), &mut node);
            bytes_field(4, b"Identity", &mut node);
            bytes_field(1, &node, &mut graph);
        }
    }
    let mut model = Vec::new();
    varint_field(1, 7, &mut model);
    bytes_field(2, b"mmcl-tests", &mut model);
    bytes_field(7, &graph, &mut model);
    let mut opset = Vec::new();
    varint_field(2, 13, &mut opset);
    bytes_field(8, &opset, &mut model);
    for (key, value) in metadata(&s) {
        model.extend(metadata_entry(key, &value));
    }
    model
}

fn metadata(s: &Sizes) -> Vec<(&'static str, String)> {
    vec![
        ("mmcl.contract", "1".into()),
        ("mmcl.modalities", "video,imu".into()),
        ("mmcl.imu_units", "g,g,g,dps,dps,dps".into()),
        ("mmcl.imu_normalization", "none".into()),
        ("mmcl.fusion", "concat".into()),
        ("mmcl.provenance", "tests/hostile_support/onnx.rs".into()),
        ("mmcl.name", "hostile".into()),
        ("mmcl.frames", s.frames.to_string()),
        ("mmcl.height", s.height.to_string()),
        ("mmcl.width", s.width.to_string()),
        ("mmcl.imu_len", s.imu_len.to_string()),
        ("mmcl.imu_rate_hz", "20.0".into()),
        ("mmcl.window_seconds", "2.0".into()),
        ("mmcl.embedding_dim", s.dim.to_string()),
        ("mmcl.video_mean", "0.485,0.456,0.406".into()),
        ("mmcl.video_std", "0.229,0.224,0.225".into()),
    ]
}
