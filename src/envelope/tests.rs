use super::*;

const TEST: Format = Format {
    name: "test format",
    magic: *b"MMCLTEST",
    legacy: &[1],
};

fn body() -> Vec<u8> {
    let mut w = Writer::default();
    w.str("proto");
    w.f32s(&[1.0, -2.5]);
    w.u64s(&[7]);
    w.u16(513);
    w.bool(true);
    w.buf
}

#[test]
fn seal_then_open_round_trips_the_body_and_its_fields() {
    let sealed = seal(&TEST, 2, &body());
    assert_eq!(sealed.len(), HEADER_LEN + body().len() + CHECKSUM_LEN);
    let opened = open(&TEST, &[2], &sealed).unwrap();
    assert_eq!((opened.version, opened.body), (2, body().as_slice()));
    let mut r = Reader::new(TEST.name, opened.body);
    assert_eq!(r.str("name").unwrap(), "proto");
    assert_eq!(r.f32s("xs").unwrap(), vec![1.0, -2.5]);
    assert_eq!(r.u64s("ys").unwrap(), vec![7]);
    assert_eq!(r.u16("u16").unwrap(), 513);
    assert!(r.bool("flag").unwrap());
    r.finish().unwrap();
}

#[test]
fn every_truncation_and_every_flipped_bit_is_refused_by_name() {
    let sealed = seal(&TEST, 2, &body());
    for cut in 0..sealed.len() {
        let err = open(&TEST, &[2], &sealed[..cut]).unwrap_err();
        assert!(err.to_string().starts_with("test format: "), "{err}");
        assert!(
            matches!(
                err,
                EnvelopeError::Short { .. } | EnvelopeError::Length { .. }
            ),
            "cut {cut}: {err}"
        );
    }
    for byte in 0..sealed.len() {
        for bit in 0..8 {
            let mut bad = sealed.clone();
            bad[byte] ^= 1 << bit;
            let err = open(&TEST, &[2], &bad).unwrap_err();
            assert!(
                !matches!(
                    err,
                    EnvelopeError::Version { .. } | EnvelopeError::Field { .. }
                ),
                "byte {byte} bit {bit}: a damaged frame must read as damaged, got {err}"
            );
        }
    }
}

#[test]
fn errors_carry_the_numbers() {
    let sealed = seal(&TEST, 2, &body());
    let short = open(&TEST, &[2], &sealed[..sealed.len() - 3]).unwrap_err();
    let want = format!(
        "test format: body length {} makes a frame of {} bytes, {} present (truncated or extended)",
        body().len(),
        sealed.len(),
        sealed.len() - 3
    );
    assert_eq!(short.to_string(), want);
    let mut longer = sealed.clone();
    longer.push(0);
    assert!(matches!(
        open(&TEST, &[2], &longer),
        Err(EnvelopeError::Length { size, .. }) if size == sealed.len() + 1
    ));
    let future = seal(&TEST, 9, &body());
    assert_eq!(
        open(&TEST, &[2], &future).unwrap_err().to_string(),
        "test format: format version 9; this build reads version 2 (and 1 in its pre-envelope layout)"
    );
    let other = seal(
        &Format {
            magic: *b"MMCLELSE",
            ..TEST
        },
        2,
        b"",
    );
    assert!(open(&TEST, &[2], &other)
        .unwrap_err()
        .to_string()
        .contains("magic \"MMCLELSE\", expected \"MMCLTEST\""));
    assert!(matches!(
        open(&TEST, &[2], b"hello"),
        Err(EnvelopeError::Magic { .. })
    ));
    assert!(matches!(
        open(&TEST, &[2], b"MMCL"),
        Err(EnvelopeError::Short { size: 4, .. })
    ));
}

#[test]
fn frames_follow_each_other_and_the_legacy_primitives_check_what_they_cover() {
    let mut stream = seal(&TEST, 2, b"one");
    stream.extend(seal(&TEST, 2, b"second"));
    let (first, used) = open_prefix(&TEST, &[2], &stream).unwrap();
    assert_eq!(first.body, b"one");
    let (second, rest) = open_prefix(&TEST, &[2], &stream[used..]).unwrap();
    assert_eq!((second.body, used + rest), (&b"second"[..], stream.len()));
    assert_eq!(version(&TEST, &stream).unwrap(), 2);
    let covered = verify_trailing_checksum(&TEST, &stream[..used]).unwrap();
    assert_eq!(covered.len(), used - CHECKSUM_LEN);
    assert!(matches!(
        verify_trailing_checksum(&TEST, &stream[1..used]),
        Err(EnvelopeError::Checksum { .. })
    ));
}

#[test]
fn reader_refuses_lengths_past_the_end_before_allocating() {
    let mut w = Writer::default();
    w.u64(u64::MAX);
    let mut r = Reader::new("test format", &w.buf);
    let err = r.f32s("weights").unwrap_err();
    assert_eq!(
        err.to_string(),
        "test format: at body byte 8: weights: length 18446744073709551615 exceeds the 0 bytes left"
    );
    let mut r = Reader::new("test format", &[2]);
    assert!(r
        .bool("flag")
        .unwrap_err()
        .to_string()
        .contains("not a boolean"));
    let mut r = Reader::new("test format", &[1, 2, 3]);
    assert_eq!(r.u8("a").unwrap(), 1);
    assert_eq!(
        r.finish().unwrap_err().to_string(),
        "test format: at body byte 1: 2 trailing bytes"
    );
}

proptest::proptest! {
    /// Whatever body is sealed opens to the same body; any other bytes never panic.
    #[test]
    fn any_body_round_trips_and_any_bytes_are_safe(
        body in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
        noise in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
    ) {
        let sealed = seal(&TEST, 2, &body);
        proptest::prop_assert_eq!(open(&TEST, &[2], &sealed).unwrap().body, body.as_slice());
        let _ = open(&TEST, &[2], &noise);
        let mut r = Reader::new(TEST.name, &noise);
        let _ = (r.str("s"), r.f32s("f"), r.u64s("u"));
    }
}
