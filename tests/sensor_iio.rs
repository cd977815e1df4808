//! Linux IIO IMUs against fake sysfs trees and fake buffer files: polled
//! reading with shared and per-axis scales, offsets and the rate asked of the
//! device; buffered reading of a 16-bit big-endian signed channel with a
//! shift, 32-bit little-endian channels and a timestamp channel; a missing
//! `scale` named in the error; discovery of split accelerometer and gyroscope
//! devices; and a device that disappears mid-stream, restarted with backoff
//! while the pipeline marks the IMU absent, back when it returns.

mod sensor_support;

use mmcl::align::{WindowParams, WindowSpec};
use mmcl::pipeline::{Pipeline, PipelineSettings, SourceState};
use mmcl::sample::{Frame, ImuSample, Modality, Sample};
use mmcl::sensor::imu::iio::{IioImu, IioMode, IioOptions};
use mmcl::sensor::{Backoff, Restarting, Source, SourceError, SourceMonitor};
use mmcl::shutdown::Shutdown;
use mmcl::time::{Clock, ManualClock, MonotonicClock, Timestamp};
use sensor_support::*;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn options(fake: &FakeIio, mode: IioMode, clock: Arc<dyn Clock>) -> IioOptions {
    IioOptions {
        name: "imu".into(),
        root: fake.root(),
        device: None,
        dev_dir: fake.dev(),
        mode,
        rate_hz: 200.0,
        acc_scale: None,
        gyro_scale: None,
        trigger: None,
        clock,
        monitor: SourceMonitor::new(),
    }
}

fn imu(sample: Sample) -> ImuSample {
    match sample {
        Sample::Imu(s) => s,
        other => panic!("not an IMU sample: {other:?}"),
    }
}

fn close(a: [f32; 3], b: [f32; 3]) -> bool {
    a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5)
}

#[test]
fn polled_readings_are_scaled_to_g_and_degrees_per_second_at_the_asked_rate() {
    let fake = FakeIio::new();
    let dir = imu_device(&fake, 0);
    let clock: Arc<dyn Clock> = Arc::new(MonotonicClock::new());
    let o = options(&fake, IioMode::Polled, clock);
    let mut source = IioImu::open(&o).unwrap();
    // 200 Hz asked of a device at 100: written to sampling_frequency.
    assert_eq!(read(&dir, "sampling_frequency"), "200");
    let shutdown = Shutdown::new();
    let first = imu(source.next_sample(&shutdown).unwrap().unwrap());
    assert!(close(first.acc, [1.01, -0.49, 0.03]), "{:?}", first.acc);
    assert!(close(first.gyro, [1.0, 0.0, -2.5]), "{:?}", first.gyro);
    raw(&dir, "accel", [-10, 0, 990]);
    let began = Instant::now();
    let mut last = first.t;
    for _ in 0..20 {
        let s = imu(source.next_sample(&shutdown).unwrap().unwrap());
        assert!(s.t > last);
        last = s.t;
        assert!(close(s.acc, [0.0, 0.01, 1.0]), "{:?}", s.acc);
    }
    // 20 polls at 200 Hz take ~100 ms of wall time (the clock is real).
    let took = began.elapsed().as_secs_f64();
    assert!((0.09..0.5).contains(&took), "{took} s");
    let report = o.monitor.report(Instant::now());
    assert_eq!(report.device.as_deref(), Some("iio:device0 (fakeimu)"));
    assert_eq!(report.rate_hz, Some(200.0));
}

