//! The demo's daemon: the real service, `mmcl run --config PROFILE` as a child process
//! of this binary, on a profile the demo writes next to its state (so a user can run the
//! same daemon by hand). Its log goes to a file, as journald would keep it; it is stopped
//! with SIGTERM, the signal systemd sends, which drains it and writes the final snapshot.

use crate::cli::CliError;
use crate::config::Settings;
use crate::control::api::StatusReport;
use crate::control::protocol::Request;
use crate::control::Client;
use anyhow::anyhow;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a started daemon may take to answer `status` as running (it loads the
/// encoder and waits for the first sample).
const READY_WITHIN: Duration = Duration::from_secs(120);
/// How long a stopped daemon may take to drain and write its final snapshot.
const STOP_WITHIN: Duration = Duration::from_secs(60);
/// How often readiness and exit are looked at.
const POLL: Duration = Duration::from_millis(50);

/// A running `mmcl run` child. Dropping it without `stop` sends SIGTERM anyway, so an
/// error in the demo never leaves a daemon behind.
pub struct ServiceProcess {
    child: Option<Child>,
    pub socket: PathBuf,
    pub log: PathBuf,
    pub profile: PathBuf,
}

/// How a stop went: the exit status, the time it took, and the daemon's peak resident
/// memory (`VmHWM`) just before the signal.
pub struct Stopped {
    pub status: ExitStatus,
    pub ms: f64,
    pub peak_rss_bytes: u64,
}

impl ServiceProcess {
    /// Writes `settings`' profile to `profile`, starts `mmcl run --config profile` with
    /// its log appended to `log`, and waits until its socket says it is running.
    pub fn start(
        settings: &Settings,
        profile: &Path,
        log: &Path,
    ) -> Result<ServiceProcess, CliError> {
        let text = (settings.config().to_toml()).map_err(|e| CliError::Runtime(e.into()))?;
        write(profile, &text)?;
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| {
                CliError::Runtime(anyhow!("open the daemon log {}: {e}", log.display()))
            })?;
        let exe = std::env::current_exe().map_err(|e| {
            CliError::Runtime(anyhow!("find this mmcl binary to run the daemon: {e}"))
        })?;
        let child = Command::new(exe)
            .arg("run")
            .arg("--config")
            .arg(profile)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .map_err(|e| {
                CliError::Runtime(anyhow!(
                    "start `mmcl run --config {}`: {e}",
                    profile.display()
                ))
            })?;
        let mut service = ServiceProcess {
            child: Some(child),
            socket: settings.config().control().socket().to_path_buf(),
            log: log.to_path_buf(),
            profile: profile.to_path_buf(),
        };
        service.await_running()?;
        Ok(service)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Polls `status` until the daemon says "running"; fails if it exits first.
    fn await_running(&mut self) -> Result<(), CliError> {
        let started = Instant::now();
        while started.elapsed() < READY_WITHIN {
            if let Some(status) = self.exited()? {
                return Err(CliError::Runtime(anyhow!(
                    "the daemon exited during start-up ({status}); its log: {}",
                    self.log.display()
                )));
            }
            let running = Client::connect(&self.socket)
                .and_then(|mut c| c.call_as::<StatusReport>(Request::Status))
                .is_ok_and(|s| s.state == "running");
            if running {
                return Ok(());
            }
            std::thread::sleep(POLL);
        }
        Err(CliError::Runtime(anyhow!(
            "the daemon did not report running within {} s; its log: {}",
            READY_WITHIN.as_secs(),
            self.log.display()
        )))
    }

    fn exited(&mut self) -> Result<Option<ExitStatus>, CliError> {
        let Some(child) = self.child.as_mut() else {
            return Ok(None);
        };
        child
            .try_wait()
            .map_err(|e| CliError::Runtime(anyhow!("look at the daemon (pid {}): {e}", child.id())))
    }

    /// Sends SIGTERM and waits for the exit (SIGKILL after `STOP_WITHIN`).
    pub fn stop(mut self) -> Result<Stopped, CliError> {
        let peak_rss_bytes = peak_rss_bytes(self.pid());
        let t0 = Instant::now();
        let status = self.terminate()?;
        Ok(Stopped {
            status,
            ms: t0.elapsed().as_secs_f64() * 1e3,
            peak_rss_bytes,
        })
    }

    fn terminate(&mut self) -> Result<ExitStatus, CliError> {
        let Some(mut child) = self.child.take() else {
            return Err(CliError::Runtime(anyhow!("the daemon was already stopped")));
        };
        let pid = libc::pid_t::try_from(child.id()).unwrap_or(0);
        // SAFETY: kill(2) on our own child's pid, which stays reserved until we wait for it.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let t0 = Instant::now();
        loop {
            let waited = child
                .try_wait()
                .map_err(|e| CliError::Runtime(anyhow!("wait for the daemon (pid {pid}): {e}")))?;
            if let Some(status) = waited {
                return Ok(status);
            }
            if t0.elapsed() > STOP_WITHIN {
                let _ = child.kill();
                let _ = child.wait();
                return Err(CliError::Runtime(anyhow!(
                    "the daemon (pid {pid}) did not stop within {} s of SIGTERM; killed. Its log: {}",
                    STOP_WITHIN.as_secs(),
                    self.log.display()
                )));
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        if self.child.is_some() {
            let _ = self.terminate();
        }
    }
}

/// `VmHWM` of process `pid`, bytes (0 when it cannot be read).
fn peak_rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn write(path: &Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text)
        .map_err(|e| CliError::Runtime(anyhow!("write {}: {e}", path.display())))
}
