//! The daemon-level crash campaign: `mmcl run` (a child process, replay profile at 20x on
//! the tiny encoder, in a temp dir) is SIGKILLed 120 times while a driver works it through
//! the control socket as `mmcl enroll` and `mmcl checkpoint` do. Each kill falls in one of
//! three phases, in turn (and every third kill of the journal and snapshot phases is made
//! at a named point instead of a random delay: the daemon paused there by its test fault
//! injection, `MMCL_FAULT_PAUSE`, src/daemon/fault.rs):
//!
//! - **capture**: an enrollment is capturing windows (killed 0-300 ms after `enroll_start`);
//! - **journal**: a completed capture's `enroll_stop` is in flight (learn on a copy, journal
//!   append + fsync, publish, reply), killed at a random delay scaled to how long an
//!   acknowledged commit takes, or paused after learning and before the append (it must be
//!   absent after the restart) or after the append's fsync and before the reply (it must be
//!   present);
//! - **snapshot**: a `checkpoint` is in flight (snapshot temp file, fsync, rename, journal
//!   truncation), killed the same way, or paused before the snapshot is written.
//!
//! After each kill the daemon is started again on the same state directory: it must start
//! (the state always loads), and its classes must be exactly the acknowledged enrollments
//! (name, class id, windows summed over enrollments of that name) plus, at most, the one
//! enrollment whose `enroll_stop` was cut off, whole (all its windows) or not at all: no
//! class with zero windows, no duplicate name or id, nothing from a capture never stopped.
//! The seed is printed (`MMCL_CRASH_SEED` replays one); so are the counts per phase and
//! where on disk the snapshot-phase kills landed (`--nocapture`).
#![cfg(feature = "tract")]

mod daemon_support;

use daemon_support::{
    enroll_start, progress, sigkill, status, synth, until_complete, Daemon, Layout,
};
use mmcl::control::api::{CheckpointReport, ClassRow, ClassesReport, EnrollOutcome};
use mmcl::control::protocol::{EnrollmentId, Request};
use mmcl::control::Client;
use mmcl::learn::rng::Rng;
use mmcl::store::{Journal, SnapshotStore, JOURNAL_NAME};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const KILLS: usize = 120;
const SEED: u64 = 20261208;
const LABELS: [&str; 8] = [
    "walking",
    "running",
    "cycling",
    "typing",
    "reading",
    "cooking",
    "stairs up",
    "stairs down",
];

/// One class as the driver expects it after a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Known {
    class: u32,
    windows: u64,
}

/// An `enroll_stop` whose reply never came: it may be durable, whole, or absent.
struct CutOff {
    label: String,
    windows: u64,
    /// Killed at a pause point: whether it must be durable (after the journal's fsync).
    must_be_durable: Option<bool>,
}

/// The pause point's variable (`src/daemon/fault.rs`).
const PAUSE_VAR: &str = "MMCL_FAULT_PAUSE";
/// How long a paused daemon is given to reach its point before the kill.
const TO_THE_POINT: Duration = Duration::from_millis(400);

#[derive(Debug, Default)]
struct Counts {
    capture_kills: usize,
    capture_windows_discarded: usize,
    journal_kills: usize,
    journal_acked_then_killed: usize,
    journal_cut_off_absent: usize,
    journal_cut_off_durable: usize,
    journal_paused_before_append: usize,
    journal_paused_after_fsync: usize,
    snapshot_kills: usize,
    snapshot_acked_then_killed: usize,
    snapshot_paused_before_write: usize,
    snapshot_none_new: usize,
    snapshot_temp_left: usize,
    snapshot_written_journal_untruncated: usize,
    snapshot_written_complete: usize,
    acknowledged_enrollments: usize,
    restarts_verified: usize,
}

/// What the driver knows and how long the daemon's commits take (to aim the kills).
struct Driver {
    rng: Rng,
    known: BTreeMap<String, Known>,
    counts: Counts,
    commit_ms: f64,
    checkpoint_ms: f64,
}

