//! MP4 stores H.264 as AVCC (each NAL unit prefixed by its big-endian length,
//! parameter sets kept apart in the `avcC` box); openh264 reads Annex-B (NAL
//! units after `00 00 00 01` start codes, parameter sets in-band). This turns
//! one into the other, refusing a length that runs past the sample.

const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// Appends `nal` to `out` behind a start code.
pub fn push_nal(out: &mut Vec<u8>, nal: &[u8]) {
    out.extend_from_slice(&START_CODE);
    out.extend_from_slice(nal);
}

/// Appends the NAL units of one AVCC sample to `out` in Annex-B form.
/// `length_size` is the avcC's `lengthSizeMinusOne + 1` (1, 2 or 4).
pub fn avcc_to_annexb(sample: &[u8], length_size: usize, out: &mut Vec<u8>) -> Result<(), String> {
    if !(1..=4).contains(&length_size) {
        return Err(format!("NAL length size {length_size} is not 1..=4"));
    }
    let mut rest = sample;
    while !rest.is_empty() {
        let (prefix, after) = rest
            .split_at_checked(length_size)
            .ok_or_else(|| format!("{} trailing bytes are too few for a NAL length", rest.len()))?;
        let len = prefix
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        let (nal, after) = after.split_at_checked(len).ok_or_else(|| {
            format!(
                "NAL length {len} runs past the sample ({} bytes left)",
                after.len()
            )
        })?;
        push_nal(out, nal);
        rest = after;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_length_prefixes_to_start_codes() {
        let mut out = Vec::new();
        avcc_to_annexb(&[0, 0, 0, 2, 0x65, 0xAA, 0, 0, 0, 1, 0x41], 4, &mut out).unwrap();
        assert_eq!(out, [0, 0, 0, 1, 0x65, 0xAA, 0, 0, 0, 1, 0x41]);
        out.clear();
        avcc_to_annexb(&[1, 0x09, 0], 1, &mut out).unwrap();
        assert_eq!(out, [0, 0, 0, 1, 0x09, 0, 0, 0, 1]);
        // A zero-length NAL followed by nothing is still well formed.
        assert_eq!(out.len(), 9);
    }

    #[test]
    fn refuses_overruns_and_bad_length_sizes() {
        let mut out = Vec::new();
        assert!(avcc_to_annexb(&[0, 0, 0, 9, 1], 4, &mut out)
            .unwrap_err()
            .contains("runs past"));
        assert!(avcc_to_annexb(&[0, 0], 4, &mut out)
            .unwrap_err()
            .contains("too few"));
        assert!(avcc_to_annexb(&[1], 3 + 2, &mut out).is_err());
    }
}
