//! `color`: the dominant colour name of a box, from the hue histogram of its pixels.

use image::RgbImage;
use rayon::prelude::*;

use super::{Classification, Classifier};
use crate::detect::BoundingBox;
use crate::error::Result;

/// The colours [`DominantColor`] can answer; `NAMES[colour as usize]` is the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Colour {
    Red,
    Orange,
    Yellow,
    Green,
    Cyan,
    Blue,
    Purple,
    Magenta,
    White,
    Gray,
    Black,
}

const NAMES: [&str; 11] = [
    "red", "orange", "yellow", "green", "cyan", "blue", "purple", "magenta", "white", "gray",
    "black",
];

/// Boxes of at least this many pixels are counted on several threads.
const PARALLEL_PIXELS: usize = 1 << 16;

/// Hue ranges (degrees, upper bound exclusive) and their colours; red wraps around 0.
const HUES: &[(f32, Colour)] = &[
    (15.0, Colour::Red),
    (45.0, Colour::Orange),
    (70.0, Colour::Yellow),
    (160.0, Colour::Green),
    (200.0, Colour::Cyan),
    (260.0, Colour::Blue),
    (290.0, Colour::Purple),
    (345.0, Colour::Magenta),
    (360.0, Colour::Red),
];

/// Names the colour most of a box's pixels have. Pixels with little saturation or value
/// have no meaningful hue: they vote for `white`, `gray` or `black` instead. The score is
/// the winning name's share of the box's pixels.
#[derive(Debug, Clone, Copy)]
pub struct DominantColor {
    /// Below this saturation (0..1) a pixel counts as achromatic. Default 0.25.
    pub min_saturation: f32,
    /// Below this value (0..1) a pixel counts as black. Default 0.2.
    pub min_value: f32,
}

impl Default for DominantColor {
    fn default() -> Self {
        DominantColor {
            min_saturation: 0.25,
            min_value: 0.2,
        }
    }
}

impl DominantColor {
    /// The colour name of one pixel.
    pub fn name(&self, rgb: [u8; 3]) -> &'static str {
        NAMES[self.colour(rgb) as usize]
    }

    fn colour(&self, [r, g, b]: [u8; 3]) -> Colour {
        let (r, g, b) = (
            f32::from(r) / 255.0,
            f32::from(g) / 255.0,
            f32::from(b) / 255.0,
        );
        let max = r.max(g).max(b);
        let chroma = max - r.min(g).min(b);
        if max < self.min_value {
            return Colour::Black;
        }
        if chroma / max < self.min_saturation {
            return if max > 0.8 {
                Colour::White
            } else {
                Colour::Gray
            };
        }
        let sector = if max == r {
            // In -1..=1: adding 6 to the negative ones is rem_euclid(6) without fmod.
            let s = (g - b) / chroma;
            if s < 0.0 {
                s + 6.0
            } else {
                s
            }
        } else if max == g {
            (b - r) / chroma + 2.0
        } else {
            (r - g) / chroma + 4.0
        };
        let hue = sector * 60.0;
        HUES.iter()
            .find(|(upper, _)| hue < *upper)
            .map_or(Colour::Red, |&(_, colour)| colour)
    }
}

impl Classifier for DominantColor {
    fn name(&self) -> &'static str {
        "color"
    }

    fn classify(&self, image: &RgbImage, bbox: &BoundingBox) -> Result<Option<Classification>> {
        let Some((x0, y0, w, h)) = super::pixel_rect(image, bbox) else {
            return Ok(None);
        };
        let stride = image.width() as usize * 3;
        let (x0, w) = (x0 as usize * 3, w as usize * 3);
        let count_row = |mut votes: [u64; NAMES.len()], y: u32| {
            let start = y as usize * stride + x0;
            for p in image.as_raw()[start..start + w].chunks_exact(3) {
                votes[self.colour([p[0], p[1], p[2]]) as usize] += 1;
            }
            votes
        };
        let add = |mut a: [u64; NAMES.len()], b: [u64; NAMES.len()]| {
            a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
            a
        };
        // Large boxes are counted by rows across rayon's pool.
        let votes = if w / 3 * h as usize >= PARALLEL_PIXELS {
            (y0..y0 + h)
                .into_par_iter()
                .fold(|| [0; NAMES.len()], count_row)
                .reduce(|| [0; NAMES.len()], add)
        } else {
            (y0..y0 + h).fold([0; NAMES.len()], count_row)
        };
        let total: u64 = votes.iter().sum();
        if total == 0 {
            return Ok(None);
        }
        // max_by_key keeps the last of equals: reversed, ties go to the name listed first.
        let (best, &count) = votes
            .iter()
            .enumerate()
            .rev()
            .max_by_key(|&(_, n)| *n)
            .expect("NAMES is not empty");
        Ok(Some(Classification {
            label: NAMES[best].into(),
            score: count as f32 / total as f32,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixel_names() {
        let c = DominantColor::default();
        let cases = [
            ([220, 40, 40], "red"),
            ([40, 200, 40], "green"),
            ([60, 90, 240], "blue"),
            ([230, 210, 40], "yellow"),
            ([210, 50, 210], "magenta"),
            ([40, 200, 210], "cyan"),
            ([250, 140, 20], "orange"),
            ([40, 40, 40], "black"),
            ([128, 128, 128], "gray"),
            ([250, 250, 250], "white"),
            ([250, 30, 60], "red"),
        ];
        for (rgb, name) in cases {
            assert_eq!(c.name(rgb), name, "{rgb:?}");
        }
    }

    #[test]
    fn an_ellipse_on_grey_is_named_by_its_colour() {
        let mut image = RgbImage::from_pixel(100, 100, image::Rgb([40, 40, 40]));
        imageproc::drawing::draw_filled_ellipse_mut(
            &mut image,
            (50, 50),
            30,
            30,
            image::Rgb([60, 90, 240]),
        );
        let bbox = BoundingBox {
            x: 20.0,
            y: 20.0,
            width: 61.0,
            height: 61.0,
        };
        let found = DominantColor::default()
            .classify(&image, &bbox)
            .unwrap()
            .unwrap();
        assert_eq!(found.label, "blue");
        // The circle fills about pi/4 of its box; the corners are the black background.
        assert!((found.score - 0.78).abs() < 0.03, "{}", found.score);
        let empty = BoundingBox {
            x: 200.0,
            y: 0.0,
            width: 5.0,
            height: 5.0,
        };
        assert_eq!(
            DominantColor::default().classify(&image, &empty).unwrap(),
            None
        );
    }
}
