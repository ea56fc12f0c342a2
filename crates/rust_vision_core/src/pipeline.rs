//! One frame through the core: decode, detect, classify each detection; timed per stage.
//!
//! [`Pipeline`] holds what the stages need and runs each of them; [`crate::stages`] runs
//! them concurrently on successive frames, and [`Pipeline::process`] runs them one after
//! the other on one frame.

use std::time::{Duration, Instant};

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::classify::Classifier;
use crate::decode::decode_input;
use crate::detect::{Detection, Detector};
use crate::error::Result;
use crate::frame::{Input, Limits};
use crate::track::ByteTrackConfig;

/// The stages a frame goes through, and the limits its input must respect.
pub struct Pipeline {
    pub limits: Limits,
    pub detector: Box<dyn Detector>,
    /// The second stage; `None` runs no classifier.
    pub classifier: Option<Box<dyn Classifier>>,
    /// At most this many detections are kept (and classified) per frame.
    pub max_detections: usize,
    /// The tracker's settings; `None` tracks nothing. The tracks themselves are state
    /// across frames, kept by the stage that runs frames in order ([`crate::track`]).
    pub tracker: Option<ByteTrackConfig>,
}

/// Time spent in each stage of one frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StageTimings {
    pub decode: Duration,
    pub detect: Duration,
    pub classify: Duration,
}

/// What the core found in one frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameResult {
    /// Size of the source image, pixels.
    pub width: u32,
    pub height: u32,
    pub detections: Vec<Detection>,
    pub timings: StageTimings,
}

impl Pipeline {
    /// First stage: the input as an RGB image, and the time it took.
    pub fn decode(&self, input: Input) -> Result<(RgbImage, Duration)> {
        let start = Instant::now();
        let image = decode_input(input, &self.limits)?;
        Ok((image, start.elapsed()))
    }

    /// Second stage: the detector's first `max_detections` detections.
    pub fn detect(&self, image: &RgbImage) -> Result<(Vec<Detection>, Duration)> {
        let start = Instant::now();
        let mut detections = self.detector.detect(image)?;
        detections.truncate(self.max_detections);
        Ok((detections, start.elapsed()))
    }

    /// Third stage: the classifier's verdict on each detection, when there is one.
    pub fn classify(&self, image: &RgbImage, detections: &mut [Detection]) -> Result<Duration> {
        let start = Instant::now();
        if let Some(classifier) = &self.classifier {
            for detection in detections {
                detection.classification = classifier.classify(image, &detection.bbox)?;
            }
        }
        Ok(start.elapsed())
    }

    /// Every stage on one frame, one after the other. A bad frame gives an error and no
    /// detections.
    pub fn process(&self, input: Input) -> Result<FrameResult> {
        let (image, decode) = self.decode(input)?;
        let (mut detections, detect) = self.detect(&image)?;
        let classify = self.classify(&image, &mut detections)?;
        Ok(FrameResult {
            width: image.width(),
            height: image.height(),
            detections,
            timings: StageTimings {
                decode,
                detect,
                classify,
            },
        })
    }
}
