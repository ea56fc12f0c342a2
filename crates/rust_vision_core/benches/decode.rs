//! Decoding a 1080p frame: each raw encoding's conversion to RGB, and JPEG and PNG.
//!
//! `cargo bench -p rust_vision_core --bench decode`; tools/bench_vs_opencv.py compares
//! the JPEG and PNG figures with cv2.imdecode on the same bytes.

use std::io::Cursor;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use image::{ImageFormat, RgbImage};
use rust_vision_core::decode::{decode, decode_compressed};
use rust_vision_core::{CompressedImage, Limits, RawImage};

const W: u32 = 1920;
const H: u32 = 1080;

/// A busy 1080p frame (gradients and stripes), so that codecs have work to do.
fn scene() -> RgbImage {
    RgbImage::from_fn(W, H, |x, y| {
        image::Rgb([(x / 8) as u8, (y / 5) as u8, ((x ^ y) & 0xff) as u8])
    })
}

fn raw(encoding: &str, bytes_per_pixel: u32, padding: u32) -> RawImage {
    let step = W * bytes_per_pixel + padding;
    RawImage {
        width: W,
        height: H,
        step,
        encoding: encoding.into(),
        is_bigendian: false,
        data: (0..step * H)
            .map(|i| (i * 7 % 251) as u8)
            .collect::<Vec<u8>>()
            .into(),
    }
}

fn raw_encodings(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode 1080p raw");
    group.throughput(Throughput::Elements(1));
    let cases = [
        ("rgb8", 3, 0),
        ("rgb8 (padded rows)", 3, 64),
        ("bgr8", 3, 0),
        ("rgba8", 4, 0),
        ("bgra8", 4, 0),
        ("mono8", 1, 0),
        ("mono16", 2, 0),
        ("yuv422", 2, 0),
        ("yuv422_yuy2", 2, 0),
        ("bayer_rggb8", 1, 0),
    ];
    for (name, bpp, padding) in cases {
        let encoding = name.split(' ').next().unwrap();
        let input = raw(encoding, bpp, padding);
        group.bench_function(name, |b| {
            b.iter_batched(
                || input.clone(),
                |r| decode(r, &Limits::default()).unwrap(),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

fn compressed(c: &mut Criterion) {
    let image = scene();
    let mut group = c.benchmark_group("decode 1080p compressed");
    group.throughput(Throughput::Elements(1));
    for (name, format) in [("jpeg", ImageFormat::Jpeg), ("png", ImageFormat::Png)] {
        let mut data = Vec::new();
        image.write_to(&mut Cursor::new(&mut data), format).unwrap();
        let input = CompressedImage {
            format: name.into(),
            data,
        };
        group.bench_function(name, |b| {
            b.iter(|| decode_compressed(&input, &Limits::default()).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, raw_encodings, compressed);
criterion_main!(benches);
