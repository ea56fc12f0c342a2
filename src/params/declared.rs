//! vision_node's parameters as declared on the node: each row declared with its
//! description, default and range; a runtime change checked against the whole
//! configuration, refused with the reason or applied; and values put back when the
//! runtime could not apply them.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, RwLock, TryLockError};

use rclrs::{MandatoryParameter, Node, ParameterRange, ReadOnlyParameter};

use super::{parameters, NodeConfig};
use rust_vision_core::error::ConfigError;
use rust_vision_core::runtime::Revert;
use rust_vision_core::schema::{Doc, Kind, Value};

/// Called after a runtime parameter changed, with the new configuration and the name.
pub type ChangeListener = Box<dyn Fn(&NodeConfig, &str) + Send + Sync>;

/// The declared parameters (they stay declared while this lives) and the current
/// configuration.
pub struct Parameters {
    /// The rclrs handles of the read-only parameters, of several types (the runtime
    /// ones are in `restorer`).
    _handles: Vec<Box<dyn std::any::Any + Send + Sync>>,
    config: Arc<RwLock<NodeConfig>>,
    listener: Arc<RwLock<Option<ChangeListener>>>,
    restorer: Restorer,
}

/// Why a change is refused while [`Restorer::restore`] runs.
const UNDOING: &str = "vision_node is setting back a change it could not apply (see its log); \
                       set the parameter again";

/// Sets one runtime parameter through its rclrs handle.
type Setter = Box<dyn Fn(&Value) -> Result<(), rclrs::ParameterValueError> + Send + Sync>;

/// Puts runtime parameters back to the values that run, after a change the runtime could
/// not apply (a model that did not load): otherwise the failed value would stay in the
/// configuration, `ros2 param get` would show it, and every later change would fail on it.
#[derive(Clone)]
pub struct Restorer {
    config: Arc<RwLock<NodeConfig>>,
    setters: Arc<HashMap<&'static str, Setter>>,
}

thread_local! {
    /// Set while [`Restorer::restore`] runs on this thread: the values it sets are the
    /// running configuration's, so the checks and the change hook let them through.
    static RESTORING: Cell<bool> = const { Cell::new(false) };
}

/// [`RESTORING`] while it lives, whatever happens.
struct Restoring;

impl Restoring {
    fn start() -> Self {
        RESTORING.set(true);
        Restoring
    }
}

impl Drop for Restoring {
    fn drop(&mut self) {
        RESTORING.set(false);
    }
}

impl Restorer {
    /// Puts back the settings of `reverts` that still have the value that failed (a later
    /// change owns the others): in the configuration, then in the parameters, all at once
    /// and unchecked (one at a time, a pair such as `detector` and its model could be
    /// refused half-way). The configuration stays locked meanwhile, so that no change
    /// comes between (its check is refused meanwhile, saying so). Says which could not be.
    pub fn restore(&self, reverts: &[Revert]) -> Result<(), String> {
        let mut config = self.config.write().unwrap_or_else(|e| e.into_inner());
        let due: Vec<&Revert> = reverts
            .iter()
            .filter(|r| config.pipeline.value(r.name) == Some(&r.failed))
            .collect();
        for revert in &due {
            let set = config.pipeline.set(revert.name, &revert.running);
            set.map_err(|e| e.to_string())?;
        }
        let _restoring = Restoring::start();
        let failed: Vec<String> = due
            .iter()
            .filter_map(|r| {
                let set = self.setters.get(r.name)?;
                set(&r.running).err().map(|e| format!("{}: {e}", r.name))
            })
            .collect();
        if failed.is_empty() {
            Ok(())
        } else {
            Err(failed.join("; "))
        }
    }
}

/// The rclrs types of the schema's kinds, to and from a schema [`Value`].
trait Variant: rclrs::ParameterVariant + Clone + Send + Sync + 'static {
    fn wrap(self) -> Value;
    fn unwrap(value: &Value) -> Self;
}

impl Variant for i64 {
    fn wrap(self) -> Value {
        Value::Int(self)
    }
    fn unwrap(value: &Value) -> Self {
        value.int()
    }
}

impl Variant for f64 {
    fn wrap(self) -> Value {
        Value::Double(self)
    }
    fn unwrap(value: &Value) -> Self {
        value.double()
    }
}

impl Variant for bool {
    fn wrap(self) -> Value {
        Value::Bool(self)
    }
    fn unwrap(value: &Value) -> Self {
        value.bool()
    }
}

impl Variant for Arc<str> {
    fn wrap(self) -> Value {
        Value::Text(self)
    }
    fn unwrap(value: &Value) -> Self {
        value.text().into()
    }
}

impl Parameters {
    /// Declares every parameter on `node`, in the table's order, each value checked
    /// against the configuration of those before it.
    pub fn declare(node: &Node) -> Result<Self, ConfigError> {
        let config = Arc::new(RwLock::new(NodeConfig::defaults()));
        let mut params = Parameters {
            _handles: Vec::new(),
            config: Arc::clone(&config),
            listener: Arc::default(),
            restorer: Restorer {
                config,
                setters: Arc::default(),
            },
        };
        let mut setters = HashMap::new();
        for doc in parameters() {
            params.declare_one(node, doc, &mut setters)?;
        }
        params.restorer.setters = Arc::new(setters);
        Ok(params)
    }

