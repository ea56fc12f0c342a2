//! Integral images of a grey image: upright sums, sums of squares and 45°-rotated sums,
//! with the layout and wrap-around arithmetic of OpenCV's `cv::integral`, so that cascade
//! features evaluate to the same numbers.

use image::GrayImage;

/// The integral images of one grey image of `width` x `height` pixels; each is
/// `(width + 1) x (height + 1)` values, row-major with stride `width + 1`.
///
/// `sum[y][x]` is the sum of the pixels above and left of `(x, y)`; `squares` the same
/// for squared pixels, modulo 2³² (only differences of nearby values are used, and those
/// fit); `tilted` holds OpenCV's rotated sums (`tilted[Y][X]` sums the pixels `(x, y)`
/// with `y < Y` and `|x - X + 1| <= Y - 1 - y`) right after the upright ones in `sums`.
#[derive(Debug, Clone, Default)]
pub struct Integral {
    pub stride: usize,
    /// Upright sums, then (when asked for) tilted sums: one buffer, so that a feature's
    /// offsets address either from the same window origin.
    pub sums: Vec<i32>,
    pub squares: Vec<u32>,
    /// Offset of the tilted sums in `sums`; 0 when they were not computed.
    pub tilted_offset: usize,
}

impl Integral {
    /// The integrals of `image`; squares and tilted sums only when asked for.
    pub fn new(image: &GrayImage, squares: bool, tilted: bool) -> Self {
        let (w, h) = (image.width() as usize, image.height() as usize);
        let stride = w + 1;
        let plane = stride * (h + 1);
        let mut out = Integral {
            stride,
            sums: vec![0; if tilted { 2 * plane } else { plane }],
            squares: if squares { vec![0; plane] } else { Vec::new() },
            tilted_offset: if tilted { plane } else { 0 },
        };
        let pixels = image.as_raw();
        for y in 0..h {
            let row = &pixels[y * w..(y + 1) * w];
            let (above, this) = out.sums[y * stride..(y + 2) * stride].split_at_mut(stride);
            let mut run = 0i32;
            for x in 0..w {
                run += i32::from(row[x]);
                this[x + 1] = above[x + 1].wrapping_add(run);
            }
            if squares {
                let (above, this) = out.squares[y * stride..(y + 2) * stride].split_at_mut(stride);
                let mut run = 0u32;
                for x in 0..w {
                    let p = u32::from(row[x]);
                    run = run.wrapping_add(p * p);
                    this[x + 1] = above[x + 1].wrapping_add(run);
                }
            }
        }
        if tilted {
            rotated_sums(image, &mut out.sums[plane..], stride);
        }
        out
    }
}

/// OpenCV's tilted integral, in O(1) per value.
///
/// The triangle of `tilted[Y][X]` (apex pixel `(X - 1, Y - 1)`, widening upwards) is, row
/// by row, a difference of two row prefix sums whose ends move one pixel per row: one
/// along a falling diagonal, one along a rising one. Accumulating prefix sums along each
/// diagonal (indexed by where it crosses the current row) turns every triangle into the
/// difference of two running values.
fn rotated_sums(image: &GrayImage, out: &mut [i32], stride: usize) {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let pixels = image.as_raw();
    // Diagonals are indexed with an offset of `h + 1` so that those starting left of the
    // image (and reaching it further down) have a slot too.
    let span = w + 2 * h + 3;
    let mut falling = vec![0i32; span]; // sums of prefix(row, s - row)
    let mut rising = vec![0i32; span]; // sums of prefix(row, t + row)
    let mut prefix = vec![0i32; w + 1];
    for b in 0..h {
        let row = &pixels[b * w..(b + 1) * w];
        for x in 0..w {
            prefix[x + 1] = prefix[x] + i32::from(row[x]);
        }
        let at = |i: isize| prefix[i.clamp(0, w as isize) as usize];
        // falling[k] accumulates prefix(row, k - (h + 1) - row) + ...
        for (k, slot) in falling.iter_mut().enumerate() {
            *slot = slot.wrapping_add(at(k as isize - (h as isize + 1) - b as isize));
        }
        for (k, slot) in rising.iter_mut().enumerate() {
            *slot = slot.wrapping_add(at(k as isize - (h as isize + 1) + b as isize));
        }
        // tilted[b + 1][X], apex (a, b) with a = X - 1: rows y <= b, columns
        // a - (b - y) ..= a + (b - y), i.e. prefix(y, a + b - y + 1) - prefix(y, a - b + y).
        let line = &mut out[(b + 1) * stride..(b + 2) * stride];
        for (big_x, value) in line.iter_mut().enumerate() {
            let a = big_x as isize - 1;
            let s = (a + b as isize + 1 + h as isize + 1) as usize;
            let t = (a - b as isize + h as isize + 1) as usize;
            *value = falling[s].wrapping_sub(rising[t]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn image(w: u32, h: u32, seed: &[u8]) -> GrayImage {
        GrayImage::from_fn(w, h, |x, y| {
            image::Luma([seed[((y * w + x) as usize) % seed.len()]])
        })
    }

    /// The definitions, summed pixel by pixel.
    fn naive(img: &GrayImage) -> (Vec<i32>, Vec<u32>, Vec<i32>) {
        let (w, h) = (img.width() as i64, img.height() as i64);
        let px = |x: i64, y: i64| i64::from(img.get_pixel(x as u32, y as u32)[0]);
        let (mut s, mut q, mut t) = (vec![], vec![], vec![]);
        for big_y in 0..=h {
            for big_x in 0..=w {
                let (mut sum, mut sq, mut tilt) = (0i64, 0i64, 0i64);
                for y in 0..h {
                    for x in 0..w {
                        if y < big_y && x < big_x {
                            sum += px(x, y);
                            sq += px(x, y) * px(x, y);
                        }
                        if y < big_y && (x - big_x + 1).abs() <= big_y - 1 - y {
                            tilt += px(x, y);
                        }
                    }
                }
                s.push(sum as i32);
                q.push(sq as u32);
                t.push(tilt as i32);
            }
        }
        (s, q, t)
    }

    proptest! {
        #[test]
        fn matches_the_definitions(
            w in 1u32..14,
            h in 1u32..14,
            seed in proptest::collection::vec(any::<u8>(), 1..64),
        ) {
            let img = image(w, h, &seed);
            let got = Integral::new(&img, true, true);
            let (sums, squares, tilted) = naive(&img);
            let plane = sums.len();
            prop_assert_eq!(&got.sums[..plane], &sums[..]);
            prop_assert_eq!(&got.squares[..], &squares[..]);
            prop_assert_eq!(&got.sums[got.tilted_offset..], &tilted[..]);
        }
    }
}
