//! Detectors and classifiers of the core on 640x480 and 1920x1080 frames: the blobs
//! detector (one thread, the pool, and the imageproc labelling it replaced), the
//! cascade's building blocks (grey conversion, pyramid resize), whole cascade detection
//! on one thread and on the pool, and the colour classifier; the ONNX detector's
//! decoding and suppression at their worst (33600 boxes of a 1280 x 1280 YOLOv8 output,
//! all over the confidence, each compared with every box kept).
//!
//! The cascade needs a model: `RUST_VISION_CASCADE=<path to
//! haarcascade_frontalface_default.xml> cargo bench -p rust_vision_core --bench models`
//! (the path is `python3 -c "import cv2; print(cv2.data.haarcascades)"`); without it
//! those benchmarks are skipped. tools/bench_models_vs_opencv.py compares with OpenCV.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use image::RgbImage;
use imageproc::region_labelling::{connected_components, Connectivity};
use rust_vision_core::classify::color::DominantColor;
use rust_vision_core::detect::blobs::{Blobs, BlobsConfig};
use rust_vision_core::detect::cascade::{resample, CascadeDetector, CascadeParams};
use rust_vision_core::detect::onnx::{boxes, Layout, LayoutChoice, OnnxDetectorConfig};
use rust_vision_core::detect::MAX_DETECTIONS;
use rust_vision_core::{BoundingBox, Classifier, Detector};

/// A textured frame: gradients and an xor pattern, as the decode benches use.
fn frame(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x / 8) as u8, (y / 5) as u8, (x ^ y) as u8])
    })
}

/// What `blobs` is for: coloured shapes on a grey background with sensor noise.
fn shapes(width: u32, height: u32) -> RgbImage {
    let mut state = 1u32;
    let mut image = RgbImage::from_fn(width, height, |_, _| {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
        image::Rgb([90 + (state >> 28) as u8; 3])
    });
    for i in 0..24 {
        let (x0, y0) = ((i * 97) % (width - 80), (i * 53) % (height - 60));
        for y in y0..y0 + 40 + i % 20 {
            for x in x0..x0 + 60 + i % 15 {
                image.put_pixel(x, y, image::Rgb([200, 60 + (i * 7) as u8, 40]));
            }
        }
    }
    image
}

fn blobs(c: &mut Criterion, single: &rayon::ThreadPool) {
    let mut group = c.benchmark_group("blobs");
    group.sample_size(20);
    let detector = Blobs::new(BlobsConfig::DEFAULT).unwrap();
    for (width, height) in [(640, 480), (1920, 1080)] {
        let image = shapes(width, height);
        let size = format!("{width}x{height}");
        group.bench_function(format!("one thread {size}"), |b| {
            b.iter(|| single.install(|| detector.detect(&image).unwrap()))
        });
        group.bench_function(format!("pool {size}"), |b| {
            b.iter(|| detector.detect(&image).unwrap())
        });
        group.bench_function(format!("imageproc labelling (before) {size}"), |b| {
            b.iter(|| {
                let mask = detector.segment(&image);
                connected_components(&mask, Connectivity::Eight, image::Luma([0u8]))
            })
        });
    }
    group.finish();
}

/// A YOLOv8 output of one class for a 1280 x 1280 input, scores falling from 0.9:
/// `MAX_DETECTIONS - 1` boxes of 4 x 4 pixels on a 7-pixel grid, then copies of the
/// last that only it suppresses, so each is compared with every box kept.
fn suppression(c: &mut Criterion) {
    let count = 33600;
    let mut output = vec![0.0f32; 5 * count];
    for i in 0..count {
        let cell = i.min(MAX_DETECTIONS - 2);
        let (x, y) = ((cell % 180) as f32 * 7.0, (cell / 180) as f32 * 7.0);
        for (row, value) in [x, y, 4.0, 4.0, 0.9 - i as f32 * 1e-5]
            .into_iter()
            .enumerate()
        {
            output[row * count + i] = value;
        }
    }
    let input = (1280, 1280);
    let layout = Layout::resolve(
        LayoutChoice::Yolov8,
        &[1, 5, count],
        &Default::default(),
        input,
    )
    .expect("a YOLOv8 layout");
    let config = OnnxDetectorConfig {
        confidence: 0.0,
        ..OnnxDetectorConfig::DEFAULT
    };
    let mut group = c.benchmark_group("onnx output");
    group.sample_size(10);
    group.bench_function(
        format!("33600 boxes, max_detections {MAX_DETECTIONS}"),
        |b| b.iter(|| boxes(&output, layout, &config, input, MAX_DETECTIONS).expect("decoded")),
    );
    group.finish();
}

fn models(c: &mut Criterion) {
    suppression(c);
    let single = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    blobs(c, &single);
    let mut group = c.benchmark_group("models");
    group.sample_size(10);
    let cascade = std::env::var_os("RUST_VISION_CASCADE")
        .map(PathBuf::from)
        .map(|path| CascadeDetector::load(&path, CascadeParams::DEFAULT, "face").expect("model"));
    for (width, height) in [(640, 480), (1920, 1080)] {
        let rgb = frame(width, height);
        let gray = resample::to_gray(&rgb);
        let size = format!("{width}x{height}");
        group.bench_function(format!("grey {size}"), |b| {
            b.iter(|| resample::to_gray(&rgb))
        });
        group.bench_function(format!("resize 1/1.1 {size}"), |b| {
            b.iter(|| resample::resize_linear(&gray, width * 10 / 11, height * 10 / 11))
        });
        let bbox = BoundingBox {
            x: 0.0,
            y: 0.0,
            width: width as f32,
            height: height as f32,
        };
        let colour = DominantColor::default();
        group.bench_function(format!("colour classifier {size}"), |b| {
            b.iter(|| colour.classify(&rgb, &bbox).unwrap())
        });
        if let Some(detector) = &cascade {
            group.bench_function(format!("cascade one thread {size}"), |b| {
                b.iter(|| single.install(|| detector.detect_gray(&gray)))
            });
            group.bench_function(format!("cascade pool {size}"), |b| {
                b.iter(|| detector.detect_gray(&gray))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, models);
criterion_main!(benches);
