//! ONNX models run with tract (pure Rust): loading with a fixed input size, class names
//! from a labels file or the model's metadata, and the image-to-tensor conversions the
//! ONNX detector and classifier share.

use std::path::Path;

use image::RgbImage;
use tract_onnx::pb::tensor_shape_proto::dimension::Value as Dim;
use tract_onnx::pb::type_proto::Value as TypeValue;
use tract_onnx::prelude::*;

use crate::error::{ConfigError, Error, Result};

type Plan = SimplePlan<TypedFact, Box<dyn TypedOp>, Graph<TypedFact, Box<dyn TypedOp>>>;

/// An optimised, runnable ONNX model with one image input of `(width, height)`.
pub struct OnnxModel {
    plan: Plan,
    /// Input size, pixels.
    pub input: (u32, u32),
    /// Shape of the first output.
    pub output_shape: Vec<usize>,
    /// Class names from the model's metadata (`names`, as Ultralytics exports write it).
    pub metadata_names: Vec<String>,
}

impl std::fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxModel")
            .field("input", &self.input)
            .field("output_shape", &self.output_shape)
            .finish()
    }
}

impl OnnxModel {
    /// Loads the model in `path` for NCHW float input. The input's height and width come
    /// from the model when fixed there; `size` (when not 0, else `fallback`) sets them
    /// when they are not, and must agree when they are.
    pub fn load(path: &Path, size: u32, fallback: u32) -> Result<Self> {
        let fail = |reason: String| Error::from(ConfigError::model(path, reason));
        if !path.is_file() {
            return Err(fail("no such file".into()));
        }
        let onnx = tract_onnx::onnx();
        let proto = onnx
            .proto_model_for_path(path)
            .map_err(|e| fail(format!("not an ONNX model: {e}")))?;
        let declared = declared_input(&proto).map_err(fail)?;
        let pick = |declared: Option<usize>, what: &str| -> Result<usize> {
            match (declared, size as usize) {
                (Some(d), 0) => Ok(d),
                (Some(d), s) if d == s => Ok(d),
                (Some(d), s) => Err(fail(format!(
                    "the model's input {what} is {d}, not the input size {s} asked for"
                ))),
                (None, 0) => Ok(fallback as usize),
                (None, s) => Ok(s),
            }
        };
        let (height, width) = (pick(declared.0, "height")?, pick(declared.1, "width")?);
        let plan = onnx
            .model_for_proto_model(&proto)
            .and_then(|m| m.with_input_fact(0, f32::fact([1, 3, height, width]).into()))
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(|e| {
                fail(format!(
                    "cannot be prepared for a 1x3x{height}x{width} input: {e:#}"
                ))
            })?;
        let output_shape = plan
            .model()
            .output_fact(0)
            .ok()
            .and_then(|fact| fact.shape.as_concrete().map(|s| s.to_vec()))
            .ok_or_else(|| fail("the first output has no fixed shape".into()))?;
        let metadata_names = proto
            .metadata_props
            .iter()
            .find(|p| p.key == "names")
            .map(|p| parse_names(&p.value))
            .unwrap_or_default();
        Ok(OnnxModel {
            plan,
            input: (width as u32, height as u32),
            output_shape,
            metadata_names,
        })
    }

