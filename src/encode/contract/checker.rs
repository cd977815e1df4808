//! The walk behind `ModelContract::check`: metadata first, then every input
//! and output, recording each problem instead of stopping at the first.
//!
//! A model file is untrusted input, and the runtime allocates tensors from the
//! sizes it states (`Batch::from_windows`, `Batch::padded`), so every size has an
//! upper bound checked here (`Bounds`): a 1.9 KB file claiming 60000x60000 frames
//! or a fixed batch of 2e9 is a contract problem, not an abort in the allocator.
//! Each bound is far above any encoder a device runs; they live in `bounds`.

mod bounds;

use super::{ContractProblem, CONTRACT_VERSION, IMU_UNITS, MODALITIES};
use crate::encode::onnx_proto::{dtype_name, Dim, OnnxSummary, ValueInfo, FLOAT};
use bounds::Bounds;

/// Metadata keys that must be present and non-empty but carry free text.
const TEXT_KEYS: [&str; 4] = [
    "mmcl.imu_normalization",
    "mmcl.fusion",
    "mmcl.provenance",
    "mmcl.name",
];

/// Collects problems while the check walks the model.
pub(super) struct Checker<'a> {
    pub(super) summary: &'a OnnxSummary,
    pub(super) problems: Vec<ContractProblem>,
}

/// The metadata, each value `None` when missing or malformed (a problem
/// is recorded) so the shape checks can still use the good ones.
pub(super) struct Meta {
    pub(super) frames: Option<usize>,
    pub(super) height: Option<usize>,
    pub(super) width: Option<usize>,
    pub(super) imu_len: Option<usize>,
    pub(super) imu_rate_hz: Option<f32>,
    pub(super) window_seconds: Option<f32>,
    pub(super) dim: Option<usize>,
    pub(super) video_mean: Option<[f32; 3]>,
    pub(super) video_std: Option<[f32; 3]>,
    pub(super) name: String,
    pub(super) flops: Option<f64>,
}

impl Checker<'_> {
    fn problem(
        &mut self,
        kind: &'static str,
        name: &str,
        expected: impl Into<String>,
        got: impl Into<String>,
    ) {
        let (expected, got) = (expected.into(), got.into());
        self.problems.push(ContractProblem {
            kind,
            name: name.to_string(),
            expected,
            got,
        });
    }

    fn raw(&mut self, key: &str) -> Option<String> {
        match self.summary.metadata.get(key) {
            Some(v) if !v.trim().is_empty() => Some(v.trim().to_string()),
            Some(_) => {
                self.problem("metadata", key, "a value", "an empty string");
                None
            }
            None => {
                self.problem("metadata", key, "the key to be present", "no such key");
                None
            }
        }
    }

    fn exact(&mut self, key: &str, want: &str) {
        if let Some(v) = self.raw(key) {
            if v.replace(' ', "") != want {
                self.problem("metadata", key, format!("\"{want}\""), format!("\"{v}\""));
            }
        }
    }

    fn positive_int(&mut self, key: &str) -> Option<usize> {
        let v = self.raw(key)?;
        match v.parse::<usize>() {
            Ok(n) if n > 0 => self.at_most(key, n, Bounds::int(key)),
            _ => {
                self.problem("metadata", key, "a positive integer", format!("\"{v}\""));
                None
            }
        }
    }

    fn positive_float(&mut self, key: &str) -> Option<f32> {
        let v = self.raw(key)?;
        match v.parse::<f32>() {
            Ok(x) if x.is_finite() && x > 0.0 => self.at_most(key, x, Bounds::float(key)),
            _ => {
                self.problem("metadata", key, "a positive number", format!("\"{v}\""));
                None
            }
        }
    }

    fn triple(&mut self, key: &str, positive: bool) -> Option<[f32; 3]> {
        let v = self.raw(key)?;
        let parsed: Vec<f32> = v.split(',').filter_map(|s| s.trim().parse().ok()).collect();
        let ok = parsed.len() == 3
            && v.split(',').count() == 3
            && parsed
                .iter()
                .all(|x| x.is_finite() && (!positive || *x > 0.0));
        match <[f32; 3]>::try_from(parsed) {
            Ok(t) if ok => Some(t),
            _ => {
                let what = if positive {
                    "3 positive numbers (R,G,B)"
                } else {
                    "3 numbers (R,G,B)"
                };
                self.problem("metadata", key, what, format!("\"{v}\""));
                None
            }
        }
    }

    fn optional_float(&mut self, key: &str) -> Option<f64> {
        let v = self.summary.metadata.get(key)?.trim().to_string();
        match v.parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 0.0 => Some(x),
            _ => {
                self.problem(
                    "metadata",
                    key,
                    "a non-negative number (optional key)",
                    format!("\"{v}\""),
                );
                None
            }
        }
    }

    /// Reads every metadata key, recording a problem for each bad one.
    pub(super) fn metadata(&mut self) -> Meta {
        self.exact("mmcl.contract", CONTRACT_VERSION);
        self.exact("mmcl.modalities", &MODALITIES.join(","));
        self.exact("mmcl.imu_units", IMU_UNITS);
        for key in TEXT_KEYS {
            self.raw(key);
        }
        Meta {
            frames: self.positive_int("mmcl.frames"),
            height: self.positive_int("mmcl.height"),
            width: self.positive_int("mmcl.width"),
            imu_len: self.positive_int("mmcl.imu_len"),
            imu_rate_hz: self.positive_float("mmcl.imu_rate_hz"),
            window_seconds: self.positive_float("mmcl.window_seconds"),
            dim: self.positive_int("mmcl.embedding_dim"),
            video_mean: self.triple("mmcl.video_mean", false),
            video_std: self.triple("mmcl.video_std", true),
            name: self
                .summary
                .metadata
                .get("mmcl.name")
                .map(|n| n.trim().to_string())
                .unwrap_or_default(),
            flops: self.optional_float("mmcl.flops_per_window"),
        }
    }
}

