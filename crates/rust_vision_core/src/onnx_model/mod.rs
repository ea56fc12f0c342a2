//! ONNX models for the ONNX detector and classifier: loading with a fixed input size on
//! the engine the settings pick (tract or ONNX Runtime, see [`runtime`]), class names from
//! a labels file or the model's metadata, and images as model input ([`tensor`]).

pub mod runtime;
pub mod tensor;

mod ort_backend;
mod tract_backend;

use std::collections::BTreeMap;
use std::path::Path;

use tract_onnx::pb::tensor_shape_proto::dimension::Value as Dim;
use tract_onnx::pb::type_proto::Value as TypeValue;
use tract_onnx::prelude::Framework;

use crate::error::{ConfigError, Error, Result};
use ort_backend::OrtModel;
use tract_backend::TractModel;

pub use runtime::{Backend, OnnxRuntime, Provider};
pub use tensor::{image_tensor, InputTensor, Placement};

/// Largest input height and width of an ONNX model, pixels, whether asked for or declared
/// by the model: a 4096 x 4096 input is 192 MiB of f32 before the model's own buffers,
/// and a crafted model could otherwise declare a size whose blank probe alone exhausts
/// memory.
pub const MAX_INPUT_SIZE: u32 = 4096;

enum Engine {
    Tract(TractModel),
    Ort(OrtModel),
}

/// A runnable ONNX model with one image input of `(width, height)`.
pub struct OnnxModel {
    engine: Engine,
    /// Input size, pixels.
    pub input: (u32, u32),
    /// Shape of the first output.
    pub output_shape: Vec<usize>,
    /// Class names from the model's metadata (`names`, as Ultralytics exports write it).
    pub metadata_names: Vec<String>,
    /// The model's metadata, key to value (Ultralytics writes `names`, `end2end`,
    /// `description`, `args` and more).
    pub metadata: BTreeMap<String, String>,
    /// What runs it, for the log: `tract`, or `ONNX Runtime (CPU, <library>)`, with the
    /// reason for any fallback.
    pub engine_description: String,
}

impl std::fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxModel")
            .field("input", &self.input)
            .field("output_shape", &self.output_shape)
            .field("engine", &self.engine_description)
            .finish()
    }
}

impl OnnxModel {
    /// Loads the model in `path` for NCHW float input, on the engine `runtime` picks.
    /// The input's height and width come from the model when fixed there; `size` (when
    /// not 0, else `fallback`) sets them when they are not, and must agree when they are.
    pub fn load(path: &Path, size: u32, fallback: u32, runtime: &OnnxRuntime) -> Result<Self> {
        let fail = |reason: String| Error::from(ConfigError::model(path, reason));
        if !path.is_file() {
            return Err(fail("no such file".into()));
        }
        let proto = tract_onnx::onnx()
            .proto_model_for_path(path)
            .map_err(|e| fail(format!("not an ONNX model: {e}")))?;
        let declared = declared_input(&proto).map_err(fail)?;
        let side = |declared, what| input_side(declared, size, fallback, what).map_err(fail);
        let (height, width) = (side(declared.0, "height")?, side(declared.1, "width")?);
        let metadata: BTreeMap<String, String> = proto
            .metadata_props
            .iter()
            .map(|p| (p.key.clone(), p.value.clone()))
            .collect();
        let metadata_names = metadata
            .get("names")
            .map(|names| parse_names(names))
            .unwrap_or_default();
        let (engine, engine_description) = match choose_engine(runtime)? {
            Choice::Ort(library) => {
                let model = OrtModel::load(library, path, runtime).map_err(fail)?;
                let description = model.description.clone();
                (Engine::Ort(model), description)
            }
            Choice::Tract(description) => {
                let model = TractModel::load(&proto, height, width).map_err(|e| {
                    fail(format!(
                        "cannot be prepared for a 1x3x{height}x{width} input: {e:#}"
                    ))
                })?;
                (Engine::Tract(model), description)
            }
        };
        let mut model = OnnxModel {
            engine,
            input: (width as u32, height as u32),
            output_shape: Vec::new(),
            metadata_names,
            metadata,
            engine_description,
        };
        model.output_shape = model.probe_output_shape().map_err(fail)?;
        Ok(model)
    }

