//! Hot reload: a change of a setting applies at once (the runtime's own settings) or
//! from the next frame through a new pipeline, built around the loaded models, or after
//! new ones load in the background while the running pipeline carries on.
//!
//! A change whose models cannot be loaded leaves the running pipeline, and the front
//! end is told which settings to put back so that its configuration stays what runs:
//! otherwise the failed value would stay in it and fail every later change.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use super::{lock, Level, Runtime};
use crate::classify::ClassifierKind;
use crate::config::{PipelineConfig, PARAMETERS};
use crate::detect::DetectorKind;
use crate::error::Error;
use crate::models::ModelCache;
use crate::schema::{self, Change, Value};

/// Which models run, and why the last change could not be applied (if it failed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelState {
    pub active: String,
    pub error: Option<String>,
}

/// Called when a change cannot be applied, with the settings (and their running values)
/// the front end should put back.
pub type Restore = Box<dyn FnOnce(Vec<(&'static str, Value)>) + Send>;

impl<M: Send + 'static> Runtime<M> {
    /// Applies a change of setting `name` (the whole configuration is `config`) as its
    /// row says ([`Change`]): the runtime's own settings at once; otherwise the pipeline
    /// of `config` replaces the running one, from the next frame, after any new model
    /// loaded in the background. If it cannot be, `restore` is told what to put back.
    pub fn reconfigure(self: &Arc<Self>, config: &PipelineConfig, name: &str, restore: Restore) {
        let change = schema::row(PARAMETERS, name).map(|row| row.doc.change);
        if change == Some(Change::AtOnce) {
            return self.apply_at_once(config, name);
        }
        let generation = {
            let mut control = lock(&self.control);
            control.generation += 1;
            control.generation
        };
        let started = Instant::now();
        if self.models.has_models_for(config) {
            self.apply(config, name, generation, started, restore);
            return;
        }
        // Frames keep going through the running pipeline until the new one is ready.
        self.sink.notice(
            Level::Info,
            &format!(
                "{name} changed; loading {} in the background, {} runs meanwhile",
                describe(config, &self.models),
                self.model_state().active
            ),
        );
        let (runtime, config, name) = (Arc::clone(self), config.clone(), name.to_string());
        self.in_background(move || runtime.apply(&config, &name, generation, started, restore));
    }

    /// A setting of the runtime itself, applied now.
    fn apply_at_once(&self, config: &PipelineConfig, name: &str) {
        {
            let mut control = lock(&self.control);
            control.end_of_stream_timeout = config.end_of_stream_timeout;
            if let Some(value) = config.value(name) {
                // Checked by its row already, when `config` took it.
                let _ = control.running.set(name, value);
            }
        }
        let stages = self.stages.read().unwrap_or_else(|e| e.into_inner());
        if let Some(stages) = stages.as_ref() {
            stages.set_overflow(config.overflow);
        }
        self.sink
            .notice(Level::Info, &format!("{name} changed; applies now"));
    }

    /// The pipeline of `config` replaces the running one, unless a later change came
    /// meanwhile or the models cannot be loaded (see [`Self::not_applied`]).
    fn apply(
        &self,
        config: &PipelineConfig,
        name: &str,
        generation: u64,
        started: Instant,
        restore: Restore,
    ) {
        let pipeline = match self.models.pipeline(config) {
            Ok(pipeline) => pipeline,
            Err(e) => return self.not_applied(config, name, generation, &e, restore),
        };
        let stages = self.stages.read().unwrap_or_else(|e| e.into_inner());
        let mut control = lock(&self.control);
        if control.generation != generation {
            return; // A later change is being applied.
        }
        if let Some(stages) = stages.as_ref() {
            stages.set_pipeline(pipeline);
        }
        self.models.keep_only(config);
        control.running = config.clone();
        control.models = ModelState {
            active: describe(config, &self.models),
            error: None,
        };
        let message = format!(
            "{name} changed; {} from the next frame (ready after {} ms)",
            control.models.active,
            started.elapsed().as_millis()
        );
        self.sink.notice(Level::Info, &message);
    }

    /// A change whose pipeline could not be built: the running one stays; unless a later
    /// change came meanwhile (whose state is newer), the reason is kept in the model
    /// state and noticed, and the settings that differ from what runs are put back.
    fn not_applied(
        &self,
        config: &PipelineConfig,
        name: &str,
        generation: u64,
        e: &Error,
        restore: Restore,
    ) {
        let (active, back) = {
            let mut control = lock(&self.control);
            if control.generation != generation {
                drop(control);
                let message = format!("{name} not applied ({e}); a later change replaced it");
                return self.sink.notice(Level::Warn, &message);
            }
            // Kept before it is said: whoever hears it can read it in the state.
            control.models.error = Some(format!("{name}: {e}"));
            let back = differences(&control.running, config);
            (control.models.active.clone(), back)
        };
        let restored: Vec<String> = back.iter().map(|(n, v)| format!("{n} to {v}")).collect();
        let message = format!(
            "{name} not applied, {active} keeps running: {e}; setting {} back",
            restored.join(", ")
        );
        self.sink.notice(Level::Error, &message);
        restore(back);
    }

    /// Which models run now, and the error of the last change if it failed.
    pub fn model_state(&self) -> ModelState {
        lock(&self.control).models.clone()
    }
}

/// The settings of `config` that differ from `running`, with their values in `running`.
fn differences(running: &PipelineConfig, config: &PipelineConfig) -> Vec<(&'static str, Value)> {
    running
        .settings()
        .zip(config.settings())
        .filter(|((_, was), (_, is))| was != is)
        .map(|((name, was), _)| (name, was.clone()))
        .collect()
}

/// The detector and classifier `config` runs, for logs and diagnostics.
pub fn describe(config: &PipelineConfig, models: &ModelCache) -> String {
    let file = |path: &str| {
        Path::new(path)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let detector = match config.detector {
        DetectorKind::Blobs => "blobs".to_string(),
        DetectorKind::Cascade => format!("cascade {}", file(&config.cascade.model)),
        DetectorKind::Onnx => format!("onnx {}", file(&config.onnx.model)),
    };
    let classifier = match config.classifier {
        ClassifierKind::None => "none".to_string(),
        ClassifierKind::Color => "color".to_string(),
        ClassifierKind::Cascade => format!("cascade {}", file(&config.classifier_model.model)),
        ClassifierKind::Onnx => format!("onnx {}", file(&config.classifier_model.model)),
    };
    let engine = models
        .onnx_engine(config)
        .map(|engine| format!(", ONNX on {engine}"))
        .unwrap_or_default();
    format!("detector {detector}, classifier {classifier}{engine}")
}
