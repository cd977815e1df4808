use super::*;

fn shape() -> WindowShape {
    WindowShape {
        seconds: 5.12,
        imu_rate_hz: 25.0,
        frames: 8,
    }
}

#[test]
fn defaults_follow_the_encoder() {
    let w = WindowConfig::new(&RawWindow::default()).unwrap();
    assert_eq!(w, WindowConfig::default());
    assert_eq!(
        (w.seconds(), w.imu_rate_hz(), w.frames()),
        (None, None, None)
    );
    let p = w.params_for(&shape(), "e").unwrap();
    assert_eq!((p.seconds, p.imu_rate_hz, p.frames), (5.12, 25.0, 8));
    let other = WindowShape {
        seconds: 2.0,
        imu_rate_hz: 50.0,
        frames: 4,
    };
    let p = w.params_for(&other, "e").unwrap();
    let spec = crate::align::WindowSpec::new(p).unwrap();
    assert_eq!((spec.imu_len(), spec.frames()), (100, 4));
}

#[test]
fn params_carry_every_key() {
    let raw = RawWindow {
        seconds: Some(2.0),
        stride_seconds: Some(0.5),
        imu_rate_hz: Some(50),
        frames: Some(4),
        min_coverage: Some(0.6),
        max_gap_seconds: Some(0.25),
    };
    let w = WindowConfig::new(&raw).unwrap();
    let shape = WindowShape {
        seconds: 2.0,
        imu_rate_hz: 50.0,
        frames: 4,
    };
    let spec = crate::align::WindowSpec::new(w.params_for(&shape, "e").unwrap()).unwrap();
    assert_eq!((spec.imu_len(), spec.frames()), (100, 4));
    assert_eq!(
        (spec.len_ns(), spec.stride_ns(), spec.max_gap_ns()),
        (2_000_000_000, 500_000_000, 250_000_000)
    );
    assert_eq!(spec.min_coverage(), 0.6);
}

#[test]
fn a_shape_the_encoder_does_not_take_names_both_values() {
    let raw = RawWindow {
        seconds: Some(5.0),
        frames: Some(16),
        ..Default::default()
    };
    let w = WindowConfig::new(&raw).unwrap();
    let issues = w
        .params_for(&shape(), "mmcl-default-encoder-v1")
        .unwrap_err();
    let text: Vec<String> = issues.iter().map(|i| i.to_string()).collect();
    assert_eq!(text.len(), 2, "{text:?}");
    assert!(
        text[0].starts_with(
            "window.seconds = 5: the encoder mmcl-default-encoder-v1 takes 5.12 s windows"
        ),
        "{}",
        text[0]
    );
    assert!(
        text[1]
            .starts_with("window.frames = 16: the encoder mmcl-default-encoder-v1 takes 8 frames"),
        "{}",
        text[1]
    );
    // The stated shape equal to the encoder's is fine.
    let raw = RawWindow {
        seconds: Some(5.12),
        imu_rate_hz: Some(25),
        frames: Some(8),
        ..Default::default()
    };
    assert!(WindowConfig::new(&raw)
        .unwrap()
        .params_for(&shape(), "e")
        .is_ok());
}

#[test]
fn stride_and_gap_must_fit_in_the_encoders_window() {
    let raw = RawWindow {
        stride_seconds: Some(6.0),
        max_gap_seconds: Some(5.5),
        ..Default::default()
    };
    let w = WindowConfig::new(&raw).unwrap();
    let keys: Vec<String> = w
        .params_for(&shape(), "e")
        .unwrap_err()
        .into_iter()
        .map(|i| i.key)
        .collect();
    assert_eq!(keys, ["window.stride_seconds", "window.max_gap_seconds"]);
}

#[test]
fn stride_is_bounded_by_the_stated_window() {
    let raw = RawWindow {
        stride_seconds: Some(0.0),
        ..Default::default()
    };
    let e = WindowConfig::new(&raw).unwrap_err();
    assert_eq!(
        e.errors[0].to_string(),
        "window.stride_seconds = 0: must be > 0 and <= 60"
    );
    let raw = RawWindow {
        seconds: Some(2.0),
        stride_seconds: Some(2.5),
        ..Default::default()
    };
    let e = WindowConfig::new(&raw).unwrap_err();
    assert_eq!(
        e.errors[0].to_string(),
        "window.stride_seconds = 2.5: must be > 0 and <= window.seconds (2)"
    );
}

#[test]
fn every_bad_key_is_reported() {
    let raw = RawWindow {
        seconds: Some(61.0),
        stride_seconds: Some(-1.0),
        imu_rate_hz: Some(0),
        frames: Some(65),
        min_coverage: Some(1.5),
        max_gap_seconds: Some(0.0),
    };
    let keys: Vec<String> = WindowConfig::new(&raw)
        .unwrap_err()
        .errors
        .into_iter()
        .map(|e| e.key)
        .collect();
    assert_eq!(
        keys,
        [
            "window.seconds",
            "window.stride_seconds",
            "window.imu_rate_hz",
            "window.frames",
            "window.min_coverage",
            "window.max_gap_seconds"
        ]
    );
}

#[test]
fn a_stated_imu_length_must_be_whole() {
    let raw = RawWindow {
        seconds: Some(5.1),
        imu_rate_hz: Some(25),
        ..Default::default()
    };
    let e = WindowConfig::new(&raw).unwrap_err();
    assert!(
        e.errors[0].message.contains("whole number"),
        "{}",
        e.errors[0]
    );
    let raw = RawWindow {
        seconds: Some(0.04),
        stride_seconds: Some(0.04),
        max_gap_seconds: Some(0.04),
        imu_rate_hz: Some(25),
        ..Default::default()
    };
    let e = WindowConfig::new(&raw).unwrap_err();
    assert_eq!(e.errors.len(), 1, "{e}");
    assert_eq!(
        e.errors[0].to_string(),
        "window.seconds = 0.04: window.seconds × window.imu_rate_hz (25) = 1 must be at least 2 IMU samples"
    );
}

#[test]
fn round_trips_through_raw() {
    let raw = RawWindow {
        seconds: Some(5.12),
        frames: Some(8),
        ..Default::default()
    };
    let w = WindowConfig::new(&raw).unwrap();
    assert_eq!(WindowConfig::new(&w.to_raw()).unwrap(), w);
    assert_eq!(w.to_raw().imu_rate_hz, None);
}
