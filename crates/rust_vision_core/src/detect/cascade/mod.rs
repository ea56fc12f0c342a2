//! `cascade`: boosted-cascade detection with OpenCV's pretrained Haar and LBP models
//! (faces, eyes, cats, bodies, plates), computing what `cv::CascadeClassifier::
//! detectMultiScale` computes: the same image pyramid, windows, features, stage sums and
//! rectangle grouping, so that the same model finds the same boxes.
//!
//! Speed comes from the structure, not from approximations: per scale one resize and
//! one pass of integral images; per window a variance normalisation and stages that
//! mostly reject after a few features; scales and rows of windows spread over rayon's
//! pool.

mod evaluator;
mod group;
mod integral;
pub mod model;
pub mod resample;

use std::path::Path;
use std::sync::Arc;

use image::{GrayImage, RgbImage};
use rayon::prelude::*;

use evaluator::Evaluator;
pub use group::{group_rectangles, Rect};
use integral::Integral;
pub use model::Cascade;
use model::Features;

use super::{BoundingBox, Detection, Detector};
use crate::error::{ConfigError, Result};

/// How windows are grouped: OpenCV's `GROUP_EPS`.
const GROUP_EPS: f64 = 0.2;

/// The knobs of `detectMultiScale`, with its defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CascadeParams {
    /// Each pyramid level is this much smaller than the previous (> 1).
    pub scale_factor: f64,
    /// A detection needs more than this many overlapping windows; 0 returns every window.
    pub min_neighbors: u32,
    /// Smallest object searched for, pixels; (0, 0) for the model's window.
    pub min_size: (u32, u32),
    /// Largest object searched for, pixels; (0, 0) for the whole image.
    pub max_size: (u32, u32),
}

impl CascadeParams {
    /// OpenCV's defaults.
    pub const DEFAULT: CascadeParams = CascadeParams {
        scale_factor: 1.1,
        min_neighbors: 3,
        min_size: (0, 0),
        max_size: (0, 0),
    };

    /// Checks the values against each other.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.scale_factor > 1.0 && self.scale_factor <= 10.0) {
            return Err(ConfigError::invalid(
                "cascade.scale_factor",
                format!("{} is outside (1, 10]", self.scale_factor),
            ));
        }
        let (min, max) = (self.min_size, self.max_size);
        if max != (0, 0) && (max.0 < min.0 || max.1 < min.1) {
            return Err(ConfigError::invalid(
                "cascade.max_size",
                format!("{max:?} is smaller than cascade.min_size {min:?}"),
            ));
        }
        Ok(())
    }
}

impl Default for CascadeParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A loaded cascade and the parameters to run it with.
#[derive(Debug, Clone)]
pub struct CascadeDetector {
    cascade: Arc<Cascade>,
    params: CascadeParams,
    label: String,
}

impl CascadeDetector {
    /// Loads the model in `path`. The label of its detections is `label`, or when empty
    /// the file's name less `haarcascade_`/`lbpcascade_` (`frontalface_default`).
    pub fn load(path: &Path, params: CascadeParams, label: &str) -> Result<Self> {
        params.validate()?;
        Ok(Self::new(
            Arc::new(Cascade::load(path)?),
            params,
            path,
            label,
        ))
    }

    /// A detector with an already loaded `cascade` from `path`; see [`Self::load`].
    pub fn new(cascade: Arc<Cascade>, params: CascadeParams, path: &Path, label: &str) -> Self {
        let label = if label.is_empty() {
            default_label(path)
        } else {
            label.to_string()
        };
        CascadeDetector {
            cascade,
            params,
            label,
        }
    }

    /// The model.
    pub fn cascade(&self) -> &Cascade {
        &self.cascade
    }

    /// Certainty of a box merged from `windows` windows: `n / (n + min_neighbors + 1)`,
    /// so that a group just above the threshold scores about 0.5 and more agreeing
    /// windows score higher.
    pub fn score(&self, windows: u32) -> f32 {
        windows as f32 / (windows as f32 + (self.params.min_neighbors + 1) as f32)
    }

    /// The label of the detections.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// OpenCV's `detectMultiScale` on a grey image: the grouped boxes, each with its
    /// number of windows, clipped to the image.
    pub fn detect_gray(&self, gray: &GrayImage) -> Vec<(Rect, u32)> {
        let candidates = candidates(&self.cascade, gray, &self.params);
        let (w, h) = (gray.width() as i32, gray.height() as i32);
        group_rectangles(&candidates, self.params.min_neighbors, GROUP_EPS)
            .into_iter()
            .filter_map(|((x, y, rw, rh), n)| {
                let (x0, y0) = (x.max(0), y.max(0));
                let (x1, y1) = ((x + rw).min(w), (y + rh).min(h));
                (x1 > x0 && y1 > y0).then_some(((x0, y0, x1 - x0, y1 - y0), n))
            })
            .collect()
    }
}

