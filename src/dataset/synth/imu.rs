//! The sensor CSV of a clip: the motion read at 25 Hz through an imperfect MPU.
//!
//! Sensor error follows a cheap MEMS part, scaled by `--noise`: white noise, a per-clip
//! bias and a random-walk bias drift on every axis, body tremor (with the gyro shaking
//! along), and sometimes a stuck run where the sensor repeats one row. Values are written
//! as raw counts (acc g * 8192, gyro deg/s * 16.4), rounded and clamped to i16 like the
//! device's registers, so a hard fall saturates at +-4 g.

use super::motion::Motion;
use super::plan::Dropout;
use super::rng::normal;
use crate::dataset::layout::{ACC_COUNTS_PER_G, GYRO_COUNTS_PER_DPS, NOMINAL_RATE_HZ};
use rand::Rng;
use std::fmt::Write;

/// Sensor error at `--noise 1`, per axis (standard deviations).
const ACC_NOISE_G: f32 = 0.01;
const GYRO_NOISE_DPS: f32 = 0.3;
const ACC_BIAS_G: f32 = 0.02;
const GYRO_BIAS_DPS: f32 = 1.0;
/// Random-walk steps per row: drift of ~0.01 g and ~0.5 deg/s over a 10 s clip.
const ACC_DRIFT_G: f32 = 0.0006;
const GYRO_DRIFT_DPS: f32 = 0.03;
/// Gyro shake per g of tremor: a tremor rotates the head as well as shaking it.
const TREMOR_DPS_PER_G: f32 = 40.0;

/// One CSV row of raw counts: acc x, y, z, gyro x, y, z.
pub type RawRow = [i16; 6];

/// `rows` sensor rows of `motion` with sensor error scaled by `noise`.
pub fn sensor_rows(
    motion: &Motion,
    rows: usize,
    noise: f32,
    dropout: Option<Dropout>,
    rng: &mut impl Rng,
) -> Vec<RawRow> {
    let mut acc_bias = [0; 3].map(|_| noise * ACC_BIAS_G * normal(rng));
    let mut gyro_bias = [0; 3].map(|_| noise * GYRO_BIAS_DPS * normal(rng));
    let mut out = Vec::with_capacity(rows);
    for i in 0..rows {
        let t = (i as f64 / NOMINAL_RATE_HZ) as f32;
        let (acc, gyro) = (motion.acc_g(t), motion.gyro_dps(t));
        let mut row = [0i16; 6];
        for a in 0..3 {
            acc_bias[a] += noise * ACC_DRIFT_G * normal(rng);
            gyro_bias[a] += noise * GYRO_DRIFT_DPS * normal(rng);
            let tremor = motion.tremor_g * normal(rng);
            let acc_g = acc[a] + acc_bias[a] + tremor + noise * ACC_NOISE_G * normal(rng);
            let gyro_dps = gyro[a]
                + gyro_bias[a]
                + TREMOR_DPS_PER_G * motion.tremor_g * normal(rng)
                + noise * GYRO_NOISE_DPS * normal(rng);
            row[a] = to_counts(acc_g * ACC_COUNTS_PER_G);
            row[a + 3] = to_counts(gyro_dps * GYRO_COUNTS_PER_DPS);
        }
        out.push(row);
    }
    if let Some(d) = dropout {
        hold(&mut out, d);
    }
    out
}

/// A register value: rounded and saturated, as the MPU's 16-bit output does.
fn to_counts(value: f32) -> i16 {
    value.round().clamp(i16::MIN as f32, i16::MAX as f32) as i16
}

/// A stuck sensor: the row at the run's start repeats for the whole run.
fn hold(rows: &mut [RawRow], d: Dropout) {
    let Some(&held) = rows.get(d.start) else {
        return;
    };
    let end = (d.start + d.len).min(rows.len());
    rows[d.start..end].iter_mut().for_each(|r| *r = held);
}

/// The CSV text: no header, comma-separated integers, one row per line.
pub fn to_csv(rows: &[RawRow]) -> String {
    let mut text = String::with_capacity(rows.len() * 36);
    for r in rows {
        let _ = writeln!(
            text,
            "{},{},{},{},{},{}",
            r[0], r[1], r[2], r[3], r[4], r[5]
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::super::activity::{signature, ClassId};
    use super::super::rng::{clip_rng, Stream};
    use super::*;

    fn rows(label: usize, noise: f32, dropout: Option<Dropout>) -> Vec<RawRow> {
        let sig = signature(ClassId::new(label).unwrap(), 0.5).imu;
        let mut rng = clip_rng(3, label, 1, Stream::Imu);
        let motion = Motion::draw(&sig, 10.0, &mut rng);
        sensor_rows(&motion, 250, noise, dropout, &mut rng)
    }

    #[test]
    fn counts_round_and_saturate() {
        assert_eq!(to_counts(8191.6), 8192);
        assert_eq!(to_counts(1e9), i16::MAX);
        assert_eq!(to_counts(-1e9), i16::MIN);
    }

    #[test]
    fn a_still_head_reads_about_one_g_in_counts() {
        let r = rows(11, 1.0, None); // standing
        let mean_norm = r
            .iter()
            .map(|r| {
                (0..3)
                    .map(|a| (r[a] as f32 / ACC_COUNTS_PER_G).powi(2))
                    .sum::<f32>()
                    .sqrt()
            })
            .sum::<f32>()
            / r.len() as f32;
        assert!((mean_norm - 1.0).abs() < 0.05, "mean |acc| {mean_norm} g");
    }

    #[test]
    fn dropout_holds_one_row() {
        let r = rows(19, 1.0, Some(Dropout { start: 40, len: 20 }));
        assert!(r[40..60].iter().all(|x| *x == r[40]));
        assert_ne!(r[60], r[40]);
        assert_ne!(r[39], r[40]);
    }

    #[test]
    fn dropout_past_the_end_is_cut() {
        let r = rows(
            19,
            1.0,
            Some(Dropout {
                start: 240,
                len: 50,
            }),
        );
        assert_eq!(r.len(), 250);
        assert!(r[240..].iter().all(|x| *x == r[240]));
    }

    #[test]
    fn csv_has_six_integer_columns_and_no_header() {
        let text = to_csv(&[[1, -2, 3, 4, 5, -6], [0; 6]]);
        assert_eq!(text, "1,-2,3,4,5,-6\n0,0,0,0,0,0\n");
    }
}
