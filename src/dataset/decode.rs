//! One frame file to pixels, safely: the only place dataset frames are decoded.
//!
//! A frame is untrusted bytes whose header states how much memory decoding will
//! take: a 331-byte JPEG can claim 20000x20000, and a decoder that trusts it
//! allocates 1.2 GB. So `check_frame_file` looks at the file first (a regular
//! file within `fsread::FRAME`, a JPEG header within `MAX_FRAME_PIXELS`, enough
//! bytes for the size it claims, ending with EOI) and `decode_frame` decodes only
//! what passed that same check, with zune-jpeg in strict mode (a stream that
//! runs out is an error instead of grey padding; `image` pads) straight into RGB
//! (no second, converted buffer). One lie gets through: entropy data cut short
//! inside a file that still ends with EOI decodes with the missing blocks grey,
//! as in every decoder; zune does not report it even in strict mode.
//!
//! "Enough bytes": every 8x8 block of a Huffman-coded JPEG costs at least one
//! bit (its DC code, in baseline and progressive alike), so a file of `n` bytes
//! holds at most `8n` blocks. A 331-byte file claiming 4000x4000 is refused
//! before any buffer exists, however small its claim is next to the pixel cap.
//! `dataset check` runs `check_frame_file` on every frame, and `decode_frame` on
//! the frames `embed` will decode.
//!
//! `decode_frame` can reduce the frame to the encoder's size at once
//! (`encode::preprocess::resize_bilinear`, the resize the encoder would apply
//! anyway, rounded back to RGB8), so a window never holds full-size frames. A
//! frame with no more pixels than the encoder's input is kept as decoded: growing
//! it early would only cost memory and a rounding, the encoder resizes it anyway.

use super::error::{DatasetError, FrameProblem};
use super::jpeg::{ends_with_eoi, read_dimensions};
use crate::encode::preprocess::{resize_rgb8, Size};
use crate::fsread;
use crate::sample::Frame;
use crate::time::Timestamp;
use std::io::{BufReader, Cursor, Read, Seek};
use std::path::Path;

/// The most pixels a frame may have: 4096x4096 (48 MiB as RGB8). A 4K video
/// frame has half as many; UESTC-MMEA-CL's frames are 340x256.
pub const MAX_FRAME_PIXELS: u64 = 4096 * 4096;

/// Checks `path` as `decode_frame` will before decoding it, without decoding;
/// returns the frame's (width, height).
pub fn check_frame_file(path: &Path) -> Result<(u32, u32), DatasetError> {
    let (file, len) =
        fsread::open(path, fsread::FRAME).map_err(|e| DatasetError::io(path, "open frame", e))?;
    check_jpeg(&mut BufReader::with_capacity(2048, file), len).map_err(|p| problem(path, p))
}

