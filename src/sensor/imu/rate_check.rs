//! `RateCheck`: a stream stamped on arrival (a UART IMU without a counter)
//! has only the profile's word for its rate. Arrivals are counted over spans of
//! `SPAN`; each complete span's rate is compared with the stated one, and spans
//! off by more than the tolerance are counted — a wrong `rate_hz`, a device set
//! to another rate, or lines lost on the wire show up in health as `spans_off`.

use crate::sensor::RateCheckReport;
use crate::time::Timestamp;

/// Long enough that one late line (a scheduling hiccup) moves the measured
/// rate by well under the tolerance at 25 Hz and up.
const SPAN_NS: u64 = 2_000_000_000;
/// 10 %: crystal error and line jitter stay far inside it; a 100 Hz device
/// configured as 50 Hz (or lines dropped one in ten) does not.
pub const TOLERANCE: f64 = 0.10;

#[derive(Debug, Clone)]
pub struct RateCheck {
    span_start: Option<Timestamp>,
    arrivals: u64,
    report: RateCheckReport,
}

impl RateCheck {
    pub fn new(stated_hz: f64) -> RateCheck {
        RateCheck {
            span_start: None,
            arrivals: 0,
            report: RateCheckReport {
                stated_hz,
                tolerance: TOLERANCE,
                ..RateCheckReport::default()
            },
        }
    }

    /// Counts an arrival at `t`; the updated report when a span just completed.
    pub fn observe(&mut self, t: Timestamp) -> Option<&RateCheckReport> {
        let start = *self.span_start.get_or_insert(t);
        let elapsed = t.since(start);
        if elapsed < SPAN_NS {
            self.arrivals += 1;
            return None;
        }
        let measured = self.arrivals as f64 * 1e9 / elapsed as f64;
        let r = &mut self.report;
        r.measured_hz = Some(measured);
        r.spans += 1;
        if (measured / r.stated_hz - 1.0).abs() > r.tolerance {
            r.spans_off += 1;
        }
        self.span_start = Some(t);
        self.arrivals = 1;
        Some(&self.report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(check: &mut RateCheck, hz: f64, secs: f64) -> Vec<RateCheckReport> {
        let n = (hz * secs) as u64;
        (0..n)
            .filter_map(|k| {
                check
                    .observe(Timestamp((k as f64 * 1e9 / hz) as u64))
                    .cloned()
            })
            .collect()
    }

    #[test]
    fn the_stated_rate_passes_and_half_of_it_is_counted_off() {
        let mut ok = RateCheck::new(100.0);
        let reports = feed(&mut ok, 100.0, 6.5);
        let last = reports.last().unwrap();
        assert_eq!((last.spans, last.spans_off), (3, 0));
        assert!((last.measured_hz.unwrap() - 100.0).abs() < 0.6, "{last:?}");
        let mut slow = RateCheck::new(100.0);
        let last = feed(&mut slow, 50.0, 6.5).pop().unwrap();
        assert_eq!((last.spans, last.spans_off), (3, 3));
    }
}
