//! Raw sensor CSV: one row per video frame, no header, six columns of raw MPU
//! counts (acc x y z, gyro x y z). This module parses rows into `RawRow`s and
//! turns a clip's rows into `ImuSample`s: counts -> g and °/s, a median filter
//! per channel (the reference loader's kernel 5), and nominal timestamps
//! `i / NOMINAL_RATE_HZ` (the files carry no time column).
//!
//! `scan_sensor_csv` is the one parser: it keeps going past a bad row so `dataset
//! check` can list every bad row (the first `REPORTED_ROWS`, then a count), and
//! `parse_sensor_csv` (what `embed` reads through) stops at its first error. A row
//! is refused when it is longer than `MAX_ROW_BYTES` (before it is split), not
//! UTF-8, or holds a value beyond `MAX_ABS_COUNT`: a 16-bit sensor reads ±32768,
//! and values near f32's range turn into infinities once converted and filtered.

use super::error::{excerpt, DatasetError, RowProblem};
use super::layout::{ACC_COUNTS_PER_G, GYRO_COUNTS_PER_DPS, MEDIAN_KERNEL, NOMINAL_RATE_HZ};
use super::median::median_filter;
use crate::sample::ImuSample;
use crate::time::Timestamp;
use std::path::Path;

/// One CSV row in raw counts: acc x y z, gyro x y z. Always finite, at most
/// `MAX_ABS_COUNT` in magnitude.
pub type RawRow = [f64; 6];

/// The largest raw count accepted: 32 times a 16-bit sensor's range, so rescaled or
/// interpolated counts pass while values no sensor reads (1e300) do not.
pub const MAX_ABS_COUNT: f64 = 1_048_576.0;
/// The longest row accepted: six numbers take well under 100 bytes.
pub const MAX_ROW_BYTES: usize = 1024;
/// How many bad rows `scan_sensor_csv` describes before it only counts them.
pub const REPORTED_ROWS: usize = 10;

/// What scanning a whole sensor file found.
#[derive(Debug, Default)]
pub struct SensorScan {
    /// The good rows, in file order.
    pub rows: Vec<RawRow>,
    /// The first `REPORTED_ROWS` bad rows, then one `More` counting the rest; or
    /// one `EmptySensor` when the file has no rows at all.
    pub errors: Vec<DatasetError>,
}

/// Parses every row of a sensor file's bytes, keeping the good rows and describing
/// the bad ones. Blank lines are skipped (a trailing newline is common).
pub fn scan_sensor_csv(path: &Path, bytes: &[u8]) -> SensorScan {
    let mut scan = SensorScan::default();
    let mut bad = 0usize;
    for (line, text) in crate::fsread::lines(bytes) {
        let row = match text {
            Ok(text) if text.trim().is_empty() => continue,
            Ok(text) => parse_row(text),
            Err(b) => Err(RowProblem::NotUtf8 {
                column: b.offset + 1,
            }),
        };
        match row {
            Ok(row) => scan.rows.push(row),
            Err(problem) => {
                bad += 1;
                if bad <= REPORTED_ROWS {
                    let path = path.to_path_buf();
                    scan.errors.push(DatasetError::SensorRow {
                        path,
                        line,
                        problem,
                    });
                }
            }
        }
    }
    scan.finish(path, bad);
    scan
}

impl SensorScan {
    fn finish(&mut self, path: &Path, bad: usize) {
        let path = path.to_path_buf();
        if bad > REPORTED_ROWS {
            let count = bad - REPORTED_ROWS;
            let what = "bad rows";
            self.errors.push(DatasetError::More { path, count, what });
        } else if bad == 0 && self.rows.is_empty() {
            self.errors.push(DatasetError::EmptySensor { path });
        }
    }
}

/// Parses a whole sensor file's text; the first bad row (or an empty file) is the error.
pub fn parse_sensor_csv(path: &Path, text: &str) -> Result<Vec<RawRow>, DatasetError> {
    let scan = scan_sensor_csv(path, text.as_bytes());
    match scan.errors.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(scan.rows),
    }
}

/// Reads a sensor file (a regular file within `fsread::SENSOR_CSV`) and parses it.
pub fn read_sensor_csv(path: &Path) -> Result<Vec<RawRow>, DatasetError> {
    let scan = scan_sensor_file(path)?;
    match scan.errors.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(scan.rows),
    }
}

/// Reads a sensor file and scans every row; errors only when it cannot be read.
pub fn scan_sensor_file(path: &Path) -> Result<SensorScan, DatasetError> {
    let bytes = crate::fsread::read(path, crate::fsread::SENSOR_CSV)
        .map_err(|e| DatasetError::io(path, "read sensor file", e))?;
    Ok(scan_sensor_csv(path, &bytes))
}

/// One row: exactly six comma-separated finite numbers within `MAX_ABS_COUNT`
/// (integers or floats, spaces around cells allowed).
pub fn parse_row(line: &str) -> Result<RawRow, RowProblem> {
    if line.len() > MAX_ROW_BYTES {
        let (bytes, max) = (line.len(), MAX_ROW_BYTES);
        return Err(RowProblem::TooLong { bytes, max });
    }
    let got = line.split(',').count();
    if got != 6 {
        return Err(RowProblem::ColumnCount { got });
    }
    let mut row = [0.0; 6];
    for (i, (slot, cell)) in row.iter_mut().zip(line.split(',')).enumerate() {
        *slot = parse_cell(i + 1, cell.trim())?;
    }
    Ok(row)
}

