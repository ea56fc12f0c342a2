//! Replays every seed (`seeds/<target>/`) and every saved finding (`regressions/<target>/`)
//! through its target's body, on stable Rust: a fixed bug stays fixed in `make test`.

use std::fs;
use std::path::Path;

fn replay(target: &str, body: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            eprintln!("{target}: {}", path.display());
            body(&fs::read(&path).unwrap());
            count += 1;
        }
    }
    assert!(count > 0, "no seeds for {target}");
}

#[test]
fn decode_raw() {
    replay("decode_raw", rust_vision_fuzz::decode_raw);
}

#[test]
fn decode_compressed() {
    replay("decode_compressed", rust_vision_fuzz::decode_compressed);
}

#[test]
fn cascade_xml() {
    replay("cascade_xml", rust_vision_fuzz::cascade_xml);
}

#[test]
fn onnx_output() {
    replay("onnx_output", rust_vision_fuzz::onnx_output);
}

#[cfg(feature = "ros")]
#[test]
fn message_to_core() {
    replay(
        "message_to_core",
        rust_vision_fuzz::message::message_to_core,
    );
}
