//! vision_node's parameters: declared with description, default and range, and read once
//! into a typed [`NodeConfig`].
//!
//! They are read-only for now: each is read at start-up (`--ros-args -p name:=value` or a
//! params file) and a `ros2 param set` is refused, rather than accepted and ignored.

use std::str::FromStr;
use std::sync::Arc;

use rclrs::{Node, ParameterRange, ReadOnlyParameter};

use crate::detect::blobs::{BlobsConfig, Segmentation};
use crate::detect::DetectorKind;
use crate::error::ConfigError;
use crate::frame::Limits;
use crate::ros::qos::QosPolicy;

/// Everything vision_node is configured with.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeConfig {
    pub qos: QosPolicy,
    pub qos_depth: u32,
    pub detector: DetectorKind,
    pub blobs: BlobsConfig,
    pub max_detections: usize,
    pub limits: Limits,
}

/// One parameter as documented: name, type, default, range and description.
#[derive(Debug, Clone, Copy)]
pub struct ParamDoc {
    pub name: &'static str,
    pub kind: Kind,
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
}

/// Every parameter of vision_node, in the order of the README's table.
pub const PARAMETERS: &[ParamDoc] = &[
    ParamDoc {
        name: "qos",
        kind: Kind::Choice {
            value: "sensor_data",
            choices: QosPolicy::NAMES,
        },
        description: "QoS of the image subscription: sensor_data (best effort, for live \
                      cameras) or reliable (every frame, for recorded data and batch work)",
    },
    ParamDoc {
        name: "qos_depth",
        kind: Kind::Int {
            value: 5,
            min: 1,
            max: 1000,
        },
        description: "History depth (frames) of the image subscription",
    },
    ParamDoc {
        name: "detector",
        kind: Kind::Choice {
            value: "blobs",
            choices: DetectorKind::NAMES,
        },
        description: "First-stage detector",
    },
    ParamDoc {
        name: "blobs.mode",
        kind: Kind::Choice {
            value: "chroma",
            choices: Segmentation::NAMES,
        },
        description: "blobs: foreground pixels are colourful (chroma >= threshold), bright \
                      (luma >= threshold) or dark (luma < threshold)",
    },
    ParamDoc {
        name: "blobs.threshold",
        kind: Kind::Int {
            value: 60,
            min: 0,
            max: 255,
        },
        description: "blobs: threshold of the segmentation measure (0..255)",
    },
    ParamDoc {
        name: "blobs.min_area",
        kind: Kind::Int {
            value: 100,
            min: 1,
            max: 1 << 40,
        },
        description: "blobs: smallest blob reported, pixels",
    },
    ParamDoc {
        name: "blobs.max_area",
        kind: Kind::Int {
            value: 0,
            min: 0,
            max: 1 << 40,
        },
        description: "blobs: largest blob reported, pixels; 0 for no limit",
    },
    ParamDoc {
        name: "blobs.min_aspect",
        kind: Kind::Double {
            value: 0.1,
            min: 0.001,
            max: 1000.0,
        },
        description: "blobs: smallest box aspect ratio (width / height) reported",
    },
    ParamDoc {
        name: "blobs.max_aspect",
        kind: Kind::Double {
            value: 10.0,
            min: 0.001,
            max: 1000.0,
        },
        description: "blobs: largest box aspect ratio (width / height) reported",
    },
    ParamDoc {
        name: "max_detections",
        kind: Kind::Int {
            value: 100,
            min: 1,
            max: 10000,
        },
        description: "Most detections published per frame (the detector's first ones)",
    },
    ParamDoc {
        name: "max_width",
        kind: Kind::Int {
            value: 8192,
            min: 1,
            max: 65535,
        },
        description: "Widest image accepted, pixels; wider ones are refused unread",
    },
    ParamDoc {
        name: "max_height",
        kind: Kind::Int {
            value: 8192,
            min: 1,
            max: 65535,
        },
        description: "Tallest image accepted, pixels; taller ones are refused unread",
    },
    ParamDoc {
        name: "max_bytes",
        kind: Kind::Int {
            value: 256 << 20,
            min: 1,
            max: 1 << 40,
        },
        description: "Largest image accepted, bytes (received data and decoded RGB each)",
    },
];

/// The declared parameters; they stay declared while this lives.
pub struct Parameters {
    ints: Vec<ReadOnlyParameter<i64>>,
    doubles: Vec<ReadOnlyParameter<f64>>,
    choices: Vec<ReadOnlyParameter<Arc<str>>>,
    config: NodeConfig,
}

