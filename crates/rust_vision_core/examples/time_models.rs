//! Times the ONNX detector's inference and the colour classifier on an image file, for
//! tools/bench_models_vs_opencv.py. Prints the best milliseconds of `--repeats` runs.
//!
//! `time_models onnx MODEL IMAGE` runs the model on the image letterboxed to its input
//! (tensor preparation excluded, as onnxruntime is given a ready tensor), on the engine
//! `--backend` names (tract, onnxruntime, auto) with `--threads` (0: one per core); the
//! engine goes to stderr;
//! `time_models color IMAGE` classifies the whole image's colour.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, Subcommand};
use rust_vision_core::classify::color::DominantColor;
use rust_vision_core::onnx_model::{image_tensor, OnnxModel, OnnxRuntime};
use rust_vision_core::{BoundingBox, Classifier};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 20)]
    repeats: usize,
    /// ONNX engine: tract, onnxruntime or auto.
    #[arg(long, default_value = "auto")]
    backend: String,
    /// ONNX Runtime's threads; 0 for one per core.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    #[command(subcommand)]
    what: What,
}

#[derive(Subcommand)]
enum What {
    Onnx { model: PathBuf, image: PathBuf },
    Color { image: PathBuf },
}

fn best(repeats: usize, mut run: impl FnMut()) -> f64 {
    (0..repeats.max(1))
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let ms = match &args.what {
        What::Onnx { model, image } => {
            let runtime = OnnxRuntime {
                backend: args.backend.parse()?,
                threads: args.threads,
                ..OnnxRuntime::default()
            };
            let model = OnnxModel::load(model, 0, 640, &runtime)?;
            eprintln!("{}", model.engine_description);
            let image = image::open(image)?.to_rgb8();
            let (w, h) = image.dimensions();
            let (tensor, _) = image_tensor(&image, (0, 0, w, h), model.input, true);
            best(args.repeats, || {
                model.run(&tensor).expect("inference");
            })
        }
        What::Color { image } => {
            let image = image::open(image)?.to_rgb8();
            let bbox = BoundingBox {
                x: 0.0,
                y: 0.0,
                width: image.width() as f32,
                height: image.height() as f32,
            };
            let classifier = DominantColor::default();
            best(args.repeats, || {
                classifier.classify(&image, &bbox).expect("classified");
            })
        }
    };
    println!("{ms:.3}");
    Ok(())
}
