//! The flags every command that encodes or learns shares: the profile to start
//! from (`--config FILE`, else the built-in one), `--print-config`, and the
//! encoder flags that override the profile's `[encoder]`. A flag given wins over
//! the profile; a flag not given leaves the profile's value (or its default):
//! defaults live in `config`, never in a flag's `default_value`.

use super::{diag, CliError};
use crate::config::raw::{RawEncoder, RawReplay, RawSources};
use crate::config::{Config, ConfigError, EncoderConfig, RawConfig, Settings, SettingsError};
use crate::encode::{Backend, EncodeError, EncoderOptions, ExecutionProvider};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, clap::Args)]
pub struct ProfileArgs {
    /// A device profile (TOML) to take the settings from; flags override it
    /// (default: the built-in profile, see `--print-config`).
    #[arg(long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the effective settings (profile, flags, and what the encoder fixes) as TOML, then exit.
    #[arg(long)]
    pub print_config: bool,
}

/// The `[encoder]` flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct EncoderArgs {
    /// The ONNX encoder (default: the profile's, else the built-in models/encoder.onnx).
    #[arg(long)]
    pub model: Option<PathBuf>,
    #[command(flatten)]
    pub backend: BackendArgs,
}

/// How to run a model: backend, execution providers, library, threads.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BackendArgs {
    /// Inference backend: tract (pure Rust) or ort (ONNX Runtime) [default: the profile's, else tract].
    #[arg(long)]
    pub backend: Option<Backend>,
    /// Execution providers for ort, tried in order, e.g. tensorrt,cuda,cpu [default: the profile's, else cpu].
    #[arg(long, value_delimiter = ',')]
    pub ep: Option<Vec<ExecutionProvider>>,
    /// ONNX Runtime shared library [default: the profile's, else $ORT_DYLIB_PATH or python3's onnxruntime].
    #[arg(long)]
    pub ort_library: Option<PathBuf>,
    /// Intra-op threads, 1 to 64 [default: the profile's, else 1].
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..=64))]
    pub threads: Option<i64>,
}

impl ProfileArgs {
    /// The profile with `edit` applied (command-line overrides), checked, then
    /// resolved against its encoder; its warnings go to stderr.
    pub fn settings(&self, edit: impl FnOnce(&mut RawConfig)) -> Result<Settings, CliError> {
        let settings = self.resolve(edit)?;
        warn(&settings, &[]);
        Ok(settings)
    }

    /// As `settings`, for commands that read a dataset themselves (`offline_dataset`):
    /// the replay source's "no dataset there yet" warning is theirs to say, as an error.
    pub fn offline_settings(
        &self,
        edit: impl FnOnce(&mut RawConfig),
    ) -> Result<Settings, CliError> {
        let settings = self.resolve(edit)?;
        warn(&settings, &["sources.replay.dataset"]);
        Ok(settings)
    }

    fn resolve(&self, edit: impl FnOnce(&mut RawConfig)) -> Result<Settings, CliError> {
        let config = Config::load_with(self.config.as_deref(), edit).map_err(config_error)?;
        Settings::resolve(config).map_err(settings_error)
    }
}

/// Prints the profile's and the resolution's warnings but those about `except` keys.
fn warn(settings: &Settings, except: &[&str]) {
    let all = settings
        .config()
        .warnings()
        .iter()
        .chain(settings.warnings());
    for w in all.filter(|w| !except.contains(&w.key.as_str())) {
        diag(&format!("warning: {w}"));
    }
}

impl EncoderArgs {
    /// Writes the flags given into `raw`'s `[encoder]`.
    pub fn apply(&self, raw: &mut RawEncoder) {
        if let Some(model) = &self.model {
            raw.model = Some(absolute(model));
        }
        self.backend.apply(raw);
    }
}

impl BackendArgs {
    /// Encoder options for these flags alone (no profile), checked as a
    /// profile's `[encoder]` is; `batch_size` windows per inference call.
    pub fn options(&self, batch_size: usize) -> Result<EncoderOptions, CliError> {
        let mut raw = RawEncoder::default();
        self.apply(&mut raw);
        let checked = EncoderConfig::new(&raw).map_err(|e| CliError::Input(e.into()))?;
        Ok(EncoderOptions {
            batch_size,
            ..checked.options()
        })
    }

    /// Writes the flags given into `raw`'s `[encoder]`.
    pub fn apply(&self, raw: &mut RawEncoder) {
        if let Some(backend) = self.backend {
            raw.backend = Some(backend.name().to_string());
        }
        if let Some(eps) = &self.ep {
            raw.execution_providers = Some(eps.iter().map(|e| e.name().to_string()).collect());
        }
        if let Some(lib) = &self.ort_library {
            raw.ort_library = Some(absolute(lib));
        }
        if let Some(threads) = self.threads {
            raw.threads = Some(threads);
        }
    }
}

/// Offline commands read a dataset, not sensors: the profile's sources are
/// replaced by a replay of `dataset` (what `--print-config` then shows).
pub fn offline_dataset(raw: &mut RawConfig, dataset: &Path) {
    raw.sources = RawSources {
        replay: Some(RawReplay {
            dataset: Some(absolute(dataset)),
            ..RawReplay::default()
        }),
        ..RawSources::default()
    };
}

/// A path from the command line, made absolute against the working directory
/// (a profile resolves relative paths against its own directory).
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Prints the effective settings (`--print-config`).
pub fn print_settings(settings: &Settings) -> Result<(), CliError> {
    let text = settings
        .to_toml()
        .map_err(|e| CliError::Runtime(e.into()))?;
    super::print_out(&text)
}

/// A profile that cannot be read or breaks a rule is the user's to fix (exit 2).
fn config_error(e: ConfigError) -> CliError {
    CliError::Input(e.into())
}

/// A model that cannot be read or breaks the contract, or a profile the encoder
/// cannot serve, is the user's to fix (exit 2).
pub fn settings_error(e: SettingsError) -> CliError {
    match e {
        SettingsError::Model(e) => encoder_error(e),
        SettingsError::Invalid { .. } => CliError::Input(e.into()),
    }
}

/// An encoder that cannot be opened: bad options or model are the user's to
/// fix (exit 2), a backend failing at run time is not (exit 1).
pub fn encoder_error(e: EncodeError) -> CliError {
    match e {
        EncodeError::Io { .. }
        | EncodeError::ModelFormat { .. }
        | EncodeError::Contract { .. }
        | EncodeError::Options(_) => CliError::Input(e.into()),
        other => CliError::Runtime(other.into()),
    }
}
