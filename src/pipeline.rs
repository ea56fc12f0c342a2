//! One frame through the core: decode, detect, classify each detection; timed per stage.

use std::time::{Duration, Instant};

use crate::classify::Classifier;
use crate::decode::decode;
use crate::detect::{Detection, Detector};
use crate::error::Result;
use crate::frame::{Limits, RawImage};

/// The stages a frame goes through, and the limits its input must respect.
pub struct Pipeline {
    pub limits: Limits,
    pub detector: Box<dyn Detector>,
    /// The second stage; `None` runs no classifier.
    pub classifier: Option<Box<dyn Classifier>>,
    /// At most this many detections are kept (and classified) per frame.
    pub max_detections: usize,
}

/// Time spent in each stage of one frame.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTimings {
    pub decode: Duration,
    pub detect: Duration,
    pub classify: Duration,
}

/// What the core found in one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameResult {
    /// Size of the source image, pixels.
    pub width: u32,
    pub height: u32,
    pub detections: Vec<Detection>,
    pub timings: StageTimings,
}

impl Pipeline {
    /// Runs every stage on one frame. A bad frame gives an error and no detections.
    pub fn process(&self, raw: RawImage) -> Result<FrameResult> {
        let start = Instant::now();
        let image = decode(raw, &self.limits)?;
        let decoded = Instant::now();
        let mut detections = self.detector.detect(&image)?;
        detections.truncate(self.max_detections);
        let detected = Instant::now();
        if let Some(classifier) = &self.classifier {
            for detection in &mut detections {
                detection.classification = classifier.classify(&image, &detection.bbox)?;
            }
        }
        let classified = Instant::now();
        Ok(FrameResult {
            width: image.width(),
            height: image.height(),
            detections,
            timings: StageTimings {
                decode: decoded - start,
                detect: detected - decoded,
                classify: classified - detected,
            },
        })
    }
}
