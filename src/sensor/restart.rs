//! `Restarting`: a source that survives losing its device. It wraps a factory
//! that opens the device; when the open source fails (a fatal error: the camera
//! was unplugged, the IIO device went away), it drops it, waits, and opens again
//! with exponential backoff until the device returns or the pipeline stops.
//!
//! Meanwhile it delivers nothing, so the aligner's stall rule lets the other
//! sources go on and marks this source's modalities absent (docs/align.md,
//! "Watermarks"); samples resume on the same clock when the device is back. Its
//! `SourceMonitor` shows `restarting`, the attempts and the next retry, which
//! the pipeline's health reports as the source's state.
//!
//! Transient errors pass through untouched (the pipeline retries them), and so
//! does the end of a stream: a source that ends was not lost.

use super::monitor::SourceMonitor;
use super::{Source, SourceError, MAX_BLOCK};
use crate::sample::{Modality, Sample};
use crate::shutdown::Shutdown;
use std::time::{Duration, Instant};

/// Waits between reopen attempts: `initial`, doubling per failed attempt, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    /// 100 ms doubling to 10 s: a replugged camera is back within a second,
    /// and a device that is gone for good costs one attempt per 10 s.
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(10),
        }
    }
}

impl Backoff {
    /// The wait before attempt `failed + 1`, after `failed` failed attempts.
    pub fn delay(&self, failed: u32) -> Duration {
        let factor = 1u32.checked_shl(failed.min(31)).unwrap_or(u32::MAX);
        self.initial
            .checked_mul(factor)
            .unwrap_or(self.max)
            .min(self.max)
    }
}

/// A source reopened by `open` whenever it fails. See the module docs.
pub struct Restarting<F> {
    name: String,
    modalities: Vec<Modality>,
    open: F,
    inner: Option<Box<dyn Source>>,
    backoff: Backoff,
    monitor: SourceMonitor,
    /// Failed attempts since the device was lost.
    failed: u32,
    retry_at: Instant,
    /// The first source's nominal rates, kept while the device is away.
    expected: Vec<(Modality, Option<f64>)>,
}

impl<F> Restarting<F>
where
    F: FnMut() -> Result<Box<dyn Source>, SourceError> + Send,
{
    /// Opens the source once now (an error here is the caller's: a device that
    /// is not there at start is reported, not waited for) and keeps `open` to
    /// reopen it. The name, modalities and rates are the first source's.
    pub fn start(
        backoff: Backoff,
        monitor: SourceMonitor,
        mut open: F,
    ) -> Result<Restarting<F>, SourceError> {
        let first = open()?;
        let modalities = first.modalities().to_vec();
        let expected = modalities
            .iter()
            .map(|m| (*m, first.expected_rate_hz(*m)))
            .collect();
        monitor.running(true);
        Ok(Restarting {
            name: first.name().to_string(),
            modalities,
            open,
            inner: Some(first),
            backoff,
            monitor,
            failed: 0,
            retry_at: Instant::now(),
            expected,
        })
    }

    /// The open source failed: drop it (closing the device) and schedule a reopen.
    fn lose(&mut self, error: &SourceError) {
        self.inner = None;
        self.failed = 0;
        self.retry_at = Instant::now() + self.backoff.delay(0);
        self.monitor.lost(error.to_string(), self.retry_at);
    }

    /// Waits (at most `MAX_BLOCK`) for the next attempt, or makes it when due.
    fn try_reopen(&mut self, shutdown: &Shutdown) {
        let now = Instant::now();
        if now < self.retry_at {
            shutdown.wait_timeout((self.retry_at - now).min(MAX_BLOCK));
            return;
        }
        match (self.open)().and_then(|s| self.same_shape(s)) {
            Ok(source) => {
                self.inner = Some(source);
                self.monitor.running(false);
            }
            Err(e) => {
                self.failed = self.failed.saturating_add(1);
                self.retry_at = Instant::now() + self.backoff.delay(self.failed);
                self.monitor.retry_failed(e.to_string(), self.retry_at);
            }
        }
    }

    /// Refuses a reopened source that emits other modalities than the first.
    fn same_shape(&self, source: Box<dyn Source>) -> Result<Box<dyn Source>, SourceError> {
        if source.modalities() == self.modalities.as_slice() {
            return Ok(source);
        }
        let names = |ms: &[Modality]| ms.iter().map(|m| m.name()).collect::<Vec<_>>().join(", ");
        Err(SourceError::fatal(
            format!("reopen source {}", self.name),
            format!(
                "it now emits [{}], it emitted [{}]",
                names(source.modalities()),
                names(&self.modalities)
            ),
        ))
    }
}