    /// The first output's shape: from the model where tract fixed it, else from a run
    /// on a blank input (which also warms the engine up).
    fn probe_output_shape(&self) -> Result<Vec<usize>, String> {
        if let Engine::Tract(model) = &self.engine {
            return model
                .output_shape()
                .ok_or_else(|| "the first output has no fixed shape".into());
        }
        let (width, height) = (self.input.0 as usize, self.input.1 as usize);
        let blank = InputTensor {
            shape: [1, 3, height, width],
            data: vec![0.0; 3 * width * height],
        };
        self.run_engine(&blank)
            .map(|(shape, _)| shape)
            .map_err(|e| format!("cannot run on a 1x3x{height}x{width} input: {e}"))
    }

    /// Runs the model on `input` (1x3xHxW), returning its first output, flattened.
    pub fn run(&self, input: &InputTensor) -> Result<Vec<f32>> {
        self.run_engine(input)
            .map(|(_, values)| values)
            .map_err(|e| Error::Internal(format!("inference failed: {e}")))
    }

    fn run_engine(&self, input: &InputTensor) -> Result<(Vec<usize>, Vec<f32>), String> {
        match &self.engine {
            Engine::Tract(model) => Ok((Vec::new(), model.run(input)?)),
            Engine::Ort(model) => model.run(input),
        }
    }
}

/// The engine `runtime` asks for: ONNX Runtime's library, or tract and why. With
/// `auto`, a library that was looked for (not named by the user) and fails to load means
/// tract.
fn choose_engine(runtime: &OnnxRuntime) -> Result<Choice> {
    if runtime.backend == Backend::Tract {
        return Ok(Choice::Tract("tract".into()));
    }
    match (runtime.backend, ort_backend::library(&runtime.library)) {
        (_, Ok(Some(library))) => Ok(Choice::Ort(library)),
        (Backend::OnnxRuntime, Ok(None)) => Err(ConfigError::invalid(
            "onnx_backend",
            "onnxruntime needs an ONNX Runtime library and none was found: set \
             onnx_library or ORT_DYLIB_PATH to libonnxruntime.so, or pip install onnxruntime",
        )
        .into()),
        (_, Ok(None)) => Ok(Choice::Tract(
            "tract (no ONNX Runtime library found)".into(),
        )),
        (Backend::Auto, Err(e)) if !e.asked => {
            Ok(Choice::Tract(format!("tract (ONNX Runtime: {})", e.reason)))
        }
        (_, Err(e)) => Err(ConfigError::invalid("onnx_library", e.reason).into()),
    }
}

enum Choice {
    Ort(&'static ort_backend::Library),
    /// tract, described for the log.
    Tract(String),
}

/// The input's height or width (`what`): as `declared` by the model, else `size` when
/// not 0, else `fallback`; at most [`MAX_INPUT_SIZE`], and `size` must agree with a
/// declared side.
fn input_side(
    declared: Option<usize>,
    size: u32,
    fallback: u32,
    what: &str,
) -> Result<usize, String> {
    let max = MAX_INPUT_SIZE as usize;
    match (declared, size as usize) {
        (Some(d), _) if d > max => Err(format!(
            "the model's input {what} is {d}, over the largest input size, {max}"
        )),
        (_, s) if s > max => Err(format!(
            "the input size {s} asked for is over the largest, {max}"
        )),
        (Some(d), 0) => Ok(d),
        (Some(d), s) if d == s => Ok(d),
        (Some(d), s) => Err(format!(
            "the model's input {what} is {d}, not the input size {s} asked for"
        )),
        (None, 0) => Ok(fallback as usize),
        (None, s) => Ok(s),
    }
}

/// The declared (height, width) of the first input, `None` where symbolic.
fn declared_input(
    proto: &tract_onnx::pb::ModelProto,
) -> Result<(Option<usize>, Option<usize>), String> {
    let graph = proto.graph.as_ref().ok_or("the model has no graph")?;
    let initializers: Vec<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let input = graph
        .input
        .iter()
        .find(|i| !initializers.contains(&i.name.as_str()))
        .ok_or("the model has no input")?;
    let dims = match input.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(TypeValue::TensorType(t)) => {
            t.shape.as_ref().map(|s| s.dim.clone()).unwrap_or_default()
        }
        _ => return Err("the input is not a tensor".into()),
    };
    let fixed = |d: &tract_onnx::pb::tensor_shape_proto::Dimension| match d.value {
        Some(Dim::DimValue(v)) if v > 0 => Some(v as usize),
        _ => None,
    };
    match dims.as_slice() {
        [_, c, h, w] if fixed(c).is_none_or(|c| c == 3) => Ok((fixed(h), fixed(w))),
        _ => Err(format!(
            "the input {:?} is not an image tensor of shape N x 3 x H x W",
            input.name
        )),
    }
}

