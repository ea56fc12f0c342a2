//! The bodies of rust_vision's fuzz targets, shared by the cargo-fuzz binaries
//! (`fuzz_targets/`) and by `tests/replay.rs`, which replays every seed and every saved
//! finding on stable Rust in `make test`.
//!
//! Each body feeds one entry point of the core the bytes of an input it did not choose,
//! and checks what holds for every input: no panic, no unbounded allocation (the fuzzer's
//! `-rss_limit_mb` and `-malloc_limit_mb` catch those), no internal error for a bad
//! input, and an accepted image of the size its header gave.

use std::path::Path;
use std::sync::Arc;

use arbitrary::{Arbitrary, Unstructured};
use image::RgbImage;
use rust_vision_core::decode::{decode, Encoding};
use rust_vision_core::detect::cascade::model::Cascade;
use rust_vision_core::detect::cascade::{CascadeDetector, CascadeParams};
use rust_vision_core::detect::onnx::{boxes, Layout, LayoutChoice, OnnxDetectorConfig};
use rust_vision_core::detect::MAX_DETECTIONS;
use rust_vision_core::{CompressedImage, Detector, Error, Limits, RawImage};

#[cfg(feature = "ros")]
pub mod message;

/// Limits small enough that the fuzzer spends its time in parsing, not in converting
/// 8K images; the checks against them are the same code at any limits.
pub const LIMITS: Limits = Limits {
    max_width: 1024,
    max_height: 1024,
    max_bytes: 4 << 20,
};

/// The format strings a CompressedImage may carry; the first byte of an input picks one.
pub const FORMATS: &[&str] = &[
    "jpeg",
    "png",
    "rgb8; jpeg compressed bgr8",
    "bgr8; png compressed",
    "16UC1; compressedDepth png",
    "tiff",
];

/// A dimension: mostly small, so that headers can be consistent, sometimes anything.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Dim {
    Small(u8),
    Any(u32),
}

impl Dim {
    fn get(self) -> u32 {
        match self {
            Dim::Small(n) => u32::from(n),
            Dim::Any(n) => n,
        }
    }
}

/// An Image message's fields: a known encoding or any name, and pixel bytes that
/// either are as given or are made exactly `step * height` long (`fit`), so that the
/// fuzzer reaches the conversions, not only the header checks.
#[derive(Arbitrary, Debug)]
pub struct RawCase {
    pub width: Dim,
    pub height: Dim,
    pub step: Dim,
    pub encoding: Result<u8, String>,
    pub is_bigendian: bool,
    pub fit: bool,
    pub data: Vec<u8>,
}

impl RawCase {
    /// The encoding's name.
    pub fn encoding(&self) -> String {
        match &self.encoding {
            Ok(i) => Encoding::NAMES[*i as usize % Encoding::NAMES.len()]
                .0
                .to_owned(),
            Err(name) => name.clone(),
        }
    }

    /// The pixel bytes, fitted to the header where asked (and where that stays small).
    pub fn data(&self) -> Vec<u8> {
        let wanted = u64::from(self.step.get()) * u64::from(self.height.get());
        fitted(&self.data, self.fit, wanted, LIMITS.max_bytes, 0x5a)
    }
}

/// `values` as given, or (`fit`, where `wanted` is at most `max`) repeated or cut to
/// `wanted` of them (`filler` where there are none): so that the fuzzer reaches past
/// the length checks.
fn fitted<T: Copy>(values: &[T], fit: bool, wanted: u64, max: u64, filler: T) -> Vec<T> {
    if !fit || wanted > max {
        return values.to_vec();
    }
    let pattern = if values.is_empty() {
        &[filler][..]
    } else {
        values
    };
    pattern
        .iter()
        .copied()
        .cycle()
        .take(wanted as usize)
        .collect()
}

/// Checks what holds for any decoded input: an image of its header's size, or an error
/// that blames the input, never an internal one.
pub fn check_decoded(result: Result<RgbImage, Error>, size: Option<(u32, u32)>) {
    match result {
        Ok(image) => {
            let (w, h) = image.dimensions();
            assert!(w > 0 && h > 0 && w <= LIMITS.max_width && h <= LIMITS.max_height);
            if let Some(size) = size {
                assert_eq!((w, h), size, "decoded size differs from the header's");
            }
        }
        Err(e) => assert_ne!(e.cause(), "internal", "an input caused {e}"),
    }
}

