//! `config`: what a pipeline is configured with ([`PipelineConfig`]), and its settings as
//! schema rows ([`PARAMETERS`]): name, type, default, range, runtime or start-up,
//! description and how each applies. Front ends add their own rows (vision_node: QoS,
//! transport, history depths) and declare both tables.
//!
//! A configuration remembers each setting's value as given, so that it serializes (serde)
//! as the settings that made it, and deserializes from them through the same rows and
//! checks: see [`settings`].

mod parameters;
pub mod settings;

pub use parameters::PARAMETERS;

use std::time::Duration;

use crate::classify::ClassifierKind;
use crate::detect::blobs::BlobsConfig;
use crate::detect::cascade::CascadeParams;
use crate::detect::onnx::OnnxDetectorConfig;
use crate::detect::DetectorKind;
use crate::error::ConfigError;
use crate::frame::Limits;
use crate::onnx_model::OnnxRuntime;
use crate::schema::{self, Value};
use crate::stages::{Capacities, Overflow};
use crate::track::{ByteTrackConfig, TrackerKind};

/// Everything a pipeline is configured with: stages, models, limits.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineConfig {
    /// How long after the last frame an end of stream waits for frames still missing.
    pub end_of_stream_timeout: Duration,
    pub overflow: Overflow,
    pub capacities: Capacities,
    pub detector: DetectorKind,
    pub blobs: BlobsConfig,
    pub cascade: CascadeSettings,
    pub onnx: OnnxSettings,
    pub classifier: ClassifierKind,
    pub classifier_model: ClassifierModel,
    pub tracker: TrackerKind,
    pub bytetrack: ByteTrackConfig,
    pub onnx_runtime: OnnxRuntime,
    pub max_detections: usize,
    pub limits: Limits,
    /// Each row's value as given, in the order of [`PARAMETERS`].
    values: Vec<Value>,
}

/// The `cascade` detector's model and knobs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CascadeSettings {
    /// Cascade XML file; empty until set.
    pub model: String,
    /// Label of the detections; empty for one derived from the file name.
    pub label: String,
    pub params: CascadeParams,
}

/// The `onnx` detector's model and knobs.
#[derive(Debug, Clone, PartialEq)]
pub struct OnnxSettings {
    /// ONNX file; empty until set.
    pub model: String,
    /// Labels file; empty for the model's metadata.
    pub labels: String,
    pub config: OnnxDetectorConfig,
}

/// The model of the `cascade` or `onnx` classifier.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClassifierModel {
    /// Cascade XML (classifier cascade) or ONNX file (classifier onnx).
    pub model: String,
    /// Labels file of an ONNX classifier; empty for the model's metadata.
    pub labels: String,
    /// Input size of an ONNX classifier whose model leaves it open; 0 for 224.
    pub input_size: u32,
}

impl PipelineConfig {
    /// The configuration with every setting at its row's default.
    pub fn defaults() -> Self {
        let blank = PipelineConfig {
            end_of_stream_timeout: Duration::ZERO,
            overflow: Overflow::Latest,
            capacities: Capacities::default(),
            detector: DetectorKind::Blobs,
            blobs: BlobsConfig::default(),
            cascade: CascadeSettings::default(),
            onnx: OnnxSettings {
                model: String::new(),
                labels: String::new(),
                config: OnnxDetectorConfig::DEFAULT,
            },
            classifier: ClassifierKind::None,
            classifier_model: ClassifierModel::default(),
            tracker: TrackerKind::None,
            bytetrack: ByteTrackConfig::DEFAULT,
            onnx_runtime: OnnxRuntime::default(),
            max_detections: 0,
            limits: Limits::default(),
            values: PARAMETERS
                .iter()
                .map(|row| row.doc.kind.default_value())
                .collect(),
        };
        schema::defaults(PARAMETERS, blank).expect("every row's default is valid (tested)")
    }

    /// Sets setting `name` to `value` (None: no such setting); the value is checked
    /// against its row, not yet against the rest: see [`Self::validate`].
    pub fn apply(&mut self, name: &str, value: &Value) -> Option<Result<(), ConfigError>> {
        let index = PARAMETERS.iter().position(|row| row.doc.name == name)?;
        Some(PARAMETERS[index].set(self, value).map(|value| {
            self.values[index] = value;
        }))
    }

    /// [`Self::apply`], with no such setting an error too.
    pub fn set(&mut self, name: &str, value: &Value) -> Result<(), ConfigError> {
        self.apply(name, value)
            .unwrap_or_else(|| Err(ConfigError::invalid(name, "no such setting")))
    }

    /// Every setting and its value, in the order of [`PARAMETERS`].
    pub fn settings(&self) -> impl Iterator<Item = (&'static str, &Value)> {
        PARAMETERS.iter().map(|row| row.doc.name).zip(&self.values)
    }

    /// The defaults with `settings` applied in order, each checked by its row, then the
    /// whole checked against itself (an error names the setting, the value and what is
    /// allowed).
    pub fn from_settings<'a>(
        settings: impl IntoIterator<Item = (&'a str, Value)>,
    ) -> Result<Self, ConfigError> {
        let mut config = Self::defaults();
        let mut last = "detector";
        for (name, value) in settings {
            config.set(name, &value)?;
            last = name;
        }
        config.validate(last)?;
        Ok(config)
    }

