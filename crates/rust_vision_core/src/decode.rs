//! Raw image -> RGB image: validation of the raw layout and conversion of each encoding.

use std::str::FromStr;

use std::io::Cursor;

use image::{ImageError, ImageFormat, ImageReader, RgbImage};

use crate::error::{InputError, Result, UnsupportedError};
use crate::frame::{CompressedImage, Limits, RawImage};

/// Colour filter layout of a Bayer sensor: the colours of the top-left 2x2 cell, row by row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cfa {
    Rggb,
    Bggr,
    Gbrg,
    Grbg,
}

impl Cfa {
    /// Channel (0 R, 1 G, 2 B) sensed at pixel (x, y).
    fn channel(self, x: usize, y: usize) -> usize {
        let cell: [usize; 4] = match self {
            Cfa::Rggb => [0, 1, 1, 2],
            Cfa::Bggr => [2, 1, 1, 0],
            Cfa::Gbrg => [1, 2, 0, 1],
            Cfa::Grbg => [1, 0, 2, 1],
        };
        cell[(y & 1) * 2 + (x & 1)]
    }
}

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
    /// The encodings [`Encoding::from_str`] accepts, for error messages.
    pub const SUPPORTED: &'static str = "rgb8, bgr8, rgba8, bgra8, mono8, mono16, 8UC1, 8UC3, \
        8UC4, 16UC1, yuv422, yuv422_yuy2, bayer_rggb8, bayer_bggr8, bayer_gbrg8, bayer_grbg8";

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
        // The OpenCV type names are what cv_bridge writes for a Mat without an encoding;
        // OpenCV's 3- and 4-channel images are BGR(A).
        Ok(match name {
            "rgb8" => Encoding::Rgb8,
            "bgr8" | "8UC3" => Encoding::Bgr8,
            "rgba8" => Encoding::Rgba8,
            "bgra8" | "8UC4" => Encoding::Bgra8,
            "mono8" | "8UC1" => Encoding::Mono8,
            "mono16" | "16UC1" => Encoding::Mono16,
            "yuv422" | "uyvy" => Encoding::Uyvy,
            "yuv422_yuy2" | "yuyv" => Encoding::Yuyv,
            "bayer_rggb8" => Encoding::Bayer(Cfa::Rggb),
            "bayer_bggr8" => Encoding::Bayer(Cfa::Bggr),
            "bayer_gbrg8" => Encoding::Bayer(Cfa::Gbrg),
            "bayer_grbg8" => Encoding::Bayer(Cfa::Grbg),
            other => return Err(UnsupportedError::Encoding(other.to_owned())),
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
fn check_dimensions(width: u32, height: u32, limits: &Limits) -> Result<()> {
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
        Encoding::Bayer(cfa) => demosaic_row(data, step, w, h, cfa, y, row),
        _ => convert_row(
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

/// Converts one row of packed pixels (no padding) to RGB.
fn convert_row(encoding: Encoding, big_endian: bool, src: &[u8], dst: &mut [u8]) {
    let px = dst.chunks_exact_mut(3);
    match encoding {
        Encoding::Rgb8 => dst.copy_from_slice(src),
        Encoding::Bgr8 => {
            for (s, d) in src.chunks_exact(3).zip(px) {
                d.copy_from_slice(&[s[2], s[1], s[0]]);
            }
        }
        Encoding::Rgba8 => {
            for (s, d) in src.chunks_exact(4).zip(px) {
                d.copy_from_slice(&s[..3]);
            }
        }
        Encoding::Bgra8 => {
            for (s, d) in src.chunks_exact(4).zip(px) {
                d.copy_from_slice(&[s[2], s[1], s[0]]);
            }
        }
        Encoding::Mono8 => {
            for (&v, d) in src.iter().zip(px) {
                d.fill(v);
            }
        }
        Encoding::Mono16 => {
            // The high byte is the most significant one whatever the byte order.
            let high = usize::from(!big_endian);
            for (s, d) in src.chunks_exact(2).zip(px) {
                d.fill(s[high]);
            }
        }
        Encoding::Uyvy => yuv422_row::<true>(src, dst),
        Encoding::Yuyv => yuv422_row::<false>(src, dst),
        Encoding::Bayer(_) => unreachable!("Bayer images are demosaiced as a whole"),
    }
}

/// One row of YUV 4:2:2 pairs (U Y0 V Y1 when `UYVY`, else Y0 U Y1 V) to RGB.
fn yuv422_row<const UYVY: bool>(src: &[u8], dst: &mut [u8]) {
    let [y0, u, y1, v] = if UYVY { [1, 0, 3, 2] } else { [0, 1, 2, 3] };
    let t = yuv_tables();
    for (s, d) in src.chunks_exact(4).zip(dst.chunks_exact_mut(6)) {
        let (u, v) = (usize::from(s[u]), usize::from(s[v]));
        let (r, g, b) = (t.vr[v], t.vg[v] + t.ug[u], t.ub[u]);
        let (ya, yb) = (t.y[usize::from(s[y0])], t.y[usize::from(s[y1])]);
        d[0] = clamp_shift(ya + r);
        d[1] = clamp_shift(ya + g);
        d[2] = clamp_shift(ya + b);
        d[3] = clamp_shift(yb + r);
        d[4] = clamp_shift(yb + g);
        d[5] = clamp_shift(yb + b);
    }
}

/// BT.601 limited-range YUV to RGB in OpenCV's fixed-point arithmetic (20-bit
/// coefficients), so results agree with cv2.cvtColor(..., COLOR_YUV2RGB_UYVY): each
/// channel is `(y_term + chroma_term + 2^19) >> 20`, clamped; the terms come from tables.
struct YuvTables {
    y: [i32; 256],
    vr: [i32; 256],
    vg: [i32; 256],
    ug: [i32; 256],
    ub: [i32; 256],
}

const YUV_SHIFT: i32 = 20;

fn yuv_tables() -> &'static YuvTables {
    static TABLES: std::sync::OnceLock<YuvTables> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        const CY: i32 = 1_220_542;
        const CVR: i32 = 1_673_527;
        const CVG: i32 = -852_492;
        const CUG: i32 = -409_993;
        const CUB: i32 = 2_116_026;
        let half = 1 << (YUV_SHIFT - 1);
        let table = |f: &dyn Fn(i32) -> i32| std::array::from_fn(|i| f(i as i32));
        YuvTables {
            // The rounding half goes into the Y term, which every channel adds once.
            y: table(&|y| (y - 16).max(0) * CY + half),
            vr: table(&|v| CVR * (v - 128)),
            vg: table(&|v| CVG * (v - 128)),
            ug: table(&|u| CUG * (u - 128)),
            ub: table(&|u| CUB * (u - 128)),
        }
    })
}

fn clamp_shift(x: i32) -> u8 {
    (x >> YUV_SHIFT).clamp(0, 255) as u8
}

/// Bilinear demosaicing of row `y`: each pixel keeps the colour its sensor cell measured
/// and takes each other colour as the rounded mean of the cells of that colour among its
/// 3x3 neighbours (those inside the image).
fn demosaic_row(
    data: &[u8],
    step: usize,
    width: usize,
    height: usize,
    cfa: Cfa,
    y: usize,
    row: &mut [u8],
) {
    let at = |x: usize, y: usize| u32::from(data[y * step + x]);
    if y == 0 || y + 1 == height || width < 3 {
        for x in 0..width {
            row[x * 3..x * 3 + 3].copy_from_slice(&bayer_mean(&at, width, height, cfa, x, y));
        }
        return;
    }
    for x in [0, width - 1] {
        row[x * 3..x * 3 + 3].copy_from_slice(&bayer_mean(&at, width, height, cfa, x, y));
    }
    // Inside the image the neighbours of each colour are fixed by the cell, and each
    // pixel needs only the rows above, at and below it.
    let line = |y: usize| &data[y * step..y * step + width];
    let rows = [line(y - 1), line(y), line(y + 1)];
    let inner = &mut row[3..(width - 1) * 3];
    let odd_green = cfa.channel(1, y) == 1;
    let other = cfa.channel(usize::from(!odd_green), y);
    match (odd_green, other == 0) {
        (true, true) => interior_row::<true, true>(rows, inner),
        (true, false) => interior_row::<true, false>(rows, inner),
        (false, true) => interior_row::<false, true>(rows, inner),
        (false, false) => interior_row::<false, false>(rows, inner),
    }
}

/// Pixels 1..width-1 of an interior row into `out` (3 bytes each). Odd pixels are green
/// when `ODD_GREEN`, else even ones; the row's other cells are red when `RED_ROW`, else
/// blue. Both are constants so that the loop has no data-dependent indexing.
fn interior_row<const ODD_GREEN: bool, const RED_ROW: bool>(rows: [&[u8]; 3], out: &mut [u8]) {
    let [above, here, below] = rows;
    let v = |r: &[u8], i: usize| u32::from(r[i]);
    // (red, blue) from (this row's colour, the other rows' colour).
    let order = |row: u8, column: u8| {
        if RED_ROW {
            (row, column)
        } else {
            (column, row)
        }
    };
    for (i, px) in out.chunks_exact_mut(3).enumerate() {
        let x = i + 1;
        let horizontal = v(here, x - 1) + v(here, x + 1);
        let vertical = v(above, x) + v(below, x);
        let (r, g, b) = if (x & 1 == 1) == ODD_GREEN {
            // Green cell: the row's colour left and right, the other above and below.
            let (r, b) = order(horizontal.div_ceil(2) as u8, vertical.div_ceil(2) as u8);
            (r, here[x], b)
        } else {
            let diagonal = v(above, x - 1) + v(above, x + 1) + v(below, x - 1) + v(below, x + 1);
            let (r, b) = order(here[x], ((diagonal + 2) / 4) as u8);
            (r, ((horizontal + vertical + 2) / 4) as u8, b)
        };
        px[0] = r;
        px[1] = g;
        px[2] = b;
    }
}

/// The definition of [`demosaic_row`] for one pixel, used at the image border.
fn bayer_mean(
    at: &impl Fn(usize, usize) -> u32,
    width: usize,
    height: usize,
    cfa: Cfa,
    x: usize,
    y: usize,
) -> [u8; 3] {
    let own = cfa.channel(x, y);
    let (mut sum, mut count) = ([0u32; 3], [0u32; 3]);
    for ny in y.saturating_sub(1)..(y + 2).min(height) {
        for nx in x.saturating_sub(1)..(x + 2).min(width) {
            let c = cfa.channel(nx, ny);
            sum[c] += at(nx, ny);
            count[c] += 1;
        }
    }
    let mut rgb = [0u8; 3];
    for c in 0..3 {
        // A 1-pixel-wide or -high image lacks some colours entirely: they stay 0.
        rgb[c] = if c == own {
            at(x, y) as u8
        } else {
            (sum[c] + count[c] / 2).checked_div(count[c]).unwrap_or(0) as u8
        };
    }
    rgb
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Pixels;
    use crate::Error;
    use proptest::prelude::*;

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

    const ENCODINGS: &[&str] = &[
        "rgb8",
        "bgr8",
        "rgba8",
        "bgra8",
        "mono8",
        "8UC1",
        "8UC3",
        "8UC4",
        "mono16",
        "16UC1",
        "yuv422",
        "yuv422_yuy2",
        "bayer_rggb8",
        "bayer_bggr8",
        "bayer_gbrg8",
        "bayer_grbg8",
    ];

    fn any_raw() -> impl Strategy<Value = RawImage> {
        (
            1u32..40,
            1u32..40,
            0u32..8,
            prop::sample::select(ENCODINGS),
            any::<bool>(),
        )
            .prop_flat_map(|(w, h, pad, enc, big_endian)| {
                let encoding = enc.parse::<Encoding>().unwrap();
                let w = if encoding.bytes_per_pixel() == 2 && enc.starts_with("yuv") {
                    w + w % 2
                } else {
                    w
                };
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
            assert!(
                worst <= Some(u8::from(encoding.starts_with("yuv"))),
                "{encoding}"
            );
        }
    }

    proptest! {
        #[test]
        fn decode_matches_reference(raw in any_raw()) {
            let expected = reference(&raw);
            let yuv = raw.encoding.starts_with("yuv");
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
                Encoding::SUPPORTED
            )
        );
    }
}
