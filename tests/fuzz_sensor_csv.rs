//! Fuzz target: the sensor CSV parser (`dataset::sensor::scan_sensor_csv`, which
//! `parse_sensor_csv` and `dataset check` both run) on arbitrary bytes, on
//! near-valid rows and on mutated real rows. Never a panic; every kept row is
//! finite and within `MAX_ABS_COUNT`; every non-blank line is a row or a bad row;
//! at most `REPORTED_ROWS` bad rows are described; messages stay short.

mod fuzz_support;

use fuzz_support::{fuzz, mutated, Outcomes};
use mmcl::dataset::sensor::{scan_sensor_csv, to_imu_samples, MAX_ABS_COUNT, REPORTED_ROWS};
use mmcl::dataset::DatasetError;
use proptest::prelude::*;
use std::path::Path;

fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        (-40000i64..40000).prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| v.to_string()),
        (-1e7f64..1e7).prop_map(|v| format!("{v:e}")),
        prop::sample::select(vec![
            "nan", "inf", "-inf", "1e300", "-3e38", "", " ", "x", "+5", "0x10", "1_000", "١٢",
        ])
        .prop_map(str::to_string),
    ]
}

fn rows() -> impl Strategy<Value = Vec<u8>> {
    let row = prop::collection::vec(cell(), 0..9).prop_map(|cells| cells.join(","));
    let ending = prop::sample::select(vec!["\n", "\r\n", "\n\n", "\r"]);
    (prop::collection::vec((row, ending), 0..40), any::<bool>()).prop_map(|(rows, bom)| {
        let mut text = if bom {
            "\u{feff}".to_string()
        } else {
            String::new()
        };
        for (row, end) in rows {
            text += &row;
            text += end;
        }
        text.into_bytes()
    })
}

fn real() -> Vec<u8> {
    "8192,0,-8192,16.4,0,-164\n-12,8190,33,0.5,-1,2\n"
        .repeat(6)
        .into_bytes()
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2000),
        rows(),
        mutated(real()),
    ]
}

fn non_blank_lines(bytes: &[u8]) -> usize {
    mmcl::fsread::lines(bytes)
        .filter(|(_, l)| !matches!(l, Ok(t) if t.trim().is_empty()))
        .count()
}

#[test]
fn fuzz_sensor_csv() {
    let outcomes = Outcomes::default();
    fuzz("sensor_csv", input(), |bytes| {
        let scan = scan_sensor_csv(Path::new("s.csv"), &bytes);
        outcomes.count(match (scan.rows.is_empty(), scan.errors.is_empty()) {
            (false, true) => "all rows good",
            (false, false) => "good and bad rows",
            (true, _) => "no good row",
        });
        for row in &scan.rows {
            prop_assert!(row
                .iter()
                .all(|v| v.is_finite() && v.abs() <= MAX_ABS_COUNT));
        }
        let described = scan.errors.iter().filter(|e| e.line().is_some()).count();
        let more: usize = (scan.errors.iter())
            .map(|e| match e {
                DatasetError::More { count, .. } => *count,
                _ => 0,
            })
            .sum();
        prop_assert!(described <= REPORTED_ROWS);
        let empty = matches!(scan.errors.as_slice(), [DatasetError::EmptySensor { .. }]);
        let lines = non_blank_lines(&bytes);
        prop_assert_eq!(scan.rows.len() + described + more, lines);
        prop_assert_eq!(empty, lines == 0);
        for e in &scan.errors {
            prop_assert!(e.to_string().len() < 400, "long message: {}", e);
        }
        let samples = to_imu_samples(&scan.rows);
        prop_assert!(samples
            .iter()
            .all(|s| s.channels().iter().all(|v| v.is_finite())));
        Ok(())
    });
    outcomes.print("sensor_csv");
}
