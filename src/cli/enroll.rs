//! `mmcl enroll LABEL [--seconds N | --clips N] [--json]`: teaches the running daemon a
//! class. It captures the windows the pipeline encodes from now on (for N seconds of
//! stream, or until Ctrl-C; on a replay profile `--clips N`: the next N whole clips of
//! class LABEL, each learned as its windows' mean, as `bench cl` learns a clip), then
//! learns them and prints "learned LABEL from N windows in X ms; now knows K
//! classes" (`--json`: the daemon's outcome). A progress bar of the windows captured goes
//! to stderr when it is a terminal. Ctrl-C ends capture early and learns what was
//! captured; a second Ctrl-C cancels (nothing is learned), if the daemon still can.

use super::control_client::{typed, ClientArgs, Failure};
use super::{diag, CliError};
use crate::control::api::{EnrollOutcome, EnrollProgress};
use crate::control::client::Client;
use crate::control::protocol::{EnrollStart, EnrollmentId, Request};
use crate::control::sys;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The class the captured windows are learned as (new, or one the daemon knows).
    pub label: String,
    /// Seconds of stream to capture [default: until Ctrl-C].
    #[arg(long, value_name = "N", conflicts_with = "clips")]
    pub seconds: Option<f64>,
    /// Replay only: the next N whole clips of class LABEL that play, each learned as the
    /// mean of its windows (what `mmcl bench cl` trains on).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub clips: Option<u32>,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// How often progress is asked for, and Ctrl-C looked at.
const POLL: Duration = Duration::from_millis(100);

pub fn run(args: Args) -> Result<(), CliError> {
    let outcome = enroll(&args).and_then(|o| serde_json::to_value(o).map_err(reply));
    args.client.show(outcome, |v| {
        let o: EnrollOutcome = typed(v, "enroll_stop")?;
        Ok(format!(
            "learned {} from {} windows in {:.0} ms; now knows {} classes",
            o.label, o.windows, o.learn_ms, o.classes
        ))
    })
}

fn reply(source: serde_json::Error) -> Failure {
    Failure::Reply {
        request: "enroll_stop",
        source,
    }
}

/// Captures and learns as the command does; `mmcl demo` enrolls through it too.
pub(super) fn enroll(args: &Args) -> Result<EnrollOutcome, Failure> {
    let path = args.client.socket_path()?;
    let mut client = Client::connect(&path)?;
    if let Err(e) = sys::count_interrupts() {
        diag(&format!(
            "warning: Ctrl-C cannot be caught ({e}); it will end mmcl, not the capture"
        ));
    }
    let start = EnrollStart {
        label: args.label.clone(),
        seconds: args.seconds,
        clips: args.clips,
    };
    let started: EnrollProgress = client.call_as(Request::EnrollStart(start))?;
    let bar = progress_bar(args.seconds);
    let captured = capture(&mut client, started, &bar);
    bar.finish_and_clear();
    let captured = captured?;
    let id = EnrollmentId {
        enrollment: captured.id,
    };
    match captured.state.as_str() {
        "cancelled" | "failed" => Err(Failure::Ended {
            label: captured.label,
            state: captured.state,
        }),
        _ if sys::interrupts() >= 2 => cancel_now(&mut client, id, &captured.label),
        _ => learn(client, &path, id, &captured),
    }
}

/// Polls progress until the target is reached, the daemon ends capture, or Ctrl-C.
fn capture(
    client: &mut Client,
    started: EnrollProgress,
    bar: &ProgressBar,
) -> Result<EnrollProgress, Failure> {
    let id = EnrollmentId {
        enrollment: started.id,
    };
    let mut progress = started;
    loop {
        show(bar, &progress);
        let reached = progress
            .target_seconds
            .is_some_and(|t| progress.seconds >= t);
        if reached || progress.state != "capturing" || sys::interrupts() > 0 {
            return Ok(progress);
        }
        std::thread::sleep(POLL);
        progress = client.call_as(Request::EnrollProgress(id))?;
    }
}

fn cancel_now(
    client: &mut Client,
    id: EnrollmentId,
    label: &str,
) -> Result<EnrollOutcome, Failure> {
    client.call(Request::EnrollCancel(id))?;
    Err(Failure::Cancelled {
        label: label.to_string(),
    })
}

/// Asks the daemon to learn, on a thread of its own so that a second Ctrl-C meanwhile
/// can send `enroll_cancel` on a second connection.
fn learn(
    client: Client,
    path: &Path,
    id: EnrollmentId,
    captured: &EnrollProgress,
) -> Result<EnrollOutcome, Failure> {
    let terminal = std::io::stderr().is_terminal();
    if terminal {
        diag(&format!(
            "learning {} from {} windows (Ctrl-C again to cancel)",
            captured.label, captured.windows
        ));
    }
    let (done, learned) = crossbeam_channel::bounded(1);
    let mut client = client;
    std::thread::spawn(move || {
        let _ = done.send(client.call_as::<EnrollOutcome>(Request::EnrollStop(id)));
    });
    let mut cancelled = false;
    loop {
        match learned.recv_timeout(POLL) {
            Ok(Ok(outcome)) => return Ok(outcome),
            Ok(Err(_)) if cancelled => {
                return Err(Failure::Cancelled {
                    label: captured.label.clone(),
                })
            }
            Ok(Err(e)) => return Err(e.into()),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                return Err(crate::control::ClientError::Closed {
                    path: path.to_path_buf(),
                }
                .into())
            }
        }
        if !cancelled && sys::interrupts() >= 2 {
            cancelled = send_cancel(path, id);
        }
    }
}

/// True when the daemon took the cancel; when it refuses (too late), says why and the
/// learn goes on.
fn send_cancel(path: &Path, id: EnrollmentId) -> bool {
    let answer = Client::connect(path).and_then(|mut c| c.call(Request::EnrollCancel(id)));
    match answer {
        Ok(_) => true,
        Err(e) => {
            diag(&format!("could not cancel: {e}"));
            false
        }
    }
}

fn progress_bar(target: Option<f64>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let (bar, template) = match target {
        // Tenths of a second, so short enrollments still move the bar.
        Some(t) => (
            ProgressBar::new((t * 10.0).ceil() as u64),
            "{msg} [{bar:30}] {elapsed}",
        ),
        None => (
            ProgressBar::new_spinner(),
            "{spinner} {msg} (Ctrl-C to learn) {elapsed}",
        ),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    if target.is_none() {
        bar.enable_steady_tick(Duration::from_millis(120));
    }
    bar
}

fn show(bar: &ProgressBar, p: &EnrollProgress) {
    bar.set_position((p.seconds * 10.0) as u64);
    bar.set_message(format!(
        "{}: {} windows, {:.1} s",
        p.label, p.windows, p.seconds
    ));
}
