//! Device profiles: TOML files parsed into `RawConfig` (serde, unknown keys
//! refused) and checked once into `Config`, the only way to build one. A `Config`
//! cannot hold a value outside its documented range; every section is read
//! through accessors so it cannot be changed after the check.
//!
//! Relative paths in a profile resolve against the directory of the profile file
//! (not the working directory), so a profile and the files it names can move
//! together. `Config::to_raw` gives back the effective profile (every default
//! filled in, every path resolved), which reloads to an equal `Config`.
//! firmware-config/README.md documents every key, unit and default.
//!
//! The names a profile chooses from belong to the domain modules
//! (`encode::Backend`, `encode::ExecutionProvider`, `dataset::Split`,
//! `learn::Strategy`); each section converts into what its module takes
//! (`EncoderConfig::options`, `WindowConfig::params_for`,
//! `LearnerConfig::learner_config`). What depends on the encoder (the window's
//! shape, the default budget, whether audio can be used) is resolved by
//! `Settings`, which every command builds its settings through; `load_with`
//! applies command-line overrides to the raw profile before the one check.

mod builtin;
mod bytes;
mod channels;
mod check;
mod choice;
mod control;
mod daemon;
mod encoder;
mod error;
mod learner;
mod location;
pub mod raw;
mod settings;
mod sources;
mod uplink;
mod window;

pub use builtin::{builtin_raw, BUILTIN_PROFILE};
pub use bytes::parse_bytes;
pub use channels::ChannelsConfig;
pub use choice::{Choice, ImuKind};
pub use control::ControlConfig;
pub use daemon::DaemonConfig;
pub use encoder::EncoderConfig;
pub use error::{ConfigError, ConfigErrors, Issue};
pub use learner::LearnerConfig;
pub use raw::RawConfig;
pub use settings::{Settings, SettingsError};
pub use sources::{
    AudioSource, CameraInput, CameraSource, IioSettings, ImuSource, ReplayOrder, ReplaySource,
    RestartConfig, SourcesConfig,
};
pub use uplink::{TokenSource, UplinkConfig};
pub use window::{WindowConfig, WindowShape};

use check::Checker;
use std::path::{Path, PathBuf};

/// A checked profile. Built only by `Config::from_raw` (or `load` / `parse`).
/// Equality compares the settings only, not the load-time warnings.
#[derive(Debug, Clone)]
pub struct Config {
    profile: String,
    state_dir: PathBuf,
    encoder: EncoderConfig,
    window: WindowConfig,
    learner: LearnerConfig,
    sources: SourcesConfig,
    channels: ChannelsConfig,
    control: ControlConfig,
    daemon: DaemonConfig,
    uplink: Option<UplinkConfig>,
    warnings: Vec<Issue>,
}

impl Config {
    /// Reads, parses and checks the profile at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Config::parse(&read_profile(path)?, path)
    }

    /// Reads the profile at `path`, or takes the built-in one (`builtin_raw`) when
    /// `None`, lets `edit` change the raw profile (command-line overrides; paths
    /// it sets should be absolute, since relative ones resolve against the
    /// profile's directory), then checks it once.
    pub fn load_with(
        path: Option<&Path>,
        edit: impl FnOnce(&mut RawConfig),
    ) -> Result<Config, ConfigError> {
        let (mut raw, base, shown) = match path {
            Some(path) => {
                let text = read_profile(path)?;
                let raw = RawConfig::parse(&text).map_err(|e| parse_error(&text, path, &e))?;
                (raw, base_dir(path), path.to_path_buf())
            }
            None => {
                let cwd = std::path::absolute(".").unwrap_or_default();
                (builtin_raw(), cwd, PathBuf::from("(built-in profile)"))
            }
        };
        edit(&mut raw);
        Config::from_raw(raw, &base).map_err(|errors| ConfigError::Invalid {
            path: shown,
            errors,
        })
    }

    /// Parses and checks `text` as if read from `path` (relative paths in it
    /// resolve against `path`'s directory; `path` itself is not read).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let raw = RawConfig::parse(text).map_err(|e| parse_error(text, path, &e))?;
        Config::from_raw(raw, &base_dir(path)).map_err(|errors| ConfigError::Invalid {
            path: path.to_path_buf(),
            errors,
        })
    }

    /// Checks every rule on `raw` and reports every broken one. Relative paths
    /// resolve against `base_dir` (the config file's directory).
    pub fn from_raw(raw: RawConfig, base_dir: &Path) -> Result<Config, ConfigErrors> {
        let mut c = Checker::new(base_dir);
        let profile = c.required("profile", raw.profile.as_deref());
        let profile = profile.and_then(|p| profile_name(p, &mut c));
        let state_dir = c.required("state_dir", raw.state_dir.as_deref());
        let state_dir = state_dir.and_then(|p| c.nonempty_path("state_dir", p));
        let encoder = EncoderConfig::from_raw(&raw.encoder, &mut c);
        let window = WindowConfig::from_raw(&raw.window, &mut c);
        let learner = LearnerConfig::from_raw(&raw.learner, &mut c);
        let sources = SourcesConfig::from_raw(&raw.sources, &mut c);
        let channels = ChannelsConfig::from_raw(&raw.channels, &mut c);
        let control = ControlConfig::from_raw(&raw.control, state_dir.as_deref(), &mut c);
        let daemon = DaemonConfig::from_raw(&raw.daemon, &mut c);
        let uplink = raw
            .uplink
            .as_ref()
            .map(|u| UplinkConfig::from_raw(u, &mut c));
        let built = (|| {
            Some(Config {
                profile: profile?,
                state_dir: state_dir?,
                encoder: encoder?,
                window: window?,
                learner: learner?,
                sources: sources?,
                channels: channels?,
                control: control?,
                daemon: daemon?,
                uplink: uplink.map_or(Some(None), |u| u.map(Some))?,
                warnings: Vec::new(),
            })
        })();
        let (mut config, warnings) = c.finish(built)?;
        config.warnings = warnings;
        Ok(config)
    }

    /// The effective profile: every key filled in, every path resolved.
    pub fn to_raw(&self) -> RawConfig {
        RawConfig {
            profile: Some(self.profile.clone()),
            state_dir: Some(self.state_dir.clone()),
            encoder: self.encoder.to_raw(),
            window: self.window.to_raw(),
            learner: self.learner.to_raw(),
            sources: self.sources.to_raw(),
            channels: self.channels.to_raw(),
            control: self.control.to_raw(),
            daemon: self.daemon.to_raw(),
            uplink: self.uplink.as_ref().map(UplinkConfig::to_raw),
        }
    }

    /// The effective profile as TOML text that `Config::parse` reads back equal.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string_pretty(&self.to_raw())
    }

    /// The profile's name (`jetson-orin`, ...), reported by `mmcl status`.
    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// Where snapshots and the journal live, resolved; created by systemd
    /// (`StateDirectory=`) or the daemon, so it may not exist at check time.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    pub fn encoder(&self) -> &EncoderConfig {
        &self.encoder
    }

    pub fn window(&self) -> &WindowConfig {
        &self.window
    }

    pub fn learner(&self) -> &LearnerConfig {
        &self.learner
    }

    pub fn sources(&self) -> &SourcesConfig {
        &self.sources
    }

    pub fn channels(&self) -> &ChannelsConfig {
        &self.channels
    }

    pub fn control(&self) -> &ControlConfig {
        &self.control
    }

    /// How the running service smooths, checkpoints and bounds enrollments.
    pub fn daemon(&self) -> &DaemonConfig {
        &self.daemon
    }

    /// Where the daemon syncs its snapshots; `None`: it never does.
    pub fn uplink(&self) -> Option<&UplinkConfig> {
        self.uplink.as_ref()
    }

    /// What looked doubtful when the profile was checked (a replay dataset not
    /// there yet, a sensor slower than the window asks) but did not stop it.
    pub fn warnings(&self) -> &[Issue] {
        &self.warnings
    }
}