    /// Checks the settings against each other; the error names `name`, the setting
    /// whose change is being checked.
    pub fn validate(&self, name: &str) -> Result<(), ConfigError> {
        self.blobs.validate()?;
        self.cascade.params.validate()?;
        self.bytetrack.validate()?;
        let missing = match (self.detector, self.classifier) {
            (DetectorKind::Cascade, _) if self.cascade.model.is_empty() => {
                Some("detector cascade needs cascade.model (an OpenCV cascade XML file)")
            }
            (DetectorKind::Onnx, _) if self.onnx.model.is_empty() => {
                Some("detector onnx needs onnx.model (an ONNX file)")
            }
            (_, ClassifierKind::Cascade | ClassifierKind::Onnx)
                if self.classifier_model.model.is_empty() =>
            {
                Some("classifier cascade or onnx needs classifier_model")
            }
            _ => None,
        };
        match missing {
            Some(reason) => Err(ConfigError::invalid(name, reason)),
            None => Ok(()),
        }
    }

    /// Checks that the files this configuration reads and `before` did not (a model or
    /// labels file of the detector or classifier that runs) exist and can be read: a
    /// front end checks a change while running, so that a missing file is refused with
    /// the change rather than found when it loads in the background. (At start-up,
    /// loading says the same.)
    pub fn check_new_files(&self, before: &PipelineConfig) -> Result<(), ConfigError> {
        let read = before.files();
        for (setting, path) in self.files() {
            if !read.contains(&(setting, path)) {
                readable(path)
                    .map_err(|reason| ConfigError::invalid(setting, format!("{path}: {reason}")))?;
            }
        }
        Ok(())
    }

    /// The value of setting `name` as given; None: no such setting.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.settings().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The files this configuration reads (models and labels), each with its setting.
    fn files(&self) -> Vec<(&'static str, &str)> {
        let mut files = match self.detector {
            DetectorKind::Blobs => vec![],
            DetectorKind::Cascade => vec![("cascade.model", self.cascade.model.as_str())],
            DetectorKind::Onnx => vec![
                ("onnx.model", self.onnx.model.as_str()),
                ("onnx.labels", self.onnx.labels.as_str()),
            ],
        };
        let model = &self.classifier_model;
        match self.classifier {
            ClassifierKind::None | ClassifierKind::Color => {}
            ClassifierKind::Cascade => files.push(("classifier_model", model.model.as_str())),
            ClassifierKind::Onnx => files.extend([
                ("classifier_model", model.model.as_str()),
                ("classifier_labels", model.labels.as_str()),
            ]),
        }
        files.retain(|(_, path)| !path.is_empty());
        files
    }
}

/// Whether `path` is a file this process can open. Opens only a regular file, which does
/// not block (a FIFO would).
fn readable(path: &str) -> Result<(), String> {
    let metadata = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        _ => format!("cannot read: {e}"),
    })?;
    if !metadata.is_file() {
        return Err("not a regular file".into());
    }
    std::fs::File::open(path)
        .map(drop)
        .map_err(|e| format!("cannot read: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_is_valid_and_in_its_range() {
        let config = PipelineConfig::defaults();
        for row in PARAMETERS {
            let kind = row.doc.kind;
            kind.check(row.doc.name, &kind.default_value()).unwrap();
        }
        config.validate("detector").unwrap();
        assert_eq!(config.capacities, Capacities::DEFAULT);
        assert_eq!(config.limits, Limits::DEFAULT);
    }

    #[test]
    fn a_value_is_checked_by_its_row_and_then_against_the_others() {
        let mut config = PipelineConfig::defaults();
        let e = config.apply("blobs.threshold", &Value::Int(300)).unwrap();
        assert_eq!(
            e.unwrap_err().to_string(),
            "parameter `blobs.threshold`: 300 is outside 0..255"
        );
        assert!(config.apply("no.such", &Value::Int(1)).is_none());
        config
            .apply("detector", &Value::Text("cascade".into()))
            .unwrap()
            .unwrap();
        let e = config.validate("detector").unwrap_err().to_string();
        assert!(e.contains("detector cascade needs cascade.model"), "{e}");
    }

    #[test]
    fn the_files_a_change_brings_in_must_be_readable() {
        let dir = std::env::temp_dir().join(format!("rv-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("model.xml");
        std::fs::write(&file, "<opencv_storage/>").unwrap();
        let text = |path: &std::path::Path| Value::Text(path.to_str().unwrap().into());
        let missing = dir.join("missing.xml");
        let before = PipelineConfig::defaults();
        let mut config = before.clone();
        config.set("cascade.model", &text(&missing)).unwrap();
        // Not read while the blobs detector runs.
        config.check_new_files(&before).unwrap();
        let blobs = config.clone();
        config
            .set("detector", &Value::Text("cascade".into()))
            .unwrap();
        let e = config.check_new_files(&blobs).unwrap_err().to_string();
        let missing = missing.display();
        assert_eq!(
            e,
            format!("parameter `cascade.model`: {missing}: no such file")
        );
        // Files read already are not looked at again.
        let cascade = config.clone();
        config.set("cascade.min_neighbors", &Value::Int(5)).unwrap();
        config.check_new_files(&cascade).unwrap();
        config.set("cascade.model", &text(&dir)).unwrap();
        let e = config.check_new_files(&cascade).unwrap_err().to_string();
        assert!(e.ends_with("not a regular file"), "{e}");
        config.set("cascade.model", &text(&file)).unwrap();
        config.check_new_files(&cascade).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = PARAMETERS.iter().map(|p| p.doc.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), PARAMETERS.len());
    }
}
