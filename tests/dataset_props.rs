//! Property tests for the dataset parsers: arbitrary input never panics, and
//! valid generated input round-trips (list fields; CSV counts -> units).

use mmcl::dataset::jpeg::read_dimensions;
use mmcl::dataset::layout::{ACC_COUNTS_PER_G, CLASS_NAMES, GYRO_COUNTS_PER_DPS};
use mmcl::dataset::list::ParsedLists;
use mmcl::dataset::median::median_filter;
use mmcl::dataset::sensor::{parse_sensor_csv, to_units};
use mmcl::dataset::Split;
use proptest::prelude::*;
use std::path::Path;

fn non_blank_lines(text: &str) -> usize {
    text.lines().filter(|l| !l.trim().is_empty()).count()
}

/// A raw count as the sensor writes it: an integer, or a float with a fraction.
fn cell() -> impl Strategy<Value = (f64, String)> {
    prop_oneof![
        (-32768i32..=32767).prop_map(|v| (f64::from(v), v.to_string())),
        (-32768i32..=32767, 0u32..100).prop_map(|(v, f)| {
            let text = format!("{v}.{f:02}");
            (text.parse().unwrap(), text)
        }),
    ]
}

proptest! {
    #[test]
    fn csv_parser_never_panics(text in "\\PC{0,300}|[0-9,. \\n\\-eNaIinf]{0,300}") {
        if let Ok(rows) = parse_sensor_csv(Path::new("p.csv"), &text) {
            prop_assert_eq!(rows.len(), non_blank_lines(&text));
            prop_assert!(rows.iter().flatten().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn csv_rows_round_trip_to_units(rows in prop::collection::vec(prop::collection::vec(cell(), 6), 1..20),
                                    spaced in any::<bool>()) {
        let sep = if spaced { " , " } else { "," };
        let text: String = rows.iter().map(|r| r.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>().join(sep) + "\n").collect();
        let parsed = parse_sensor_csv(Path::new("p.csv"), &text).unwrap();
        prop_assert_eq!(parsed.len(), rows.len());
        for (got, want) in parsed.iter().zip(&rows) {
            let raw: Vec<f64> = want.iter().map(|(v, _)| *v).collect();
            prop_assert_eq!(got.to_vec(), raw.clone());
            let (acc, gyro) = to_units(got);
            for c in 0..3 {
                prop_assert!((f64::from(acc[c]) - raw[c] / f64::from(ACC_COUNTS_PER_G)).abs() < 1e-6);
                prop_assert!((f64::from(gyro[c]) - raw[c + 3] / f64::from(GYRO_COUNTS_PER_DPS)).abs() < 1e-4);
            }
        }
    }

    #[test]
    fn list_parser_never_panics(text in "\\PC{0,300}|[0-9a-z_/. \\n\\-]{0,300}") {
        let mut parsed = ParsedLists::new();
        parsed.add(Path::new("l.txt"), Split::Train, &text);
        // Every non-blank line is either an entry or exactly one error.
        prop_assert_eq!(parsed.entries.len() + parsed.errors.len(), non_blank_lines(&text));
        prop_assert!(parsed.errors.iter().all(|e| e.line().is_some()));
    }

    #[test]
    fn valid_list_lines_round_trip(
        lines in prop::collection::vec((0usize..32, "[a-z0-9_]{1,12}", 0usize..100_000, 0usize..100_000, "[a-z_]{0,8}"), 1..20)
    ) {
        let text: String = lines.iter().enumerate()
            .map(|(i, (label, clip, f, r, prefix))| format!("{prefix}/{}/{clip}{i} {f} {r} {label}\n", CLASS_NAMES[*label]))
            .collect();
        let mut parsed = ParsedLists::new();
        parsed.add(Path::new("l.txt"), Split::Test, &text);
        prop_assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        for (i, (e, (label, clip, f, r, _))) in parsed.entries.iter().zip(&lines).enumerate() {
            prop_assert_eq!(e.line, i + 1);
            prop_assert_eq!(e.label as usize, *label);
            prop_assert_eq!(&e.class_dir, CLASS_NAMES[*label]);
            prop_assert_eq!(&e.clip, &format!("{clip}{i}"));
            prop_assert_eq!((e.num_frames, e.num_sensor_rows), (*f, *r));
        }
    }

    #[test]
    fn jpeg_header_reader_never_panics(mut bytes in prop::collection::vec(any::<u8>(), 0..200), soi in any::<bool>()) {
        if soi {
            bytes.splice(0..0, [0xFF, 0xD8, 0xFF]);
        }
        let _ = read_dimensions(&mut std::io::Cursor::new(bytes));
    }

    #[test]
    fn median_outputs_are_window_medians(x in prop::collection::vec(-100.0f32..100.0, 0..40)) {
        let y = median_filter(&x, 5);
        prop_assert_eq!(y.len(), x.len());
        for (i, v) in y.iter().enumerate() {
            let r = 2.min(i).min(x.len() - 1 - i);
            let window = &x[i - r..=i + r];
            let below = window.iter().filter(|w| *w < v).count();
            let above = window.iter().filter(|w| *w > v).count();
            // A median of an odd window: no more than half strictly on either side.
            prop_assert!(window.contains(v) && below <= r && above <= r);
        }
    }
}

/// The one problem of a one-line list.
fn list_problem(bytes: &[u8]) -> String {
    let mut parsed = ParsedLists::new();
    parsed.add_bytes(Path::new("l.txt"), Split::Train, bytes);
    assert!(parsed.entries.is_empty(), "{:?}", parsed.entries);
    match &parsed.errors[..] {
        [e] => e.to_string(),
        other => panic!("expected one error, got {other:?}"),
    }
}

#[test]
fn list_lines_that_are_not_utf8_are_errors_at_their_line() {
    let mut parsed = ParsedLists::new();
    let bytes = b"\xEF\xBB\xBF1_upstairs/a 1 1 0\n1_upstairs/b\xff 1 1 0\n1_upstairs/c 1 1 0\n";
    parsed.add_bytes(Path::new("l.txt"), Split::Train, bytes);
    let clips: Vec<&str> = parsed.entries.iter().map(|e| e.clip.as_str()).collect();
    assert_eq!(clips, ["a", "c"], "a BOM is not part of the first path");
    let e = parsed.errors[0].to_string();
    assert_eq!(
        e,
        "l.txt:2: line is not UTF-8 text (invalid byte at column 13) in `1_upstairs/b\u{FFFD} 1 1 0`"
    );
}

#[test]
fn list_counts_over_a_day_at_25_hz_are_refused() {
    let e = list_problem(b"1_upstairs/a 1 2160001 0");
    assert_eq!(
        e,
        "l.txt:1: num_sensor_rows 2160001 is over 2160000, a day of recording at 25 Hz in `1_upstairs/a 1 2160001 0`"
    );
    assert!(list_problem(b"1_upstairs/a 99999999999999999999999 1 0")
        .contains("not a non-negative integer"));
}

#[test]
fn a_flood_of_fields_or_slashes_is_one_short_error() {
    let fields = "x ".repeat(1 << 20);
    let e = list_problem(fields.as_bytes());
    assert!(e.starts_with("l.txt:1: expected 4 fields"), "{e}");
    assert!(e.contains("got 1048576"), "{e}");
    assert!(e.len() < 300, "{} bytes", e.len());
    let slashes = format!("{}/1_upstairs/a 1 1 0", "/".repeat(1 << 20));
    let parsed = {
        let mut p = ParsedLists::new();
        p.add(Path::new("l.txt"), Split::Train, &slashes);
        p
    };
    assert_eq!(parsed.entries.len(), 1, "a long prefix is only remapped");
}

#[test]
fn sensor_values_beyond_raw_counts_and_overlong_rows_are_refused() {
    let err = |text: &str| {
        parse_sensor_csv(Path::new("s.csv"), text)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err("1,2,3,4,5,6\n1e300,0,0,0,0,0\n"),
        "s.csv:2: column 1: `1e300` is outside ±1048576, beyond any raw sensor count (a 16-bit MPU reads ±32768)"
    );
    assert!(parse_sensor_csv(Path::new("s.csv"), "1048576,-1048576,0,0,0,0").is_ok());
    let long = "1,".repeat(600);
    assert_eq!(
        err(&long),
        "s.csv:1: row is 1200 bytes long, over the 1024-byte limit of a row"
    );
    let scan = mmcl::dataset::sensor::scan_sensor_csv(Path::new("s.csv"), b"1,2,3,4,5,\xff6\n");
    assert_eq!(
        scan.errors[0].to_string(),
        "s.csv:1: row is not UTF-8 text (invalid byte at column 11)"
    );
}
