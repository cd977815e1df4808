//! The daemon (`mmcl run`) on live sources, built by `sensor::live::build`: a
//! real IMU recording played live (`kind = "csv-file"`) with a camera that is
//! not there. Marked optional, the camera is absent and the daemon runs on the
//! IMU (windows come out); required, the start is refused naming it.

use mmcl::config::{Config, Settings};
use mmcl::daemon::{self, Notifier, StartOptions};
use mmcl::shutdown::Shutdown;
use std::path::Path;
use std::time::{Duration, Instant};

fn settings(root: &Path, camera_optional: bool) -> Settings {
    let recording = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/imu/mobgap_HA001_Test11_3500-4699.csv");
    let text = format!(
        "profile = \"live-test\"\nstate_dir = \"{state}\"\n\n\
         [sources.camera]\ndevice = \"{camera}\"\noptional = {camera_optional}\n\n\
         [sources.imu]\nkind = \"csv-file\"\npath = \"{imu}\"\nrate_hz = 100\nloop = true\n",
        state = root.join("state").display(),
        camera = root.join("video0").display(),
        imu = recording.display(),
    );
    let path = root.join("profile.toml");
    std::fs::write(&path, text).expect("write profile");
    Settings::resolve(Config::load(&path).expect("profile")).expect("settings")
}

fn start(settings: Settings) -> Result<daemon::Running, daemon::DaemonError> {
    let options = StartOptions {
        notifier: Notifier::none(),
        control_socket: false,
    };
    daemon::start(settings, options, Shutdown::new())
}

#[test]
fn an_optional_missing_camera_is_absent_and_the_daemon_runs_on_the_imu() {
    let dir = tempfile::tempdir().expect("temp dir");
    let running = start(settings(dir.path(), true)).expect("starts without the camera");
    let d = running.daemon().clone();
    let began = Instant::now();
    while d.windows() == 0 && began.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let health = d.health().expect("pipeline health");
    let names: Vec<&str> = health.sources.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["imu"]);
    assert!(health.sources[0].samples_delivered > 0);
    assert!(d.windows() > 0, "no window in 60 s");
    drop(d);
    running.stop().expect("stops");
}

#[test]
fn a_required_missing_camera_refuses_the_start_by_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Err(e) = start(settings(dir.path(), false)) else {
        panic!("started without its camera");
    };
    let message = e.to_string();
    let device = dir.path().join("video0").display().to_string();
    assert!(message.starts_with("source camera:"), "{message}");
    assert!(message.contains(&device), "{message}");
}
