//! Grey conversion and bilinear resizing that give the same bytes as OpenCV's
//! `cvtColor(RGB2GRAY)` and `resize(INTER_LINEAR_EXACT)` on 8-bit images, so that a
//! cascade sees exactly the pixels it sees under OpenCV.
//!
//! Both use OpenCV's fixed-point arithmetic (checked against opencv-python 4.14 on
//! photos: every byte equal), and both are property-tested against floating-point
//! references here.

use image::{GrayImage, RgbImage};

/// ITU-R BT.601 luma with 15-bit coefficients, rounded: OpenCV's 8-bit RGB -> grey.
pub fn to_gray(image: &RgbImage) -> GrayImage {
    const R: u32 = 9798;
    const G: u32 = 19235;
    const B: u32 = 3735;
    let pixels = image
        .as_raw()
        .chunks_exact(3)
        .map(|p| {
            ((u32::from(p[0]) * R + u32::from(p[1]) * G + u32::from(p[2]) * B + (1 << 14)) >> 15)
                as u8
        })
        .collect();
    GrayImage::from_raw(image.width(), image.height(), pixels).expect("one byte per pixel")
}

/// Fixed-point scale of the interpolation weights (8 fractional bits).
const ONE: u32 = 256;

/// For each destination coordinate: the first source coordinate and the two weights,
/// computed as OpenCV's bit-exact linear resize does (in f64, from the inverse scale).
fn taps(dst: u32, src: u32) -> Vec<(usize, u32, u32)> {
    let scale = 1.0 / (f64::from(dst) / f64::from(src));
    (0..dst)
        .map(|d| {
            let f = scale * (f64::from(d) + 0.5) - 0.5;
            let i = f.floor();
            if i < 0.0 || src < 2 {
                (0, ONE, 0)
            } else if i >= f64::from(src - 1) {
                (src as usize - 1, ONE, 0)
            } else {
                let w1 = ((f - i) * f64::from(ONE)).round_ties_even() as u32;
                (i as usize, ONE - w1, w1)
            }
        })
        .collect()
}

/// `image` resized to `width` x `height` by bilinear interpolation (pixel centres
/// aligned), as OpenCV's `resize(..., INTER_LINEAR_EXACT)` computes it, which is what its
/// cascade classifier uses to build the image pyramid.
pub fn resize_linear(image: &GrayImage, width: u32, height: u32) -> GrayImage {
    let (sw, sh) = (image.width(), image.height());
    if (sw, sh) == (width, height) {
        return image.clone();
    }
    let src = image.as_raw();
    let sw = sw as usize;
    let xs = taps(width, sw as u32);
    let ys = taps(height, sh);
    // Rows interpolated horizontally, 8.8 fixed point.
    let horizontal = |row: usize, out: &mut Vec<u32>| {
        let line = &src[row * sw..(row + 1) * sw];
        out.clear();
        out.extend(xs.iter().map(|&(s, w0, w1)| {
            u32::from(line[s]) * w0 + u32::from(line[(s + 1).min(sw - 1)]) * w1
        }));
    };
    let mut out = Vec::with_capacity(width as usize * height as usize);
    let (mut upper, mut lower) = (Vec::new(), Vec::new());
    let mut cached = (usize::MAX, usize::MAX);
    for &(s, w0, w1) in &ys {
        let next = (s + 1).min(sh as usize - 1);
        if cached != (s, next) {
            if cached.1 == s {
                std::mem::swap(&mut upper, &mut lower);
            } else {
                horizontal(s, &mut upper);
            }
            horizontal(next, &mut lower);
            cached = (s, next);
        }
        out.extend(
            upper
                .iter()
                .zip(&lower)
                .map(|(&a, &b)| ((a * w0 + b * w1 + (1 << 15)) >> 16) as u8),
        );
    }
    GrayImage::from_raw(width, height, out).expect("one byte per pixel")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Bilinear interpolation in floating point, borders clamped.
    fn reference(image: &GrayImage, width: u32, height: u32) -> GrayImage {
        let (sw, sh) = (image.width() as f64, image.height() as f64);
        let px = |x: f64, y: f64| {
            let x = x.clamp(0.0, sw - 1.0) as u32;
            let y = y.clamp(0.0, sh - 1.0) as u32;
            f64::from(image.get_pixel(x, y)[0])
        };
        GrayImage::from_fn(width, height, |x, y| {
            let fx = ((f64::from(x) + 0.5) * sw / f64::from(width) - 0.5).max(0.0);
            let fy = ((f64::from(y) + 0.5) * sh / f64::from(height) - 0.5).max(0.0);
            let (x0, y0) = (fx.floor(), fy.floor());
            let (ax, ay) = (fx - x0, fy - y0);
            let top = px(x0, y0) * (1.0 - ax) + px(x0 + 1.0, y0) * ax;
            let bottom = px(x0, y0 + 1.0) * (1.0 - ax) + px(x0 + 1.0, y0 + 1.0) * ax;
            image::Luma([(top * (1.0 - ay) + bottom * ay).round() as u8])
        })
    }

    fn image(w: u32, h: u32, seed: &[u8]) -> GrayImage {
        GrayImage::from_fn(w, h, |x, y| {
            image::Luma([seed[((y * 7 + x * 3) as usize) % seed.len()]])
        })
    }

    proptest! {
        #[test]
        fn resize_is_bilinear_within_fixed_point_rounding(
            w in 2u32..80,
            h in 2u32..80,
            shrink in 1.0f64..4.0,
            seed in proptest::collection::vec(any::<u8>(), 1..50),
        ) {
            let img = image(w, h, &seed);
            let (dw, dh) = (((w as f64 / shrink).round() as u32).max(1), ((h as f64 / shrink).round() as u32).max(1));
            let got = resize_linear(&img, dw, dh);
            let want = reference(&img, dw, dh);
            for (g, r) in got.pixels().zip(want.pixels()) {
                prop_assert!((i32::from(g[0]) - i32::from(r[0])).abs() <= 1, "{g:?} vs {r:?}");
            }
        }

        #[test]
        fn gray_is_bt601_luma(r: u8, g: u8, b: u8) {
            let img = RgbImage::from_pixel(1, 1, image::Rgb([r, g, b]));
            let want = 0.299 * f64::from(r) + 0.587 * f64::from(g) + 0.114 * f64::from(b);
            prop_assert!((f64::from(to_gray(&img).get_pixel(0, 0)[0]) - want).abs() <= 0.51);
        }
    }
}
