//! `results`: what the stages find, shared by detectors, classifiers and front ends: a
//! box, a detection, a classification. Apart from both stages, so that neither imports
//! the other for its result types. All serialize with serde (JSON lines of results).

use serde::{Deserialize, Serialize};

/// An axis-aligned box in pixels of the original image: origin at the top-left corner of
/// the top-left pixel, x right, y down; a box over pixel columns 10..=19 has x 10, width 10.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoundingBox {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

impl BoundingBox {
    /// Area, pixels².
    pub fn area(&self) -> f32 {
        self.width.max(0.0) * self.height.max(0.0)
    }

    /// Intersection over union, 0..1 (0 when either box is empty).
    pub fn iou(&self, other: &BoundingBox) -> f32 {
        let w = (self.x + self.width).min(other.x + other.width) - self.x.max(other.x);
        let h = (self.y + self.height).min(other.y + other.height) - self.y.max(other.y);
        let inter = w.max(0.0) * h.max(0.0);
        let union = self.area() + other.area() - inter;
        if union > 0.0 {
            inter / union
        } else {
            0.0
        }
    }
}

/// One object found in an image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub bbox: BoundingBox,
    /// Index of the class in the detector's labels.
    pub class_id: i32,
    /// Human-readable class name.
    pub label: String,
    /// Confidence of the class, 0..1.
    pub score: f32,
    /// Confidence that there is an object at all, 0..1.
    pub objectness: f32,
    /// Second-stage result, when a classifier ran and answered.
    pub classification: Option<Classification>,
    /// The object's identity across frames, from the tracker ([`crate::track`]); 0 when
    /// no tracker runs or no track claims the box.
    #[serde(default)]
    pub track_id: u64,
}

/// What a classifier says about one box.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    /// Human-readable class name.
    pub label: String,
    /// Confidence, 0..1.
    pub score: f32,
}
