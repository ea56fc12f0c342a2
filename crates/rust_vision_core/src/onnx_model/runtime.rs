//! Which engine runs ONNX models and with what: the settings behind vision_node's
//! `onnx_backend`, `onnx_library`, `onnx_provider` and `onnx_threads`.

crate::choice! {
    /// The engine that runs ONNX models.
    pub enum Backend for "onnx_backend" {
        /// ONNX Runtime where its library is found, else tract.
        Auto = "auto",
        /// tract: pure Rust, nothing to install, slower on large models.
        Tract = "tract",
        /// ONNX Runtime, loaded at run time; an error where it cannot be loaded.
        OnnxRuntime = "onnxruntime",
    }
}

crate::choice! {
    /// Where ONNX Runtime runs a model.
    pub enum Provider for "onnx_provider" {
        Cpu = "cpu",
        Cuda = "cuda",
        TensorRt = "tensorrt",
        /// TensorRT, else CUDA, else the CPU, whichever the library has and can start.
        Auto = "auto",
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