impl PartialEq for Config {
    fn eq(&self, other: &Config) -> bool {
        // Warnings describe the machine when the profile was loaded (a dataset
        // not there yet), not what the profile asks for.
        let Config {
            profile,
            state_dir,
            encoder,
            window,
            learner,
            sources,
            channels,
            control,
            daemon,
            uplink,
            warnings: _,
        } = self;
        (profile, state_dir, encoder, window)
            == (
                &other.profile,
                &other.state_dir,
                &other.encoder,
                &other.window,
            )
            && (learner, sources, channels, control, daemon)
                == (
                    &other.learner,
                    &other.sources,
                    &other.channels,
                    &other.control,
                    &other.daemon,
                )
            && uplink == &other.uplink
    }
}

/// 1 to 64 characters of letters, digits, `-`, `_`, `.`: it appears in logs,
/// status output and file names.
fn profile_name(name: &str, c: &mut Checker) -> Option<String> {
    let ok = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.'));
    if ok {
        Some(name.to_string())
    } else {
        c.error(
            "profile",
            format!("{name:?}"),
            "must be 1 to 64 characters of letters, digits, '-', '_' or '.'",
        )
    }
}

fn read_profile(path: &Path) -> Result<String, ConfigError> {
    crate::fsread::read_text(path, crate::fsread::CONFIG).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The directory relative paths resolve against: the config file's directory,
/// made absolute so a daemon that changes directory still finds its files.
fn base_dir(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    absolute.parent().map(Path::to_path_buf).unwrap_or_default()
}

fn parse_error(text: &str, path: &Path, e: &toml::de::Error) -> ConfigError {
    let (line, column) = e
        .span()
        .map_or((1, 1), |span| location::line_column(text, span.start));
    let message = match location::dotted_key_at(text, line) {
        Some(key) => format!("{key}: {}", e.message()),
        None => e.message().to_string(),
    };
    ConfigError::Parse {
        path: path.to_path_buf(),
        line,
        column,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_error_names_key_and_line() {
        let text = "profile = \"p\"\nstate_dir = \"s\"\n[window]\nseconds = 5.12\ncolour = 3\n";
        let err = Config::parse(text, Path::new("/etc/mmcl/p.toml")).unwrap_err();
        let ConfigError::Parse {
            line,
            column,
            message,
            ..
        } = &err
        else {
            panic!("{err}")
        };
        assert_eq!((*line, *column), (5, 1));
        assert!(
            message.starts_with("window.colour: unknown field `colour`"),
            "{message}"
        );
        assert!(
            err.to_string()
                .starts_with("/etc/mmcl/p.toml:5:1: window.colour"),
            "{err}"
        );
    }

    #[test]
    fn base_dir_is_the_file_directory() {
        assert_eq!(
            base_dir(Path::new("/etc/mmcl/p.toml")),
            PathBuf::from("/etc/mmcl")
        );
        assert!(base_dir(Path::new("p.toml")).is_absolute());
    }

    #[test]
    fn missing_required_keys_are_listed_together() {
        let errors = Config::from_raw(RawConfig::default(), Path::new("/")).unwrap_err();
        for key in ["profile", "state_dir", "sources"] {
            assert!(errors.has_key(key), "{key} missing from {errors}");
        }
    }
}