    /// Runs the model on `input` (1x3xHxW), returning its first output, flattened.
    pub fn run(&self, input: Tensor) -> Result<Vec<f32>> {
        let outputs = self
            .plan
            .run(tvec!(input.into()))
            .map_err(|e| Error::Internal(format!("inference failed: {e:#}")))?;
        let view = outputs[0]
            .to_array_view::<f32>()
            .map_err(|e| Error::Internal(format!("the output is not f32: {e}")))?;
        Ok(view.iter().copied().collect())
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

/// The class names of `model` (loaded from `path`) that predicts `classes` classes:
/// from the `labels` file when given, else from the model's metadata; empty when
/// neither names them (callers then say `class <n>`). A count that disagrees with the
/// model is a configuration error.
pub fn class_names(
    model: &OnnxModel,
    path: &Path,
    labels: Option<&Path>,
    classes: usize,
) -> Result<Vec<String>> {
    let names = match labels {
        Some(file) => read_labels(file)?,
        None => model.metadata_names.clone(),
    };
    if !names.is_empty() && names.len() != classes {
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

/// Where and how an image was placed into a model's input: input = image * scale + pad.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub scale: (f32, f32),
    pub pad: (f32, f32),
}

impl Placement {
    /// Image-pixel coordinates of input-pixel coordinates.
    pub fn to_image(&self, x: f32, y: f32) -> (f32, f32) {
        (
            (x - self.pad.0) / self.scale.0,
            (y - self.pad.1) / self.scale.1,
        )
    }
}

/// The part `(x, y, w, h)` of `image` as a 1x3xHxW tensor of `input` size, RGB scaled to
/// 0..1, resized bilinearly. `letterbox` keeps the aspect ratio and centres the image on
/// grey (114), as YOLO models are trained; otherwise it is stretched to the input.
pub fn image_tensor(
    image: &RgbImage,
    (x0, y0, w, h): (u32, u32, u32, u32),
    input: (u32, u32),
    letterbox: bool,
) -> (Tensor, Placement) {
    let (iw, ih) = (input.0 as usize, input.1 as usize);
    let (sx, sy) = (input.0 as f32 / w as f32, input.1 as f32 / h as f32);
    let placement = if letterbox {
        let s = sx.min(sy);
        let (nw, nh) = ((w as f32 * s).round(), (h as f32 * s).round());
        Placement {
            scale: (s, s),
            pad: (
                ((input.0 as f32 - nw) / 2.0).floor(),
                ((input.1 as f32 - nh) / 2.0).floor(),
            ),
        }
    } else {
        Placement {
            scale: (sx, sy),
            pad: (0.0, 0.0),
        }
    };
    let mut data = vec![114.0 / 255.0; 3 * iw * ih];
    let pixels = image.as_raw();
    let stride = image.width() as usize * 3;
    let (last_x, last_y) = ((w - 1) as f32, (h - 1) as f32);
    // Source column and weight of each input column, once.
    let columns: Vec<Option<(usize, usize, f32)>> = (0..iw)
        .map(|ix| {
            let fx = (ix as f32 + 0.5 - placement.pad.0) / placement.scale.0 - 0.5;
            if fx < -0.5 || fx > last_x + 0.5 {
                return None;
            }
            let fx = fx.clamp(0.0, last_x);
            let x = fx.floor();
            let next = (x + 1.0).min(last_x);
            Some((
                (x0 as usize + x as usize) * 3,
                (x0 as usize + next as usize) * 3,
                fx - x,
            ))
        })
        .collect();
    for iy in 0..ih {
        let fy = (iy as f32 + 0.5 - placement.pad.1) / placement.scale.1 - 0.5;
        if fy < -0.5 || fy > last_y + 0.5 {
            continue;
        }
        let fy = fy.clamp(0.0, last_y);
        let y = fy.floor();
        let (top, bottom) = (
            y0 as usize + y as usize,
            y0 as usize + (y + 1.0).min(last_y) as usize,
        );
        let a = fy - y;
        let (top, bottom) = (&pixels[top * stride..], &pixels[bottom * stride..]);
        for (ix, column) in columns.iter().enumerate() {
            let Some((left, right, b)) = *column else {
                continue;
            };
            for c in 0..3 {
                let p = |row: &[u8], at: usize| f32::from(row[at + c]);
                let upper = p(top, left) + (p(top, right) - p(top, left)) * b;
                let lower = p(bottom, left) + (p(bottom, right) - p(bottom, left)) * b;
                data[(c * ih + iy) * iw + ix] = (upper + (lower - upper) * a) / 255.0;
            }
        }
    }
    let tensor = Tensor::from_shape(&[1, 3, ih, iw], &data).expect("the shape fits the data");
    (tensor, placement)
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
    fn letterbox_centres_and_maps_back() {
        let image = RgbImage::from_pixel(200, 100, image::Rgb([255, 0, 0]));
        let (tensor, placement) = image_tensor(&image, (0, 0, 200, 100), (64, 64), true);
        assert_eq!(placement.scale, (0.32, 0.32));
        assert_eq!(placement.pad, (0.0, 16.0));
        let (x, y) = placement.to_image(64.0, 48.0);
        assert!((x - 200.0).abs() < 1e-3 && (y - 100.0).abs() < 1e-3);
        let view = tensor.to_array_view::<f32>().unwrap();
        assert_eq!(view[[0, 0, 32, 32]], 1.0); // red inside
        assert_eq!(view[[0, 1, 32, 32]], 0.0);
        assert_eq!(view[[0, 0, 2, 32]], 114.0 / 255.0); // grey padding
    }
}
