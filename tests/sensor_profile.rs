//! The live `[sources.*]` keys: a camera by index or file, IIO settings with
//! their defaults, a serial baud rate, looping recordings, `optional`, the
//! restart backoff; and the rules that refuse a key where it means nothing,
//! every one reported together.

use mmcl::config::{CameraInput, Config, ImuKind};
use mmcl::sensor::camera::PixelFormat;
use mmcl::sensor::imu::iio::IioMode;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn load(sources: &str) -> Result<Config, String> {
    let text = format!("profile = \"p\"\nstate_dir = \"s\"\n{sources}");
    Config::parse(&text, Path::new("/etc/mmcl/p.toml")).map_err(|e| e.to_string())
}

#[test]
fn live_keys_read_with_their_defaults_and_round_trip() {
    let config = load(
        "[sources.camera]\nindex = 2\nformat = \"mjpeg\"\noptional = true\n\
         [sources.imu]\nkind = \"iio\"\niio_mode = \"buffered\"\niio_trigger = \"bmi160-dev0\"\n\
         [sources.restart]\ninitial_ms = 50\nmax_ms = 2000\n",
    )
    .unwrap();
    let camera = config.sources().camera().unwrap();
    assert_eq!(
        camera.input(),
        &CameraInput::Device(PathBuf::from("/dev/video2"))
    );
    assert_eq!(
        (camera.format(), camera.optional()),
        (Some(PixelFormat::Mjpeg), true)
    );
    let imu = config.sources().imu().unwrap();
    let iio = imu.iio().unwrap();
    assert_eq!(
        (imu.kind(), imu.path(), imu.optional()),
        (ImuKind::Iio, None, false)
    );
    assert_eq!(iio.root, PathBuf::from("/sys/bus/iio/devices"));
    assert_eq!(
        (iio.mode, iio.trigger.as_deref()),
        (IioMode::Buffered, Some("bmi160-dev0"))
    );
    let backoff = config.sources().restart().backoff();
    assert_eq!(
        (backoff.initial, backoff.max),
        (Duration::from_millis(50), Duration::from_millis(2000))
    );
    let again = Config::parse(&config.to_toml().unwrap(), Path::new("/etc/mmcl/p.toml")).unwrap();
    assert_eq!(again, config);

    let files = load(
        "[sources.camera]\nfile = \"clips/a.mp4\"\nloop = true\nfps = 25\n\
         [sources.imu]\nkind = \"csv-file\"\npath = \"imu.csv\"\nloop = true\n",
    )
    .unwrap();
    let input = files.sources().camera().unwrap().input().clone();
    assert_eq!(
        input,
        CameraInput::File {
            path: "/etc/mmcl/clips/a.mp4".into(),
            looping: true
        }
    );
    assert!(files.sources().imu().unwrap().looping());
    let serial = load("[sources.imu]\nkind = \"csv-stream\"\npath = \"/dev/ttyS1\"\n").unwrap();
    assert_eq!(serial.sources().imu().unwrap().baud(), Some(115_200));
}

#[test]
fn keys_that_mean_nothing_for_their_kind_are_refused_together() {
    let err = load(
        "[sources.camera]\ndevice = \"/dev/video0\"\nindex = 1\n\
         [sources.imu]\nkind = \"csv-file\"\npath = \"a.csv\"\nbaud = 9600\niio_mode = \"polled\"\n\
         [sources.restart]\ninitial_ms = 500\nmax_ms = 100\n",
    )
    .unwrap_err();
    for expected in [
        "sources.camera.device = (several): set exactly one of device, index",
        "sources.imu.baud = 9600: only with kind = \"csv-stream\"",
        "sources.imu.iio_mode = (set): only with kind = \"iio\"",
        "sources.restart.max_ms = 100: must be >= sources.restart.initial_ms (500)",
    ] {
        assert!(err.contains(expected), "{expected:?} not in\n{err}");
    }
    let err = load("[sources.imu]\nkind = \"csv-stream\"\npath = \"/dev/ttyS1\"\nbaud = 12345\n")
        .unwrap_err();
    assert!(
        err.contains("sources.imu.baud = 12345: must be one of 9600, 19200"),
        "{err}"
    );
    let err = load("[sources.camera]\ndevice = \"/dev/video0\"\nloop = true\nformat = \"h264\"\n")
        .unwrap_err();
    assert!(
        err.contains("sources.camera.loop")
            && err.contains("sources.camera.format = \"h264\": must be \"any\" or one of"),
        "{err}"
    );
    let err = load("[sources.imu]\nkind = \"csv-file\"\n").unwrap_err();
    assert!(
        err.contains("sources.imu.path = (missing): required for csv-stream and csv-file"),
        "{err}"
    );
    let err =
        load("[sources.replay]\ndataset = \"d\"\n[sources.restart]\ninitial_ms = 5\n").unwrap_err();
    assert!(err.contains("sources.restart"), "{err}");
}
