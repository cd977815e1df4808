//! Fake Linux IIO devices for the sensor tests: a sysfs tree (`iio:deviceN`
//! directories with `name`, `in_*_raw`, `scale`, `offset`,
//! `sampling_frequency`, `scan_elements/`, `buffer/enable`) and a `dev/`
//! directory whose `iio:deviceN` file stands in for the character device, all
//! in a temporary directory. Files hold what the kernel would print.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

pub struct FakeIio {
    pub dir: tempfile::TempDir,
}

impl FakeIio {
    pub fn new() -> FakeIio {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("sys")).unwrap();
        fs::create_dir_all(dir.path().join("dev")).unwrap();
        FakeIio { dir }
    }

    /// The sysfs root (`/sys/bus/iio/devices`).
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("sys")
    }

    /// Where `iio:deviceN` character devices are (`/dev`).
    pub fn dev(&self) -> PathBuf {
        self.dir.path().join("dev")
    }

    /// `iio:device<n>` named `name`, with nothing else yet.
    pub fn device(&self, n: u32, name: &str) -> PathBuf {
        let dir = self.root().join(format!("iio:device{n}"));
        fs::create_dir_all(&dir).unwrap();
        write(&dir, "name", &format!("{name}\n"));
        dir
    }
}

pub fn write(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

pub fn read(dir: &Path, file: &str) -> String {
    fs::read_to_string(dir.join(file))
        .unwrap()
        .trim()
        .to_string()
}

/// `in_<kind>_{x,y,z}_raw` with these values.
pub fn raw(dir: &Path, kind: &str, values: [i64; 3]) {
    for (axis, v) in ["x", "y", "z"].iter().zip(values) {
        write(dir, &format!("in_{kind}_{axis}_raw"), &format!("{v}\n"));
    }
}

/// A scan element: `_en` (0), `_index`, `_type`.
pub fn scan_element(dir: &Path, name: &str, index: u32, ty: &str) {
    write(dir, &format!("scan_elements/{name}_en"), "0\n");
    write(
        dir,
        &format!("scan_elements/{name}_index"),
        &format!("{index}\n"),
    );
    write(
        dir,
        &format!("scan_elements/{name}_type"),
        &format!("{ty}\n"),
    );
}

/// m/s² per count: 0.001 g per count.
pub const ACC_SCALE: f64 = 0.009_806_65;
/// rad/s per count: 0.01 °/s per count.
pub const GYRO_SCALE: f64 = 0.01 * std::f64::consts::PI / 180.0;

/// A complete 6-axis device at `n`: accel with a shared scale and offset
/// (raw 1000, -500, 20 + 10 = 1.01, -0.49, 0.03 g), gyro with per-axis scales
/// (raw 100, 0, -250 = 1, 0, -2.5 °/s), a sampling frequency of 100 Hz.
pub fn imu_device(fake: &FakeIio, n: u32) -> PathBuf {
    let dir = fake.device(n, "fakeimu");
    raw(&dir, "accel", [1000, -500, 20]);
    write(&dir, "in_accel_scale", &format!("{ACC_SCALE}\n"));
    write(&dir, "in_accel_offset", "10\n");
    raw(&dir, "anglvel", [100, 0, -250]);
    for axis in ["x", "y", "z"] {
        write(
            &dir,
            &format!("in_anglvel_{axis}_scale"),
            &format!("{GYRO_SCALE}\n"),
        );
    }
    write(&dir, "sampling_frequency", "100\n");
    dir
}
