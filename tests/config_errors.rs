//! Refusals: each names the key, the value and the rule (or the line, for what
//! the parser refuses), and one check reports every broken rule together.

mod config_support;

use config_support::{fixture, layout, layout_of};
use mmcl::config::{Config, ConfigError, ConfigErrors, Settings, SettingsError};

const HEAD: &str = "profile = \"t\"\nstate_dir = \"state\"\n[encoder]\nmodel = \"encoder.onnx\"\n";
const REPLAY: &str = "[sources.replay]\ndataset = \"dataset\"\n";

fn invalid(text: &str) -> ConfigErrors {
    let (_root, path) = layout("t.toml", text);
    match Config::load(&path) {
        Err(ConfigError::Invalid { errors, .. }) => errors,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn messages(errors: &ConfigErrors) -> Vec<String> {
    errors.errors.iter().map(|e| e.to_string()).collect()
}

#[test]
fn minimal_fixture_loads_with_defaults() {
    let (root, path) = layout_of(&fixture("minimal.toml"));
    let config = Config::load(&path).expect("minimal profile loads");
    assert_eq!(
        config.window().seconds(),
        None,
        "the shape follows the encoder"
    );
    assert_eq!(config.window().stride_seconds(), 1.0);
    assert_eq!(config.channels().window_capacity(), 64);
    let dir = root.path().join("firmware-config");
    assert_eq!(config.state_dir(), dir.join("state"));
    assert_eq!(config.control().socket(), dir.join("state/control.sock"));
}

#[test]
fn unknown_key_is_named_with_its_line() {
    let (_root, path) = layout_of(&fixture("unknown-key.toml"));
    let err = Config::load(&path).unwrap_err();
    let ConfigError::Parse {
        line,
        column,
        message,
        ..
    } = &err
    else {
        panic!("expected Parse, got {err:?}")
    };
    assert_eq!((*line, *column), (10, 1));
    assert!(
        message.starts_with("sources.imu.sample_rate: unknown field `sample_rate`"),
        "{message}"
    );
    assert!(
        err.to_string()
            .contains("unknown-key.toml:10:1: sources.imu.sample_rate"),
        "{err}"
    );
}

#[test]
fn wrong_type_is_named_with_its_key_and_line() {
    let (_root, path) = layout("t.toml", &format!("{HEAD}threads = \"two\"\n{REPLAY}"));
    let err = Config::load(&path).unwrap_err();
    let ConfigError::Parse { line, message, .. } = &err else {
        panic!("expected Parse, got {err:?}")
    };
    assert_eq!(*line, 5);
    assert!(
        message.starts_with("encoder.threads: invalid type: string"),
        "{message}"
    );
}

#[test]
fn bad_range_names_key_and_value() {
    let errors = invalid(&format!("{HEAD}{REPLAY}[window]\nstride_seconds = 0\n"));
    assert_eq!(
        messages(&errors),
        ["window.stride_seconds = 0: must be > 0 and <= 60"]
    );
    let errors = invalid(&format!(
        "{HEAD}{REPLAY}[channels]\nvideo_capacity = 5000\n"
    ));
    assert_eq!(
        messages(&errors),
        ["channels.video_capacity = 5000: must be in 1..=4096"]
    );
}

#[test]
fn missing_model_names_key_and_resolved_path() {
    let (root, path) = layout(
        "t.toml",
        &format!("{HEAD}{REPLAY}").replace("encoder.onnx", "gone.onnx"),
    );
    let Err(ConfigError::Invalid { errors, .. }) = Config::load(&path) else {
        panic!("expected Invalid")
    };
    let e = &errors.errors[0];
    assert_eq!(
        (e.key.as_str(), e.value.as_str()),
        ("encoder.model", "\"gone.onnx\"")
    );
    let resolved = root.path().join("firmware-config/gone.onnx");
    assert!(e.message.contains(&resolved.display().to_string()), "{e}");
}

#[test]
fn ort_library_must_exist_when_set() {
    let errors = invalid(&format!(
        "{HEAD}backend = \"ort\"\nort_library = \"/nonexistent/libonnxruntime.so\"\n{REPLAY}"
    ));
    assert!(errors.has_key("encoder.ort_library"), "{errors}");
}

#[test]
fn duplicate_execution_provider_is_refused() {
    let errors = invalid(&format!(
        "{HEAD}backend = \"ort\"\nexecution_providers = [\"cuda\", \"cpu\", \"cuda\"]\n{REPLAY}"
    ));
    assert_eq!(
        messages(&errors),
        ["encoder.execution_providers = [\"cuda\", \"cpu\", \"cuda\"]: \"cuda\" is listed twice"]
    );
}

#[test]
fn execution_providers_other_than_cpu_are_refused_with_tract() {
    let errors = invalid(&format!(
        "{HEAD}execution_providers = [\"cuda\", \"cpu\"]\n{REPLAY}"
    ));
    assert!(errors.has_key("encoder.execution_providers"));
    assert!(
        errors.errors[0].message.contains("backend = \"tract\""),
        "{errors}"
    );
}

#[test]
fn several_errors_are_reported_together() {
    let (_root, path) = layout_of(&fixture("many-errors.toml"));
    let Err(ConfigError::Invalid { errors, .. }) = Config::load(&path) else {
        panic!("expected Invalid")
    };
    let keys: Vec<&str> = errors.errors.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "profile",
            "encoder.model",
            "encoder.threads",
            "encoder.execution_providers",
            "window.stride_seconds",
            "window.min_coverage",
            "learner.strategy",
            "sources.camera.fps",
        ]
    );
}

