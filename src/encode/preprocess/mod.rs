//! Windows to input tensors: the one place the runtime's side of the encoder
//! contract is implemented.
//!
//! Video: each RGB8 frame is resized to the model's H x W with bilinear
//! interpolation on half-pixel centres (OpenCV `INTER_LINEAR`, PyTorch
//! `interpolate(mode="bilinear", align_corners=False, antialias=False)`),
//! scaled to [0, 1], then normalized per channel with the contract's mean and
//! std, laid out `[N, T, 3, H, W]`. IMU: the `[6, L]` block is copied as is
//! (g and °/s; the model normalizes). An absent modality is fed as zeros with
//! its `present` column 0. A window whose shape differs from the model's (frame
//! count, IMU length or rate) is refused with the numbers, never padded.

mod image;

pub use image::{normalize_into, resize_bilinear, resize_rgb8, Size};

use super::contract::ModelContract;
use crate::sample::Frame;
use crate::window::Window;

/// Input tensors for `n` windows, in the contract's layouts (row-major).
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub n: usize,
    /// `[n, T, 3, H, W]`.
    pub video: Vec<f32>,
    /// `[n, 6, L]`.
    pub imu: Vec<f32>,
    /// `[n, 2]`: video, imu; 1 = present.
    pub present: Vec<f32>,
}

/// Why a window cannot be fed to the model. `window` is its index in the
/// slice given to `Encoder::encode`.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PreprocessError {
    #[error("window {window}: {got} video frames, the model takes {expected}")]
    FrameCount {
        window: usize,
        expected: usize,
        got: usize,
    },
    #[error("window {window}: IMU block has {got} points per channel, the model takes {expected}")]
    ImuLen {
        window: usize,
        expected: usize,
        got: usize,
    },
    #[error("window {window}: IMU block has {got} values, 6 x {len} expected")]
    ImuValues {
        window: usize,
        len: usize,
        got: usize,
    },
    #[error("window {window}: IMU resampled at {got} Hz, the model expects {expected} Hz")]
    ImuRate {
        window: usize,
        expected: f32,
        got: f32,
    },
    #[error("window {window}: neither video nor IMU is present, nothing to encode")]
    Empty { window: usize },
    #[error("window {window}, frame {frame}: a {width}x{height} frame needs {expected} RGB bytes, got {got}")]
    FrameBytes {
        window: usize,
        frame: usize,
        width: u32,
        height: u32,
        expected: usize,
        got: usize,
    },
}

impl Batch {
    /// Builds the tensors for `windows`; `first` is the index of `windows[0]`
    /// in the caller's slice, so errors name the window the caller knows.
    pub fn from_windows(
        windows: &[Window],
        contract: &ModelContract,
        first: usize,
    ) -> Result<Batch, PreprocessError> {
        let frame_len = 3 * contract.height * contract.width;
        let clip_len = contract.frames * frame_len;
        let imu_len = 6 * contract.imu_len;
        let n = windows.len();
        let mut batch = Batch {
            n,
            video: vec![0.0; n * clip_len],
            imu: vec![0.0; n * imu_len],
            present: vec![0.0; n * 2],
        };
        let chunks = batch
            .video
            .chunks_mut(clip_len.max(1))
            .zip(batch.imu.chunks_mut(imu_len.max(1)));
        for (i, ((w, (video, imu)), present)) in windows
            .iter()
            .zip(chunks)
            .zip(batch.present.chunks_mut(2))
            .enumerate()
        {
            let index = first + i;
            if w.video.is_none() && w.imu.is_none() {
                return Err(PreprocessError::Empty { window: index });
            }
            if let Some(block) = &w.video {
                write_video(&block.frames, contract, index, video)?;
                present[0] = 1.0;
            }
            if let Some(block) = &w.imu {
                check_imu(block, contract, index)?;
                imu.copy_from_slice(&block.data);
                present[1] = 1.0;
            }
        }
        Ok(batch)
    }

    /// This batch with zero rows (every modality absent) appended up to `rows`.
    pub fn padded(&self, rows: usize) -> Batch {
        let per = |v: &Vec<f32>| v.len() / self.n.max(1);
        let grow = |v: &Vec<f32>| {
            let mut v2 = v.clone();
            v2.resize(per(v) * rows.max(self.n), 0.0);
            v2
        };
        Batch {
            n: rows.max(self.n),
            video: grow(&self.video),
            imu: grow(&self.imu),
            present: grow(&self.present),
        }
    }

    /// Whether modality column `m` (0 video, 1 imu) of window `i` is present.
    pub fn is_present(&self, i: usize, m: usize) -> bool {
        self.present.get(i * 2 + m).is_some_and(|p| *p > 0.5)
    }
}

pub(crate) fn check_imu(
    block: &crate::window::ImuBlock,
    c: &ModelContract,
    window: usize,
) -> Result<(), PreprocessError> {
    if block.len != c.imu_len {
        return Err(PreprocessError::ImuLen {
            window,
            expected: c.imu_len,
            got: block.len,
        });
    }
    if block.data.len() != 6 * block.len {
        return Err(PreprocessError::ImuValues {
            window,
            len: block.len,
            got: block.data.len(),
        });
    }
    // Rates are written as decimals in metadata; 0.1 % absorbs their rounding.
    if (block.rate_hz - c.imu_rate_hz).abs() > 1e-3 * c.imu_rate_hz {
        return Err(PreprocessError::ImuRate {
            window,
            expected: c.imu_rate_hz,
            got: block.rate_hz,
        });
    }
    Ok(())
}

