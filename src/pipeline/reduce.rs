//! Frames reduced to the encoder's input size where they enter the pipeline (in
//! the source thread, before the channel), so every buffered frame costs what
//! the encoder needs: 112x112x3 = 37 KB instead of 921 KB at 640x480.
//!
//! The reduction is the encoder's own resize (`encode::preprocess::resize_bilinear`,
//! half-pixel bilinear), rounded to 8 bits; at equal size that resize is the
//! identity, so the encoder sees the same pixels up to that rounding (half a
//! level per channel, none where the bilinear value is whole).
//! `tests/pipeline_reduce.rs` checks both.

use crate::encode::preprocess::{resize_rgb8, Size};
use crate::sample::Frame;

/// `frame` at `(width, height)`. A frame already at that size, or one whose
/// buffer does not match its size (the aligner refuses and counts it), is
/// returned unchanged.
pub fn reduce_frame(frame: Frame, (width, height): (u32, u32)) -> Frame {
    let whole = frame.width as usize * frame.height as usize * 3;
    let same = (frame.width, frame.height) == (width, height);
    if same || whole == 0 || frame.rgb.len() != whole || width == 0 || height == 0 {
        return frame;
    }
    let from = Size {
        width: frame.width as usize,
        height: frame.height as usize,
    };
    let to = Size {
        width: width as usize,
        height: height as usize,
    };
    let rgb = resize_rgb8(&frame.rgb, from, to);
    Frame {
        t: frame.t,
        width,
        height,
        rgb,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;

    #[test]
    fn two_by_two_blocks_halve_exactly() {
        // Each 2x2 block has one value, so the half-pixel bilinear mean is whole.
        let (w, h) = (4u32, 2u32);
        let rgb: Vec<u8> = (0..h)
            .flat_map(|_| (0..w).flat_map(|x| [(x / 2 * 100) as u8, 7, 255]))
            .collect();
        let f = Frame::new(Timestamp(5), w, h, rgb).unwrap();
        let r = reduce_frame(f, (2, 1));
        assert_eq!((r.t, r.width, r.height), (Timestamp(5), 2, 1));
        assert_eq!(r.rgb, [0, 7, 255, 100, 7, 255]);
    }

    #[test]
    fn a_frame_at_size_or_with_a_bad_buffer_is_untouched() {
        let f = Frame::new(Timestamp(0), 2, 2, vec![9; 12]).unwrap();
        assert_eq!(reduce_frame(f.clone(), (2, 2)), f);
        let bad = Frame {
            t: Timestamp(0),
            width: 4,
            height: 4,
            rgb: vec![1; 5],
        };
        assert_eq!(reduce_frame(bad.clone(), (2, 2)), bad);
    }
}
