//! vision_node's parameters: the core's schema rows ([`rust_vision_core::config`]) and
//! the ROS-only ones here (QoS, transport, history depths), declared with description,
//! default and range, read into a typed [`NodeConfig`], and (for those marked runtime)
//! changed with `ros2 param set`: checked by their row and against the whole
//! configuration, refused with the reason, applied from the next frame.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, RwLock};

use rclrs::{MandatoryParameter, Node, ParameterRange, ReadOnlyParameter};

use crate::qos::{QosPolicy, Transport};
use rust_vision_core::config::{PipelineConfig, PARAMETERS as CORE_PARAMETERS};
use rust_vision_core::error::ConfigError;
use rust_vision_core::schema::{
    self, boolean, choice, choice_of, int, param, Doc, Kind, Param, Value, START_UP,
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

/// Called after a runtime parameter changed, with the new configuration and the name.
pub type ChangeListener = Box<dyn Fn(&NodeConfig, &str) + Send + Sync>;

/// The declared parameters (they stay declared while this lives) and the current
/// configuration.
pub struct Parameters {
    /// The rclrs parameter handles, of several types.
    _handles: Vec<Box<dyn std::any::Any + Send + Sync>>,
    config: Arc<RwLock<NodeConfig>>,
    listener: Arc<RwLock<Option<ChangeListener>>>,
}

impl Parameters {
    /// Declares every parameter on `node`, in the table's order, each value checked
    /// against the configuration of those before it.
    pub fn declare(node: &Node) -> Result<Self, ConfigError> {
        let mut params = Parameters {
            _handles: Vec::new(),
            config: Arc::new(RwLock::new(NodeConfig::defaults())),
            listener: Arc::default(),
        };
        for doc in parameters() {
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

    /// Sets (or, with `None`, removes) the function told about every accepted runtime
    /// change.
    pub fn on_change(&self, listener: Option<ChangeListener>) {
        *self.listener.write().unwrap_or_else(|e| e.into_inner()) = listener;
    }

    fn declare_one(&mut self, node: &Node, doc: &'static Doc) -> Result<(), ConfigError> {
        let description = format!(
            "{}{}",
            doc.description,
            if doc.runtime() {
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
        // The value given (-p, a parameters file), for a message rclrs's range check
        // would leave without it.
        let given = Rc::new(RefCell::new(None));
        let declared = |e| declaration_error(doc, e, given.borrow().as_ref());
        let value = match doc.kind {
            Kind::Int { value, min, max } => {
                let builder = ranged(node, doc, description, [value, min, max])
                    .discriminate(noting_override(&given, Value::Int))
                    .validate(move |v: &i64| check(Value::Int(*v)));
                self.keep(doc, builder, Value::Int).map_err(declared)?
            }
            Kind::Double { value, min, max } => {
                let builder = ranged(node, doc, description, [value, min, max])
                    .discriminate(noting_override(&given, Value::Double))
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
            Kind::Bool { value } => {
                let builder = node
                    .declare_parameter::<bool>(doc.name)
                    .default(value)
                    .description(description)
                    .discriminate(noting_override(&given, Value::Bool))
                    .validate(move |v: &bool| check(Value::Bool(*v)));
                self.keep(doc, builder, Value::Bool).map_err(declared)?
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
        doc: &'static Doc,
        builder: rclrs::ParameterBuilder<'_, T>,
        wrap: fn(T) -> Value,
    ) -> Result<Value, rclrs::DeclarationError>
    where
        T: rclrs::ParameterVariant + Clone + Send + Sync + 'static,
    {
        if !doc.runtime() {
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
                let listener = listener.read().unwrap_or_else(|e| e.into_inner());
                if let Some(listener) = listener.as_ref() {
                    listener(&current, doc.name);
                }
            }
        });
        let value = wrap(param.get());
        self._handles.push(Box::new(param));
        Ok(value)
    }
}

/// The builder of a number parameter with its `[default, min, max]`.
fn ranged<'a, T>(
    node: &'a Node,
    doc: &'static Doc,
    description: String,
    [value, min, max]: [T; 3],
) -> rclrs::ParameterBuilder<'a, T>
where
    T: rclrs::ParameterVariant<Range = ParameterRange<T>> + PartialOrd,
{
    node.declare_parameter(doc.name)
        .default(value)
        .range(ParameterRange {
            lower: Some(min),
            upper: Some(max),
            step: None,
        })
        .description(description)
}

/// rclrs's choice of the initial value, noting the override given in `given`.
fn noting_override<'a, T: rclrs::ParameterVariant>(
    given: &Rc<RefCell<Option<Value>>>,
    wrap: fn(T) -> Value,
) -> impl FnOnce(rclrs::AvailableValues<T>) -> Option<T> + 'a {
    let given = Rc::clone(given);
    move |available| {
        *given.borrow_mut() = available.override_value.clone().map(wrap);
        rclrs::default_initial_value_discriminator(available)
    }
}

/// A declaration refused by rclrs, as a message that names the parameter, the value
/// given (`-p`, a parameters file) where known, what was wrong with it and what is
/// allowed.
fn declaration_error(doc: &Doc, e: rclrs::DeclarationError, given: Option<&Value>) -> ConfigError {
    use rclrs::DeclarationError as E;
    let given = given.map_or("the value given".to_string(), Value::to_string);
    let reason = match e {
        // Our own check's message, which names the parameter already.
        E::InitialValueRejected(reason) => {
            let prefix = format!("parameter `{}`: ", doc.name);
            reason.strip_prefix(&prefix).unwrap_or(&reason).to_string()
        }
        E::OverrideValueTypeMismatch | E::PriorValueTypeMismatch => {
            let hint = match doc.kind {
                Kind::Double { .. } => " (write a double with a decimal point: 1.0, not 1)",
                _ => "",
            };
            format!("the value given is not {}{hint}", doc.kind.a_type_name())
        }
        E::InitialValueOutOfRange => format!("{given} is outside {}", doc.kind.range()),
        other => other.to_string(),
    };
    ConfigError::invalid(doc.name, reason)
}

#[cfg(test)]
mod tests;
