//! vision_node's parameters: declared with description, default and range, read into a
//! typed [`NodeConfig`], and (for those marked runtime) changed with `ros2 param set`:
//! validated against the whole configuration, refused with the reason, applied from the
//! next frame.

use std::str::FromStr;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use rclrs::{MandatoryParameter, Node, ParameterRange, ReadOnlyParameter};

use crate::classify::ClassifierKind;
use crate::detect::blobs::{BlobsConfig, Segmentation};
use crate::detect::cascade::CascadeParams;
use crate::detect::onnx::OnnxDetectorConfig;
use crate::detect::DetectorKind;
use crate::error::ConfigError;
use crate::frame::Limits;
use crate::onnx_model::{Backend, OnnxRuntime, Provider};
use crate::ros::qos::{QosPolicy, Transport};
use crate::stages::{Capacities, Overflow};

/// Everything vision_node is configured with.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeConfig {
    pub qos: QosPolicy,
    pub qos_depth: u32,
    /// History depth of the detections publisher, messages.
    pub results_depth: u32,
    /// History depth of the annotated image publisher, images.
    pub annotated_depth: u32,
    pub transport: Transport,
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
    pub onnx_runtime: OnnxRuntime,
    pub max_detections: usize,
    pub limits: Limits,
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

/// One parameter as documented: name, type, default, range, whether it can change while
/// the node runs, and description.
#[derive(Debug, Clone, Copy)]
pub struct ParamDoc {
    pub name: &'static str,
    pub kind: Kind,
    pub runtime: bool,
    pub description: &'static str,
}

/// A parameter's type, default and allowed values.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Int {
        value: i64,
        min: i64,
        max: i64,
    },
    Double {
        value: f64,
        min: f64,
        max: f64,
    },
    Choice {
        value: &'static str,
        choices: &'static [&'static str],
    },
    /// Free text, such as a file path.
    Text {
        value: &'static str,
    },
}

/// A parameter value of any of the kinds.
#[derive(Debug, Clone)]
pub enum Value {
    Int(i64),
    Double(f64),
    Text(Arc<str>),
}

const fn doc(name: &'static str, kind: Kind, runtime: bool, description: &'static str) -> ParamDoc {
    ParamDoc {
        name,
        kind,
        runtime,
        description,
    }
}

const fn int(value: i64, min: i64, max: i64) -> Kind {
    Kind::Int { value, min, max }
}

const fn double(value: f64, min: f64, max: f64) -> Kind {
    Kind::Double { value, min, max }
}