#[test]
fn a_missing_scale_is_an_error_naming_the_files_looked_for() {
    let fake = FakeIio::new();
    let dir = imu_device(&fake, 0);
    std::fs::remove_file(dir.join("in_accel_scale")).unwrap();
    let clock: Arc<dyn Clock> = Arc::new(MonotonicClock::new());
    let err = IioImu::open(&options(&fake, IioMode::Polled, clock.clone()))
        .err()
        .unwrap();
    let text = err.to_string();
    assert!(
        text.contains("device iio:device0 (fakeimu): no scale for in_accel_x: none of in_accel_x_scale, in_accel_scale exists"),
        "{text}"
    );
    // With the scale given by the profile, the file is not needed.
    let o = IioOptions {
        acc_scale: Some(0.001),
        ..options(&fake, IioMode::Polled, clock)
    };
    let mut s = IioImu::open(&o).unwrap();
    let first = imu(s.next_sample(&Shutdown::new()).unwrap().unwrap());
    assert!(close(first.acc, [1.01, -0.49, 0.03]), "{:?}", first.acc);
}

#[test]
fn split_accelerometer_and_gyroscope_devices_are_found_and_read_together() {
    let fake = FakeIio::new();
    let acc = fake.device(0, "accel-only");
    raw(&acc, "accel", [0, 0, 1000]);
    write(&acc, "in_accel_scale", &format!("{ACC_SCALE}\n"));
    let _other = fake.device(1, "pressure");
    let gyro = fake.device(2, "gyro-only");
    raw(&gyro, "anglvel", [300, 0, 0]);
    write(&gyro, "in_anglvel_scale", &format!("{GYRO_SCALE}\n"));
    let clock: Arc<dyn Clock> = Arc::new(MonotonicClock::new());
    let o = options(&fake, IioMode::Polled, clock.clone());
    let s = imu(IioImu::open(&o)
        .unwrap()
        .next_sample(&Shutdown::new())
        .unwrap()
        .unwrap());
    assert!(
        close(s.acc, [0.0, 0.0, 1.0]) && close(s.gyro, [3.0, 0.0, 0.0]),
        "{s:?}"
    );
    let label = o.monitor.report(Instant::now()).device.unwrap();
    assert_eq!(label, "iio:device0 (accel-only) + iio:device2 (gyro-only)");
    // Two devices have two buffers: buffered reading says so.
    let err = IioImu::open(&options(&fake, IioMode::Buffered, clock))
        .err()
        .unwrap();
    assert!(err.to_string().contains("two devices"), "{err}");
}

/// One record of the buffered layout below: accel x y z as be:s12/16>>4 at
/// 0, 2, 4; anglvel x y z as le:s32/32>>0 at 8, 12, 16; timestamp le:s64 at 24.
fn record(acc: [i16; 3], gyro: [i32; 3], t_ns: i64) -> Vec<u8> {
    let mut r = vec![0u8; 32];
    for (i, a) in acc.iter().enumerate() {
        // 12 bits shifted left by 4, junk in the low nibble the reader must drop.
        let word = ((*a as u16) << 4) | 0x5;
        r[2 * i..2 * i + 2].copy_from_slice(&word.to_be_bytes());
    }
    for (i, g) in gyro.iter().enumerate() {
        r[8 + 4 * i..12 + 4 * i].copy_from_slice(&g.to_le_bytes());
    }
    r[24..32].copy_from_slice(&t_ns.to_le_bytes());
    r
}

fn buffered_device(fake: &FakeIio) -> std::path::PathBuf {
    let dir = imu_device(fake, 0);
    for (i, axis) in ["x", "y", "z"].iter().enumerate() {
        scan_element(&dir, &format!("in_accel_{axis}"), i as u32, "be:s12/16>>4");
        scan_element(
            &dir,
            &format!("in_anglvel_{axis}"),
            3 + i as u32,
            "le:s32/32>>0",
        );
    }
    scan_element(&dir, "in_timestamp", 6, "le:s64/64>>0");
    scan_element(&dir, "in_temp", 7, "le:s16/16>>0");
    write(&dir, "buffer/enable", "0\n");
    write(&dir, "trigger/current_trigger", "\n");
    dir
}

