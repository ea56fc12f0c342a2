//! `decode`: raw image -> RGB image. This module validates a raw image's layout against
//! its header and the [`Limits`] before anything is allocated, and converts each row in
//! the encoding's module: [`packed`] (RGB, BGR, mono, YUV 4:2:2), [`bayer`] (demosaicing)
//! or, for JPEG and PNG, [`compressed`].

mod bayer;
mod compressed;
mod packed;
#[cfg(test)]
mod tests;

use std::str::FromStr;

use image::RgbImage;

use crate::error::{InputError, Result, UnsupportedError};
use crate::frame::{Input, Limits, RawImage};
pub use bayer::Cfa;
pub use compressed::{compressed_format, decode_compressed};

/// Pixel encodings the core decodes, named as in sensor_msgs/image_encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Rgb8,
    Bgr8,
    Rgba8,
    Bgra8,
    Mono8,
    /// 16-bit grey (`mono16`, `16UC1`); shown as its high byte.
    Mono16,
    /// YUV 4:2:2, bytes U Y0 V Y1 (`yuv422`, `uyvy`).
    Uyvy,
    /// YUV 4:2:2, bytes Y0 U Y1 V (`yuv422_yuy2`, `yuyv`).
    Yuyv,
    /// 8-bit raw Bayer mosaic, demosaiced bilinearly.
    Bayer(Cfa),
}

impl Encoding {
    /// Every name the core decodes, as sensor_msgs/image_encodings spells it, with its
    /// aliases: the OpenCV type names cv_bridge writes for a Mat without an encoding
    /// (OpenCV's 3- and 4-channel images are BGR(A)) and the FourCC names of YUV 4:2:2.
    pub const NAMES: &'static [(&'static str, Encoding)] = &[
        ("rgb8", Encoding::Rgb8),
        ("bgr8", Encoding::Bgr8),
        ("rgba8", Encoding::Rgba8),
        ("bgra8", Encoding::Bgra8),
        ("mono8", Encoding::Mono8),
        ("mono16", Encoding::Mono16),
        ("8UC1", Encoding::Mono8),
        ("8UC3", Encoding::Bgr8),
        ("8UC4", Encoding::Bgra8),
        ("16UC1", Encoding::Mono16),
        ("yuv422", Encoding::Uyvy),
        ("uyvy", Encoding::Uyvy),
        ("yuv422_yuy2", Encoding::Yuyv),
        ("yuyv", Encoding::Yuyv),
        ("bayer_rggb8", Encoding::Bayer(Cfa::Rggb)),
        ("bayer_bggr8", Encoding::Bayer(Cfa::Bggr)),
        ("bayer_gbrg8", Encoding::Bayer(Cfa::Gbrg)),
        ("bayer_grbg8", Encoding::Bayer(Cfa::Grbg)),
    ];

    /// The names of [`Self::NAMES`], comma-separated, for error messages.
    pub fn supported() -> String {
        let names: Vec<&str> = Self::NAMES.iter().map(|(name, _)| *name).collect();
        names.join(", ")
    }

    /// Bytes of one pixel (of a pair of pixels, halved, for YUV 4:2:2).
    pub fn bytes_per_pixel(self) -> u32 {
        match self {
            Encoding::Mono8 | Encoding::Bayer(_) => 1,
            Encoding::Mono16 | Encoding::Uyvy | Encoding::Yuyv => 2,
            Encoding::Rgb8 | Encoding::Bgr8 => 3,
            Encoding::Rgba8 | Encoding::Bgra8 => 4,
        }
    }
}

impl FromStr for Encoding {
    type Err = UnsupportedError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, encoding)| *encoding)
            .ok_or_else(|| UnsupportedError::Encoding {
                name: name.to_owned(),
                supported: Self::supported(),
            })
    }
}

