//! `cascade`: boosted-cascade detection with OpenCV's pretrained Haar and LBP models
//! (faces, eyes, cats, bodies, plates), computing what `cv::CascadeClassifier::
//! detectMultiScale` computes: the same image pyramid, windows, features, stage sums and
//! rectangle grouping, so that the same model finds the same boxes.
//!
//! Speed comes from the structure, not from approximations: per scale one resize and
//! one pass of integral images; per window a variance normalisation and stages that
//! mostly reject after a few features; scales and rows of windows spread over rayon's
//! pool.

mod group;
mod integral;
pub mod model;
pub mod resample;

use std::path::Path;
use std::sync::Arc;

use image::{GrayImage, RgbImage};
use rayon::prelude::*;

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

/// One feature of a Haar cascade, as offsets from a window's origin in [`Integral::sums`].
#[derive(Debug, Clone, Copy)]
struct HaarOffsets {
    ofs: [[usize; 4]; 3],
    weight: [f32; 3],
}

/// An LBP weak classifier of one split, flattened for the stump fast path; its subset
/// of codes that go left is in [`Evaluator::subsets`] at the same index.
#[derive(Debug, Clone, Copy)]
struct LbpStump {
    feature: u32,
    left: f32,
    right: f32,
}

/// A Haar stump with its feature's offsets inline: one load less per feature.
#[derive(Debug, Clone, Copy)]
struct HaarStump {
    feature: HaarOffsets,
    threshold: f32,
    left: f32,
    right: f32,
}

/// A cascade laid out for evaluation on integral images of one stride.
struct Evaluator<'a> {
    cascade: &'a Cascade,
    stride: usize,
    haar: Vec<HaarOffsets>,
    lbp: Vec<[usize; 16]>,
    /// The four corners of the variance-normalisation rectangle (the window less a
    /// one-pixel border).
    norm: [usize; 4],
    norm_area: f64,
    /// Whether every tree is a single split: then the flattened stumps of every stage,
    /// in order, are in `haar_stumps` or `lbp_stumps` (by feature type).
    stumps_only: bool,
    haar_stumps: Vec<HaarStump>,
    lbp_stumps: Vec<LbpStump>,
    subsets: Vec<[u32; 8]>,
    /// One more than the largest offset from a window origin that any feature reads;
    /// every window scanned has this many values from its origin in the buffers.
    span: usize,
}

/// Offsets of the corners of upright rectangle `(x, y, w, h)`: top-left, top-right,
/// bottom-left, bottom-right.
fn upright(x: i32, y: i32, w: i32, h: i32, stride: usize) -> [usize; 4] {
    let at = |x: i32, y: i32| y as usize * stride + x as usize;
    [at(x, y), at(x + w, y), at(x, y + h), at(x + w, y + h)]
}

impl<'a> Evaluator<'a> {
    fn new(cascade: &'a Cascade, stride: usize, tilted_offset: usize) -> Self {
        let (ww, wh) = (cascade.window.0 as i32, cascade.window.1 as i32);
        let mut evaluator = Evaluator {
            cascade,
            stride,
            haar: Vec::new(),
            lbp: Vec::new(),
            norm: upright(1, 1, ww - 2, wh - 2, stride),
            norm_area: f64::from((ww - 2) * (wh - 2)),
            stumps_only: cascade.is_stumps(),
            haar_stumps: Vec::new(),
            lbp_stumps: Vec::new(),
            subsets: Vec::new(),
            span: 0,
        };
        match &cascade.features {
            Features::Haar(features) => {
                evaluator.haar = features
                    .iter()
                    .map(|f| {
                        let mut ofs = [[0; 4]; 3];
                        let mut weight = [0.0; 3];
                        for (i, &(x, y, w, h, wt)) in f.rects.iter().enumerate() {
                            weight[i] = wt;
                            if wt == 0.0 {
                                continue;
                            }
                            ofs[i] = if f.tilted {
                                // Corners of the rotated rectangle in the tilted sums:
                                // (x, y), (x - h, y + h), (x + w, y + w),
                                // (x + w - h, y + w + h).
                                let at = |x: i32, y: i32| {
                                    tilted_offset + y as usize * stride + x as usize
                                };
                                [
                                    at(x, y),
                                    at(x - h, y + h),
                                    at(x + w, y + w),
                                    at(x + w - h, y + w + h),
                                ]
                            } else {
                                upright(x, y, w, h, stride)
                            };
                        }
                        HaarOffsets { ofs, weight }
                    })
                    .collect();
            }
            Features::Lbp(features) => {
                evaluator.lbp = features
                    .iter()
                    .map(|f| {
                        // The 4x4 grid of corners of the 3x3 blocks.
                        let mut ofs = [0; 16];
                        for (i, o) in ofs.iter_mut().enumerate() {
                            let (cx, cy) = ((i % 4) as i32, (i / 4) as i32);
                            *o = (f.y + cy * f.height) as usize * stride
                                + (f.x + cx * f.width) as usize;
                        }
                        ofs
                    })
                    .collect();
            }
        }
        if evaluator.stumps_only {
            for tree in cascade.stages.iter().flat_map(|s| &s.trees) {
                let node = tree.nodes[0];
                let (left, right) = (tree.leaves[0], tree.leaves[1]);
                if evaluator.haar.is_empty() {
                    let feature = node.feature;
                    evaluator.lbp_stumps.push(LbpStump {
                        feature,
                        left,
                        right,
                    });
                    evaluator.subsets.extend(tree.subsets.first());
                } else {
                    evaluator.haar_stumps.push(HaarStump {
                        feature: evaluator.haar[node.feature as usize],
                        threshold: node.threshold,
                        left,
                        right,
                    });
                }
            }
        }
        let offsets = evaluator.haar.iter().flat_map(|f| f.ofs.iter().flatten());
        let offsets = offsets
            .chain(evaluator.lbp.iter().flatten())
            .chain(&evaluator.norm);
        evaluator.span = offsets.max().map_or(0, |m| m + 1);
        evaluator
    }

