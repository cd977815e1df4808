//! Shared by the tests/pipeline_*.rs files: a video-only dataset clip written as
//! JPEG frames, the mobgap IMU excerpt, a synthetic audio source, wrappers that
//! add random delays and chunking to any source, and a collector for oracles.
#![allow(dead_code)]

use mmcl::dataset::{Clip, ClipEntry, Split};
use mmcl::sample::{AudioChunk, Modality, Sample};
use mmcl::sensor::imu::{ImuStream, ImuStreamOptions};
use mmcl::sensor::{Pacer, Pacing, Source, SourceError};
use mmcl::shutdown::Shutdown;
use mmcl::time::Timestamp;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub const MS: u64 = 1_000_000;

/// The real 100 Hz IMU recording (tests/data/imu/README.md).
pub fn imu_recording() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/imu/mobgap_HA001_Test11_3500-4699.csv")
}

/// The recording as a source named "imu", stamped from t = 0, paced by `pacing`.
pub fn imu_source(pacing: Pacing) -> ImuStream {
    let options = ImuStreamOptions {
        pacing,
        ..ImuStreamOptions::recording("imu", 100.0)
    };
    ImuStream::open(&imu_recording(), options).expect("open the IMU recording")
}

/// Writes a video-only clip `1_upstairs/<name>` of `frames` JPEGs of `w`x`h`
/// (listed with 0 sensor rows, so it lasts frames / 25 s: frames at 25 fps).
pub fn video_clip(root: &Path, name: &str, frames: usize, size: (u32, u32)) -> Clip {
    clip_in(root, ("1_upstairs", 0), name, frames, size, 0)
}

/// Writes clip `<k_name>/<name>` of class `label`: `frames` JPEGs of `w`x`h` and,
/// when `rows` > 0, a sensor file of that many rows (a still device, 1 g on z).
pub fn clip_in(
    root: &Path,
    (k_name, label): (&str, u32),
    name: &str,
    frames: usize,
    (w, h): (u32, u32),
    rows: usize,
) -> Clip {
    let dir = root.join("video").join(k_name).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for j in 0..frames {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            let v = |k: u32| ((x * 7 + y * 3 + j as u32 * k) % 256) as u8;
            image::Rgb([v(5), v(11), v(17)])
        });
        img.save(dir.join(format!("img_{:06}.jpg", j + 1))).unwrap();
    }
    if rows > 0 {
        let sensor = root.join("sensor").join(k_name);
        std::fs::create_dir_all(&sensor).unwrap();
        let text = "0,0,8192,0,0,0\n".repeat(rows);
        std::fs::write(sensor.join(format!("{name}.csv")), text).unwrap();
    }
    let entry = ClipEntry {
        split: Split::Test,
        line: 1,
        class_dir: k_name.into(),
        clip: name.into(),
        label,
        num_frames: frames,
        num_sensor_rows: rows,
    };
    Clip::new(Arc::from(root), entry)
}

/// Synthetic microphone: 20 ms chunks of a 440 Hz tone at 8 kHz for `secs`.
pub struct ToneSource {
    next: u64,
    chunks: u64,
    pacer: Pacer,
}

pub const AUDIO_RATE: u32 = 8_000;
const CHUNK: u64 = 160;

impl ToneSource {
    pub fn new(secs: u64, pacing: Pacing) -> ToneSource {
        ToneSource {
            next: 0,
            chunks: secs * u64::from(AUDIO_RATE) / CHUNK,
            pacer: Pacer::new(pacing),
        }
    }
}

impl Source for ToneSource {
    fn name(&self) -> &str {
        "mic"
    }

    fn modalities(&self) -> &[Modality] {
        &[Modality::Audio]
    }

    fn next_sample(&mut self, shutdown: &Shutdown) -> Result<Option<Sample>, SourceError> {
        if self.next == self.chunks {
            return Ok(None);
        }
        let first = self.next * CHUNK;
        self.next += 1;
        let t = Timestamp(first * 1_000_000_000 / u64::from(AUDIO_RATE));
        let pcm = (first..first + CHUNK)
            .map(|j| (0.5 * (j as f64 * 440.0 * std::f64::consts::TAU / 8000.0).sin()) as f32)
            .collect();
        let chunk = AudioChunk {
            t,
            rate_hz: AUDIO_RATE,
            pcm,
        };
        Ok(self
            .pacer
            .wait_until(t, shutdown)
            .then_some(Sample::Audio(chunk)))
    }
}

