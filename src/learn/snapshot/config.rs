//! The learner config inside a learner state, versioned on its own so that `LearnerConfig`
//! can change without breaking the states already on devices.
//!
//! Config version 4, explicit fields in this order:
//! ```text
//! version u32 = 3 | strategy str | budget_bytes u64 | seed u64 | head str | scale f32 |
//! epochs u64 | lr f32 | momentum f32 | batch_size u64 | balanced u8 | temperature f32 |
//! lwf_lambda f32 | proto_distill f32 | ewc_lambda f32 | ewc_decay f32 | quant str |
//! pseudo_ratio f32 | ridge f64 | projection u64 | planned_classes u64 |
//! modality_dims u64s | relu u8 | ridge_select u8 | shrinkage f32 | standardize u8
//! ```
//! That is config version 4 (written since learner state version 4); config version 3
//! (learner state version 3, read only) is the same without `shrinkage` and `standardize`: it
//! migrates with both off, so every strategy predicts and learns exactly as it did.
//! Config version 2 (learner state version 2, read only): the same fields up to
//! `planned_classes`. It migrates with no modality blocks (no augmentation, no masked
//! scoring), `relu` on (the only feature map version 2 knew) and `ridge_select` off, so a
//! version-2 state predicts and learns exactly as it did.
//! Config version 1 (learner state version 1, read only): `LearnerConfig` as serde JSON, read
//! through `V1Json`, a frozen copy of that field set and of its defaults for missing fields.
//!
//! Changing `LearnerConfig` (adding, renaming or removing a field): bump `CONFIG_VERSION`,
//! write the new field list in `write`, and keep `read_v2` reading version 2 exactly as it does
//! now, migrating its values onto the new struct (a new field takes the value that reproduces
//! the old behaviour, a removed one is dropped), the way `V1Json::migrate` maps version 1.
//! Enum values are stored by the spellings in `HEADS`, `QUANTS` and `Strategy::name`: a
//! renamed variant keeps its stored spelling.

use crate::envelope::{EnvelopeError, Reader, Writer};
use crate::learn::config::{HeadKind, LearnerConfig, Strategy};
use crate::learn::quant::Quant;
use serde::Deserialize;

/// The config version this build writes.
pub const CONFIG_VERSION: u32 = 4;

/// Stored spellings of `HeadKind` (frozen: versions 1 and 2 use them).
const HEADS: [(HeadKind, &str); 2] = [(HeadKind::Linear, "linear"), (HeadKind::Cosine, "cosine")];
/// Stored spellings of `Quant` (frozen: versions 1 and 2 use them).
const QUANTS: [(Quant, &str); 3] = [
    (Quant::F32, "f32"),
    (Quant::F16, "f16"),
    (Quant::Int8, "int8"),
];

