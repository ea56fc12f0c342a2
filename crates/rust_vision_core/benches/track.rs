//! The tracking stage's cost per frame: ByteTrack on 100 detections that move a few
//! pixels a frame (the association of 100 tracks to 100 boxes, and the Kalman updates).

use criterion::{criterion_group, criterion_main, Criterion};
use rust_vision_core::track::{ByteTrack, ByteTrackConfig};
use rust_vision_core::{BoundingBox, Detection};

/// 100 boxes on a 10 x 10 grid, each moving its own way and back (continuously: the
/// frames loop without a jump), in frame `f` of 128; a quarter of them score low.
fn frame(f: u32) -> Vec<Detection> {
    let t = if f < 64 { f } else { 128 - f } as f32;
    (0..100)
        .map(|i| {
            let (gx, gy) = ((i % 10) as f32, (i / 10) as f32);
            let (vx, vy) = ((i % 7) as f32 - 3.0, (i % 5) as f32 - 2.0);
            Detection {
                bbox: BoundingBox {
                    x: gx * 180.0 + vx * t * 0.5,
                    y: gy * 100.0 + vy * t * 0.5,
                    width: 60.0,
                    height: 80.0,
                },
                class_id: 0,
                label: "object".into(),
                score: if i % 4 == 0 { 0.3 } else { 0.9 },
                objectness: 0.9,
                classification: None,
                track_id: 0,
            }
        })
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
}

criterion_group!(benches, bench);
criterion_main!(benches);