#[test]
fn at_least_one_source_is_required() {
    let errors = invalid(HEAD);
    assert_eq!(errors.errors.len(), 1);
    assert_eq!(errors.errors[0].key, "sources");
}

#[test]
fn replay_is_not_mixed_with_live_sources() {
    let errors = invalid(&format!(
        "{HEAD}{REPLAY}[sources.camera]\ndevice = \"/dev/video0\"\n"
    ));
    assert_eq!(errors.errors[0].key, "sources.replay");
    assert!(errors.errors[0].message.contains("camera"), "{errors}");
}

#[test]
fn device_paths_and_state_dir_are_not_checked_for_existence() {
    let text = format!(
        "{}[sources.camera]\ndevice = \"/dev/video99\"\n[sources.imu]\nkind = \"iio\"\npath = \"/dev/iio:device99\"\n",
        HEAD.replace("\"state\"", "\"/nonexistent/mmcl-state\"")
    );
    let (_root, path) = layout("t.toml", &text);
    let config = Config::load(&path).expect("devices may be hot-plugged");
    assert!(config.warnings().is_empty(), "{:?}", config.warnings());
}

#[test]
fn slow_sensors_are_warned_about_against_the_encoders_window() {
    // No model key: resolved against the built-in encoder (25 Hz IMU, 8 frames in 5.12 s).
    let head = "profile = \"t\"\nstate_dir = \"state\"\n";
    let text = format!("{head}[sources.camera]\ndevice = \"/dev/video0\"\nfps = 1\n[sources.imu]\nkind = \"iio\"\npath = \"/dev/iio:device0\"\nrate_hz = 10.0\n");
    let (_root, path) = layout("t.toml", &text);
    let config = Config::load(&path).expect("loads");
    assert!(config.warnings().is_empty(), "{:?}", config.warnings());
    let settings = Settings::resolve(config).expect("resolves");
    let keys: Vec<&str> = settings.warnings().iter().map(|w| w.key.as_str()).collect();
    assert_eq!(keys, ["sources.imu.rate_hz", "sources.camera.fps"]);
    assert!(
        settings.warnings()[1].message.contains("1.56 frames/s"),
        "{:?}",
        settings.warnings()
    );
}

#[test]
fn unreadable_file_is_an_io_error_naming_the_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("absent.toml");
    let err = Config::load(&path).unwrap_err();
    assert!(matches!(err, ConfigError::Io { .. }));
    assert!(err.to_string().contains("absent.toml"), "{err}");
}

#[test]
fn an_audio_source_the_encoder_cannot_take_is_refused_by_name() {
    // The built-in encoder (contract v1) has no audio input: refused, never dropped silently.
    let text = "profile = \"t\"\nstate_dir = \"state\"\n[sources.audio]\nrate_hz = 16000\n";
    let (_root, path) = layout("t.toml", text);
    let config = Config::load(&path).expect("the profile itself is valid");
    let err = Settings::resolve(config).unwrap_err();
    let SettingsError::Invalid { errors, .. } = &err else {
        panic!("expected Invalid, got {err}")
    };
    assert_eq!(errors.errors[0].key, "sources.audio");
    assert!(err.to_string().contains("has no audio input"), "{err}");
}