fn write_video(
    frames: &[Frame],
    c: &ModelContract,
    window: usize,
    out: &mut [f32],
) -> Result<(), PreprocessError> {
    if frames.len() != c.frames {
        return Err(PreprocessError::FrameCount {
            window,
            expected: c.frames,
            got: frames.len(),
        });
    }
    let frame_len = 3 * c.height * c.width;
    for (t, (frame, out)) in frames
        .iter()
        .zip(out.chunks_mut(frame_len.max(1)))
        .enumerate()
    {
        write_frame(frame, c, (window, t), out)?;
    }
    Ok(())
}

/// One frame resized to the model's H x W and normalized into `out`
/// (`[3, H, W]`); `at` is (window, frame) for the error.
pub fn write_frame(
    frame: &Frame,
    c: &ModelContract,
    at: (usize, usize),
    out: &mut [f32],
) -> Result<(), PreprocessError> {
    let expected = frame.width as usize * frame.height as usize * 3;
    if frame.rgb.len() != expected || expected == 0 {
        return Err(PreprocessError::FrameBytes {
            window: at.0,
            frame: at.1,
            width: frame.width,
            height: frame.height,
            expected,
            got: frame.rgb.len(),
        });
    }
    let size = Size {
        width: frame.width as usize,
        height: frame.height as usize,
    };
    let to = Size {
        width: c.width,
        height: c.height,
    };
    normalize_into(
        &resize_bilinear(&frame.rgb, size, to),
        c.video_mean,
        c.video_std,
        out,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;
    use crate::window::{ImuBlock, VideoBlock};

    fn contract() -> ModelContract {
        ModelContract {
            frames: 2,
            height: 4,
            width: 4,
            imu_len: 3,
            imu_rate_hz: 25.0,
            window_seconds: 0.12,
            dim: 4,
            video_dim: 2,
            imu_dim: 2,
            modalities: vec!["video".into(), "imu".into()],
            video_mean: [0.485, 0.456, 0.406],
            video_std: [0.229, 0.224, 0.225],
            name: "test".into(),
            sha256: "0".repeat(64),
            fixed_batch: None,
            flops_per_window: None,
            frame_stage: None,
        }
    }

    fn frame(w: u32, h: u32, byte: u8) -> Frame {
        Frame::new(Timestamp(0), w, h, vec![byte; (w * h * 3) as usize]).unwrap()
    }

    fn window(frames: usize, imu_len: usize) -> Window {
        let video = VideoBlock::new((0..frames).map(|_| frame(8, 6, 255)).collect()).unwrap();
        let imu =
            ImuBlock::new(25.0, imu_len, (0..6 * imu_len).map(|i| i as f32).collect()).unwrap();
        Window {
            start: Timestamp(0),
            end: Timestamp(1),
            video: Some(video),
            imu: Some(imu),
            audio: None,
        }
    }

    #[test]
    fn batch_lays_out_video_imu_and_presence() {
        let c = contract();
        let windows = [
            window(2, 3),
            window(2, 3).without(crate::sample::Modality::Video),
        ];
        let b = Batch::from_windows(&windows, &c, 0).unwrap();
        assert_eq!(
            (b.n, b.video.len(), b.imu.len()),
            (2, 2 * 2 * 3 * 16, 2 * 18)
        );
        assert_eq!(b.present, [1.0, 1.0, 0.0, 1.0]);
        let white_red = (1.0 - 0.485) / 0.229;
        assert!((b.video[0] - white_red).abs() < 1e-5);
        assert!(
            b.video[96..].iter().all(|v| *v == 0.0),
            "absent video is zeros"
        );
        assert_eq!(
            b.imu[..18],
            (0..18).map(|i| i as f32).collect::<Vec<_>>()[..]
        );
        assert!(b.is_present(0, 0) && !b.is_present(1, 0) && b.is_present(1, 1));
    }

    #[test]
    fn wrong_shapes_are_refused_with_the_numbers() {
        let c = contract();
        let err = Batch::from_windows(&[window(2, 3), window(3, 3)], &c, 10).unwrap_err();
        assert_eq!(
            err,
            PreprocessError::FrameCount {
                window: 11,
                expected: 2,
                got: 3
            }
        );
        let err = Batch::from_windows(&[window(2, 4)], &c, 0).unwrap_err();
        assert_eq!(
            err,
            PreprocessError::ImuLen {
                window: 0,
                expected: 3,
                got: 4
            }
        );
        assert!(err.to_string().contains("4 points") && err.to_string().contains("takes 3"));
        let mut fast = window(2, 3);
        if let Some(imu) = fast.imu.as_mut() {
            imu.rate_hz = 50.0;
        }
        let err = Batch::from_windows(&[fast], &c, 0).unwrap_err();
        assert_eq!(
            err,
            PreprocessError::ImuRate {
                window: 0,
                expected: 25.0,
                got: 50.0
            }
        );
        let empty = window(2, 3)
            .without(crate::sample::Modality::Video)
            .without(crate::sample::Modality::Imu);
        assert_eq!(
            Batch::from_windows(&[empty], &c, 0).unwrap_err(),
            PreprocessError::Empty { window: 0 }
        );
    }

    #[test]
    fn padding_appends_absent_rows() {
        let c = contract();
        let b = Batch::from_windows(&[window(2, 3)], &c, 0).unwrap();
        let p = b.padded(3);
        assert_eq!(
            (p.n, p.video.len(), p.imu.len()),
            (3, 3 * b.video.len(), 3 * b.imu.len())
        );
        assert_eq!(p.present, [1.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(p.video[..b.video.len()], b.video[..]);
    }
}