/// Checks `raw` against its own header and `limits`, without allocating.
///
/// Returns the encoding. Every size computation is done in u64, so no header, however
/// absurd, can overflow it.
pub fn validate(raw: &RawImage, limits: &Limits) -> Result<Encoding> {
    let encoding: Encoding = raw.encoding.parse()?;
    let (width, height) = (raw.width, raw.height);
    check_dimensions(width, height, limits)?;
    if matches!(encoding, Encoding::Uyvy | Encoding::Yuyv) && width % 2 == 1 {
        return Err(InputError::OddWidth {
            width,
            encoding: "YUV 4:2:2",
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
    if expected > limits.max_bytes {
        return Err(InputError::TooManyBytes {
            bytes: expected,
            max_bytes: limits.max_bytes,
        }
        .into());
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

/// Refuses an empty image, or one beyond the limits: wider, taller, or whose decoded RGB
/// (`width * height * 3` bytes) exceeds `limits.max_bytes`.
pub(crate) fn check_dimensions(width: u32, height: u32, limits: &Limits) -> Result<()> {
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
    let bytes = u64::from(width) * u64::from(height) * 3;
    if bytes > limits.max_bytes {
        return Err(InputError::TooManyBytes {
            bytes,
            max_bytes: limits.max_bytes,
        }
        .into());
    }
    Ok(())
}

/// Decodes a frame of either transport into an RGB image.
pub fn decode_input(input: Input, limits: &Limits) -> Result<RgbImage> {
    match input {
        Input::Raw(raw) => decode(raw, limits),
        Input::Compressed(compressed) => decode_compressed(&compressed, limits),
    }
}

/// Decodes `raw` into an RGB image after [`validate`] accepted it.
///
/// A tightly packed rgb8 image of ours is taken over without copying; every other
/// conversion reads the input where it lies.
pub fn decode(raw: RawImage, limits: &Limits) -> Result<RgbImage> {
    let encoding = validate(&raw, limits)?;
    let (width, height) = (raw.width, raw.height);
    let row_bytes = width as usize * encoding.bytes_per_pixel() as usize;
    let step = raw.step as usize;
    if encoding == Encoding::Rgb8 {
        // Already RGB: drop the row padding in place, without a second buffer.
        let mut data = raw.data.into_vec();
        if step != row_bytes {
            for y in 1..height as usize {
                data.copy_within(y * step..y * step + row_bytes, y * row_bytes);
            }
            data.truncate(row_bytes * height as usize);
        }
        return RgbImage::from_raw(width, height, data)
            .ok_or_else(|| crate::Error::Internal("validated rgb8 buffer refused".into()));
    }
    let (w, h) = (width as usize, height as usize);
    let mut out = vec![0u8; w * h * 3];
    let data = &raw.data;
    for_each_row(&mut out, w * 3, |y, row| match encoding {
        Encoding::Bayer(cfa) => bayer::demosaic_row(data, step, w, h, cfa, y, row),
        _ => packed::convert_row(
            encoding,
            raw.is_bigendian,
            &data[y * step..y * step + row_bytes],
            row,
        ),
    });
    RgbImage::from_raw(width, height, out)
        .ok_or_else(|| crate::Error::Internal("decoded buffer has the wrong size".into()))
}

/// Output images from this size on are converted by several threads (rayon's pool);
/// below it the hand-over costs more than it saves.
const PARALLEL_MIN_BYTES: usize = 1 << 20;

/// Calls `f(y, row)` for every `row_len`-byte row of `out`, in parallel for big images.
fn for_each_row(out: &mut [u8], row_len: usize, f: impl Fn(usize, &mut [u8]) + Sync) {
    use rayon::prelude::*;
    if out.len() < PARALLEL_MIN_BYTES {
        out.chunks_exact_mut(row_len)
            .enumerate()
            .for_each(|(y, row)| f(y, row));
    } else {
        out.par_chunks_exact_mut(row_len)
            .enumerate()
            .with_min_len(32)
            .for_each(|(y, row)| f(y, row));
    }
}
