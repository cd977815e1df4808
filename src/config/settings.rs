//! `Settings`: what a command runs with. A checked profile (`Config`, from a
//! file or the built-in defaults, with command-line overrides applied to the raw
//! profile before the one check) resolved against the encoder it names: the
//! window's shape comes from the encoder's contract, the learner's default
//! budget from its embedding dimension, and what the encoder cannot take (an
//! audio source without an audio input, a window of another length) is refused
//! here, naming both sides. Every command that encodes or learns (demo, embed,
//! bench cl, run) builds its settings through `Settings::resolve`, so their
//! defaults cannot disagree, and `--print-config` prints `Settings::to_toml`.

use super::error::{ConfigErrors, Issue};
use super::window::WindowShape;
use super::Config;
use super::RawConfig;
use crate::align::WindowSpec;
use crate::encode::{self, EncodeError, Encoder, ModelContract, ModelFile};
use crate::learn;
use crate::sample::Modality;

/// Why settings could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The model could not be read or breaks the encoder contract.
    #[error(transparent)]
    Model(#[from] EncodeError),
    /// The profile asks for what the encoder cannot do.
    #[error("profile {profile} with encoder {encoder}: {errors}")]
    Invalid {
        profile: String,
        encoder: String,
        errors: ConfigErrors,
    },
}

/// A profile resolved against its encoder.
#[derive(Debug, Clone)]
pub struct Settings {
    config: Config,
    model: ModelFile,
    contract: ModelContract,
    window: WindowSpec,
    learner: learn::LearnerConfig,
    /// What looked doubtful against the encoder (a sensor slower than its window asks).
    warnings: Vec<Issue>,
}

impl Settings {
    /// Reads the model `config` names (or the built-in one) and resolves against it.
    pub fn resolve(config: Config) -> Result<Settings, SettingsError> {
        let model = config.encoder().model_file()?;
        let contract = encode::check_contract(&model)?;
        Settings::with_model(config, model, contract)
    }

    /// Resolves `config` against an already checked model.
    pub fn with_model(
        config: Config,
        model: ModelFile,
        contract: ModelContract,
    ) -> Result<Settings, SettingsError> {
        let invalid = |issues: Vec<Issue>| SettingsError::Invalid {
            profile: config.profile().to_string(),
            encoder: contract.name.clone(),
            errors: ConfigErrors {
                errors: issues,
                warnings: Vec::new(),
            },
        };
        let shape = WindowShape::of(&contract);
        let (mut issues, warnings) = super::sources::check_against_shape(config.sources(), &shape);
        issues.extend(audio_issues(&config, &contract));
        let window = match window_spec(&config, &contract) {
            Ok(window) => Some(window),
            Err(mut window_issues) => {
                issues.append(&mut window_issues);
                None
            }
        };
        let blocks = learn::modality_blocks(contract.dim, contract.video_dim, contract.imu_dim);
        let learner = config.learner().learner_config_for(contract.dim, &blocks);
        if let Err(e) = learner.validate() {
            issues.push(Issue::new("learner", "(resolved)", e.to_string()));
        }
        match window {
            Some(window) if issues.is_empty() => Ok(Settings {
                config,
                model,
                contract,
                window,
                learner,
                warnings,
            }),
            _ => Err(invalid(issues)),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The model file the encoder runs (its path, bytes and sha256).
    pub fn model(&self) -> &ModelFile {
        &self.model
    }

    pub fn contract(&self) -> &ModelContract {
        &self.contract
    }

    /// The live window: the encoder's shape, the profile's stride and rules.
    pub fn window(&self) -> &WindowSpec {
        &self.window
    }

    /// The learner's parameters, the budget resolved for the encoder's dimension.
    pub fn learner(&self) -> &learn::LearnerConfig {
        &self.learner
    }

    /// Doubts found against the encoder (the profile's own are `config().warnings()`).
    pub fn warnings(&self) -> &[Issue] {
        &self.warnings
    }

    /// Opens the encoder on the profile's backend.
    pub fn open_encoder(&self) -> Result<Box<dyn Encoder>, EncodeError> {
        encode::open_model(&self.model, &self.config.encoder().options())
    }

    /// As `open_encoder`, running at most `batch_size` windows at once (at least 1). A
    /// batch's activations dominate the encoder's memory (tract keeps one plan per row
    /// count), so a memory-bound run such as the demo encodes windows one at a time, as
    /// they come, like the daemon on a device.
    pub fn open_encoder_batched(&self, batch_size: usize) -> Result<Box<dyn Encoder>, EncodeError> {
        let mut options = self.config.encoder().options();
        options.batch_size = batch_size.max(1);
        encode::open_model(&self.model, &options)
    }

    /// The effective profile: every default filled in, the window shape and the
    /// learner budget as resolved. It reloads (with the same model) to the same settings.
    pub fn to_raw(&self) -> RawConfig {
        let mut raw = self.config.to_raw();
        let shape = WindowShape::of(&self.contract);
        raw.window.seconds = Some(shape.seconds);
        raw.window.imu_rate_hz = Some(shape.imu_rate_hz.round() as i64);
        raw.window.frames = Some(shape.frames as i64);
        let budget = i64::try_from(self.learner.budget_bytes).unwrap_or(i64::MAX);
        raw.learner.budget_bytes = Some(super::raw::RawBytes::Count(budget));
        raw
    }

    /// `to_raw` as TOML, headed by a comment naming the encoder it was resolved against.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        let body = toml::to_string_pretty(&self.to_raw())?;
        Ok(format!(
            "# effective settings of profile {:?}, resolved against encoder {} ({}, sha256 {})\n{body}",
            self.config.profile(),
            self.contract.name,
            self.model.path.display(),
            self.contract.sha256
        ))
    }
}

/// The aligner's spec: `[window]` resolved against the encoder's shape, with the
/// microphone's rate when the profile reads one.
fn window_spec(config: &Config, contract: &ModelContract) -> Result<WindowSpec, Vec<Issue>> {
    let shape = WindowShape::of(contract);
    let mut params = config.window().params_for(&shape, &contract.name)?;
    if let Some(audio) = config.sources().audio() {
        params.audio_rate_hz = audio.rate_hz();
    }
    WindowSpec::new(params).map_err(|e| {
        let key = match e.field {
            "audio_rate_hz" => "sources.audio.rate_hz".to_string(),
            field => format!("window.{field}"),
        };
        vec![Issue::new(key, e.value.clone(), e.to_string())]
    })
}

/// An audio source is refused when the encoder has no audio input: its samples
/// would be aligned and then dropped before the encoder, silently.
fn audio_issues(config: &Config, contract: &ModelContract) -> Vec<Issue> {
    let has_audio = contract
        .modalities
        .iter()
        .any(|m| m == Modality::Audio.name());
    match config.sources().audio() {
        Some(audio) if !has_audio => vec![Issue::new(
            "sources.audio",
            format!("{:?}", audio.device()),
            format!(
                "the encoder {} has no audio input (its modalities: {}); remove [sources.audio] or use an encoder whose contract has an `audio` input",
                contract.name,
                contract.modalities.join(", ")
            ),
        )],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
