//! `models`: the pipeline a [`PipelineConfig`] describes, with each model file loaded
//! once: a change of a knob (threshold, scale factor) rebuilds the pipeline around the
//! loaded models at once; only a change of model file loads (in the background, see
//! [`crate::runtime`]).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::classify::cascade::CascadeAttribute;
use crate::classify::color::DominantColor;
use crate::classify::onnx::OnnxClassifier;
use crate::classify::{Classifier, ClassifierKind};
use crate::config::PipelineConfig;
use crate::detect::blobs::Blobs;
use crate::detect::cascade::{Cascade, CascadeDetector, CascadeParams};
use crate::detect::onnx::OnnxDetector;
use crate::detect::{Detector, DetectorKind};
use crate::error::Result;
use crate::onnx_model::{OnnxModel, OnnxRuntime};
use crate::pipeline::Pipeline;
use crate::track::TrackerKind;

/// Loaded models by what they were loaded from. Only those the current pipeline uses
/// are kept.
pub struct ModelCache {
    loaded: Mutex<Loaded>,
    /// How ONNX models are run: the start-up settings, fixed for the cache's life.
    onnx_runtime: OnnxRuntime,
}

/// An ONNX model's file, input size, and the size used when the model leaves it open.
type OnnxKey = (String, u32, u32);

#[derive(Default)]
struct Loaded {
    cascades: HashMap<String, Arc<Cascade>>,
    onnx: HashMap<OnnxKey, Arc<OnnxModel>>,
}

/// An ONNX model a configuration needs: [`OnnxKey`], borrowed.
type OnnxNeed<'a> = (&'a str, u32, u32);

/// What a configuration needs loaded.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Need<'a> {
    Cascade(&'a str),
    Onnx(OnnxNeed<'a>),
}

fn onnx_key((path, size, fallback): OnnxNeed<'_>) -> OnnxKey {
    (path.to_string(), size, fallback)
}

impl Loaded {
    fn has(&self, need: Need<'_>) -> bool {
        match need {
            Need::Cascade(path) => self.cascades.contains_key(path),
            Need::Onnx(need) => self.onnx.contains_key(&onnx_key(need)),
        }
    }
}

/// The model of the `onnx` detector of `config`.
fn onnx_detector(config: &PipelineConfig) -> OnnxNeed<'_> {
    let onnx = &config.onnx;
    let size = onnx.config.input_size;
    (&onnx.model, size, OnnxDetector::DEFAULT_INPUT_SIZE)
}

/// The model of the `onnx` classifier of `config`.
fn onnx_classifier(config: &PipelineConfig) -> OnnxNeed<'_> {
    let model = &config.classifier_model;
    let size = model.input_size;
    (&model.model, size, OnnxClassifier::DEFAULT_INPUT_SIZE)
}