#[test]
fn sigkill_during_enrollment_journal_and_snapshot_loses_no_acknowledged_enrollment() {
    let seed = std::env::var("MMCL_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SEED);
    println!("daemon crash campaign: seed {seed} (MMCL_CRASH_SEED={seed} replays it)");
    let root = tempfile::tempdir().expect("temp dir");
    let layout = Layout::under(root.path());
    synth(&layout.data, 4, 3);
    layout.write_profile(20.0, "checkpoint_changes = 3\nsnapshots_kept = 2");
    let mut d = Driver {
        rng: Rng::new(seed),
        known: BTreeMap::new(),
        counts: Counts::default(),
        commit_ms: 5.0,
        checkpoint_ms: 5.0,
    };
    let t0 = Instant::now();
    let mut cut_off: Option<CutOff> = None;
    for kill in 0..KILLS {
        // Every third kill of a phase stops the daemon at a named point first.
        let (phase, mode) = (kill % 3, (kill / 3) % 3);
        let pause = match (phase, mode) {
            (1, 1) => Some("enroll-learned"),
            (1, 2) => Some("enroll-journaled"),
            (2, 2) => Some("snapshot-sections"),
            _ => None,
        };
        let env: Vec<(&str, &str)> = pause.iter().map(|p| (PAUSE_VAR, *p)).collect();
        let mut daemon = Daemon::spawn(&layout, &env);
        let mut client = daemon.ready(&layout);
        d.verify(&mut client, cut_off.take(), &layout);
        let snapshot_before = status(&mut client).snapshot_seq;
        cut_off = match phase {
            0 => d.kill_during_capture(client, daemon),
            1 => d.kill_during_commit(client, daemon, pause),
            _ => d.kill_during_checkpoint(client, daemon, &layout, snapshot_before, pause),
        };
    }
    let mut daemon = Daemon::spawn(&layout, &[]);
    let mut client = daemon.ready(&layout);
    d.verify(&mut client, cut_off.take(), &layout);
    drop(client);
    let clean = daemon.terminate();
    println!(
        "{KILLS} kills in {:.0} s; {:#?}",
        t0.elapsed().as_secs_f64(),
        d.counts
    );
    println!("classes at the end: {:?}", d.known);
    assert!(clean.success(), "SIGTERM after the campaign: {clean}");
    assert!(d.counts.acknowledged_enrollments >= 20, "{:?}", d.counts);
    assert!(d.counts.journal_cut_off_absent + d.counts.journal_cut_off_durable > 0);
}

impl Driver {
    /// Checks the restarted daemon's classes against what was acknowledged (see the module
    /// docs); a cut-off enrollment found whole joins what is known.
    fn verify(&mut self, client: &mut Client, cut_off: Option<CutOff>, layout: &Layout) {
        let report: ClassesReport = client.call_as(Request::Classes).expect("classes");
        let rows = report.classes;
        let expected = format!("{:?}", self.known);
        let context = || format!("classes {rows:?}, expected {expected}");
        let mut ids: Vec<u32> = rows.iter().map(|r| r.label).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), rows.len(), "duplicate class id: {}", context());
        let mut seen = BTreeMap::new();
        for row in &rows {
            assert!(row.windows > 0, "a class with no window: {}", context());
            let again = seen.insert(row.name.clone(), row);
            assert!(again.is_none(), "duplicate name: {}", context());
        }
        for (name, k) in &self.known {
            let row = seen.get(name).unwrap_or_else(|| {
                panic!(
                    "acknowledged {name:?} lost: {}\n{}",
                    context(),
                    layout.log_text()
                )
            });
            assert_eq!(row.label, k.class, "{name:?} changed id: {}", context());
        }
        let durable = self.durable_cut_off(&seen, cut_off.as_ref(), &context);
        if let Some(c) = cut_off {
            if let Some(must) = c.must_be_durable {
                assert_eq!(
                    durable,
                    must,
                    "{:?} killed at its pause point: {}",
                    c.label,
                    context()
                );
            }
            self.counts.journal_cut_off_durable += usize::from(durable);
            self.counts.journal_cut_off_absent += usize::from(!durable);
            if durable {
                let row = seen[&c.label];
                self.known.insert(c.label, known(row));
            }
        }
        assert_eq!(seen.len(), self.known.len(), "{}", context());
        self.counts.restarts_verified += 1;
    }

    /// Whether the cut-off enrollment is present (whole); panics on anything that is
    /// neither what was acknowledged nor that plus the whole cut-off enrollment.
    fn durable_cut_off(
        &self,
        seen: &BTreeMap<String, &ClassRow>,
        cut_off: Option<&CutOff>,
        context: &dyn Fn() -> String,
    ) -> bool {
        let mut durable = false;
        for (name, row) in seen {
            let acked = self.known.get(name).map_or(0, |k| k.windows);
            let pending = cut_off.filter(|c| &c.label == name).map(|c| c.windows);
            match pending {
                Some(w) if row.windows == acked + w => durable = true,
                _ => assert_eq!(
                    row.windows,
                    acked,
                    "{name:?}: not the acknowledged windows, nor them plus the whole cut-off enrollment: {}",
                    context()
                ),
            }
        }
        durable
    }

    fn label(&mut self) -> String {
        LABELS[self.rng.below(LABELS.len() as u64) as usize].to_string()
    }

    /// Phase 1: SIGKILL while an enrollment captures windows.
    fn kill_during_capture(&mut self, mut client: Client, daemon: Daemon) -> Option<CutOff> {
        let label = self.label();
        let started = enroll_start(&mut client, &label, None);
        std::thread::sleep(Duration::from_micros(self.rng.below(300_000)));
        let captured = progress(&mut client, started.id).windows;
        daemon.kill();
        self.counts.capture_kills += 1;
        self.counts.capture_windows_discarded += captured;
        None
    }

    /// Phase 2: SIGKILL while `enroll_stop` commits (learn, journal append + fsync, reply),
    /// at a random delay or at the daemon's `pause` point.
    fn kill_during_commit(
        &mut self,
        mut client: Client,
        daemon: Daemon,
        pause: Option<&str>,
    ) -> Option<CutOff> {
        let label = self.label();
        let seconds = 2.0 + self.rng.uniform() * 2.0;
        let started = enroll_start(&mut client, &label, Some(seconds));
        let windows = until_complete(&mut client, started.id);
        let delay = pause.map_or_else(|| self.aim(self.commit_ms), |_| TO_THE_POINT);
        let stop = Request::EnrollStop(EnrollmentId {
            enrollment: started.id,
        });
        let (reply, took) = killed_after(&daemon, delay, || client.call_as::<EnrollOutcome>(stop));
        daemon.kill();
        self.counts.journal_kills += 1;
        let must_be_durable = pause.map(|p| p == "enroll-journaled");
        match must_be_durable {
            Some(true) => self.counts.journal_paused_after_fsync += 1,
            Some(false) => self.counts.journal_paused_before_append += 1,
            None => {}
        }
        let Ok(outcome) = reply else {
            return Some(CutOff {
                label,
                windows: windows as u64,
                must_be_durable,
            });
        };
        assert!(pause.is_none(), "a reply from a daemon paused at {pause:?}");
        self.commit_ms = 0.8 * self.commit_ms + 0.2 * took;
        self.counts.journal_acked_then_killed += 1;
        self.acknowledged(&label, &outcome, windows);
        None
    }

    fn acknowledged(&mut self, label: &str, outcome: &EnrollOutcome, windows: usize) {
        assert_eq!((outcome.label.as_str(), outcome.windows), (label, windows));
        let before = self.known.get(label).map_or(0, |k| k.windows);
        assert_eq!(outcome.new_class, before == 0, "{outcome:?}");
        self.known.insert(
            label.to_string(),
            Known {
                class: outcome.class,
                windows: before + windows as u64,
            },
        );
        self.counts.acknowledged_enrollments += 1;
    }

    /// Phase 3: SIGKILL while a `checkpoint` writes a snapshot and truncates the journal;
    /// where it landed is read off the state directory before the restart.
    fn kill_during_checkpoint(
        &mut self,
        mut client: Client,
        daemon: Daemon,
        layout: &Layout,
        before: Option<u64>,
        pause: Option<&str>,
    ) -> Option<CutOff> {
        // Give the snapshot something to fold in: one acknowledged enrollment first.
        let label = self.label();
        let started = enroll_start(&mut client, &label, Some(2.0));
        let windows = until_complete(&mut client, started.id);
        let stop = Request::EnrollStop(EnrollmentId {
            enrollment: started.id,
        });
        let outcome: EnrollOutcome = client.call_as(stop).expect("enroll_stop");
        self.acknowledged(&label, &outcome, windows);
        let delay = pause.map_or_else(|| self.aim(self.checkpoint_ms), |_| TO_THE_POINT);
        let (reply, took) = killed_after(&daemon, delay, || {
            client.call_as::<CheckpointReport>(Request::Checkpoint)
        });
        daemon.kill();
        self.counts.snapshot_kills += 1;
        self.counts.snapshot_paused_before_write += usize::from(pause.is_some());
        assert!(
            pause.is_none() || reply.is_err(),
            "a checkpoint past its pause point"
        );
        if reply.is_ok() {
            self.checkpoint_ms = 0.8 * self.checkpoint_ms + 0.2 * took;
            self.counts.snapshot_acked_then_killed += 1;
        }
        self.classify_snapshot_kill(layout, before);
        None
    }

    /// A delay spread over [0, 2 * `typical_ms`]: the kill lands before, inside and after.
    fn aim(&mut self, typical_ms: f64) -> Duration {
        Duration::from_secs_f64(self.rng.uniform() * 2.0 * typical_ms.max(0.5) * 1e-3)
    }

    fn classify_snapshot_kill(&mut self, layout: &Layout, before: Option<u64>) {
        let listing = SnapshotStore::open(&layout.state, 2)
            .and_then(|s| s.list())
            .expect("list the state directory");
        let newest = listing.snapshots.last().copied();
        if !listing.temps.is_empty() {
            self.counts.snapshot_temp_left += 1;
        } else if newest <= before {
            self.counts.snapshot_none_new += 1;
        } else if journal_includes_newest(layout, newest) {
            self.counts.snapshot_written_journal_untruncated += 1;
        } else {
            self.counts.snapshot_written_complete += 1;
        }
    }
}

