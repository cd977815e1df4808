//! ONNX Runtime through `ort` with `load-dynamic`.
//!
//! The library is loaded once per process (ONNX Runtime allows one
//! environment per process, so the environment is process-global here, the
//! one global of this module). Each execution provider in
//! `EncoderOptions::execution_providers` is tried in order on a fresh session
//! builder with `error_on_failure`, and the session is committed with it; the
//! first that both registers and commits is the one that runs. Every attempt
//! is kept in `BackendInfo::ep_attempts` and failures are logged on stderr.
//! Automatic device selection is switched off (`PreferCPU`), so the provider
//! reported is the provider running: there is no silent CPU fallback, CPU runs
//! only when listed.

use crate::encode::{
    BackendInfo, Batch, BatchOutputs, EncodeError, Encoder, EncoderOptions, ExecutionProvider,
    ModelContract, ModelFile,
};
use ort::environment::Environment;
use ort::ep::{self, ExecutionProviderDispatch};
use ort::session::builder::AutoDevicePolicy;
use ort::session::{Session, SessionOutputs};
use ort::value::TensorRef;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const HOW_TO: &str = "`pip install onnxruntime==1.32.0` (found through python3), or set \
                      ORT_DYLIB_PATH to an ONNX Runtime >= 1.30 shared library such as the PyPI \
                      wheel's onnxruntime/capi/libonnxruntime.so.1.32.0 \
                      (or set the library path in the encoder options)";

pub struct OrtEncoder {
    contract: ModelContract,
    session: Session,
    info: BackendInfo,
    batch_size: usize,
}

fn backend_error(action: impl Into<String>, e: impl std::fmt::Display) -> EncodeError {
    EncodeError::Backend {
        backend: "ort",
        action: action.into(),
        message: e.to_string(),
    }
}

/// The library to load: the options' path, else `ORT_DYLIB_PATH`, else python3's
/// `onnxruntime` package (see `locate`).
fn library_path(options: &EncoderOptions) -> Result<PathBuf, EncodeError> {
    super::locate::locate(options.ort_library.as_deref())
        .map(|found| found.path().to_path_buf())
        .ok_or_else(|| EncodeError::OrtLibrary(format!("no library found: {HOW_TO}")))
}

fn load(path: &Path) -> Result<Environment, String> {
    if !path.is_file() {
        return Err(format!(
            "{} does not exist or is not a file; {HOW_TO}",
            path.display()
        ));
    }
    let builder = ort::init_from(path).map_err(|e| format!("{e}; {HOW_TO}"))?;
    builder
        .with_name("mmcl")
        .with_telemetry(false)
        .build()
        .map_err(|e| e.to_string())
}

/// The process's ONNX Runtime environment, loading the library on first use.
fn environment(path: &Path) -> Result<Environment, EncodeError> {
    static ENVIRONMENT: OnceLock<(PathBuf, Result<Environment, String>)> = OnceLock::new();
    let (loaded_from, env) = ENVIRONMENT.get_or_init(|| (path.to_path_buf(), load(path)));
    if loaded_from != path {
        return Err(EncodeError::OrtLibrary(format!(
            "this process already loaded ONNX Runtime from {}; cannot also load {}",
            loaded_from.display(),
            path.display()
        )));
    }
    env.clone().map_err(EncodeError::OrtLibrary)
}

fn dispatch(ep: ExecutionProvider) -> ExecutionProviderDispatch {
    match ep {
        ExecutionProvider::Cpu => ep::CPU::default().with_arena_allocator(false).build(),
        ExecutionProvider::Cuda => ep::CUDA::default().build(),
        ExecutionProvider::TensorRt => ep::TensorRT::default().build(),
        ExecutionProvider::OpenVino => ep::OpenVINO::default().build(),
        ExecutionProvider::Xnnpack => ep::XNNPACK::default().build(),
        ExecutionProvider::CoreMl => ep::CoreML::default().build(),
        ExecutionProvider::Qnn => ep::QNN::default().build(),
    }
}

