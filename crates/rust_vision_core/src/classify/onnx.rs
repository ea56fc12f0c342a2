//! `onnx`: an image classification model on each box: top-1 class and its probability.

use std::path::Path;
use std::sync::Arc;

use image::RgbImage;

use super::{Classification, Classifier};
use crate::detect::BoundingBox;
use crate::error::{ConfigError, Result};
use crate::onnx_model::{class_names, image_tensor, OnnxModel, OnnxRuntime};

/// An ONNX classifier: the box stretched to the model's input (RGB, 0..1, NCHW), one
/// output of class scores. Scores that are not already probabilities (all in 0..1,
/// summing to 1) go through a softmax.
#[derive(Debug)]
pub struct OnnxClassifier {
    model: Arc<OnnxModel>,
    labels: Vec<String>,
}

impl OnnxClassifier {
    /// Input size (square) of models that leave it open, when none is asked for.
    pub const DEFAULT_INPUT_SIZE: u32 = 224;

    /// Loads the model in `path` (input `size` when the model leaves it open, 0 for
    /// 224); class names from `labels` or the model's metadata.
    pub fn load(
        path: &Path,
        labels: Option<&Path>,
        size: u32,
        runtime: &OnnxRuntime,
    ) -> Result<Self> {
        let model = OnnxModel::load(path, size, Self::DEFAULT_INPUT_SIZE, runtime)?;
        Self::new(Arc::new(model), path, labels)
    }

    /// A classifier with an already loaded `model` from `path`; see [`Self::load`].
    pub fn new(model: Arc<OnnxModel>, path: &Path, labels: Option<&Path>) -> Result<Self> {
        let shape = &model.output_shape;
        let classes: usize = shape.iter().product();
        // 1 x classes, possibly with trailing 1 x 1.
        if shape.len() < 2 || shape[0] != 1 || shape[2..].iter().any(|&d| d != 1) || classes < 2 {
            return Err(ConfigError::model(
                path,
                format!(
                    "output shape {:?} is not 1 x classes of a classifier",
                    model.output_shape
                ),
            )
            .into());
        }
        let labels = class_names(&model, path, labels, Some(classes))?;
        Ok(OnnxClassifier { model, labels })
    }
}

/// `scores` as probabilities: unchanged when they already are, else their softmax.
pub fn probabilities(scores: &[f32]) -> Vec<f32> {
    let sum: f32 = scores.iter().sum();
    if scores.iter().all(|s| (0.0..=1.0).contains(s)) && (sum - 1.0).abs() < 1e-3 {
        return scores.to_vec();
    }
    let max = scores.iter().copied().fold(f32::MIN, f32::max);
    let exp: Vec<f32> = scores.iter().map(|s| (s - max).exp()).collect();
    let total: f32 = exp.iter().sum();
    exp.iter().map(|e| e / total).collect()
}

impl Classifier for OnnxClassifier {
    fn name(&self) -> &'static str {
        "onnx"
    }

    fn classify(&self, image: &RgbImage, bbox: &BoundingBox) -> Result<Option<Classification>> {
        let Some(rect) = super::pixel_rect(image, bbox) else {
            return Ok(None);
        };
        let (tensor, _) = image_tensor(image, rect, self.model.input, false);
        let probabilities = probabilities(&self.model.run(&tensor)?);
        let Some((class, &score)) = probabilities
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
        else {
            return Ok(None);
        };
        let label = self
            .labels
            .get(class)
            .cloned()
            .unwrap_or_else(|| format!("class {class}"));
        Ok(Some(Classification { label, score }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_only_when_needed() {
        assert_eq!(probabilities(&[0.2, 0.8]), [0.2, 0.8]);
        let p = probabilities(&[1.0, 3.0]);
        assert!((p[1] - 0.880_797).abs() < 1e-5 && (p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }
}
