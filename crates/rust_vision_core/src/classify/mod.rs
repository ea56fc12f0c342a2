//! Second stage: the [`Classifier`] extension point, run on each detection's box, and
//! one module per classifier.

pub mod cascade;
pub mod color;
pub mod onnx;

use image::RgbImage;

use crate::error::Result;
use crate::results::BoundingBox;
pub use crate::results::Classification;

/// A second-stage classifier: looks at the part of the image inside one detection.
pub trait Classifier: Send + Sync {
    /// The name the `classifier` parameter selects it by.
    fn name(&self) -> &'static str;

    /// The class of what `image` shows inside `bbox`, or `None` when it cannot tell.
    fn classify(&self, image: &RgbImage, bbox: &BoundingBox) -> Result<Option<Classification>>;
}

/// The pixels `(x, y, width, height)` of `bbox` inside `image` (edges truncated), or
/// `None` when nothing of the box is inside.
pub fn pixel_rect(image: &RgbImage, bbox: &BoundingBox) -> Option<(u32, u32, u32, u32)> {
    let x0 = bbox.x.max(0.0) as u32;
    let y0 = bbox.y.max(0.0) as u32;
    let x1 = ((bbox.x + bbox.width).max(0.0) as u32).min(image.width());
    let y1 = ((bbox.y + bbox.height).max(0.0) as u32).min(image.height());
    (x1 > x0 && y1 > y0).then(|| (x0, y0, x1 - x0, y1 - y0))
}

crate::choice! {
    /// The second stages there are, by the name the `classifier` parameter uses.
    pub enum ClassifierKind for "classifier" {
        /// No second stage.
        None = "none",
        /// [`color::DominantColor`].
        Color = "color",
        /// [`cascade::CascadeAttribute`].
        Cascade = "cascade",
        /// [`onnx::OnnxClassifier`].
        Onnx = "onnx",
    }
}