fn spelling<T: PartialEq>(table: &[(T, &'static str)], value: &T) -> &'static str {
    table
        .iter()
        .find(|(v, _)| v == value)
        .map_or("", |(_, s)| s)
}

fn by_spelling<T: Copy>(table: &[(T, &str)], name: &str, what: &str) -> Result<T, String> {
    table
        .iter()
        .find(|(_, s)| *s == name)
        .map(|(v, _)| *v)
        .ok_or_else(|| {
            let known: Vec<&str> = table.iter().map(|(_, s)| *s).collect();
            format!("{what} {name:?} is none of {}", known.join(", "))
        })
}

/// Appends the config in the current config version.
pub fn write(w: &mut Writer, c: &LearnerConfig) {
    w.u32(CONFIG_VERSION);
    w.str(c.strategy.name());
    w.usize(c.budget_bytes);
    w.u64(c.seed);
    w.str(spelling(&HEADS, &c.head));
    w.f32(c.scale);
    w.usize(c.epochs);
    w.f32(c.lr);
    w.f32(c.momentum);
    w.usize(c.batch_size);
    w.bool(c.balanced);
    w.f32(c.temperature);
    w.f32(c.lwf_lambda);
    w.f32(c.proto_distill);
    w.f32(c.ewc_lambda);
    w.f32(c.ewc_decay);
    w.str(spelling(&QUANTS, &c.quant));
    w.f32(c.pseudo_ratio);
    w.f64(c.ridge);
    w.usize(c.projection);
    w.usize(c.planned_classes);
    let dims: Vec<u64> = c.modality_dims.iter().map(|d| *d as u64).collect();
    w.u64s(&dims);
    w.bool(c.relu);
    w.bool(c.ridge_select);
    w.f32(c.shrinkage);
    w.bool(c.standardize);
}

/// Reads a config written by `write` in any config version this build knows (not validated).
pub fn read(r: &mut Reader) -> Result<LearnerConfig, EnvelopeError> {
    match r.u32("config version")? {
        2 => read_v2(r),
        3 => read_v3(r),
        4 => read_v4(r),
        v => Err(r.error(format!(
            "config version {v}; this build reads version {CONFIG_VERSION}"
        ))),
    }
}

fn read_v4(r: &mut Reader) -> Result<LearnerConfig, EnvelopeError> {
    let shared = read_v3(r)?;
    Ok(LearnerConfig {
        shrinkage: r.f32("config shrinkage")?,
        standardize: r.bool("config standardize")?,
        ..shared
    })
}

fn read_v3(r: &mut Reader) -> Result<LearnerConfig, EnvelopeError> {
    let shared = read_v2(r)?;
    let dims = r.u64s("config modality_dims")?;
    let modality_dims = dims
        .iter()
        .map(|d| usize::try_from(*d))
        .collect::<Result<Vec<usize>, _>>()
        .map_err(|_| {
            r.error(format!(
                "config modality_dims {dims:?} do not fit this machine"
            ))
        })?;
    Ok(LearnerConfig {
        modality_dims,
        relu: r.bool("config relu")?,
        ridge_select: r.bool("config ridge_select")?,
        ..shared
    })
}

/// Version 2's fields, migrated (module docs): also the common prefix of version 3.
fn read_v2(r: &mut Reader) -> Result<LearnerConfig, EnvelopeError> {
    // Struct fields are evaluated in the order written: the layout's order.
    Ok(LearnerConfig {
        strategy: strategy(r)?,
        budget_bytes: r.usize("config budget_bytes")?,
        seed: r.u64("config seed")?,
        head: spelled(r, &HEADS, "config head")?,
        scale: r.f32("config scale")?,
        epochs: r.usize("config epochs")?,
        lr: r.f32("config lr")?,
        momentum: r.f32("config momentum")?,
        batch_size: r.usize("config batch_size")?,
        balanced: r.bool("config balanced")?,
        temperature: r.f32("config temperature")?,
        lwf_lambda: r.f32("config lwf_lambda")?,
        proto_distill: r.f32("config proto_distill")?,
        ewc_lambda: r.f32("config ewc_lambda")?,
        ewc_decay: r.f32("config ewc_decay")?,
        quant: spelled(r, &QUANTS, "config quant")?,
        pseudo_ratio: r.f32("config pseudo_ratio")?,
        ridge: r.f64("config ridge")?,
        projection: r.usize("config projection")?,
        planned_classes: r.usize("config planned_classes")?,
        ..before_v3()
    })
}

/// What the fields version 3 added reproduce in a state written before them.
fn before_v3() -> LearnerConfig {
    LearnerConfig {
        modality_dims: Vec::new(),
        relu: true,
        ridge_select: false,
        ..LearnerConfig::default()
    }
}

fn strategy(r: &mut Reader) -> Result<Strategy, EnvelopeError> {
    let name = r.str("config strategy")?;
    name.parse().map_err(|e| r.error(e))
}

fn spelled<T: Copy>(r: &mut Reader, table: &[(T, &str)], what: &str) -> Result<T, EnvelopeError> {
    let name = r.str(what)?;
    by_spelling(table, &name, what).map_err(|e| r.error(e))
}

/// Reads config version 1: the JSON a learner state of version 1 carries.
pub fn from_json_v1(json: &str) -> Result<LearnerConfig, String> {
    let v1: V1Json = serde_json::from_str(json).map_err(|e| format!("config JSON: {e}"))?;
    v1.migrate()
}

/// `LearnerConfig`'s field set and defaults as learner state version 1 wrote them, frozen:
/// changing `LearnerConfig` must not change how a version-1 state reads.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct V1Json {
    strategy: String,
    budget_bytes: usize,
    seed: u64,
    head: String,
    scale: f32,
    epochs: usize,
    lr: f32,
    momentum: f32,
    batch_size: usize,
    balanced: bool,
    temperature: f32,
    lwf_lambda: f32,
    proto_distill: f32,
    ewc_lambda: f32,
    ewc_decay: f32,
    quant: String,
    pseudo_ratio: f32,
    ridge: f64,
    projection: usize,
    planned_classes: usize,
}

impl Default for V1Json {
    fn default() -> V1Json {
        V1Json {
            strategy: "proto".into(),
            budget_bytes: 160 * 2304 * 4,
            seed: 1993,
            head: "cosine".into(),
            scale: 16.0,
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
            quant: "int8".into(),
            pseudo_ratio: 1.0,
            ridge: 10.0,
            projection: 0,
            planned_classes: 32,
        }
    }
}

impl V1Json {
    /// Version 1 to today's struct: every field carries over unchanged.
    fn migrate(self) -> Result<LearnerConfig, String> {
        Ok(LearnerConfig {
            strategy: self.strategy.parse().map_err(|e| format!("config: {e}"))?,
            budget_bytes: self.budget_bytes,
            seed: self.seed,
            head: by_spelling(&HEADS, &self.head, "config head")?,
            scale: self.scale,
            epochs: self.epochs,
            lr: self.lr,
            momentum: self.momentum,
            batch_size: self.batch_size,
            balanced: self.balanced,
            temperature: self.temperature,
            lwf_lambda: self.lwf_lambda,
            proto_distill: self.proto_distill,
            ewc_lambda: self.ewc_lambda,
            ewc_decay: self.ewc_decay,
            quant: by_spelling(&QUANTS, &self.quant, "config quant")?,
            pseudo_ratio: self.pseudo_ratio,
            ridge: self.ridge,
            projection: self.projection,
            planned_classes: self.planned_classes,
            ..before_v3()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn odd() -> LearnerConfig {
        LearnerConfig {
            strategy: Strategy::Analytic,
            budget_bytes: 12345,
            seed: u64::MAX - 3,
            head: HeadKind::Linear,
            scale: 7.5,
            epochs: 3,
            lr: 0.125,
            momentum: 0.5,
            batch_size: 17,
            balanced: false,
            temperature: 1.5,
            lwf_lambda: 0.25,
            proto_distill: 2.0,
            ewc_lambda: 9.0,
            ewc_decay: 0.75,
            quant: Quant::F16,
            pseudo_ratio: 3.0,
            ridge: 0.1,
            projection: 128,
            planned_classes: 5,
            modality_dims: vec![3, 9],
            relu: true,
            ridge_select: true,
            shrinkage: 0.25,
            standardize: true,
        }
    }

    #[test]
    fn version_2_reads_with_the_old_feature_map_and_no_blocks() {
        let mut w = Writer::default();
        write(&mut w, &odd());
        // Version 2 is version 4 up to planned_classes: cut the added fields off.
        let added = 8 + 2 * 8 + 2 + 4 + 1;
        w.buf.truncate(w.buf.len() - added);
        w.buf[..4].copy_from_slice(&2u32.to_le_bytes());
        let mut r = Reader::new("learner state", &w.buf);
        let old = read(&mut r).unwrap();
        r.finish().unwrap();
        let expected = LearnerConfig {
            modality_dims: Vec::new(),
            relu: true,
            ridge_select: false,
            shrinkage: 0.0,
            standardize: false,
            ..odd()
        };
        assert_eq!(old, expected);
    }

    #[test]
    fn version_3_reads_with_shrinkage_off() {
        let mut w = Writer::default();
        write(&mut w, &odd());
        // Version 3 is version 4 without its last fields, shrinkage and standardize.
        w.buf.truncate(w.buf.len() - 5);
        w.buf[..4].copy_from_slice(&3u32.to_le_bytes());
        let mut r = Reader::new("learner state", &w.buf);
        let old = read(&mut r).unwrap();
        r.finish().unwrap();
        assert_eq!(
            old,
            LearnerConfig {
                shrinkage: 0.0,
                standardize: false,
                ..odd()
            }
        );
    }

    #[test]
    fn version_4_round_trips_every_field() {
        for config in [odd(), LearnerConfig::default()] {
            let mut w = Writer::default();
            write(&mut w, &config);
            let mut r = Reader::new("learner state", &w.buf);
            assert_eq!(read(&mut r).unwrap(), config);
            r.finish().unwrap();
        }
    }

    #[test]
    fn version_1_json_reads_with_its_frozen_defaults() {
        let mut json = serde_json::to_value(odd()).unwrap();
        for added in [
            "modality_dims",
            "relu",
            "ridge_select",
            "shrinkage",
            "standardize",
        ] {
            json.as_object_mut().unwrap().remove(added);
        }
        let expected = LearnerConfig {
            modality_dims: Vec::new(),
            relu: true,
            ridge_select: false,
            shrinkage: 0.0,
            standardize: false,
            ..odd()
        };
        assert_eq!(from_json_v1(&json.to_string()).unwrap(), expected);
        let sparse = from_json_v1(r#"{"strategy":"ncm","budget_bytes":10}"#).unwrap();
        assert_eq!(
            (
                sparse.strategy,
                sparse.budget_bytes,
                sparse.epochs,
                sparse.seed,
                sparse.ridge
            ),
            (Strategy::Ncm, 10, 8, 1993, 10.0)
        );
        assert!(from_json_v1(r#"{"typo":1}"#).unwrap_err().contains("typo"));
        assert!(from_json_v1(r#"{"strategy":"gem"}"#)
            .unwrap_err()
            .contains("gem"));
        assert!(from_json_v1(r#"{"quant":"int4"}"#)
            .unwrap_err()
            .contains("int4"));
    }

    #[test]
    fn unknown_config_versions_and_spellings_are_named() {
        let mut w = Writer::default();
        w.u32(9);
        let err = read(&mut Reader::new("learner state", &w.buf)).unwrap_err();
        assert!(err.to_string().contains("config version 9"), "{err}");
        let mut w = Writer::default();
        write(&mut w, &odd());
        let at = w.buf.windows(6).position(|b| b == b"linear").unwrap();
        w.buf[at..at + 6].copy_from_slice(b"curved");
        let err = read(&mut Reader::new("learner state", &w.buf)).unwrap_err();
        assert!(
            err.to_string()
                .contains("\"curved\" is none of linear, cosine"),
            "{err}"
        );
    }
}
