//! Running the `mmcl` binary against a test server: with a deadline (a hung CLI fails the
//! test, never hangs it), its exit code and both outputs kept, Ctrl-C sent by `kill -INT`.

use super::Running;
use serde_json::Value;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Long enough for any command here on a loaded machine; a hung CLI fails, never hangs.
pub const DEADLINE: Duration = Duration::from_secs(30);

pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", self.stdout))
    }
}

pub fn mmcl(socket: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mmcl"));
    cmd.args(args).arg("--socket").arg(socket);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

pub fn wait(child: Child) -> Ran {
    let pid = child.id();
    let watchdog = std::thread::spawn(move || {
        std::thread::sleep(DEADLINE);
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    });
    let out = child.wait_with_output().expect("mmcl runs");
    drop(watchdog);
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn run(socket: &Path, args: &[&str]) -> Ran {
    wait(mmcl(socket, args).spawn().expect("spawn mmcl"))
}

pub fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    assert!(status.expect("kill runs").success());
}

/// Waits until the fake has seen `call` `n` times.
pub fn wait_for_call(running: &Running, call: &str, n: usize) {
    let t0 = Instant::now();
    while running.fake.calls().iter().filter(|c| *c == call).count() < n {
        assert!(
            t0.elapsed() < DEADLINE,
            "no {call} in {:?}",
            running.fake.calls()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// This process's uid: the owner of a file it creates.
pub fn current_uid() -> u32 {
    let dir = tempfile::tempdir().unwrap();
    std::fs::metadata(dir.path()).unwrap().uid()
}
