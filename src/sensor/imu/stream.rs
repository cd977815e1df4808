//! `ImuStream`: a 6-axis IMU read as comma-separated text from a file, FIFO or
//! serial port (`sources.imu.kind = "csv-stream"`), or a recording played as a
//! live source at its own rate (`"csv-file"`, optionally looping).
//!
//! Format, one reading per line: `acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z`, or
//! with a leading sample counter (7 values, as mobgap's CSV export writes
//! `samples,acc_x,...`). Values are multiplied by the scales (1 by default:
//! already g and °/s). A first line that is not numbers is a header and skipped;
//! any later malformed line is a transient error (a torn serial line), counted.
//!
//! Timestamps (`Stamping`): a recording is stamped by its rate (reading k at
//! `start + (k - k0) / rate`, k the counter when present, k0 the first one, so
//! an excerpt starts at `start`); a live device by the
//! pipeline clock on arrival, and then checked against the stated rate
//! (`rate_check`, reported on the monitor). End of a regular file ends the
//! stream, or with `looping` plays it again, the timeline going on one period
//! after the last reading; a FIFO or device at EOF (no writer now) is waited
//! on, since a writer may come back. Reads never block for more than
//! `sensor::MAX_BLOCK` (see `reader`). A terminal is set to raw mode at the
//! profile's baud rate first (`serial`).

use super::rate_check::RateCheck;
use super::reader::{self, LineReader, Read1};
use super::serial;
use crate::sample::{ImuSample, Modality, Sample};
use crate::sensor::{Pacer, Pacing, Source, SourceError, SourceMonitor, MAX_BLOCK};
use crate::shutdown::Shutdown;
use crate::time::{Clock, Timestamp};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How readings get their timestamps.
#[derive(Clone)]
pub enum Stamping {
    /// Reading k at `start + (k - k0) / rate_hz` (k: the counter column, else
    /// the ordinal of the reading; k0: the first k): recordings, devices with a
    /// steady clock.
    Rate { start: Timestamp, rate_hz: f64 },
    /// The clock's reading when the line arrived: live devices without a counter.
    Arrival(Arc<dyn Clock>),
}

/// Everything `ImuStream::open` needs besides the path.
#[derive(Clone)]
pub struct ImuStreamOptions {
    /// The source's name in health and errors.
    pub name: String,
    pub stamping: Stamping,
    /// Pacing of rate-stamped readings (a recording played as live); `Unpaced` for a device.
    pub pacing: Pacing,
    pub acc_scale: f32,
    pub gyro_scale: f32,
    /// The device's nominal rate, for health (and the rate check of arrival
    /// stamps); `None` when unknown.
    pub expected_rate_hz: Option<f64>,
    /// A terminal is set raw at this rate; `None` leaves its settings alone.
    /// Ignored for files and FIFOs.
    pub baud: Option<u32>,
    /// Play a regular file again at its end (a recording as an endless source).
    pub looping: bool,
    /// Where the port settings and the rate check are reported.
    pub monitor: Option<SourceMonitor>,
}

impl ImuStreamOptions {
    /// A recording at `rate_hz` from t = 0, unpaced, values in g and °/s.
    pub fn recording(name: impl Into<String>, rate_hz: f64) -> ImuStreamOptions {
        ImuStreamOptions {
            name: name.into(),
            stamping: Stamping::Rate {
                start: Timestamp::ZERO,
                rate_hz,
            },
            pacing: Pacing::Unpaced,
            acc_scale: 1.0,
            gyro_scale: 1.0,
            expected_rate_hz: Some(rate_hz),
            baud: None,
            looping: false,
            monitor: None,
        }
    }
}

/// Comma-separated IMU readings from a file, FIFO or serial port.
pub struct ImuStream {
    path: PathBuf,
    reader: LineReader,
    options: ImuStreamOptions,
    pacer: Pacer,
    /// End the stream at EOF (a regular file) or wait for more (FIFO, device).
    end_at_eof: bool,
    /// Lines read so far (1-based line numbers in errors).
    lines: u64,
    /// Readings parsed so far (the ordinal when there is no counter column).
    readings: u64,
    /// The first reading's counter (or ordinal 0): time `start`.
    first_counter: Option<f64>,
    /// Where the timeline of the current pass starts (rate stamping).
    pass_start: Timestamp,
    /// The newest reading's time, where a looping pass goes on from.
    last_t: Option<Timestamp>,
    rate_check: Option<RateCheck>,
}

