use super::*;
use crate::config::raw::{RawAudio, RawSources};
use std::path::Path;

fn builtin(edit: impl FnOnce(&mut RawConfig)) -> Config {
    Config::load_with(None, edit).expect("built-in profile")
}

fn issues(e: SettingsError) -> Vec<Issue> {
    match e {
        SettingsError::Invalid { errors, .. } => errors.errors,
        other => panic!("not a profile error: {other}"),
    }
}

#[test]
fn the_built_in_profile_takes_its_shape_and_budget_from_the_encoder() {
    let s = Settings::resolve(builtin(|_| {})).unwrap();
    let c = s.contract();
    assert_eq!(s.config().profile(), "builtin");
    let w = s.window();
    assert_eq!(
        (w.len_ns(), w.imu_len(), w.frames()),
        (5_120_000_000, c.imu_len, c.frames)
    );
    assert_eq!(w.stride_ns(), 1_000_000_000);
    assert_eq!(s.learner().budget_bytes, learn::default_budget(c.dim));
    assert_eq!(
        s.learner().strategy,
        learn::LearnerConfig::default().strategy
    );
}

#[test]
fn a_window_the_encoder_does_not_take_fails_naming_both_values() {
    let config = builtin(|raw| raw.window.seconds = Some(4.0));
    let err = Settings::resolve(config).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("window.seconds = 4"), "{text}");
    assert!(text.contains("takes 5.12 s windows"), "{text}");
    let found = issues(err);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].key, "window.seconds");
}

#[test]
fn an_audio_source_without_an_audio_input_is_refused_by_name() {
    let config = builtin(|raw| {
        raw.sources = RawSources {
            audio: Some(RawAudio::default()),
            ..RawSources::default()
        }
    });
    let found = issues(Settings::resolve(config).unwrap_err());
    assert_eq!(found[0].key, "sources.audio");
    assert!(
        found[0].message.contains("has no audio input"),
        "{}",
        found[0]
    );
    assert!(found[0].message.contains("video, imu"), "{}", found[0]);
}

#[test]
fn the_effective_profile_reloads_to_the_same_settings() {
    let s = Settings::resolve(builtin(|raw| raw.window.stride_seconds = Some(2.5))).unwrap();
    let text = s.to_toml().unwrap();
    assert!(
        text.starts_with("# effective settings of profile \"builtin\""),
        "{text}"
    );
    let reloaded = Config::parse(&text, Path::new("/tmp/effective.toml")).unwrap();
    let again = Settings::resolve(reloaded).unwrap();
    assert_eq!(again.window(), s.window());
    assert_eq!(again.learner(), s.learner());
    assert_eq!(again.to_raw(), s.to_raw());
}
