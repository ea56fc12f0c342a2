//! `rust_vision_core` for Python: the core's pipeline in-process, configured by the same
//! schema rows as vision_node's parameters, with the GIL released while it works.
//!
//! ```python
//! import numpy as np, rust_vision_core as rv
//! pipeline = rv.Pipeline({"detector": "blobs", "blobs.min_area": 50})
//! for d in pipeline.detect(np.zeros((480, 640, 3), np.uint8)): print(d["label"], d["box"])
//! ```
//!
//! Settings and errors come from the core: a bad value raises `ValueError` with the
//! core's message (the value and what is allowed), a frame the core refuses raises
//! `ValueError` naming the cause.

use std::sync::Arc;

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use vision::config::{PipelineConfig, PARAMETERS};
use vision::decode::Encoding;
use vision::frame::{CompressedImage, Input, RawImage};
use vision::models::ModelCache;
use vision::pipeline::FrameResult;
use vision::schema::{self, Kind, Value};

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// A Python value as a value of setting `name`: int, float or str; an int where a float
/// is expected is taken as one, as Python would.
fn to_value(name: &str, value: &Bound<'_, PyAny>) -> PyResult<Value> {
    if value.is_instance_of::<pyo3::types::PyBool>() {
        return Err(value_error("a bool is not a setting value"));
    }
    if let Ok(v) = value.extract::<i64>() {
        if let Some(Kind::Double { .. }) = schema::row(PARAMETERS, name).map(|row| row.doc.kind) {
            return Ok(Value::Double(v as f64));
        }
        return Ok(Value::Int(v));
    }
    if let Ok(v) = value.extract::<f64>() {
        return Ok(Value::Double(v));
    }
    Ok(Value::Text(value.extract::<String>()?.into()))
}

/// A schema value as a Python object.
fn from_value<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Int(v) => v.into_pyobject(py)?.into_any(),
        Value::Double(v) => v.into_pyobject(py)?.into_any(),
        Value::Text(v) => (&**v).into_pyobject(py)?.into_any(),
    })
}

/// The core's settings, one dict per schema row: name, type, default, range (min, max
/// or choices), runtime, description.
fn parameters(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
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
            Kind::Text { .. } => {}
        }
        d.set_item("runtime", doc.runtime)?;
        d.set_item("description", doc.description)?;
        rows.append(d)?;
    }
    Ok(rows)
}

/// decode -> detect -> classify on one frame at a time, configured like vision_node.
#[pyclass(module = "rust_vision_core")]
struct Pipeline {
    config: PipelineConfig,
    /// Every setting's value as given (the configuration keeps them typed).
    values: Vec<(&'static str, Value)>,
    models: ModelCache,
    pipeline: Arc<vision::Pipeline>,
}

impl Pipeline {
    fn rebuild(&mut self) -> PyResult<()> {
        self.pipeline = Arc::new(self.models.pipeline(&self.config).map_err(value_error)?);
        self.models.keep_only(&self.config);
        Ok(())
    }

    fn run(&self, py: Python<'_>, input: Input) -> PyResult<Py<PyList>> {
        let pipeline = Arc::clone(&self.pipeline);
        let result = py
            .detach(move || pipeline.process(input))
            .map_err(|e| value_error(format!("{}: {e}", e.cause())))?;
        detections(py, &result)
    }
}

#[pymethods]
impl Pipeline {
    /// A pipeline with the core's defaults, then `settings` (name -> value) applied in
    /// order, each checked by its row and the whole against itself.
    #[new]
    #[pyo3(signature = (settings = None))]
    fn new(settings: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let mut config = PipelineConfig::defaults();
        let mut values: Vec<_> = PARAMETERS
            .iter()
            .map(|row| (row.doc.name, row.doc.kind.default_value()))
            .collect();
        let mut last = "detector".to_string();
        if let Some(settings) = settings {
            for (name, value) in settings.iter() {
                let name: String = name.extract()?;
                let value = to_value(&name, &value)?;
                apply(&mut config, &mut values, &name, &value)?;
                last = name;
            }
        }
        config.validate(&last).map_err(value_error)?;
        let models = ModelCache::new(config.onnx_runtime.clone());
        let pipeline = Arc::new(models.pipeline(&config).map_err(value_error)?);
        Ok(Pipeline {
            config,
            values,
            models,
            pipeline,
        })
    }

    /// Changes one setting (loading a model if it names a new one); on an error the
    /// pipeline is unchanged.
    fn set(&mut self, name: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let (mut config, mut values) = (self.config.clone(), self.values.clone());
        apply(&mut config, &mut values, name, &to_value(name, value)?)?;
        config.validate(name).map_err(value_error)?;
        let previous = std::mem::replace(&mut self.config, config);
        if let Err(e) = self.rebuild() {
            self.config = previous;
            return Err(e);
        }
        self.values = values;
        Ok(())
    }

    /// Every setting and its value now, name -> value.
    #[getter]
    fn settings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        for (name, value) in &self.values {
            out.set_item(name, from_value(py, value)?)?;
        }
        Ok(out)
    }

    /// Detections in an image: a C-contiguous uint8 array (height x width x channels,
    /// or height x width for mono8) or any buffer of it, in `encoding` (rgb8 unless
    /// said: bgr8 for OpenCV images).
    #[pyo3(signature = (image, encoding = "rgb8"))]
    fn detect(
        &self,
        py: Python<'_>,
        image: &Bound<'_, PyAny>,
        encoding: &str,
    ) -> PyResult<Py<PyList>> {
        let buffer = PyBuffer::<u8>::get(image)?;
        let shape = buffer.shape();
        if !buffer.is_c_contiguous() || !(2..=3).contains(&shape.len()) {
            return Err(value_error(
                "expected a C-contiguous uint8 array of height x width (x channels)",
            ));
        }
        let (height, width) = (shape[0], shape[1]);
        let data = buffer.to_vec(py)?;
        let raw = RawImage {
            width: u32::try_from(width).map_err(value_error)?,
            height: u32::try_from(height).map_err(value_error)?,
            step: u32::try_from(data.len() / height.max(1)).map_err(value_error)?,
            encoding: encoding.to_string(),
            is_bigendian: false,
            data: data.into(),
        };
        self.run(py, Input::Raw(raw))
    }

    /// Detections in a compressed image (JPEG or PNG bytes).
    #[pyo3(signature = (data, format = "jpeg"))]
    fn detect_compressed(
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

/// Applies one setting to `config` and records it in `values`.
fn apply(
    config: &mut PipelineConfig,
    values: &mut [(&'static str, Value)],
    name: &str,
    value: &Value,
) -> PyResult<()> {
    config
        .apply(name, value)
        .unwrap_or_else(|| Err(vision::ConfigError::invalid(name, "no such setting")))
        .map_err(value_error)?;
    if let Some(slot) = values.iter_mut().find(|(n, _)| *n == name) {
        slot.1 = value.clone();
    }
    Ok(())
}

/// One dict per detection: box (x, y, width, height), class_id, label, score,
/// objectness, and classification (label, score) or None.
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
        out.append(item)?;
    }
    Ok(out.unbind())
}

#[pymodule(name = "rust_vision_core")]
fn python_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Pipeline>()?;
    m.add("PARAMETERS", parameters(m.py())?)?;
    let encodings: Vec<&str> = Encoding::NAMES.iter().map(|(name, _)| *name).collect();
    m.add("ENCODINGS", encodings)?;
    Ok(())
}
