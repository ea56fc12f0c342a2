//! Run-length connected components (8-connectivity) with per-component statistics, for
//! the `blobs` detector.
//!
//! Written here because no crate does what `blobs` needs at memory speed: imageproc
//! labels a whole `u32` label image (8 MB written and read again at 1080p) and leaves the
//! statistics to another pass. Here each row's foreground becomes runs as it is
//! thresholded, runs are linked to the overlapping runs of the row above through a
//! union-find, and box and area are merged as labels join, so the image is read once and
//! nothing of image size is written. Bands of rows are labelled on rayon's pool and
//! joined at their borders.
//!
//! Components come out in raster order of their first pixel, as imageproc numbers them.

use rayon::prelude::*;

/// Extent and size of one connected component, pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Component {
    pub min_x: u32,
    pub min_y: u32,
    pub max_x: u32,
    pub max_y: u32,
    pub area: u64,
}

impl Component {
    fn of_run(run: &Run, y: u32) -> Self {
        Component {
            min_x: run.start,
            min_y: y,
            max_x: run.end - 1,
            max_y: y,
            area: u64::from(run.end - run.start),
        }
    }

    fn merge(&mut self, other: &Component) {
        self.min_x = self.min_x.min(other.min_x);
        self.min_y = self.min_y.min(other.min_y);
        self.max_x = self.max_x.max(other.max_x);
        self.max_y = self.max_y.max(other.max_y);
        self.area += other.area;
    }
}

/// Foreground columns `start..end` of one row, and the label they got.
#[derive(Debug, Clone, Copy)]
struct Run {
    start: u32,
    end: u32,
    label: u32,
}

/// Appends to `runs` the foreground runs of one row of `mask` (non-zero: foreground).
pub fn runs_of_mask(mask: &[u8], runs: &mut Vec<(u32, u32)>) {
    let mut x = 0;
    let n = mask.len();
    while x < n {
        // Skip background eight bytes at a time: most of a frame is background.
        while x + 8 <= n && u64::from_ne_bytes(mask[x..x + 8].try_into().unwrap()) == 0 {
            x += 8;
        }
        while x < n && mask[x] == 0 {
            x += 1;
        }
        if x == n {
            break;
        }
        let start = x;
        while x < n && mask[x] != 0 {
            x += 1;
        }
        runs.push((start as u32, x as u32));
    }
}

/// Labels of a band of rows being built: union-find over run labels, each root holding
/// the statistics of its component.
#[derive(Default)]
struct Labels {
    parent: Vec<u32>,
    stats: Vec<Component>,
}

impl Labels {
    fn find(&mut self, mut label: u32) -> u32 {
        while self.parent[label as usize] != label {
            let grandparent = self.parent[self.parent[label as usize] as usize];
            self.parent[label as usize] = grandparent;
            label = grandparent;
        }
        label
    }

    /// Joins the components of `a` and `b`; the lower label (earlier in raster order)
    /// stays the root. Returns the root.
    fn union(&mut self, a: u32, b: u32) -> u32 {
        let (a, b) = (self.find(a), self.find(b));
        if a == b {
            return a;
        }
        let (root, child) = (a.min(b), a.max(b));
        self.parent[child as usize] = root;
        let merged = self.stats[child as usize];
        self.stats[root as usize].merge(&merged);
        root
    }

    fn new_label(&mut self, component: Component) -> u32 {
        let label = self.parent.len() as u32;
        self.parent.push(label);
        self.stats.push(component);
        label
    }

    /// Labels the runs of row `y` (in `row`, sorted), joining each to the runs of the
    /// row above (`above`) that touch it, diagonals included.
    fn link_row(&mut self, above: &[Run], row: &mut [Run], y: u32) {
        let mut from = 0;
        for run in row.iter_mut() {
            let component = Component::of_run(run, y);
            let mut label = None;
            for k in touching(above, run, &mut from) {
                label = Some(match label {
                    None => {
                        let root = self.find(above[k].label);
                        self.stats[root as usize].merge(&component);
                        root
                    }
                    Some(l) => self.union(l, above[k].label),
                });
            }
            run.label = label.unwrap_or_else(|| self.new_label(component));
        }
    }
}