impl<F> Source for Restarting<F>
where
    F: FnMut() -> Result<Box<dyn Source>, SourceError> + Send,
{
    fn name(&self) -> &str {
        &self.name
    }

    fn modalities(&self) -> &[Modality] {
        &self.modalities
    }

    fn next_sample(&mut self, shutdown: &Shutdown) -> Result<Option<Sample>, SourceError> {
        while !shutdown.is_triggered() {
            let Some(inner) = self.inner.as_mut() else {
                self.try_reopen(shutdown);
                continue;
            };
            match inner.next_sample(shutdown) {
                Err(e) if !e.is_transient() => self.lose(&e),
                other => return other,
            }
        }
        Ok(None)
    }

    fn expected_rate_hz(&self, modality: Modality) -> Option<f64> {
        match &self.inner {
            Some(inner) => inner.expected_rate_hz(modality),
            None => self
                .expected
                .iter()
                .find(|(m, _)| *m == modality)
                .and_then(|(_, r)| *r),
        }
    }

    fn monitor(&self) -> Option<SourceMonitor> {
        Some(self.monitor.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::ImuSample;
    use crate::time::Timestamp;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    /// Emits `n` IMU samples, then fails fatally (a device unplugged).
    struct Flaky {
        left: u32,
    }

    impl Source for Flaky {
        fn name(&self) -> &str {
            "imu"
        }
        fn modalities(&self) -> &[Modality] {
            &[Modality::Imu]
        }
        fn next_sample(&mut self, _: &Shutdown) -> Result<Option<Sample>, SourceError> {
            if self.left == 0 {
                return Err(SourceError::fatal("read imu", "device gone"));
            }
            self.left -= 1;
            Ok(Some(Sample::Imu(ImuSample {
                t: Timestamp(u64::from(self.left)),
                acc: [0.0; 3],
                gyro: [0.0; 3],
            })))
        }
    }

    #[test]
    fn delays_double_from_initial_up_to_max() {
        let b = Backoff {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(50),
        };
        let got: Vec<u128> = (0..5).map(|k| b.delay(k).as_millis()).collect();
        assert_eq!(got, [10, 20, 40, 50, 50]);
        assert_eq!(b.delay(u32::MAX), Duration::from_millis(50));
    }

    #[test]
    fn a_lost_source_is_reopened_after_failed_attempts() {
        let opens = Arc::new(AtomicU32::new(0));
        let counter = opens.clone();
        // Open 1 works; opens 2 and 3 fail (device still away); open 4 works.
        let open = move || -> Result<Box<dyn Source>, SourceError> {
            match counter.fetch_add(1, Ordering::SeqCst) {
                1 | 2 => Err(SourceError::fatal("open imu", "no such device")),
                _ => Ok(Box::new(Flaky { left: 2 })),
            }
        };
        let backoff = Backoff {
            initial: Duration::from_millis(1),
            max: Duration::from_millis(4),
        };
        let monitor = SourceMonitor::new();
        let mut r = Restarting::start(backoff, monitor.clone(), open).unwrap();
        let shutdown = Shutdown::new();
        for _ in 0..4 {
            assert!(matches!(r.next_sample(&shutdown), Ok(Some(Sample::Imu(_)))));
        }
        let report = monitor.report(Instant::now()).restart.unwrap();
        assert_eq!(opens.load(Ordering::SeqCst), 4);
        assert_eq!(
            (report.restarting, report.losses, report.restarts),
            (false, 1, 1)
        );
        assert_eq!(
            report.last_error.as_deref(),
            Some("open imu: no such device")
        );
    }

    #[test]
    fn shutdown_ends_the_wait_for_a_device() {
        let mut first = true;
        let open = move || -> Result<Box<dyn Source>, SourceError> {
            if std::mem::take(&mut first) {
                return Ok(Box::new(Flaky { left: 0 }));
            }
            Err(SourceError::fatal("open imu", "no such device"))
        };
        let monitor = SourceMonitor::new();
        let mut r = Restarting::start(Backoff::default(), monitor.clone(), open).unwrap();
        let shutdown = Shutdown::new();
        let s = shutdown.clone();
        let stopper = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            s.trigger();
        });
        let began = Instant::now();
        assert!(matches!(r.next_sample(&shutdown), Ok(None)));
        assert!(began.elapsed() < Duration::from_secs(1));
        assert!(monitor.is_restarting());
        stopper.join().unwrap();
    }
}
