//! The module's exceptions, one per party at fault as in the core's `Error`, all
//! subclasses of `rust_vision_core.Error` (itself a `ValueError`), with the messages
//! vision_node logs.

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use vision::{ConfigError, Error as CoreError};

create_exception!(
    rust_vision_core,
    Error,
    PyValueError,
    "Anything the core refuses; the message says what and why."
);
create_exception!(
    rust_vision_core,
    ParameterError,
    Error,
    "A setting with a bad value, or no such setting: the message names the setting, the value and what is allowed."
);
create_exception!(
    rust_vision_core,
    ModelError,
    Error,
    "A model file that is missing, unreadable or not a model of the expected kind."
);
create_exception!(
    rust_vision_core,
    InputError,
    Error,
    "A malformed frame; `cause` holds the short name vision_node counts it under."
);
create_exception!(
    rust_vision_core,
    UnsupportedError,
    Error,
    "A well-formed frame of an encoding or format the core does not decode."
);

/// A configuration error as the exception of its kind.
pub fn config_error(e: ConfigError) -> PyErr {
    match e {
        ConfigError::InvalidParameter { .. } => ParameterError::new_err(e.to_string()),
        ConfigError::Model { .. } => ModelError::new_err(e.to_string()),
    }
}

/// A core error (a frame's, or a model's at load) as the exception of its kind, with vision_node's message
/// (`<cause>: <error>`) and the cause as attribute `cause`.
pub fn core_error(py: Python<'_>, e: CoreError) -> PyErr {
    let (cause, message) = (e.cause(), format!("{}: {e}", e.cause()));
    let err = match e {
        CoreError::Input(_) => InputError::new_err(message),
        CoreError::Unsupported(_) => UnsupportedError::new_err(message),
        CoreError::Config(e) => return config_error(e),
        CoreError::Internal(_) => Error::new_err(message),
    };
    // Setting an attribute on a fresh exception object does not fail; were it to, the
    // message still starts with the cause.
    let _ = err.value(py).setattr("cause", cause);
    err
}

/// An input the module itself refuses before the core sees it (not an array of bytes).
pub fn input_error(message: impl Into<String>) -> PyErr {
    InputError::new_err(message.into())
}

/// Adds the exception classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Error", py.get_type::<Error>())?;
    m.add("ParameterError", py.get_type::<ParameterError>())?;
    m.add("ModelError", py.get_type::<ModelError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("UnsupportedError", py.get_type::<UnsupportedError>())?;
    Ok(())
}
