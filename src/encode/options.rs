//! How to open an encoder: which backend, how many threads, which ONNX
//! Runtime execution providers in which order, and the batch size.

use super::EncodeError;
use std::path::PathBuf;
use std::str::FromStr;

/// The inference backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// tract: pure Rust, no system library (feature `tract`, the default).
    Tract,
    /// ONNX Runtime loaded at run time, with execution providers (feature `ort`).
    Ort,
}

impl Backend {
    /// Both backends, in the order messages list them.
    pub const ALL: [Backend; 2] = [Backend::Tract, Backend::Ort];

    pub fn name(self) -> &'static str {
        match self {
            Backend::Tract => "tract",
            Backend::Ort => "ort",
        }
    }
}

impl FromStr for Backend {
    type Err = String;

    fn from_str(s: &str) -> Result<Backend, String> {
        Backend::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| format!("unknown backend \"{s}\" (expected tract or ort)"))
    }
}

/// An ONNX Runtime execution provider. tract always runs on the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutionProvider {
    Cpu,
    Cuda,
    TensorRt,
    OpenVino,
    Xnnpack,
    CoreMl,
    Qnn,
}

impl ExecutionProvider {
    pub const ALL: [ExecutionProvider; 7] = [
        ExecutionProvider::Cpu,
        ExecutionProvider::Cuda,
        ExecutionProvider::TensorRt,
        ExecutionProvider::OpenVino,
        ExecutionProvider::Xnnpack,
        ExecutionProvider::CoreMl,
        ExecutionProvider::Qnn,
    ];

    /// The short name used in configs, `--ep` and reports.
    pub fn name(self) -> &'static str {
        match self {
            ExecutionProvider::Cpu => "cpu",
            ExecutionProvider::Cuda => "cuda",
            ExecutionProvider::TensorRt => "tensorrt",
            ExecutionProvider::OpenVino => "openvino",
            ExecutionProvider::Xnnpack => "xnnpack",
            ExecutionProvider::CoreMl => "coreml",
            ExecutionProvider::Qnn => "qnn",
        }
    }

    /// Parses a comma-separated list such as `cuda,cpu` (order kept).
    pub fn parse_list(list: &str) -> Result<Vec<ExecutionProvider>, String> {
        list.split(',').map(|s| s.trim().parse()).collect()
    }
}

impl std::fmt::Display for ExecutionProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ExecutionProvider {
    type Err = String;

    fn from_str(s: &str) -> Result<ExecutionProvider, String> {
        let lower = s.to_ascii_lowercase();
        ExecutionProvider::ALL
            .into_iter()
            .find(|ep| ep.name() == lower)
            .ok_or_else(|| {
                let names: Vec<_> = ExecutionProvider::ALL.iter().map(|e| e.name()).collect();
                format!(
                    "unknown execution provider \"{s}\" (expected one of {})",
                    names.join(", ")
                )
            })
    }
}

/// More threads than this is a configuration mistake (and a thread pool that
/// cannot be spawned).
const MAX_THREADS: usize = 1024;

/// Everything `encode::open` needs besides the model path.
#[derive(Debug, Clone, PartialEq)]
pub struct EncoderOptions {
    pub backend: Backend,
    /// Intra-op threads; 0 lets the backend use every core (ONNX Runtime's
    /// own default; tract: one per available core).
    pub threads: usize,
    /// ONNX Runtime execution providers, tried in order; the first that
    /// registers and builds a session runs. CPU is used only when listed, so a
    /// failed accelerator never turns into a silent CPU fallback.
    pub execution_providers: Vec<ExecutionProvider>,
    /// The ONNX Runtime shared library; when `None`, `ORT_DYLIB_PATH` is read.
    pub ort_library: Option<PathBuf>,
    /// Windows per inference call.
    pub batch_size: usize,
}

impl EncoderOptions {
    /// tract: no system library needed, so it runs wherever mmcl builds.
    pub const DEFAULT_BACKEND: Backend = Backend::Tract;
    /// One intra-op thread: the safe choice on the smallest device.
    pub const DEFAULT_THREADS: usize = 1;
}

impl Default for EncoderOptions {
    fn default() -> EncoderOptions {
        EncoderOptions {
            backend: EncoderOptions::DEFAULT_BACKEND,
            threads: EncoderOptions::DEFAULT_THREADS,
            execution_providers: vec![ExecutionProvider::Cpu],
            ort_library: None,
            batch_size: 8,
        }
    }
}

impl EncoderOptions {
    /// Refuses options no backend can honour.
    pub fn validate(&self) -> Result<(), EncodeError> {
        if self.batch_size == 0 {
            return Err(EncodeError::Options(
                "batch size must be at least 1, got 0".into(),
            ));
        }
        if self.threads > MAX_THREADS {
            return Err(EncodeError::Options(format!(
                "at most {MAX_THREADS} threads, got {}",
                self.threads
            )));
        }
        if self.backend == Backend::Ort && self.execution_providers.is_empty() {
            return Err(EncodeError::Options(
                "the ort backend needs at least one execution provider".into(),
            ));
        }
        if self.backend == Backend::Tract
            && self
                .execution_providers
                .iter()
                .any(|e| *e != ExecutionProvider::Cpu)
        {
            let eps: Vec<_> = self.execution_providers.iter().map(|e| e.name()).collect();
            return Err(EncodeError::Options(format!(
                "tract runs on the CPU only; execution providers [{}] need --backend ort",
                eps.join(", ")
            )));
        }
        Ok(())
    }

    /// The thread count a backend will actually use.
    pub fn effective_threads(&self) -> usize {
        match self.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ep_lists_in_order() {
        let eps = ExecutionProvider::parse_list("CUDA, cpu").unwrap();
        assert_eq!(eps, [ExecutionProvider::Cuda, ExecutionProvider::Cpu]);
        let err = ExecutionProvider::parse_list("cuda,tpu").unwrap_err();
        assert!(err.contains("\"tpu\""), "{err}");
        for ep in ExecutionProvider::ALL {
            assert_eq!(ep.name().parse::<ExecutionProvider>(), Ok(ep));
        }
    }

    #[test]
    fn refuses_unusable_options() {
        let zero = EncoderOptions {
            batch_size: 0,
            ..Default::default()
        };
        assert!(zero.validate().unwrap_err().to_string().contains("got 0"));
        let tract_cuda = EncoderOptions {
            execution_providers: vec![ExecutionProvider::Cuda],
            ..Default::default()
        };
        assert!(tract_cuda
            .validate()
            .unwrap_err()
            .to_string()
            .contains("cuda"));
        let ort_none = EncoderOptions {
            backend: Backend::Ort,
            execution_providers: vec![],
            ..Default::default()
        };
        assert!(ort_none.validate().is_err());
        assert!(EncoderOptions::default().validate().is_ok());
    }
}
