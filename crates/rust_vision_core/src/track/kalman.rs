//! `kalman`: ByteTrack's constant-velocity Kalman filter of a box, written as four
//! independent filters.
//!
//! ByteTrack (after DeepSORT) filters the state (cx, cy, a, h) and its velocity with an
//! 8-dimensional filter whose transition, measurement and noise matrices never couple two
//! coordinates: a coordinate's position only meets its own velocity. Its covariance is
//! therefore four 2x2 blocks, and the filter is exactly four 2-state filters, one per
//! coordinate, sharing the noise scale (the box height). Written so by hand: a
//! few lines of arithmetic, where a matrix library would invert 4x4 and 8x8 matrices
//! that are block-diagonal anyway.

use crate::results::BoundingBox;

/// ByteTrack's noise weights, relative to the box height.
const STD_POSITION: f64 = 1.0 / 20.0;
const STD_VELOCITY: f64 = 1.0 / 160.0;
/// The aspect ratio's own noise, which ByteTrack does not scale by height.
const STD_ASPECT: f64 = 1e-2;
const STD_ASPECT_VELOCITY: f64 = 1e-5;

/// One coordinate and its velocity, with their 2x2 covariance.
#[derive(Debug, Clone, Copy)]
struct Axis {
    pos: f64,
    vel: f64,
    /// [[var(pos), cov], [cov, var(vel)]]
    p: [[f64; 2]; 2],
}

impl Axis {
    fn new(pos: f64, std_pos: f64, std_vel: f64) -> Self {
        Axis {
            pos,
            vel: 0.0,
            p: [[std_pos * std_pos, 0.0], [0.0, std_vel * std_vel]],
        }
    }

    /// One frame ahead at constant velocity, with process noise `q_pos`, `q_vel`.
    fn predict(&mut self, q_pos: f64, q_vel: f64) {
        self.pos += self.vel;
        let [[a, b], [_, d]] = self.p;
        // F P F^T with F = [[1, 1], [0, 1]], then + Q.
        self.p = [[a + 2.0 * b + d + q_pos, b + d], [b + d, d + q_vel]];
    }

    /// Corrects with a measurement of the position with variance `r`.
    fn update(&mut self, measured: f64, r: f64) {
        let [[a, b], [_, d]] = self.p;
        let s = a + r;
        let (k_pos, k_vel) = (a / s, b / s);
        let innovation = measured - self.pos;
        self.pos += k_pos * innovation;
        self.vel += k_vel * innovation;
        self.p = [
            [(1.0 - k_pos) * a, (1.0 - k_pos) * b],
            [(1.0 - k_pos) * b, d - k_vel * b],
        ];
    }
}

/// A box tracked as centre, aspect ratio (width / height) and height, with velocities.
#[derive(Debug, Clone, Copy)]
pub struct BoxFilter {
    cx: Axis,
    cy: Axis,
    aspect: Axis,
    h: Axis,
}

impl BoxFilter {
    /// A filter at `bbox`, at rest, uncertain in proportion to its height.
    pub fn new(bbox: &BoundingBox) -> Self {
        let [cx, cy, a, h] = measure(bbox);
        let (pos, vel) = (2.0 * STD_POSITION * h, 10.0 * STD_VELOCITY * h);
        BoxFilter {
            cx: Axis::new(cx, pos, vel),
            cy: Axis::new(cy, pos, vel),
            aspect: Axis::new(a, STD_ASPECT, STD_ASPECT_VELOCITY * 10.0),
            h: Axis::new(h, pos, vel),
        }
    }

    /// One frame ahead.
    pub fn predict(&mut self) {
        let h = self.h.pos;
        let (q_pos, q_vel) = ((STD_POSITION * h).powi(2), (STD_VELOCITY * h).powi(2));
        self.cx.predict(q_pos, q_vel);
        self.cy.predict(q_pos, q_vel);
        self.aspect
            .predict(STD_ASPECT.powi(2), STD_ASPECT_VELOCITY.powi(2));
        self.h.predict(q_pos, q_vel);
    }

    /// Corrects with the box measured in this frame.
    pub fn update(&mut self, bbox: &BoundingBox) {
        let [cx, cy, a, h] = measure(bbox);
        let r = (STD_POSITION * self.h.pos).powi(2);
        self.cx.update(cx, r);
        self.cy.update(cy, r);
        self.aspect.update(a, 1e-1f64.powi(2));
        self.h.update(h, r);
    }

    /// The box the filter expects now.
    pub fn bbox(&self) -> BoundingBox {
        let h = self.h.pos.max(0.0);
        let w = (self.aspect.pos * h).max(0.0);
        BoundingBox {
            x: (self.cx.pos - w / 2.0) as f32,
            y: (self.cy.pos - h / 2.0) as f32,
            width: w as f32,
            height: h as f32,
        }
    }
}

/// (cx, cy, aspect ratio, height) of a box.
fn measure(bbox: &BoundingBox) -> [f64; 4] {
    let (w, h) = (f64::from(bbox.width), f64::from(bbox.height).max(1e-3));
    [
        f64::from(bbox.x) + w / 2.0,
        f64::from(bbox.y) + h / 2.0,
        w / h,
        h,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(x: f32, y: f32) -> BoundingBox {
        BoundingBox {
            x,
            y,
            width: 20.0,
            height: 40.0,
        }
    }

    #[test]
    fn learns_a_constant_velocity_and_coasts_on_it() {
        let mut filter = BoxFilter::new(&at(0.0, 100.0));
        for i in 1..=20 {
            filter.predict();
            filter.update(&at(5.0 * i as f32, 100.0));
        }
        for _ in 0..3 {
            filter.predict(); // three frames without a measurement
        }
        let b = filter.bbox();
        assert!((b.x - 115.0).abs() < 1.0, "{b:?}");
        assert!(
            (b.y - 100.0).abs() < 0.5 && (b.width - 20.0).abs() < 0.5,
            "{b:?}"
        );
    }
}
