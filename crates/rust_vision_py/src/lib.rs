//! `rust_vision_core` for Python: the core's pipeline in-process (the native-handler
//! pattern: Python calls it, no Python runs in the hot path, the GIL is released while
//! Rust works), configured by the same schema rows as vision_node's parameters.
//!
//! ```python
//! import numpy as np, rust_vision_core as rv
//! pipeline = rv.Pipeline({"detector": "blobs", "blobs.min_area": 50})  # or a YAML file
//! for d in pipeline.process(np.zeros((480, 640, 3), np.uint8)): print(d["label"], d["box"])
//! ```
//!
//! Errors raise the exceptions of [`errors`] with the core's messages (the setting, the
//! value and what is allowed; a frame's cause), the ones vision_node logs.

mod errors;
mod settings;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use vision::config::PipelineConfig;
use vision::decode::Encoding;
use vision::frame::{CompressedImage, Input, RawImage};
use vision::models::ModelCache;
use vision::pipeline::FrameResult;
use vision::track::Tracking;

use errors::{config_error, core_error, input_error};
use settings::{from_value, to_value, Settings};

/// decode -> detect -> classify on one frame at a time, configured like vision_node.
#[pyclass(module = "rust_vision_core")]
struct Pipeline {
    config: PipelineConfig,
    models: ModelCache,
    pipeline: Arc<vision::Pipeline>,
    /// The tracks across calls (setting `tracker`), in the order of the calls.
    tracking: Mutex<Tracking>,
    /// Names of a ROS parameters file that are the front end's, not the core's.
    #[pyo3(get)]
    ignored: Vec<String>,
}

/// The core's configuration of `settings`, applied in order over the defaults.
fn configure(settings: &Settings) -> PyResult<PipelineConfig> {
    let pairs = settings.iter().map(|(name, v)| (name.as_str(), v.clone()));
    PipelineConfig::from_settings(pairs).map_err(config_error)
}

impl Pipeline {
    fn run(&self, py: Python<'_>, input: Input) -> PyResult<Py<PyList>> {
        let pipeline = Arc::clone(&self.pipeline);
        let mut result = py
            .detach(move || pipeline.process(input))
            .map_err(|e| core_error(py, e))?;
        let mut tracking = self.tracking.lock().unwrap_or_else(|e| e.into_inner());
        tracking.update(self.pipeline.tracker.as_ref(), &mut result.detections);
        detections(py, &result)
    }
}

