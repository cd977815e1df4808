//! What happens to sound between the driver and an `AudioChunk`, kept free of
//! cpal so it is tested in every build: choosing the device configuration
//! (`choose`), mixing interleaved channels to mono (`downmix`), resampling to
//! the rate the aligner's grid expects (`Resampler`, linear: the encoder sees
//! audio at 16 kHz or so, far below where linear interpolation's error
//! matters), and stamping chunks so a continuous stream stays continuous
//! (`ChunkClock`).

use crate::time::Timestamp;

/// One configuration range a device offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    pub channels: u16,
    pub min_hz: u32,
    pub max_hz: u32,
    /// Lower is preferred; `None`: a sample format mmcl does not convert.
    pub format_rank: Option<u8>,
}

/// The offer to take for `rate_hz` and the rate to ask of it: one that holds
/// the rate if any (else the nearest, resampled), then the fewest channels,
/// then the preferred sample format. `None` when nothing is convertible.
pub fn choose(offers: &[Offer], rate_hz: u32) -> Option<(usize, u32)> {
    offers
        .iter()
        .enumerate()
        .filter_map(|(i, o)| {
            let rank = o.format_rank?;
            let rate = rate_hz.clamp(o.min_hz, o.max_hz.max(o.min_hz));
            Some(((rate.abs_diff(rate_hz), o.channels, rank), (i, rate)))
        })
        .min_by_key(|(key, _)| *key)
        .map(|(_, chosen)| chosen)
}

/// The mean of each frame's `channels` samples.
pub fn downmix(interleaved: &[f32], channels: usize) -> Vec<f32> {
    let channels = channels.max(1);
    interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() / channels as f32)
        .collect()
}

/// Linear resampling from one rate to another across chunk boundaries.
#[derive(Debug, Clone)]
pub struct Resampler {
    /// Input samples per output sample.
    step: f64,
    /// Position of the next output sample, in input samples after `last`.
    pos: f64,
    /// The previous chunk's last input sample.
    last: Option<f32>,
}

impl Resampler {
    pub fn new(from_hz: u32, to_hz: u32) -> Resampler {
        Resampler {
            step: f64::from(from_hz.max(1)) / f64::from(to_hz.max(1)),
            pos: 0.0,
            last: None,
        }
    }

    /// Whether it changes anything (equal rates pass samples through).
    pub fn is_identity(&self) -> bool {
        self.step == 1.0
    }

    /// The output samples that `input` completes.
    pub fn process(&mut self, input: &[f32]) -> Vec<f32> {
        if self.is_identity() {
            return input.to_vec();
        }
        // x[0] is the previous chunk's last sample (or this chunk's first).
        let Some(&first) = input.first() else {
            return Vec::new();
        };
        let x0 = self.last.unwrap_or(first);
        let at = |i: usize| {
            if i == 0 {
                x0
            } else {
                input.get(i - 1).copied().unwrap_or(x0)
            }
        };
        let offset = if self.last.is_some() { 0.0 } else { 1.0 };
        let mut out = Vec::with_capacity((input.len() as f64 / self.step) as usize + 1);
        let mut pos = self.pos + offset;
        let end = input.len() as f64;
        while pos <= end {
            let i = pos.floor() as usize;
            let frac = (pos - pos.floor()) as f32;
            let (a, b) = (at(i), at(i + 1));
            out.push(a + (b - a) * frac);
            pos += self.step;
        }
        self.pos = pos - end;
        self.last = input.last().copied();
        out
    }
}

/// Chunk start times for one stream: a chunk whose estimated start is within
/// `tolerance_ns` of where the previous one ended is put exactly there
/// (callback jitter does not become gaps or overlaps); a later one starts a new
/// run (an overrun lost audio); an earlier one is moved to the end of the last,
/// so times never go back.
#[derive(Debug, Clone)]
pub struct ChunkClock {
    rate_hz: u32,
    tolerance_ns: u64,
    next: Option<Timestamp>,
    /// Chunks that started a new run after the first: gaps in the sound.
    pub restarts: u64,
}

impl ChunkClock {
    pub fn new(rate_hz: u32, tolerance_ns: u64) -> ChunkClock {
        ChunkClock {
            rate_hz,
            tolerance_ns,
            next: None,
            restarts: 0,
        }
    }

    /// The start of a chunk of `len` samples estimated to start at `estimate`.
    pub fn stamp(&mut self, estimate: Timestamp, len: usize) -> Timestamp {
        let t = match self.next {
            Some(next) if estimate.nanos() <= next.nanos().saturating_add(self.tolerance_ns) => {
                next
            }
            Some(_) => {
                self.restarts += 1;
                estimate
            }
            None => estimate,
        };
        let ns = (len as f64 * 1e9 / f64::from(self.rate_hz.max(1))).round() as u64;
        self.next = Some(t.add_nanos(ns));
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offer_holding_the_rate_with_fewest_channels_wins() {
        let offers = [
            Offer {
                channels: 2,
                min_hz: 8_000,
                max_hz: 48_000,
                format_rank: Some(0),
            },
            Offer {
                channels: 1,
                min_hz: 8_000,
                max_hz: 48_000,
                format_rank: Some(1),
            },
            Offer {
                channels: 1,
                min_hz: 44_100,
                max_hz: 44_100,
                format_rank: Some(0),
            },
            Offer {
                channels: 1,
                min_hz: 8_000,
                max_hz: 96_000,
                format_rank: None,
            },
        ];
        assert_eq!(choose(&offers, 16_000), Some((1, 16_000)));
        assert_eq!(choose(&offers[2..], 16_000), Some((0, 44_100)));
        assert_eq!(choose(&offers[3..], 16_000), None);
    }

    #[test]
    fn downmix_averages_channels() {
        assert_eq!(downmix(&[1.0, 0.0, 0.5, 0.5, 9.0], 2), [0.5, 0.5]);
        assert_eq!(downmix(&[0.25], 1), [0.25]);
    }

    /// Chunked resampling equals resampling the whole signal at once.
    #[test]
    fn chunked_resampling_equals_one_pass_and_keeps_the_rate() {
        let signal: Vec<f32> = (0..4800).map(|i| (i as f32 * 0.01).sin()).collect();
        let whole = Resampler::new(48_000, 16_000).process(&signal);
        let mut chunked = Resampler::new(48_000, 16_000);
        let mut pieces = Vec::new();
        for chunk in signal.chunks(137) {
            pieces.extend(chunked.process(chunk));
        }
        assert_eq!(pieces.len(), whole.len());
        assert!(pieces.iter().zip(&whole).all(|(a, b)| (a - b).abs() < 1e-6));
        assert!((whole.len() as i64 - 1600).abs() <= 1, "{}", whole.len());
        // Output sample k is input sample 3k.
        assert!((whole[100] - signal[300]).abs() < 1e-6);
        let up = Resampler::new(8_000, 16_000).process(&[0.0, 1.0]);
        assert_eq!(up, [0.0, 0.5, 1.0]);
    }

    #[test]
    fn jitter_is_absorbed_a_gap_restarts_and_time_never_goes_back() {
        let mut c = ChunkClock::new(16_000, 5_000_000);
        let ms = |m: u64| Timestamp(m * 1_000_000);
        assert_eq!(c.stamp(ms(100), 160), ms(100));
        assert_eq!(c.stamp(ms(113), 160), ms(110), "3 ms late: jitter");
        assert_eq!(c.stamp(ms(105), 160), ms(120), "early: continues");
        assert_eq!(c.stamp(ms(200), 160), ms(200), "a gap");
        assert_eq!(c.restarts, 1);
    }
}