const fn choice(value: &'static str, choices: &'static [&'static str]) -> Kind {
    Kind::Choice { value, choices }
}

const fn text(value: &'static str) -> Kind {
    Kind::Text { value }
}

/// Every parameter of vision_node, in the order of the README's table. Defaults of the
/// core's settings come from the core's `DEFAULT`s; the aspect ratios are written out
/// because the core keeps them as f32, and 0.1f32 is not 0.1.
pub const PARAMETERS: &[ParamDoc] = &[
    doc(
        "qos",
        choice("sensor_data", QosPolicy::NAMES),
        false,
        "QoS of the image subscription: sensor_data (best effort, for live cameras) or \
         reliable (every frame, for recorded data and batch work)",
    ),
    doc(
        "qos_depth",
        int(5, 1, 1000),
        false,
        "History depth (frames) of the image subscription; with qos reliable and overflow \
         all at start-up the history keeps all frames instead, so that backpressure reaches \
         the publisher",
    ),
    doc(
        "results_depth",
        int(100, 1, 100000),
        false,
        "History depth (messages) of the reliable detections publisher: how far a \
         subscriber may fall behind before it loses results (and its end-of-stream report \
         says so)",
    ),
    doc(
        "annotated_depth",
        int(10, 1, 1000),
        false,
        "History depth (images) of the reliable annotated_image publisher; each image \
         held is width x height x 3 bytes",
    ),
    doc(
        "transport",
        choice("raw", Transport::NAMES),
        false,
        "Input: raw (sensor_msgs/Image on `image`), compressed (sensor_msgs/CompressedImage \
         on `image/compressed`, JPEG or PNG) or both",
    ),
    doc(
        "end_of_stream_timeout",
        double(5.0, 0.0, 3600.0),
        true,
        "At an end of stream (rust_vision/EndOfStream on `image/end_of_stream`), how long \
         to wait for frames the source sent that have not arrived, seconds after the last \
         one received; those still missing then are counted lost in the summary",
    ),
    doc(
        "overflow",
        choice("latest", Overflow::NAMES),
        true,
        "When the input queue is full: latest drops the oldest queued frame (live cameras), \
         all waits and never drops (batch work)",
    ),
    doc(
        "input_queue",
        int(Capacities::DEFAULT.input as i64, 1, 1000),
        false,
        "Capacity of the input queue, frames",
    ),
    doc(
        "stage_queue",
        int(Capacities::DEFAULT.stage as i64, 1, 100),
        false,
        "Capacity of each queue between two stages, frames",
    ),
    doc(
        "detect_workers",
        int(Capacities::DEFAULT.detect_workers as i64, 1, 64),
        false,
        "Worker threads that each decode and detect a frame, on successive frames \
         (results stay in order)",
    ),
    doc(
        "blobs.mode",
        choice("chroma", Segmentation::NAMES),
        true,
        "blobs: foreground pixels are colourful (chroma >= threshold), bright \
         (luma >= threshold) or dark (luma < threshold)",
    ),
    doc(
        "blobs.threshold",
        int(BlobsConfig::DEFAULT.threshold as i64, 0, 255),
        true,
        "blobs: threshold of the segmentation measure (0..255)",
    ),
    doc(
        "blobs.min_area",
        int(BlobsConfig::DEFAULT.min_area as i64, 1, 1 << 40),
        true,
        "blobs: smallest blob reported, pixels",
    ),
    doc(
        "blobs.max_area",
        int(BlobsConfig::DEFAULT.max_area as i64, 0, 1 << 40),
        true,
        "blobs: largest blob reported, pixels; 0 for no limit",
    ),
    doc(
        "blobs.min_aspect",
        double(0.1, 0.001, 1000.0),
        true,
        "blobs: smallest box aspect ratio (width / height) reported",
    ),
    doc(
        "blobs.max_aspect",
        double(10.0, 0.001, 1000.0),
        true,
        "blobs: largest box aspect ratio (width / height) reported",
    ),
    doc(
        "cascade.model",
        text(""),
        true,
        "cascade: OpenCV cascade XML file (Haar or LBP), such as \
         haarcascade_frontalface_default.xml from opencv-python's cv2.data.haarcascades",
    ),
    doc(
        "cascade.label",
        text(""),
        true,
        "cascade: label of the detections; empty for the model file's name without \
         haarcascade_/lbpcascade_ (frontalface_default)",
    ),
    doc(
        "cascade.scale_factor",
        double(CascadeParams::DEFAULT.scale_factor, 1.001, 10.0),
        true,
        "cascade: each pyramid level is this much smaller than the previous \
         (detectMultiScale's scaleFactor)",
    ),
    doc(
        "cascade.min_neighbors",
        int(CascadeParams::DEFAULT.min_neighbors as i64, 0, 1000),
        true,
        "cascade: a detection needs more than this many overlapping windows \
         (detectMultiScale's minNeighbors)",
    ),
    doc(
        "cascade.min_width",
        int(0, 0, 65535),
        true,
        "cascade: narrowest object searched for, pixels; 0 for the model's window",
    ),
    doc(
        "cascade.min_height",
        int(0, 0, 65535),
        true,
        "cascade: shortest object searched for, pixels; 0 for the model's window",
    ),
    doc(
        "cascade.max_width",
        int(0, 0, 65535),
        true,
        "cascade: widest object searched for, pixels; 0 for the image width",
    ),
    doc(
        "cascade.max_height",
        int(0, 0, 65535),
        true,
        "cascade: tallest object searched for, pixels; 0 for the image height",
    ),
    doc(
        "onnx.model",
        text(""),
        true,
        "onnx: YOLO detection model (.onnx; YOLOv5 or YOLOv8/v11 output layout, recognised \
         from the output shape)",
    ),
    doc(
        "onnx.labels",
        text(""),
        true,
        "onnx: class names, one per line; empty for the names in the model's metadata",
    ),
    doc(
        "onnx.input_size",
        int(0, 0, 4096),
        true,
        "onnx: input width and height, pixels, for models that leave it open; 0 for the \
         model's own (640 when open)",
    ),
    doc(
        "onnx.confidence",
        double(0.25, 0.0, 1.0),
        true,
        "onnx: smallest score reported (class score, times objectness for YOLOv5)",
    ),
    doc(
        "onnx.iou",
        double(0.45, 0.0, 1.0),
        true,
        "onnx: non-maximum suppression: a box overlapping a better one of its class by \
         more than this IoU is dropped",
    ),
    doc(
        "detector",
        choice("blobs", DetectorKind::NAMES),
        true,
        "First-stage detector",
    ),
    doc(
        "classifier.model",
        text(""),
        true,
        "classifier cascade: cascade XML run inside each box (haarcascade_eye.xml, \
         haarcascade_smile.xml); classifier onnx: image classification model (.onnx)",
    ),
    doc(
        "classifier.labels",
        text(""),
        true,
        "classifier onnx: class names, one per line; empty for the model's metadata",
    ),
    doc(
        "classifier.input_size",
        int(0, 0, 4096),
        true,
        "classifier onnx: input width and height for models that leave it open; 0 for 224",
    ),
    doc(
        "classifier",
        choice("none", ClassifierKind::NAMES),
        true,
        "Second stage, on each detection's box: none; color (the dominant colour name, \
         from the box's hue histogram); cascade (an attribute found by the cascade \
         classifier.model inside the box); onnx (top-1 class of the ONNX model \
         classifier.model)",
    ),
    doc(
        "onnx_backend",
        choice("auto", Backend::NAMES),
        false,
        "Engine of the ONNX detector and classifier: onnxruntime (ONNX Runtime, loaded \
         from onnx_library; an error where none loads); tract (pure Rust, nothing to \
         install, slower); auto (onnxruntime where a library is found, else tract)",
    ),
    doc(
        "onnx_library",
        text(""),
        false,
        "ONNX Runtime library (libonnxruntime.so) to load; empty for ORT_DYLIB_PATH, \
         else the one in the onnxruntime Python package that python3 finds",
    ),
    doc(
        "onnx_provider",
        choice("cpu", Provider::NAMES),
        false,
        "Where ONNX Runtime runs models: cpu; cuda or tensorrt (an error where the \
         library lacks them, as the CPU-only onnxruntime package does); auto (tensorrt, \
         else cuda, else cpu, with the fallback logged)",
    ),
    doc(
        "onnx_threads",
        int(0, 0, 256),
        false,
        "ONNX Runtime's threads within an operator; 0 for one per core",
    ),
    doc(
        "max_detections",
        int(100, 1, 10000),
        true,
        "Most detections published per frame (the detector's first ones)",
    ),
    doc(
        "max_width",
        int(Limits::DEFAULT.max_width as i64, 1, 65535),
        false,
        "Widest image accepted, pixels; wider ones are refused unread",
    ),
    doc(
        "max_height",
        int(Limits::DEFAULT.max_height as i64, 1, 65535),
        false,
        "Tallest image accepted, pixels; taller ones are refused unread",
    ),
    doc(
        "max_bytes",
        int(Limits::DEFAULT.max_bytes as i64, 1, 1 << 40),
        false,
        "Largest image accepted, bytes (received data and decoded RGB each)",
    ),
];

/// Every parameter with its default, as a ROS 2 parameters file (descriptions as
/// comments): what `vision_node --print-defaults` prints, and what
/// `config/vision_node.yaml` holds. Its key is `/**`, so that it applies whatever name
/// and namespace the node runs under (a plain `vision_node:` key misses a namespaced node).
pub fn defaults_yaml() -> String {
    let mut out = String::from(
        "# vision_node's parameters at their defaults: [range; runtime or start-up only]\n\
         /**:\n  ros__parameters:\n",
    );
    for doc in PARAMETERS {
        let value = match doc.kind {
            Kind::Int { value, .. } => value.to_string(),
            Kind::Double { value, .. } => format!("{value:?}"),
            Kind::Choice { value, .. } | Kind::Text { value } => format!("\"{value}\""),
        };
        let range = match doc.kind {
            Kind::Int { min, max, .. } => format!("{min}..{max}"),
            Kind::Double { min, max, .. } => format!("{min:?}..{max:?}"),
            Kind::Choice { choices, .. } => choices.join(", "),
            Kind::Text { .. } => "text".into(),
        };
        let runtime = if doc.runtime {
            "runtime"
        } else {
            "start-up only"
        };
        let description = doc
            .description
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        out += &format!(
            "    # {description} [{range}; {runtime}]\n    {}: {value}\n",
            doc.name
        );
    }
    out
}

impl Kind {
    fn default_value(&self) -> Value {
        match *self {
            Kind::Int { value, .. } => Value::Int(value),
            Kind::Double { value, .. } => Value::Double(value),
            Kind::Choice { value, .. } | Kind::Text { value } => Value::Text(value.into()),
        }
    }
}

impl NodeConfig {
    /// The configuration with every parameter at its default.
    pub fn defaults() -> Self {
        let mut config = NodeConfig {
            qos: QosPolicy::SensorData,
            qos_depth: 0,
            results_depth: 0,
            annotated_depth: 0,
            transport: Transport::Raw,
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
            onnx_runtime: OnnxRuntime::default(),
            max_detections: 0,
            limits: Limits::default(),
        };
        for doc in PARAMETERS {
            config
                .set(doc.name, &doc.kind.default_value())
                .expect("the documented defaults are valid");
        }
        config
    }

    /// Sets parameter `name` to `value`, then checks the configuration as a whole; on an
    /// error the configuration is unchanged.
    pub fn set(&mut self, name: &str, value: &Value) -> Result<(), ConfigError> {
        let mut next = self.clone();
        let invalid = |reason: String| ConfigError::invalid(name, reason);
        let int = || match value {
            Value::Int(v) => Ok(*v),
            other => Err(invalid(format!("{other:?} is not an integer"))),
        };
        let count = |max: u64| {
            int().and_then(|v| {
                u64::try_from(v)
                    .ok()
                    .filter(|&v| v <= max)
                    .ok_or_else(|| invalid(format!("{v} is outside 0..{max}")))
            })
        };
        let double = || match value {
            Value::Double(v) => Ok(*v),
            other => Err(invalid(format!("{other:?} is not a double"))),
        };
        let text = || match value {
            Value::Text(v) => Ok(v.clone()),
            other => Err(invalid(format!("{other:?} is not a string"))),
        };
        fn parse<T: FromStr<Err = ConfigError>>(text: Arc<str>) -> Result<T, ConfigError> {
            text.parse()
        }
        let u32_max = u64::from(u32::MAX);
        match name {
            "qos" => next.qos = parse(text()?)?,
            "qos_depth" => next.qos_depth = count(u32_max)? as u32,
            "results_depth" => next.results_depth = count(u32_max)? as u32,
            "annotated_depth" => next.annotated_depth = count(u32_max)? as u32,
            "transport" => next.transport = parse(text()?)?,
            "end_of_stream_timeout" => {
                let seconds = double()?;
                if !(0.0..=3600.0).contains(&seconds) {
                    return Err(invalid(format!("{seconds} is outside 0..3600 seconds")));
                }
                next.end_of_stream_timeout = Duration::from_secs_f64(seconds);
            }
            "overflow" => next.overflow = parse(text()?)?,
            "input_queue" => next.capacities.input = count(u32_max)? as usize,
            "stage_queue" => next.capacities.stage = count(u32_max)? as usize,
            "detect_workers" => next.capacities.detect_workers = count(64)? as usize,
            "detector" => next.detector = parse(text()?)?,
            "blobs.mode" => next.blobs.segmentation = parse(text()?)?,
            "blobs.threshold" => next.blobs.threshold = count(255)? as u8,
            "blobs.min_area" => next.blobs.min_area = count(u64::MAX)?,
            "blobs.max_area" => next.blobs.max_area = count(u64::MAX)?,
            "blobs.min_aspect" => next.blobs.min_aspect = double()? as f32,
            "blobs.max_aspect" => next.blobs.max_aspect = double()? as f32,
            "cascade.model" => next.cascade.model = text()?.to_string(),
            "cascade.label" => next.cascade.label = text()?.to_string(),
            "cascade.scale_factor" => next.cascade.params.scale_factor = double()?,
            "cascade.min_neighbors" => next.cascade.params.min_neighbors = count(1000)? as u32,
            "cascade.min_width" => next.cascade.params.min_size.0 = count(65535)? as u32,
            "cascade.min_height" => next.cascade.params.min_size.1 = count(65535)? as u32,
            "cascade.max_width" => next.cascade.params.max_size.0 = count(65535)? as u32,
            "cascade.max_height" => next.cascade.params.max_size.1 = count(65535)? as u32,
            "onnx.model" => next.onnx.model = text()?.to_string(),
            "onnx.labels" => next.onnx.labels = text()?.to_string(),
            "onnx.input_size" => next.onnx.config.input_size = count(4096)? as u32,
            "onnx.confidence" => next.onnx.config.confidence = double()? as f32,
            "onnx.iou" => next.onnx.config.iou = double()? as f32,
            "classifier.model" => next.classifier_model.model = text()?.to_string(),
            "classifier.labels" => next.classifier_model.labels = text()?.to_string(),
            "classifier.input_size" => next.classifier_model.input_size = count(4096)? as u32,
            "classifier" => next.classifier = parse(text()?)?,
            "onnx_backend" => next.onnx_runtime.backend = parse(text()?)?,
            "onnx_library" => next.onnx_runtime.library = text()?.to_string(),
            "onnx_provider" => next.onnx_runtime.provider = parse(text()?)?,
            "onnx_threads" => next.onnx_runtime.threads = count(256)? as usize,
            "max_detections" => next.max_detections = count(u32_max)? as usize,
            "max_width" => next.limits.max_width = count(u32_max)? as u32,
            "max_height" => next.limits.max_height = count(u32_max)? as u32,
            "max_bytes" => next.limits.max_bytes = count(u64::MAX)?,
            other => return Err(ConfigError::invalid(other, "no such parameter")),
        }
        next.blobs.validate()?;
        next.cascade.params.validate()?;
        let missing = match (next.detector, next.classifier) {
            (DetectorKind::Cascade, _) if next.cascade.model.is_empty() => {
                Some("detector cascade needs cascade.model (an OpenCV cascade XML file)")
            }
            (DetectorKind::Onnx, _) if next.onnx.model.is_empty() => {
                Some("detector onnx needs onnx.model (an ONNX file)")
            }
            (_, ClassifierKind::Cascade | ClassifierKind::Onnx)
                if next.classifier_model.model.is_empty() =>
            {
                Some("classifier cascade or onnx needs classifier.model")
            }
            _ => None,
        };
        if let Some(reason) = missing {
            return Err(ConfigError::invalid(name, reason));
        }
        *self = next;
        Ok(())
    }
}

/// Called after a runtime parameter changed, with the new configuration and the name.
pub type ChangeListener = Box<dyn Fn(&NodeConfig, &str) + Send + Sync>;

/// The declared parameters (they stay declared while this lives) and the current
/// configuration.
pub struct Parameters {
    /// The rclrs parameter handles, of several types.
    _handles: Vec<Box<dyn std::any::Any + Send + Sync>>,
    config: Arc<RwLock<NodeConfig>>,
    listener: Arc<OnceLock<ChangeListener>>,
}

impl Parameters {
    /// Declares every parameter on `node`, in the table's order, each value checked
    /// against the configuration of those before it.
    pub fn declare(node: &Node) -> Result<Self, ConfigError> {
        let mut params = Parameters {
            _handles: Vec::new(),
            config: Arc::new(RwLock::new(NodeConfig::defaults())),
            listener: Arc::new(OnceLock::new()),
        };
        for doc in PARAMETERS {
            params.declare_one(node, doc)?;
        }
        Ok(params)
    }

    /// The configuration now.
    pub fn config(&self) -> NodeConfig {
        self.config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Sets the function told about every accepted runtime change (once).
    pub fn on_change(&self, listener: ChangeListener) {
        let _ = self.listener.set(listener);
    }

    fn declare_one(&mut self, node: &Node, doc: &'static ParamDoc) -> Result<(), ConfigError> {
        let description = format!(
            "{}{}",
            doc.description,
            if doc.runtime {
                ""
            } else {
                " (read-only: set at start-up)"
            }
        );
        let config = Arc::clone(&self.config);
        let check = move |value: Value| {
            let mut candidate = config.read().unwrap_or_else(|e| e.into_inner()).clone();
            candidate.set(doc.name, &value).map_err(|e| e.to_string())
        };
        let declared = |e| ConfigError::invalid(doc.name, format!("{e:?}"));
        let value = match doc.kind {
            Kind::Int { value, min, max } => {
                let builder = node
                    .declare_parameter(doc.name)
                    .default(value)
                    .range(ParameterRange {
                        lower: Some(min),
                        upper: Some(max),
                        step: None,
                    })
                    .description(description)
                    .validate(move |v: &i64| check(Value::Int(*v)));
                self.keep(doc, builder, Value::Int).map_err(declared)?
            }
            Kind::Double { value, min, max } => {
                let builder = node
                    .declare_parameter(doc.name)
                    .default(value)
                    .range(ParameterRange {
                        lower: Some(min),
                        upper: Some(max),
                        step: None,
                    })
                    .description(description)
                    .validate(move |v: &f64| check(Value::Double(*v)));
                self.keep(doc, builder, Value::Double).map_err(declared)?
            }
            Kind::Choice { value, .. } | Kind::Text { value } => {
                let mut builder = node
                    .declare_parameter::<Arc<str>>(doc.name)
                    .default(value.into())
                    .description(description)
                    .validate(move |v: &Arc<str>| check(Value::Text(v.clone())));
                if let Kind::Choice { choices, .. } = doc.kind {
                    builder = builder.constraints(format!("one of: {}", choices.join(", ")));
                }
                self.keep(doc, builder, Value::Text).map_err(declared)?
            }
        };
        self.config
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .set(doc.name, &value)
    }

    /// Declares from `builder` (mandatory with an on-change hook if the parameter is
    /// runtime, read-only otherwise), keeps the handle, and returns the value.
    fn keep<T>(
        &mut self,
        doc: &'static ParamDoc,
        builder: rclrs::ParameterBuilder<'_, T>,
        wrap: fn(T) -> Value,
    ) -> Result<Value, rclrs::DeclarationError>
    where
        T: rclrs::ParameterVariant + Clone + Send + Sync + 'static,
    {
        if !doc.runtime {
            let param: ReadOnlyParameter<T> = builder.read_only()?;
            let value = wrap(param.get());
            self._handles.push(Box::new(param));
            return Ok(value);
        }
        let param: MandatoryParameter<T> = builder.mandatory()?;
        let (config, listener) = (Arc::clone(&self.config), Arc::clone(&self.listener));
        param.on_change(move |v: &T| {
            let mut current = config.write().unwrap_or_else(|e| e.into_inner());
            // Validated already; a failure here would mean a race of two changes.
            if current.set(doc.name, &wrap(v.clone())).is_ok() {
                if let Some(listener) = listener.get() {
                    listener(&current, doc.name);
                }
            }
        });
        let value = wrap(param.get());
        self._handles.push(Box::new(param));
        Ok(value)
    }
}
