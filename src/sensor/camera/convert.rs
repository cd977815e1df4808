//! Camera pixel formats to 8-bit RGB. nokhwa is built without its decoders
//! (its MJPEG decoder is mozjpeg, a C library), so the conversion is ours and
//! pure Rust: MJPEG through the `image` crate's JPEG decoder, YUYV and NV12 with
//! the BT.601 limited-range integer formulas webcams use, grey and raw RGB/BGR
//! by copying. The formats are named here so negotiation and conversion are
//! tested without a camera or the `camera` feature.

/// The pixel formats a camera may deliver that mmcl converts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PixelFormat {
    Yuyv,
    Mjpeg,
    Nv12,
    Rgb,
    Bgr,
    Gray,
}

impl PixelFormat {
    /// Preference when the profile leaves the format open: YUYV converts with
    /// a few integer operations per pixel; MJPEG needs a JPEG decode but reaches
    /// higher resolutions over USB 2; the rest are rarer.
    pub const PREFERENCE: [PixelFormat; 6] = [
        PixelFormat::Yuyv,
        PixelFormat::Mjpeg,
        PixelFormat::Nv12,
        PixelFormat::Rgb,
        PixelFormat::Bgr,
        PixelFormat::Gray,
    ];

    /// The name written in a profile (`sources.camera.format`).
    pub fn name(self) -> &'static str {
        match self {
            PixelFormat::Yuyv => "yuyv",
            PixelFormat::Mjpeg => "mjpeg",
            PixelFormat::Nv12 => "nv12",
            PixelFormat::Rgb => "rgb",
            PixelFormat::Bgr => "bgr",
            PixelFormat::Gray => "gray",
        }
    }

    /// Bytes of a `width` x `height` frame; `None` for MJPEG (compressed).
    fn frame_bytes(self, width: usize, height: usize) -> Option<usize> {
        let pixels = width * height;
        match self {
            // Rows hold whole 2-pixel macropixels (an odd width is padded).
            PixelFormat::Yuyv => Some(4 * width.div_ceil(2) * height),
            PixelFormat::Nv12 => Some(pixels + 2 * width.div_ceil(2) * height.div_ceil(2)),
            PixelFormat::Rgb | PixelFormat::Bgr => Some(pixels * 3),
            PixelFormat::Gray => Some(pixels),
            PixelFormat::Mjpeg => None,
        }
    }
}

impl std::fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name().to_uppercase())
    }
}

/// A frame that could not be converted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConvertError {
    #[error("{format} frame {width}x{height} needs {expected} bytes, got {got}")]
    Size {
        format: PixelFormat,
        width: u32,
        height: u32,
        expected: usize,
        got: usize,
    },
    #[error("MJPEG frame: {reason}")]
    Jpeg { reason: String },
    #[error("MJPEG frame decoded to {got_width}x{got_height}, the camera said {width}x{height}")]
    JpegSize {
        width: u32,
        height: u32,
        got_width: u32,
        got_height: u32,
    },
}

/// `data` of `format` at `width` x `height` as RGB8, row-major.
pub fn to_rgb(
    format: PixelFormat,
    width: u32,
    height: u32,
    data: &[u8],
) -> Result<Vec<u8>, ConvertError> {
    let (w, h) = (width as usize, height as usize);
    if let Some(expected) = format.frame_bytes(w, h) {
        if data.len() < expected {
            return Err(ConvertError::Size {
                format,
                width,
                height,
                expected,
                got: data.len(),
            });
        }
    }
    Ok(match format {
        PixelFormat::Yuyv => yuyv(data, w, h),
        PixelFormat::Nv12 => nv12(data, w, h),
        PixelFormat::Rgb => data.get(..w * h * 3).unwrap_or_default().to_vec(),
        PixelFormat::Bgr => data
            .chunks_exact(3)
            .take(w * h)
            .flat_map(|p| [p[2], p[1], p[0]])
            .collect(),
        PixelFormat::Gray => data.iter().take(w * h).flat_map(|&g| [g, g, g]).collect(),
        PixelFormat::Mjpeg => return jpeg(data, width, height),
    })
}

/// BT.601 limited range, 8-bit fixed point (the usual integer form).
fn ycbcr(y: u8, u: u8, v: u8) -> [u8; 3] {
    let c = 298 * (i32::from(y) - 16);
    let (d, e) = (i32::from(u) - 128, i32::from(v) - 128);
    let clamp = |x: i32| ((x + 128) >> 8).clamp(0, 255) as u8;
    [
        clamp(c + 409 * e),
        clamp(c - 100 * d - 208 * e),
        clamp(c + 516 * d),
    ]
}