/// The runs of `above` (sorted) that touch `run` with 8-connectivity (columns
/// `start - 1 ..= end` of the row above), searched from `*from`, which then moves on for
/// the next run of the same row.
fn touching(above: &[Run], run: &Run, from: &mut usize) -> std::ops::Range<usize> {
    let mut j = *from;
    while j < above.len() && above[j].end < run.start {
        j += 1;
    }
    let mut k = j;
    while k < above.len() && above[k].start <= run.end {
        k += 1;
    }
    // The last run above that touched this one may touch the next one too.
    *from = k.saturating_sub(1).max(j);
    j..k
}

/// One band of rows, labelled: its components' union-find and the runs of its first and
/// last rows, to join it to its neighbours.
struct Band {
    labels: Labels,
    first: Vec<Run>,
    last: Vec<Run>,
}

/// Labels rows `rows` of an image; `row_runs(y, scratch, runs)` appends the foreground
/// runs of row y, sorted (`scratch` is the band's to reuse, for a mask row say).
fn label_band<F>(rows: std::ops::Range<u32>, row_runs: &F) -> Band
where
    F: Fn(u32, &mut Vec<u8>, &mut Vec<(u32, u32)>) + Sync,
{
    let mut labels = Labels::default();
    let (mut above, mut row, mut spans) = (Vec::new(), Vec::new(), Vec::new());
    let mut scratch = Vec::new();
    let mut first = None;
    for y in rows {
        spans.clear();
        row_runs(y, &mut scratch, &mut spans);
        row.clear();
        row.extend(spans.iter().map(|&(start, end)| Run {
            start,
            end,
            label: 0,
        }));
        labels.link_row(&above, &mut row, y);
        if first.is_none() {
            first = Some(row.clone());
        }
        std::mem::swap(&mut above, &mut row);
    }
    Band {
        labels,
        first: first.unwrap_or_default(),
        last: above,
    }
}

/// Rows per band below which a band is not worth a task of its own.
const MIN_BAND_ROWS: u32 = 64;

/// Every connected component of an image of `height` rows whose foreground runs
/// `row_runs(y, scratch, runs)` gives, in raster order of their first pixel.
///
/// With `threads` > 1 the rows are split into that many bands labelled in parallel.
pub fn components<F>(height: u32, threads: usize, row_runs: F) -> Vec<Component>
where
    F: Fn(u32, &mut Vec<u8>, &mut Vec<(u32, u32)>) + Sync,
{
    let bands = (threads as u32).clamp(1, (height / MIN_BAND_ROWS).max(1));
    let per_band = height.div_ceil(bands).max(1);
    let ranges: Vec<_> = (0..height)
        .step_by(per_band as usize)
        .map(|y| y..(y + per_band).min(height))
        .collect();
    let bands: Vec<Band> = if ranges.len() > 1 {
        ranges
            .into_par_iter()
            .map(|r| label_band(r, &row_runs))
            .collect()
    } else {
        ranges
            .into_iter()
            .map(|r| label_band(r, &row_runs))
            .collect()
    };
    join_bands(bands)
}

