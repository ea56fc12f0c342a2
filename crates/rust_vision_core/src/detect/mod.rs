//! Detection: the [`Detector`] extension point, its results, and one module per detector.

pub mod blobs;
pub mod cascade;
pub mod onnx;

use image::RgbImage;

use crate::error::Result;
pub use crate::results::{BoundingBox, Detection};

/// Most detections a frame keeps (the top of `max_detections`' range): the ONNX
/// detector's suppression and the tracker's assignment grow with it (see
/// [`onnx::OnnxDetector::new`] and [`crate::track`]), so it bounds their time per frame.
pub const MAX_DETECTIONS: usize = 1000;

/// A first-stage detector: finds objects in a whole image.
///
/// Implementations are immutable while detecting, so one instance can serve several
/// worker threads.
pub trait Detector: Send + Sync {
    /// The name the `detector` parameter selects it by.
    fn name(&self) -> &'static str;

    /// Detections in `image`, in the detector's order of preference.
    fn detect(&self, image: &RgbImage) -> Result<Vec<Detection>>;
}

crate::choice! {
    /// The detectors there are, by the name the `detector` parameter uses.
    pub enum DetectorKind for "detector" {
        /// [`blobs::Blobs`].
        Blobs = "blobs",
        /// [`cascade::CascadeDetector`].
        Cascade = "cascade",
        /// [`onnx::OnnxDetector`].
        Onnx = "onnx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bbox(x: f32, y: f32, width: f32, height: f32) -> BoundingBox {
        BoundingBox {
            x,
            y,
            width,
            height,
        }
    }

    #[test]
    fn iou_of_known_boxes() {
        let a = bbox(0.0, 0.0, 10.0, 10.0);
        assert_eq!(a.iou(&a), 1.0);
        assert_eq!(a.iou(&bbox(5.0, 0.0, 10.0, 10.0)), 50.0 / 150.0);
        assert_eq!(a.iou(&bbox(10.0, 0.0, 10.0, 10.0)), 0.0);
        assert_eq!(a.iou(&bbox(0.0, 0.0, 0.0, 0.0)), 0.0);
    }
}
