//! vision_node's parameters: the core's schema rows ([`rust_vision_core::config`]) and
//! the ROS-only ones here (QoS, transport, history depths), read into a typed
//! [`NodeConfig`]; declared on the node, and changed with `ros2 param set`, in
//! [`declared`].

use crate::qos::{QosPolicy, Transport};
use rust_vision_core::config::{PipelineConfig, PARAMETERS as CORE_PARAMETERS};
use rust_vision_core::error::ConfigError;
use rust_vision_core::schema::{
    self, boolean, choice, choice_of, int, param, Doc, Param, Value, START_UP,
};

/// Everything vision_node is configured with: the ROS side, and the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeConfig {
    pub qos: QosPolicy,
    pub qos_depth: u32,
    /// History depth of the detections publisher, messages.
    pub results_depth: u32,
    /// History depth of the annotated image publisher, images.
    pub annotated_depth: u32,
    pub transport: Transport,
    /// A managed (lifecycle) node: starts unconfigured, driven through `~/change_state`.
    pub managed: bool,
    /// Also publish vision_msgs/Detection2DArray.
    pub publish_vision_msgs: bool,
    pub pipeline: PipelineConfig,
}

/// The parameters only vision_node has, in the order of the README's table (they come
/// first there, then the core's).
pub const ROS_PARAMETERS: &[Param<NodeConfig>] = &[
    param(
        "qos",
        choice_of("sensor_data", QosPolicy::NAMES),
        START_UP,
        "QoS of the image subscription: sensor_data (best effort, for live cameras) or \
         reliable (every frame, for recorded data and batch work)",
        |c, v| {
            c.qos = choice(v)?;
            Ok(())
        },
    ),
    param(
        "qos_depth",
        int(5, 1, 1000),
        START_UP,
        "History depth (frames) of the image subscription; with qos reliable and overflow \
         all at start-up the history keeps all frames instead, so that backpressure reaches \
         the publisher",
        |c, v| {
            c.qos_depth = v.int() as u32;
            Ok(())
        },
    ),
    param(
        "results_depth",
        int(100, 1, 100000),
        START_UP,
        "History depth (messages) of the reliable detections publisher: how far a \
         subscriber may fall behind before it loses results (and its end-of-stream report \
         says so)",
        |c, v| {
            c.results_depth = v.int() as u32;
            Ok(())
        },
    ),
    param(
        "annotated_depth",
        int(10, 1, 1000),
        START_UP,
        "History depth (images) of the reliable annotated_image publisher; each image \
         held is width x height x 3 bytes",
        |c, v| {
            c.annotated_depth = v.int() as u32;
            Ok(())
        },
    ),
    param(
        "transport",
        choice_of("raw", Transport::NAMES),
        START_UP,
        "Input: raw (sensor_msgs/Image on `image`), compressed (sensor_msgs/CompressedImage \
         on `image/compressed`, JPEG or PNG) or both",
        |c, v| {
            c.transport = choice(v)?;
            Ok(())
        },
    ),
    param(
        "managed",
        boolean(false),
        START_UP,
        "Lifecycle: false (the node configures and activates itself at start) or true (a \
         managed node: it starts unconfigured and follows ~/change_state: configure loads \
         the models and advertises, activate subscribes, deactivate stops taking frames, \
         cleanup frees the models, shutdown finalizes)",
        |c, v| {
            c.managed = v.bool();
            Ok(())
        },
    ),
    param(
        "publish_vision_msgs",
        boolean(false),
        START_UP,
        "Also publish each result as vision_msgs/Detection2DArray on `detections_2d` (box \
         centre and size, label and score as the hypothesis, track id as id); needs a \
         vision_node built where vision_msgs is installed",
        |c, v| {
            if v.bool() && !crate::vision_msgs::AVAILABLE {
                return Err(ConfigError::invalid(
                    "publish_vision_msgs",
                    "this vision_node was built without vision_msgs: install it \
                     (ros-<distro>-vision-msgs) and build rust_vision again",
                ));
            }
            c.publish_vision_msgs = v.bool();
            Ok(())
        },
    ),
];

/// Every parameter of vision_node, in the order of the README's table.
pub fn parameters() -> impl Iterator<Item = &'static Doc> {
    let ros = ROS_PARAMETERS.iter().map(|p| &p.doc);
    ros.chain(CORE_PARAMETERS.iter().map(|p| &p.doc))
}

/// Every parameter with its default, as a ROS 2 parameters file (descriptions as
/// comments): what `vision_node --print-defaults` prints, and what
/// `config/vision_node.yaml` holds. Its key is `/**`, so that it applies whatever name
/// and namespace the node runs under (a plain `vision_node:` key misses a namespaced node).
pub fn defaults_yaml() -> String {
    let mut out = String::from(
        "# vision_node's parameters at their defaults: [range; runtime or start-up only]\n\
         /**:\n  ros__parameters:\n",
    );
    for doc in parameters() {
        let value = match doc.kind.default_value() {
            Value::Text(text) => format!("\"{text}\""),
            number => number.to_string(),
        };
        let runtime = if doc.runtime() {
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
            "    # {description} [{}; {runtime}]\n    {}: {value}\n",
            doc.kind.range(),
            doc.name
        );
    }
    out
}

impl NodeConfig {
    /// The configuration with every parameter at its default.
    pub fn defaults() -> Self {
        let blank = NodeConfig {
            qos: QosPolicy::SensorData,
            qos_depth: 0,
            results_depth: 0,
            annotated_depth: 0,
            transport: Transport::Raw,
            managed: false,
            publish_vision_msgs: false,
            pipeline: PipelineConfig::defaults(),
        };
        schema::defaults(ROS_PARAMETERS, blank).expect("every row's default is valid (tested)")
    }

    /// Sets parameter `name` to `value`, then checks the configuration as a whole; on an
    /// error the configuration is unchanged.
    pub fn set(&mut self, name: &str, value: &Value) -> Result<(), ConfigError> {
        let mut next = self.clone();
        schema::set(ROS_PARAMETERS, &mut next, name, value)
            .or_else(|| next.pipeline.apply(name, value))
            .unwrap_or_else(|| Err(ConfigError::invalid(name, "no such parameter")))?;
        next.pipeline.validate(name)?;
        *self = next;
        Ok(())
    }
}

mod declared;
pub use declared::{ChangeListener, Parameters, Restorer};

#[cfg(test)]
mod tests;