/// A session running on `ep`, or why `ep` could not run the model.
fn session_on(
    env: &Environment,
    bytes: &[u8],
    ep: ExecutionProvider,
    threads: usize,
) -> Result<Session, String> {
    let text = |e: ort::Error<_>| e.to_string();
    Session::builder(env)
        .map_err(|e| e.to_string())?
        .with_auto_device(AutoDevicePolicy::PreferCPU)
        .map_err(text)?
        .with_intra_threads(threads)
        .map_err(text)?
        .with_inter_threads(1)
        .map_err(text)?
        // The batch size varies from call to call (a clip's windows, a task's tail):
        // memory patterns are planned per input shape, and with the CPU arena they
        // grew the process to 5.6 GB over 1280 clips (tract stays at 230 MB).
        .with_memory_pattern(false)
        .map_err(text)?
        .with_execution_providers([dispatch(ep).error_on_failure()])
        .map_err(text)?
        .commit_from_memory(bytes)
        .map_err(|e| e.to_string())
}

/// Loads the library, then tries each execution provider in order.
pub fn open(
    model: &ModelFile,
    contract: ModelContract,
    options: &EncoderOptions,
) -> Result<Box<dyn Encoder>, EncodeError> {
    let env = environment(&library_path(options)?)?;
    let threads = options.effective_threads();
    let mut attempts = Vec::new();
    for &ep in &options.execution_providers {
        match session_on(&env, &model.bytes, ep, options.threads) {
            Ok(session) => {
                attempts.push((ep.name().to_string(), Ok(())));
                let info = BackendInfo {
                    name: "ort",
                    execution_provider: ep.name().into(),
                    threads,
                    ep_attempts: attempts,
                };
                let batch_size = contract.fixed_batch.unwrap_or(options.batch_size);
                return Ok(Box::new(OrtEncoder {
                    contract,
                    session,
                    info,
                    batch_size,
                }));
            }
            Err(e) => {
                use std::io::Write as _;
                let _ = writeln!(
                    std::io::stderr(),
                    "mmcl: ort: execution provider {ep} unavailable for {}: {e}",
                    model.path.display()
                );
                attempts.push((ep.name().to_string(), Err(e)));
            }
        }
    }
    let attempts = attempts
        .into_iter()
        .map(|(ep, r)| (ep, r.err().unwrap_or_default()))
        .collect();
    Err(EncodeError::NoExecutionProvider { attempts })
}

fn input<'a>(
    name: &str,
    shape: Vec<usize>,
    data: &'a [f32],
) -> Result<TensorRef<'a, f32>, EncodeError> {
    TensorRef::from_array_view((shape, data))
        .map_err(|e| backend_error(format!("build input `{name}`"), e))
}

fn values(outputs: &SessionOutputs<'_>, name: &str) -> Result<Vec<f32>, EncodeError> {
    let value = outputs
        .get(name)
        .ok_or_else(|| backend_error(format!("read output `{name}`"), "missing"))?;
    let (_, data) = value
        .try_extract_tensor::<f32>()
        .map_err(|e| backend_error(format!("read output `{name}`"), e))?;
    Ok(data.to_vec())
}

impl Encoder for OrtEncoder {
    fn contract(&self) -> &ModelContract {
        &self.contract
    }

    fn backend(&self) -> BackendInfo {
        self.info.clone()
    }

    fn batch_size(&self) -> usize {
        self.batch_size
    }

    fn run(&mut self, batch: &Batch) -> Result<BatchOutputs, EncodeError> {
        let c = &self.contract;
        let n = batch.n;
        let video = input(
            "video",
            vec![n, c.frames, 3, c.height, c.width],
            &batch.video,
        )?;
        let imu = input("imu", vec![n, 6, c.imu_len], &batch.imu)?;
        let present = input("present", vec![n, 2], &batch.present)?;
        let outputs = (self.session)
            .run(ort::inputs!["video" => video, "imu" => imu, "present" => present])
            .map_err(|e| backend_error(format!("run a batch of {n}"), e))?;
        Ok(BatchOutputs {
            embedding: values(&outputs, "embedding")?,
            video: values(&outputs, "video_embedding")?,
            imu: values(&outputs, "imu_embedding")?,
        })
    }
}