fn parse_cell(column: usize, cell: &str) -> Result<f64, RowProblem> {
    let value: f64 = cell.parse().map_err(|_| RowProblem::NotNumeric {
        column,
        cell: excerpt(cell),
    })?;
    // `f64::from_str` accepts "NaN" and "inf"; a sensor never reports them.
    if !value.is_finite() {
        let cell = excerpt(cell);
        return Err(RowProblem::NotFinite { column, cell });
    }
    if value.abs() > MAX_ABS_COUNT {
        let (cell, max) = (excerpt(cell), MAX_ABS_COUNT as u32);
        return Err(RowProblem::OutOfRange { column, cell, max });
    }
    Ok(value)
}

/// Raw counts to physical units: (acc in g, gyro in °/s).
pub fn to_units(row: &RawRow) -> ([f32; 3], [f32; 3]) {
    let acc = [0, 1, 2].map(|c| (row[c] / f64::from(ACC_COUNTS_PER_G)) as f32);
    let gyro = [3, 4, 5].map(|c| (row[c] / f64::from(GYRO_COUNTS_PER_DPS)) as f32);
    (acc, gyro)
}

/// The timestamp of sensor row `i`: `i / NOMINAL_RATE_HZ` seconds from the clip start.
pub fn row_time(i: usize) -> Timestamp {
    Timestamp::from_secs_f64(i as f64 / NOMINAL_RATE_HZ)
}

/// A clip's rows as IMU samples: converted to units, median-filtered per channel
/// with kernel `MEDIAN_KERNEL` (edges shrink the window, see `median`), row `i` at `row_time(i)`.
pub fn to_imu_samples(rows: &[RawRow]) -> Vec<ImuSample> {
    let units: Vec<[f32; 6]> = rows.iter().map(to_channels).collect();
    let filtered: Vec<Vec<f32>> = (0..6)
        .map(|c| {
            median_filter(
                &units.iter().map(|u| u[c]).collect::<Vec<f32>>(),
                MEDIAN_KERNEL,
            )
        })
        .collect();
    // Every filtered channel has `rows.len()` values (the filter keeps lengths).
    (0..rows.len())
        .map(|i| {
            let v = |c: usize| filtered[c][i];
            ImuSample {
                t: row_time(i),
                acc: [v(0), v(1), v(2)],
                gyro: [v(3), v(4), v(5)],
            }
        })
        .collect()
}

/// A row in units, in channel order (acc x y z, gyro x y z).
fn to_channels(row: &RawRow) -> [f32; 6] {
    let (a, g) = to_units(row);
    [a[0], a[1], a[2], g[0], g[1], g[2]]
}

/// Reads a sensor file into IMU samples.
pub fn load_imu(path: &Path) -> Result<Vec<ImuSample>, DatasetError> {
    Ok(to_imu_samples(&read_sensor_csv(path)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse_sensor_csv(Path::new("s.csv"), text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn parses_ints_floats_and_spaces() {
        let rows = parse_sensor_csv(
            Path::new("s.csv"),
            "1,2,3,4,5,6\n 8192 , -8192.0,0.5, 16.4,1e2,-0\n\n",
        )
        .unwrap();
        assert_eq!(
            rows,
            vec![
                [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                [8192.0, -8192.0, 0.5, 16.4, 100.0, 0.0]
            ]
        );
        let (acc, gyro) = to_units(&rows[1]);
        assert_eq!(acc, [1.0, -1.0, 0.5 / 8192.0]);
        assert_eq!(gyro, [1.0, (100.0 / 16.4) as f32, 0.0]);
    }

    #[test]
    fn names_line_column_and_cell() {
        assert_eq!(
            err("1,2,3,4,5,6\n1,2,3,4,5\n"),
            "s.csv:2: expected 6 comma-separated columns (acc x y z, gyro x y z), got 5"
        );
        assert_eq!(
            err("1,2,3,4,5,6,\n"),
            "s.csv:1: expected 6 comma-separated columns (acc x y z, gyro x y z), got 7"
        );
        assert_eq!(
            err("\n1,2,x3,4,5,6\n"),
            "s.csv:2: column 3: `x3` is not a number"
        );
        assert_eq!(err("1,2,3,4,,6"), "s.csv:1: column 5: `` is not a number");
        assert_eq!(
            err("1,2,3,NaN,5,6"),
            "s.csv:1: column 4: `NaN` is not finite"
        );
        assert_eq!(
            err("1,2,3,4,5,-inf"),
            "s.csv:1: column 6: `-inf` is not finite"
        );
        assert_eq!(err(""), "s.csv: sensor file has no rows");
        assert_eq!(err(" \n\n"), "s.csv: sensor file has no rows");
    }

    #[test]
    fn samples_are_timed_at_the_nominal_rate_and_filtered() {
        // Rows 0..5 on acc x: 0, 8192 (spike), 0, 0, 0; other channels constant.
        let rows: Vec<RawRow> = [0.0, 8192.0, 0.0, 0.0, 0.0]
            .iter()
            .map(|&x| [x, 8192.0, 0.0, 16.4, 0.0, 0.0])
            .collect();
        let s = to_imu_samples(&rows);
        assert_eq!(s.len(), 5);
        assert_eq!(s[1].t, Timestamp(40_000_000));
        assert_eq!(s[4].t, Timestamp(160_000_000));
        // The spike at row 1 is removed: window {0, 1, 0} (edge, shrunk) has median 0.
        assert_eq!(s.iter().map(|x| x.acc[0]).collect::<Vec<_>>(), [0.0; 5]);
        assert!(s.iter().all(|x| x.acc[1] == 1.0 && x.gyro[0] == 1.0));
    }
}
