//! The builder the daemon calls (`sensor::live::build`) and `mmcl sensors`,
//! with a profile asking for a camera, an IMU and a microphone on a machine
//! that has none of them (a camera node, an IIO root and a sound device that
//! do not exist): required, each is named in one error; optional, they are
//! reported absent and what is there (a real IMU recording played live) is
//! returned and runs.

mod sensor_support;

use mmcl::config::Config;
use mmcl::sample::{Modality, Sample};
use mmcl::sensor::live::{self, LiveContext};
use mmcl::shutdown::Shutdown;
use mmcl::time::MonotonicClock;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

const NO_MIC: &str = "mmcl-test-no-such-microphone";

fn recording() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/imu/mobgap_HA001_Test11_3500-4699.csv")
}

/// camera + IMU + microphone, none of them there; `optional` for camera and microphone.
fn profile(dir: &Path, optional: bool, imu: &str) -> PathBuf {
    let text = format!(
        r#"profile = "nothing-here"
state_dir = "state"

[sources.camera]
device = "{cam}"
optional = {optional}

{imu}

[sources.audio]
device = "{NO_MIC}"
optional = {optional}
"#,
        cam = dir.join("video0").display(),
    );
    let path = dir.join("p.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn iio_imu(dir: &Path, optional: bool) -> String {
    let root = dir.join("no-iio");
    std::fs::create_dir_all(&root).unwrap();
    format!(
        "[sources.imu]\nkind = \"iio\"\niio_root = \"{}\"\noptional = {optional}",
        root.display()
    )
}

fn context() -> LiveContext {
    LiveContext {
        clock: Arc::new(MonotonicClock::new()),
        frame_size: (112, 112),
    }
}

#[test]
fn required_devices_that_are_missing_are_each_named_in_one_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::load(&profile(dir.path(), false, &iio_imu(dir.path(), false))).unwrap();
    let err = live::build(config.sources(), &context(), &Shutdown::new())
        .err()
        .expect("nothing to open");
    let names: Vec<(&str, Modality)> = err
        .missing
        .iter()
        .map(|m| (m.name.as_str(), m.modality))
        .collect();
    assert_eq!(
        names,
        [
            ("camera", Modality::Video),
            ("imu", Modality::Imu),
            ("audio", Modality::Audio)
        ]
    );
    let text = err.to_string();
    assert!(
        text.starts_with("3 required live sources unavailable"),
        "{text}"
    );
    let cam = dir.path().join("video0").display().to_string();
    assert!(
        text.contains(&format!(
            "camera (video) {cam}: open camera {cam}: no such device"
        )),
        "{text}"
    );
    assert!(
        text.contains("no IIO device under") && text.contains("no-iio"),
        "{text}"
    );
    assert!(text.contains(NO_MIC), "{text}");
}

#[test]
fn optional_devices_that_are_missing_are_absent_and_what_is_there_runs() {
    let dir = tempfile::tempdir().unwrap();
    let imu = format!(
        "[sources.imu]\nkind = \"csv-file\"\npath = \"{}\"\nrate_hz = 100.0",
        recording().display()
    );
    let config = Config::load(&profile(dir.path(), true, &imu)).unwrap();
    let ctx = context();
    let began = ctx.clock.now();
    let mut built = live::build(config.sources(), &ctx, &Shutdown::new()).unwrap();
    let absent: Vec<&str> = built.absent.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(absent, ["camera", "audio"]);
    assert!(
        built.absent[0].reason.contains("no such device"),
        "{:?}",
        built.absent[0]
    );
    assert_eq!(built.sources.len(), 1);
    let imu = built.sources[0].as_mut();
    assert_eq!(
        (imu.name(), imu.modalities()),
        ("imu", &[Modality::Imu][..])
    );
    // The recording plays at its own rate on the pipeline clock, from its build.
    let shutdown = Shutdown::new();
    let mut times = Vec::new();
    for _ in 0..10 {
        match imu.next_sample(&shutdown).unwrap() {
            Some(Sample::Imu(s)) => times.push(s.t),
            other => panic!("{other:?}"),
        }
    }
    assert!(
        times[0] >= began && times[9].since(times[0]) == 90_000_000,
        "{times:?}"
    );
    assert!(
        ctx.clock.now().since(began) >= 85_000_000,
        "paced at 100 Hz"
    );
}

#[test]
fn mmcl_sensors_reports_every_missing_device_with_its_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = profile(dir.path(), false, &iio_imu(dir.path(), false));
    let out = Command::new(env!("CARGO_BIN_EXE_mmcl"))
        .args(["sensors", "--json", "--config"])
        .arg(&path)
        .arg("--iio-root")
        .arg(dir.path().join("no-iio"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "required sources missing: exit 1"
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = doc["sources"].as_array().unwrap();
    let configured: Vec<&serde_json::Value> =
        rows.iter().filter(|r| !r["source"].is_null()).collect();
    let got: Vec<(&str, &str)> = configured
        .iter()
        .map(|r| {
            (
                r["modality"].as_str().unwrap(),
                r["state"].as_str().unwrap(),
            )
        })
        .collect();
    // Without the camera or audio feature the state says so; with it, the device is missing.
    let cam = if cfg!(feature = "camera") {
        "missing"
    } else {
        "disabled"
    };
    let mic = if cfg!(feature = "audio") {
        "missing"
    } else {
        "disabled"
    };
    assert_eq!(got, [("video", cam), ("imu", "missing"), ("audio", mic)]);
    for r in &configured {
        assert!(r["error"].as_str().is_some_and(|e| !e.is_empty()), "{r}");
        for key in ["device", "rate_hz", "format", "optional"] {
            assert!(r.get(key).is_some(), "{key} missing in {r}");
        }
    }
}

#[test]
fn mmcl_sensors_lists_a_fake_iio_device_the_machine_offers() {
    let fake = sensor_support::FakeIio::new();
    sensor_support::imu_device(&fake, 3);
    let out = Command::new(env!("CARGO_BIN_EXE_mmcl"))
        .args(["sensors", "--json", "--iio-root"])
        .arg(fake.root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let imu: Vec<&serde_json::Value> = doc["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["modality"] == "imu")
        .collect();
    assert_eq!(imu.len(), 1, "{doc}");
    assert_eq!(imu[0]["state"], "available");
    assert!(imu[0]["device"]
        .as_str()
        .unwrap()
        .starts_with("iio:device3 (fakeimu)"));
    assert_eq!(imu[0]["rate_hz"], 100.0);
    assert_eq!(imu[0]["format"], "accelerometer + gyroscope");
}
