//! One clip's head motion as a sum of analytic pieces (sine tones, smooth events, a pose).
//!
//! Being analytic, the motion can be read at any instant: the IMU rows read it at 25 Hz
//! (angular rates exactly, not by differencing), and the frames read the same head angles
//! at their own times to pan and roll the egocentric camera. The per-clip subject
//! variation (pose tilt, amplitude +-25 %, tempo +-15 %, phases) is drawn here.

use super::activity::ImuSignature;
use super::rng::{normal, uniform};
use rand::Rng;
use std::f32::consts::{PI, TAU};

/// `amp * sin(2 pi freq t + phase)`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Tone {
    amp: f32,
    freq: f32,
    phase: f32,
}

impl Tone {
    fn value(&self, t: f32) -> f32 {
        self.amp * (TAU * self.freq * t + self.phase).sin()
    }

    fn rate(&self, t: f32) -> f32 {
        self.amp * TAU * self.freq * (TAU * self.freq * t + self.phase).cos()
    }
}

/// A discrete movement: a raised-cosine excursion of the head (or a step, if it latches)
/// with an acceleration impulse at its height.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Event {
    start: f32,
    dur: f32,
    /// Head excursion (pitch, roll, yaw), degrees.
    angles_deg: [f32; 3],
    spike_g: [f32; 3],
    latch: bool,
}

/// Width (standard deviation) of an event's impulse, seconds: an impact is short.
const SPIKE_SD_S: f32 = 0.06;

impl Event {
    /// The excursion's fraction at `t` and its time derivative.
    fn shape(&self, t: f32) -> (f32, f32) {
        let x = (t - self.start) / self.dur;
        if x <= 0.0 {
            return (0.0, 0.0);
        }
        if self.latch {
            return if x >= 1.0 {
                (1.0, 0.0)
            } else {
                (
                    0.5 - 0.5 * (PI * x).cos(),
                    0.5 * PI * (PI * x).sin() / self.dur,
                )
            };
        }
        if x >= 1.0 {
            return (0.0, 0.0);
        }
        (
            0.5 - 0.5 * (TAU * x).cos(),
            0.5 * TAU * (TAU * x).sin() / self.dur,
        )
    }

    fn spike(&self, t: f32) -> f32 {
        let peak = if self.latch {
            self.start + self.dur
        } else {
            self.start + 0.5 * self.dur
        };
        (-0.5 * ((t - peak) / SPIKE_SD_S).powi(2)).exp()
    }
}

/// The head motion of one clip.
#[derive(Debug, Clone, PartialEq)]
pub struct Motion {
    pitch_deg: f32,
    roll_deg: f32,
    /// Head rotation (pitch, roll, yaw) in degrees.
    rot: [Vec<Tone>; 3],
    /// Linear acceleration (x, y, z) in g.
    lin: [Vec<Tone>; 3],
    events: Vec<Event>,
    /// The activity's beat at unit amplitude: the hands in the frames swing with it.
    beat: Tone,
    /// Broadband tremor the sensor rows add, g.
    pub tremor_g: f32,
}

impl Motion {
    /// Draws one subject's performance of `sig` lasting `duration_s`.
    pub fn draw(sig: &ImuSignature, duration_s: f32, rng: &mut impl Rng) -> Motion {
        let amp = uniform(rng, 0.75, 1.25);
        let freq = sig.freq_hz * uniform(rng, 0.85, 1.15);
        let split = sig.jitter * uniform(rng, 0.5, 1.0);
        let rot = [0, 1, 2].map(|a| {
            let mut tones = beat_tones(
                amp * sig.rot_deg[a],
                amp * sig.rot_h2_deg[a],
                freq,
                split,
                rng,
            );
            tones.extend(wander(sig.wander_deg[a], rng));
            tones
        });
        let lin = [0, 1, 2]
            .map(|a| beat_tones(amp * sig.lin_g[a], amp * sig.lin_h2_g[a], freq, split, rng));
        Motion {
            pitch_deg: sig.pitch_deg + 5.0 * normal(rng),
            roll_deg: sig.roll_deg + 4.0 * normal(rng),
            rot,
            lin,
            events: events(sig, duration_s, rng),
            beat: Tone {
                amp: 1.0,
                freq,
                phase: uniform(rng, 0.0, TAU),
            },
            tremor_g: sig.tremor_g * amp,
        }
    }

    /// Head pitch, roll, yaw at `t`, degrees.
    pub fn angles_deg(&self, t: f32) -> [f32; 3] {
        let mut out = [0, 1, 2].map(|a| self.rot[a].iter().map(|x| x.value(t)).sum::<f32>());
        out[0] += self.pitch_deg;
        out[1] += self.roll_deg;
        for e in &self.events {
            let (s, _) = e.shape(t);
            (0..3).for_each(|a| out[a] += s * e.angles_deg[a]);
        }
        out
    }

    /// Gyro reading at `t`, deg/s: x = roll rate, y = pitch rate, z = yaw rate.
    pub fn gyro_dps(&self, t: f32) -> [f32; 3] {
        let mut rate = [0, 1, 2].map(|a| self.rot[a].iter().map(|x| x.rate(t)).sum::<f32>());
        for e in &self.events {
            let (_, ds) = e.shape(t);
            (0..3).for_each(|a| rate[a] += ds * e.angles_deg[a]);
        }
        [rate[1], rate[0], rate[2]]
    }

