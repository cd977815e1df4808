//! Every shipped profile in firmware-config/ loads in a layout where its encoder
//! model exists, and says what its comments claim.

mod config_support;

use config_support::{layout_of, shipped_dir, shipped_profile_names};
use mmcl::config::{Config, ImuKind, Settings};
use mmcl::encode::{Backend, ExecutionProvider};
use std::path::Path;

fn load_shipped(name: &str) -> Config {
    let (_root, path) = layout_of(&shipped_dir().join(name));
    match Config::load(&path) {
        Ok(config) => config,
        Err(e) => panic!("{name}: {e}"),
    }
}

#[test]
fn every_shipped_profile_loads() {
    let names = shipped_profile_names();
    assert_eq!(
        names,
        [
            "desktop-replay.toml",
            "jetson-orin.toml",
            "smart-glasses.toml"
        ]
    );
    for name in &names {
        let config = load_shipped(name);
        assert_eq!(format!("{}.toml", config.profile()), *name);
        // No model key: the encoder built into the binary.
        assert_eq!(config.encoder().model(), None, "{name}");
    }
}

#[test]
fn desktop_replay_plays_a_dataset_with_tract() {
    let config = load_shipped("desktop-replay.toml");
    let replay = config.sources().replay().expect("replay source");
    assert!(replay.dataset().ends_with("target/mmcl-demo/dataset"));
    assert!(replay.looping());
    assert_eq!(
        (config.encoder().backend(), config.encoder().threads()),
        (Backend::Tract, 2)
    );
    // Relative state_dir resolves next to the profile, not in the working directory.
    assert!(config.state_dir().is_absolute());
    // The dataset does not exist in the temp layout: a warning, not an error.
    assert!(config
        .warnings()
        .iter()
        .any(|w| w.key == "sources.replay.dataset"));
}

#[test]
fn jetson_orin_uses_the_gpu_and_live_sensors() {
    let config = load_shipped("jetson-orin.toml");
    let enc = config.encoder();
    assert_eq!(enc.backend(), Backend::Ort);
    assert_eq!(
        enc.execution_providers(),
        [
            ExecutionProvider::TensorRt,
            ExecutionProvider::Cuda,
            ExecutionProvider::Cpu
        ]
    );
    assert_eq!(enc.threads(), 6);
    assert_eq!(config.state_dir(), Path::new("/var/lib/mmcl"));
    assert_eq!(
        config.sources().camera().expect("camera").device(),
        Path::new("/dev/video0")
    );
    assert_eq!(config.sources().imu().expect("imu").kind(), ImuKind::Iio);
    assert!(config.sources().replay().is_none());
}

#[test]
fn smart_glasses_is_the_smallest() {
    let glasses = load_shipped("smart-glasses.toml");
    let jetson = load_shipped("jetson-orin.toml");
    assert_eq!(
        (glasses.encoder().backend(), glasses.encoder().threads()),
        (Backend::Tract, 1)
    );
    // The published protocol's memory: 160 f32 exemplars of the encoder's D = 2184
    // (whether it fits is tests/config_learner.rs's business).
    assert_eq!(glasses.learner().budget_bytes(), Some(160 * 2184 * 4));
    // The product default, chosen by the benchmark (firmware-config/README.md).
    assert_eq!(
        glasses.learner().strategy(),
        mmcl::learn::LearnerConfig::default().strategy
    );
    let desktop = load_shipped("desktop-replay.toml");
    for other in [&jetson, &desktop] {
        assert!(glasses.learner().budget_bytes() < other.learner().budget_bytes());
    }
    assert!(glasses.window().stride_seconds() > jetson.window().stride_seconds());
    assert!(glasses.channels().video_capacity() < jetson.channels().video_capacity());
    assert!(glasses.channels().window_capacity() < jetson.channels().window_capacity());
    // The scales written are the MPU's: 8192 counts per g, 16.4 per °/s.
    let imu = glasses.sources().imu().expect("imu");
    let close = |got: Option<f64>, want: f64| got.is_some_and(|g| (g - want).abs() <= 1e-12 * want);
    assert!(close(imu.acc_scale_g_per_count(), 1.0 / 8192.0));
    assert!(close(imu.gyro_scale_dps_per_count(), 1.0 / 16.4));
}

#[test]
fn every_profile_takes_the_built_in_encoders_window() {
    for name in shipped_profile_names() {
        let settings =
            Settings::resolve(load_shipped(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let w = settings.window();
        let c = settings.contract();
        assert_eq!((w.imu_len(), w.frames()), (c.imu_len, c.frames), "{name}");
        assert_eq!(w.len_ns(), 5_120_000_000, "{name}");
        assert!(
            settings.warnings().is_empty(),
            "{name}: {:?}",
            settings.warnings()
        );
    }
}

#[test]
fn effective_profile_reloads_equal() {
    for name in [
        "desktop-replay.toml",
        "jetson-orin.toml",
        "smart-glasses.toml",
    ] {
        let (_root, path) = layout_of(&shipped_dir().join(name));
        let config = Config::load(&path).expect("loads");
        let text = config.to_toml().expect("serializes");
        let again = Config::parse(&text, &path).expect("effective profile reloads");
        assert_eq!(again, config, "{name}");
    }
}
