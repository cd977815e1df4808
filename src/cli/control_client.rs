//! What the commands that talk to the running daemon share (`status`, `classes`,
//! `enroll`, `watch`, `forget`, `rename`, `checkpoint`, `snapshot export`): where the
//! socket is (`--socket`, else the `[control] socket` of `--config`, else
//! `/run/mmcl/control.sock`), `--json`, and how an outcome is shown: the result, or with
//! `--json` exactly one JSON document on stdout, the result or `{"error": {"kind",
//! "message"}}`. A refusal the user can fix (a bad name, no such class, a bad profile)
//! exits 2; anything else (no daemon, permission, I/O) exits 1.

use super::CliError;
use crate::config::{Config, ConfigError};
use crate::control::client::{Client, ClientError, DEFAULT_SOCKET};
use crate::control::protocol::Request;
use crate::control::ErrorKind;
use crate::envelope::WriteError;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    /// The daemon's control socket [default: the `[control] socket` of --config, else /run/mmcl/control.sock].
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// The device profile the daemon runs, to find its socket.
    #[arg(long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print exactly one JSON document on stdout: the result, or {"error": {"kind", "message"}}.
    #[arg(long)]
    pub json: bool,
}

/// Why a control command failed.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Profile(#[from] ConfigError),
    #[error("write the snapshot to {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: WriteError,
    },
    /// The user cancelled (a second Ctrl-C during `enroll`).
    #[error("enrollment of {label:?} cancelled; nothing was learned")]
    Cancelled { label: String },
    /// An answer this build cannot read (a daemon of another version).
    #[error("the daemon's answer to `{request}` is not what this mmcl reads")]
    Reply {
        request: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// The daemon ended an enrollment without learning it.
    #[error("enrollment of {label:?} ended {state} before it was learned")]
    Ended { label: String, state: String },
}

impl Failure {
    /// The stable name `--json` prints.
    pub fn kind(&self) -> &'static str {
        match self {
            Failure::Client(e) => e.kind(),
            Failure::Profile(_) => "invalid_profile",
            Failure::Write { .. } => "io",
            Failure::Reply { .. } => "protocol",
            Failure::Cancelled { .. } => "cancelled",
            Failure::Ended { .. } => "failed",
        }
    }

    fn into_cli(self) -> CliError {
        let user_fixable = match &self {
            Failure::Client(ClientError::Refused(e)) => matches!(
                e.kind,
                ErrorKind::BadRequest | ErrorKind::Invalid | ErrorKind::NotFound
            ),
            Failure::Profile(_) => true,
            _ => false,
        };
        match user_fixable {
            true => CliError::Input(self.into()),
            false => CliError::Runtime(self.into()),
        }
    }
}

impl ClientArgs {
    /// The socket to talk to.
    pub fn socket_path(&self) -> Result<PathBuf, Failure> {
        if let Some(path) = &self.socket {
            return Ok(path.clone());
        }
        match &self.config {
            Some(profile) => Ok(Config::load(profile)?.control().socket().to_path_buf()),
            None => Ok(PathBuf::from(DEFAULT_SOCKET)),
        }
    }

    pub fn connect(&self) -> Result<Client, Failure> {
        Ok(Client::connect(&self.socket_path()?)?)
    }

    /// Sends one `request` and shows its reply: with `--json` as the daemon sent it,
    /// else what `human` makes of it read as `T`.
    pub fn ask<T: DeserializeOwned>(
        &self,
        request: Request,
        human: impl FnOnce(T) -> String,
    ) -> Result<(), CliError> {
        let name = request.name();
        let outcome = self.connect().and_then(|mut c| Ok(c.call(request)?));
        self.show(outcome, |v| Ok(human(typed(v, name)?)))
    }

    /// Shows `outcome`: with `--json` the value itself, else what `human` makes of it.
    pub fn show(
        &self,
        outcome: Result<Value, Failure>,
        human: impl FnOnce(Value) -> Result<String, Failure>,
    ) -> Result<(), CliError> {
        let shown = match outcome {
            Ok(value) if self.json => Ok(pretty(&value)),
            Ok(value) => human(value),
            Err(e) => Err(e),
        };
        match shown {
            Ok(text) => super::print_line(&text),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// The exit for `failure`; with `--json` its error document is printed first.
    pub fn fail(&self, failure: Failure) -> CliError {
        if self.json {
            let message = error_chain(&failure);
            let error = serde_json::json!({"error": {"kind": failure.kind(), "message": message}});
            // One line, so `watch --json` stays one object per line to the end.
            let _ = super::print_line(&error.to_string());
            return failure.into_cli().reported();
        }
        failure.into_cli()
    }
}

/// `error: cause: cause`, each source once.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// The daemon's `ok` to `request` read as the report type the human output needs.
pub fn typed<T: DeserializeOwned>(value: Value, request: &'static str) -> Result<T, Failure> {
    serde_json::from_value(value).map_err(|source| Failure::Reply { request, source })
}
