//! `[encoder]`: which ONNX file runs (none named: the encoder built into the
//! binary), on which backend, with how many threads and (for ONNX Runtime) which
//! execution providers in order of preference. The backend and provider names are
//! `encode`'s own; `options` hands the section to `encode::open_model` as
//! `EncoderOptions`, and `model_file` reads the model it names.

use super::check::{path_text, Checker};
use super::error::ConfigErrors;
use super::raw::RawEncoder;
use crate::encode::{self, Backend, EncodeError, EncoderOptions, ExecutionProvider, ModelFile};
use std::path::{Path, PathBuf};

/// The encoder's own defaults (tract, one thread, the CPU): one definition.
pub const DEFAULT_BACKEND: Backend = EncoderOptions::DEFAULT_BACKEND;
/// One thread: the safe choice on the smallest device; profiles raise it.
pub const DEFAULT_THREADS: u32 = EncoderOptions::DEFAULT_THREADS as u32;
pub const MAX_THREADS: i64 = 64;

/// The validated `[encoder]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct EncoderConfig {
    /// `None`: the default encoder built into the binary (`encode::builtin`).
    model: Option<PathBuf>,
    backend: Backend,
    threads: u32,
    execution_providers: Vec<ExecutionProvider>,
    ort_library: Option<PathBuf>,
}

impl EncoderConfig {
    /// Checks an `[encoder]` table on its own (for `model inspect`, which runs a
    /// model without a profile); relative paths resolve against the working directory.
    pub fn new(raw: &RawEncoder) -> Result<EncoderConfig, ConfigErrors> {
        let cwd = std::path::absolute(".").unwrap_or_default();
        let mut c = Checker::new(&cwd);
        let built = EncoderConfig::from_raw(raw, &mut c);
        c.finish(built).map(|(checked, _warnings)| checked)
    }

    /// The ONNX file, resolved (it existed when the config was checked); `None`
    /// runs the default encoder built into the binary.
    pub fn model(&self) -> Option<&Path> {
        self.model.as_deref()
    }

    /// Reads and parses the model this section names (the built-in one when none).
    pub fn model_file(&self) -> Result<ModelFile, EncodeError> {
        match &self.model {
            Some(path) => ModelFile::read(path),
            None => encode::builtin::default_model(),
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Intra-op threads for the backend, in 1..=64.
    pub fn threads(&self) -> u32 {
        self.threads
    }

    /// Non-empty, no duplicates; exactly `[Cpu]` with the tract backend.
    pub fn execution_providers(&self) -> &[ExecutionProvider] {
        &self.execution_providers
    }

    /// The `libonnxruntime.so` to load, resolved; `None` leaves it to `ORT_DYLIB_PATH`.
    pub fn ort_library(&self) -> Option<&Path> {
        self.ort_library.as_deref()
    }

    /// What `encode::open` needs besides the model path. The batch size is not a
    /// profile key (the daemon encodes windows as they come), so it keeps
    /// `EncoderOptions::default()`'s.
    pub fn options(&self) -> EncoderOptions {
        EncoderOptions {
            backend: self.backend,
            // Validated to 1..=64, so never 0 ("every core") nor above encode's limit.
            threads: self.threads as usize,
            execution_providers: self.execution_providers.clone(),
            ort_library: self.ort_library.clone(),
            ..EncoderOptions::default()
        }
    }

    pub(crate) fn from_raw(raw: &RawEncoder, c: &mut Checker) -> Option<EncoderConfig> {
        let model = match raw.model.as_deref() {
            Some(m) => c.existing_file("encoder.model", m).map(Some),
            None => Some(None),
        };
        let backend = match &raw.backend {
            Some(name) => c.choice("encoder.backend", name),
            None => Some(DEFAULT_BACKEND),
        };
        let threads = c.int_in(
            "encoder.threads",
            raw.threads.unwrap_or(DEFAULT_THREADS.into()),
            1,
            MAX_THREADS,
        );
        let eps = execution_providers(raw.execution_providers.as_deref(), backend, c);
        let ort_library = match &raw.ort_library {
            Some(p) => c.existing_file("encoder.ort_library", p).map(Some),
            None => Some(None),
        };
        if backend == Some(Backend::Tract) {
            if let Some(p) = &raw.ort_library {
                c.warn(
                    "encoder.ort_library",
                    path_text(p),
                    "ignored: encoder.backend is \"tract\"",
                );
            }
        }
        if backend == Some(Backend::Ort) && !cfg!(feature = "ort") {
            c.warn(
                "encoder.backend",
                "\"ort\"",
                "this mmcl was built without the `ort` feature",
            );
        }
        Some(EncoderConfig {
            model: model?,
            backend: backend?,
            threads: threads?,
            execution_providers: eps?,
            ort_library: ort_library?,
        })
    }

    pub(crate) fn to_raw(&self) -> RawEncoder {
        RawEncoder {
            model: self.model.clone(),
            backend: Some(self.backend.name().to_string()),
            threads: Some(self.threads.into()),
            execution_providers: Some(
                self.execution_providers
                    .iter()
                    .map(|ep| ep.name().to_string())
                    .collect(),
            ),
            ort_library: self.ort_library.clone(),
        }
    }
}

/// Names → providers: each known, none repeated, not empty, and nothing but
/// `cpu` with tract (which has no providers: a GPU list there would be a silent lie).
fn execution_providers(
    names: Option<&[String]>,
    backend: Option<Backend>,
    c: &mut Checker,
) -> Option<Vec<ExecutionProvider>> {
    const KEY: &str = "encoder.execution_providers";
    let Some(names) = names else {
        return Some(vec![ExecutionProvider::Cpu]);
    };
    let shown = format!("{names:?}");
    if names.is_empty() {
        return c.error(
            KEY,
            shown,
            "must list at least one provider (\"cpu\" always works)",
        );
    }
    let mut eps = Vec::with_capacity(names.len());
    let mut ok = true;
    for name in names {
        match c.choice::<ExecutionProvider>(KEY, name) {
            Some(ep) if eps.contains(&ep) => {
                ok = false;
                c.error::<()>(KEY, shown.clone(), format!("{name:?} is listed twice"));
            }
            Some(ep) => eps.push(ep),
            None => ok = false,
        }
    }
    if backend == Some(Backend::Tract) && ok && eps != [ExecutionProvider::Cpu] {
        return c.error(KEY, shown, "only [\"cpu\"] is possible with encoder.backend = \"tract\"; use \"ort\" for other providers");
    }
    ok.then_some(eps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: RawEncoder) -> (Option<EncoderConfig>, Checker) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("m.onnx"), b"").unwrap();
        let mut c = Checker::new(dir.path());
        let raw = RawEncoder {
            model: Some("m.onnx".into()),
            ..raw
        };
        (EncoderConfig::from_raw(&raw, &mut c), c)
    }

