//! The tracking stage's cost per frame: ByteTrack on 100 detections that move a few
//! pixels a frame (the association of 100 tracks to 100 boxes, and the Kalman updates);
//! a crowd of `MAX_DETECTIONS` boxes within 100 pixels of one another, placed anew each
//! frame; and the assignment at its bounds: a group of 400 x 400 all allowed pairs (about
//! the most matched exactly) and 2000 x 1000 (the most tracks, live and lost, against the
//! most detections: matched greedily).

use criterion::{criterion_group, criterion_main, Criterion};
use rust_vision_core::detect::MAX_DETECTIONS;
use rust_vision_core::track::assign::assign;
use rust_vision_core::track::{ByteTrack, ByteTrackConfig};
use rust_vision_core::{BoundingBox, Detection};

/// A detection of one class at (`x`, `y`), of `size`, scoring `score`.
fn detection(x: f32, y: f32, (width, height): (f32, f32), score: f32) -> Detection {
    Detection {
        bbox: BoundingBox {
            x,
            y,
            width,
            height,
        },
        class_id: 0,
        label: "object".into(),
        score,
        objectness: 0.9,
        classification: None,
        track_id: 0,
    }
}

/// 100 boxes on a 10 x 10 grid, each moving its own way and back (continuously: the
/// frames loop without a jump), in frame `f` of 128; a quarter of them score low.
fn frame(f: u32) -> Vec<Detection> {
    let t = if f < 64 { f } else { 128 - f } as f32;
    (0..100)
        .map(|i| {
            let (gx, gy) = ((i % 10) as f32, (i / 10) as f32);
            let (vx, vy) = ((i % 7) as f32 - 3.0, (i % 5) as f32 - 2.0);
            let (x, y) = (gx * 180.0 + vx * t * 0.5, gy * 100.0 + vy * t * 0.5);
            detection(x, y, (60.0, 80.0), if i % 4 == 0 { 0.3 } else { 0.9 })
        })
        .collect()
}

/// `MAX_DETECTIONS` boxes of 200 x 200 pixels within 100 pixels of one another,
/// placed anew each frame.
fn crowd(f: u32) -> Vec<Detection> {
    let mut state = f.wrapping_mul(2_654_435_761).wrapping_add(1);
    let mut next = move || {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
        (state >> 16) as f32 / 65536.0 * 100.0
    };
    (0..MAX_DETECTIONS)
        .map(|_| detection(next(), next(), (200.0, 200.0), 0.9))
        .collect()
}

fn bench(c: &mut Criterion) {
    let frames: Vec<Vec<Detection>> = (0..128).map(frame).collect();
    let mut tracker = ByteTrack::new(ByteTrackConfig::DEFAULT, 1);
    let mut f = 0;
    c.bench_function("bytetrack 100 detections per frame", |b| {
        b.iter(|| {
            let mut detections = frames[f % frames.len()].clone();
            tracker.update(&mut detections);
            f += 1;
            detections
        })
    });
    let crowds: Vec<Vec<Detection>> = (0..16).map(crowd).collect();
    let mut tracker = ByteTrack::new(ByteTrackConfig::DEFAULT, 1);
    let mut f = 0;
    let mut group = c.benchmark_group("bounds");
    group.sample_size(10);
    group.bench_function(format!("bytetrack a crowd of {MAX_DETECTIONS}"), |b| {
        b.iter(|| {
            let mut detections = crowds[f % crowds.len()].clone();
            tracker.update(&mut detections);
            f += 1;
            detections
        })
    });
    for (rows, cols) in [(400, 400), (2 * MAX_DETECTIONS, MAX_DETECTIONS)] {
        let cost: Vec<Vec<f64>> = (0..rows)
            .map(|r| {
                let row = (0..cols).map(|c| ((r * 7919 + c * 104_729) % 800) as f64 / 1000.0);
                row.collect()
            })
            .collect();
        group.bench_function(format!("assign {rows} x {cols} allowed pairs"), |b| {
            b.iter(|| assign(&cost, 0.8))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