/// Decodes the JPEG at `path` to RGB8 stamped `t`, after `check_frame_file`'s
/// checks; with `to`, a frame larger than that is reduced to it (`shrink`).
pub fn decode_frame(path: &Path, t: Timestamp, to: Option<Size>) -> Result<Frame, DatasetError> {
    let bytes =
        fsread::read(path, fsread::FRAME).map_err(|e| DatasetError::io(path, "read frame", e))?;
    let len = bytes.len() as u64;
    check_jpeg(&mut Cursor::new(&bytes), len).map_err(|p| problem(path, p))?;
    let (width, height, rgb) = decode_rgb(&bytes).map_err(|p| problem(path, p))?;
    let frame = Frame::new(t, width, height, rgb).map_err(|source| DatasetError::FrameSize {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(match to {
        Some(size) => shrink(frame, size),
        None => frame,
    })
}

fn problem(path: &Path, problem: FrameProblem) -> DatasetError {
    DatasetError::Frame {
        path: path.to_path_buf(),
        problem,
    }
}

/// The header walk, the size cap and the EOI check, on any seekable reader.
fn check_jpeg<R: Read + Seek>(r: &mut R, len: u64) -> Result<(u32, u32), FrameProblem> {
    let (width, height) = read_dimensions(r).map_err(FrameProblem::Header)?;
    within_cap(width, height)?;
    let min_bytes = min_bytes(width, height);
    if len < min_bytes {
        return Err(FrameProblem::TooSmall {
            width,
            height,
            bytes: len,
            min_bytes,
        });
    }
    match ends_with_eoi(r, len) {
        Ok(true) => Ok((width, height)),
        Ok(false) => Err(FrameProblem::Truncated),
        Err(reason) => Err(FrameProblem::Header(reason)),
    }
}

/// The fewest bytes a Huffman-coded JPEG of this size can take: one bit per block.
fn min_bytes(width: u32, height: u32) -> u64 {
    let blocks = u64::from(width.div_ceil(8)) * u64::from(height.div_ceil(8));
    blocks.div_ceil(8)
}

fn within_cap(width: u32, height: u32) -> Result<(), FrameProblem> {
    if u64::from(width) * u64::from(height) <= MAX_FRAME_PIXELS {
        return Ok(());
    }
    Err(FrameProblem::TooLarge {
        width,
        height,
        max_pixels: MAX_FRAME_PIXELS,
    })
}

/// Strict zune-jpeg decoding straight into RGB8; the size the decoder reads is
/// capped again before its output buffer is allocated.
fn decode_rgb(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>), FrameProblem> {
    use zune_core::{bytestream::ZCursor, colorspace::ColorSpace, options::DecoderOptions};
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    let failed = |e: zune_jpeg::errors::DecodeErrors| FrameProblem::Decode(e.to_string());
    decoder.decode_headers().map_err(failed)?;
    let (w, h) = decoder
        .dimensions()
        .ok_or_else(|| FrameProblem::Decode("no frame size after the headers".into()))?;
    let (width, height) = (to_u32(w), to_u32(h));
    within_cap(width, height)?;
    let rgb = decoder.decode().map_err(failed)?;
    Ok((width, height, rgb))
}

fn to_u32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// `frame` resized to `to` (bilinear, rounded to RGB8) when it has more pixels
/// than `to`; unchanged otherwise, or when `to` is not a usable size.
pub fn shrink(frame: Frame, to: Size) -> Frame {
    let from = Size {
        width: frame.width as usize,
        height: frame.height as usize,
    };
    let (Ok(width), Ok(height)) = (u32::try_from(to.width), u32::try_from(to.height)) else {
        return frame;
    };
    let larger = from.width * from.height > to.width.saturating_mul(to.height);
    if !larger || width == 0 || height == 0 {
        return frame;
    }
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
    use crate::encode::preprocess::resize_bilinear;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x * 13 % 256) as u8, (y * 7 % 256) as u8, 200])
        });
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
        out.into_inner()
    }

    fn file(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("img_000001.jpg");
        std::fs::write(&path, bytes).unwrap();
        (dir, path)
    }

    #[test]
    fn decodes_what_the_image_crate_writes_at_full_or_encoder_size() {
        let (_d, path) = file(&jpeg(48, 32));
        assert_eq!(check_frame_file(&path).unwrap(), (48, 32));
        let full = decode_frame(&path, Timestamp(5), None).unwrap();
        assert_eq!((full.width, full.height, full.t), (48, 32, Timestamp(5)));
        let reference = image::load_from_memory(&std::fs::read(&path).unwrap())
            .unwrap()
            .into_rgb8();
        let diff = full
            .rgb
            .iter()
            .zip(reference.as_raw())
            .map(|(a, b)| a.abs_diff(*b))
            .max();
        assert!(diff.is_some_and(|d| d <= 2), "{diff:?}");
        let to = Size {
            width: 12,
            height: 8,
        };
        let small = decode_frame(&path, Timestamp(5), Some(to)).unwrap();
        assert_eq!((small.width, small.height, small.rgb.len()), (12, 8, 288));
        let from = Size {
            width: 48,
            height: 32,
        };
        let want: Vec<u8> = resize_bilinear(&full.rgb, from, to)
            .iter()
            .map(|v| v.round() as u8)
            .collect();
        assert_eq!(small.rgb, want);
        let large = Size {
            width: 96,
            height: 64,
        };
        let kept = decode_frame(&path, Timestamp(5), Some(large)).unwrap();
        assert_eq!(
            kept, full,
            "a smaller frame is kept for the encoder to resize"
        );
    }

    #[test]
    fn a_truncated_frame_is_an_error_naming_the_file() {
        let whole = jpeg(64, 64);
        let (_d, path) = file(&whole[..whole.len() / 2]);
        for e in [
            check_frame_file(&path).unwrap_err(),
            decode_frame(&path, Timestamp(0), None).unwrap_err(),
        ] {
            assert!(matches!(
                e,
                DatasetError::Frame {
                    problem: FrameProblem::Truncated,
                    ..
                }
            ));
            assert!(e.to_string().starts_with(&path.display().to_string()));
        }
    }

    #[test]
    fn a_frame_claiming_a_huge_size_is_refused_before_decoding() {
        let mut bytes = jpeg(16, 16);
        let sof = bytes.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        // SOF0 payload: length (2), precision (1), height (2), width (2).
        bytes[sof + 5..sof + 9].copy_from_slice(&[0x4E, 0x20, 0x4E, 0x20]);
        let (_d, path) = file(&bytes);
        let e = decode_frame(&path, Timestamp(0), None).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: is 20000x20000, over the 16777216-pixel limit of a frame",
                path.display()
            )
        );
    }

    #[test]
    fn a_small_file_claiming_a_large_frame_is_refused_before_decoding() {
        let mut bytes = jpeg(16, 16);
        let sof = bytes.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        bytes[sof + 5..sof + 9].copy_from_slice(&[0x0F, 0xA0, 0x0F, 0xA0]);
        let (_d, path) = file(&bytes);
        let e = check_frame_file(&path).unwrap_err().to_string();
        let want = format!(
            "is {} bytes, too few for a 4000x4000 JPEG (at least 31250)",
            bytes.len()
        );
        assert!(e.contains(&want), "{e}");
        assert!(decode_frame(&path, Timestamp(0), None).is_err());
    }

    #[test]
    fn the_decoder_itself_refuses_a_cut_stream_that_image_would_pad() {
        // Past the EOI check too: strict zune-jpeg still reports the missing data.
        let whole = jpeg(64, 64);
        let half = &whole[..whole.len() / 2];
        assert!(image::load_from_memory(half).is_ok(), "image pads silently");
        assert!(matches!(decode_rgb(half), Err(FrameProblem::Decode(_))));
        assert!(decode_rgb(&whole).is_ok());
    }
}
