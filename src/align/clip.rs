//! Offline dataset work: the whole-clip window (one window spanning a clip,
//! the IMU time-normalised to exactly L points, T frames chosen TSN-style over
//! the clip) and a clip's fixed windows (cut as a stream would cut them, frames
//! on the stream's global frame grid from the clip's first sample).
//!
//! The clip spans `[first, last + 1 ns)` over every timestamp given, so its
//! first and last samples lie inside it. `clip_plan` only needs frame times:
//! the caller decodes just the chosen frames and builds the window with
//! `ClipPlan::into_window`.

use super::check::{check_frame_buffer, check_imu};
use super::error::AlignError;
use super::frames::{select_frames, FrameGrid};
use super::render::imu_block;
use super::resample::{GapRule, Grid};
use super::spec::WindowSpec;
use crate::sample::{Frame, ImuSample, Modality};
use crate::time::Timestamp;
use crate::window::{ImuBlock, VideoBlock, Window};

/// What to take from a clip: its span, the resampled IMU (if present) and the
/// indices (into the caller's frame list) of the frames to decode (if present).
#[derive(Debug, Clone, PartialEq)]
pub struct ClipPlan {
    pub start: Timestamp,
    pub end: Timestamp,
    /// L points over the clip, rate_hz = L / clip duration.
    pub imu: Option<ImuBlock>,
    /// T indices in time order; neighbours repeat when the clip has fewer
    /// frames than segments within reach (decode such a frame once, use it twice).
    pub frame_indices: Option<Vec<usize>>,
}

/// Plans the whole-clip window. Timestamps of each modality must strictly
/// increase; `None` or an empty slice means the modality is absent.
pub fn clip_plan(
    spec: &WindowSpec,
    imu: Option<&[ImuSample]>,
    frame_times: Option<&[Timestamp]>,
) -> Result<ClipPlan, AlignError> {
    let imu = imu.unwrap_or(&[]);
    let frames: Vec<u64> = frame_times.unwrap_or(&[]).iter().map(|t| t.0).collect();
    let (first, last) = clip_bounds(imu, &frames)?;
    if last == first {
        return Err(AlignError::ClipTooShort { t_ns: first });
    }
    let span = last.saturating_add(1) - first;
    // One window over the whole clip: its own grid, the TSN segment centres.
    let grid = FrameGrid {
        origin: first,
        span,
        frames: spec.frames(),
    };
    Ok(plan_span(spec, imu, &frames, (first, span), grid))
}

/// Plans the fixed-length windows of a clip, as a live stream would cut them:
/// spec-length windows every `spec` stride from the clip's first sample, while a
/// window fits inside the clip, each with the IMU at the spec's rate (unlike the
/// time-normalised `clip_plan`). Same inputs and checks as `clip_plan`; a clip
/// shorter than one window gives no plan.
pub fn clip_window_plans(
    spec: &WindowSpec,
    imu: Option<&[ImuSample]>,
    frame_times: Option<&[Timestamp]>,
) -> Result<Vec<ClipPlan>, AlignError> {
    let imu = imu.unwrap_or(&[]);
    let frames: Vec<u64> = frame_times.unwrap_or(&[]).iter().map(|t| t.0).collect();
    let (first, last) = clip_bounds(imu, &frames)?;
    let end = last.saturating_add(1);
    let (len, stride) = (spec.len_ns(), spec.stride_ns().max(1));
    // The stream's frame grid from the clip's first sample, as a replay of
    // the clip would have it: a window shares frames with its neighbours.
    let grid = FrameGrid {
        origin: first,
        span: len,
        frames: spec.frames(),
    };
    let starts = (0..).map(|k: u64| first.saturating_add(k.saturating_mul(stride)));
    Ok(starts
        .take_while(|s| s.saturating_add(len) <= end)
        .map(|s| plan_span(spec, imu, &frames, (s, len), grid))
        .collect())
}

/// Checks a clip's samples (sorted, finite) and returns its first and last timestamps.
fn clip_bounds(imu: &[ImuSample], frames: &[u64]) -> Result<(u64, u64), AlignError> {
    check_increasing(Modality::Imu, imu.iter().map(|s| s.t.0))?;
    check_increasing(Modality::Video, frames.iter().copied())?;
    imu.iter().try_for_each(check_imu)?;
    let firsts = [imu.first().map(|s| s.t.0), frames.first().copied()];
    let lasts = [imu.last().map(|s| s.t.0), frames.last().copied()];
    match (
        firsts.into_iter().flatten().min(),
        lasts.into_iter().flatten().max(),
    ) {
        (Some(first), Some(last)) => Ok((first, last)),
        _ => Err(AlignError::EmptyClip),
    }
}

