//! `onnx`: YOLO-family detectors (YOLOv5, YOLOv8/11, end-to-end YOLOv10/YOLO26 and
//! RT-DETR output layouts, see [`layout`]): letterbox, inference, decoding, per-class
//! non-maximum suppression where the model did none, boxes mapped back to pixels of the
//! original image.

pub mod layout;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use image::RgbImage;

use super::{BoundingBox, Detection, Detector};
use crate::error::{ConfigError, Error, Result};
use crate::onnx_model::{class_names, image_tensor, OnnxModel};
use layout::{decode, Candidate};
pub use layout::{Layout, LayoutChoice};

/// Most candidates kept for non-maximum suppression (the best by score), as Ultralytics
/// does, so that a model that scores everything highly costs bounded time.
const MAX_CANDIDATES: usize = 30_000;

/// Settings of the `onnx` detector.
#[derive(Debug, Clone, PartialEq)]
pub struct OnnxDetectorConfig {
    /// Input size (square), pixels; 0 for the model's own.
    pub input_size: u32,
    /// Smallest score of a detection, 0..1.
    pub confidence: f32,
    /// Boxes of one class overlapping more than this (IoU) with a better one are dropped.
    pub iou: f32,
    /// How the output is laid out.
    pub layout: LayoutChoice,
}

impl OnnxDetectorConfig {
    /// Ultralytics' defaults for prediction.
    pub const DEFAULT: OnnxDetectorConfig = OnnxDetectorConfig {
        input_size: 0,
        confidence: 0.25,
        iou: 0.45,
        layout: LayoutChoice::Auto,
    };
}

/// A YOLO model and its class names.
#[derive(Debug)]
pub struct OnnxDetector {
    model: Arc<OnnxModel>,
    layout: Layout,
    labels: Vec<String>,
    config: OnnxDetectorConfig,
    /// The pipeline's `max_detections`, which it applies to every detector: here it also
    /// stops suppression early (the detector is rebuilt when it changes).
    max_detections: usize,
}

impl OnnxDetector {
    /// Input size (square) of models that leave it open, when none is asked for.
    pub const DEFAULT_INPUT_SIZE: u32 = 640;

    /// A detector running `model` (loaded from `path`) that finds at most
    /// `max_detections` boxes a frame; class names from `labels` (a file, one per line)
    /// when given, else from the model's metadata, else `class <n>`.
    pub fn new(
        model: Arc<OnnxModel>,
        path: &Path,
        labels: Option<&Path>,
        config: OnnxDetectorConfig,
        max_detections: usize,
    ) -> Result<Self> {
        let layout = Layout::resolve(
            config.layout,
            &model.output_shape,
            &model.metadata,
            model.input,
        )
        .map_err(|reason| ConfigError::model(path, reason))?;
        let labels = class_names(&model, path, labels, layout.classes())?;
        Ok(OnnxDetector {
            model,
            layout,
            labels,
            config,
            max_detections,
        })
    }

    /// The output layout the model was recognised by.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    fn label(&self, class: usize) -> String {
        self.labels
            .get(class)
            .cloned()
            .unwrap_or_else(|| format!("class {class}"))
    }
}

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

/// The `candidates`, best score first, at most [`MAX_CANDIDATES`].
fn rank(mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    candidates.truncate(MAX_CANDIDATES);
    candidates
}

/// Greedy non-maximum suppression within each class over `candidates`, best first,
/// until `max` are kept: each candidate is compared with the kept boxes of its class
/// only, so the work is at most `max` x [`MAX_CANDIDATES`] overlaps (30 million at
/// `max_detections` 1000), whatever the model scores.
fn suppress(candidates: Vec<Candidate>, threshold: f32, max: usize) -> Vec<Candidate> {
    let mut kept: Vec<Candidate> = Vec::new();
    // The indices in `kept` of each class's boxes.
    let mut by_class: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for c in candidates {
        if kept.len() >= max {
            break;
        }
        let same_class = by_class.entry(c.class).or_default();
        if !same_class
            .iter()
            .any(|&k| iou(&kept[k].corners, &c.corners) > threshold)
        {
            same_class.push(kept.len());
            kept.push(c);
        }
    }
    kept
}