/// Raw decoding: any header and bytes (sensor_msgs/Image's fields).
pub fn decode_raw(bytes: &[u8]) {
    let Ok(case) = RawCase::arbitrary_take_rest(Unstructured::new(bytes)) else {
        return;
    };
    let (width, height) = (case.width.get(), case.height.get());
    let raw = RawImage {
        width,
        height,
        step: case.step.get(),
        encoding: case.encoding(),
        is_bigendian: case.is_bigendian,
        data: case.data().into(),
    };
    check_decoded(decode(raw, &LIMITS), Some((width, height)));
}

/// Compressed decoding: the first byte picks a format string, the rest is the file.
pub fn decode_compressed(bytes: &[u8]) {
    let Some((&pick, data)) = bytes.split_first() else {
        return;
    };
    let image = CompressedImage {
        format: FORMATS[pick as usize % FORMATS.len()].to_owned(),
        data: data.to_vec(),
    };
    let result = rust_vision_core::decode::decode_compressed(&image, &LIMITS);
    check_decoded(result, None);
}

/// Cascade XML parsing: any text; a cascade that parses is also run, every window of
/// it, on a small image, so that a model the checks let through cannot misread memory.
pub fn cascade_xml(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let Ok(cascade) = Cascade::parse(text) else {
        return;
    };
    let params = CascadeParams {
        min_neighbors: 0,
        ..CascadeParams::DEFAULT
    };
    let detector = CascadeDetector::new(Arc::new(cascade), params, Path::new("fuzz.xml"), "");
    let image = RgbImage::from_fn(48, 40, |x, y| image::Rgb([(x * 5) as u8, (y * 6) as u8, 0]));
    let detections = detector
        .detect(&image)
        .expect("a loaded cascade runs on any image");
    for d in detections {
        assert!(d.bbox.x >= 0.0 && d.bbox.x + d.bbox.width <= 48.0);
        assert!(d.bbox.y >= 0.0 && d.bbox.y + d.bbox.height <= 40.0);
    }
}

/// A model's output as the ONNX detector gets it: a shape (its first dimension 1 or
/// not), Ultralytics metadata, values of the shape's length (`fit`) or any, thresholds
/// in their parameters' ranges.
#[derive(Arbitrary, Debug)]
pub struct OnnxCase {
    pub choice: u8,
    pub shape: Vec<Dim>,
    pub metadata: Vec<(String, String)>,
    pub input: (u16, u16),
    pub confidence: u16,
    pub iou: u16,
    pub max_detections: u16,
    pub fit: bool,
    pub values: Vec<f32>,
}

/// The most values the target makes an output of, so that a case stays quick.
const MAX_VALUES: u64 = 1 << 20;

/// ONNX output decoding: any shape and values, through layout recognition, decoding,
/// ranking and suppression.
pub fn onnx_output(bytes: &[u8]) {
    let Ok(case) = OnnxCase::arbitrary_take_rest(Unstructured::new(bytes)) else {
        return;
    };
    let choices = [
        LayoutChoice::Auto,
        LayoutChoice::Yolov5,
        LayoutChoice::Yolov8,
        LayoutChoice::End2End,
        LayoutChoice::RtDetr,
    ];
    let choice = choices[case.choice as usize % choices.len()];
    let shape: Vec<usize> = case.shape.iter().map(|d| d.get() as usize).collect();
    let input = (u32::from(case.input.0), u32::from(case.input.1));
    let metadata = case.metadata.iter().cloned().collect();
    let Ok(layout) = Layout::resolve(choice, &shape, &metadata, input) else {
        return;
    };
    let wanted = layout.values().map_or(u64::MAX, |n| n as u64);
    let values = fitted(&case.values, case.fit, wanted, MAX_VALUES, 0.5);
    let config = OnnxDetectorConfig {
        confidence: f32::from(case.confidence) / f32::from(u16::MAX),
        iou: f32::from(case.iou) / f32::from(u16::MAX),
        ..OnnxDetectorConfig::DEFAULT
    };
    let max = 1 + usize::from(case.max_detections) % MAX_DETECTIONS;
    match boxes(&values, layout, &config, input, max) {
        Ok(kept) => assert!(kept.len() <= max && kept.iter().all(|c| c.score >= config.confidence)),
        Err(_) => assert_ne!(Some(values.len()), layout.values()),
    }
}
