//! `assign`: the linear assignment of tracks to detections with a cost limit, as
//! ByteTrack does it with lapjv: pairs whose cost (1 - IoU) is above the limit are never
//! matched, and among the rest the total cost is least, an unmatched track or
//! detection costing half the limit on each side. That is the same as the matching of
//! greatest total `limit - cost` over the allowed pairs, which pathfinding's
//! Kuhn-Munkres finds (on integers: the weights are scaled by 10^6).
//!
//! Kuhn-Munkres takes cubic time, but boxes only compete for one another where they
//! overlap: the allowed pairs split the tracks and detections into groups (boxes linked
//! by chains of overlaps) that can be matched apart with the same total cost. A group of
//! `s` x `l` (smaller and larger side) takes Kuhn-Munkres up to `s`² x `l` steps; groups
//! within [`EXACT_STEPS`] (a crowd of 400 linked boxes, or 256 against 1000) are matched
//! exactly, larger ones greedily, cheapest pair first (sorting their allowed pairs), so
//! that a group's cost is bounded whatever the scene.

use pathfinding::kuhn_munkres::kuhn_munkres;
use pathfinding::matrix::Matrix;

const SCALE: f64 = 1e6;

/// Most Kuhn-Munkres steps (`s`² x `l` for a group of `s` x `l`) a group may take;
/// larger groups are matched greedily.
pub const EXACT_STEPS: usize = 1 << 26;

/// Whether a group of `rows` x `cols` is matched exactly.
fn exact_fits(rows: usize, cols: usize) -> bool {
    let (s, l) = (rows.min(cols), rows.max(cols));
    s.saturating_mul(s).saturating_mul(l) <= EXACT_STEPS
}

/// The best matching of rows (tracks) to columns (detections) by `cost[row][col]` (every
/// row as long), leaving out pairs costing more than `limit`: (row, col) pairs.
pub fn assign(cost: &[Vec<f64>], limit: f64) -> Vec<(usize, usize)> {
    let width = cost.first().map_or(0, Vec::len);
    let mut pairs = Vec::new();
    for (rows, cols) in groups(cost, limit) {
        let copy: Vec<Vec<f64>>;
        let group = if rows.len() == cost.len() && cols.len() == width {
            cost
        } else {
            copy = rows
                .iter()
                .map(|&r| cols.iter().map(|&c| cost[r][c]).collect())
                .collect();
            &copy
        };
        let matched = if exact_fits(rows.len(), cols.len()) {
            exact(group, limit)
        } else {
            greedy(group, limit)
        };
        pairs.extend(matched.into_iter().map(|(r, c)| (rows[r], cols[c])));
    }
    pairs
}

/// The rows and columns joined by allowed pairs (cost within `limit`), group by group;
/// rows and columns with no allowed pair are in none.
fn groups(cost: &[Vec<f64>], limit: f64) -> Vec<(Vec<usize>, Vec<usize>)> {
    let rows = cost.len();
    let cols = cost.first().map_or(0, Vec::len);
    // Union-find over rows 0..rows and columns rows..rows + cols.
    let mut parent: Vec<usize> = (0..rows + cols).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut joined = vec![false; rows + cols];
    for (r, row) in cost.iter().enumerate() {
        for (c, &value) in row.iter().enumerate() {
            if value <= limit {
                let (a, b) = (root(&mut parent, r), root(&mut parent, rows + c));
                parent[a] = b;
                joined[r] = true;
                joined[rows + c] = true;
            }
        }
    }
    let mut by_root: std::collections::BTreeMap<usize, (Vec<usize>, Vec<usize>)> =
        Default::default();
    for i in (0..rows + cols).filter(|&i| joined[i]) {
        let group = by_root.entry(root(&mut parent, i)).or_default();
        if i < rows {
            group.0.push(i);
        } else {
            group.1.push(i - rows);
        }
    }
    by_root.into_values().collect()
}

/// The matching of least total cost within `limit`, by Kuhn-Munkres.
fn exact(cost: &[Vec<f64>], limit: f64) -> Vec<(usize, usize)> {
    let (rows, cols) = (cost.len(), cost.first().map_or(0, Vec::len));
    if rows == 0 || cols == 0 {
        return Vec::new();
    }
    // Kuhn-Munkres wants no more rows than columns: transpose when there are.
    let transposed = rows > cols;
    let (n, m) = if transposed {
        (cols, rows)
    } else {
        (rows, cols)
    };
    let weight = |i: usize, j: usize| {
        let c = if transposed { cost[j][i] } else { cost[i][j] };
        if c <= limit {
            // +1: an allowed pair at exactly the limit still outweighs a forbidden one.
            ((limit - c) * SCALE) as i64 + 1
        } else {
            0
        }
    };
    let weights = Matrix::from_fn(n, m, |(i, j)| weight(i, j));
    let (_, columns) = kuhn_munkres(&weights);
    columns
        .into_iter()
        .enumerate()
        .filter(|&(i, j)| weights[(i, j)] > 0)
        .map(|(i, j)| if transposed { (j, i) } else { (i, j) })
        .collect()
}