/// The boxes kept from a model's raw `output` of `layout` for an input of `input`
/// pixels: those scoring at least the confidence, best first, suppressed where the
/// layout needs it, at most `max`.
pub fn boxes(
    output: &[f32],
    layout: Layout,
    config: &OnnxDetectorConfig,
    input: (u32, u32),
    max: usize,
) -> Result<Vec<Candidate>> {
    let candidates = decode(output, layout, config.confidence, input).map_err(Error::Internal)?;
    let mut kept = rank(candidates);
    if layout.needs_suppression() {
        kept = suppress(kept, config.iou, max);
    }
    kept.truncate(max);
    Ok(kept)
}

impl Detector for OnnxDetector {
    fn name(&self) -> &'static str {
        "onnx"
    }

    fn detect(&self, image: &RgbImage) -> Result<Vec<Detection>> {
        let (w, h) = image.dimensions();
        let (tensor, placement) = image_tensor(image, (0, 0, w, h), self.model.input, true);
        let output = self.model.run(&tensor)?;
        let (layout, input) = (self.layout, self.model.input);
        let kept = boxes(&output, layout, &self.config, input, self.max_detections)?;
        Ok(kept
            .into_iter()
            .map(|c| {
                let (x0, y0) = placement.to_image(c.corners[0], c.corners[1]);
                let (x1, y1) = placement.to_image(c.corners[2], c.corners[3]);
                let (x0, y0) = (x0.clamp(0.0, w as f32), y0.clamp(0.0, h as f32));
                let (x1, y1) = (x1.clamp(0.0, w as f32), y1.clamp(0.0, h as f32));
                Detection {
                    bbox: BoundingBox {
                        x: x0,
                        y: y0,
                        width: x1 - x0,
                        height: y1 - y0,
                    },
                    class_id: c.class as i32,
                    label: self.label(c.class),
                    score: c.score,
                    objectness: c.objectness,
                    classification: None,
                    track_id: 0,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Suppression as written first: every candidate against every kept box, no limit.
    fn reference(candidates: Vec<Candidate>, threshold: f32) -> Vec<Candidate> {
        let mut kept: Vec<Candidate> = Vec::new();
        for c in candidates {
            if !kept
                .iter()
                .any(|k| k.class == c.class && iou(&k.corners, &c.corners) > threshold)
            {
                kept.push(c);
            }
        }
        kept
    }

    proptest! {
        #[test]
        fn suppression_keeps_the_references_first_boxes(
            boxes in proptest::collection::vec((0u8..40, 0u8..40, 1u8..30, 0usize..3, 0u16..1000), 0..80),
            threshold in 0.0f32..1.0,
            max in 1usize..40,
        ) {
            let candidates: Vec<Candidate> = boxes
                .iter()
                .map(|&(x, y, side, class, score)| {
                    let (x, y, side) = (f32::from(x), f32::from(y), f32::from(side));
                    Candidate {
                        corners: [x, y, x + side, y + side],
                        class,
                        score: f32::from(score) / 1000.0,
                        objectness: 1.0,
                    }
                })
                .collect();
            let ranked = rank(candidates);
            let mut expected = reference(ranked.clone(), threshold);
            expected.truncate(max);
            prop_assert_eq!(suppress(ranked, threshold, max), expected);
        }
    }

    #[test]
    fn suppression_is_per_class() {
        let c = |x: f32, class, score| Candidate {
            corners: [x, 0.0, x + 10.0, 10.0],
            class,
            score,
            objectness: score,
        };
        let kept = suppress(
            rank(vec![
                c(0.0, 0, 0.9),
                c(1.0, 0, 0.8),
                c(1.0, 1, 0.7),
                c(50.0, 0, 0.6),
            ]),
            0.45,
            10,
        );
        let got: Vec<_> = kept.iter().map(|k| (k.corners[0], k.class)).collect();
        assert_eq!(got, [(0.0, 0), (1.0, 1), (50.0, 0)]);
    }
}