impl ImuStream {
    /// Opens `path` for reading without blocking (a FIFO with no writer yet opens
    /// at once). An error here is the caller's: the source never started.
    pub fn open(path: &Path, options: ImuStreamOptions) -> Result<ImuStream, SourceError> {
        let action = || format!("open IMU stream {}", path.display());
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(path)
            .map_err(|e| SourceError::fatal(action(), e))?;
        let end_at_eof = file
            .metadata()
            .map_err(|e| SourceError::fatal(action(), e))?
            .is_file();
        let port =
            configure_port(&file, options.baud).map_err(|e| SourceError::fatal(action(), e))?;
        if let Some(monitor) = &options.monitor {
            monitor.opened(path.display().to_string(), port, options.expected_rate_hz);
        }
        let reader = LineReader::new(file).map_err(|e| SourceError::fatal(action(), e))?;
        let rate_check = match (&options.stamping, options.expected_rate_hz) {
            (Stamping::Arrival(_), Some(rate)) => Some(RateCheck::new(rate)),
            _ => None,
        };
        let pass_start = match &options.stamping {
            Stamping::Rate { start, .. } => *start,
            Stamping::Arrival(_) => Timestamp::ZERO,
        };
        Ok(ImuStream {
            path: path.to_path_buf(),
            reader,
            pacer: Pacer::new(options.pacing.clone()),
            options,
            end_at_eof,
            lines: 0,
            readings: 0,
            first_counter: None,
            pass_start,
            last_t: None,
            rate_check,
        })
    }

    /// The end of a looping file: read it again from its first line, the
    /// timeline going on one period after the last reading.
    fn next_pass(&mut self) -> Result<(), SourceError> {
        self.reader.rewind().map_err(|e| {
            SourceError::fatal(format!("rewind IMU recording {}", self.path.display()), e)
        })?;
        if let (Stamping::Rate { rate_hz, .. }, Some(last)) = (&self.options.stamping, self.last_t)
        {
            self.pass_start = last.add_nanos((1e9 / rate_hz.max(1e-9)).round() as u64);
        }
        self.lines = 0;
        self.first_counter = None;
        Ok(())
    }

    /// Turns one line into a sample; `Ok(None)` for a header or blank line.
    fn parse(&mut self, line: &str) -> Result<Option<ImuSample>, SourceError> {
        self.lines += 1;
        let line = line.trim();
        let header = self.lines == 1 && line.starts_with(|c: char| c.is_ascii_alphabetic());
        if line.is_empty() || header {
            return Ok(None);
        }
        let values = parse_values(line).map_err(|reason| {
            let action = format!("parse line {} of {}", self.lines, self.path.display());
            SourceError::transient(action, reason)
        })?;
        let (counter, v) = match values.as_slice() {
            [k, rest @ ..] if rest.len() == 6 => (Some(*k), rest),
            _ => (None, values.as_slice()),
        };
        let t = self.stamp(counter);
        self.readings += 1;
        self.last_t = Some(t);
        self.check_rate(t);
        let (a, g) = (self.options.acc_scale, self.options.gyro_scale);
        let ch = |i: usize| v.get(i).copied().unwrap_or(0.0) as f32;
        Ok(Some(ImuSample {
            t,
            acc: [ch(0) * a, ch(1) * a, ch(2) * a],
            gyro: [ch(3) * g, ch(4) * g, ch(5) * g],
        }))
    }

    fn stamp(&mut self, counter: Option<f64>) -> Timestamp {
        let k = counter.unwrap_or(self.readings as f64);
        let k0 = *self.first_counter.get_or_insert(k);
        match &self.options.stamping {
            Stamping::Arrival(clock) => clock.now(),
            Stamping::Rate { rate_hz, .. } => {
                // A counter behind the first one (a wrapped device counter) is not
                // ours to fix: it lands on `start`, and the aligner drops it as late.
                let steps = (k - k0).max(0.0);
                self.pass_start
                    .add_nanos((steps * 1e9 / rate_hz.max(1e-9)).round() as u64)
            }
        }
    }

    fn check_rate(&mut self, t: Timestamp) {
        let Some(check) = self.rate_check.as_mut() else {
            return;
        };
        if let (Some(report), Some(monitor)) = (check.observe(t), &self.options.monitor) {
            monitor.set_rate_check(report.clone());
        }
    }

    /// The next line, waiting in `MAX_BLOCK` steps; `None` at the end or on shutdown.
    fn next_line(&mut self, shutdown: &Shutdown) -> Result<Option<String>, SourceError> {
        while !shutdown.is_triggered() {
            let read = self.reader.next_line(MAX_BLOCK).map_err(|e| {
                SourceError::fatal(format!("read IMU stream {}", self.path.display()), e)
            })?;
            match read {
                Read1::Line(line) => return Ok(Some(line)),
                Read1::Idle => {}
                Read1::Eof if self.end_at_eof && self.options.looping && self.readings > 0 => {
                    self.next_pass()?;
                }
                Read1::Eof if self.end_at_eof => return Ok(None),
                // No writer now: poll reports the hang-up at once, so wait here.
                Read1::Eof => {
                    shutdown.wait_timeout(MAX_BLOCK);
                }
                Read1::TooLong(n) => {
                    self.lines += 1;
                    let action = format!("read line {} of {}", self.lines, self.path.display());
                    let reason =
                        format!("{n} bytes without a newline (limit {})", reader::MAX_LINE);
                    return Err(SourceError::transient(action, reason));
                }
            }
        }
        Ok(None)
    }
}