/// A matching within `limit` taking the cheapest pair left first.
fn greedy(cost: &[Vec<f64>], limit: f64) -> Vec<(usize, usize)> {
    let mut allowed: Vec<(f64, u32, u32)> = cost
        .iter()
        .enumerate()
        .flat_map(|(r, row)| {
            let pairs = row.iter().enumerate();
            pairs.map(move |(c, &v)| (v, r as u32, c as u32))
        })
        .filter(|&(v, _, _)| v <= limit)
        .collect();
    allowed.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then((a.1, a.2).cmp(&(b.1, b.2))));
    let cols = cost.first().map_or(0, Vec::len);
    let (mut row_taken, mut col_taken) = (vec![false; cost.len()], vec![false; cols]);
    let mut pairs = Vec::new();
    for (_, r, c) in allowed {
        let (r, c) = (r as usize, c as usize);
        if !row_taken[r] && !col_taken[c] {
            (row_taken[r], col_taken[c]) = (true, true);
            pairs.push((r, c));
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn total(cost: &[Vec<f64>], pairs: &[(usize, usize)], limit: f64) -> f64 {
        let (rows, cols) = (cost.len(), cost.first().map_or(0, Vec::len));
        let matched: f64 = pairs.iter().map(|&(r, c)| cost[r][c]).sum();
        matched + (rows + cols - 2 * pairs.len()) as f64 * limit / 2.0
    }

    fn is_matching(pairs: &[(usize, usize)], cost: &[Vec<f64>], limit: f64) -> bool {
        let mut rows: Vec<_> = pairs.iter().map(|p| p.0).collect();
        let mut cols: Vec<_> = pairs.iter().map(|p| p.1).collect();
        let n = pairs.len();
        rows.sort();
        rows.dedup();
        cols.sort();
        cols.dedup();
        rows.len() == n && cols.len() == n && pairs.iter().all(|&(r, c)| cost[r][c] <= limit)
    }

    #[test]
    fn least_total_cost_within_the_limit() {
        // Greedy would take (0, 0) at 0.1 and leave row 1 with 0.9 (over the limit).
        let cost = vec![vec![0.1, 0.2], vec![0.15, 0.9]];
        let mut matched = assign(&cost, 0.8);
        matched.sort();
        assert_eq!(matched, vec![(0, 1), (1, 0)]);
    }

    #[test]
    fn pairs_over_the_limit_stay_unmatched_whatever_the_shape() {
        let cost = vec![vec![0.95], vec![0.3], vec![0.99]];
        assert_eq!(assign(&cost, 0.8), vec![(1, 0)]);
        assert_eq!(assign(&[vec![0.9, 0.95]], 0.8), vec![]);
        assert_eq!(assign(&[], 0.8), vec![]);
    }

    #[test]
    fn groups_over_the_step_budget_are_matched_greedily() {
        assert!(exact_fits(400, 400) && exact_fits(1000, 256) && !exact_fits(260, 1000));
        assert!(exact_fits(0, usize::MAX) && !exact_fits(usize::MAX, usize::MAX));
        // A group over the budget: every track overlaps every detection.
        let (rows, cols) = (260, 1000);
        assert!(!exact_fits(rows, cols));
        let cost: Vec<Vec<f64>> = (0..rows)
            .map(|r| {
                (0..cols)
                    .map(|c| ((r * 7 + c * 13) % 50) as f64 / 100.0)
                    .collect()
            })
            .collect();
        let pairs = assign(&cost, 0.8);
        assert_eq!(pairs.len(), rows);
        assert!(is_matching(&pairs, &cost, 0.8));
        assert_eq!(pairs, greedy(&cost, 0.8));
    }

    proptest! {
        /// Matched group by group, the total cost is the whole matrix's least.
        #[test]
        fn groups_cost_what_the_whole_matrix_costs(
            cells in proptest::collection::vec(0u8..=100, 1..150),
            cols in 1usize..12,
            limit in 0.05f64..0.95,
        ) {
            // Costs of 1 (no overlap) in most cells, as boxes far apart have.
            let cost: Vec<Vec<f64>> = cells
                .chunks(cols)
                .filter(|row| row.len() == cols)
                .map(|row| row.iter().map(|&v| if v < 30 { f64::from(v) / 30.0 } else { 1.0 }).collect())
                .collect();
            prop_assume!(!cost.is_empty());
            let pairs = assign(&cost, limit);
            prop_assert!(is_matching(&pairs, &cost, limit));
            let best = exact(&cost, limit);
            prop_assert!((total(&cost, &pairs, limit) - total(&cost, &best, limit)).abs() < 1e-3);
        }
    }
}
