//! `cascade`: an attribute found by a second cascade inside each box, such as eyes or a
//! smile inside a face.

use image::RgbImage;

use super::{Classification, Classifier};
use crate::detect::cascade::{resample, CascadeDetector};
use crate::detect::BoundingBox;
use crate::error::Result;

/// Runs a cascade on the box's pixels; when it finds something, the classification is
/// the cascade's label, scored like its detections. Nothing found: no classification.
#[derive(Debug)]
pub struct CascadeAttribute {
    pub detector: CascadeDetector,
}

impl Classifier for CascadeAttribute {
    fn name(&self) -> &'static str {
        "cascade"
    }

    fn classify(&self, image: &RgbImage, bbox: &BoundingBox) -> Result<Option<Classification>> {
        let Some((x, y, w, h)) = super::pixel_rect(image, bbox) else {
            return Ok(None);
        };
        let crop = image::imageops::crop_imm(image, x, y, w, h).to_image();
        let found = self.detector.detect_gray(&resample::to_gray(&crop));
        Ok(found.iter().map(|&(_, n)| n).max().map(|n| Classification {
            label: self.detector.label().to_string(),
            score: self.detector.score(n),
        }))
    }
}
