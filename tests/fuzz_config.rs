//! Fuzz target: device profiles (`Config::parse`, what `Config::load` and `mmcl
//! config check` run after the capped read) on mutated shipped profiles, on
//! generated key = value lines and on arbitrary text. Never a panic; a parse
//! error points at a line and column inside the text.

mod fuzz_support;

use fuzz_support::{fuzz, mutated, Outcomes};
use mmcl::config::{Config, ConfigError};
use proptest::prelude::*;
use std::path::Path;

fn profiles() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut texts = Vec::new();
    for dir in ["firmware-config", "tests/data/config"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                texts.push(std::fs::read(path).unwrap());
            }
        }
    }
    texts
}

fn generated() -> impl Strategy<Value = Vec<u8>> {
    let key = prop::sample::select(vec![
        "profile",
        "state_dir",
        "[window]",
        "seconds",
        "stride_seconds",
        "[learner]",
        "budget",
        "strategy",
        "[encoder]",
        "backend",
        "threads",
        "[sources.replay]",
        "dataset",
        "[channels]",
        "[control]",
        "socket",
    ]);
    let value = prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| v.to_string()),
        "\"[ -~]{0,20}\"",
        prop::sample::select(vec![
            "nan",
            "inf",
            "-0",
            "1e308",
            "true",
            "[]",
            "{}",
            "\"\"",
            "\"1.5MiB\""
        ])
        .prop_map(str::to_string),
    ];
    prop::collection::vec((key, value), 0..20).prop_map(|lines| {
        let mut text = String::new();
        for (k, v) in lines {
            text += &if k.starts_with('[') {
                format!("{k}\n")
            } else {
                format!("{k} = {v}\n")
            };
        }
        text.into_bytes()
    })
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    let seeds = profiles();
    let mutated_profile = prop::sample::select(seeds).prop_flat_map(mutated);
    prop_oneof![
        mutated_profile,
        generated(),
        prop::collection::vec(any::<u8>(), 0..500),
    ]
}

#[test]
fn fuzz_config() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("firmware-config/fuzz.toml");
    let outcomes = Outcomes::default();
    fuzz("config", input(), |bytes| {
        let Ok(text) = std::str::from_utf8(&bytes) else {
            outcomes.count("not utf-8");
            return Ok(()); // `Config::load` refuses non-UTF-8 before parsing
        };
        match Config::parse(text, &path) {
            Err(ConfigError::Parse { line, column, .. }) => {
                outcomes.count("parse error");
                prop_assert!(line >= 1 && column >= 1);
                let lines = text.lines().count();
                prop_assert!(line <= lines + 1, "line {} of {}", line, lines);
            }
            Err(_) => outcomes.count("invalid values"),
            Ok(_) => outcomes.count("valid"),
        }
        Ok(())
    });
    outcomes.print("config");
}
