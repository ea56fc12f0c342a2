//! The core pipeline a [`NodeConfig`] describes, with each model file loaded once: a
//! change of a knob (threshold, scale factor) rebuilds the pipeline around the loaded
//! models at once; only a change of model file loads (in the background, see
//! [`crate::node`]).

use std::any::Any;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::params::NodeConfig;
use rust_vision_core::classify::cascade::CascadeAttribute;
use rust_vision_core::classify::color::DominantColor;
use rust_vision_core::classify::onnx::OnnxClassifier;
use rust_vision_core::classify::{Classifier, ClassifierKind};
use rust_vision_core::detect::blobs::Blobs;
use rust_vision_core::detect::cascade::{Cascade, CascadeDetector, CascadeParams};
use rust_vision_core::detect::onnx::OnnxDetector;
use rust_vision_core::detect::{Detector, DetectorKind};
use rust_vision_core::error::Result;
use rust_vision_core::onnx_model::{OnnxModel, OnnxRuntime};
use rust_vision_core::pipeline::Pipeline;

/// Loaded models by what they were loaded from (`cascade:<path>`,
/// `onnx:<path>:<size>:<fallback>`). Only those the current pipeline uses are kept.
pub struct ModelCache {
    models: Mutex<HashMap<String, Arc<dyn Any + Send + Sync>>>,
    /// How ONNX models are run: the start-up settings, fixed for the cache's life.
    onnx_runtime: OnnxRuntime,
}

/// What a configuration needs loaded: cache key and loader.
enum Need<'a> {
    Cascade(&'a str),
    Onnx(&'a str, u32, u32),
}

impl Need<'_> {
    fn key(&self) -> String {
        match self {
            Need::Cascade(path) => format!("cascade:{path}"),
            Need::Onnx(path, size, fallback) => format!("onnx:{path}:{size}:{fallback}"),
        }
    }
}

/// The model of the `onnx` detector of `config`.
fn onnx_detector(config: &NodeConfig) -> Need<'_> {
    let onnx = &config.pipeline.onnx;
    Need::Onnx(
        &onnx.model,
        onnx.config.input_size,
        OnnxDetector::DEFAULT_INPUT_SIZE,
    )
}

/// The model of the `onnx` classifier of `config`.
fn onnx_classifier(config: &NodeConfig) -> Need<'_> {
    let model = &config.pipeline.classifier_model;
    Need::Onnx(
        &model.model,
        model.input_size,
        OnnxClassifier::DEFAULT_INPUT_SIZE,
    )
}

/// Every model `config` uses, as [`ModelCache::pipeline`] asks for them.
fn needs(config: &NodeConfig) -> Vec<Need<'_>> {
    let mut needs = Vec::new();
    match config.pipeline.detector {
        DetectorKind::Blobs => {}
        DetectorKind::Cascade => needs.push(Need::Cascade(&config.pipeline.cascade.model)),
        DetectorKind::Onnx => needs.push(onnx_detector(config)),
    }
    match config.pipeline.classifier {
        ClassifierKind::None | ClassifierKind::Color => {}
        ClassifierKind::Cascade => {
            needs.push(Need::Cascade(&config.pipeline.classifier_model.model))
        }
        ClassifierKind::Onnx => needs.push(onnx_classifier(config)),
    }
    needs
}

fn optional(path: &str) -> Option<&Path> {
    (!path.is_empty()).then(|| Path::new(path))
}

impl ModelCache {
    /// An empty cache whose ONNX models run as `onnx_runtime` says.
    pub fn new(onnx_runtime: OnnxRuntime) -> Self {
        ModelCache {
            models: Mutex::default(),
            onnx_runtime,
        }
    }

    /// Whether every model `config` uses is loaded already.
    pub fn has_models_for(&self, config: &NodeConfig) -> bool {
        let models = self.models.lock().unwrap_or_else(|e| e.into_inner());
        needs(config).iter().all(|n| models.contains_key(&n.key()))
    }

    fn get<T: Any + Send + Sync>(&self, need: &Need<'_>) -> Result<Arc<T>> {
        let key = need.key();
        let cached = self
            .models
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        let model: Arc<dyn Any + Send + Sync> = match cached {
            Some(model) => model,
            // Loaded without the lock held: loading can take a while.
            None => match *need {
                Need::Cascade(path) => Arc::new(Cascade::load(Path::new(path))?),
                Need::Onnx(path, size, fallback) => {
                    let runtime = &self.onnx_runtime;
                    Arc::new(OnnxModel::load(Path::new(path), size, fallback, runtime)?)
                }
            },
        };
        self.models
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, Arc::clone(&model));
        Ok(model
            .downcast::<T>()
            .expect("each key prefix holds one model type"))
    }

    /// What runs the ONNX models `config` uses (tract, or ONNX Runtime and where), for
    /// the log; `None` before one is loaded. Every ONNX model runs on the same engine.
    pub fn onnx_engine(&self, config: &NodeConfig) -> Option<String> {
        let models = self.models.lock().unwrap_or_else(|e| e.into_inner());
        needs(config)
            .iter()
            .filter_map(|need| models.get(&need.key()))
            .find_map(|model| model.downcast_ref::<OnnxModel>())
            .map(|model| model.engine_description.clone())
    }

    /// Forgets the models `config` does not use.
    pub fn keep_only(&self, config: &NodeConfig) {
        let keys: Vec<String> = needs(config).iter().map(Need::key).collect();
        self.models
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|key, _| keys.contains(key));
    }

    /// The pipeline `config` describes, loading the models it needs that are not loaded.
    pub fn pipeline(&self, config: &NodeConfig) -> Result<Pipeline> {
        let detector: Box<dyn Detector> = match config.pipeline.detector {
            DetectorKind::Blobs => Box::new(Blobs::new(config.pipeline.blobs)?),
            DetectorKind::Cascade => {
                let path = &config.pipeline.cascade.model;
                Box::new(CascadeDetector::new(
                    self.get(&Need::Cascade(path))?,
                    config.pipeline.cascade.params,
                    Path::new(path),
                    &config.pipeline.cascade.label,
                ))
            }
            DetectorKind::Onnx => {
                let onnx = &config.pipeline.onnx;
                Box::new(OnnxDetector::new(
                    self.get(&onnx_detector(config))?,
                    Path::new(&onnx.model),
                    optional(&onnx.labels),
                    onnx.config.clone(),
                )?)
            }
        };
        let model = &config.pipeline.classifier_model;
        let classifier: Option<Box<dyn Classifier>> = match config.pipeline.classifier {
            ClassifierKind::None => None,
            ClassifierKind::Color => Some(Box::new(DominantColor::default())),
            ClassifierKind::Cascade => Some(Box::new(CascadeAttribute {
                detector: CascadeDetector::new(
                    self.get(&Need::Cascade(&model.model))?,
                    CascadeParams::DEFAULT,
                    Path::new(&model.model),
                    "",
                ),
            })),
            ClassifierKind::Onnx => Some(Box::new(OnnxClassifier::new(
                self.get(&onnx_classifier(config))?,
                Path::new(&model.model),
                optional(&model.labels),
            )?)),
        };
        Ok(Pipeline {
            limits: config.pipeline.limits,
            detector,
            classifier,
            max_detections: config.pipeline.max_detections,
        })
    }
}
