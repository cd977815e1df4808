//! The harness of the `fuzz_*` targets: proptest strategies run against one
//! parser of untrusted bytes. Under `cargo test` a target runs `QUICK_CASES`
//! random cases; with `MMCL_FUZZ_SECONDS=N` it runs rounds of fresh random cases
//! for N seconds and prints how many it executed (docs/fuzzing.md). A panic in the
//! parser is a failure like any other, shrunk to a minimal input.

#![allow(dead_code)]

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::time::Instant;

/// Cases per target in a plain `cargo test`.
pub const QUICK_CASES: u32 = 256;
/// Cases per round of a timed run.
const ROUND_CASES: u32 = 2000;

/// Runs `test` on values of `strategy` (see the module docs); panics with the
/// minimal failing input.
pub fn fuzz<S, F>(name: &str, strategy: S, test: F)
where
    S: Strategy,
    S::Value: std::fmt::Debug,
    F: Fn(S::Value) -> Result<(), TestCaseError>,
{
    let seconds: Option<f64> = std::env::var("MMCL_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok());
    let cases = if seconds.is_some() {
        ROUND_CASES
    } else {
        QUICK_CASES
    };
    let started = Instant::now();
    let mut executions = 0u64;
    loop {
        let config = Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        };
        let mut runner = TestRunner::new(config);
        if let Err(e) = runner.run(&strategy, &test) {
            panic!("fuzz target {name} failed after {executions} executions: {e}");
        }
        executions += u64::from(cases);
        if seconds.is_none_or(|s| started.elapsed().as_secs_f64() >= s) {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "fuzz target {name}: {executions} executions in {secs:.1} s ({:.0}/s), no failure",
        executions as f64 / secs.max(1e-9)
    );
}

/// Bytes mutated the way fuzzers mutate: bit flips, byte overwrites, cuts,
/// duplicated or deleted spans, inserted interesting values.
pub fn mutated(seed: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    let edit = prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, bit)| Edit::Flip(at, bit % 8)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Edit::Set(at, b)),
        any::<usize>().prop_map(Edit::Cut),
        (any::<usize>(), 1usize..64).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<usize>(), 1usize..64).prop_map(|(at, n)| Edit::Repeat(at, n)),
        (any::<usize>(), prop::sample::select(INTERESTING.to_vec()))
            .prop_map(|(at, v)| Edit::Insert(at, v.to_vec())),
    ];
    prop::collection::vec(edit, 0..8).prop_map(move |edits| {
        let mut bytes = seed.clone();
        for e in edits {
            e.apply(&mut bytes);
        }
        bytes
    })
}

/// Byte strings that tend to break parsers: boundaries of integer widths, markers.
const INTERESTING: [&[u8]; 10] = [
    &[0xFF],
    &[0x00],
    &[0x7F, 0xFF],
    &[0xFF, 0xFF, 0xFF, 0xFF],
    &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
    &[0xFF, 0xD9],
    &[0xFF, 0xDA],
    &[0xFF, 0xC0, 0x00, 0x11],
    b"\r\n",
    b"\xEF\xBB\xBF",
];

#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Set(usize, u8),
    Cut(usize),
    Delete(usize, usize),
    Repeat(usize, usize),
    Insert(usize, Vec<u8>),
}

impl Edit {
    fn apply(self, bytes: &mut Vec<u8>) {
        let len = bytes.len();
        let at = |i: usize| if len == 0 { 0 } else { i % len };
        match self {
            Edit::Flip(i, bit) if len > 0 => bytes[at(i)] ^= 1 << bit,
            Edit::Set(i, b) if len > 0 => bytes[at(i)] = b,
            Edit::Cut(i) => bytes.truncate(at(i)),
            Edit::Delete(i, n) if len > 0 => {
                let start = at(i);
                bytes.drain(start..(start + n).min(len));
            }
            Edit::Repeat(i, n) if len > 0 => {
                let start = at(i);
                let span: Vec<u8> = bytes[start..(start + n).min(len)].to_vec();
                bytes.splice(start..start, span);
            }
            Edit::Insert(i, v) => {
                let start = at(i);
                bytes.splice(start..start, v);
            }
            _ => {}
        }
    }
}

/// Counts how often each outcome happened across a run, so a target can show it
/// reaches past the first check (a fuzzer whose inputs all fail to parse tests little).
#[derive(Debug, Default)]
pub struct Outcomes(std::sync::Mutex<std::collections::BTreeMap<&'static str, u64>>);

impl Outcomes {
    pub fn count(&self, outcome: &'static str) {
        if let Ok(mut map) = self.0.lock() {
            *map.entry(outcome).or_default() += 1;
        }
    }

    pub fn print(&self, name: &str) {
        if let Ok(map) = self.0.lock() {
            eprintln!("fuzz target {name} outcomes: {map:?}");
        }
    }
}