#[test]
fn buffered_records_are_decoded_by_their_scan_layout_and_stamped_by_the_device() {
    let fake = FakeIio::new();
    let dir = buffered_device(&fake);
    let mut bytes = Vec::new();
    for k in 0..50i64 {
        // -1000 .. counts of 12-bit acc, large 32-bit gyro, 10 ms apart.
        let acc = [-1000 + k as i16, 2047, -2048];
        bytes.extend(record(
            acc,
            [100_000 + k as i32, -7, 0],
            5_000_000_000 + k * 10_000_000,
        ));
    }
    std::fs::write(fake.dev().join("iio:device0"), &bytes).unwrap();
    // A clock well past the backlog's 0.49 s (older records are not stamped).
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(Timestamp(10_000_000_000)));
    let o = IioOptions {
        trigger: Some("fakeimu-dev0".into()),
        ..options(&fake, IioMode::Buffered, clock)
    };
    let mut source = IioImu::open(&o).unwrap();
    assert_eq!(read(&dir, "buffer/enable"), "1");
    assert_eq!(read(&dir, "trigger/current_trigger"), "fakeimu-dev0");
    assert_eq!(
        read(&dir, "scan_elements/in_temp_en"),
        "0",
        "elements not needed are disabled"
    );
    assert_eq!(read(&dir, "scan_elements/in_timestamp_en"), "1");
    let shutdown = Shutdown::new();
    let got: Vec<ImuSample> = (0..50)
        .map(|_| imu(source.next_sample(&shutdown).unwrap().unwrap()))
        .collect();
    // (raw + 10 offset) * 0.001 g; gyro raw * 0.01 °/s.
    assert!(
        close(got[0].acc, [-0.99, 2.057, -2.038]),
        "{:?}",
        got[0].acc
    );
    assert!(
        close(got[49].acc, [-0.941, 2.057, -2.038]),
        "{:?}",
        got[49].acc
    );
    assert!(
        close(got[3].gyro, [1000.03, -0.07, 0.0]),
        "{:?}",
        got[3].gyro
    );
    // The device's 10 ms spacing survives the mapping onto the pipeline clock.
    let steps: Vec<u64> = got.windows(2).map(|w| w[1].t.since(w[0].t)).collect();
    assert!(steps.iter().all(|s| *s == 10_000_000), "{steps:?}");
    let format = o.monitor.report(Instant::now()).format.unwrap();
    assert!(
        format.contains("32-byte records, device timestamps"),
        "{format}"
    );
    drop(source);
    assert_eq!(read(&dir, "buffer/enable"), "0", "drop disables the buffer");
}

#[test]
fn a_bad_scan_type_is_named_with_its_file() {
    let fake = FakeIio::new();
    let dir = buffered_device(&fake);
    write(&dir, "scan_elements/in_accel_y_type", "be:s12/12>>4\n");
    std::fs::write(fake.dev().join("iio:device0"), b"").unwrap();
    let clock: Arc<dyn Clock> = Arc::new(MonotonicClock::new());
    let err = IioImu::open(&options(&fake, IioMode::Buffered, clock))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("scan_elements/in_accel_y_type") && err.contains("storage of 12 bits"),
        "{err}"
    );
}

/// 10 frames per second of 8x8 grey on the clock: the modality that goes on.
struct Ticker {
    clock: Arc<dyn Clock>,
    next: Option<Timestamp>,
}

impl Source for Ticker {
    fn name(&self) -> &str {
        "camera"
    }
    fn modalities(&self) -> &[Modality] {
        &[Modality::Video]
    }
    fn next_sample(&mut self, shutdown: &Shutdown) -> Result<Option<Sample>, SourceError> {
        let due = *self.next.get_or_insert(self.clock.now());
        while self.clock.now() < due {
            if shutdown.wait_timeout(Duration::from_millis(5)) {
                return Ok(None);
            }
        }
        self.next = Some(due.add_nanos(100_000_000));
        Ok(Some(Sample::Frame(
            Frame::new(due, 8, 8, vec![128; 192]).unwrap(),
        )))
    }
}