#[pymethods]
impl Pipeline {
    /// A pipeline with the core's defaults and then `config` applied: a dict of setting
    /// names to values, or the path of a YAML file of them (see `settings::from_file`).
    /// Each value is checked by its row, then the whole against itself.
    #[new]
    #[pyo3(signature = (config = None))]
    fn new(py: Python<'_>, config: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let (settings, ignored) = match config {
            None => (Settings::new(), Vec::new()),
            Some(c) => match c.cast::<PyDict>() {
                Ok(dict) => (settings::from_dict(dict)?, Vec::new()),
                Err(_) => settings::from_file(&c.extract::<PathBuf>()?)?,
            },
        };
        let config = configure(&settings)?;
        let models = ModelCache::new(config.onnx_runtime.clone());
        let pipeline = models.pipeline(&config).map_err(|e| core_error(py, e))?;
        Ok(Pipeline {
            config,
            models,
            pipeline: Arc::new(pipeline),
            tracking: Mutex::default(),
            ignored,
        })
    }

    /// Changes one setting (loading a model if it names a new one); on an error the
    /// pipeline is unchanged.
    fn set(&mut self, py: Python<'_>, name: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut config = self.config.clone();
        config
            .set(name, &to_value(name, value)?)
            .and_then(|()| config.validate(name))
            .map_err(config_error)?;
        let pipeline = self
            .models
            .pipeline(&config)
            .map_err(|e| core_error(py, e))?;
        self.pipeline = Arc::new(pipeline);
        self.config = config;
        self.models.keep_only(&self.config);
        Ok(())
    }

    /// Every setting and its value now, name -> value.
    #[getter]
    fn settings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        for (name, value) in self.config.settings() {
            out.set_item(name, from_value(py, value)?)?;
        }
        Ok(out)
    }

    /// Detections in a raw image in `encoding` (bgr8 unless said, as OpenCV gives).
    /// Either a C-contiguous uint8 array (height x width x channels, or height x width),
    /// or any bytes-like object with `width` and `height` given (and `step`, bytes per
    /// row, when rows are padded), as in a sensor_msgs/Image.
    #[pyo3(signature = (image, encoding = "bgr8", *, width = None, height = None, step = None))]
    fn process(
        &self,
        py: Python<'_>,
        image: &Bound<'_, PyAny>,
        encoding: &str,
        width: Option<u32>,
        height: Option<u32>,
        step: Option<u32>,
    ) -> PyResult<Py<PyList>> {
        let buffer = PyBuffer::<u8>::get(image)
            .map_err(|e| input_error(format!("expected an array of uint8 or bytes: {e}")))?;
        let (width, height) = match (width, height) {
            (Some(w), Some(h)) => (w, h),
            (None, None) => array_size(&buffer)?,
            _ => return Err(input_error("give both width and height, or neither")),
        };
        let data = buffer.to_vec(py)?;
        let step = match step {
            Some(step) => step,
            None => u32::try_from(data.len() / height.max(1) as usize).unwrap_or(u32::MAX),
        };
        let raw = RawImage {
            width,
            height,
            step,
            encoding: encoding.to_string(),
            is_bigendian: false,
            data: data.into(),
        };
        self.run(py, Input::Raw(raw))
    }

    /// Detections in a compressed image (JPEG or PNG bytes), as in a
    /// sensor_msgs/CompressedImage.
    #[pyo3(signature = (data, format = "jpeg"))]
    fn process_compressed(
        &self,
        py: Python<'_>,
        data: Vec<u8>,
        format: &str,
    ) -> PyResult<Py<PyList>> {
        let compressed = CompressedImage {
            format: format.to_string(),
            data,
        };
        self.run(py, Input::Compressed(compressed))
    }
}

/// Width and height of a height x width (x channels) C-contiguous array.
fn array_size(buffer: &PyBuffer<u8>) -> PyResult<(u32, u32)> {
    let shape = buffer.shape();
    if !buffer.is_c_contiguous() || !(2..=3).contains(&shape.len()) {
        return Err(input_error(
            "expected a C-contiguous uint8 array of height x width (x channels), \
             or bytes with width and height",
        ));
    }
    let size = |n: usize| u32::try_from(n).map_err(|_| input_error(format!("{n} is too large")));
    Ok((size(shape[1])?, size(shape[0])?))
}

/// One dict per detection: box (x, y, width, height), class_id, label, score,
/// objectness, classification (label, score) or None, and track_id (0 untracked).
fn detections(py: Python<'_>, result: &FrameResult) -> PyResult<Py<PyList>> {
    let out = PyList::empty(py);
    for d in &result.detections {
        let item = PyDict::new(py);
        let b = &d.bbox;
        item.set_item("box", (b.x, b.y, b.width, b.height))?;
        item.set_item("class_id", d.class_id)?;
        item.set_item("label", &d.label)?;
        item.set_item("score", d.score)?;
        item.set_item("objectness", d.objectness)?;
        let classification = d
            .classification
            .as_ref()
            .map(|c| (c.label.clone(), c.score));
        item.set_item("classification", classification)?;
        item.set_item("track_id", d.track_id)?;
        out.append(item)?;
    }
    Ok(out.unbind())
}

#[pymodule(name = "rust_vision_core")]
fn python_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Pipeline>()?;
    errors::register(m)?;
    m.add("PARAMETERS", settings::parameters(m.py())?)?;
    let encodings: Vec<&str> = Encoding::NAMES.iter().map(|(name, _)| *name).collect();
    m.add("ENCODINGS", encodings)?;
    Ok(())
}