/// What one input or output must look like; `None` dims are any
/// positive number (unknown when the metadata is bad, or free like a modality's D).
struct Expect {
    kind: &'static str,
    name: &'static str,
    dims: Vec<Option<usize>>,
}

impl Checker<'_> {
    fn find(&mut self, kind: &'static str, name: &str) -> Option<&ValueInfo> {
        let list = if kind == "input" {
            &self.summary.inputs
        } else {
            &self.summary.outputs
        };
        let found = list.iter().find(|v| v.name == name);
        if found.is_none() {
            let names: Vec<_> = list.iter().map(|v| v.name.as_str()).collect();
            let got = format!("no such {kind} (the model has {})", names.join(", "));
            self.problem(kind, name, format!("a float32 {kind}"), got);
        }
        found
    }

    /// Checks dtype and rank, each fixed dim against `want`, and returns the
    /// file's batch dim and its non-batch dims.
    fn shaped(&mut self, e: &Expect) -> Option<(Dim, Vec<Dim>)> {
        let info = self.find(e.kind, e.name)?.clone();
        if info.elem_type != FLOAT {
            self.problem(
                e.kind,
                e.name,
                "dtype float32",
                format!("dtype {}", dtype_name(info.elem_type)),
            );
        }
        let want = display_shape(&e.dims);
        let Some(shape) = info.shape.filter(|s| s.len() == e.dims.len() + 1) else {
            self.problem(
                e.kind,
                e.name,
                format!("shape {want}"),
                "a different rank or no shape",
            );
            return None;
        };
        let ok = shape[1..]
            .iter()
            .zip(&e.dims)
            .all(|(got, want)| match (got, want) {
                (Dim::Fixed(g), Some(w)) => *g == *w as i64,
                (Dim::Fixed(g), None) => *g > 0 && *g <= Bounds::DIM as i64,
                _ => false,
            });
        if !ok {
            self.problem(
                e.kind,
                e.name,
                format!("shape {want}"),
                format!("shape {}", shape_string(&shape)),
            );
            return None;
        }
        Some((shape[0].clone(), shape[1..].to_vec()))
    }

    /// Checks every input and output; returns the fixed batch (if any) and
    /// the per-modality embedding dims.
    pub(super) fn io_shapes(&mut self, m: &Meta) -> (Option<usize>, Option<(usize, usize)>) {
        let expects = [
            Expect {
                kind: "input",
                name: "video",
                dims: vec![m.frames, Some(3), m.height, m.width],
            },
            Expect {
                kind: "input",
                name: "imu",
                dims: vec![Some(6), m.imu_len],
            },
            Expect {
                kind: "input",
                name: "present",
                dims: vec![Some(MODALITIES.len())],
            },
            Expect {
                kind: "output",
                name: "embedding",
                dims: vec![m.dim],
            },
            Expect {
                kind: "output",
                name: "video_embedding",
                dims: vec![None],
            },
            Expect {
                kind: "output",
                name: "imu_embedding",
                dims: vec![None],
            },
        ];
        let shapes: Vec<_> = expects.iter().map(|e| self.shaped(e)).collect();
        self.extra_inputs();
        self.wired_outputs();
        let batch = self.batch_dim(&expects, &shapes);
        let batch = self.bounded_sizes(m, batch);
        let dim_of = |i: usize| match shapes.get(i) {
            Some(Some((_, dims))) => match dims.first() {
                Some(Dim::Fixed(d)) => Some(*d as usize),
                _ => None,
            },
            _ => None,
        };
        (batch, dim_of(4).zip(dim_of(5)))
    }

    /// Every graph output must come from somewhere in the graph.
    fn wired_outputs(&mut self) {
        for name in self.summary.orphan_outputs.clone() {
            let expected = "an output a node, input or initializer produces";
            self.problem(
                "output",
                &name,
                expected,
                "nothing in the graph produces it",
            );
        }
    }

    fn extra_inputs(&mut self) {
        let extra: Vec<String> = (self.summary.inputs.iter())
            .filter(|i| !["video", "imu", "present"].contains(&i.name.as_str()))
            .map(|i| i.name.clone())
            .collect();
        for name in extra {
            self.problem(
                "input",
                &name,
                "only video, imu and present",
                "an input the runtime cannot feed",
            );
        }
    }

    /// All batch dims must be one symbol (or one number): the runtime feeds N windows.
    fn batch_dim(
        &mut self,
        expects: &[Expect],
        shapes: &[Option<(Dim, Vec<Dim>)>],
    ) -> Option<usize> {
        let batches: Vec<(&str, &Dim)> = expects
            .iter()
            .zip(shapes)
            .filter_map(|(e, s)| s.as_ref().map(|(b, _)| (e.name, b)))
            .collect();
        let (_, first) = batches.first().copied()?;
        for (name, b) in &batches {
            let bad_fixed = matches!(b, Dim::Fixed(v) if *v <= 0);
            if *b != first || bad_fixed || matches!(b, Dim::Unknown) {
                let kind = if ["video", "imu", "present"].contains(name) {
                    "input"
                } else {
                    "output"
                };
                self.problem(
                    kind,
                    name,
                    format!("batch dimension {first} shared by all inputs and outputs"),
                    format!("{b}"),
                );
            }
        }
        match first {
            Dim::Fixed(v) if *v > 0 => Some(*v as usize),
            _ => None,
        }
    }
}

