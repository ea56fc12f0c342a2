//! Pipeline throughput with a no-op detector: 1080p bgr8 frames through the concurrent
//! stages (overflow `all`, nothing dropped) against the same stages one after the other.

use std::sync::mpsc;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use image::RgbImage;
use rust_vision_core::stages::{Capacities, Job, Outcome, Overflow, Stages};
use rust_vision_core::{Detection, Detector, Input, Limits, Pipeline, RawImage};

const FRAMES: u64 = 30;

struct NoOp;

impl Detector for NoOp {
    fn name(&self) -> &'static str {
        "noop"
    }
    fn detect(&self, _: &RgbImage) -> rust_vision_core::Result<Vec<Detection>> {
        Ok(Vec::new())
    }
}

fn pipeline() -> Pipeline {
    Pipeline {
        limits: Limits::default(),
        detector: Box::new(NoOp),
        classifier: None,
        max_detections: 100,
        tracker: None,
    }
}

fn frame() -> Input {
    Input::Raw(RawImage {
        width: 1920,
        height: 1080,
        step: 1920 * 3,
        encoding: "bgr8".into(),
        is_bigendian: false,
        data: vec![90; 1920 * 1080 * 3].into(),
    })
}

fn throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("pipeline 1080p bgr8, no-op detector");
    group.throughput(Throughput::Elements(FRAMES));
    group.sample_size(10);
    group.bench_function("stages (overflow all)", |b| {
        b.iter(|| {
            let (tx, rx) = mpsc::channel();
            let stages =
                Stages::start(pipeline(), Overflow::All, Capacities::default(), move |o| {
                    assert!(matches!(o, Outcome::Done { .. }));
                    tx.send(()).unwrap();
                });
            for sequence in 0..FRAMES {
                let dropped = stages.submit(Job {
                    meta: (),
                    sequence,
                    input: frame(),
                    received_at: Instant::now(),
                });
                assert!(dropped.is_empty());
            }
            stages.finish();
            assert_eq!(rx.iter().count() as u64, FRAMES);
        })
    });
    group.bench_function("sequential", |b| {
        let p = pipeline();
        b.iter(|| {
            for _ in 0..FRAMES {
                p.process(frame()).unwrap();
            }
        })
    });
    group.finish();
}

criterion_group!(benches, throughput);
criterion_main!(benches);
