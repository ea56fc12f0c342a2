//! Times rust_vision's decoder on image files, for tools/bench_vs_opencv.py.
//!
//! Usage: decode_files REPEATS FILE...  (format from the extension: .jpg/.jpeg, .png)
//! Prints one line per file: `<file> <best milliseconds per decode>`.

use std::time::Instant;

use rust_vision_core::decode::decode_compressed;
use rust_vision_core::{CompressedImage, Limits};

fn main() {
    let mut args = std::env::args().skip(1);
    let repeats: usize = args
        .next()
        .and_then(|r| r.parse().ok())
        .expect("usage: decode_files REPEATS FILE...");
    for path in args {
        let format = if path.ends_with(".png") {
            "png"
        } else {
            "jpeg"
        };
        let input = CompressedImage {
            format: format.into(),
            data: std::fs::read(&path).expect("readable file"),
        };
        let best = (0..repeats)
            .map(|_| {
                let start = Instant::now();
                decode_compressed(&input, &Limits::default()).expect("decodable file");
                start.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min);
        println!("{path} {:.3}", best * 1e3);
    }
}
