//! Running `mmcl` as a hostile user's victim: every run has a wall-clock limit
//! (a hang is killed and fails the test) and reports the child's exit code, its
//! output and its peak resident memory (from `wait4`'s rusage), so each case can
//! assert "exit 2, a message naming the file, no panic, under 300 MB".

#![allow(dead_code)]

pub mod onnx;

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The peak RSS a bad-input case may reach.
pub const MAX_RSS_BYTES: u64 = 300 << 20;
/// How long a bad-input case may run before it counts as a hang.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// What one run of `mmcl` did.
#[derive(Debug)]
pub struct Outcome {
    /// `None` when a signal ended it (a crash, or the timeout's kill).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub max_rss_bytes: u64,
    pub timed_out: bool,
}

impl Outcome {
    /// Bad input refused properly: exit 2, no panic, no hang, within the memory cap,
    /// and `needle` (a path, a line) said on stdout or stderr.
    #[track_caller]
    pub fn assert_refused(&self, needle: &str) {
        self.assert_sane();
        assert_eq!(self.code, Some(2), "{self:#?}");
        let said = format!("{}{}", self.stdout, self.stderr);
        assert!(said.contains(needle), "`{needle}` not said in {self:#?}");
    }

    /// No panic, no hang, within the memory cap.
    #[track_caller]
    pub fn assert_sane(&self) {
        assert!(!self.timed_out, "hung: {self:#?}");
        assert!(!self.stderr.contains("panicked"), "{self:#?}");
        assert!(self.code.is_some(), "killed by a signal: {self:#?}");
        assert!(
            self.max_rss_bytes <= MAX_RSS_BYTES,
            "peak RSS {} MB: {self:#?}",
            self.max_rss_bytes >> 20
        );
    }
}

pub fn mmcl() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mmcl"))
}

/// Runs `mmcl args` with stdout and stderr captured.
pub fn run<I, S>(args: I) -> Outcome
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = mmcl();
    command.args(args);
    run_command(command, true)
}

/// Runs `command`; with `keep_stdout` false the read end of its stdout pipe is
/// closed before it can write (as `mmcl ... | true` does).
// The child is reaped by `wait4`, not `Child::wait`, which cannot report its peak RSS.
#[allow(clippy::zombie_processes)]
pub fn run_command(mut command: Command, keep_stdout: bool) -> Outcome {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn mmcl");
    let stdout = child.stdout.take().expect("piped");
    let stdout = if keep_stdout {
        Some(std::thread::spawn(move || drain(stdout)))
    } else {
        drop(stdout);
        None
    };
    let stderr = child.stderr.take().expect("piped");
    let stderr = std::thread::spawn(move || drain(stderr));
    let pid = child.id() as libc::pid_t;
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let killer = std::thread::spawn(move || {
        let timed_out = finished.recv_timeout(TIMEOUT).is_err();
        if timed_out {
            // SAFETY: plain syscall on the child's pid, which is not reaped before
            // `done` is sent.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        timed_out
    });
    let (status, rusage) = wait4(pid);
    let _ = done.send(());
    let timed_out = killer.join().unwrap_or(true);
    Outcome {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        stdout: stdout
            .map(|t| t.join().unwrap_or_default())
            .unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        max_rss_bytes: (rusage.ru_maxrss.max(0) as u64) * 1024,
        timed_out,
    }
}

fn drain(mut r: impl Read) -> String {
    let mut bytes = Vec::new();
    let _ = r.read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Waits for `pid`, returning its status and resource usage (peak RSS in KiB).
fn wait4(pid: libc::pid_t) -> (libc::c_int, libc::rusage) {
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain data that `wait4` fills in.
    let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to locals; `pid` is our child.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut rusage) };
        if r == pid {
            return (status, rusage);
        }
        let interrupted = std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted;
        assert!(interrupted, "wait4 failed");
    }
}

/// `mmcl synth --out ROOT/D --classes 4 --clips-per-class 3 --seed 1`, the dataset
/// the fault campaign used; returns D.
pub fn synth(root: &Path) -> PathBuf {
    let d = root.join("D");
    let out = run(["synth", "--out", d.to_str().unwrap(), "--classes", "4"]
        .into_iter()
        .chain(["--clips-per-class", "3", "--seed", "1"]));
    assert_eq!(out.code, Some(0), "{out:#?}");
    d
}

/// The tiny test encoder (fast to run; 2 s windows of 4 frames at 32x24).
pub fn tiny_model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/encoder/tiny_encoder.onnx")
}

/// The frame folders of D's clips, in list order (the IMU-only clip has none).
pub fn frame_dirs(d: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(d.join("video"))
        .unwrap()
        .flat_map(|class| std::fs::read_dir(class.unwrap().path()).unwrap())
        .map(|clip| clip.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// The sensor files of D's clips.
pub fn sensor_files(d: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(d.join("sensor"))
        .unwrap()
        .flat_map(|class| std::fs::read_dir(class.unwrap().path()).unwrap())
        .map(|f| f.unwrap().path())
        .collect();
    files.sort();
    files
}

/// Creates a FIFO at `path` (via `mkfifo`).
pub fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string.
    let r = unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
    assert_eq!(r, 0, "mkfifo {}", path.display());
}

/// Replaces `path` (a file) with a symbolic link to `target`.
pub fn replace_with_link(path: &Path, target: &Path) {
    if path.is_dir() {
        std::fs::remove_dir_all(path).unwrap();
    } else {
        let _ = std::fs::remove_file(path);
    }
    std::os::unix::fs::symlink(target, path).unwrap();
}

/// A small grey JPEG whose SOF0 header is rewritten to claim `w` x `h`: the
/// crafted decompression bomb (a few hundred bytes).
pub fn bomb_jpeg(w: u16, h: u16) -> Vec<u8> {
    let img = image::GrayImage::from_fn(8, 8, |x, y| image::Luma([(x * 30 + y) as u8]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Jpeg).unwrap();
    let mut bytes = bytes.into_inner();
    let sof = bytes.windows(2).position(|m| m == [0xFF, 0xC0]).unwrap();
    bytes[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    bytes
}

/// Seconds since `start`, for messages.
pub fn since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}

/// A complete, valid grey baseline JPEG of `w` x `h`, every 8x8 block the same
/// grey: with one-bit Huffman codes a block costs two bits, so 20000x20000 takes
/// 1.5 MB and decodes to 400 MB of grey (1.2 GB as RGB) — the real bomb.
pub fn uniform_grey_jpeg(w: u16, h: u16) -> Vec<u8> {
    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        s.extend_from_slice(payload);
        s
    }
    let mut out = vec![0xFF, 0xD8];
    out.extend(segment(0xDB, &[[0u8].as_slice(), &[1; 64]].concat()));
    let [h1, h0] = h.to_be_bytes();
    let [w1, w0] = w.to_be_bytes();
    out.extend(segment(0xC0, &[8, h1, h0, w1, w0, 1, 1, 0x11, 0]));
    let one_code = |class: u8| [[class].as_slice(), &[1], &[0; 15], &[0]].concat();
    out.extend(segment(0xC4, &one_code(0x00))); // DC: "0" = difference 0
    out.extend(segment(0xC4, &one_code(0x10))); // AC: "0" = end of block
    out.extend(segment(0xDA, &[1, 1, 0x00, 0, 63, 0]));
    let blocks = usize::from(w).div_ceil(8) * usize::from(h).div_ceil(8);
    out.resize(out.len() + (2 * blocks).div_ceil(8), 0);
    out.extend([0xFF, 0xD9]);
    out
}
