//! JPEG and PNG (sensor_msgs/CompressedImage) -> RGB, with the image crate's decoders,
//! the header's dimensions checked against the limits before the pixels are decoded.

use std::io::Cursor;

use image::{ImageError, ImageFormat, ImageReader, RgbImage};

use super::check_dimensions;
use crate::error::{InputError, Result, UnsupportedError};
use crate::frame::{CompressedImage, Limits};

/// The codec named by a sensor_msgs/CompressedImage format string.
///
/// image_transport writes `jpeg` or `png` alone, or `<encoding>; <codec> compressed
/// <encoding>`; the compressed depth transport's `compressedDepth` formats (16-bit depth
/// with a custom header) are not images this core decodes.
pub fn compressed_format(format: &str) -> Result<ImageFormat> {
    let lower = format.to_ascii_lowercase();
    let codec = lower.split(';').next_back().unwrap_or_default();
    if lower.contains("compresseddepth") {
        return Err(UnsupportedError::CompressedFormat(format.to_owned()).into());
    }
    match codec.split_whitespace().next() {
        Some("jpeg" | "jpg") => Ok(ImageFormat::Jpeg),
        Some("png") => Ok(ImageFormat::Png),
        _ => Err(UnsupportedError::CompressedFormat(format.to_owned()).into()),
    }
}

/// Decodes a JPEG or PNG image into RGB.
///
/// The dimensions in the file's header are checked against `limits` before the pixel
/// buffer is allocated, and the decoder may allocate at most `limits.max_bytes`.
pub fn decode_compressed(image: &CompressedImage, limits: &Limits) -> Result<RgbImage> {
    let format = compressed_format(&image.format)?;
    let name = if format == ImageFormat::Jpeg {
        "JPEG"
    } else {
        "PNG"
    };
    if image.data.len() as u64 > limits.max_bytes {
        return Err(InputError::TooManyBytes {
            bytes: image.data.len() as u64,
            max_bytes: limits.max_bytes,
        }
        .into());
    }
    let corrupt = |e: ImageError| InputError::Corrupt {
        format: name,
        reason: e.to_string(),
    };
    let reader = || ImageReader::with_format(Cursor::new(&image.data), format);
    // The header alone first: its dimensions decide whether the pixels are decoded at all.
    let (width, height) = reader().into_dimensions().map_err(corrupt)?;
    check_dimensions(width, height, limits)?;
    let mut codec_limits = image::Limits::default();
    codec_limits.max_image_width = Some(limits.max_width);
    codec_limits.max_image_height = Some(limits.max_height);
    codec_limits.max_alloc = Some(limits.max_bytes);
    let mut reader = reader();
    reader.limits(codec_limits);
    let decoded = reader.decode().map_err(corrupt)?;
    Ok(decoded.into_rgb8())
}