/// Whether the journal still holds records the newest snapshot already includes (a kill
/// between the snapshot's rename and the journal's truncation). Read on a copy: opening
/// the journal cuts a torn tail, which is recovery's job.
fn journal_includes_newest(layout: &Layout, newest: Option<u64>) -> bool {
    let Some(seq) = newest else { return false };
    let name = mmcl::store::snapshot_name(seq);
    let bytes = std::fs::read(layout.state.join(name)).expect("read the newest snapshot");
    let (_, snapshot) = mmcl::store::decode(&bytes).expect("the newest snapshot decodes");
    let copy = tempfile::tempdir().expect("temp dir");
    let journal = copy.path().join(JOURNAL_NAME);
    if std::fs::copy(layout.state.join(JOURNAL_NAME), &journal).is_err() {
        return false;
    }
    let (_, replay) = Journal::open(&journal, snapshot.journal_seq).expect("read the journal");
    replay.already_included > 0
}

fn known(row: &ClassRow) -> Known {
    Known {
        class: row.label,
        windows: row.windows,
    }
}

/// Runs `call` while a thread SIGKILLs the daemon after `delay`; returns the call's result
/// and how long it took (ms).
fn killed_after<T>(daemon: &Daemon, delay: Duration, call: impl FnOnce() -> T) -> (T, f64) {
    let pid = daemon.pid;
    let killer = std::thread::spawn(move || {
        std::thread::sleep(delay);
        sigkill(pid);
    });
    let t0 = Instant::now();
    let out = call();
    let took = t0.elapsed().as_secs_f64() * 1e3;
    killer.join().expect("the killer thread");
    (out, took)
}
