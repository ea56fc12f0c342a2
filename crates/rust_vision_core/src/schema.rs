//! `schema`: a setting as one row (name, type, default, range, runtime or start-up,
//! description, and how a value applies to a configuration), and the one place where a
//! value is checked against its row.
//!
//! Front ends derive everything from the rows: vision_node declares its ROS parameters
//! from them, `--print-defaults` prints them, and the README's table is tested against
//! them. The core's own rows are [`crate::config::PARAMETERS`].

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// One setting of configurations of type `C`.
pub struct Param<C: 'static> {
    pub doc: Doc,
    /// Stores a value that [`Kind::check`] accepted; whole-configuration checks come after.
    pub apply: fn(&mut C, &Value) -> Result<(), ConfigError>,
}

/// What a setting is, for people and for declaration: everything but how it applies.
#[derive(Debug, Clone, Copy)]
pub struct Doc {
    pub name: &'static str,
    pub kind: Kind,
    /// When a change takes effect: only at start-up, at once, or from the next frame.
    pub change: Change,
    pub description: &'static str,
}

/// When a change of a setting takes effect, which is also how a front end applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Read at start-up only; a running pipeline refuses changes.
    StartUp,
    /// A setting of the runtime itself (a queue policy, a timeout): applies at once.
    AtOnce,
    /// A setting of the stages or models: a new pipeline replaces the running one from
    /// the next frame (after loading any new model in the background).
    NextFrame,
}

impl Doc {
    /// Whether it may change while the pipeline runs.
    pub fn runtime(&self) -> bool {
        self.change != Change::StartUp
    }
}

/// A setting's type, default and allowed values.
#[derive(Debug, Clone, Copy, PartialEq)]
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
    /// One of a list of names.
    Choice {
        value: &'static str,
        choices: &'static [&'static str],
    },
    /// Free text, such as a file path.
    Text {
        value: &'static str,
    },
    Bool {
        value: bool,
    },
}

/// A setting's value, of any of the kinds; in a settings file (serde), a number or a
/// string as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Double(f64),
    Text(Arc<str>),
}

impl Value {
    /// The integer; 0 for another kind (rows apply only values their kind accepted).
    pub fn int(&self) -> i64 {
        match self {
            Value::Int(v) => *v,
            _ => 0,
        }
    }

    /// The number; 0 for text.
    pub fn double(&self) -> f64 {
        match self {
            Value::Double(v) => *v,
            Value::Int(v) => *v as f64,
            Value::Text(_) | Value::Bool(_) => 0.0,
        }
    }

    /// The truth value; false for another kind.
    pub fn bool(&self) -> bool {
        matches!(self, Value::Bool(true))
    }

    /// The text; empty for a number.
    pub fn text(&self) -> &str {
        match self {
            Value::Text(v) => v,
            _ => "",
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(v) => write!(f, "{v}"),
            Value::Int(v) => write!(f, "{v}"),
            Value::Double(v) => write!(f, "{v:?}"),
            Value::Text(v) => write!(f, "\"{v}\""),
        }
    }
}

impl Kind {
    /// The default value.
    pub fn default_value(&self) -> Value {
        match *self {
            Kind::Int { value, .. } => Value::Int(value),
            Kind::Double { value, .. } => Value::Double(value),
            Kind::Choice { value, .. } | Kind::Text { value } => Value::Text(value.into()),
            Kind::Bool { value } => Value::Bool(value),
        }
    }

    /// The type's name, as a user writes it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::Int { .. } => "integer",
            Kind::Double { .. } => "double",
            Kind::Choice { .. } | Kind::Text { .. } => "string",
            Kind::Bool { .. } => "bool",
        }
    }

    /// The type's name with its article: "an integer", "a double", "a string".
    pub fn a_type_name(&self) -> &'static str {
        match self {
            Kind::Int { .. } => "an integer",
            Kind::Double { .. } => "a double",
            Kind::Choice { .. } | Kind::Text { .. } => "a string",
            Kind::Bool { .. } => "a bool",
        }
    }

    /// The allowed values: `0..255`, `0.0..1.0`, `a, b, c`, `text` or `true, false`.
    pub fn range(&self) -> String {
        match self {
            Kind::Int { min, max, .. } => format!("{min}..{max}"),
            Kind::Double { min, max, .. } => format!("{min:?}..{max:?}"),
            Kind::Choice { choices, .. } => choices.join(", "),
            Kind::Text { .. } => "text".into(),
            Kind::Bool { .. } => "true, false".into(),
        }
    }

    /// `value` as this type where it is one: an integer where a double is expected is
    /// that number (as a settings file or Python writes `1` for `1.0`).
    pub fn coerce(&self, value: &Value) -> Value {
        match (self, value) {
            (Kind::Double { .. }, Value::Int(v)) => Value::Double(*v as f64),
            _ => value.clone(),
        }
    }

    /// Whether `value` is of this type and in range; the error names setting `name`,
    /// the value and what is allowed.
    pub fn check(&self, name: &str, value: &Value) -> Result<(), ConfigError> {
        let invalid = |reason: String| Err(ConfigError::invalid(name, reason));
        match (self, value) {
            (Kind::Int { min, max, .. }, Value::Int(v)) if !(min..=max).contains(&v) => {
                invalid(format!("{v} is outside {}", self.range()))
            }
            (Kind::Double { min, max, .. }, Value::Double(v)) if !(min..=max).contains(&v) => {
                invalid(format!("{v:?} is outside {}", self.range()))
            }
            (Kind::Choice { choices, .. }, Value::Text(v)) if !choices.contains(&&**v) => {
                invalid(format!("\"{v}\" is not one of {}", self.range()))
            }
            (Kind::Int { .. }, Value::Int(_))
            | (Kind::Double { .. }, Value::Double(_))
            | (Kind::Choice { .. } | Kind::Text { .. }, Value::Text(_))
            | (Kind::Bool { .. }, Value::Bool(_)) => Ok(()),
            (kind, value) => invalid(format!("{value} is not {}", kind.a_type_name())),
        }
    }
}

