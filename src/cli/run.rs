//! `mmcl run --config FILE`: the daemon (`crate::daemon`), in the foreground, as systemd
//! runs it (`systemd/mmcl.service`). `--state-dir`, `--socket`, `--dataset` and `--speed`
//! override the profile, so a test or a desktop user can run a device profile in a temp
//! dir. SIGTERM or SIGINT stop it cleanly (drain, final snapshot, exit 0); SIGHUP reloads
//! the profile and applies what can change live, refusing the rest by name.

use super::profile_args::{absolute, print_settings, settings_error, EncoderArgs};
use super::{diag, CliError};
use crate::config::{Config, RawConfig, Settings};
use crate::daemon::{self, log, Notifier, StartOptions};
use crate::shutdown::Shutdown;
use anyhow::anyhow;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The device profile (TOML), e.g. firmware-config/desktop-replay.toml.
    #[arg(long = "config", value_name = "FILE")]
    pub config: PathBuf,
    /// Where snapshots and the journal live (overrides `state_dir`).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// The control socket (overrides `[control] socket`).
    #[arg(long)]
    pub socket: Option<PathBuf>,
    /// The dataset a replay profile plays (overrides `[sources.replay] dataset`).
    #[arg(long)]
    pub dataset: Option<PathBuf>,
    /// Replay speed, 1 = real time (overrides `[sources.replay] speed`).
    #[arg(long)]
    pub speed: Option<f64>,
    #[command(flatten)]
    pub encoder: EncoderArgs,
    /// Print the effective settings as TOML, then exit.
    #[arg(long)]
    pub print_config: bool,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let settings = settings(&args)?;
    if args.print_config {
        return print_settings(&settings);
    }
    let shutdown = Shutdown::new();
    let notifier = Notifier::from_env();
    // Installed before the start, so a SIGTERM while the state recovers or the pipeline
    // starts is held for the signal thread rather than killing the process.
    let signals = signals::install()?;
    let running = daemon::start(
        settings,
        StartOptions {
            notifier,
            control_socket: true,
        },
        shutdown.clone(),
    )
    .map_err(|e| CliError::Runtime(e.into()))?;
    let signals = signals::watch(signals, &args, running.daemon().clone(), shutdown)?;
    let summary = running.wait().map_err(|e| CliError::Runtime(e.into()))?;
    signals.close();
    log(&format!(
        "stopped after {} windows; {} classes; snapshot {}",
        summary.windows,
        summary.classes,
        summary
            .snapshot_seq
            .map_or("none".into(), |s| s.to_string())
    ));
    Ok(())
}

/// The profile with the flags applied, resolved against its encoder.
fn settings(args: &Args) -> Result<Settings, CliError> {
    let config = load(args)?;
    for w in config.warnings() {
        diag(&format!("warning: {w}"));
    }
    let settings = Settings::resolve(config).map_err(settings_error)?;
    for w in settings.warnings() {
        diag(&format!("warning: {w}"));
    }
    Ok(settings)
}

fn load(args: &Args) -> Result<Config, CliError> {
    let mut no_replay = false;
    let config = Config::load_with(Some(&args.config), |raw: &mut RawConfig| {
        if let Some(dir) = &args.state_dir {
            raw.state_dir = Some(absolute(dir));
        }
        if let Some(socket) = &args.socket {
            raw.control.socket = Some(absolute(socket));
        }
        match raw.sources.replay.as_mut() {
            Some(replay) => {
                if let Some(d) = &args.dataset {
                    replay.dataset = Some(absolute(d));
                }
                if let Some(s) = args.speed {
                    replay.speed = Some(s);
                }
            }
            None => no_replay = args.dataset.is_some() || args.speed.is_some(),
        }
        args.encoder.apply(&mut raw.encoder);
    })
    .map_err(|e| CliError::Input(e.into()))?;
    if no_replay {
        return Err(CliError::Input(anyhow!(
            "--dataset and --speed need a replay profile; {} has no [sources.replay]",
            args.config.display()
        )));
    }
    Ok(config)
}

mod signals {
    //! The signal thread: SIGTERM and SIGINT trigger the shutdown; SIGHUP reloads.
    use super::{load, Args, CliError};
    use crate::daemon::{log, Daemon};
    use crate::shutdown::Shutdown;
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    use signal_hook::iterator::{Handle, Signals};
    use std::sync::Arc;

    pub struct Watching(Handle);

    impl Watching {
        pub fn close(self) {
            self.0.close();
        }
    }

    /// Catches SIGTERM, SIGINT and SIGHUP from now on; `watch` acts on them.
    pub fn install() -> Result<Signals, CliError> {
        Signals::new([SIGTERM, SIGINT, SIGHUP])
            .map_err(|e| CliError::Runtime(anyhow::anyhow!("install signal handlers: {e}")))
    }

    pub fn watch(
        mut signals: Signals,
        args: &Args,
        daemon: Arc<Daemon>,
        shutdown: Shutdown,
    ) -> Result<Watching, CliError> {
        let handle = signals.handle();
        let reload_args = ReloadArgs::from(args);
        std::thread::Builder::new()
            .name("mmcl-signals".into())
            .spawn(move || {
                for signal in signals.forever() {
                    match signal {
                        SIGHUP => reload(&reload_args, &daemon),
                        _ => {
                            log("stopping (signal)");
                            shutdown.trigger();
                        }
                    }
                }
            })
            .map_err(|e| CliError::Runtime(anyhow::anyhow!("start the signal thread: {e}")))?;
        Ok(Watching(handle))
    }

    /// What a reload needs of the command line (the same overrides as at start).
    struct ReloadArgs(Args);

    impl From<&Args> for ReloadArgs {
        fn from(a: &Args) -> ReloadArgs {
            ReloadArgs(Args {
                config: a.config.clone(),
                state_dir: a.state_dir.clone(),
                socket: a.socket.clone(),
                dataset: a.dataset.clone(),
                speed: a.speed,
                encoder: a.encoder.clone(),
                print_config: false,
            })
        }
    }

    fn reload(args: &ReloadArgs, daemon: &Daemon) {
        match load(&args.0) {
            Err(e) => log(&format!("reload refused: {e}; the running settings stay")),
            Ok(config) => {
                let r = daemon.reload(&config);
                if !r.refused.is_empty() {
                    log(&format!(
                        "reload: {} changed but need a restart; not applied",
                        r.refused.join(", ")
                    ));
                }
                match r.applied.is_empty() {
                    true => log("reload: nothing to apply"),
                    false => log(&format!("reload: applied {}", r.applied.join(", "))),
                }
            }
        }
    }
}