/// Joins bands labelled apart: their labels are offset into one union-find (keeping
/// raster order), and the runs on each side of every border are linked.
fn join_bands(bands: Vec<Band>) -> Vec<Component> {
    let mut all = Labels::default();
    let mut previous_last: Vec<Run> = Vec::new();
    for band in bands {
        let offset = all.parent.len() as u32;
        all.parent
            .extend(band.labels.parent.iter().map(|p| p + offset));
        all.stats.extend(band.labels.stats);
        let shift = |runs: &[Run]| -> Vec<Run> {
            runs.iter()
                .map(|r| Run {
                    label: r.label + offset,
                    ..*r
                })
                .collect()
        };
        let mut from = 0;
        for run in &shift(&band.first) {
            for k in touching(&previous_last, run, &mut from) {
                all.union(run.label, previous_last[k].label);
            }
        }
        previous_last = shift(&band.last);
    }
    (0..all.parent.len())
        .filter(|&l| all.parent[l] == l as u32)
        .map(|l| all.stats[l])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma};
    use imageproc::region_labelling::{connected_components, Connectivity};
    use proptest::prelude::*;

    /// The reference: imageproc's labelling, statistics gathered pixel by pixel, in label
    /// order (raster order of each component's first pixel).
    /// The mask is labelled inside a one-pixel background border, which changes no
    /// component: imageproc 0.25 panics on a 1x1 foreground image.
    fn reference(mask: &GrayImage) -> Vec<Component> {
        let mut padded = GrayImage::new(mask.width() + 2, mask.height() + 2);
        image::imageops::replace(&mut padded, mask, 1, 1);
        let labels = connected_components(&padded, Connectivity::Eight, Luma([0u8]));
        let mut components: Vec<Option<Component>> = Vec::new();
        for (x, y, &Luma([label])) in labels.enumerate_pixels() {
            if label == 0 {
                continue;
            }
            let (x, y) = (x - 1, y - 1);
            let index = label as usize - 1;
            if index >= components.len() {
                components.resize(index + 1, None);
            }
            let pixel = Component {
                min_x: x,
                min_y: y,
                max_x: x,
                max_y: y,
                area: 1,
            };
            match &mut components[index] {
                Some(c) => c.merge(&pixel),
                None => components[index] = Some(pixel),
            }
        }
        components.into_iter().flatten().collect()
    }

    fn ours(mask: &GrayImage, threads: usize) -> Vec<Component> {
        let width = mask.width() as usize;
        components(mask.height(), threads, |y, _, runs| {
            let start = y as usize * width;
            runs_of_mask(&mask.as_raw()[start..start + width], runs)
        })
    }

    /// A random mask whose density varies, so that both sparse and merging shapes occur.
    fn mask(width: u32, height: u32, seed: &[u8], density: u8) -> GrayImage {
        GrayImage::from_fn(width, height, |x, y| {
            let i = (y * width + x) as usize;
            let v = seed[i % seed.len()]
                .wrapping_mul(31)
                .wrapping_add((i / seed.len()) as u8);
            Luma([if v < density { 255 } else { 0 }])
        })
    }

    proptest! {
        #[test]
        fn same_components_as_imageproc(
            width in 1u32..90,
            height in 1u32..300,
            seed in proptest::collection::vec(any::<u8>(), 1..97),
            density in 0u8..=255,
            threads in 1usize..5,
        ) {
            let mask = mask(width, height, &seed, density);
            prop_assert_eq!(ours(&mask, threads), reference(&mask));
        }
    }

    #[test]
    fn shapes_that_meet_only_at_band_borders_and_diagonals() {
        // A zigzag crossing every band border diagonally, a U whose arms join only at
        // the bottom, and isolated pixels.
        let mut mask = GrayImage::new(40, 400);
        for y in 0..400 {
            let x = if y / 20 % 2 == 0 { y % 20 } else { 19 - y % 20 };
            mask.put_pixel(x, y, Luma([255]));
        }
        for y in 100..200 {
            mask.put_pixel(30, y, Luma([255]));
            mask.put_pixel(38, y, Luma([255]));
        }
        for x in 30..=38 {
            mask.put_pixel(x, 200, Luma([255]));
        }
        mask.put_pixel(39, 0, Luma([255]));
        mask.put_pixel(39, 399, Luma([255]));
        for threads in 1..=6 {
            assert_eq!(ours(&mask, threads), reference(&mask), "{threads} bands");
        }
    }

    #[test]
    fn runs_of_a_row() {
        let mut runs = Vec::new();
        let row = [0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1];
        runs_of_mask(&row, &mut runs);
        assert_eq!(runs, vec![(1, 3), (11, 12), (18, 19)]);
    }
}