/// Class names from a Python dict literal, `{0: 'person', 1: 'bicycle'}`, in key order.
fn parse_names(text: &str) -> Vec<String> {
    let mut names: Vec<(usize, String)> = Vec::new();
    let mut rest = text.trim().trim_start_matches('{');
    while let Some(colon) = rest.find(':') {
        let key = rest[..colon].trim().trim_start_matches(',').trim();
        let after = rest[colon + 1..].trim_start();
        let Some(quote) = after.chars().next().filter(|c| *c == '\'' || *c == '"') else {
            break;
        };
        let Some(end) = after[1..].find(quote) else {
            break;
        };
        if let Ok(key) = key.parse() {
            names.push((key, after[1..1 + end].to_string()));
        }
        rest = &after[end + 2..];
    }
    names.sort();
    names.into_iter().map(|(_, name)| name).collect()
}

/// The class names of `model` (loaded from `path`) that predicts `classes` classes
/// (`None` where its output does not say how many): from the `labels` file when given,
/// else from the model's metadata; empty when neither names them (callers then say
/// `class <n>`). A count that disagrees with the model is a configuration error.
pub fn class_names(
    model: &OnnxModel,
    path: &Path,
    labels: Option<&Path>,
    classes: Option<usize>,
) -> Result<Vec<String>> {
    let names = match labels {
        Some(file) => read_labels(file)?,
        None => model.metadata_names.clone(),
    };
    if let Some(classes) = classes.filter(|c| !names.is_empty() && names.len() != *c) {
        return Err(ConfigError::model(
            path,
            format!(
                "the model has {classes} classes, the labels name {}",
                names.len()
            ),
        )
        .into());
    }
    Ok(names)
}

/// Class names from a labels file: one per line, blank lines ignored.
pub fn read_labels(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::model(path, format!("cannot read the labels: {e}")))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_ultralytics_metadata() {
        assert_eq!(
            parse_names("{0: 'person', 2: \"traffic light\", 1: 'bicycle'}"),
            ["person", "bicycle", "traffic light"]
        );
        assert!(parse_names("").is_empty());
    }

    #[test]
    fn input_sides_are_bounded_whoever_sets_them() {
        assert_eq!(input_side(Some(640), 0, 320, "height"), Ok(640));
        assert_eq!(input_side(None, 0, 320, "height"), Ok(320));
        assert_eq!(input_side(None, 4096, 320, "height"), Ok(4096));
        assert_eq!(input_side(Some(4096), 0, 320, "height"), Ok(4096));
        assert!(input_side(Some(4097), 0, 320, "height").is_err());
        let declared = input_side(Some(100_000), 0, 320, "height").unwrap_err();
        assert_eq!(
            declared,
            "the model's input height is 100000, over the largest input size, 4096"
        );
        let asked = input_side(None, 4097, 320, "width").unwrap_err();
        assert_eq!(
            asked,
            "the input size 4097 asked for is over the largest, 4096"
        );
    }
}
