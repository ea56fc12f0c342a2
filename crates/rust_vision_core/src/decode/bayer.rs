//! 8-bit Bayer mosaics -> RGB, by bilinear demosaicing.
//!
//! Written by hand: no well-kept Rust crate demosaics 8-bit Bayer rows into an RGB buffer
//! in place; the definition (the rounded mean of each colour's cells among the 3x3
//! neighbours) is [`bayer_mean`], and the fast path for interior rows is tested against it.

/// Colour filter layout of a Bayer sensor: the colours of the top-left 2x2 cell, row by row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cfa {
    Rggb,
    Bggr,
    Gbrg,
    Grbg,
}

impl Cfa {
    /// Channel (0 R, 1 G, 2 B) sensed at pixel (x, y).
    pub(super) fn channel(self, x: usize, y: usize) -> usize {
        let cell: [usize; 4] = match self {
            Cfa::Rggb => [0, 1, 1, 2],
            Cfa::Bggr => [2, 1, 1, 0],
            Cfa::Gbrg => [1, 2, 0, 1],
            Cfa::Grbg => [1, 0, 2, 1],
        };
        cell[(y & 1) * 2 + (x & 1)]
    }
}

/// Bilinear demosaicing of row `y`: each pixel keeps the colour its sensor cell measured
/// and takes each other colour as the rounded mean of the cells of that colour among its
/// 3x3 neighbours (those inside the image).
pub(super) fn demosaic_row(
    data: &[u8],
    step: usize,
    width: usize,
    height: usize,
    cfa: Cfa,
    y: usize,
    row: &mut [u8],
) {
    let at = |x: usize, y: usize| u32::from(data[y * step + x]);
    if y == 0 || y + 1 == height || width < 3 {
        for x in 0..width {
            row[x * 3..x * 3 + 3].copy_from_slice(&bayer_mean(&at, width, height, cfa, x, y));
        }
        return;
    }
    for x in [0, width - 1] {
        row[x * 3..x * 3 + 3].copy_from_slice(&bayer_mean(&at, width, height, cfa, x, y));
    }
    // Inside the image the neighbours of each colour are fixed by the cell, and each
    // pixel needs only the rows above, at and below it.
    let line = |y: usize| &data[y * step..y * step + width];
    let rows = [line(y - 1), line(y), line(y + 1)];
    let inner = &mut row[3..(width - 1) * 3];
    let odd_green = cfa.channel(1, y) == 1;
    let other = cfa.channel(usize::from(!odd_green), y);
    match (odd_green, other == 0) {
        (true, true) => interior_row::<true, true>(rows, inner),
        (true, false) => interior_row::<true, false>(rows, inner),
        (false, true) => interior_row::<false, true>(rows, inner),
        (false, false) => interior_row::<false, false>(rows, inner),
    }
}

/// Pixels 1..width-1 of an interior row into `out` (3 bytes each). Odd pixels are green
/// when `ODD_GREEN`, else even ones; the row's other cells are red when `RED_ROW`, else
/// blue. Both are constants so that the loop has no data-dependent indexing.
fn interior_row<const ODD_GREEN: bool, const RED_ROW: bool>(rows: [&[u8]; 3], out: &mut [u8]) {
    let [above, here, below] = rows;
    let v = |r: &[u8], i: usize| u32::from(r[i]);
    // (red, blue) from (this row's colour, the other rows' colour).
    let order = |row: u8, column: u8| {
        if RED_ROW {
            (row, column)
        } else {
            (column, row)
        }
    };
    for (i, px) in out.chunks_exact_mut(3).enumerate() {
        let x = i + 1;
        let horizontal = v(here, x - 1) + v(here, x + 1);
        let vertical = v(above, x) + v(below, x);
        let (r, g, b) = if (x & 1 == 1) == ODD_GREEN {
            // Green cell: the row's colour left and right, the other above and below.
            let (r, b) = order(horizontal.div_ceil(2) as u8, vertical.div_ceil(2) as u8);
            (r, here[x], b)
        } else {
            let diagonal = v(above, x - 1) + v(above, x + 1) + v(below, x - 1) + v(below, x + 1);
            let (r, b) = order(here[x], ((diagonal + 2) / 4) as u8);
            (r, ((horizontal + vertical + 2) / 4) as u8, b)
        };
        px[0] = r;
        px[1] = g;
        px[2] = b;
    }
}

/// The definition of [`demosaic_row`] for one pixel, used at the image border.
pub(super) fn bayer_mean(
    at: &impl Fn(usize, usize) -> u32,
    width: usize,
    height: usize,
    cfa: Cfa,
    x: usize,
    y: usize,
) -> [u8; 3] {
    let own = cfa.channel(x, y);
    let (mut sum, mut count) = ([0u32; 3], [0u32; 3]);
    for ny in y.saturating_sub(1)..(y + 2).min(height) {
        for nx in x.saturating_sub(1)..(x + 2).min(width) {
            let c = cfa.channel(nx, ny);
            sum[c] += at(nx, ny);
            count[c] += 1;
        }
    }
    let mut rgb = [0u8; 3];
    for c in 0..3 {
        // A 1-pixel-wide or -high image lacks some colours entirely: they stay 0.
        rgb[c] = if c == own {
            at(x, y) as u8
        } else {
            (sum[c] + count[c] / 2).checked_div(count[c]).unwrap_or(0) as u8
        };
    }
    rgb
}
