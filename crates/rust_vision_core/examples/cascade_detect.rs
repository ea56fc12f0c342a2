//! Runs the `cascade` detector on image files and prints its boxes as JSON lines, for the
//! golden tests against OpenCV (test/test_cascade.py) and tools/bench_vs_opencv.py.
//!
//! Each line: `{"file": ..., "boxes": [[x, y, w, h, windows], ...], "ms": best time}`.

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use rust_vision_core::detect::cascade::{resample, CascadeDetector, CascadeParams};

#[derive(Parser)]
struct Args {
    /// Cascade XML file.
    #[arg(long)]
    model: PathBuf,
    #[arg(long, default_value_t = CascadeParams::DEFAULT.scale_factor)]
    scale_factor: f64,
    #[arg(long, default_value_t = CascadeParams::DEFAULT.min_neighbors)]
    min_neighbors: u32,
    /// Smallest object, `W H`.
    #[arg(long, num_args = 2, default_values_t = [0, 0])]
    min_size: Vec<u32>,
    /// Largest object, `W H`; 0 0 for the image.
    #[arg(long, num_args = 2, default_values_t = [0, 0])]
    max_size: Vec<u32>,
    /// Detect this many times and report the fastest.
    #[arg(long, default_value_t = 1)]
    repeats: usize,
    /// Threads of rayon's pool (0: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    files: Vec<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build_global()?;
    let params = CascadeParams {
        scale_factor: args.scale_factor,
        min_neighbors: args.min_neighbors,
        min_size: (args.min_size[0], args.min_size[1]),
        max_size: (args.max_size[0], args.max_size[1]),
    };
    let detector = CascadeDetector::load(&args.model, params, "")?;
    for file in &args.files {
        let gray = resample::to_gray(&image::open(file)?.to_rgb8());
        let mut best = f64::INFINITY;
        let mut boxes = Vec::new();
        for _ in 0..args.repeats.max(1) {
            let start = Instant::now();
            boxes = detector.detect_gray(&gray);
            best = best.min(start.elapsed().as_secs_f64() * 1e3);
        }
        let boxes: Vec<[i64; 5]> = boxes
            .iter()
            .map(|&((x, y, w, h), n)| [x.into(), y.into(), w.into(), h.into(), n.into()])
            .collect();
        println!(
            "{}",
            serde_json::json!({"file": file, "boxes": boxes, "ms": best})
        );
    }
    Ok(())
}
