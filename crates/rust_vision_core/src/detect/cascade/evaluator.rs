//! `evaluator`: a cascade laid out for evaluation on the integral images of one pyramid
//! level, OpenCV's `runAt` on one window and the walk along a row of windows.

use super::integral::Integral;
use super::model::{Cascade, Features};

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
pub(super) struct Evaluator<'a> {
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
    pub(super) fn new(cascade: &'a Cascade, stride: usize, tilted_offset: usize) -> Self {
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
    pub(super) fn run_at(&self, layer: &Integral, x: usize, y: usize) -> i32 {
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
            match self.normalisation(sum, squares) {
                Some(n) => norm = n,
                None => return -1,
            }
        }
        if self.stumps_only {
            self.run_stumps(window, norm)
        } else {
            self.run_trees(window, norm)
        }
    }

    /// The factor that normalises a window with these sums of its pixels and their
    /// squares, None when the window is too flat.
    #[inline(always)]
    fn normalisation(&self, sum: i32, squares: u32) -> Option<f32> {
        let variance = self.norm_area * f64::from(squares) - f64::from(sum) * f64::from(sum);
        if variance <= 0.0 {
            return None;
        }
        let norm = (1.0 / variance.sqrt()) as f32;
        (self.norm_area * f64::from(norm) < 0.1).then_some(norm)
    }

    /// `run_at` of a cascade of stumps.
    fn run_stumps(&self, window: &[i32], norm: f32) -> i32 {
        let mut stump = 0;
        for (si, stage) in self.cascade.stages.iter().enumerate() {
            let range = stump..stump + stage.trees.len();
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
            stump += stage.trees.len();
        }
        1
    }

    /// `run_at` of a cascade with deeper trees.
    fn run_trees(&self, window: &[i32], norm: f32) -> i32 {
        for (si, stage) in self.cascade.stages.iter().enumerate() {
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

    /// The origins `x` of the windows of row `y` that pass every stage, walking the row
    /// as OpenCV does: `step` apart, and a window rejected by the first stage makes the
    /// walk skip the next one.
    pub(super) fn scan_row(
        &self,
        layer: &Integral,
        y: usize,
        cols: usize,
        step: usize,
    ) -> Vec<usize> {
        let mut found = Vec::new();
        let mut x = 0;
        while x < cols {
            let result = self.run_at(layer, x, y);
            if result > 0 {
                found.push(x);
            }
            x += if result == 0 { 2 * step } else { step };
        }
        found
    }
}
