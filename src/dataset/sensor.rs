//! Raw sensor CSV: one row per video frame, no header, six columns of raw MPU
//! counts (acc x y z, gyro x y z). This module parses rows into `RawRow`s and
//! turns a clip's rows into `ImuSample`s: counts -> g and °/s, a median filter
//! per channel (the reference loader's kernel 5), and nominal timestamps
//! `i / NOMINAL_RATE_HZ` (the files carry no time column).

use super::error::{DatasetError, RowProblem};
use super::layout::{ACC_COUNTS_PER_G, GYRO_COUNTS_PER_DPS, MEDIAN_KERNEL, NOMINAL_RATE_HZ};
use super::median::median_filter;
use crate::sample::ImuSample;
use crate::time::Timestamp;
use std::path::Path;

/// One CSV row in raw counts: acc x y z, gyro x y z. Always finite.
pub type RawRow = [f64; 6];

/// Parses a whole sensor file's text. Blank lines are skipped (a trailing
/// newline is common); the first bad row ends parsing with its line number.
pub fn parse_sensor_csv(path: &Path, text: &str) -> Result<Vec<RawRow>, DatasetError> {
    let mut rows = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row = parse_row(line).map_err(|problem| DatasetError::SensorRow {
            path: path.to_path_buf(),
            line: index + 1,
            problem,
        })?;
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(DatasetError::EmptySensor {
            path: path.to_path_buf(),
        });
    }
    Ok(rows)
}

/// Reads and parses a sensor file (bytes that are not UTF-8 show up as non-numeric cells).
pub fn read_sensor_csv(path: &Path) -> Result<Vec<RawRow>, DatasetError> {
    let bytes = std::fs::read(path).map_err(|e| DatasetError::io(path, "read sensor file", e))?;
    parse_sensor_csv(path, &String::from_utf8_lossy(&bytes))
}

/// One row: exactly six comma-separated finite numbers (integers or floats,
/// spaces around cells allowed).
pub fn parse_row(line: &str) -> Result<RawRow, RowProblem> {
    let cells: Vec<&str> = line.split(',').map(str::trim).collect();
    if cells.len() != 6 {
        return Err(RowProblem::ColumnCount { got: cells.len() });
    }
    let mut row = [0.0; 6];
    for (i, (slot, cell)) in row.iter_mut().zip(&cells).enumerate() {
        let column = i + 1;
        let value: f64 = cell.parse().map_err(|_| RowProblem::NotNumeric {
            column,
            cell: cell.to_string(),
        })?;
        // `f64::from_str` accepts "NaN" and "inf"; a sensor never reports them.
        if !value.is_finite() {
            return Err(RowProblem::NotFinite {
                column,
                cell: cell.to_string(),
            });
        }
        *slot = value;
    }
    Ok(row)
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