fn display_shape(dims: &[Option<usize>]) -> String {
    let inner: Vec<String> = dims
        .iter()
        .map(|d| d.map_or("?".to_string(), |v| v.to_string()))
        .collect();
    format!("[N, {}]", inner.join(", "))
}

fn shape_string(dims: &[Dim]) -> String {
    let inner: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    format!("[{}]", inner.join(", "))
}

/// The optional frame-stage keys: both or neither.
const FRAME_STAGE_KEYS: [&str; 2] = ["mmcl.frame_stage.input", "mmcl.frame_stage.output"];

impl Checker<'_> {
    /// The declared frame stage; a half-declared or degenerate one is a problem.
    pub(super) fn frame_stage(&mut self) -> Option<super::FrameStageTensors> {
        let values = FRAME_STAGE_KEYS.map(|k| self.summary.metadata.get(k).map(|v| v.trim()));
        match values {
            [None, None] => None,
            [Some(input), Some(output)] if !input.is_empty() && !output.is_empty() => {
                if input == output {
                    let got = format!("both \"{input}\"");
                    self.problem(
                        "metadata",
                        FRAME_STAGE_KEYS[1],
                        "a tensor other than the input",
                        got,
                    );
                    return None;
                }
                Some(super::FrameStageTensors {
                    input: input.to_string(),
                    output: output.to_string(),
                })
            }
            _ => {
                for (key, value) in FRAME_STAGE_KEYS.iter().zip(values) {
                    if value.is_none_or(str::is_empty) {
                        let expected = "a tensor name (the frame-stage keys come in pairs)";
                        self.problem("metadata", key, expected, "no value");
                    }
                }
                None
            }
        }
    }
}