/// The plan of one span `[start, start + span)`: IMU on an L-point grid over it,
/// T frames at the points of `frame_grid` inside it.
fn plan_span(
    spec: &WindowSpec,
    imu: &[ImuSample],
    frames: &[u64],
    (start, span): (u64, u64),
    frame_grid: FrameGrid,
) -> ClipPlan {
    let grid = |len| Grid { start, span, len };
    let rule = GapRule {
        max_gap: spec.max_gap_ns(),
        min_coverage: spec.min_coverage(),
    };
    let imu = if imu.is_empty() {
        None
    } else {
        imu_block(grid(spec.imu_len()), imu, rule)
    };
    // select_frames takes frames inside the span only; indices come back shifted.
    let lo = frames.partition_point(|&t| t < start);
    let hi = frames.partition_point(|&t| t < start.saturating_add(span));
    let inside = &frames[lo..hi];
    let frame_indices = if inside.is_empty() {
        None
    } else {
        let points = frame_grid.points_in(start);
        select_frames(&points, inside, spec.max_gap_ns())
            .map(|ix| ix.into_iter().map(|i| i + lo).collect())
    };
    ClipPlan {
        start: Timestamp(start),
        end: Timestamp(start + span),
        imu,
        frame_indices,
    }
}

impl ClipPlan {
    /// The window, given the decoded frames named by `frame_indices`, in that
    /// order (none when the plan has no video).
    pub fn into_window(self, frames: Vec<Frame>) -> Result<Window, AlignError> {
        let expected = self.frame_indices.as_ref().map_or(0, Vec::len);
        if frames.len() != expected {
            return Err(AlignError::FrameCount {
                expected,
                got: frames.len(),
            });
        }
        for (index, f) in frames.iter().enumerate() {
            self.check_frame(index, f)?;
        }
        let video = if frames.is_empty() {
            None
        } else {
            Some(VideoBlock::new(frames)?)
        };
        Ok(Window {
            start: self.start,
            end: self.end,
            video,
            imu: self.imu,
            audio: None,
        })
    }

    fn check_frame(&self, index: usize, f: &Frame) -> Result<(), AlignError> {
        if f.t < self.start || f.t >= self.end {
            let (start_ns, end_ns) = (self.start.0, self.end.0);
            return Err(AlignError::FrameOutsideClip {
                index,
                t_ns: f.t.0,
                start_ns,
                end_ns,
            });
        }
        check_frame_buffer(f)
    }
}

