//! The bad-input corpus (test/corpus/*.json) through the core: every case gives the cause
//! it names (or decodes, for `ok`), without panicking. test/test_pipeline.py sends the same
//! cases to vision_node over DDS.

use std::io::Cursor;
use std::path::Path;

use image::{ImageFormat, RgbImage};
use rust_vision_core::frame::Input;
use rust_vision_core::{CompressedImage, Limits, Pipeline, RawImage};
use serde_json::Value;

/// The limits the DDS test gives vision_node.
fn limits() -> Limits {
    Limits {
        max_width: 4096,
        max_height: 4096,
        ..Limits::default()
    }
}

fn payload(data: &Value) -> Vec<u8> {
    if let Some(n) = data.get("fill") {
        return vec![0; n.as_u64().unwrap() as usize];
    }
    if let Some(hex) = data.get("hex") {
        let hex = hex.as_str().unwrap();
        return (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
    }
    let format = match data["encode"].as_str().unwrap() {
        "jpeg" => ImageFormat::Jpeg,
        _ => ImageFormat::Png,
    };
    let image = RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 3, y as u8 * 5, 99]));
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), format)
        .unwrap();
    let keep = (bytes.len() as f64 * data["keep"].as_f64().unwrap()) as usize;
    bytes.truncate(keep);
    bytes
}

fn input(case: &Value) -> Input {
    let fields = &case["fields"];
    let data = payload(&case["data"]);
    if case["message"] == "Image" {
        let n = |k: &str| fields[k].as_u64().unwrap() as u32;
        Input::Raw(RawImage {
            width: n("width"),
            height: n("height"),
            step: n("step"),
            encoding: fields["encoding"].as_str().unwrap().into(),
            is_bigendian: false,
            data: data.into(),
        })
    } else {
        Input::Compressed(CompressedImage {
            format: fields["format"].as_str().unwrap().into(),
            data,
        })
    }
}

#[test]
fn every_corpus_case_gives_its_cause() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test/corpus");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 15,
        "{} cases in {}",
        cases.len(),
        dir.display()
    );
    let pipeline = Pipeline {
        limits: limits(),
        detector: Box::new(
            rust_vision_core::detect::blobs::Blobs::new(Default::default()).unwrap(),
        ),
        classifier: None,
        max_detections: 100,
        tracker: None,
    };
    for path in cases {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let expect = case["expect"].as_str().unwrap();
        let got = match pipeline.process(input(&case)) {
            Ok(_) => "ok",
            Err(e) => e.cause(),
        };
        assert_eq!(got, expect, "{}", path.display());
    }
}
