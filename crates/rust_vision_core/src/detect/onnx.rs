//! `onnx`: YOLO-family detectors (YOLOv5, YOLOv8/v11 output layouts) run with tract:
//! letterbox, inference, decoding, per-class non-maximum suppression, boxes mapped back to
//! pixels of the original image.

use std::path::Path;
use std::sync::Arc;

use image::RgbImage;

use super::{BoundingBox, Detection, Detector};
use crate::error::{ConfigError, Result};
use crate::onnx_model::{class_names, image_tensor, OnnxModel, OnnxRuntime};

/// Most candidates kept for non-maximum suppression (the best by score), as Ultralytics
/// does, so that a model that scores everything highly costs bounded time.
const MAX_CANDIDATES: usize = 30_000;

/// How a YOLO model lays out its output, recognised from the output's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `1 x N x (5 + C)`: per box cx, cy, w, h, objectness, then C class scores.
    V5 { boxes: usize, classes: usize },
    /// `1 x (4 + C) x N`: per box (in columns) cx, cy, w, h, then C class scores.
    V8 { boxes: usize, classes: usize },
}

impl Layout {
    /// The layout of an output of `shape`: YOLOv8/v11 when the boxes run along the last
    /// axis (more boxes than rows), YOLOv5 otherwise.
    pub fn recognise(shape: &[usize]) -> Result<Self, String> {
        match *shape {
            [1, rows, cols] if rows >= 5 && cols > rows => Ok(Layout::V8 {
                boxes: cols,
                classes: rows - 4,
            }),
            [1, boxes, cols] if cols >= 6 && boxes >= cols => Ok(Layout::V5 {
                boxes,
                classes: cols - 5,
            }),
            _ => Err(format!(
                "output shape {shape:?} is neither YOLOv5's 1 x boxes x (5 + classes) nor \
                 YOLOv8's 1 x (4 + classes) x boxes"
            )),
        }
    }

    fn classes(&self) -> usize {
        match *self {
            Layout::V5 { classes, .. } | Layout::V8 { classes, .. } => classes,
        }
    }
}

/// Settings of the `onnx` detector.
#[derive(Debug, Clone, PartialEq)]
pub struct OnnxDetectorConfig {
    /// Input size (square), pixels; 0 for the model's own.
    pub input_size: u32,
    /// Smallest score of a detection, 0..1.
    pub confidence: f32,
    /// Boxes of one class overlapping more than this (IoU) with a better one are dropped.
    pub iou: f32,
}

impl OnnxDetectorConfig {
    /// Ultralytics' defaults for prediction.
    pub const DEFAULT: OnnxDetectorConfig = OnnxDetectorConfig {
        input_size: 0,
        confidence: 0.25,
        iou: 0.45,
    };
}

/// A YOLO model and its class names.
#[derive(Debug)]
pub struct OnnxDetector {
    model: Arc<OnnxModel>,
    layout: Layout,
    labels: Vec<String>,
    config: OnnxDetectorConfig,
}

impl OnnxDetector {
    /// Input size (square) of models that leave it open, when none is asked for.
    pub const DEFAULT_INPUT_SIZE: u32 = 640;

    /// Loads the model in `path`; class names from `labels` (a file, one per line) when
    /// given, else from the model's metadata, else `class <n>`.
    pub fn load(
        path: &Path,
        labels: Option<&Path>,
        config: OnnxDetectorConfig,
        runtime: &OnnxRuntime,
    ) -> Result<Self> {
        let size = config.input_size;
        let model = OnnxModel::load(path, size, Self::DEFAULT_INPUT_SIZE, runtime)?;
        let model = Arc::new(model);
        Self::new(model, path, labels, config)
    }

    /// A detector with an already loaded `model` from `path`; see [`Self::load`].
    pub fn new(
        model: Arc<OnnxModel>,
        path: &Path,
        labels: Option<&Path>,
        config: OnnxDetectorConfig,
    ) -> Result<Self> {
        let layout = Layout::recognise(&model.output_shape)
            .map_err(|reason| ConfigError::model(path, reason))?;
        let labels = class_names(&model, path, labels, layout.classes())?;
        Ok(OnnxDetector {
            model,
            layout,
            labels,
            config,
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

/// A candidate box in input pixels.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    corners: [f32; 4],
    class: usize,
    score: f32,
    objectness: f32,
}

fn corners(cx: f32, cy: f32, w: f32, h: f32) -> [f32; 4] {
    [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0]
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

/// Greedy non-maximum suppression within each class, best score first.
fn suppress(mut candidates: Vec<Candidate>, threshold: f32) -> Vec<Candidate> {
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    candidates.truncate(MAX_CANDIDATES);
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

/// The candidates above `confidence` in a raw output of `layout`.
fn decode(output: &[f32], layout: Layout, confidence: f32) -> Vec<Candidate> {
    let mut out = Vec::new();
    match layout {
        Layout::V8 { boxes, classes } => {
            let at = |row: usize, i: usize| output[row * boxes + i];
            for i in 0..boxes {
                let (class, score) = (0..classes)
                    .map(|c| (c, at(4 + c, i)))
                    .fold((0, f32::MIN), |best, x| if x.1 > best.1 { x } else { best });
                if score >= confidence {
                    out.push(Candidate {
                        corners: corners(at(0, i), at(1, i), at(2, i), at(3, i)),
                        class,
                        score,
                        objectness: score,
                    });
                }
            }
        }
        Layout::V5 { boxes, classes } => {
            for row in output.chunks_exact(5 + classes).take(boxes) {
                let objectness = row[4];
                if objectness < confidence {
                    continue;
                }
                let (class, best) =
                    row[5..]
                        .iter()
                        .enumerate()
                        .fold(
                            (0, f32::MIN),
                            |best, (c, &s)| if s > best.1 { (c, s) } else { best },
                        );
                let score = objectness * best;
                if score >= confidence {
                    out.push(Candidate {
                        corners: corners(row[0], row[1], row[2], row[3]),
                        class,
                        score,
                        objectness,
                    });
                }
            }
        }
    }
    out
}

impl Detector for OnnxDetector {
    fn name(&self) -> &'static str {
        "onnx"
    }

    fn detect(&self, image: &RgbImage) -> Result<Vec<Detection>> {
        let (w, h) = image.dimensions();
        let (tensor, placement) = image_tensor(image, (0, 0, w, h), self.model.input, true);
        let output = self.model.run(&tensor)?;
        let candidates = decode(&output, self.layout, self.config.confidence);
        Ok(suppress(candidates, self.config.iou)
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

    #[test]
    fn layouts_from_shapes() {
        assert_eq!(
            Layout::recognise(&[1, 84, 8400]),
            Ok(Layout::V8 {
                boxes: 8400,
                classes: 80
            })
        );
        assert_eq!(
            Layout::recognise(&[1, 25200, 85]),
            Ok(Layout::V5 {
                boxes: 25200,
                classes: 80
            })
        );
        assert!(Layout::recognise(&[1, 1000]).is_err());
        assert!(Layout::recognise(&[2, 84, 8400]).is_err());
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
            vec![
                c(0.0, 0, 0.9),
                c(1.0, 0, 0.8),
                c(1.0, 1, 0.7),
                c(50.0, 0, 0.6),
            ],
            0.45,
        );
        let got: Vec<_> = kept.iter().map(|k| (k.corners[0], k.class)).collect();
        assert_eq!(got, [(0.0, 0), (1.0, 1), (50.0, 0)]);
    }
}