/// `haarcascade_frontalface_default.xml` -> `frontalface_default`.
fn default_label(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy())
        .unwrap_or_default();
    let stem = stem
        .strip_prefix("haarcascade_")
        .or_else(|| stem.strip_prefix("lbpcascade_"))
        .unwrap_or(&stem);
    stem.to_string()
}

/// The pyramid's scales, as OpenCV chooses them: from 1 by `scale_factor` while the
/// window fits in the image and in `max_size`, skipping those below `min_size`.
fn scales(window: (u32, u32), image: (u32, u32), params: &CascadeParams) -> Vec<f32> {
    let max = if params.max_size.0 == 0 || params.max_size.1 == 0 {
        image
    } else {
        params.max_size
    };
    let mut out = Vec::new();
    let mut factor = 1.0f64;
    loop {
        let w = (f64::from(window.0) * factor).round_ties_even() as u32;
        let h = (f64::from(window.1) * factor).round_ties_even() as u32;
        if w > max.0 || h > max.1 || w > image.0 || h > image.1 {
            break;
        }
        if w >= params.min_size.0 && h >= params.min_size.1 {
            out.push(factor as f32);
        }
        factor *= params.scale_factor;
    }
    out
}

/// Every accepted window, before grouping, in pixels of `gray`.
pub fn candidates(cascade: &Cascade, gray: &GrayImage, params: &CascadeParams) -> Vec<Rect> {
    let (ww, wh) = cascade.window;
    let tilted = matches!(&cascade.features, Features::Haar(f) if f.iter().any(|f| f.tilted));
    let haar = matches!(cascade.features, Features::Haar(_));
    let size = gray.dimensions();
    let scaled = |scale: f32| {
        (
            (size.0 as f32 / scale).round_ties_even() as u32,
            (size.1 as f32 / scale).round_ties_even() as u32,
        )
    };
    let scales = scales(cascade.window, size, params);
    // OpenCV scans each level in as many stripes of rows as the first level has
    // 32-window columns, each stripe rounded down to whole steps; rows past the last
    // stripe are never scanned. The same rows are scanned here, for the same boxes.
    let stripes = scales.first().map_or(1, |&s| {
        (scaled(s).0 + 1).saturating_sub(ww).div_ceil(32).max(1)
    });
    let per_scale: Vec<Vec<Rect>> = scales
        .into_par_iter()
        .map(|scale| {
            let (sw, sh) = scaled(scale);
            let scaled = resample::resize_linear(gray, sw, sh);
            let layer = Integral::new(&scaled, haar, tilted);
            let evaluator = Evaluator::new(cascade, layer.stride, layer.tilted_offset);
            // Window origins: the integral is one larger than the image, and a window
            // needs its full size plus one inside it.
            let (cols, rows) = ((sw + 1).saturating_sub(ww), (sh + 1).saturating_sub(wh));
            let step = if scale >= 2.0 { 1 } else { 2 };
            let stripe = (rows / step).div_ceil(stripes).max(1) * step;
            let rows = rows.min(stripes * stripe);
            let win = (
                (ww as f32 * scale).round_ties_even() as i32,
                (wh as f32 * scale).round_ties_even() as i32,
            );
            let at = |v: u32| (v as f32 * scale).round_ties_even() as i32;
            (0..rows)
                .into_par_iter()
                .step_by(step as usize)
                .flat_map_iter(|y| {
                    let found =
                        evaluator.scan_row(&layer, y as usize, cols as usize, step as usize);
                    found
                        .into_iter()
                        .map(move |x| (at(x as u32), at(y), win.0, win.1))
                })
                .collect()
        })
        .collect();
    per_scale.concat()
}

impl Detector for CascadeDetector {
    fn name(&self) -> &'static str {
        "cascade"
    }

    fn detect(&self, image: &RgbImage) -> Result<Vec<Detection>> {
        let gray = resample::to_gray(image);
        Ok(self
            .detect_gray(&gray)
            .into_iter()
            .map(|((x, y, w, h), n)| {
                let score = self.score(n);
                Detection {
                    bbox: BoundingBox {
                        x: x as f32,
                        y: y as f32,
                        width: w as f32,
                        height: h as f32,
                    },
                    class_id: 0,
                    label: self.label.clone(),
                    score,
                    objectness: score,
                    classification: None,
                    track_id: 0,
                }
            })
            .collect())
    }
}