/// How a `Jittery` source misbehaves in time.
#[derive(Debug, Clone, Copy)]
pub struct Jitter {
    pub seed: u64,
    /// A sample is delayed with probability 1 / `one_in`...
    pub one_in: u32,
    /// ... by up to this many milliseconds.
    pub max_delay_ms: u64,
    /// Samples are handed out in bursts of 1..=`max_chunk` (a driver's FIFO).
    pub max_chunk: usize,
}

/// `inner` with random per-sample delays and random chunking.
pub struct Jittery<S> {
    inner: S,
    jitter: Jitter,
    rng: ChaCha8Rng,
    ready: VecDeque<Sample>,
    ended: bool,
}

impl<S: Source> Jittery<S> {
    pub fn new(inner: S, jitter: Jitter) -> Jittery<S> {
        Jittery {
            inner,
            rng: ChaCha8Rng::seed_from_u64(jitter.seed),
            jitter,
            ready: VecDeque::new(),
            ended: false,
        }
    }

    /// Pulls the next burst from the paced inner source: it comes out when its
    /// last sample is due.
    fn refill(&mut self, shutdown: &Shutdown) -> Result<(), SourceError> {
        let n = self.rng.random_range(1..=self.jitter.max_chunk.max(1));
        for _ in 0..n {
            match self.inner.next_sample(shutdown)? {
                Some(s) => self.ready.push_back(s),
                None => {
                    self.ended = true;
                    break;
                }
            }
        }
        Ok(())
    }
}

impl<S: Source> Source for Jittery<S> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn modalities(&self) -> &[Modality] {
        self.inner.modalities()
    }

    fn next_sample(&mut self, shutdown: &Shutdown) -> Result<Option<Sample>, SourceError> {
        if self.ready.is_empty() && !self.ended {
            self.refill(shutdown)?;
        }
        if self.rng.random_range(0..self.jitter.one_in.max(1)) == 0 {
            let ms = self.rng.random_range(0..=self.jitter.max_delay_ms);
            // Stays within the contract: never more than MAX_BLOCK per look at the signal.
            let mut left = Duration::from_millis(ms);
            while !left.is_zero() {
                let step = left.min(mmcl::sensor::MAX_BLOCK);
                if shutdown.wait_timeout(step) {
                    return Ok(None);
                }
                left -= step;
            }
        }
        Ok(self.ready.pop_front())
    }
}

/// Every sample of `source`, in its own order (no shutdown, unpaced sources).
pub fn collect(mut source: impl Source) -> Vec<Sample> {
    let shutdown = Shutdown::new();
    let mut out = Vec::new();
    while let Some(s) = source.next_sample(&shutdown).expect("oracle source") {
        out.push(s);
    }
    out
}

/// Polls `done` every millisecond for at most `limit`; true once it holds.
pub fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let until = std::time::Instant::now() + limit;
    while std::time::Instant::now() < until {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    done()
}

/// The tiny contract-conforming test encoder (tests/data/encoder), tract, batch 4.
#[cfg(feature = "tract")]
pub fn tiny_encoder() -> Box<dyn mmcl::encode::Encoder> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/encoder/tiny_encoder.onnx");
    let options = mmcl::encode::EncoderOptions {
        batch_size: 4,
        ..Default::default()
    };
    mmcl::encode::open(&path, &options).expect("open the tiny encoder")
}

/// `inner` until its first sample at or after `at`, then a fatal error forever.
pub struct DiesAt<S> {
    pub inner: S,
    pub at: Timestamp,
}

impl<S: Source> Source for DiesAt<S> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn modalities(&self) -> &[Modality] {
        self.inner.modalities()
    }

    fn next_sample(&mut self, shutdown: &Shutdown) -> Result<Option<Sample>, SourceError> {
        match self.inner.next_sample(shutdown)? {
            Some(s) if s.t() >= self.at => Err(SourceError::fatal(
                "read /dev/imu0",
                "No such device (os error 19)",
            )),
            other => Ok(other),
        }
    }
}

/// Makes a FIFO at `path`.
pub fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o600) },
        0,
        "mkfifo {}",
        path.display()
    );
}