    /// What puts runtime parameters back to the values that run.
    pub fn restorer(&self) -> Restorer {
        self.restorer.clone()
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

    fn declare_one(
        &mut self,
        node: &Node,
        doc: &'static Doc,
        setters: &mut HashMap<&'static str, Setter>,
    ) -> Result<(), ConfigError> {
        let description = format!(
            "{}{}",
            doc.description,
            if doc.runtime() {
                ""
            } else {
                " (read-only: set at start-up)"
            }
        );
        let (config, listener) = (Arc::clone(&self.config), Arc::clone(&self.listener));
        let check = move |value: Value| {
            if RESTORING.get() {
                return Ok(());
            }
            let current = match config.try_read() {
                Ok(current) => current.clone(),
                Err(TryLockError::Poisoned(e)) => e.into_inner().clone(),
                Err(TryLockError::WouldBlock) => return Err(UNDOING.to_string()),
            };
            let mut candidate = current.clone();
            candidate.set(doc.name, &value).map_err(|e| e.to_string())?;
            // While a pipeline runs (someone listens), a change's new files are checked
            // with it; otherwise loading them checks them (at start-up, at configure).
            if listener.read().unwrap_or_else(|e| e.into_inner()).is_some() {
                let files = candidate.pipeline.check_new_files(&current.pipeline);
                files.map_err(|e| e.to_string())?;
            }
            Ok(())
        };
        // The value given (-p, a parameters file), for a message rclrs's range check
        // would leave without it.
        let given = Rc::new(RefCell::new(None));
        let declared = |e| declaration_error(doc, e, given.borrow().as_ref());
        let value = match doc.kind {
            Kind::Int { value, min, max } => {
                let builder = ranged(node, doc, description, [value, min, max])
                    .discriminate(noting_override(&given));
                self.keep(doc, builder, check, setters).map_err(declared)?
            }
            Kind::Double { value, min, max } => {
                let builder = ranged(node, doc, description, [value, min, max])
                    .discriminate(noting_override(&given));
                self.keep(doc, builder, check, setters).map_err(declared)?
            }
            Kind::Choice { value, .. } | Kind::Text { value } => {
                let mut builder = node
                    .declare_parameter::<Arc<str>>(doc.name)
                    .default(value.into())
                    .description(description);
                if let Kind::Choice { choices, .. } = doc.kind {
                    builder = builder.constraints(format!("one of: {}", choices.join(", ")));
                }
                self.keep(doc, builder, check, setters).map_err(declared)?
            }
            Kind::Bool { value } => {
                let builder = node
                    .declare_parameter::<bool>(doc.name)
                    .default(value)
                    .description(description)
                    .discriminate(noting_override(&given));
                self.keep(doc, builder, check, setters).map_err(declared)?
            }
        };
        self.config
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .set(doc.name, &value)
    }

    /// Declares from `builder`, each value checked by `check` (mandatory with an
    /// on-change hook if the parameter is runtime, read-only otherwise), keeps the handle
    /// (a runtime one in its setter), and returns the value.
    fn keep<T: Variant>(
        &mut self,
        doc: &'static Doc,
        builder: rclrs::ParameterBuilder<'_, T>,
        check: impl Fn(Value) -> Result<(), String> + Send + Sync + 'static,
        setters: &mut HashMap<&'static str, Setter>,
    ) -> Result<Value, rclrs::DeclarationError> {
        let builder = builder.validate(move |v: &T| check(v.clone().wrap()));
        if !doc.runtime() {
            let param: ReadOnlyParameter<T> = builder.read_only()?;
            let value = param.get().wrap();
            self._handles.push(Box::new(param));
            return Ok(value);
        }
        let param: MandatoryParameter<T> = builder.mandatory()?;
        let (config, listener) = (Arc::clone(&self.config), Arc::clone(&self.listener));
        param.on_change(move |v: &T| {
            if RESTORING.get() {
                return; // In the configuration already, and what runs.
            }
            let changed = {
                let mut current = config.write().unwrap_or_else(|e| e.into_inner());
                // Validated already; a failure here would mean a race of two changes.
                let set = current.set(doc.name, &v.clone().wrap());
                set.is_ok().then(|| current.clone())
            };
            // Told without the configuration locked: a change that fails at once puts
            // settings back (Restorer::restore) before the listener returns.
            let listener = listener.read().unwrap_or_else(|e| e.into_inner());
            if let (Some(current), Some(listener)) = (changed, listener.as_ref()) {
                listener(&current, doc.name);
            }
        });
        let value = param.get().wrap();
        setters.insert(doc.name, Box::new(move |v| param.set(T::unwrap(v))));
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
fn noting_override<'a, T: Variant>(
    given: &Rc<RefCell<Option<Value>>>,
) -> impl FnOnce(rclrs::AvailableValues<T>) -> Option<T> + 'a {
    let given = Rc::clone(given);
    move |available| {
        *given.borrow_mut() = available.override_value.clone().map(T::wrap);
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