fn check_increasing(
    modality: Modality,
    times: impl Iterator<Item = u64>,
) -> Result<(), AlignError> {
    let mut prev: Option<u64> = None;
    for (index, t) in times.enumerate() {
        if let Some(p) = prev.filter(|&p| t <= p) {
            return Err(AlignError::Unsorted {
                modality,
                index,
                prev_ns: p,
                t_ns: t,
            });
        }
        prev = Some(t);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::WindowParams;

    const MS: u64 = 1_000_000;

    fn spec() -> WindowSpec {
        // L = round(0.16 * 25) = 4 points, T = 2 frames.
        let p = WindowParams {
            seconds: 0.16,
            frames: 2,
            max_gap_seconds: 0.05,
            min_coverage: 1.0,
            ..Default::default()
        };
        WindowSpec::new(p).expect("valid spec")
    }

    fn imu(rows: &[(u64, f32)]) -> Vec<ImuSample> {
        rows.iter()
            .map(|&(t, v)| ImuSample {
                t: Timestamp(t * MS),
                acc: [v, 0.0, 0.0],
                gyro: [0.0, 0.0, -v],
            })
            .collect()
    }

    fn times(ms: &[u64]) -> Vec<Timestamp> {
        ms.iter().map(|t| Timestamp(t * MS)).collect()
    }

    #[test]
    fn hand_computed_plan() {
        // Clip [0, 160 ms + 1 ns): 4 IMU points at 20, 60, 100, 140 ms (floors of
        // (2i+1) * 160000001 / 8 ns), values halfway between samples.
        // Frame centres at 40 and 120 ms: 33 (7 away) and 133 (13 away; 100 is 20).
        let rows = imu(&[(0, 0.0), (40, 4.0), (80, 8.0), (120, 4.0), (160, 0.0)]);
        let frames = times(&[0, 33, 66, 100, 133]);
        let plan = clip_plan(&spec(), Some(&rows), Some(&frames)).expect("plan");
        assert_eq!(
            (plan.start, plan.end),
            (Timestamp(0), Timestamp(160 * MS + 1))
        );
        let block = plan.imu.expect("imu present");
        assert_eq!(block.channel(0), &[2.0, 6.0, 6.0, 2.0]);
        assert_eq!(block.channel(5), &[-2.0, -6.0, -6.0, -2.0]);
        assert!((block.rate_hz - 25.0).abs() < 1e-3);
        assert_eq!(plan.frame_indices, Some(vec![1, 4]));
    }

    #[test]
    fn presence_rules_apply_to_clips() {
        // 40..120 ms is 80 ms > max_gap 50 ms and spans grid points.
        let rows = imu(&[(0, 0.0), (40, 4.0), (120, 4.0), (160, 0.0)]);
        let plan = clip_plan(&spec(), Some(&rows), None).expect("plan");
        assert_eq!((plan.imu, plan.frame_indices), (None, None));
        // Frames only near the start: the centre at 120 ms has none within 50 ms.
        let plan = clip_plan(
            &spec(),
            Some(&imu(&[(0, 0.0), (160, 0.0)])),
            Some(&times(&[0, 33, 66])),
        )
        .expect("plan");
        assert_eq!(plan.frame_indices, None);
    }

    #[test]
    fn refuses_bad_clips() {
        assert_eq!(
            clip_plan(&spec(), None, Some(&[])),
            Err(AlignError::EmptyClip)
        );
        assert_eq!(
            clip_plan(&spec(), None, Some(&times(&[5]))),
            Err(AlignError::ClipTooShort { t_ns: 5 * MS })
        );
        let err = clip_plan(&spec(), None, Some(&times(&[0, 40, 40]))).expect_err("unsorted");
        assert_eq!(
            err,
            AlignError::Unsorted {
                modality: Modality::Video,
                index: 2,
                prev_ns: 40 * MS,
                t_ns: 40 * MS
            }
        );
        let mut rows = imu(&[(0, 0.0), (40, 1.0)]);
        rows[1].gyro[1] = f32::NAN;
        assert!(matches!(
            clip_plan(&spec(), Some(&rows), None),
            Err(AlignError::NonFinite { index: 4, .. })
        ));
    }

    #[test]
    fn into_window_checks_frames() {
        let frame = |t: u64| Frame {
            t: Timestamp(t * MS),
            width: 1,
            height: 1,
            rgb: vec![7; 3],
        };
        let plan = clip_plan(&spec(), None, Some(&times(&[0, 40, 80, 120, 160]))).expect("plan");
        assert_eq!(plan.frame_indices, Some(vec![1, 3])); // centres 40, 120
        let err = plan
            .clone()
            .into_window(vec![frame(40)])
            .expect_err("count");
        assert_eq!(
            err,
            AlignError::FrameCount {
                expected: 2,
                got: 1
            }
        );
        let err = plan
            .clone()
            .into_window(vec![frame(40), frame(200)])
            .expect_err("outside");
        assert!(matches!(err, AlignError::FrameOutsideClip { index: 1, .. }));
        let w = plan
            .into_window(vec![frame(40), frame(120)])
            .expect("window");
        assert_eq!(w.present(), vec![Modality::Video]);
        assert_eq!(w.video.map(|v| v.frames.len()), Some(2));
    }

    #[test]
    fn a_clips_fixed_windows_keep_the_spec_rate_and_their_own_frames() {
        use crate::align::WindowParams;
        let spec = WindowSpec::new(WindowParams {
            seconds: 2.0,
            stride_seconds: 1.0,
            imu_rate_hz: 10.0,
            frames: 2,
            ..WindowParams::default()
        })
        .unwrap();
        // 4.5 s of IMU at 10 Hz (t = 0, 0.1, ..., 4.5) and frames every 0.5 s.
        let imu: Vec<ImuSample> = (0..=45)
            .map(|i| ImuSample {
                t: Timestamp(i * 100_000_000),
                acc: [i as f32; 3],
                gyro: [0.0; 3],
            })
            .collect();
        let frames: Vec<Timestamp> = (0..=9).map(|j| Timestamp(j * 500_000_000)).collect();
        let plans = clip_window_plans(&spec, Some(&imu), Some(&frames)).unwrap();
        // Starts 0, 1, 2 s fit in [0, 4.5 s]; 3 s would end at 5 s.
        let starts: Vec<u64> = plans.iter().map(|p| p.start.0 / 1_000_000).collect();
        assert_eq!(starts, [0, 1000, 2000]);
        for p in &plans {
            let block = p.imu.as_ref().expect("imu present");
            assert_eq!(block.len, 20);
            assert!((block.rate_hz - 10.0).abs() < 1e-6, "{}", block.rate_hz);
        }
        // Window [1 s, 3 s): segment centres 1.5 s and 2.5 s -> frames 3 and 5.
        assert_eq!(plans[1].frame_indices, Some(vec![3, 5]));
        // Grid point i of window [1 s, 3 s) is at 1.05 + 0.1 i s: acc = 10.5 + i.
        assert!((plans[1].imu.as_ref().unwrap().channel(0)[0] - 10.5).abs() < 1e-4);
    }
}
