//! ONNX models run by ONNX Runtime through `ort`, with the library loaded at run time
//! (`load-dynamic`), so that no build step downloads or links anything: from the
//! `onnx_library` setting, else from `ORT_DYLIB_PATH`, else from the `onnxruntime`
//! Python package where one is installed (its wheel ships `capi/libonnxruntime.so.*`).
//! A process loads one library once; later settings cannot change it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use ort::environment::Environment;
use ort::ep::{ExecutionProvider, ExecutionProviderDispatch, TensorRT, CUDA};
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::TensorRef;

use super::runtime::{OnnxRuntime, Provider};
use super::tensor::InputTensor;

/// The ONNX Runtime library this process loaded.
pub struct Library {
    pub path: PathBuf,
    environment: Environment,
}

/// Why no library could be loaded.
#[derive(Debug, Clone)]
pub struct LoadFailure {
    /// Whether the user named the library (`onnx_library`, `ORT_DYLIB_PATH`), rather
    /// than it being found.
    pub asked: bool,
    pub reason: String,
}

static LIBRARY: OnceLock<Result<Option<Library>, LoadFailure>> = OnceLock::new();

/// The ONNX Runtime library, loaded on first use from `setting` or where it is looked
/// for; `None` when none was asked for and none is installed.
pub fn library(setting: &str) -> Result<Option<&'static Library>, LoadFailure> {
    match LIBRARY.get_or_init(|| find_and_load(setting)) {
        Ok(library) => Ok(library.as_ref()),
        Err(failure) => Err(failure.clone()),
    }
}

fn find_and_load(setting: &str) -> Result<Option<Library>, LoadFailure> {
    let env = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty());
    let (path, source) = if !setting.is_empty() {
        (PathBuf::from(setting), "onnx_library")
    } else if let Some(path) = env {
        (PathBuf::from(path), "ORT_DYLIB_PATH")
    } else if let Some(path) = python_package_library() {
        (path, PYTHON_PACKAGE)
    } else {
        return Ok(None);
    };
    let fail = |e: String| LoadFailure {
        asked: source != PYTHON_PACKAGE,
        reason: format!("{source} {}: {e}", path.display()),
    };
    if !path.is_file() {
        return Err(fail("no such file".into()));
    }
    let environment = ort::init_from(&path)
        .map_err(|e| fail(e.to_string()))?
        .with_name("rust_vision")
        .with_telemetry(false)
        .build()
        .map_err(|e| fail(e.to_string()))?;
    Ok(Some(Library { path, environment }))
}

const PYTHON_PACKAGE: &str = "the onnxruntime Python package's library";

/// `libonnxruntime.so.*` of the `onnxruntime` package that `python3` imports, found
/// without importing it.
fn python_package_library() -> Option<PathBuf> {
    let script = "import importlib.util as u\n\
                  s = u.find_spec('onnxruntime')\n\
                  print(s.submodule_search_locations[0] if s else '')";
    let output = Command::new("python3").args(["-c", script]).output().ok()?;
    let package = String::from_utf8(output.stdout).ok()?;
    let capi = Path::new(package.trim()).join("capi");
    let mut found: Vec<PathBuf> = std::fs::read_dir(capi)
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("libonnxruntime.so") || name == "onnxruntime.dll"
        })
        .collect();
    // The most specific name (libonnxruntime.so.1.31.1) sorts last.
    found.sort();
    found.pop()
}

/// A session on one model, run by one thread at a time (`ort` runs need `&mut`); its
/// operators use `threads` threads each.
pub struct OrtModel {
    session: Mutex<Session>,
    /// Where it runs, for the log: `ONNX Runtime (CPU, <library>)`, with the
    /// reasons for any fallback.
    pub description: String,
}

