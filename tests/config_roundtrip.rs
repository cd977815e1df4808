//! The effective profile is a faithful format: any valid `Config`, written back
//! as TOML, reloads equal (property test), and its text is pinned by a golden file.
//! Any valid `Config` also converts into values its domain modules accept: the
//! aligner's `WindowSpec`, the encoder's options, the learner's config.

mod config_support;

use config_support::{fixture, layout, layout_of};
use mmcl::align::WindowSpec;
use mmcl::config::raw::{
    RawAudio, RawBytes, RawCamera, RawChannels, RawControl, RawDaemon, RawEncoder, RawImu,
    RawLearner, RawReplay, RawRestart, RawSources, RawWindow,
};
use mmcl::config::{Config, RawConfig, WindowShape};
use mmcl::encode::ExecutionProvider;
use mmcl::learn::Strategy as Kind;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

#[test]
fn effective_minimal_profile_matches_golden() {
    let (root, path) = layout_of(&fixture("minimal.toml"));
    let config = Config::load(&path).expect("loads");
    let dir = root.path().join("firmware-config").display().to_string();
    let text = config.to_toml().expect("serializes").replace(&dir, "@DIR@");
    let golden = std::fs::read_to_string(fixture("minimal.effective.toml")).expect("golden file");
    assert_eq!(text, golden);
}

fn encoder() -> impl Strategy<Value = RawEncoder> {
    let eps = subsequence(
        ExecutionProvider::ALL.to_vec(),
        1..=ExecutionProvider::ALL.len(),
    )
    .prop_shuffle();
    let ort = eps.prop_map(|eps| {
        (
            Some("ort".to_string()),
            eps.iter().map(|e| e.name().to_string()).collect(),
        )
    });
    let tract = Just((Some("tract".to_string()), vec!["cpu".to_string()]));
    (prop_oneof![tract, ort], 1i64..=64).prop_map(|((backend, eps), threads)| RawEncoder {
        model: Some("encoder.onnx".into()),
        backend,
        threads: Some(threads),
        execution_providers: Some(eps),
        ort_library: None,
    })
}

/// A window holding a whole number (at least 2) of IMU samples, with stride and gap inside it.
fn window() -> impl Strategy<Value = RawWindow> {
    (1i64..=2000)
        .prop_flat_map(|rate| {
            let max_len = (60 * rate).min(20_000);
            (
                Just(rate),
                2..=max_len,
                0.01f64..=1.0,
                1i64..=64,
                0.01f64..=1.0,
                0.01f64..=1.0,
            )
        })
        .prop_map(|(rate, len, stride_frac, frames, coverage, gap_frac)| {
            let seconds = len as f64 / rate as f64;
            RawWindow {
                seconds: Some(seconds),
                stride_seconds: Some(seconds * stride_frac),
                imu_rate_hz: Some(rate),
                frames: Some(frames),
                min_coverage: Some(coverage),
                max_gap_seconds: Some(seconds * gap_frac),
            }
        })
}

fn learner() -> impl Strategy<Value = RawLearner> {
    let budget = prop_oneof![
        (1i64..=i64::MAX).prop_map(RawBytes::Count),
        (
            1u32..=4096,
            select(vec!["B", "KiB", "MiB", "GiB", "kB", "MB", "GB"])
        )
            .prop_map(|(n, u)| RawBytes::Text(format!("{n}{u}"))),
    ];
    (
        select(Kind::ALL.map(Kind::name).to_vec()),
        budget,
        0i64..=i64::MAX,
    )
        .prop_map(|(s, budget, seed)| RawLearner {
            strategy: Some(s.to_string()),
            budget_bytes: Some(budget),
            seed: Some(seed),
        })
}

fn replay() -> impl Strategy<Value = RawSources> {
    (
        "[a-z]{1,12}",
        select(vec!["train", "val", "test"]),
        0.01f64..=1000.0,
        any::<bool>(),
        select(vec!["list", "by-class"]),
        proptest::option::of(1i64..=100_000),
    )
        .prop_map(
            |(dataset, split, speed, looping, order, per_class)| RawSources {
                replay: Some(RawReplay {
                    dataset: Some(dataset.into()),
                    split: Some(split.into()),
                    speed: Some(speed),
                    looping: Some(looping),
                    order: Some(order.into()),
                    classes: per_class.map(|_| vec!["walk".into(), "3_brush_teeth".into()]),
                    clips_per_class: per_class,
                }),
                ..Default::default()
            },
        )
}

fn live() -> impl Strategy<Value = RawSources> {
    let camera = (
        "/dev/video[0-9]",
        16i64..=7680,
        16i64..=4320,
        1i64..=240,
        any::<bool>(),
    )
        .prop_map(|(d, w, h, fps, optional)| RawCamera {
            device: Some(d.into()),
            width: Some(w),
            height: Some(h),
            fps: Some(fps),
            optional: Some(optional),
            ..RawCamera::default()
        });
    let scale = proptest::option::of(1e-6f64..=10.0);
    let imu = (
        select(vec!["iio", "csv-stream", "csv-file"]),
        "/dev/[a-z]{1,8}",
        0.1f64..=8000.0,
        scale.clone(),
        scale,
    )
        .prop_map(|(k, p, rate, acc, gyro)| RawImu {
            kind: Some(k.into()),
            path: Some(p.into()),
            rate_hz: Some(rate),
            acc_scale_g_per_count: acc,
            gyro_scale_dps_per_count: gyro,
            ..RawImu::default()
        });
    let audio = ("[a-z:,0-9]{1,16}", 8000i64..=192_000).prop_map(|(d, r)| RawAudio {
        device: Some(d),
        rate_hz: Some(r),
        ..RawAudio::default()
    });
    let restart = proptest::option::of((1i64..=1000, 1000i64..=3_600_000).prop_map(
        |(initial, max)| RawRestart {
            initial_ms: Some(initial),
            max_ms: Some(max),
        },
    ));
    (
        proptest::option::of(camera),
        proptest::option::of(imu),
        proptest::option::of(audio),
        restart,
    )
        .prop_filter("at least one live source", |(c, i, a, _)| {
            c.is_some() || i.is_some() || a.is_some()
        })
        .prop_map(|(camera, imu, audio, restart)| RawSources {
            replay: None,
            camera,
            imu,
            audio,
            restart,
        })
}

