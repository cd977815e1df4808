//! Buffered reading: the driver fills a FIFO of records (every enabled scan
//! element, laid out as `scan`) that the character device `/dev/iio:deviceN`
//! hands out. Setup writes sysfs: the buffer is disabled, the six IMU channels
//! and the timestamp enabled (every other element disabled, so records stay
//! small), the trigger set when the profile names one, the buffer enabled; drop
//! disables it again.
//!
//! Records are read non-blocking with poll(2) in `MAX_BLOCK` steps. With a
//! timestamp channel each record is stamped by the device's time mapped onto
//! the pipeline's clock (`DeviceClock`); without one, the records of one read
//! are spaced a period apart, ending at their arrival. End of file (a FIFO
//! without writer, or the end of a fake buffer file) is not an error: the
//! device directory is checked, and a gone device is.

use super::device::{read_text, Calibration, IioDevice, Kind, AXES};
use super::error::IioError;
use super::scan::{ScanLayout, ScanType};
use crate::sample::ImuSample;
use crate::sensor::imu::reader::{set_nonblocking, wait_readable};
use crate::sensor::MAX_BLOCK;
use crate::shutdown::Shutdown;
use crate::time::{Clock, Timestamp};
use std::collections::VecDeque;
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A mapped device time more than this behind its arrival re-anchors the
/// mapping (a suspended device, a clock step).
const RESYNC_NS: i128 = 500_000_000;
/// Bytes read per call: 256 records of a typical 16-byte layout.
const READ_BYTES: usize = 4096;

/// Device timestamps onto the pipeline clock: offset = the smallest
/// `arrival - device time` seen (the least-delayed record), re-anchored when
/// records fall more than `RESYNC_NS` behind. Mapped times strictly increase:
/// the aligner drops a sample with the time of one it holds as a duplicate.
#[derive(Debug, Default)]
pub struct DeviceClock {
    offset: Option<i128>,
    last: Option<Timestamp>,
}

impl DeviceClock {
    /// Updates the offset with the newest record of a read that arrived at `arrival`.
    pub fn observe(&mut self, newest_ns: i64, arrival: Timestamp) {
        let candidate = i128::from(arrival.nanos()) - i128::from(newest_ns);
        self.offset = Some(match self.offset {
            Some(o) if candidate >= o && candidate - o <= RESYNC_NS => o,
            _ => candidate,
        });
    }

    /// The record's time on the pipeline clock; `None` for a record taken
    /// before the clock's origin (a backlog older than the pipeline): it
    /// precedes every window, and stamping such records all at 0 would pile
    /// them onto one instant.
    pub fn map(&mut self, device_ns: i64) -> Option<Timestamp> {
        let mapped = i128::from(device_ns) + self.offset.unwrap_or(0);
        let t = u64::try_from(mapped).ok()?;
        Some(self.after_last(Timestamp(t)))
    }

    /// `t`, or just after the last time handed out if `t` is not later.
    pub fn after_last(&mut self, t: Timestamp) -> Timestamp {
        let t = match self.last {
            Some(last) if t <= last => last.add_nanos(1),
            _ => t,
        };
        self.last = Some(t);
        t
    }
}

/// The six IMU elements (acc x y z, gyro x y z) and the timestamp, as placed.
struct Channels {
    values: Vec<(usize, Calibration)>,
    timestamp: Option<usize>,
}

pub struct Buffered {
    device: IioDevice,
    file: File,
    dev_path: PathBuf,
    enable: PathBuf,
    layout: ScanLayout,
    channels: Channels,
    period_ns: u64,
    clock: Arc<dyn Clock>,
    stamps: DeviceClock,
    partial: Vec<u8>,
    pending: VecDeque<ImuSample>,
}

impl Buffered {
    /// Sets the buffer up and opens `dev_dir/<id>`.
    pub fn open(
        device: IioDevice,
        dev_dir: &Path,
        rate_hz: f64,
        scales: (Option<f64>, Option<f64>),
        trigger: Option<&str>,
        clock: Arc<dyn Clock>,
    ) -> Result<Buffered, IioError> {
        let enable = buffer_enable(&device)?;
        write(&enable, "0")?;
        let layout = enable_elements(&device)?;
        let channels = place_channels(&device, &layout, scales)?;
        if let Some(trigger) = trigger {
            write(&device.dir.join("trigger/current_trigger"), trigger)?;
        }
        write(&enable, "1")?;
        let dev_path = dev_dir.join(&device.id);
        let file = File::open(&dev_path).map_err(|e| IioError::io(&dev_path, "open", e))?;
        set_nonblocking(&file).map_err(|e| IioError::io(&dev_path, "configure", e))?;
        Ok(Buffered {
            device,
            file,
            dev_path,
            enable,
            layout,
            channels,
            period_ns: (1e9 / rate_hz.max(1e-3)).round() as u64,
            clock,
            stamps: DeviceClock::default(),
            partial: Vec::new(),
            pending: VecDeque::new(),
        })
    }