/// Y0 U Y1 V per two pixels; an odd width's last macropixel gives one pixel.
fn yuyv(data: &[u8], w: usize, h: usize) -> Vec<u8> {
    let stride = 4 * w.div_ceil(2);
    let mut rgb = Vec::with_capacity(w * h * 3);
    for row in data.chunks_exact(stride.max(1)).take(h) {
        let mut x = 0;
        for m in row.chunks(4) {
            if let [y0, u, y1, v] = *m {
                for y in [y0, y1].into_iter().take(w - x) {
                    rgb.extend(ycbcr(y, u, v));
                    x += 1;
                }
            }
        }
    }
    rgb
}

/// A full-size Y plane, then U V interleaved at half size in both directions.
fn nv12(data: &[u8], w: usize, h: usize) -> Vec<u8> {
    let (luma, chroma) = data.split_at((w * h).min(data.len()));
    let cw = 2 * w.div_ceil(2);
    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            let at = (y / 2) * cw + (x / 2) * 2;
            let (u, v) = (chroma.get(at).copied(), chroma.get(at + 1).copied());
            let luma = luma.get(y * w + x).copied().unwrap_or(16);
            rgb.extend(ycbcr(luma, u.unwrap_or(128), v.unwrap_or(128)));
        }
    }
    rgb
}

fn jpeg(data: &[u8], width: u32, height: u32) -> Result<Vec<u8>, ConvertError> {
    let image = image::load_from_memory_with_format(data, image::ImageFormat::Jpeg)
        .map_err(|e| ConvertError::Jpeg {
            reason: e.to_string(),
        })?
        .to_rgb8();
    if image.dimensions() != (width, height) {
        return Err(ConvertError::JpegSize {
            width,
            height,
            got_width: image.width(),
            got_height: image.height(),
        });
    }
    Ok(image.into_raw())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limited_range_black_white_and_grey_map_to_full_range() {
        assert_eq!(ycbcr(16, 128, 128), [0, 0, 0]);
        assert_eq!(ycbcr(235, 128, 128), [255, 255, 255]);
        assert_eq!(ycbcr(126, 128, 128), [128, 128, 128]);
        // Pure red in BT.601 limited range is Y 81, Cb 90, Cr 240.
        let [r, g, b] = ycbcr(81, 90, 240);
        assert!(r >= 254 && g <= 1 && b <= 1, "{r} {g} {b}");
    }

    #[test]
    fn yuyv_pairs_share_their_chroma_and_short_data_is_refused() {
        // Two pixels: black and white, neutral chroma; then one row of a 3-wide frame.
        let rgb = to_rgb(PixelFormat::Yuyv, 2, 1, &[16, 128, 235, 128]).unwrap();
        assert_eq!(rgb, [0, 0, 0, 255, 255, 255]);
        let odd = to_rgb(
            PixelFormat::Yuyv,
            3,
            1,
            &[16, 128, 16, 128, 235, 128, 0, 128],
        )
        .unwrap();
        assert_eq!(odd, [0, 0, 0, 0, 0, 0, 255, 255, 255]);
        let err = to_rgb(PixelFormat::Yuyv, 4, 4, &[0; 10]).unwrap_err();
        assert_eq!(err.to_string(), "YUYV frame 4x4 needs 32 bytes, got 10");
    }

    #[test]
    fn nv12_bgr_and_gray_convert() {
        // 2x2 white luma, one neutral chroma pair.
        let rgb = to_rgb(PixelFormat::Nv12, 2, 2, &[235, 235, 235, 235, 128, 128]).unwrap();
        assert_eq!(rgb, vec![255; 12]);
        assert_eq!(
            to_rgb(PixelFormat::Bgr, 1, 1, &[1, 2, 3]).unwrap(),
            [3, 2, 1]
        );
        assert_eq!(
            to_rgb(PixelFormat::Gray, 2, 1, &[9, 7]).unwrap(),
            [9, 9, 9, 7, 7, 7]
        );
    }

    #[test]
    fn mjpeg_decodes_and_checks_the_size() {
        let mut jpeg = Vec::new();
        let img = image::RgbImage::from_pixel(8, 4, image::Rgb([200, 30, 30]));
        img.write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
        let rgb = to_rgb(PixelFormat::Mjpeg, 8, 4, &jpeg).unwrap();
        assert_eq!(rgb.len(), 8 * 4 * 3);
        assert!(rgb[0] > 180 && rgb[1] < 60, "{:?}", &rgb[..3]);
        assert!(matches!(
            to_rgb(PixelFormat::Mjpeg, 4, 4, &jpeg),
            Err(ConvertError::JpegSize { .. })
        ));
        assert!(matches!(
            to_rgb(PixelFormat::Mjpeg, 8, 4, &[0xFF, 0xD8, 0]),
            Err(ConvertError::Jpeg { .. })
        ));
    }
}