impl<C> Param<C> {
    /// Checks `value` (coerced to the row's type, see [`Kind::coerce`]) against this row
    /// and applies it to `config`; returns the value applied.
    pub fn set(&self, config: &mut C, value: &Value) -> Result<Value, ConfigError> {
        let value = self.doc.kind.coerce(value);
        self.doc.kind.check(self.doc.name, &value)?;
        (self.apply)(config, &value)?;
        Ok(value)
    }
}

/// The row of `rows` named `name`.
pub fn row<'a, C>(rows: &'a [Param<C>], name: &str) -> Option<&'a Param<C>> {
    rows.iter().find(|row| row.doc.name == name)
}

/// Checks `value` against the row of `rows` named `name` and applies it to `config`;
/// None when no row has that name.
pub fn set<C>(
    rows: &[Param<C>],
    config: &mut C,
    name: &str,
    value: &Value,
) -> Option<Result<(), ConfigError>> {
    row(rows, name).map(|row| row.set(config, value).map(drop))
}

/// `config` with every row of `rows` at its default.
pub fn defaults<C>(rows: &[Param<C>], mut config: C) -> Result<C, ConfigError> {
    for row in rows {
        row.set(&mut config, &row.doc.kind.default_value())?;
    }
    Ok(config)
}

/// Parses a choice's name (checked by its row already) into its enum.
pub fn choice<T: std::str::FromStr<Err = ConfigError>>(value: &Value) -> Result<T, ConfigError> {
    value.text().parse()
}

/// A row, written as the tables write them.
pub const fn param<C>(
    name: &'static str,
    kind: Kind,
    change: Change,
    description: &'static str,
    apply: fn(&mut C, &Value) -> Result<(), ConfigError>,
) -> Param<C> {
    Param {
        doc: Doc {
            name,
            kind,
            change,
            description,
        },
        apply,
    }
}

/// An integer setting.
pub const fn int(value: i64, min: i64, max: i64) -> Kind {
    Kind::Int { value, min, max }
}

/// A floating-point setting.
pub const fn double(value: f64, min: f64, max: f64) -> Kind {
    Kind::Double { value, min, max }
}

/// A setting chosen by name.
pub const fn choice_of(value: &'static str, choices: &'static [&'static str]) -> Kind {
    Kind::Choice { value, choices }
}

/// A true-or-false setting.
pub const fn boolean(value: bool) -> Kind {
    Kind::Bool { value }
}

/// A text setting.
pub const fn text(value: &'static str) -> Kind {
    Kind::Text { value }
}

/// A setting of the stages or models, changed while running: [`Change::NextFrame`].
pub const RUNTIME: Change = Change::NextFrame;
/// A setting of the runtime itself, changed while running: [`Change::AtOnce`].
pub const AT_ONCE: Change = Change::AtOnce;
/// A setting read at start-up only: [`Change::StartUp`].
pub const START_UP: Change = Change::StartUp;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_against_type_and_range_with_the_value_and_range_named() {
        let threshold = int(10, 0, 255);
        assert!(threshold.check("t", &Value::Int(255)).is_ok());
        let e = threshold.check("t", &Value::Int(300)).unwrap_err();
        assert_eq!(e.to_string(), "parameter `t`: 300 is outside 0..255");
        let e = threshold.check("t", &Value::Text("x".into())).unwrap_err();
        assert_eq!(e.to_string(), "parameter `t`: \"x\" is not an integer");
        let ratio = double(0.5, 0.0, 1.0);
        let e = ratio.check("r", &Value::Double(1.5)).unwrap_err();
        assert_eq!(e.to_string(), "parameter `r`: 1.5 is outside 0.0..1.0");
        let e = ratio.check("r", &Value::Double(f64::NAN)).unwrap_err();
        assert!(e.to_string().contains("NaN is outside"), "{e}");
        let mode = choice_of("a", &["a", "b"]);
        let e = mode.check("m", &Value::Text("c".into())).unwrap_err();
        assert_eq!(e.to_string(), "parameter `m`: \"c\" is not one of a, b");
        let e = mode.check("m", &Value::Int(1)).unwrap_err();
        assert_eq!(e.to_string(), "parameter `m`: 1 is not a string");
    }
}
