//! `mmcl config check FILE [--json]`: checks a profile, resolves it against the
//! encoder it names (`config::Settings`: window shape, budget, audio) and prints
//! the effective configuration (every default filled in, every path resolved) as
//! TOML, or every error and warning. With `--json`: `{"path", "ok", "config" | null,
//! "errors": [{"key", "value", "message"}], "warnings": [...]}`; parse errors
//! add `line` and `column` and have `key`/`value` null. Exit 2 on any error.

use super::{diag, print_line, print_out, CliError};
use crate::config::{Config, ConfigError, Issue, RawConfig, Settings, SettingsError};
use anyhow::anyhow;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The TOML profile to check (e.g. firmware-config/jetson-orin.toml).
    pub file: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The `--json` report; field names are stable (DESIGN.md).
#[derive(Debug, serde::Serialize)]
struct Report {
    path: String,
    ok: bool,
    config: Option<RawConfig>,
    errors: Vec<ReportError>,
    warnings: Vec<Issue>,
}

#[derive(Debug, serde::Serialize)]
struct ReportError {
    key: Option<String>,
    value: Option<String>,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<usize>,
}

impl From<Issue> for ReportError {
    fn from(issue: Issue) -> ReportError {
        ReportError {
            key: Some(issue.key),
            value: Some(issue.value),
            message: issue.message,
            line: None,
            column: None,
        }
    }
}

pub fn run(args: Args) -> Result<(), CliError> {
    let report = check(&args);
    if args.json {
        super::print_json(&report)?;
    } else {
        print_text(&report)?;
    }
    match report.errors.len() {
        0 => Ok(()),
        n => {
            let e = CliError::Input(anyhow!(
                "{}: {n} configuration error{}",
                report.path,
                if n == 1 { "" } else { "s" }
            ));
            Err(if args.json { e.reported() } else { e })
        }
    }
}

fn check(args: &Args) -> Report {
    let path = args.file.display().to_string();
    let mut report = Report {
        path,
        ok: false,
        config: None,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    match Config::load(&args.file) {
        Ok(config) => {
            report.warnings = config.warnings().to_vec();
            resolve(config, &mut report);
        }
        Err(ConfigError::Invalid { errors, .. }) => {
            report.errors = errors.errors.into_iter().map(ReportError::from).collect();
            report.warnings = errors.warnings;
        }
        Err(ConfigError::Parse {
            line,
            column,
            message,
            ..
        }) => {
            report.errors.push(ReportError {
                key: None,
                value: None,
                message,
                line: Some(line),
                column: Some(column),
            });
        }
        Err(e @ ConfigError::Io { .. }) => {
            report.errors.push(ReportError {
                key: None,
                value: None,
                message: e.to_string(),
                line: None,
                column: None,
            });
        }
    }
    report
}

/// Resolves a loaded profile against its encoder, recording what that refuses.
fn resolve(config: Config, report: &mut Report) {
    match Settings::resolve(config) {
        Ok(settings) => {
            report.ok = true;
            report.warnings.extend(settings.warnings().iter().cloned());
            report.config = Some(settings.to_raw());
        }
        Err(SettingsError::Invalid { errors, .. }) => {
            report.errors = errors.errors.into_iter().map(ReportError::from).collect();
        }
        Err(e @ SettingsError::Model(_)) => report.errors.push(ReportError {
            key: Some("encoder.model".into()),
            value: None,
            message: e.to_string(),
            line: None,
            column: None,
        }),
    }
}

/// Text form: the effective TOML on stdout and warnings on stderr when the
/// profile is good (so stdout reloads as a profile); the list of errors otherwise.
fn print_text(report: &Report) -> Result<(), CliError> {
    for w in &report.warnings {
        diag(&format!("warning: {w}"));
    }
    if let Some(config) = &report.config {
        let text = toml::to_string_pretty(config).map_err(|e| CliError::Runtime(e.into()))?;
        print_line(&format!(
            "# effective configuration of {} (defaults filled in, paths resolved)",
            report.path
        ))?;
        return print_out(&text);
    }
    for e in &report.errors {
        match (&e.key, &e.value, e.line, e.column) {
            (Some(key), Some(value), _, _) => {
                print_line(&format!("error: {key} = {value}: {}", e.message))?
            }
            (_, _, Some(line), Some(column)) => print_line(&format!(
                "error: {}:{line}:{column}: {}",
                report.path, e.message
            ))?,
            _ => print_line(&format!("error: {}", e.message))?,
        }
    }
    Ok(())
}
