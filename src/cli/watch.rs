//! `mmcl watch [--all] [--json]`: the running daemon's predictions as they happen, one
//! line each time the smoothed prediction changes, or with `--all` one per window. With
//! `--json`, one JSON object per line (the daemon's events as sent: `{"event": "changed",
//! ...}`; `--all` adds the `window` events). Runs until Ctrl-C, or until the daemon stops
//! (exit 1) or stdout is closed (exit 0: `mmcl watch | head` is fine).

use super::control_client::ClientArgs;
use super::CliError;
use crate::control::api::{Event, PredictionEvent};
use crate::control::ClientError;
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print every window's prediction, not only changes.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub client: ClientArgs,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let subscribed = args
        .client
        .socket_path()
        .and_then(|path| Ok((args.client.connect()?.subscribe()?, path)));
    let (mut events, path) = subscribed.map_err(|e| args.client.fail(e))?;
    let stdout = std::io::stdout();
    loop {
        let event = match events.next_event() {
            Ok(Some(event)) => event,
            Ok(None) => return Err(args.client.fail(ClientError::Closed { path }.into())),
            Err(e) => return Err(args.client.fail(e.into())),
        };
        let Some(line) = line(&args, &event) else {
            continue;
        };
        if writeln!(stdout.lock(), "{line}").is_err() {
            return Ok(());
        }
    }
}

/// The line `event` prints, if this mode prints it.
fn line(args: &Args, event: &Event) -> Option<String> {
    let json = args.client.json;
    let shown = match event {
        Event::Lagged { .. } => true,
        // With `--all` a person reads the change in the window's own line.
        Event::Changed(_) => !args.all || json,
        Event::Window(_) => args.all,
    };
    if !shown {
        return None;
    }
    if json {
        return serde_json::to_string(event).ok();
    }
    Some(match event {
        Event::Window(p) | Event::Changed(p) => prediction(p),
        Event::Lagged { missed } => format!("(missed {missed} events: this terminal fell behind)"),
    })
}

fn prediction(p: &PredictionEvent) -> String {
    let class = p.class.as_deref().unwrap_or("(none)");
    let raw = p.raw.as_deref().unwrap_or("(none)");
    let truth = p
        .true_class
        .as_deref()
        .map_or(String::new(), |t| format!("  true {t}"));
    format!(
        "window {:>6}  {class} {:.2}  raw {raw} {:.2}  [{}]  {:.1} ms{truth}",
        p.window,
        p.confidence,
        p.raw_confidence,
        p.present.join("+"),
        p.latency_ms
    )
}
