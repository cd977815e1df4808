//! Generator parameters: the command line's raw numbers, checked once into [`SynthParams`].
//!
//! Every refusal names the flag and the value, so the CLI can pass it through as a usage
//! error (exit 2).

use std::path::PathBuf;

/// The difficulty knobs (docs/synth.md explains each and why its default).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Knobs {
    /// Scale of sensor noise, bias and bias drift (1 = a cheap MEMS MPU).
    pub noise: f32,
    /// Pull of each class signature toward its family mean: 0 distinct, 1 identical.
    pub overlap: f32,
    /// Probability that a clip lacks one modality (its CSV or its frame folder).
    pub missing_rate: f32,
    /// Probability that a clip holds one stuck-sensor run.
    pub dropout_rate: f32,
    /// Frames per second of clip time; below the 25 Hz sensor rate keeps datasets small.
    pub video_fps: f32,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            noise: 1.5,
            overlap: 0.7,
            missing_rate: 0.02,
            dropout_rate: 0.1,
            video_fps: 3.0,
        }
    }
}

/// Where the clips come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// The first `classes` activities with `clips_per_class` clips each.
    Fresh {
        classes: usize,
        clips_per_class: usize,
    },
    /// Every clip of the list files in this folder (`train.txt`, `val.txt`, `test.txt`).
    Like(PathBuf),
}

/// The parameters as given: `None` means the flag was not passed.
#[derive(Debug, Clone, PartialEq)]
pub struct RawParams {
    pub classes: Option<usize>,
    pub clips_per_class: Option<usize>,
    pub like: Option<PathBuf>,
    pub seed: u64,
    pub size: u32,
    pub knobs: Knobs,
}

pub const DEFAULT_CLASSES: usize = 32;
pub const DEFAULT_CLIPS_PER_CLASS: usize = 10;
pub const DEFAULT_SIZE: u32 = 64;
/// Above this a class's clips would not fit the clip-name width and no test needs more.
const MAX_CLIPS_PER_CLASS: usize = 9999;

/// A refused parameter.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamError {
    #[error("--{flag} {value}: must be {expected}")]
    OutOfRange {
        flag: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("--{flag} cannot be combined with --like: the list files fix the classes and clips")]
    WithLike { flag: &'static str },
}

/// Checked generator parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthParams {
    source: Source,
    seed: u64,
    size: u32,
    knobs: Knobs,
}

impl SynthParams {
    pub fn new(raw: RawParams) -> Result<Self, ParamError> {
        check_knobs(&raw.knobs)?;
        check(
            "size",
            raw.size,
            (16..=512).contains(&raw.size),
            "16..=512 pixels",
        )?;
        let source = match raw.like {
            Some(dir) => {
                if raw.classes.is_some() {
                    return Err(ParamError::WithLike { flag: "classes" });
                }
                if raw.clips_per_class.is_some() {
                    return Err(ParamError::WithLike {
                        flag: "clips-per-class",
                    });
                }
                Source::Like(dir)
            }
            None => {
                let classes = raw.classes.unwrap_or(DEFAULT_CLASSES);
                check("classes", classes, (1..=32).contains(&classes), "1..=32")?;
                let clips_per_class = raw.clips_per_class.unwrap_or(DEFAULT_CLIPS_PER_CLASS);
                let ok = (3..=MAX_CLIPS_PER_CLASS).contains(&clips_per_class);
                check(
                    "clips-per-class",
                    clips_per_class,
                    ok,
                    "3..=9999 (one clip at least in each of train, val and test)",
                )?;
                Source::Fresh {
                    classes,
                    clips_per_class,
                }
            }
        };
        Ok(SynthParams {
            source,
            seed: raw.seed,
            size: raw.size,
            knobs: raw.knobs,
        })
    }

    pub fn source(&self) -> &Source {
        &self.source
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Frame width and height in pixels.
    pub fn size(&self) -> u32 {
        self.size
    }

    pub fn knobs(&self) -> &Knobs {
        &self.knobs
    }
}

fn check_knobs(k: &Knobs) -> Result<(), ParamError> {
    let unit = |x: f32| (0.0..=1.0).contains(&x);
    check(
        "noise",
        k.noise,
        (0.0..=10.0).contains(&k.noise),
        "in [0, 10]",
    )?;
    check("overlap", k.overlap, unit(k.overlap), "in [0, 1]")?;
    check(
        "missing-rate",
        k.missing_rate,
        unit(k.missing_rate),
        "in [0, 1]",
    )?;
    check(
        "dropout-rate",
        k.dropout_rate,
        unit(k.dropout_rate),
        "in [0, 1]",
    )?;
    check(
        "video-fps",
        k.video_fps,
        k.video_fps > 0.0 && k.video_fps <= 25.0,
        "in (0, 25] (at most one frame per sensor row)",
    )
}

fn check(
    flag: &'static str,
    value: impl ToString,
    ok: bool,
    expected: &'static str,
) -> Result<(), ParamError> {
    if ok {
        Ok(())
    } else {
        Err(ParamError::OutOfRange {
            flag,
            value: value.to_string(),
            expected,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawParams {
        RawParams {
            classes: None,
            clips_per_class: None,
            like: None,
            seed: 0,
            size: DEFAULT_SIZE,
            knobs: Knobs::default(),
        }
    }

    fn flag_of(raw: RawParams) -> String {
        SynthParams::new(raw).unwrap_err().to_string()
    }

    #[test]
    fn defaults_are_accepted() {
        let p = SynthParams::new(raw()).unwrap();
        assert_eq!(
            p.source(),
            &Source::Fresh {
                classes: 32,
                clips_per_class: 10
            }
        );
    }

    #[test]
    fn each_bad_value_names_its_flag_and_value() {
        assert!(flag_of(RawParams {
            classes: Some(0),
            ..raw()
        })
        .starts_with("--classes 0:"));
        assert!(flag_of(RawParams {
            classes: Some(33),
            ..raw()
        })
        .starts_with("--classes 33:"));
        assert!(flag_of(RawParams {
            clips_per_class: Some(2),
            ..raw()
        })
        .starts_with("--clips-per-class 2:"));
        assert!(flag_of(RawParams { size: 15, ..raw() }).starts_with("--size 15:"));
        assert!(flag_of(RawParams { size: 513, ..raw() }).starts_with("--size 513:"));
        let knobs = |k: Knobs| RawParams { knobs: k, ..raw() };
        assert!(flag_of(knobs(Knobs {
            overlap: 1.5,
            ..Knobs::default()
        }))
        .starts_with("--overlap 1.5:"));
        assert!(flag_of(knobs(Knobs {
            noise: f32::NAN,
            ..Knobs::default()
        }))
        .starts_with("--noise NaN:"));
        assert!(flag_of(knobs(Knobs {
            video_fps: 0.0,
            ..Knobs::default()
        }))
        .starts_with("--video-fps 0:"));
        assert!(flag_of(knobs(Knobs {
            missing_rate: -0.1,
            ..Knobs::default()
        }))
        .starts_with("--missing-rate -0.1:"));
    }

    #[test]
    fn like_refuses_class_counts() {
        let like = Some(PathBuf::from("lists"));
        assert!(flag_of(RawParams {
            like: like.clone(),
            classes: Some(4),
            ..raw()
        })
        .contains("--classes cannot"));
        assert!(flag_of(RawParams {
            like: like.clone(),
            clips_per_class: Some(4),
            ..raw()
        })
        .contains("--clips-per-class cannot"));
        assert_eq!(
            SynthParams::new(RawParams { like, ..raw() })
                .unwrap()
                .source(),
            &Source::Like("lists".into())
        );
    }
}
