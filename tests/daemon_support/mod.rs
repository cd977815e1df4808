//! Shared by the tests/daemon_*.rs files that run the real `mmcl run` as a child process:
//! a synthetic dataset (`mmcl synth`), a replay profile on the tiny test encoder
//! (tests/data/encoder/tiny_encoder.onnx, so a start takes a fraction of a second), and the
//! child itself: started, waited for until its control socket greets, SIGKILLed.
#![allow(dead_code)]

use mmcl::control::api::{EnrollProgress, StatusReport};
use mmcl::control::protocol::{EnrollStart, EnrollmentId, Request};
use mmcl::control::Client;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a start may take before the test calls it hung.
const READY_LIMIT: Duration = Duration::from_secs(60);

pub fn tiny_encoder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/encoder/tiny_encoder.onnx")
}

/// Writes a synthetic dataset of small frames into `dir`.
pub fn synth(dir: &Path, classes: u32, clips_per_class: u32) {
    let out = Command::new(env!("CARGO_BIN_EXE_mmcl"))
        .args(["synth", "--size", "24", "--seed", "3", "--classes"])
        .arg(classes.to_string())
        .arg("--clips-per-class")
        .arg(clips_per_class.to_string())
        .arg("--out")
        .arg(dir)
        .output()
        .expect("run mmcl synth");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The paths of one daemon's run: its dataset, state directory, socket and profile.
pub struct Layout {
    pub data: PathBuf,
    pub state: PathBuf,
    pub socket: PathBuf,
    pub profile: PathBuf,
    /// The child's stderr (its log), rewritten at each start.
    pub log: PathBuf,
}

impl Layout {
    pub fn under(root: &Path) -> Layout {
        Layout {
            data: root.join("data"),
            state: root.join("state"),
            socket: root.join("control.sock"),
            profile: root.join("profile.toml"),
            log: root.join("daemon.log"),
        }
    }

    /// Writes a looping replay profile of the dataset at `speed` on the tiny encoder;
    /// `daemon_keys` go into `[daemon]`.
    pub fn write_profile(&self, speed: f64, daemon_keys: &str) {
        let text = format!(
            r#"profile = "daemon-test"
state_dir = "{state}"
[encoder]
model = "{model}"
backend = "tract"
[window]
stride_seconds = 0.5
[sources.replay]
dataset = "{data}"
split = "train"
speed = {speed:?}
loop = true
[daemon]
{daemon_keys}
[control]
socket = "{socket}"
"#,
            state = self.state.display(),
            model = tiny_encoder().display(),
            data = self.data.display(),
            socket = self.socket.display(),
        );
        std::fs::write(&self.profile, text).expect("write the profile");
    }

    /// The child's log so far, for a failure message.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// `mmcl run` on the layout's profile, as a child process.
pub struct Daemon {
    child: Child,
    pub pid: i32,
}

impl Daemon {
    /// Starts the daemon; `env` adds variables to its environment.
    pub fn spawn(layout: &Layout, env: &[(&str, &str)]) -> Daemon {
        let log = File::create(&layout.log).expect("create the daemon log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_mmcl"));
        command
            .arg("run")
            .arg("--config")
            .arg(&layout.profile)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn().expect("spawn mmcl run");
        let pid = i32::try_from(child.id()).expect("a pid fits i32");
        Daemon { child, pid }
    }

    /// Waits until the control socket greets; panics with the log when the daemon exits
    /// first (its state did not load) or takes past `READY_LIMIT`.
    pub fn ready(&mut self, layout: &Layout) -> Client {
        let t0 = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the child") {
                panic!("mmcl run exited ({status}):\n{}", layout.log_text());
            }
            if let Ok(client) = Client::connect(&layout.socket) {
                return client;
            }
            assert!(
                t0.elapsed() < READY_LIMIT,
                "no greeting within {READY_LIMIT:?}:\n{}",
                layout.log_text()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// SIGKILLs the daemon and reaps it.
    pub fn kill(mut self) -> ExitStatus {
        sigkill(self.pid);
        self.child.wait().expect("reap the child")
    }

    /// SIGTERM, then waits for the clean stop.
    pub fn terminate(mut self) -> ExitStatus {
        // SAFETY: kill(2) on our own, not yet reaped child.
        unsafe { libc::kill(self.pid, libc::SIGTERM) };
        self.child.wait().expect("reap the child")
    }
}

/// SIGKILL to `pid`, which must be a child this process has not reaped yet (so the pid
/// cannot have been reused).
pub fn sigkill(pid: i32) {
    // SAFETY: kill(2) has no memory effects; the pid is our unreaped child.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

pub fn status(client: &mut Client) -> StatusReport {
    client.call_as(Request::Status).expect("status")
}

pub fn enroll_start(client: &mut Client, label: &str, seconds: Option<f64>) -> EnrollProgress {
    let start = Request::EnrollStart(EnrollStart {
        label: label.to_string(),
        seconds,
        clips: None,
    });
    client.call_as(start).expect("enroll_start")
}

pub fn progress(client: &mut Client, id: u64) -> EnrollProgress {
    let id = EnrollmentId { enrollment: id };
    client
        .call_as(Request::EnrollProgress(id))
        .expect("enroll_progress")
}

/// Polls until the capture covered its seconds; returns its windows (fixed from then on).
pub fn until_complete(client: &mut Client, id: u64) -> usize {
    let t0 = Instant::now();
    loop {
        let p = progress(client, id);
        if p.state == "complete" {
            return p.windows;
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "{p:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
