//! JPEG dimensions from the header alone, and whether the file is whole.
//!
//! `dataset check` looks at every frame of every clip (millions of files for
//! the full dataset). Decoding them, or even handing them to a decoder that
//! reads the whole file first, would make the check as slow as training; the
//! size sits in the SOF segment, normally within the first kilobyte, so this
//! walks the marker segments up to it and reads nothing else. A cut-off file is
//! told by its end: a whole JPEG ends with the EOI marker (`FF D9`), which the
//! entropy-coded data cannot contain (an `FF` there is always followed by `00`
//! or a restart marker), so reading the last bytes is enough.

use std::io::{Read, Seek, SeekFrom};

/// How many bytes at the end of a file may be zero padding after EOI (some
/// writers pad files to a block size).
const TAIL_BYTES: u64 = 4096;

/// Whether the file of `len` bytes read by `r` ends with EOI, ignoring trailing
/// zero bytes within its last `TAIL_BYTES`.
pub fn ends_with_eoi<R: Read + Seek>(r: &mut R, len: u64) -> Result<bool, String> {
    let start = len.saturating_sub(TAIL_BYTES);
    r.seek(SeekFrom::Start(start))
        .map_err(|e| format!("cannot seek: {e}"))?;
    let mut tail = Vec::new();
    r.take(TAIL_BYTES)
        .read_to_end(&mut tail)
        .map_err(|e| format!("cannot read: {e}"))?;
    let end = tail.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
    Ok(tail[..end].ends_with(&[0xFF, 0xD9]))
}

/// Walks marker segments from SOI to the first SOFn.
pub fn read_dimensions<R: Read + Seek>(r: &mut R) -> Result<(u32, u32), String> {
    if read_array::<2, _>(r)? != [0xFF, 0xD8] {
        return Err("not a JPEG (no SOI marker)".into());
    }
    loop {
        let marker = next_marker(r)?;
        match marker {
            // Standalone markers carry no length.
            0x01 | 0xD0..=0xD7 => continue,
            0xD9 | 0xDA => return Err("no frame header (SOF) before the image data".into()),
            // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC) which share the range.
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => return read_sof(r),
            _ => skip_segment(r)?,
        }
    }
}

/// The next marker byte, skipping `0xFF` fill bytes.
fn next_marker<R: Read>(r: &mut R) -> Result<u8, String> {
    if read_array::<1, _>(r)?[0] != 0xFF {
        return Err("corrupt header: expected a marker".into());
    }
    loop {
        match read_array::<1, _>(r)?[0] {
            0xFF => continue,
            0x00 => return Err("corrupt header: stuffed byte where a marker was expected".into()),
            m => return Ok(m),
        }
    }
}

fn segment_len<R: Read>(r: &mut R) -> Result<u16, String> {
    let len = u16::from_be_bytes(read_array(r)?);
    if len < 2 {
        return Err(format!("corrupt header: segment length {len}"));
    }
    Ok(len)
}

fn skip_segment<R: Read + Seek>(r: &mut R) -> Result<(), String> {
    let len = segment_len(r)?;
    r.seek(SeekFrom::Current(i64::from(len) - 2))
        .map_err(|e| format!("cannot seek: {e}"))?;
    Ok(())
}

/// SOF payload: precision (1), height (2), width (2), ...
fn read_sof<R: Read>(r: &mut R) -> Result<(u32, u32), String> {
    let len = segment_len(r)?;
    if len < 8 {
        return Err(format!("corrupt frame header: length {len} < 8"));
    }
    let [_precision, h1, h0, w1, w0] = read_array(r)?;
    let (w, h) = (u16::from_be_bytes([w1, w0]), u16::from_be_bytes([h1, h0]));
    if w == 0 || h == 0 {
        return Err(format!("frame header gives size {w}x{h}"));
    }
    Ok((u32::from(w), u32::from(h)))
}

fn read_array<const N: usize, R: Read>(r: &mut R) -> Result<[u8; N], String> {
    let mut buf = [0u8; N];
    r.read_exact(&mut buf).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => "truncated before the frame header".to_string(),
        _ => format!("cannot read: {e}"),
    })?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img =
            image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 7) as u8, (y * 5) as u8, 90]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
        out.into_inner()
    }

    #[test]
    fn reads_size_written_by_the_image_crate() {
        assert_eq!(
            read_dimensions(&mut Cursor::new(jpeg(37, 21))),
            Ok((37, 21))
        );
        assert_eq!(
            read_dimensions(&mut Cursor::new(jpeg(340, 256))),
            Ok((340, 256))
        );
    }

    #[test]
    fn skips_app_segments_and_fill_bytes() {
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xFF, 0xE1, 0x00, 0x06, 1, 2, 3, 4];
        bytes.extend_from_slice(&jpeg(5, 9)[2..]);
        assert_eq!(read_dimensions(&mut Cursor::new(bytes)), Ok((5, 9)));
    }

    #[test]
    fn a_whole_file_ends_with_eoi_and_a_cut_one_does_not() {
        let full = jpeg(40, 30);
        let len = full.len() as u64;
        assert_eq!(ends_with_eoi(&mut Cursor::new(full.clone()), len), Ok(true));
        let mut padded = full.clone();
        padded.extend([0; 100]);
        let len = padded.len() as u64;
        assert_eq!(ends_with_eoi(&mut Cursor::new(padded), len), Ok(true));
        let half = full[..full.len() / 2].to_vec();
        let len = half.len() as u64;
        assert_eq!(ends_with_eoi(&mut Cursor::new(half), len), Ok(false));
        assert_eq!(ends_with_eoi(&mut Cursor::new(Vec::new()), 0), Ok(false));
    }

    #[test]
    fn refuses_truncated_and_foreign_files() {
        let full = jpeg(8, 8);
        let sof = full.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        let cut = read_dimensions(&mut Cursor::new(full[..sof + 4].to_vec()));
        assert_eq!(cut, Err("truncated before the frame header".to_string()));
        assert!(read_dimensions(&mut Cursor::new(b"\x89PNG\r\n".to_vec()))
            .unwrap_err()
            .contains("no SOI"));
        assert!(
            read_dimensions(&mut Cursor::new(vec![0xFF, 0xD8, 0xFF, 0xDA]))
                .unwrap_err()
                .contains("no frame header")
        );
        assert!(read_dimensions(&mut Cursor::new(vec![])).is_err());
    }
}
