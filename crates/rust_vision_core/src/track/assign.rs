//! `assign`: the linear assignment of tracks to detections with a cost limit, as
//! ByteTrack does it with lapjv: pairs whose cost (1 - IoU) is above the limit are never
//! matched, and among the rest the total cost is least, an unmatched track or
//! detection costing half the limit on each side. That is the same as the matching of
//! greatest total `limit - cost` over the allowed pairs, which pathfinding's
//! Kuhn-Munkres finds (on integers: the weights are scaled by 10^6).

use pathfinding::kuhn_munkres::kuhn_munkres;
use pathfinding::matrix::Matrix;

const SCALE: f64 = 1e6;

/// The best matching of rows (tracks) to columns (detections) by `cost[row][col]`,
/// leaving out pairs costing more than `limit`: (row, col) pairs.
pub fn assign(cost: &[Vec<f64>], limit: f64) -> Vec<(usize, usize)> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