/// Every model `config` uses, as [`ModelCache::pipeline`] asks for them.
fn needs(config: &PipelineConfig) -> Vec<Need<'_>> {
    let mut needs = Vec::new();
    match config.detector {
        DetectorKind::Blobs => {}
        DetectorKind::Cascade => needs.push(Need::Cascade(&config.cascade.model)),
        DetectorKind::Onnx => needs.push(Need::Onnx(onnx_detector(config))),
    }
    match config.classifier {
        ClassifierKind::None | ClassifierKind::Color => {}
        ClassifierKind::Cascade => needs.push(Need::Cascade(&config.classifier_model.model)),
        ClassifierKind::Onnx => needs.push(Need::Onnx(onnx_classifier(config))),
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
            loaded: Mutex::default(),
            onnx_runtime,
        }
    }

    fn loaded(&self) -> std::sync::MutexGuard<'_, Loaded> {
        self.loaded.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether every model `config` uses is loaded already.
    pub fn has_models_for(&self, config: &PipelineConfig) -> bool {
        let loaded = self.loaded();
        needs(config).into_iter().all(|need| loaded.has(need))
    }

    /// The cascade in file `path`, loaded now if it is not loaded.
    fn cascade(&self, path: &str) -> Result<Arc<Cascade>> {
        if let Some(model) = self.loaded().cascades.get(path) {
            return Ok(Arc::clone(model));
        }
        // Loaded without the lock held: loading can take a while.
        let model = Arc::new(Cascade::load(Path::new(path))?);
        let mut loaded = self.loaded();
        loaded.cascades.insert(path.to_string(), Arc::clone(&model));
        Ok(model)
    }

    /// The ONNX model `need` names, loaded now if it is not loaded.
    fn onnx(&self, need: OnnxNeed<'_>) -> Result<Arc<OnnxModel>> {
        let (path, size, fallback) = need;
        let key = onnx_key(need);
        if let Some(model) = self.loaded().onnx.get(&key) {
            return Ok(Arc::clone(model));
        }
        let runtime = &self.onnx_runtime;
        let model = Arc::new(OnnxModel::load(Path::new(path), size, fallback, runtime)?);
        self.loaded().onnx.insert(key, Arc::clone(&model));
        Ok(model)
    }

    /// What runs the ONNX models `config` uses (tract, or ONNX Runtime and where), for
    /// the log; `None` before one is loaded. Every ONNX model runs on the same engine.
    pub fn onnx_engine(&self, config: &PipelineConfig) -> Option<String> {
        let loaded = self.loaded();
        needs(config).into_iter().find_map(|need| match need {
            Need::Onnx(need) => loaded
                .onnx
                .get(&onnx_key(need))
                .map(|model| model.engine_description.clone()),
            Need::Cascade(_) => None,
        })
    }

    /// Forgets the models `config` does not use.
    pub fn keep_only(&self, config: &PipelineConfig) {
        let needs = needs(config);
        let mut loaded = self.loaded();
        loaded
            .cascades
            .retain(|path, _| needs.contains(&Need::Cascade(path)));
        loaded.onnx.retain(|(path, size, fallback), _| {
            needs.contains(&Need::Onnx((path, *size, *fallback)))
        });
    }

    /// The pipeline `config` describes, loading the models it needs that are not loaded.
    pub fn pipeline(&self, config: &PipelineConfig) -> Result<Pipeline> {
        let detector: Box<dyn Detector> = match config.detector {
            DetectorKind::Blobs => Box::new(Blobs::new(config.blobs)?),
            DetectorKind::Cascade => {
                let path = &config.cascade.model;
                Box::new(CascadeDetector::new(
                    self.cascade(path)?,
                    config.cascade.params,
                    Path::new(path),
                    &config.cascade.label,
                ))
            }
            DetectorKind::Onnx => {
                let onnx = &config.onnx;
                Box::new(OnnxDetector::new(
                    self.onnx(onnx_detector(config))?,
                    Path::new(&onnx.model),
                    optional(&onnx.labels),
                    onnx.config.clone(),
                    config.max_detections,
                )?)
            }
        };
        let model = &config.classifier_model;
        let classifier: Option<Box<dyn Classifier>> = match config.classifier {
            ClassifierKind::None => None,
            ClassifierKind::Color => Some(Box::new(DominantColor::default())),
            ClassifierKind::Cascade => Some(Box::new(CascadeAttribute {
                detector: CascadeDetector::new(
                    self.cascade(&model.model)?,
                    CascadeParams::DEFAULT,
                    Path::new(&model.model),
                    "",
                ),
            })),
            ClassifierKind::Onnx => Some(Box::new(OnnxClassifier::new(
                self.onnx(onnx_classifier(config))?,
                Path::new(&model.model),
                optional(&model.labels),
            )?)),
        };
        Ok(Pipeline {
            limits: config.limits,
            detector,
            classifier,
            max_detections: config.max_detections,
            tracker: (config.tracker == TrackerKind::ByteTrack).then_some(config.bytetrack),
        })
    }
}
