//! The whole core pipeline on image files (JPEG or PNG), configured by a settings file,
//! printing one JSON line of results per file: the core's results through serde.
//!
//! Usage: `detect_files [--settings FILE.json] FILE...`; the settings file maps setting
//! names to values (`{"detector": "cascade", "cascade.model": "face.xml"}`), checked as
//! vision_node checks its parameters. Each line: `{"file": ..., "result": {"width",
//! "height", "detections": [{"bbox", "class_id", "label", "score", "objectness",
//! "classification"}], "timings"}}`; a file that fails gives `{"file": ..., "error": ...}`.

use std::path::PathBuf;

use clap::Parser;
use rust_vision_core::config::PipelineConfig;
use rust_vision_core::models::ModelCache;
use rust_vision_core::{CompressedImage, Input};
use serde_json::json;

#[derive(Parser)]
struct Args {
    /// JSON file of settings (name -> value); defaults where left out.
    #[arg(long)]
    settings: Option<PathBuf>,
    files: Vec<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config: PipelineConfig = match &args.settings {
        Some(path) => serde_json::from_slice(&std::fs::read(path)?)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        None => PipelineConfig::defaults(),
    };
    let pipeline = ModelCache::new(config.onnx_runtime.clone()).pipeline(&config)?;
    for file in &args.files {
        let format = match file.extension().and_then(|e| e.to_str()) {
            Some("png") => "png",
            _ => "jpeg",
        };
        let input = Input::Compressed(CompressedImage {
            format: format.into(),
            data: std::fs::read(file)?,
        });
        let line = match pipeline.process(input) {
            Ok(result) => json!({"file": file, "result": result}),
            Err(e) => json!({"file": file, "error": e.to_string()}),
        };
        println!("{line}");
    }
    Ok(())
}
