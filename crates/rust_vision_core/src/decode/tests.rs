//! Decoding against per-pixel references, and the rules of validation.

use super::bayer::bayer_mean;
use super::*;
use crate::frame::{CompressedImage, Pixels};
use crate::Error;
use image::ImageFormat;
use proptest::prelude::*;
use std::io::Cursor;

fn raw(width: u32, height: u32, step: u32, encoding: &str, data: Vec<u8>) -> RawImage {
    RawImage {
        width,
        height,
        step,
        encoding: encoding.into(),
        is_bigendian: false,
        data: data.into(),
    }
}

/// The obvious per-pixel conversion the optimised one must agree with.
fn reference(raw: &RawImage) -> RgbImage {
    let encoding: Encoding = raw.encoding.parse().unwrap();
    let bpp = encoding.bytes_per_pixel() as usize;
    let byte = |y: u32, i: usize| raw.data[y as usize * raw.step as usize + i];
    let (w, h) = (raw.width as usize, raw.height as usize);
    let sensor = |x: usize, y: usize| u32::from(byte(y as u32, x));
    RgbImage::from_fn(raw.width, raw.height, |x, y| {
        let p = |i: usize| byte(y, x as usize * bpp + i);
        image::Rgb(match encoding {
            Encoding::Rgb8 | Encoding::Rgba8 => [p(0), p(1), p(2)],
            Encoding::Bgr8 | Encoding::Bgra8 => [p(2), p(1), p(0)],
            Encoding::Mono8 => [p(0); 3],
            Encoding::Mono16 => {
                let v = if raw.is_bigendian {
                    u16::from_be_bytes([p(0), p(1)])
                } else {
                    u16::from_le_bytes([p(0), p(1)])
                };
                [(v >> 8) as u8; 3]
            }
            Encoding::Uyvy | Encoding::Yuyv => {
                let pair = (x as usize / 2) * 4;
                let b = |i: usize| byte(y, pair + i);
                let (yv, u, v) = match (encoding, x % 2) {
                    (Encoding::Uyvy, 0) => (b(1), b(0), b(2)),
                    (Encoding::Uyvy, _) => (b(3), b(0), b(2)),
                    (_, 0) => (b(0), b(1), b(3)),
                    (_, _) => (b(2), b(1), b(3)),
                };
                // Floating-point BT.601 limited range.
                let (yf, uf, vf) = (
                    (f64::from(yv) - 16.0).max(0.0) * 1.164,
                    f64::from(u) - 128.0,
                    f64::from(v) - 128.0,
                );
                let c = |f: f64| f.round().clamp(0.0, 255.0) as u8;
                [
                    c(yf + 1.596 * vf),
                    c(yf - 0.813 * vf - 0.391 * uf),
                    c(yf + 2.018 * uf),
                ]
            }
            Encoding::Bayer(cfa) => bayer_mean(&sensor, w, h, cfa, x as usize, y as usize),
        })
    })
}

/// Every encoding name the core accepts, aliases included.
fn encodings() -> Vec<&'static str> {
    Encoding::NAMES.iter().map(|(name, _)| *name).collect()
}

/// Whether `name` is a YUV 4:2:2 encoding (compared against the floating-point formula,
/// within 1).
fn is_yuv(name: &str) -> bool {
    matches!(name.parse(), Ok(Encoding::Uyvy | Encoding::Yuyv))
}

fn any_raw() -> impl Strategy<Value = RawImage> {
    (
        1u32..40,
        1u32..40,
        0u32..8,
        prop::sample::select(encodings()),
        any::<bool>(),
    )
        .prop_flat_map(|(w, h, pad, enc, big_endian)| {
            let encoding = enc.parse::<Encoding>().unwrap();
            let w = if is_yuv(enc) { w + w % 2 } else { w };
            let step = w * encoding.bytes_per_pixel() + pad;
            prop::collection::vec(any::<u8>(), (step * h) as usize).prop_map(move |data| {
                let mut r = raw(w, h, step, enc, data);
                r.is_bigendian = big_endian;
                r
            })
        })
}

fn compressed(format: &str, image: &RgbImage, codec: ImageFormat) -> CompressedImage {
    let mut data = Vec::new();
    image.write_to(&mut Cursor::new(&mut data), codec).unwrap();
    CompressedImage {
        format: format.into(),
        data,
    }
}