fn spec() -> WindowSpec {
    WindowSpec::new(WindowParams {
        seconds: 1.0,
        stride_seconds: 0.25,
        imu_rate_hz: 25.0,
        frames: 2,
        stall_seconds: 0.3,
        lateness_seconds: 0.05,
        ..WindowParams::default()
    })
    .unwrap()
}

fn rebuild(fake: &FakeIio) {
    imu_device(fake, 0);
}

fn remove(dir: &Path) {
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_device_that_disappears_is_restarted_with_backoff_and_its_modality_is_absent_meanwhile() {
    let fake = FakeIio::new();
    let dir = imu_device(&fake, 0);
    let clock: Arc<dyn Clock> = Arc::new(MonotonicClock::new());
    let o = IioOptions {
        rate_hz: 50.0,
        ..options(&fake, IioMode::Polled, clock.clone())
    };
    let monitor = o.monitor.clone();
    let backoff = Backoff {
        initial: Duration::from_millis(50),
        max: Duration::from_millis(200),
    };
    let imu = Restarting::start(backoff, monitor.clone(), move || {
        IioImu::open(&o).map(|s| Box::new(s) as Box<dyn Source>)
    })
    .unwrap();
    let camera = Ticker {
        clock: clock.clone(),
        next: None,
    };
    let sources: Vec<Box<dyn Source>> = vec![Box::new(camera), Box::new(imu)];
    let shutdown = Shutdown::new();
    let start = clock.now();
    let pipeline = Pipeline::start_windows(
        sources,
        &spec(),
        start,
        &PipelineSettings::default(),
        &shutdown,
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let gone_at = clock.now();
    remove(&dir);
    std::thread::sleep(Duration::from_millis(400));
    let during = pipeline.health();
    let attempts = monitor.report(Instant::now()).restart.unwrap();
    std::thread::sleep(Duration::from_millis(1600));
    let back_at = clock.now();
    rebuild(&fake);
    std::thread::sleep(Duration::from_millis(2500));
    let after = pipeline.health();
    let windows: Vec<_> = pipeline.output().try_iter().map(|w| w.window).collect();
    pipeline.stop();

    let imu_health = during.source("imu").unwrap();
    assert_eq!(imu_health.state, SourceState::Restarting, "{imu_health:?}");
    assert!(attempts.restarting && attempts.losses == 1, "{attempts:?}");
    assert!(
        attempts
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("no IIO device under"),
        "reopen attempts fail on discovery while the device is gone: {attempts:?}"
    );
    let report = after
        .source("imu")
        .unwrap()
        .report
        .clone()
        .unwrap()
        .restart
        .unwrap();
    assert_eq!(
        (report.restarting, report.losses, report.restarts),
        (false, 1, 1),
        "{report:?}"
    );
    assert!(report.attempts == 0 && report.next_retry_ms.is_none());
    assert_eq!(after.source("imu").unwrap().state, SourceState::Running);

    // Windows wholly inside the outage (with a stall's margin) have video but no IMU;
    // windows wholly after the return have both.
    let inside = |w: &mmcl::window::Window| {
        w.start.nanos() > gone_at.nanos() + 300_000_000 && w.end < back_at
    };
    let outage: Vec<_> = windows.iter().filter(|w| inside(w)).collect();
    assert!(!outage.is_empty(), "no window inside the outage");
    for w in &outage {
        assert!(
            w.is_present(Modality::Video) && !w.is_present(Modality::Imu),
            "{:?}",
            w.present()
        );
    }
    let returned: Vec<_> = windows
        .iter()
        .filter(|w| w.start.nanos() > back_at.nanos() + 500_000_000)
        .collect();
    assert!(!returned.is_empty(), "no window after the return");
    for w in &returned {
        assert!(
            w.is_present(Modality::Video) && w.is_present(Modality::Imu),
            "{:?}",
            w.present()
        );
    }
    let before: Vec<_> = windows.iter().filter(|w| w.end < gone_at).collect();
    assert!(
        before.iter().all(|w| w.is_present(Modality::Imu)),
        "IMU present before the loss"
    );
}
