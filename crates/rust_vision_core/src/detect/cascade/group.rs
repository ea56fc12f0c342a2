//! Merging the many windows a cascade accepts around one object into one box: OpenCV's
//! `groupRectangles`, same similarity, same averaging, same filtering.

/// An integer rectangle, pixels: `(x, y, width, height)`.
pub type Rect = (i32, i32, i32, i32);

/// Two windows are the same object when every edge is within `eps` of the mean size.
fn similar(a: &Rect, b: &Rect, eps: f64) -> bool {
    let delta = eps * f64::from(a.2.min(b.2) + a.3.min(b.3)) * 0.5;
    f64::from((a.0 - b.0).abs()) <= delta
        && f64::from((a.1 - b.1).abs()) <= delta
        && f64::from((a.0 + a.2 - b.0 - b.2).abs()) <= delta
        && f64::from((a.1 + a.3 - b.1 - b.3).abs()) <= delta
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Groups `rects` into classes of (transitively) similar windows, averages each class,
/// and keeps the classes of more than `min_neighbors` windows that do not lie inside a
/// stronger one. Returns each kept box with its number of windows, in the order of the
/// classes' first windows.
pub fn group_rectangles(rects: &[Rect], min_neighbors: u32, eps: f64) -> Vec<(Rect, u32)> {
    if min_neighbors == 0 {
        return rects.iter().map(|&r| (r, 1)).collect();
    }
    let n = rects.len();
    let mut parent: Vec<usize> = (0..n).collect();
    for i in 0..n {
        for j in 0..i {
            if similar(&rects[i], &rects[j], eps) {
                let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                if a != b {
                    parent[a.max(b)] = a.min(b);
                }
            }
        }
    }
    // Class sums, indexed by the class's first window.
    let mut class_of = vec![usize::MAX; n];
    let mut classes: Vec<([i64; 4], u32)> = Vec::new();
    for (i, r) in rects.iter().enumerate() {
        let root = find(&mut parent, i);
        if class_of[root] == usize::MAX {
            class_of[root] = classes.len();
            classes.push(([0; 4], 0));
        }
        let (sum, count) = &mut classes[class_of[root]];
        for (s, v) in sum.iter_mut().zip([r.0, r.1, r.2, r.3]) {
            *s += i64::from(v);
        }
        *count += 1;
    }
    let averaged: Vec<(Rect, u32)> = classes
        .iter()
        .map(|(sum, count)| {
            // In f32, as OpenCV scales the sums.
            let s = 1.0f32 / *count as f32;
            let avg = |v: i64| (v as f32 * s).round_ties_even() as i32;
            ((avg(sum[0]), avg(sum[1]), avg(sum[2]), avg(sum[3])), *count)
        })
        .collect();
    averaged
        .iter()
        .enumerate()
        .filter(|&(i, &(r1, n1))| {
            n1 > min_neighbors
                && !averaged.iter().enumerate().any(|(j, &(r2, n2))| {
                    let dx = (f64::from(r2.2) * eps).round_ties_even() as i32;
                    let dy = (f64::from(r2.3) * eps).round_ties_even() as i32;
                    j != i
                        && n2 > min_neighbors
                        && r1.0 >= r2.0 - dx
                        && r1.1 >= r2.1 - dy
                        && r1.0 + r1.2 <= r2.0 + r2.2 + dx
                        && r1.1 + r1.3 <= r2.1 + r2.3 + dy
                        && (n2 > n1.max(3) || n1 < 3)
                })
        })
        .map(|(_, &kept)| kept)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_neighbours_and_drops_weak_and_nested_groups() {
        let face = [
            (100, 100, 50, 50),
            (102, 99, 50, 50),
            (98, 101, 52, 52),
            (101, 100, 48, 48),
        ];
        let lone = [(300, 300, 40, 40)];
        let nested = [(110, 110, 20, 20), (111, 110, 20, 20)];
        let all: Vec<Rect> = face.iter().chain(&lone).chain(&nested).copied().collect();
        let got = group_rectangles(&all, 1, 0.2);
        assert_eq!(got, vec![((100, 100, 50, 50), 4)]);
        // Without grouping every window is its own detection.
        assert_eq!(group_rectangles(&all, 0, 0.2).len(), all.len());
    }
}
