//! Fuzz target: the split list parser (`dataset::list::ParsedLists::add_bytes`,
//! what `Dataset::open` runs) on arbitrary bytes, on near-valid lines and on
//! mutated real lines. Never a panic; every non-blank line is one entry or one
//! error with its line; every entry names a known class folder matching its
//! label, two plain names and bounded counts; messages stay short.

mod fuzz_support;

use fuzz_support::{fuzz, mutated, Outcomes};
use mmcl::dataset::layout::{class_label, CLASS_NAMES};
use mmcl::dataset::list::{ParsedLists, MAX_LISTED};
use mmcl::dataset::Split;
use proptest::prelude::*;
use std::path::Path;

fn part() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(CLASS_NAMES.to_vec()).prop_map(str::to_string),
        "[a-z0-9_]{1,12}",
        prop::sample::select(vec![
            "..",
            ".",
            "",
            "C:",
            "a:b",
            "\0",
            "é",
            "clip\u{7f}",
            "🙂"
        ])
        .prop_map(str::to_string),
    ]
}

fn line() -> impl Strategy<Value = String> {
    let path = prop_oneof![
        prop::collection::vec(part(), 0..5).prop_map(|p| p.join("/")),
        prop::collection::vec(part(), 0..5).prop_map(|p| p.join("\\")),
    ];
    let count = prop_oneof![
        (0usize..100_000).prop_map(|v| v.to_string()),
        any::<u64>().prop_map(|v| v.to_string()),
        prop::sample::select(vec!["-1", "5.5", "1e3", "", "99999999999999999999999"])
            .prop_map(str::to_string),
    ];
    let label = (-3i64..40).prop_map(|v| v.to_string());
    (path, count.clone(), count, label, 0usize..3).prop_map(|(p, f, r, l, extra)| {
        let mut fields = vec![p, f, r, l];
        fields.extend(std::iter::repeat_n("x".to_string(), extra));
        fields.join(" ")
    })
}

fn lines() -> impl Strategy<Value = Vec<u8>> {
    let ending = prop::sample::select(vec!["\n", "\r\n", "\n \n"]);
    prop::collection::vec((line(), ending), 0..30).prop_map(|lines| {
        lines
            .into_iter()
            .flat_map(|(l, e)| (l + e).into_bytes())
            .collect()
    })
}

fn real() -> Vec<u8> {
    b"yourdataset_path/data/3_drinking/3_drinking_2022 418 419 2\n/x/1_upstairs/c1 5 6 0\r\n"
        .to_vec()
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..1000),
        lines(),
        mutated(real()),
    ]
}

#[test]
fn fuzz_list() {
    let outcomes = Outcomes::default();
    fuzz("list", input(), |bytes| {
        let mut parsed = ParsedLists::new();
        parsed.add_bytes(Path::new("l.txt"), Split::Train, &bytes);
        outcomes.count(
            match (parsed.entries.is_empty(), parsed.errors.is_empty()) {
                (false, true) => "all lines good",
                (false, false) => "good and bad lines",
                (true, _) => "no good line",
            },
        );
        let lines = mmcl::fsread::lines(&bytes)
            .filter(|(_, l)| !matches!(l, Ok(t) if t.trim().is_empty()))
            .count();
        prop_assert_eq!(parsed.entries.len() + parsed.errors.len(), lines);
        for e in &parsed.entries {
            prop_assert_eq!(class_label(&e.class_dir), Some(e.label as usize));
            prop_assert!(!e.clip.is_empty() && !e.clip.contains(['/', '\\', ':', '\0']));
            prop_assert!(e.clip != "." && e.clip != "..");
            prop_assert!(e.num_frames <= MAX_LISTED && e.num_sensor_rows <= MAX_LISTED);
        }
        for e in &parsed.errors {
            prop_assert!(e.line().is_some());
            prop_assert!(e.to_string().len() < 600, "long message: {}", e);
        }
        Ok(())
    });
    outcomes.print("list");
}
