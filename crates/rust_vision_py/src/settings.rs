//! Settings between Python and the core's schema: Python values as schema values, the
//! rows as `PARAMETERS`, and settings files read into (name, value) pairs.

use std::path::Path;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList};
use serde_yaml::Value as Yaml;

use vision::config::PARAMETERS;
use vision::schema::{self, Kind, Value};

use crate::errors::ParameterError;

/// Settings in the order given, as (name, value).
pub type Settings = Vec<(String, Value)>;

fn parameter_error(name: &str, reason: impl std::fmt::Display) -> PyErr {
    ParameterError::new_err(format!("parameter `{name}`: {reason}"))
}

/// A Python value as a setting value: bool, int, float or str (the row checks the rest).
pub fn to_value(name: &str, value: &Bound<'_, PyAny>) -> PyResult<Value> {
    // Before int: a Python bool is an int.
    if value.is_instance_of::<PyBool>() {
        return Ok(Value::Bool(value.extract::<bool>()?));
    }
    if let Ok(v) = value.extract::<i64>() {
        return Ok(Value::Int(v));
    }
    if let Ok(v) = value.extract::<f64>() {
        return Ok(Value::Double(v));
    }
    match value.extract::<String>() {
        Ok(v) => Ok(Value::Text(v.into())),
        Err(_) => Err(parameter_error(
            name,
            "expected a bool, an int, a float or a str",
        )),
    }
}

/// A setting value as a Python object.
pub fn from_value<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Bool(v) => v.into_pyobject(py)?.to_owned().into_any(),
        Value::Int(v) => v.into_pyobject(py)?.into_any(),
        Value::Double(v) => v.into_pyobject(py)?.into_any(),
        Value::Text(v) => (&**v).into_pyobject(py)?.into_any(),
    })
}

/// The settings of a dict, in its order.
pub fn from_dict(dict: &Bound<'_, PyDict>) -> PyResult<Settings> {
    dict.iter()
        .map(|(name, value)| {
            let name: String = name.extract()?;
            let value = to_value(&name, &value)?;
            Ok((name, value))
        })
        .collect()
}

/// The settings of a YAML (or JSON) file: a map of names to values, nested maps
/// spelling dotted names (`blobs: {threshold: 40}` is `blobs.threshold`), or a ROS
/// parameters file (`<node>: {ros__parameters: {...}}`, such as config/vision_node.yaml).
/// Of a ROS parameters file, the names the core does not have (vision_node's QoS and
/// transport) are returned apart, as the front end's; elsewhere they are errors.
pub fn from_file(path: &Path) -> PyResult<(Settings, Vec<String>)> {
    let file_error = |e: &dyn std::fmt::Display| {
        crate::errors::Error::new_err(format!("settings file {}: {e}", path.display()))
    };
    let text = std::fs::read_to_string(path).map_err(|e| file_error(&e))?;
    let yaml: Yaml = serde_yaml::from_str(&text).map_err(|e| file_error(&e))?;
    let (yaml, ros) = match ros_parameters(&yaml) {
        Some(inner) => (inner, true),
        None => (&yaml, false),
    };
    let mut settings = Settings::new();
    flatten("", yaml, &mut settings).map_err(|e| file_error(&e))?;
    if !ros {
        return Ok((settings, Vec::new()));
    }
    let (core, other) = settings
        .into_iter()
        .partition(|(name, _)| schema::row(PARAMETERS, name).is_some());
    Ok((core, other.into_iter().map(|(name, _)| name).collect()))
}

/// The `ros__parameters` map of the first node of a ROS parameters file.
fn ros_parameters(yaml: &Yaml) -> Option<&Yaml> {
    yaml.as_mapping()?
        .values()
        .find_map(|node| node.get("ros__parameters"))
}

/// Appends the leaves of `yaml` under `prefix` to `out`.
fn flatten(prefix: &str, yaml: &Yaml, out: &mut Settings) -> Result<(), String> {
    let value = match yaml {
        Yaml::Mapping(map) => {
            for (key, inner) in map {
                let key = key
                    .as_str()
                    .ok_or_else(|| format!("{key:?} is not a name"))?;
                let name = if prefix.is_empty() {
                    key.to_string()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&name, inner, out)?;
            }
            return Ok(());
        }
        Yaml::Number(n) => match n.as_i64() {
            Some(v) => Value::Int(v),
            None => Value::Double(n.as_f64().unwrap_or(f64::NAN)),
        },
        Yaml::String(s) => Value::Text(s.as_str().into()),
        Yaml::Bool(b) => Value::Bool(*b),
        _ => return Err(format!("`{prefix}` is not a bool, a number or a string")),
    };
    out.push((prefix.to_string(), value));
    Ok(())
}

/// The core's settings, one dict per schema row: name, type, default, range (min and
/// max, or choices), runtime, description.
pub fn parameters(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    let rows = PyList::empty(py);
    for row in PARAMETERS {
        let doc = &row.doc;
        let d = PyDict::new(py);
        d.set_item("name", doc.name)?;
        d.set_item("type", doc.kind.type_name())?;
        d.set_item("default", from_value(py, &doc.kind.default_value())?)?;
        match doc.kind {
            Kind::Int { min, max, .. } => {
                d.set_item("min", min)?;
                d.set_item("max", max)?;
            }
            Kind::Double { min, max, .. } => {
                d.set_item("min", min)?;
                d.set_item("max", max)?;
            }
            Kind::Choice { choices, .. } => d.set_item("choices", choices.to_vec())?,
            Kind::Text { .. } | Kind::Bool { .. } => {}
        }
        d.set_item("runtime", doc.runtime())?;
        d.set_item("description", doc.description)?;
        rows.append(d)?;
    }
    Ok(rows)
}