    /// Value of Haar `feature` in the window whose values start `window`, normalised by
    /// `norm`. The products and sums are in f32, in OpenCV's order, for its results.
    #[inline(always)]
    fn haar_value(window: &[i32], feature: &HaarOffsets, norm: f32) -> f32 {
        let rect = |o: &[usize; 4]| {
            window[o[0]]
                .wrapping_sub(window[o[1]])
                .wrapping_sub(window[o[2]])
                .wrapping_add(window[o[3]]) as f32
        };
        let mut value =
            feature.weight[0] * rect(&feature.ofs[0]) + feature.weight[1] * rect(&feature.ofs[1]);
        if feature.weight[2] != 0.0 {
            value += feature.weight[2] * rect(&feature.ofs[2]);
        }
        value * norm
    }

    /// LBP code (0..255) of feature `f` at window origin `p`: one bit per outer block,
    /// set when its sum is at least the centre block's.
    #[inline]
    fn lbp_code(&self, window: &[i32], f: usize) -> usize {
        let o = &self.lbp[f];
        let block = |a: usize, b: usize, c: usize, d: usize| {
            window[o[a]]
                .wrapping_sub(window[o[b]])
                .wrapping_sub(window[o[c]])
                .wrapping_add(window[o[d]])
        };
        let centre = block(5, 6, 9, 10);
        // Clockwise from the top-left block, most significant bit first.
        let blocks = [
            (0, 1, 4, 5),
            (1, 2, 5, 6),
            (2, 3, 6, 7),
            (6, 7, 10, 11),
            (10, 11, 14, 15),
            (9, 10, 13, 14),
            (8, 9, 12, 13),
            (4, 5, 8, 9),
        ];
        blocks.iter().fold(0, |code, &(a, b, c, d)| {
            (code << 1) | usize::from(block(a, b, c, d) >= centre)
        })
    }

    /// OpenCV's `runAt`: 1 when window `(x, y)` passes every stage, `-k` when stage `k`
    /// rejects it (0 for the first), -1 when it is too flat to normalise.
    fn run_at(&self, layer: &Integral, x: usize, y: usize) -> i32 {
        let p = y * self.stride + x;
        // Every offset is below `span`: one bounds check here instead of one per read.
        let window = &layer.sums[p..p + self.span];
        let mut norm = 1.0f32;
        if !self.haar.is_empty() {
            let n = &self.norm;
            let sum = window[n[0]]
                .wrapping_sub(window[n[1]])
                .wrapping_sub(window[n[2]])
                .wrapping_add(window[n[3]]);
            let sq = &layer.squares[p..];
            let squares = sq[n[0]]
                .wrapping_sub(sq[n[1]])
                .wrapping_sub(sq[n[2]])
                .wrapping_add(sq[n[3]]);
            let variance = self.norm_area * f64::from(squares) - f64::from(sum) * f64::from(sum);
            if variance <= 0.0 {
                return -1;
            }
            norm = (1.0 / variance.sqrt()) as f32;
            if self.norm_area * f64::from(norm) >= 0.1 {
                return -1;
            }
        }
        let stages = &self.cascade.stages;
        if self.stumps_only {
            let mut next = 0;
            for (si, stage) in stages.iter().enumerate() {
                let range = next..next + stage.trees.len();
                let mut total = 0.0f64;
                if self.haar.is_empty() {
                    let subsets = &self.subsets[range.clone()];
                    for (stump, subset) in self.lbp_stumps[range].iter().zip(subsets) {
                        let c = self.lbp_code(window, stump.feature as usize);
                        let left = subset[c >> 5] & (1 << (c & 31)) != 0;
                        total += f64::from(if left { stump.left } else { stump.right });
                    }
                } else {
                    for stump in &self.haar_stumps[range] {
                        let v = Self::haar_value(window, &stump.feature, norm);
                        total += f64::from(if v < stump.threshold {
                            stump.left
                        } else {
                            stump.right
                        });
                    }
                }
                if total < f64::from(stage.threshold) {
                    return -(si as i32);
                }
                next += stage.trees.len();
            }
            return 1;
        }
        for (si, stage) in stages.iter().enumerate() {
            let mut total = 0.0f64;
            for tree in &stage.trees {
                let mut idx = 0i32;
                loop {
                    let node = &tree.nodes[idx as usize];
                    let left = if self.haar.is_empty() {
                        let c = self.lbp_code(window, node.feature as usize);
                        tree.subsets[idx as usize][c >> 5] & (1 << (c & 31)) != 0
                    } else {
                        let feature = &self.haar[node.feature as usize];
                        Self::haar_value(window, feature, norm) < node.threshold
                    };
                    idx = if left { node.left } else { node.right };
                    if idx <= 0 {
                        break;
                    }
                }
                total += f64::from(tree.leaves[(-idx) as usize]);
            }
            if total < f64::from(stage.threshold) {
                return -(si as i32);
            }
        }
        1
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
                    let mut found = Vec::new();
                    let mut x = 0;
                    while x < cols {
                        let result = evaluator.run_at(&layer, x as usize, y as usize);
                        if result > 0 {
                            found.push((at(x), at(y), win.0, win.1));
                        }
                        // Rejected by the first stage: the next window is likely
                        // rejected too, skip it (OpenCV does).
                        x += if result == 0 { 2 * step } else { step };
                    }
                    found
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
                }
            })
            .collect())
    }
}