    /// Bytes per record, for health.
    pub fn record_bytes(&self) -> usize {
        self.layout.record_bytes
    }

    pub fn has_timestamps(&self) -> bool {
        self.channels.timestamp.is_some()
    }

    /// The next record; `None` on shutdown.
    pub fn next(&mut self, shutdown: &Shutdown) -> Result<Option<ImuSample>, IioError> {
        loop {
            if let Some(sample) = self.pending.pop_front() {
                return Ok(Some(sample));
            }
            if shutdown.is_triggered() {
                return Ok(None);
            }
            if !self.read_some()? {
                self.check_present()?;
                shutdown.wait_timeout(MAX_BLOCK);
            }
        }
    }

    /// Reads what is there into `pending`; false when nothing came (EOF or idle).
    fn read_some(&mut self) -> Result<bool, IioError> {
        let io = |e| IioError::io(&self.dev_path, "read", e);
        if !wait_readable(&self.file, MAX_BLOCK).map_err(io)? {
            return Ok(true);
        }
        let mut chunk = [0u8; READ_BYTES];
        let n = match self.file.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                return Ok(true)
            }
            Err(e) => return Err(IioError::io(&self.dev_path, "read", e)),
        };
        self.partial
            .extend_from_slice(chunk.get(..n).unwrap_or(&[]));
        self.decode_records();
        Ok(n > 0)
    }

    /// Every complete record in `partial` into `pending`, stamped.
    fn decode_records(&mut self) {
        let size = self.layout.record_bytes.max(1);
        let whole = self.partial.len() / size * size;
        let records: Vec<u8> = self.partial.drain(..whole).collect();
        let arrival = self.clock.now();
        let times = self.stamp(&records, size, arrival);
        for (k, record) in records.chunks_exact(size).enumerate() {
            let value = |i: usize| {
                let (slot, cal) = self.channels.values.get(i)?;
                let element = self.layout.elements.get(*slot)?;
                self.layout.value(element, record).map(|raw| cal.apply(raw))
            };
            let v: Vec<f32> = (0..6).map(|i| value(i).unwrap_or(0.0)).collect();
            let Some(t) = times.get(k).copied().unwrap_or(Some(arrival)) else {
                continue;
            };
            if let [ax, ay, az, gx, gy, gz] = v[..] {
                self.pending.push_back(ImuSample {
                    t,
                    acc: [ax, ay, az],
                    gyro: [gx, gy, gz],
                });
            }
        }
    }

    /// Times of the records of one read: device time mapped, or spaced back from arrival.
    /// `None`: a record from before the clock's origin, skipped.
    fn stamp(&mut self, records: &[u8], size: usize, arrival: Timestamp) -> Vec<Option<Timestamp>> {
        let count = records.len() / size;
        let Some(slot) = self.channels.timestamp else {
            return (0..count)
                .map(|k| {
                    let back = (count - 1 - k) as u64 * self.period_ns;
                    let t = Timestamp(arrival.nanos().saturating_sub(back));
                    Some(self.stamps.after_last(t))
                })
                .collect();
        };
        let element = self.layout.elements.get(slot).cloned();
        let device_ns: Vec<i64> = records
            .chunks_exact(size)
            .map(|r| {
                element
                    .as_ref()
                    .and_then(|e| self.layout.value(e, r))
                    .unwrap_or(0)
            })
            .collect();
        if let Some(newest) = device_ns.last() {
            self.stamps.observe(*newest, arrival);
        }
        device_ns.into_iter().map(|d| self.stamps.map(d)).collect()
    }

    fn check_present(&self) -> Result<(), IioError> {
        match self.device.is_present() {
            true => Ok(()),
            false => Err(IioError::Gone {
                device: self.device.label(),
                dir: self.device.dir.clone(),
            }),
        }
    }
}

impl Drop for Buffered {
    fn drop(&mut self) {
        // Leave the device as found; a gone device cannot be written, and that is fine.
        let _ = std::fs::write(&self.enable, "0");
    }
}

/// `buffer0/enable` (kernels with several buffers) or the legacy `buffer/enable`.
fn buffer_enable(device: &IioDevice) -> Result<PathBuf, IioError> {
    ["buffer0/enable", "buffer/enable"]
        .iter()
        .map(|p| device.dir.join(p))
        .find(|p| p.is_file())
        .ok_or_else(|| IioError::Buffer {
            device: device.label(),
            reason: "no buffer/enable (the driver has no buffer): use mode = \"polled\"".into(),
        })
}