/// A terminal set raw at `baud` (when asked); what the port is, for the monitor.
fn configure_port(file: &std::fs::File, baud: Option<u32>) -> std::io::Result<String> {
    if !serial::is_tty(file) {
        return Ok("comma-separated lines".into());
    }
    match baud {
        Some(baud) => {
            serial::configure(file, baud)?;
            Ok(format!("comma-separated lines, serial {baud} baud 8N1 raw"))
        }
        None => Ok("comma-separated lines, serial (settings left as found)".into()),
    }
}

/// Six or seven finite numbers separated by commas.
fn parse_values(line: &str) -> Result<Vec<f64>, String> {
    let values = line
        .split(',')
        .map(|f| {
            f.trim()
                .parse::<f64>()
                .map_err(|_| format!("`{}` is not a number", f.trim()))
        })
        .collect::<Result<Vec<f64>, String>>()?;
    if !(6..=7).contains(&values.len()) {
        return Err(format!(
            "{} values, expected 6 (acc x y z, gyro x y z) or 7 (a counter first)",
            values.len()
        ));
    }
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(format!("value {} is not finite", i + 1)),
        None => Ok(values),
    }
}

impl Source for ImuStream {
    fn name(&self) -> &str {
        &self.options.name
    }

    fn modalities(&self) -> &[Modality] {
        &[Modality::Imu]
    }

    fn next_sample(&mut self, shutdown: &Shutdown) -> Result<Option<Sample>, SourceError> {
        loop {
            let Some(line) = self.next_line(shutdown)? else {
                return Ok(None);
            };
            if let Some(sample) = self.parse(&line)? {
                let due = self.pacer.wait_until(sample.t, shutdown);
                return Ok(due.then_some(Sample::Imu(sample)));
            }
        }
    }

    fn expected_rate_hz(&self, modality: Modality) -> Option<f64> {
        let rate = self.options.expected_rate_hz?;
        let speed = self.pacer.pacing().speed().unwrap_or(1.0);
        (modality == Modality::Imu).then_some(rate * speed)
    }

    fn monitor(&self) -> Option<SourceMonitor> {
        self.options.monitor.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(text: &str) -> (tempfile::NamedTempFile, ImuStream) {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        let s = ImuStream::open(f.path(), ImuStreamOptions::recording("imu", 100.0)).unwrap();
        (f, s)
    }

    fn drain(s: &mut ImuStream) -> Vec<Result<ImuSample, String>> {
        let shutdown = Shutdown::new();
        let mut out = Vec::new();
        loop {
            match s.next_sample(&shutdown) {
                Ok(Some(Sample::Imu(x))) => out.push(Ok(x)),
                Ok(_) => return out,
                Err(e) => out.push(Err(e.to_string())),
            }
        }
    }

    #[test]
    fn a_counter_column_sets_the_time_and_a_header_is_skipped() {
        let (_f, mut s) = stream(
            "samples,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n30,1,0,0,10,0,0\n35,0.5,0,0,0,0,-2\n",
        );
        let got = drain(&mut s);
        let x = got[1].as_ref().unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].as_ref().unwrap().gyro, [10.0, 0.0, 0.0]);
        // Counter 35, five after the first, at 100 Hz: 50 ms.
        assert_eq!(
            (x.t, x.acc[0], x.gyro[2]),
            (Timestamp(50_000_000), 0.5, -2.0)
        );
    }

    #[test]
    fn six_values_are_stamped_by_ordinal_and_bad_lines_are_transient() {
        let (_f, mut s) = stream("1,2,3,4,5,6\n1,2,x,4,5,6\n1,2,3\n1,2,3,4,5,6\n");
        let got = drain(&mut s);
        assert_eq!(got.len(), 4);
        let times: Vec<u64> = got
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|x| x.t.0)
            .collect();
        assert_eq!(times, [0, 10_000_000]);
        let errors: Vec<&String> = got.iter().filter_map(|r| r.as_ref().err()).collect();
        assert!(
            errors[0].contains("line 2") && errors[0].contains("`x` is not a number"),
            "{}",
            errors[0]
        );
        assert!(
            errors[1].contains("3 values") && errors[1].ends_with("(transient)"),
            "{}",
            errors[1]
        );
    }
}
