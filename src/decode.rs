//! Raw image -> RGB image: validation of the raw layout and conversion of each encoding.

use std::str::FromStr;

use image::RgbImage;

use crate::error::{InputError, Result, UnsupportedError};
use crate::frame::{Limits, RawImage};

/// Pixel encodings the core decodes, named as in sensor_msgs/image_encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Rgb8,
    Bgr8,
    Mono8,
}

impl Encoding {
    /// The encodings [`Encoding::from_str`] accepts, for error messages.
    pub const SUPPORTED: &'static str = "rgb8, bgr8, mono8, 8UC1, 8UC3";

    /// Bytes of one pixel.
    pub fn bytes_per_pixel(self) -> u32 {
        match self {
            Encoding::Rgb8 | Encoding::Bgr8 => 3,
            Encoding::Mono8 => 1,
        }
    }
}

impl FromStr for Encoding {
    type Err = UnsupportedError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        // 8UC3 is what OpenCV's cv_bridge writes for a BGR Mat without an encoding.
        match name {
            "rgb8" => Ok(Encoding::Rgb8),
            "bgr8" | "8UC3" => Ok(Encoding::Bgr8),
            "mono8" | "8UC1" => Ok(Encoding::Mono8),
            other => Err(UnsupportedError::Encoding(other.to_owned())),
        }
    }
}

/// Checks `raw` against its own header and `limits`, without allocating.
///
/// Returns the encoding. Every size computation is done in u64, so no header, however
/// absurd, can overflow it.
pub fn validate(raw: &RawImage, limits: &Limits) -> Result<Encoding> {
    let encoding: Encoding = raw.encoding.parse()?;
    let (width, height) = (raw.width, raw.height);
    if width == 0 || height == 0 {
        return Err(InputError::ZeroSize { width, height }.into());
    }
    if width > limits.max_width || height > limits.max_height {
        return Err(InputError::TooLarge {
            width,
            height,
            max_width: limits.max_width,
            max_height: limits.max_height,
        }
        .into());
    }
    let bpp = encoding.bytes_per_pixel();
    if u64::from(raw.step) < u64::from(width) * u64::from(bpp) {
        return Err(InputError::StepTooSmall {
            step: raw.step,
            width,
            bytes_per_pixel: bpp,
        }
        .into());
    }
    let expected = u64::from(raw.step) * u64::from(height);
    let decoded = u64::from(width) * u64::from(height) * 3;
    for bytes in [expected, decoded] {
        if bytes > limits.max_bytes {
            return Err(InputError::TooManyBytes {
                bytes,
                max_bytes: limits.max_bytes,
            }
            .into());
        }
    }
    let actual = raw.data.len() as u64;
    if actual != expected {
        return Err(InputError::DataLength {
            actual,
            expected,
            step: raw.step,
            height,
        }
        .into());
    }
    Ok(encoding)
}

/// Decodes `raw` into an RGB image after [`validate`] accepted it.
///
/// A tightly packed rgb8 image is taken over without copying.
pub fn decode(raw: RawImage, limits: &Limits) -> Result<RgbImage> {
    let encoding = validate(&raw, limits)?;
    let (width, height) = (raw.width, raw.height);
    let row_bytes = width as usize * encoding.bytes_per_pixel() as usize;
    let step = raw.step as usize;
    if encoding == Encoding::Rgb8 && step == row_bytes {
        return RgbImage::from_raw(width, height, raw.data)
            .ok_or_else(|| crate::Error::Internal("validated rgb8 buffer refused".into()));
    }
    let mut out = vec![0u8; width as usize * height as usize * 3];
    let rows = raw.data.chunks_exact(step).map(|row| &row[..row_bytes]);
    for (src, dst) in rows.zip(out.chunks_exact_mut(width as usize * 3)) {
        match encoding {
            Encoding::Rgb8 => dst.copy_from_slice(src),
            Encoding::Bgr8 => {
                for (s, d) in src.chunks_exact(3).zip(dst.chunks_exact_mut(3)) {
                    d.copy_from_slice(&[s[2], s[1], s[0]]);
                }
            }
            Encoding::Mono8 => {
                for (&v, d) in src.iter().zip(dst.chunks_exact_mut(3)) {
                    d.fill(v);
                }
            }
        }
    }
    RgbImage::from_raw(width, height, out)
        .ok_or_else(|| crate::Error::Internal("decoded buffer has the wrong size".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use proptest::prelude::*;

    fn raw(width: u32, height: u32, step: u32, encoding: &str, data: Vec<u8>) -> RawImage {
        RawImage {
            width,
            height,
            step,
            encoding: encoding.into(),
            is_bigendian: false,
            data,
        }
    }

    /// The obvious per-pixel conversion the optimised one must agree with.
    fn reference(raw: &RawImage) -> RgbImage {
        let encoding: Encoding = raw.encoding.parse().unwrap();
        let bpp = encoding.bytes_per_pixel() as usize;
        RgbImage::from_fn(raw.width, raw.height, |x, y| {
            let at = y as usize * raw.step as usize + x as usize * bpp;
            let p = &raw.data[at..at + bpp];
            image::Rgb(match encoding {
                Encoding::Rgb8 => [p[0], p[1], p[2]],
                Encoding::Bgr8 => [p[2], p[1], p[0]],
                Encoding::Mono8 => [p[0]; 3],
            })
        })
    }

    fn any_raw() -> impl Strategy<Value = RawImage> {
        (
            1u32..40,
            1u32..40,
            0u32..8,
            prop::sample::select(vec!["rgb8", "bgr8", "mono8", "8UC1", "8UC3"]),
        )
            .prop_flat_map(|(w, h, pad, enc)| {
                let step = w * enc.parse::<Encoding>().unwrap().bytes_per_pixel() + pad;
                prop::collection::vec(any::<u8>(), (step * h) as usize)
                    .prop_map(move |data| raw(w, h, step, enc, data))
            })
    }

    proptest! {
        #[test]
        fn decode_matches_reference(raw in any_raw()) {
            let expected = reference(&raw);
            let decoded = decode(raw, &Limits::default()).unwrap();
            prop_assert_eq!(decoded, expected);
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
            "unsupported: encoding \"yuv9\" (supported: rgb8, bgr8, mono8, 8UC1, 8UC3)"
        );
    }
}