    /// Accelerometer reading at `t` without sensor error, g: gravity in the head frame
    /// (magnitude 1) plus the head's linear acceleration and event impulses.
    pub fn acc_g(&self, t: f32) -> [f32; 3] {
        let [pitch, roll, _] = self.angles_deg(t).map(f32::to_radians);
        let gravity = [
            -pitch.sin(),
            roll.sin() * pitch.cos(),
            roll.cos() * pitch.cos(),
        ];
        let mut acc =
            [0, 1, 2].map(|a| gravity[a] + self.lin[a].iter().map(|x| x.value(t)).sum::<f32>());
        for e in &self.events {
            let s = e.spike(t);
            (0..3).for_each(|a| acc[a] += s * e.spike_g[a]);
        }
        acc
    }

    /// The activity's beat at `t`, in [-1, 1].
    pub fn beat(&self, t: f32) -> f32 {
        self.beat.value(t)
    }
}

/// The fundamental (split in two close tones when `split` > 0, so the amplitude beats like
/// a human rhythm) and the second harmonic, with random phases.
fn beat_tones(amp: f32, h2_amp: f32, freq: f32, split: f32, rng: &mut impl Rng) -> Vec<Tone> {
    let mut phase = || uniform(rng, 0.0, TAU);
    vec![
        Tone {
            amp: 0.5 * amp,
            freq: freq * (1.0 - split),
            phase: phase(),
        },
        Tone {
            amp: 0.5 * amp,
            freq: freq * (1.0 + split),
            phase: phase(),
        },
        Tone {
            amp: h2_amp,
            freq: 2.0 * freq,
            phase: phase(),
        },
    ]
}

/// Slow looking around: two low tones of random frequency.
fn wander(amp_deg: f32, rng: &mut impl Rng) -> Vec<Tone> {
    (0..2)
        .map(|_| Tone {
            amp: amp_deg * uniform(rng, 0.3, 0.7),
            freq: uniform(rng, 0.03, 0.25),
            phase: uniform(rng, 0.0, TAU),
        })
        .collect()
}

/// The clip's discrete movements: about `rate * duration` at random times, or one
/// latching event in the middle of the clip (a fall).
fn events(sig: &ImuSignature, duration_s: f32, rng: &mut impl Rng) -> Vec<Event> {
    let latch = sig.event_latch > 0.5;
    let count = if latch {
        1
    } else {
        (sig.event_rate_hz * duration_s + rng.random::<f32>()).floor() as usize
    };
    let scale = uniform(rng, 0.8, 1.2);
    let dur = sig.event_dur_s.max(0.2) * uniform(rng, 0.8, 1.2);
    (0..count)
        .map(|_| {
            let start = if latch {
                uniform(rng, 0.3, 0.6)
            } else {
                uniform(rng, 0.0, 1.0)
            } * (duration_s - dur).max(0.0);
            let side = if rng.random::<bool>() { 1.0 } else { -1.0 };
            Event {
                start,
                dur,
                angles_deg: [
                    scale * sig.event_pitch_deg,
                    0.0,
                    side * scale * sig.event_yaw_deg,
                ],
                spike_g: sig.event_spike_g.map(|g| scale * g),
                latch,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::activity::{signature, ClassId};
    use super::super::rng::{clip_rng, Stream};
    use super::*;

    fn motion(label: usize, duration_s: f32) -> Motion {
        let sig = signature(ClassId::new(label).unwrap(), 0.0).imu;
        Motion::draw(&sig, duration_s, &mut clip_rng(1, label, 0, Stream::Imu))
    }

    #[test]
    fn gyro_is_the_derivative_of_the_angles() {
        let m = motion(28, 12.0); // sit_stand: tones and events
        let h = 1e-3;
        for t in [0.5f32, 3.3, 7.1, 10.9] {
            let (a, b) = (m.angles_deg(t - h), m.angles_deg(t + h));
            let g = m.gyro_dps(t);
            let numeric = [
                (b[1] - a[1]) / (2.0 * h),
                (b[0] - a[0]) / (2.0 * h),
                (b[2] - a[2]) / (2.0 * h),
            ];
            for i in 0..3 {
                assert!(
                    (g[i] - numeric[i]).abs() < 0.05 * g[i].abs().max(2.0),
                    "t {t} axis {i}: {} vs {}",
                    g[i],
                    numeric[i]
                );
            }
        }
    }

    #[test]
    fn a_fall_ends_lying_with_gravity_on_x() {
        let m = motion(3, 12.0);
        let start = m.acc_g(0.2);
        let end = m.acc_g(11.9);
        assert!(start[2] > 0.9, "upright at first: {start:?}");
        assert!(end[0].abs() > 0.9, "lying at the end: {end:?}");
        let peak = (0..300)
            .map(|i| m.acc_g(i as f32 / 25.0))
            .map(|a| a.iter().map(|v| v * v).sum::<f32>().sqrt())
            .fold(0.0, f32::max);
        assert!(peak > 2.0, "impact peak {peak}");
    }

    #[test]
    fn a_still_head_reads_one_g() {
        let m = motion(31, 10.0); // watch_TV
        for t in [1.0f32, 5.0, 9.0] {
            let norm = m.acc_g(t).iter().map(|v| v * v).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 0.02, "|acc| {norm}");
        }
    }
}
