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

/// A setting to put back after a change that could not be applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Revert {
    pub name: &'static str,
    /// What runs.
    pub running: Value,
    /// What could not be applied: a front end whose setting has changed since leaves it
    /// (a later change owns it).
    pub failed: Value,
}

/// Called when a change cannot be applied, with the settings the front end should put
/// back; before [`Runtime::reconfigure`] returns when the failure shows at once (no model
/// to load), else on the thread that loaded.
pub type Restore = Box<dyn FnOnce(&[Revert]) + Send>;

impl<M: Send + 'static> Runtime<M> {
    /// Applies a change of setting `name` (the whole configuration is `config`) as its
    /// row says ([`Change`]): the runtime's own settings at once; otherwise the pipeline
    /// of `config` replaces the running one, from the next frame, after any new model
    /// loaded in the background. If it cannot be, `restore` is told what to put back.
    pub fn reconfigure(self: &Arc<Self>, config: &PipelineConfig, name: &str, restore: Restore) {
        if at_once(name) {
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
        control.running = with_at_once_of(config, &control.running);
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
            control.models.error = Some(format!("{name}: {e}"));
            let back = differences(&control.running, config);
            (control.models.active.clone(), back)
        };
        // Done before it is said: whoever hears it can read it in the state.
        restore(&back);
        let restored: Vec<String> = back
            .iter()
            .map(|r| format!("{} to {}", r.name, r.running))
            .collect();
        let message = format!(
            "{name} not applied, {active} keeps running: {e}; setting {} back",
            restored.join(", ")
        );
        self.sink.notice(Level::Error, &message);
    }

    /// Which models run now, and the error of the last change if it failed.
    pub fn model_state(&self) -> ModelState {
        lock(&self.control).models.clone()
    }
}

/// Whether setting `name` is the runtime's own, applied at once.
fn at_once(name: &str) -> bool {
    schema::row(PARAMETERS, name).is_some_and(|row| row.doc.change == Change::AtOnce)
}

/// `config` with the runtime's own settings as in `running`: one changed while a
/// pipeline loaded is not undone when the pipeline is applied.
fn with_at_once_of(config: &PipelineConfig, running: &PipelineConfig) -> PipelineConfig {
    let mut next = config.clone();
    for (name, value) in running.settings().filter(|(name, _)| at_once(name)) {
        // Taken by its row already.
        let _ = next.set(name, value);
    }
    next
}

/// The settings of the pipeline (not the runtime's own, which apply at once) that
/// differ between `running` and `failed`.
fn differences(running: &PipelineConfig, failed: &PipelineConfig) -> Vec<Revert> {
    running
        .settings()
        .zip(failed.settings())
        .filter(|((name, was), (_, is))| was != is && !at_once(name))
        .map(|((name, was), (_, is))| Revert {
            name,
            running: was.clone(),
            failed: is.clone(),
        })
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
