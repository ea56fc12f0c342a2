//! Which engine runs ONNX models and with what: the settings behind vision_node's
//! `onnx_backend`, `onnx_library`, `onnx_provider` and `onnx_threads`.

use std::str::FromStr;

use crate::error::ConfigError;

/// The engine that runs ONNX models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// ONNX Runtime where its library is found, else tract.
    Auto,
    /// tract: pure Rust, nothing to install, slower on large models.
    Tract,
    /// ONNX Runtime, loaded at run time; an error where it cannot be loaded.
    OnnxRuntime,
}

impl Backend {
    pub const NAMES: &'static [&'static str] = &["auto", "tract", "onnxruntime"];
}

impl FromStr for Backend {
    type Err = ConfigError;

    fn from_str(name: &str) -> Result<Self, ConfigError> {
        match name {
            "auto" => Ok(Backend::Auto),
            "tract" => Ok(Backend::Tract),
            "onnxruntime" => Ok(Backend::OnnxRuntime),
            other => Err(ConfigError::not_one_of("onnx_backend", other, Self::NAMES)),
        }
    }
}

/// Where ONNX Runtime runs a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Cpu,
    Cuda,
    TensorRt,
    /// TensorRT, else CUDA, else the CPU, whichever the library has and can start.
    Auto,
}

impl Provider {
    pub const NAMES: &'static [&'static str] = &["cpu", "cuda", "tensorrt", "auto"];
}

impl FromStr for Provider {
    type Err = ConfigError;

    fn from_str(name: &str) -> Result<Self, ConfigError> {
        match name {
            "cpu" => Ok(Provider::Cpu),
            "cuda" => Ok(Provider::Cuda),
            "tensorrt" => Ok(Provider::TensorRt),
            "auto" => Ok(Provider::Auto),
            other => Err(ConfigError::not_one_of("onnx_provider", other, Self::NAMES)),
        }
    }
}

/// How ONNX models are run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnnxRuntime {
    pub backend: Backend,
    /// libonnxruntime to load; empty to look for one (see [`super::ort_backend`]).
    pub library: String,
    pub provider: Provider,
    /// ONNX Runtime's threads within an operator; 0 for one per core.
    pub threads: usize,
}

impl Default for OnnxRuntime {
    fn default() -> Self {
        OnnxRuntime {
            backend: Backend::Auto,
            library: String::new(),
            provider: Provider::Cpu,
            threads: 0,
        }
    }
}
