//! Crash test: a child process (this test binary, re-run on its ignored child test) appends
//! journal records and checkpoints snapshots in a loop, printing each sequence number once
//! `append` has returned; the parent SIGKILLs it at random moments, then recovers the state
//! directory and checks that it loads, that every acknowledged append is present (in the
//! snapshot or replayed), and that every record and section read back is exactly what was
//! written (a torn file is never trusted). A SIGKILL rarely tears a write (the kernel finishes
//! the copy; the kill lands in fsync), so after every fourth kill the parent also appends a
//! prefix of a real record to the journal, the torn write of an append that was never
//! acknowledged, which recovery must cut. The counts are printed (`--nocapture`).

use mmcl::envelope;
use mmcl::learn::rng::Rng;
use mmcl::store::journal::{FORMAT, FORMAT_VERSION};
use mmcl::store::{Sections, StateDir, Warning, JOURNAL_NAME};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const SHA: &str = "feedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedface";
const CHILD_DIR: &str = "MMCL_CRASH_CHILD_DIR";
const CHILD_TEST: &str = "child_appends_and_checkpoints_until_killed";
const KILLS: usize = 120;
/// A checkpoint after every this many appends.
const CHECKPOINT_EVERY: u64 = 5;

/// Record `seq`'s payload: up to 192 KiB, so that a kill can land inside its write.
fn payload(seq: u64) -> Vec<u8> {
    let mut rng = Rng::new(seq);
    let len = 1 + rng.below(192 << 10) as usize;
    (0..len).map(|_| rng.next_u64() as u8).collect()
}

/// The sections of the snapshot that includes the journal through `seq`.
fn sections(seq: u64) -> Sections {
    let mut rng = Rng::new(!seq);
    let learner = (0..(256 << 10)).map(|_| rng.next_u64() as u8).collect();
    Sections::new()
        .with("learner", learner)
        .with("counters", seq.to_le_bytes().to_vec())
}

#[test]
#[ignore = "the crash test's child process; killed_at_random_points_the_state_always_recovers runs it"]
fn child_appends_and_checkpoints_until_killed() {
    let dir =
        std::env::var_os(CHILD_DIR).expect("run only by the crash test, with MMCL_CRASH_CHILD_DIR");
    let (mut state, _) = StateDir::open(Path::new(&dir), SHA, 2).expect("child recovers");
    let mut out = std::io::stdout().lock();
    loop {
        let seq = state
            .append(&payload(state.last_seq() + 1))
            .expect("append");
        writeln!(out, "ack {seq}")
            .and_then(|()| out.flush())
            .expect("stdout");
        if seq % CHECKPOINT_EVERY == 0 {
            state.checkpoint(seq, sections(seq)).expect("checkpoint");
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    kills: usize,
    acked: usize,
    recovered_records: usize,
    journal_cuts: usize,
    cut_bytes: u64,
    simulated_torn_tails: usize,
    skipped_snapshots: usize,
    removed_temps: usize,
}

#[test]
fn killed_at_random_points_the_state_always_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(20261201);
    let mut counts = Counts::default();
    let mut highest_acked = 0;
    while counts.kills < KILLS {
        let acked = run_and_kill(dir.path(), Duration::from_micros(rng.below(60_000)));
        counts.kills += 1;
        counts.acked += acked.len();
        highest_acked = acked.iter().copied().max().unwrap_or(0).max(highest_acked);
        let torn = match counts.kills % 4 {
            0 => tear(dir.path(), highest_acked + 1, &mut rng),
            _ => 0,
        };
        counts.simulated_torn_tails += usize::from(torn > 0);
        check_recovery(dir.path(), highest_acked, torn, &mut counts);
    }
    println!("crash test: {counts:?}, highest acknowledged seq {highest_acked}");
    assert!(counts.acked > 0, "the child never acknowledged an append");
}

/// Runs the child for `after`, SIGKILLs it, returns the sequence numbers it acknowledged.
fn run_and_kill(dir: &Path, after: Duration) -> Vec<u64> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([CHILD_TEST, "--exact", "--ignored", "--nocapture"])
        .env(CHILD_DIR, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the child");
    let stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| l.strip_prefix("ack ").and_then(|s| s.parse::<u64>().ok()))
            .collect::<Vec<u64>>()
    });
    std::thread::sleep(after);
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("wait");
    assert!(!status.success(), "the child ended by itself: {status}");
    reader.join().expect("reader")
}

/// Appends a strict prefix of record `seq` to the journal; returns its length.
fn tear(dir: &Path, seq: u64, rng: &mut Rng) -> u64 {
    let mut body = seq.to_le_bytes().to_vec();
    body.extend(payload(seq));
    let record = envelope::seal(&FORMAT, FORMAT_VERSION, &body);
    let torn = &record[..1 + rng.below(record.len() as u64 - 1) as usize];
    let mut journal = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join(JOURNAL_NAME))
        .expect("journal exists after a run");
    journal.write_all(torn).expect("tear");
    torn.len() as u64
}

fn check_recovery(dir: &Path, highest_acked: u64, torn: u64, counts: &mut Counts) {
    let (state, recovery) = StateDir::open(dir, SHA, 2).expect("the state loads after a kill");
    let base = match &recovery.snapshot {
        None => 0,
        Some(stored) => {
            let seq = stored.snapshot.journal_seq;
            assert_eq!(
                stored.snapshot.sections,
                sections(seq),
                "snapshot through {seq}"
            );
            seq
        }
    };
    for (i, record) in recovery.records.iter().enumerate() {
        assert_eq!(
            record.seq,
            base + 1 + i as u64,
            "records follow the snapshot"
        );
        assert!(
            record.payload == payload(record.seq),
            "record {} read back altered",
            record.seq
        );
    }
    let last = base + recovery.records.len() as u64;
    assert_eq!(state.last_seq(), last);
    assert!(
        last >= highest_acked,
        "acknowledged {highest_acked}, recovered through {last}"
    );
    assert!(recovery.strays.is_empty(), "{:?}", recovery.strays);
    let cut: u64 = recovery
        .warnings
        .iter()
        .map(|w| match w {
            Warning::JournalCut { bytes, .. } => *bytes,
            _ => 0,
        })
        .sum();
    assert!(cut >= torn, "a torn tail of {torn} bytes, {cut} cut");
    counts.recovered_records += recovery.records.len();
    counts.removed_temps += recovery.removed_temps.len();
    for warning in &recovery.warnings {
        match warning {
            Warning::JournalCut { bytes, .. } => {
                counts.journal_cuts += 1;
                counts.cut_bytes += bytes;
            }
            Warning::SkippedSnapshot(_) => counts.skipped_snapshots += 1,
            Warning::JournalGap { .. } => panic!("{warning}"),
        }
    }
}
