//! Errors of the core, grouped by who is at fault.

use thiserror::Error;

/// Result of the core's operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the core. The message includes the inner error's,
/// which is therefore not also its `source` (a report that prints the chain, such as
/// anyhow's `{:#}`, would say it twice).
#[derive(Debug, Error)]
pub enum Error {
    /// The sender's fault: the image is malformed.
    #[error("bad input: {0}")]
    Input(InputError),
    /// The operator's fault: a parameter or model is wrong.
    #[error("bad configuration: {0}")]
    Config(ConfigError),
    /// Well-formed, but not something this build can handle.
    #[error("unsupported: {0}")]
    Unsupported(UnsupportedError),
    /// Our fault.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<InputError> for Error {
    fn from(e: InputError) -> Self {
        Error::Input(e)
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

impl From<UnsupportedError> for Error {
    fn from(e: UnsupportedError) -> Self {
        Error::Unsupported(e)
    }
}

impl Error {
    /// A short, stable name of the cause (`data_length`, `unsupported_encoding`, ...), for
    /// counting failures and for rate-limiting their log lines per cause.
    pub fn cause(&self) -> &'static str {
        match self {
            Error::Input(e) => e.cause(),
            Error::Config(_) => "configuration",
            Error::Unsupported(UnsupportedError::Encoding { .. }) => "unsupported_encoding",
            Error::Unsupported(UnsupportedError::CompressedFormat(_)) => "unsupported_format",
            Error::Internal(_) => "internal",
        }
    }
}

/// A malformed image.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum InputError {
    #[error("image has zero size ({width}x{height})")]
    ZeroSize { width: u32, height: u32 },
    #[error("image of {width}x{height} pixels exceeds the limit of {max_width}x{max_height}")]
    TooLarge {
        width: u32,
        height: u32,
        max_width: u32,
        max_height: u32,
    },
    #[error("image needs {bytes} bytes, more than the limit of {max_bytes}")]
    TooManyBytes { bytes: u64, max_bytes: u64 },
    #[error("step {step} is less than width {width} x {bytes_per_pixel} bytes per pixel")]
    StepTooSmall {
        step: u32,
        width: u32,
        bytes_per_pixel: u32,
    },
    #[error("width {width} is odd; {encoding} packs pixels in pairs")]
    OddWidth { width: u32, encoding: &'static str },
    #[error("{format} data cannot be decoded: {reason}")]
    Corrupt {
        format: &'static str,
        reason: String,
    },
    #[error("data length {actual} does not match step {step} x height {height} = {expected}")]
    DataLength {
        actual: u64,
        expected: u64,
        step: u32,
        height: u32,
    },
}

impl InputError {
    /// See [`Error::cause`].
    pub fn cause(&self) -> &'static str {
        match self {
            InputError::ZeroSize { .. } => "zero_size",
            InputError::TooLarge { .. } | InputError::TooManyBytes { .. } => "too_large",
            InputError::StepTooSmall { .. } => "step_too_small",
            InputError::OddWidth { .. } => "odd_width",
            InputError::Corrupt { .. } => "corrupt_compressed",
            InputError::DataLength { .. } => "data_length",
        }
    }
}

/// A bad parameter value.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ConfigError {
    #[error("parameter `{name}`: {reason}")]
    InvalidParameter { name: String, reason: String },
    /// A model file that is missing, unreadable or not a model of the expected kind.
    #[error("model {path}: {reason}")]
    Model { path: String, reason: String },
}

impl ConfigError {
    /// Shorthand for [`ConfigError::InvalidParameter`].
    pub fn invalid(name: impl Into<String>, reason: impl Into<String>) -> Self {
        ConfigError::InvalidParameter {
            name: name.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`ConfigError::Model`].
    pub fn model(path: impl AsRef<std::path::Path>, reason: impl Into<String>) -> Self {
        ConfigError::Model {
            path: path.as_ref().display().to_string(),
            reason: reason.into(),
        }
    }

    /// `value` of parameter `name` is none of the accepted `names`.
    pub fn not_one_of(name: &str, value: &str, names: &[&str]) -> Self {
        Self::invalid(
            name,
            format!("{value:?} is not one of {}", names.join(", ")),
        )
    }
}

/// Input this build cannot handle.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum UnsupportedError {
    /// An encoding name the core does not decode, and the names it does.
    #[error("encoding {name:?} (supported: {supported})")]
    Encoding { name: String, supported: String },
    #[error("compressed format {0:?} (supported: jpeg, png)")]
    CompressedFormat(String),
}
