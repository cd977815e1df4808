//! The built-in profile: what a command runs with when no `--config` is given.
//! Nothing here restates a default: every key left unset takes the owning
//! section's default (the built-in encoder, the learner's strategy and seed, the
//! encoder's window), so `mmcl demo` and a profile that sets nothing agree.
//! Relative paths resolve against the working directory.

use super::raw::{RawConfig, RawReplay, RawSources};
use std::path::PathBuf;

/// The built-in profile's name, as `status` and `--print-config` show it.
pub const BUILTIN_PROFILE: &str = "builtin";

/// The built-in profile as written: a name, a state directory and a replay of
/// `mmcl-dataset`, both under the working directory (commands that read a
/// dataset replace the replay with theirs).
pub fn builtin_raw() -> RawConfig {
    RawConfig {
        profile: Some(BUILTIN_PROFILE.to_string()),
        state_dir: Some(PathBuf::from("mmcl-state")),
        sources: RawSources {
            replay: Some(RawReplay {
                dataset: Some(PathBuf::from("mmcl-dataset")),
                ..RawReplay::default()
            }),
            ..RawSources::default()
        },
        ..RawConfig::default()
    }
}