#[test]
fn jpeg_and_png_decode_under_every_image_transport_format_string() {
    let image = RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 90]));
    for format in [
        "png",
        "bgr8; png compressed",
        "rgb8; png compressed rgb8",
        "PNG",
    ] {
        let png = compressed(format, &image, ImageFormat::Png);
        assert_eq!(decode_compressed(&png, &Limits::default()).unwrap(), image);
    }
    for format in [
        "jpeg",
        "rgb8; jpeg compressed bgr8",
        "bgr8; jpeg compressed bgr8",
    ] {
        let jpeg = compressed(format, &image, ImageFormat::Jpeg);
        let decoded = decode_compressed(&jpeg, &Limits::default()).unwrap();
        let worst = decoded
            .iter()
            .zip(image.iter())
            .map(|(a, b)| a.abs_diff(*b))
            .max();
        assert!(worst.unwrap() < 40, "{format}: {worst:?}");
    }
}

#[test]
fn bad_compressed_images_are_refused_with_their_cause() {
    let image = RgbImage::from_pixel(64, 48, image::Rgb([200, 10, 10]));
    let limits = Limits::default();
    let cause = |c: CompressedImage| decode_compressed(&c, &limits).unwrap_err().cause();
    let mut truncated = compressed("jpeg", &image, ImageFormat::Jpeg);
    truncated.data.truncate(truncated.data.len() / 2);
    assert_eq!(cause(truncated), "corrupt_compressed");
    let mut garbage = compressed("png", &image, ImageFormat::Png);
    garbage.data[20..40].fill(0xAB);
    assert_eq!(cause(garbage), "corrupt_compressed");
    let empty = CompressedImage {
        format: "jpeg".into(),
        data: vec![],
    };
    assert_eq!(cause(empty), "corrupt_compressed");
    let depth = compressed("16UC1; compressedDepth png", &image, ImageFormat::Png);
    assert_eq!(cause(depth), "unsupported_format");
    let tiff = compressed("tiff", &image, ImageFormat::Png);
    assert_eq!(cause(tiff), "unsupported_format");
    // The header's dimensions are refused before the pixels are decoded.
    let small = Limits {
        max_width: 32,
        ..Limits::default()
    };
    let png = compressed("png", &image, ImageFormat::Png);
    let err = decode_compressed(&png, &small).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad input: image of 64x48 pixels exceeds the limit of 32x8192"
    );
}

/// Pixels read where the transport put them decode as our own do.
#[test]
fn foreign_pixels_decode_as_owned_ones() {
    for (encoding, step) in [("bgr8", 12), ("rgb8", 12), ("rgb8", 16), ("mono8", 5)] {
        let data: Vec<u8> = (0..step * 3).map(|i| (i * 37 % 251) as u8).collect();
        let owned = raw(4, 3, step, encoding, data.clone());
        let mut foreign = owned.clone();
        foreign.data = Pixels::foreign(data);
        let limits = Limits::default();
        assert_eq!(
            decode(foreign, &limits).unwrap(),
            decode(owned, &limits).unwrap()
        );
    }
}

#[test]
fn known_pixels() {
    let one = |enc: &str, data: Vec<u8>, big: bool| {
        let mut r = raw(1, 1, data.len() as u32, enc, data);
        r.is_bigendian = big;
        decode(r, &Limits::default()).unwrap().into_raw()
    };
    assert_eq!(one("bgra8", vec![1, 2, 3, 4], false), [3, 2, 1]);
    assert_eq!(one("mono16", vec![0x12, 0x34], true), [0x12; 3]);
    assert_eq!(one("mono16", vec![0x12, 0x34], false), [0x34; 3]);
    // Grey in YUV (U = V = 128): 235 is white, 16 black.
    let pair = |enc: &str, data: Vec<u8>| {
        decode(raw(2, 1, 4, enc, data), &Limits::default())
            .unwrap()
            .into_raw()
    };
    assert_eq!(
        pair("yuv422", vec![128, 235, 128, 16]),
        [255, 255, 255, 0, 0, 0]
    );
    assert_eq!(
        pair("yuv422_yuy2", vec![235, 128, 16, 128]),
        [255, 255, 255, 0, 0, 0]
    );
    // A uniform red scene seen through an RGGB mosaic is red everywhere.
    let mosaic = vec![200, 0, 200, 0, 0, 0, 0, 0, 200, 0, 200, 0, 0, 0, 0, 0];
    let red = decode(raw(4, 4, 4, "bayer_rggb8", mosaic), &Limits::default()).unwrap();
    assert!(red.pixels().all(|p| p.0 == [200, 0, 0]), "{red:?}");
}