impl OrtModel {
    /// Loads `path` with `library` on the provider `options` ask for.
    pub fn load(library: &Library, path: &Path, options: &OnnxRuntime) -> Result<Self, String> {
        let (wanted, fallback): (&[Provider], bool) = match options.provider {
            Provider::Cpu => (&[], false),
            Provider::Cuda => (&[Provider::Cuda], false),
            Provider::TensorRt => (&[Provider::TensorRt], false),
            Provider::Auto => (&[Provider::TensorRt, Provider::Cuda], true),
        };
        let mut skipped = Vec::new();
        for &provider in wanted {
            match session(library, path, options.threads, Some(provider)) {
                Ok(session) => return Ok(Self::new(library, session, provider, &skipped)),
                Err(reason) if fallback => skipped.push(reason),
                Err(reason) => {
                    return Err(format!(
                        "onnx_provider {}: {reason}; onnxruntime-gpu and NVIDIA's libraries \
                         bring it (or use onnx_provider cpu or auto)",
                        name(provider).to_lowercase()
                    ))
                }
            }
        }
        let session = session(library, path, options.threads, None)?;
        Ok(Self::new(library, session, Provider::Cpu, &skipped))
    }

    fn new(library: &Library, session: Session, provider: Provider, skipped: &[String]) -> Self {
        let mut description = format!(
            "ONNX Runtime ({}, {})",
            name(provider),
            library.path.display()
        );
        if !skipped.is_empty() {
            description += &format!("; auto: {}", skipped.join(", "));
        }
        OrtModel {
            session: Mutex::new(session),
            description,
        }
    }

    /// Runs the model on `input`: the shape and values of its first output.
    pub fn run(&self, input: &InputTensor) -> Result<(Vec<usize>, Vec<f32>), String> {
        let tensor = TensorRef::from_array_view((input.shape, input.data.as_slice()))
            .map_err(|e| e.to_string())?;
        let mut session = self.session.lock().unwrap_or_else(|e| e.into_inner());
        let outputs = session
            .run(ort::inputs![tensor])
            .map_err(|e| e.to_string())?;
        let (shape, values) = outputs[0]
            .try_extract_tensor::<f32>()
            .map_err(|e| format!("the first output is not f32: {e}"))?;
        let shape = shape.iter().map(|&d| d.max(0) as usize).collect();
        Ok((shape, values.to_vec()))
    }
}

fn name(provider: Provider) -> &'static str {
    match provider {
        Provider::Cpu | Provider::Auto => "CPU",
        Provider::Cuda => "CUDA",
        Provider::TensorRt => "TensorRT",
    }
}

/// A session on `path`, on `provider` (the CPU when `None`); an error naming the
/// provider when the library lacks it or it cannot start.
fn session(
    library: &Library,
    path: &Path,
    threads: usize,
    provider: Option<Provider>,
) -> Result<Session, String> {
    let dispatch: Vec<ExecutionProviderDispatch> = match provider {
        None | Some(Provider::Cpu) | Some(Provider::Auto) => Vec::new(),
        Some(Provider::Cuda) => available::<CUDA>("CUDA")?,
        Some(Provider::TensorRt) => available::<TensorRT>("TensorRT")?,
    };
    let failed = |e: String| match provider {
        Some(p) if !dispatch.is_empty() => format!("{} could not start: {e}", name(p)),
        _ => e,
    };
    let text = |e: &dyn std::fmt::Display| failed(e.to_string());
    Session::builder(&library.environment)
        .map_err(|e| text(&e))?
        .with_optimization_level(GraphOptimizationLevel::All)
        .map_err(|e| text(&e))?
        .with_intra_threads(threads)
        .map_err(|e| text(&e))?
        .with_execution_providers(&dispatch)
        .map_err(|e| text(&e))?
        .commit_from_file(path)
        .map_err(|e| text(&e))
}

/// The provider `E`, set to fail loudly, where the library was built with it.
fn available<E: ExecutionProvider + Default + Into<ExecutionProviderDispatch>>(
    what: &str,
) -> Result<Vec<ExecutionProviderDispatch>, String> {
    match E::is_available() {
        Ok(true) => Ok(vec![E::default().into().error_on_failure()]),
        _ => Err(format!("no {what} execution provider in this library")),
    }
}
