//! `blobs`: segmentation by a per-pixel threshold, then connected components filtered by
//! area and aspect ratio. For industrial and synthetic scenes: objects that differ from a
//! plain background by colour or brightness.

use image::{GrayImage, RgbImage};

pub mod runs;

pub use runs::Component;

use super::{BoundingBox, Detection, Detector};
use crate::error::{ConfigError, Result};

crate::choice! {
    /// Which pixels are foreground.
    pub enum Segmentation for "blobs.mode" {
        /// Colourful pixels: chroma (max - min of R, G, B) >= threshold. Finds coloured objects
        /// on a grey, black or white background.
        Chroma = "chroma",
        /// Bright pixels: luma (BT.601) >= threshold.
        Bright = "bright",
        /// Dark pixels: luma < threshold.
        Dark = "dark",
    }
}

/// Settings of the `blobs` detector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlobsConfig {
    pub segmentation: Segmentation,
    /// Threshold of the segmentation measure, 0..255.
    pub threshold: u8,
    /// Smallest blob kept, pixels of the blob itself.
    pub min_area: u64,
    /// Largest blob kept, pixels; 0 for no limit.
    pub max_area: u64,
    /// Smallest and largest box aspect ratio (width / height) kept.
    pub min_aspect: f32,
    pub max_aspect: f32,
}

impl BlobsConfig {
    /// The defaults, also those of vision_node's parameters.
    pub const DEFAULT: BlobsConfig = BlobsConfig {
        segmentation: Segmentation::Chroma,
        threshold: 60,
        min_area: 100,
        max_area: 0,
        min_aspect: 0.1,
        max_aspect: 10.0,
    };
}

impl Default for BlobsConfig {
    fn default() -> Self {
        BlobsConfig::DEFAULT
    }
}

impl BlobsConfig {
    /// Checks the relations between the settings that their ranges alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_area != 0 && self.max_area < self.min_area {
            return Err(ConfigError::invalid(
                "blobs.max_area",
                format!(
                    "{} is below blobs.min_area {}",
                    self.max_area, self.min_area
                ),
            ));
        }
        if !(self.min_aspect > 0.0 && self.min_aspect <= self.max_aspect) {
            return Err(ConfigError::invalid(
                "blobs.min_aspect",
                format!(
                    "{} must be > 0 and <= blobs.max_aspect {}",
                    self.min_aspect, self.max_aspect
                ),
            ));
        }
        Ok(())
    }
}

/// The `blobs` detector. Every detection has class 0, label `blob`; its score and
/// objectness are the fraction of its box the blob fills (1 for a rectangle, ~0.785 for
/// an ellipse), a measure of how compact the blob is.
#[derive(Debug, Clone)]
pub struct Blobs {
    config: BlobsConfig,
}

impl Blobs {
    /// A detector with `config`, validated.
    pub fn new(config: BlobsConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Blobs { config })
    }

    /// The foreground mask: 255 where a pixel belongs to an object, 0 elsewhere.
    pub fn segment(&self, image: &RgbImage) -> GrayImage {
        let mut mask = GrayImage::new(image.width(), image.height());
        let width = image.width() as usize;
        if width > 0 {
            for (m, row) in mask
                .chunks_exact_mut(width)
                .zip(image.as_raw().chunks_exact(width * 3))
            {
                self.threshold_row(row, m);
            }
        }
        mask.iter_mut().for_each(|m| *m *= 255);
        mask
    }

    /// Writes 1 into `mask` where a pixel of the RGB `row` is foreground, 0 elsewhere.
    fn threshold_row(&self, row: &[u8], mask: &mut [u8]) {
        let t = self.config.threshold;
        let pixels = row.chunks_exact(3).zip(mask.iter_mut());
        // One loop per mode, so that each compiles to branch-free code.
        match self.config.segmentation {
            Segmentation::Chroma => pixels.for_each(|(p, m)| {
                let max = p[0].max(p[1]).max(p[2]);
                let min = p[0].min(p[1]).min(p[2]);
                *m = u8::from(max - min >= t);
            }),
            Segmentation::Bright => pixels.for_each(|(p, m)| *m = u8::from(luma(p) >= t)),
            Segmentation::Dark => pixels.for_each(|(p, m)| *m = u8::from(luma(p) < t)),
        }
    }

    /// The connected components of the foreground, in raster order of their first pixel:
    /// each row is thresholded and turned into runs in one pass, bands of rows in
    /// parallel on images large enough to pay for it.
    pub fn components(&self, image: &RgbImage) -> Vec<Component> {
        let width = image.width() as usize;
        let threads = if image.len() >= PARALLEL_FROM_BYTES {
            rayon::current_num_threads()
        } else {
            1
        };
        runs::components(image.height(), threads, |y, mask, spans| {
            mask.resize(width, 0);
            let start = y as usize * width * 3;
            self.threshold_row(&image.as_raw()[start..start + width * 3], mask);
            runs::runs_of_mask(mask, spans);
        })
    }
}