impl Parameters {
    /// Declares every parameter on `node` and reads the configuration.
    pub fn declare(node: &Node) -> Result<Self, ConfigError> {
        let mut params = Parameters {
            ints: Vec::new(),
            doubles: Vec::new(),
            choices: Vec::new(),
            config: NodeConfig {
                qos: QosPolicy::SensorData,
                qos_depth: 0,
                detector: DetectorKind::Blobs,
                blobs: BlobsConfig::default(),
                max_detections: 0,
                limits: Limits::default(),
            },
        };
        for doc in PARAMETERS {
            let declared = |e| ConfigError::invalid(doc.name, format!("{e:?}"));
            let builder_description = format!("{} (default {})", doc.description, doc.kind);
            match doc.kind {
                Kind::Int { value, min, max } => params.ints.push(
                    node.declare_parameter(doc.name)
                        .default(value)
                        .range(ParameterRange {
                            lower: Some(min),
                            upper: Some(max),
                            step: None,
                        })
                        .description(builder_description)
                        .read_only()
                        .map_err(declared)?,
                ),
                Kind::Double { value, min, max } => params.doubles.push(
                    node.declare_parameter(doc.name)
                        .default(value)
                        .range(ParameterRange {
                            lower: Some(min),
                            upper: Some(max),
                            step: None,
                        })
                        .description(builder_description)
                        .read_only()
                        .map_err(declared)?,
                ),
                Kind::Choice { value, choices } => params.choices.push(
                    node.declare_parameter::<Arc<str>>(doc.name)
                        .default(value.into())
                        .description(builder_description)
                        .constraints(format!("one of: {}", choices.join(", ")))
                        .validate(move |v: &Arc<str>| {
                            if choices.contains(&&**v) {
                                Ok(())
                            } else {
                                Err(format!("{v:?} is not one of {}", choices.join(", ")))
                            }
                        })
                        .read_only()
                        .map_err(declared)?,
                ),
            }
        }
        params.config = params.read()?;
        Ok(params)
    }

    /// The configuration read at declaration.
    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    fn int(&self, name: &str) -> i64 {
        self.index(name, |d| matches!(d, Kind::Int { .. }))
            .map(|i| self.ints[i].get())
            .expect("declared int parameter")
    }

    fn double(&self, name: &str) -> f64 {
        self.index(name, |d| matches!(d, Kind::Double { .. }))
            .map(|i| self.doubles[i].get())
            .expect("declared double parameter")
    }

    fn choice<T: FromStr<Err = ConfigError>>(&self, name: &str) -> Result<T, ConfigError> {
        let i = self
            .index(name, |d| matches!(d, Kind::Choice { .. }))
            .expect("declared choice parameter");
        self.choices[i].get().parse()
    }

    /// Position of `name` among the parameters of its kind.
    fn index(&self, name: &str, kind: impl Fn(&Kind) -> bool) -> Option<usize> {
        PARAMETERS
            .iter()
            .filter(|d| kind(&d.kind))
            .position(|d| d.name == name)
    }

    fn read(&self) -> Result<NodeConfig, ConfigError> {
        // Ranges are enforced by rclrs at declaration, so these conversions cannot fail.
        let narrow = |name: &str| self.int(name).clamp(0, u32::MAX.into()) as u32;
        let blobs = BlobsConfig {
            segmentation: self.choice::<Segmentation>("blobs.mode")?,
            threshold: narrow("blobs.threshold").min(255) as u8,
            min_area: self.int("blobs.min_area") as u64,
            max_area: self.int("blobs.max_area") as u64,
            min_aspect: self.double("blobs.min_aspect") as f32,
            max_aspect: self.double("blobs.max_aspect") as f32,
        };
        blobs.validate()?;
        Ok(NodeConfig {
            qos: self.choice("qos")?,
            qos_depth: narrow("qos_depth"),
            detector: self.choice("detector")?,
            blobs,
            max_detections: narrow("max_detections") as usize,
            limits: Limits {
                max_width: narrow("max_width"),
                max_height: narrow("max_height"),
                max_bytes: self.int("max_bytes") as u64,
            },
        })
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kind::Int { value, .. } => write!(f, "{value}"),
            Kind::Double { value, .. } => write!(f, "{value}"),
            Kind::Choice { value, .. } => write!(f, "{value}"),
        }
    }
}
