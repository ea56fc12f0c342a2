//! Second stage: the [`Classifier`] extension point, run on each detection's box.

use image::RgbImage;

use crate::detect::BoundingBox;
use crate::error::Result;

/// What a classifier says about one box.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    /// Human-readable class name.
    pub label: String,
    /// Confidence, 0..1.
    pub score: f32,
}

/// A second-stage classifier: looks at the part of the image inside one detection.
pub trait Classifier: Send + Sync {
    /// The name the `classifier` parameter selects it by.
    fn name(&self) -> &'static str;

    /// The class of what `image` shows inside `bbox`, or `None` when it cannot tell.
    fn classify(&self, image: &RgbImage, bbox: &BoundingBox) -> Result<Option<Classification>>;
}