    fn eps(names: &[&str]) -> Option<Vec<String>> {
        Some(names.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn defaults_are_tract_one_thread_cpu() {
        let (enc, c) = check(RawEncoder::default());
        let enc = enc.unwrap();
        assert!(c.errors.is_empty());
        assert_eq!((enc.backend(), enc.threads()), (Backend::Tract, 1));
        assert_eq!(enc.execution_providers(), [ExecutionProvider::Cpu]);
        assert!(enc.model().is_some_and(Path::is_absolute));
        // The profile's defaults are the encoder's own.
        assert_eq!(enc.options(), EncoderOptions::default());
    }

    #[test]
    fn options_carry_every_key() {
        let (enc, c) = check(RawEncoder {
            backend: Some("ort".into()),
            threads: Some(6),
            execution_providers: eps(&["tensorrt", "cuda", "cpu"]),
            ..Default::default()
        });
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        let options = enc.unwrap().options();
        assert_eq!((options.backend, options.threads), (Backend::Ort, 6));
        assert_eq!(
            options.execution_providers,
            [
                ExecutionProvider::TensorRt,
                ExecutionProvider::Cuda,
                ExecutionProvider::Cpu
            ]
        );
        assert!(options.validate().is_ok());
    }

    #[test]
    fn duplicate_provider_is_named() {
        let raw = RawEncoder {
            backend: Some("ort".into()),
            execution_providers: eps(&["cuda", "cpu", "cuda"]),
            ..Default::default()
        };
        let (enc, c) = check(raw);
        assert!(enc.is_none());
        assert_eq!(c.errors.len(), 1);
        assert!(
            c.errors[0].message.contains("\"cuda\" is listed twice"),
            "{}",
            c.errors[0]
        );
    }

    #[test]
    fn providers_other_than_cpu_need_ort() {
        let (enc, c) = check(RawEncoder {
            execution_providers: eps(&["cuda", "cpu"]),
            ..Default::default()
        });
        assert!(enc.is_none());
        assert_eq!(c.errors[0].key, "encoder.execution_providers");
        let raw = RawEncoder {
            backend: Some("ort".into()),
            execution_providers: eps(&["tensorrt", "cuda", "cpu"]),
            ..Default::default()
        };
        let (enc, c) = check(raw);
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        assert_eq!(enc.unwrap().execution_providers().len(), 3);
    }

    #[test]
    fn empty_and_unknown_providers_are_refused() {
        let (_, c) = check(RawEncoder {
            backend: Some("ort".into()),
            execution_providers: eps(&[]),
            ..Default::default()
        });
        assert_eq!(c.errors.len(), 1);
        let (_, c) = check(RawEncoder {
            backend: Some("ort".into()),
            execution_providers: eps(&["rocm"]),
            ..Default::default()
        });
        assert!(c.errors[0]
            .to_string()
            .starts_with("encoder.execution_providers = \"rocm\": must be one of"));
    }
}

#[cfg(test)]
mod builtin_tests {
    use super::*;

    #[test]
    fn no_model_means_the_built_in_encoder() {
        let mut c = Checker::new(Path::new("/nowhere"));
        let enc = EncoderConfig::from_raw(&RawEncoder::default(), &mut c).unwrap();
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        assert_eq!(enc.model(), None);
        let model = enc.model_file().unwrap();
        assert_eq!(model.bytes, encode::builtin::DEFAULT_MODEL);
        assert_eq!(enc.to_raw().model, None);
    }
}
