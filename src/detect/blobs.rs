//! `blobs`: segmentation by a per-pixel threshold, then connected components filtered by
//! area and aspect ratio. For industrial and synthetic scenes: objects that differ from a
//! plain background by colour or brightness.

use std::str::FromStr;

use image::{GrayImage, Luma, RgbImage};
use imageproc::region_labelling::{connected_components, Connectivity};

use super::{BoundingBox, Detection, Detector};
use crate::error::{ConfigError, Result};

/// Which pixels are foreground.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segmentation {
    /// Colourful pixels: chroma (max - min of R, G, B) >= threshold. Finds coloured objects
    /// on a grey, black or white background.
    Chroma,
    /// Bright pixels: luma (BT.601) >= threshold.
    Bright,
    /// Dark pixels: luma < threshold.
    Dark,
}

impl Segmentation {
    /// Every name [`Segmentation::from_str`] accepts.
    pub const NAMES: &'static [&'static str] = &["chroma", "bright", "dark"];
}

impl FromStr for Segmentation {
    type Err = ConfigError;

    fn from_str(name: &str) -> Result<Self, ConfigError> {
        match name {
            "chroma" => Ok(Segmentation::Chroma),
            "bright" => Ok(Segmentation::Bright),
            "dark" => Ok(Segmentation::Dark),
            other => Err(ConfigError::not_one_of("blobs.mode", other, Self::NAMES)),
        }
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
        let t = self.config.threshold;
        let test: fn(&[u8; 3], u8) -> bool = match self.config.segmentation {
            Segmentation::Chroma => |p, t| {
                let max = p[0].max(p[1]).max(p[2]);
                let min = p[0].min(p[1]).min(p[2]);
                max - min >= t
            },
            Segmentation::Bright => |p, t| luma(p) >= t,
            Segmentation::Dark => |p, t| luma(p) < t,
        };
        let mask: Vec<u8> = image
            .as_raw()
            .chunks_exact(3)
            .map(|p| if test(&[p[0], p[1], p[2]], t) { 255 } else { 0 })
            .collect();
        GrayImage::from_raw(image.width(), image.height(), mask).expect("one byte per pixel")
    }
}

/// BT.601 luma in integer arithmetic.
fn luma(p: &[u8; 3]) -> u8 {
    ((299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2]) + 500) / 1000) as u8
}

/// Extent and size of one connected component.
#[derive(Debug, Clone, Copy)]
struct Component {
    min_x: u32,
    min_y: u32,
    max_x: u32,
    max_y: u32,
    area: u64,
}

impl Detector for Blobs {
    fn name(&self) -> &'static str {
        "blobs"
    }

    fn detect(&self, image: &RgbImage) -> Result<Vec<Detection>> {
        let mask = self.segment(image);
        let labels = connected_components(&mask, Connectivity::Eight, Luma([0u8]));
        // Labels are 1..=n, numbered in scan order.
        let mut components: Vec<Option<Component>> = Vec::new();
        for (x, y, &Luma([label])) in labels.enumerate_pixels() {
            if label == 0 {
                continue;
            }
            let index = label as usize - 1;
            if index >= components.len() {
                components.resize(index + 1, None);
            }
            let c = components[index].get_or_insert(Component {
                min_x: x,
                min_y: y,
                max_x: x,
                max_y: y,
                area: 0,
            });
            c.min_x = c.min_x.min(x);
            c.max_x = c.max_x.max(x);
            c.max_y = y;
            c.area += 1;
        }
        let config = &self.config;
        let mut detections: Vec<(u64, Detection)> = components
            .into_iter()
            .flatten()
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