fn raw_config() -> impl Strategy<Value = RawConfig> {
    let top = (
        "[a-z][a-z0-9._-]{0,20}",
        prop_oneof!["[a-z]{1,8}", "/var/lib/[a-z]{1,8}"],
    );
    let channels =
        (1i64..=4096, 1i64..=4096, 1i64..=4096, 1i64..=4096).prop_map(|(v, i, w, a)| RawChannels {
            video_capacity: Some(v),
            imu_capacity: Some(i),
            window_capacity: Some(w),
            audio_capacity: Some(a),
        });
    let daemon = (1e-3f64..=1.0, 0.0f64..0.99, 1i64..=100, 1i64..=100_000).prop_map(
        |(smoothing, margin, windows, changes)| RawDaemon {
            smoothing: Some(smoothing),
            switch_margin: Some(margin),
            switch_windows: Some(windows),
            checkpoint_changes: Some(changes),
            ..RawDaemon::default()
        },
    );
    let socket = proptest::option::of(prop_oneof!["[a-z]{1,8}\\.sock", "/run/[a-z]{1,8}/c\\.sock"]);
    (
        top,
        encoder(),
        window(),
        learner(),
        prop_oneof![replay(), live()],
        (channels, daemon),
        socket,
    )
        .prop_map(
            |(
                (profile, state_dir),
                encoder,
                window,
                learner,
                mut sources,
                (channels, daemon),
                socket,
            )| {
                // Valid profiles only: the audio grid must hold at most 10^7 points per window.
                if let (Some(a), Some(secs)) = (sources.audio.as_mut(), window.seconds) {
                    let most = (1e7 / secs).floor() as i64;
                    a.rate_hz = a.rate_hz.map(|r| r.min(most));
                }
                RawConfig {
                    profile: Some(profile),
                    state_dir: Some(state_dir.into()),
                    encoder,
                    window,
                    learner,
                    sources,
                    channels,
                    control: RawControl {
                        socket: socket.map(Into::into),
                        ..RawControl::default()
                    },
                    daemon,
                    uplink: None,
                }
            },
        )
}

proptest! {
    #[test]
    fn any_valid_config_reloads_equal_from_its_toml(raw in raw_config()) {
        let (_root, path) = layout("p.toml", "");
        let base = path.parent().expect("config dir");
        let config = match Config::from_raw(raw.clone(), base) {
            Ok(c) => c,
            Err(e) => return Err(TestCaseError::fail(format!("generated profile refused: {e}\n{raw:?}"))),
        };
        let text = config.to_toml().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let again = Config::parse(&text, &path).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&again, &config);
        prop_assert_eq!(again.to_toml().ok(), Some(text));
    }

    #[test]
    fn any_valid_config_converts_into_domain_values(raw in raw_config(), dim in 1usize..=4096) {
        let (_root, path) = layout("p.toml", "");
        let base = path.parent().expect("config dir");
        let config = match Config::from_raw(raw.clone(), base) {
            Ok(c) => c,
            Err(e) => return Err(TestCaseError::fail(format!("generated profile refused: {e}\n{raw:?}"))),
        };
        let window = config.window();
        // The generated profiles state the whole shape: resolve against an encoder taking it.
        let (Some(seconds), Some(rate), Some(frames)) = (window.seconds(), window.imu_rate_hz(), window.frames()) else {
            return Err(TestCaseError::fail(format!("shape not stated: {window:?}")));
        };
        let shape = WindowShape { seconds, imu_rate_hz: f64::from(rate), frames };
        let mut params = window.params_for(&shape, "e")
            .map_err(|e| TestCaseError::fail(format!("{e:?}\n{window:?}")))?;
        if let Some(audio) = config.sources().audio() {
            params.audio_rate_hz = audio.rate_hz();
        }
        let spec = WindowSpec::new(params)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{window:?}")))?;
        let nanos = |s: f64| (s * 1e9).round() as u64;
        prop_assert_eq!(
            (spec.imu_len(), spec.frames(), spec.len_ns(), spec.stride_ns()),
            ((seconds * f64::from(rate)).round() as usize, frames, nanos(seconds), nanos(window.stride_seconds()))
        );
        if let Some(audio) = config.sources().audio() {
            prop_assert_eq!(spec.audio_rate_hz(), audio.rate_hz());
        }
        let options = config.encoder().options();
        prop_assert!(options.validate().is_ok(), "{:?}", options);
        prop_assert_eq!(&options.execution_providers, config.encoder().execution_providers());
        let learner = config.learner().learner_config(dim);
        prop_assert!(learner.validate().is_ok(), "{:?}", learner);
        prop_assert_eq!(learner.strategy, config.learner().strategy());
        prop_assert_eq!(learner.seed, config.learner().seed());
    }
}
