//! Test fault injection, off unless `MMCL_FAULT_PAUSE` names a point: the daemon thread
//! that reaches that point logs "fault injection: paused at POINT" and sleeps there for
//! good, so a crash test can SIGKILL the daemon exactly there (tests/daemon_crash.rs).
//! Nothing else reads the variable; a device never sets it. The points:
//!
//! - `enroll-learned`: an enrollment applied on the model's copy, not yet journaled;
//! - `enroll-journaled`: its record appended and fsynced, not yet published or replied;
//! - `snapshot-sections`: a checkpoint's sections built, the snapshot not yet written.

use std::sync::OnceLock;
use std::time::Duration;

/// The environment variable naming the point to pause at.
pub const PAUSE_VAR: &str = "MMCL_FAULT_PAUSE";

/// Pauses this thread forever when `MMCL_FAULT_PAUSE` is `point`.
pub fn point(point: &str) {
    static PAUSE: OnceLock<Option<String>> = OnceLock::new();
    let wanted = PAUSE.get_or_init(|| std::env::var(PAUSE_VAR).ok());
    if wanted.as_deref() != Some(point) {
        return;
    }
    super::log(&format!("fault injection: paused at {point} ({PAUSE_VAR})"));
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
