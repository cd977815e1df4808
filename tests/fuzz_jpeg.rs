//! Fuzz target: the frame path (`dataset::decode::check_frame_file` and
//! `decode_frame`, what `dataset check` and `embed` run on every frame file) on
//! mutated real JPEGs (colour, grey, odd sizes, lying headers) and arbitrary bytes.
//! Never a panic; a decoded frame is within the pixel cap and, resized, has the
//! encoder's size when it was larger; decoding at either size agrees; what decodes
//! also passes the check (the check never refuses less).

mod fuzz_support;

use fuzz_support::{fuzz, mutated, Outcomes};
use mmcl::dataset::decode::{check_frame_file, decode_frame, MAX_FRAME_PIXELS};
use mmcl::encode::preprocess::Size;
use mmcl::time::Timestamp;
use proptest::prelude::*;
use std::io::Cursor;

fn encode(img: image::DynamicImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

fn seeds() -> Vec<Vec<u8>> {
    let rgb = |w, h| {
        image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x * 9) as u8, (y * 5) as u8, ((x + y) * 3) as u8])
        }))
    };
    let grey = image::DynamicImage::ImageLuma8(image::GrayImage::from_fn(24, 17, |x, y| {
        image::Luma([(x * y) as u8])
    }));
    let mut seeds = vec![
        encode(rgb(16, 16)),
        encode(rgb(37, 21)),
        encode(rgb(64, 48)),
        encode(grey),
    ];
    // A lying header: 16x16 data claiming 4000x3000.
    let mut liar = encode(rgb(16, 16));
    if let Some(sof) = liar.windows(2).position(|w| w == [0xFF, 0xC0]) {
        liar[sof + 5..sof + 9].copy_from_slice(&[0x0B, 0xB8, 0x0F, 0xA0]);
    }
    seeds.push(liar);
    seeds
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    let real = prop::sample::select(seeds()).prop_flat_map(mutated);
    prop_oneof![8 => real, 1 => prop::collection::vec(any::<u8>(), 0..400)]
}

#[test]
fn fuzz_jpeg() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("img_000001.jpg");
    let to = Size {
        width: 32,
        height: 24,
    };
    let outcomes = Outcomes::default();
    fuzz("jpeg", input(), |bytes| {
        std::fs::write(&path, &bytes).unwrap();
        let checked = check_frame_file(&path);
        outcomes.count(if checked.is_ok() {
            "passes the check"
        } else {
            "refused by the check"
        });
        let full = decode_frame(&path, Timestamp(0), None);
        if let Ok(full) = &full {
            let (w, h) = (full.width as usize, full.height as usize);
            prop_assert!((w * h) as u64 <= MAX_FRAME_PIXELS);
            prop_assert_eq!(full.rgb.len(), w * h * 3);
            prop_assert_eq!(checked.as_ref().ok(), Some(&(full.width, full.height)));
        }
        match (decode_frame(&path, Timestamp(0), Some(to)), &full) {
            (Ok(small), Ok(full)) => {
                outcomes.count("decodes");
                // Reduced to 32x24 when larger; kept as decoded otherwise.
                let larger = full.width * full.height > 32 * 24;
                let want = if larger {
                    (32, 24)
                } else {
                    (full.width, full.height)
                };
                prop_assert_eq!((small.width, small.height), want);
                prop_assert_eq!(small.rgb.len(), (want.0 * want.1 * 3) as usize);
            }
            (Ok(_), Err(e)) => prop_assert!(false, "decodes only when resized: {}", e),
            (Err(_), Ok(_)) => prop_assert!(false, "decodes only at full size"),
            (Err(_), Err(_)) if checked.is_ok() => {
                outcomes.count("passes the check, fails to decode")
            }
            (Err(_), Err(_)) => {}
        }
        Ok(())
    });
    outcomes.print("jpeg");
}
