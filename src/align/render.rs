//! Building one window's blocks from the samples in its reach: the IMU and
//! audio grids (`resample`) and the T frames (`frames`, on the global frame
//! grid). Shared by the streaming aligner and the clip plans, so both apply
//! one presence rule and pick the same frames for the same window.

use super::frames::select_frames;
use super::resample::{resample, GapRule, Grid};
use crate::sample::{AudioChunk, Frame, ImuSample};
use crate::window::{AudioBlock, ImuBlock, VideoBlock};

/// The IMU block on `grid` from `samples` (strictly increasing times), or
/// `None` when the presence rule fails.
pub fn imu_block(grid: Grid, samples: &[ImuSample], rule: GapRule) -> Option<ImuBlock> {
    let points: Vec<(u64, [f32; 6])> = samples.iter().map(|s| (s.t.0, s.channels())).collect();
    let data = resample(grid, &points, rule).ok()?;
    ImuBlock::new(grid.rate_hz(), grid.len, data).ok()
}

/// The video block: the frame nearest each of the frame grid's `points`
/// among `frames` (strictly increasing times, all inside the window).
pub fn video_block(points: &[u64], frames: &[Frame], max_gap: u64) -> Option<VideoBlock> {
    let times: Vec<u64> = frames.iter().map(|f| f.t.0).collect();
    let chosen = select_frames(points, &times, max_gap)?;
    VideoBlock::new(
        chosen
            .iter()
            .filter_map(|&i| frames.get(i).cloned())
            .collect(),
    )
    .ok()
}

/// The audio block on `grid`: every PCM sample of `chunks` gets the time
/// chunk.t + j / rate, samples outside `[lo, hi]` are skipped (they cannot
/// bracket a grid point within max_gap), and an instant covered by two
/// overlapping chunks keeps the earlier chunk's sample.
pub fn audio_block(
    grid: Grid,
    chunks: &[AudioChunk],
    rate_hz: u32,
    lo: u64,
    hi: u64,
    rule: GapRule,
) -> Option<AudioBlock> {
    let mut points: Vec<(u64, [f32; 1])> = Vec::new();
    for chunk in chunks {
        let step = 1e9 / f64::from(rate_hz.max(1));
        let timed = chunk
            .pcm
            .iter()
            .enumerate()
            .map(|(j, &v)| (chunk.t.0.saturating_add((j as f64 * step) as u64), [v]));
        points.extend(timed.filter(|p| (lo..=hi).contains(&p.0)));
    }
    points.sort_by_key(|p| p.0); // stable: the earlier chunk stays first
    points.dedup_by_key(|p| p.0);
    let pcm = resample(grid, &points, rule).ok()?;
    Some(AudioBlock { rate_hz, pcm })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;

    const MS: u64 = 1_000_000;

    #[test]
    fn audio_chunks_join_into_one_stream() {
        // 1 kHz: two chunks of 4 samples at 0 and 4 ms, one overlapping chunk
        // at 6 ms whose first two samples collide with the second chunk's.
        let chunk = |t: u64, pcm: Vec<f32>| AudioChunk {
            t: Timestamp(t * MS),
            rate_hz: 1000,
            pcm,
        };
        let chunks = [
            chunk(0, vec![0.0, 1.0, 2.0, 3.0]),
            chunk(4, vec![4.0, 5.0, 6.0, 7.0]),
            chunk(6, vec![60.0, 70.0, 8.0]),
        ];
        // Grid: 8 points over [0, 8 ms) at 0.5, 1.5, ... 7.5 ms: halfway values.
        let grid = Grid {
            start: 0,
            span: 8 * MS,
            len: 8,
        };
        let rule = GapRule {
            max_gap: 2 * MS,
            min_coverage: 1.0,
        };
        let block = audio_block(grid, &chunks, 1000, 0, 10 * MS, rule).expect("present");
        assert_eq!(block.pcm, vec![0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5]);
    }

    #[test]
    fn video_block_clones_chosen_frames_in_order() {
        let f = |t: u64, v: u8| Frame {
            t: Timestamp(t * MS),
            width: 1,
            height: 1,
            rgb: vec![v; 3],
        };
        let frames = [f(10, 1), f(60, 2), f(90, 3)];
        let points = [25 * MS, 75 * MS];
        let block = video_block(&points, &frames, 30 * MS).expect("present");
        let picked: Vec<u8> = block.frames.iter().map(|f| f.rgb[0]).collect();
        assert_eq!(picked, vec![1, 2]); // 25: 10 (15) vs 60 (35); 75: 60 (15) vs 90 (15) tie -> 60
    }
}