/// Images from this size on (bytes) are labelled in bands across rayon's pool.
const PARALLEL_FROM_BYTES: usize = 1 << 20;

/// BT.601 luma in integer arithmetic.
fn luma(p: &[u8]) -> u8 {
    ((299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2]) + 500) / 1000) as u8
}

impl Detector for Blobs {
    fn name(&self) -> &'static str {
        "blobs"
    }

    fn detect(&self, image: &RgbImage) -> Result<Vec<Detection>> {
        let config = &self.config;
        let mut detections: Vec<(u64, Detection)> = self
            .components(image)
            .into_iter()
            .filter_map(|c| {
                let (w, h) = (c.max_x - c.min_x + 1, c.max_y - c.min_y + 1);
                let aspect = w as f32 / h as f32;
                let keep = c.area >= config.min_area
                    && (config.max_area == 0 || c.area <= config.max_area)
                    && (config.min_aspect..=config.max_aspect).contains(&aspect);
                let fill = c.area as f32 / (u64::from(w) * u64::from(h)) as f32;
                keep.then(|| {
                    let detection = Detection {
                        bbox: BoundingBox {
                            x: c.min_x as f32,
                            y: c.min_y as f32,
                            width: w as f32,
                            height: h as f32,
                        },
                        class_id: 0,
                        label: "blob".into(),
                        score: fill,
                        objectness: fill,
                        classification: None,
                        track_id: 0,
                    };
                    (c.area, detection)
                })
            })
            .collect();
        // Largest first; scan order breaks ties, so the order is deterministic.
        detections.sort_by_key(|&(area, _)| std::cmp::Reverse(area));
        Ok(detections.into_iter().map(|(_, d)| d).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;
    use imageproc::drawing::{draw_filled_ellipse_mut, draw_filled_rect_mut};
    use imageproc::rect::Rect;

    const BACKGROUND: Rgb<u8> = Rgb([40, 40, 40]);

    /// A scene of coloured shapes on a grey background, with each shape's true box.
    fn scene(width: u32, height: u32, noise: u8) -> (RgbImage, Vec<BoundingBox>) {
        let mut image = RgbImage::from_pixel(width, height, BACKGROUND);
        if noise > 0 {
            // Deterministic per-channel noise in -noise..=noise.
            let mut state = 12345u32;
            for v in image.iter_mut() {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let n = (state >> 16) % (2 * u32::from(noise) + 1);
                *v = (u32::from(*v) + n - u32::from(noise)) as u8;
            }
        }
        let mut truth = Vec::new();
        let rects = [
            (20, 30, 80, 40, Rgb([220, 40, 40])),
            (150, 20, 30, 90, Rgb([40, 200, 40])),
            (300, 200, 120, 120, Rgb([230, 210, 40])),
        ];
        for (x, y, w, h, colour) in rects {
            draw_filled_rect_mut(&mut image, Rect::at(x, y).of_size(w, h), colour);
            truth.push(BoundingBox {
                x: x as f32,
                y: y as f32,
                width: w as f32,
                height: h as f32,
            });
        }
        let ellipses = [
            (100, 250, 50, 30, Rgb([60, 90, 240])),
            (500, 80, 25, 60, Rgb([210, 50, 210])),
        ];
        for (cx, cy, a, b, colour) in ellipses {
            draw_filled_ellipse_mut(&mut image, (cx, cy), a, b, colour);
            truth.push(BoundingBox {
                x: (cx - a) as f32,
                y: (cy - b) as f32,
                width: (2 * a + 1) as f32,
                height: (2 * b + 1) as f32,
            });
        }
        (image, truth)
    }

    fn assert_finds(detector: &Blobs, image: &RgbImage, truth: &[BoundingBox]) {
        let found = detector.detect(image).unwrap();
        assert_eq!(found.len(), truth.len(), "{found:#?}");
        for t in truth {
            let best = found.iter().map(|d| d.bbox.iou(t)).fold(0.0, f32::max);
            assert!(
                best >= 0.9,
                "shape {t:?}: best IoU {best}, found {found:#?}"
            );
        }
    }

    #[test]
    fn finds_every_shape_by_colour() {
        let (image, truth) = scene(640, 480, 0);
        assert_finds(&Blobs::new(BlobsConfig::default()).unwrap(), &image, &truth);
    }

    #[test]
    fn finds_every_shape_on_a_noisy_background() {
        let (image, truth) = scene(640, 480, 12);
        assert_finds(&Blobs::new(BlobsConfig::default()).unwrap(), &image, &truth);
    }

    #[test]
    fn finds_every_shape_by_brightness() {
        let (image, truth) = scene(640, 480, 0);
        let config = BlobsConfig {
            segmentation: Segmentation::Bright,
            ..BlobsConfig::default()
        };
        assert_finds(&Blobs::new(config).unwrap(), &image, &truth);
    }

    #[test]
    fn rectangles_fill_their_box_and_come_largest_first() {
        let (image, _) = scene(640, 480, 0);
        let found = Blobs::new(BlobsConfig::default())
            .unwrap()
            .detect(&image)
            .unwrap();
        assert_eq!(found[0].bbox.width, 120.0);
        assert_eq!(found[0].score, 1.0);
        assert!(found
            .windows(2)
            .all(|w| w[0].bbox.area() * w[0].score >= w[1].bbox.area() * w[1].score));
    }

    #[test]
    fn area_and_aspect_filters() {
        let (image, _) = scene(640, 480, 0);
        let only = |config: BlobsConfig| {
            Blobs::new(config)
                .unwrap()
                .detect(&image)
                .unwrap()
                .iter()
                .map(|d| (d.bbox.width as u32, d.bbox.height as u32))
                .collect::<Vec<_>>()
        };
        let big = BlobsConfig {
            min_area: 5000,
            ..BlobsConfig::default()
        };
        assert_eq!(only(big), vec![(120, 120)]);
        let tall = BlobsConfig {
            max_aspect: 0.5,
            ..BlobsConfig::default()
        };
        assert_eq!(only(tall), vec![(51, 121), (30, 90)]);
    }

    #[test]
    fn plain_image_has_no_detections() {
        let image = RgbImage::from_pixel(64, 48, BACKGROUND);
        let found = Blobs::new(BlobsConfig::default())
            .unwrap()
            .detect(&image)
            .unwrap();
        assert!(found.is_empty());
    }

    #[test]
    fn inconsistent_settings_are_refused() {
        let bad = BlobsConfig {
            min_area: 10,
            max_area: 5,
            ..BlobsConfig::default()
        };
        assert!(Blobs::new(bad).is_err());
        let bad = BlobsConfig {
            min_aspect: 2.0,
            max_aspect: 1.0,
            ..BlobsConfig::default()
        };
        assert!(Blobs::new(bad).is_err());
        assert!("hue".parse::<Segmentation>().is_err());
    }
}