/// Big enough for the conversion to be split across threads.
#[test]
fn large_images_match_the_reference() {
    let mut state = 7u32;
    for (encoding, bpp) in [("bayer_grbg8", 1), ("yuv422_yuy2", 2), ("bgra8", 4)] {
        let (w, h) = (700u32, 600u32);
        let step = w * bpp + 3;
        let data = (0..step * h)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (state >> 16) as u8
            })
            .collect();
        let r = raw(w, h, step, encoding, data);
        let expected = reference(&r);
        let decoded = decode(r, &Limits::default()).unwrap();
        let worst = decoded
            .iter()
            .zip(expected.iter())
            .map(|(a, b)| a.abs_diff(*b))
            .max();
        assert!(worst <= Some(u8::from(is_yuv(encoding))), "{encoding}");
    }
}

proptest! {
    #[test]
    fn decode_matches_reference(raw in any_raw()) {
        let expected = reference(&raw);
        let yuv = is_yuv(&raw.encoding);
        let decoded = decode(raw, &Limits::default()).unwrap();
        if yuv {
            // OpenCV's fixed point against the floating-point formula: off by one at most.
            for (a, b) in decoded.iter().zip(expected.iter()) {
                prop_assert!(a.abs_diff(*b) <= 1, "{} vs {}", a, b);
            }
        } else {
            prop_assert_eq!(decoded, expected);
        }
    }

    /// Whatever the header claims, validation answers without allocating or panicking.
    #[test]
    fn any_header_is_validated(w: u32, h: u32, step: u32, len in 0usize..64) {
        let r = raw(w, h, step, "rgb8", vec![0; len]);
        let ok = validate(&r, &Limits::default()).is_ok();
        prop_assert_eq!(ok, w > 0 && h > 0 && w <= 8192 && h <= 8192
            && u64::from(step) >= 3 * u64::from(w)
            && u64::from(step) * u64::from(h) == len as u64);
    }
}

fn cause(r: RawImage) -> &'static str {
    decode(r, &Limits::default()).unwrap_err().cause()
}

#[test]
fn bad_images_are_refused_with_their_cause() {
    assert_eq!(cause(raw(4, 2, 12, "rgb8", vec![0; 23])), "data_length");
    assert_eq!(cause(raw(4, 2, 12, "rgb8", vec![0; 25])), "data_length");
    assert_eq!(cause(raw(4, 2, 11, "rgb8", vec![0; 22])), "step_too_small");
    assert_eq!(cause(raw(0, 2, 0, "mono8", vec![])), "zero_size");
    assert_eq!(cause(raw(4, 0, 4, "mono8", vec![])), "zero_size");
    assert_eq!(
        cause(raw(4, 2, 8, "yuv9", vec![0; 16])),
        "unsupported_encoding"
    );
    assert_eq!(
        cause(raw(20000, 20000, 60000, "rgb8", vec![0; 10])),
        "too_large"
    );
    let limits = Limits {
        max_bytes: 100,
        ..Limits::default()
    };
    let err = decode(raw(10, 10, 30, "rgb8", vec![0; 300]), &limits).unwrap_err();
    assert!(matches!(
        err,
        Error::Input(InputError::TooManyBytes { bytes: 300, .. })
    ));
}

#[test]
fn error_messages_name_the_numbers() {
    let err = decode(raw(4, 2, 12, "rgb8", vec![0; 23]), &Limits::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad input: data length 23 does not match step 12 x height 2 = 24"
    );
    let err = decode(raw(4, 2, 8, "yuv9", vec![]), &Limits::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "unsupported: encoding \"yuv9\" (supported: {})",
            Encoding::supported()
        )
    );
}
