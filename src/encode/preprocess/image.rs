//! Frame pixels to model pixels: bilinear resize on half-pixel centres and
//! per-channel normalization into the planar layout.

/// Width and height in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    pub width: usize,
    pub height: usize,
}

/// One output coordinate's two source neighbours and the weight of the second.
fn taps(dst: usize, src: usize) -> Vec<(usize, usize, f32)> {
    let scale = src as f32 / dst as f32;
    (0..dst)
        .map(|x| {
            let s = ((x as f32 + 0.5) * scale - 0.5).clamp(0.0, (src - 1) as f32);
            let lo = s.floor() as usize;
            (lo, (lo + 1).min(src - 1), s - lo as f32)
        })
        .collect()
}

/// `resize_bilinear` rounded back to RGB8: how frames are reduced before the
/// encoder sees them (at decode and where they enter the pipeline), so the
/// encoder's own resize of the result is the identity up to that rounding.
pub fn resize_rgb8(src: &[u8], from: Size, to: Size) -> Vec<u8> {
    resize_bilinear(src, from, to)
        .into_iter()
        .map(|v| v.round().clamp(0.0, 255.0) as u8)
        .collect()
}

/// Bilinear resize of interleaved RGB8 (`src.len() == 3 * w * h`, checked by
/// the caller) to interleaved f32 RGB in [0, 255].
pub fn resize_bilinear(src: &[u8], from: Size, to: Size) -> Vec<f32> {
    let xs = taps(to.width, from.width);
    let ys = taps(to.height, from.height);
    let px = |x: usize, y: usize, c: usize| f32::from(src[(y * from.width + x) * 3 + c]);
    let mut out = Vec::with_capacity(to.width * to.height * 3);
    for &(y0, y1, wy) in &ys {
        for &(x0, x1, wx) in &xs {
            for c in 0..3 {
                let top = px(x0, y0, c) * (1.0 - wx) + px(x1, y0, c) * wx;
                let bottom = px(x0, y1, c) * (1.0 - wx) + px(x1, y1, c) * wx;
                out.push(top * (1.0 - wy) + bottom * wy);
            }
        }
    }
    out
}

/// Interleaved RGB in [0, 255] to planar `[3, H, W]`: `(v / 255 - mean) / std`.
pub fn normalize_into(hwc: &[f32], mean: [f32; 3], std: [f32; 3], chw: &mut [f32]) {
    let plane = hwc.len() / 3;
    for (p, rgb) in hwc.chunks_exact(3).enumerate() {
        for c in 0..3 {
            if let Some(slot) = chw.get_mut(c * plane + p) {
                *slot = (rgb[c] / 255.0 - mean[c]) / std[c];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    fn red(rgb: &[f32]) -> Vec<f32> {
        rgb.chunks(3).map(|p| p[0]).collect()
    }

    #[test]
    fn resize_to_the_same_size_is_the_identity() {
        let src: Vec<u8> = (0..5 * 3 * 3).map(|i| (i * 7 % 256) as u8).collect();
        let size = Size {
            width: 5,
            height: 3,
        };
        let out = resize_bilinear(&src, size, size);
        assert_eq!(out, src.iter().map(|b| f32::from(*b)).collect::<Vec<_>>());
    }

    #[test]
    fn upscale_2x2_to_4x4_matches_half_pixel_bilinear() {
        // Red channel [[0, 100], [200, 250]]; output x samples source x at
        // -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1); same for y.
        let src = [0u8, 0, 0, 100, 0, 0, 200, 0, 0, 250, 0, 0];
        let out = resize_bilinear(
            &src,
            Size {
                width: 2,
                height: 2,
            },
            Size {
                width: 4,
                height: 4,
            },
        );
        let r = red(&out);
        let want = [
            [0.0, 25.0, 75.0, 100.0],
            [50.0, 71.875, 115.625, 137.5],
            [150.0, 165.625, 196.875, 212.5],
            [200.0, 212.5, 237.5, 250.0],
        ];
        for (y, row) in want.iter().enumerate() {
            for (x, v) in row.iter().enumerate() {
                assert!(
                    (r[y * 4 + x] - v).abs() < 1e-4,
                    "pixel ({x},{y}): {} vs {v}",
                    r[y * 4 + x]
                );
            }
        }
    }

    #[test]
    fn downscale_averages_neighbouring_pairs() {
        let src = [0u8, 0, 0, 10, 0, 0, 20, 0, 0, 30, 0, 0];
        let out = resize_bilinear(
            &src,
            Size {
                width: 4,
                height: 1,
            },
            Size {
                width: 2,
                height: 1,
            },
        );
        assert_eq!(red(&out), [5.0, 25.0]);
    }

    #[test]
    fn normalization_uses_imagenet_mean_and_std_planar() {
        let hwc = [255.0, 0.0, 127.5, 0.0, 255.0, 255.0];
        let mut chw = [0.0f32; 6];
        normalize_into(&hwc, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225], &mut chw);
        let want = [
            (1.0 - 0.485) / 0.229,
            (0.0 - 0.485) / 0.229,
            (0.0 - 0.456) / 0.224,
            (1.0 - 0.456) / 0.224,
            (0.5 - 0.406) / 0.225,
            (1.0 - 0.406) / 0.225,
        ];
        for (got, want) in chw.iter().zip(want) {
            assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        }
    }

    proptest::proptest! {
        /// Bilinear weights are a convex combination: every output lies
        /// within the range of the input, and a constant image stays constant.
        #[test]
        fn resize_stays_within_the_input_range(
            (w, h, pixels) in (1usize..12, 1usize..12).prop_flat_map(|(w, h)| {
                (proptest::strategy::Just(w), proptest::strategy::Just(h), proptest::collection::vec(0u8..=255, w * h * 3))
            }),
            to_w in 1usize..20,
            to_h in 1usize..20,
        ) {
            let out = resize_bilinear(&pixels, Size { width: w, height: h }, Size { width: to_w, height: to_h });
            proptest::prop_assert_eq!(out.len(), to_w * to_h * 3);
            for c in 0..3 {
                let channel = pixels.iter().skip(c).step_by(3).map(|b| f32::from(*b));
                let (lo, hi) = channel.fold((f32::MAX, f32::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
                for v in out.iter().skip(c).step_by(3) {
                    proptest::prop_assert!(*v >= lo - 1e-3 && *v <= hi + 1e-3, "{} outside [{}, {}]", v, lo, hi);
                }
            }
        }
    }
}