fn write(path: &Path, value: &str) -> Result<(), IioError> {
    std::fs::write(path, value).map_err(|e| IioError::io(path, "write", e))
}

/// The element names the source needs, in sample order.
fn wanted() -> Vec<String> {
    [Kind::Accel, Kind::AnglVel]
        .iter()
        .flat_map(|k| AXES.iter().map(move |a| format!("{}_{a}", k.prefix())))
        .collect()
}

/// Enables the IMU elements and the timestamp, disables the rest, and reads
/// back the layout of what is enabled.
fn enable_elements(device: &IioDevice) -> Result<ScanLayout, IioError> {
    let dir = device.dir.join("scan_elements");
    let entries = std::fs::read_dir(&dir).map_err(|e| IioError::io(&dir, "list", e))?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            e.file_name()
                .to_string_lossy()
                .strip_suffix("_en")
                .map(str::to_string)
        })
        .collect();
    names.sort();
    let wanted = wanted();
    let mut enabled = Vec::new();
    for name in names {
        let on = wanted.contains(&name) || name == "in_timestamp";
        write(&dir.join(format!("{name}_en")), if on { "1" } else { "0" })?;
        let really = read_text(&dir.join(format!("{name}_en")))?.trim() == "1";
        if really {
            enabled.push(element(&dir, name)?);
        }
    }
    Ok(ScanLayout::new(enabled))
}

fn element(dir: &Path, name: String) -> Result<(String, u32, ScanType), IioError> {
    let index_path = dir.join(format!("{name}_index"));
    let text = read_text(&index_path)?;
    let index = text.trim().parse::<u32>().map_err(|_| IioError::BadValue {
        path: index_path,
        text: text.trim().to_string(),
        expected: "a scan index",
    })?;
    let type_path = dir.join(format!("{name}_type"));
    let text = read_text(&type_path)?;
    let ty = ScanType::parse(&text).map_err(|reason| IioError::BadValue {
        path: type_path,
        text: format!("{} ({reason})", text.trim()),
        expected: "a scan type `[be|le]:[s|u]BITS/STORAGE>>SHIFT`",
    })?;
    Ok((name, index, ty))
}

/// Where each wanted element sits, with its calibration.
fn place_channels(
    device: &IioDevice,
    layout: &ScanLayout,
    scales: (Option<f64>, Option<f64>),
) -> Result<Channels, IioError> {
    let mut values = Vec::with_capacity(6);
    for kind in [Kind::Accel, Kind::AnglVel] {
        let scale = if kind == Kind::Accel {
            scales.0
        } else {
            scales.1
        };
        for axis in AXES {
            let name = format!("{}_{axis}", kind.prefix());
            let slot = layout
                .elements
                .iter()
                .position(|e| e.name == name)
                .ok_or_else(|| IioError::Buffer {
                    device: device.label(),
                    reason: format!("scan element {name} could not be enabled"),
                })?;
            values.push((slot, device.calibration(kind, axis, scale)?));
        }
    }
    let timestamp = layout
        .elements
        .iter()
        .position(|e| e.name == "in_timestamp");
    Ok(Channels { values, timestamp })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_times_keep_their_spacing_and_never_repeat() {
        let mut c = DeviceClock::default();
        c.observe(1_000, Timestamp(50_000));
        assert_eq!(c.map(1_000), Some(Timestamp(50_000)));
        assert_eq!(
            c.map(900),
            Some(Timestamp(50_001)),
            "an older record is put just after"
        );
        // A later read arriving with less delay lowers the offset; times stay increasing.
        c.observe(3_000, Timestamp(51_500));
        assert_eq!(c.map(3_000), Some(Timestamp(51_500)));
        // Far behind its arrival (a suspend): re-anchored.
        c.observe(4_000, Timestamp(2_000_000_000));
        assert_eq!(c.map(4_000), Some(Timestamp(2_000_000_000)));
    }

    #[test]
    fn records_from_before_the_clock_origin_are_not_stamped() {
        let mut c = DeviceClock::default();
        // 0.49 s of backlog read 10 ms after the clock started.
        c.observe(5_490_000_000, Timestamp(10_000_000));
        assert_eq!(c.map(5_000_000_000), None);
        assert_eq!(c.map(5_480_000_000), Some(Timestamp(0)));
        assert_eq!(c.map(5_490_000_000), Some(Timestamp(10_000_000)));
    }
}
