//! Negotiating a capture mode: of the modes a camera offers, the one closest to
//! what the profile asks. nokhwa's own "closest" request fails outright when the
//! exact resolution is not offered, so the choice is made here, from the list
//! the driver gives, and then set exactly.
//!
//! Closest means, in order: the nearest resolution (sum of the width and height
//! differences), then a frame rate not below the one asked (the window needs its
//! frames), then the nearest rate, then the format preference.

use super::convert::PixelFormat;

/// One capture mode: size, frames per second and pixel format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub format: PixelFormat,
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}x{} @ {} fps",
            self.format, self.width, self.height, self.fps
        )
    }
}

/// The offered mode closest to `wanted` (its format is ignored), of `format`
/// when given, else of any convertible format; `None` when none qualifies.
pub fn choose(offered: &[Mode], wanted: Mode, format: Option<PixelFormat>) -> Option<Mode> {
    let rank = |f: PixelFormat| PixelFormat::PREFERENCE.iter().position(|p| *p == f);
    offered
        .iter()
        .filter(|m| format.is_none_or(|f| m.format == f))
        .filter_map(|m| rank(m.format).map(|r| (m, r)))
        .min_by_key(|(m, rank)| {
            let distance = m.width.abs_diff(wanted.width) + m.height.abs_diff(wanted.height);
            let too_slow = m.fps < wanted.fps;
            (distance, too_slow, m.fps.abs_diff(wanted.fps), *rank)
        })
        .map(|(m, _)| *m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use PixelFormat::{Mjpeg, Yuyv};

    fn mode(width: u32, height: u32, fps: u32, format: PixelFormat) -> Mode {
        Mode {
            width,
            height,
            fps,
            format,
        }
    }

    #[test]
    fn the_nearest_size_wins_then_enough_frames_then_the_preferred_format() {
        let offered = [
            mode(1280, 720, 30, Mjpeg),
            mode(640, 480, 30, Mjpeg),
            mode(640, 480, 30, Yuyv),
            mode(640, 480, 15, Yuyv),
            mode(320, 240, 30, Yuyv),
        ];
        let want = |w, h, fps| mode(w, h, fps, Yuyv);
        assert_eq!(choose(&offered, want(640, 480, 30), None), Some(offered[2]));
        assert_eq!(
            choose(&offered, want(640, 480, 30), Some(Mjpeg)),
            Some(offered[1])
        );
        // 20 fps asked: 30 (enough) beats 15 (closer but too slow).
        assert_eq!(
            choose(&offered, want(640, 480, 20), Some(Yuyv)),
            Some(offered[2])
        );
        // A size nobody offers: the nearest one.
        assert_eq!(choose(&offered, want(300, 200, 30), None), Some(offered[4]));
        assert_eq!(
            choose(&offered, want(640, 480, 30), Some(PixelFormat::Nv12)),
            None
        );
        assert_eq!(choose(&[], want(640, 480, 30), None), None);
    }
}
