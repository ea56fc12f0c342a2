//! rust_vision_core: real-time image processing with no ROS dependency; the `rust_vision`
//! package at the repository root is its ROS 2 adapter (vision_node).
//!
//! - [`frame`]: raw images as they arrive (any encoding) and the [`Limits`] on them;
//! - [`decode`]: raw image -> RGB image, every bad input rejected before allocating;
//! - [`results`]: boxes, detections and classifications, shared by the stages;
//! - [`detect`]: the [`Detector`] extension point and its implementations
//!   ([`detect::blobs`], [`detect::cascade`], [`detect::onnx`]);
//! - [`classify`]: the [`Classifier`] extension point, the second stage run on each box
//!   ([`classify::color`], [`classify::cascade`], [`classify::onnx`]);
//! - [`onnx_model`]: ONNX models on tract or ONNX Runtime, shared by the ONNX detector
//!   and classifier;
//! - [`pipeline`]: decode -> detect -> classify for one frame, with per-stage timings;
//! - [`models`]: the pipeline a configuration describes, each model file loaded once;
//! - [`runtime`]: a running pipeline for any front end: stages, models, health, hot
//!   reload and end-of-stream accounting, results out through a [`runtime::Sink`];
//! - [`stages`]: the same stages on worker threads, on successive frames, with bounded
//!   queues and an overflow policy;
//! - [`report`]: per-cause counting and rate-limited reporting of failed frames;
//! - [`health`]: rates, latency percentiles, drops and failures of a running pipeline;
//! - [`annotate`]: detections drawn onto the image;
//! - [`choice`]: the enums settings choose by name (`detector:=cascade`);
//! - [`schema`]: a setting as one row (type, default, range, runtime, description, how
//!   it applies), checked in one place; [`config`]: the pipeline's configuration and
//!   its rows.

pub mod annotate;
pub mod choice;
pub mod classify;
pub mod config;
pub mod decode;
pub mod detect;
pub mod error;
pub mod frame;
pub mod health;
pub mod models;
pub mod onnx_model;
pub mod pipeline;
pub mod report;
pub mod results;
pub mod runtime;
pub mod schema;
pub mod stages;
pub mod track;

pub use classify::{Classification, Classifier};
pub use detect::{BoundingBox, Detection, Detector};
pub use error::{ConfigError, Error, InputError, Result, UnsupportedError};
pub use frame::{CompressedImage, Input, Limits, RawImage};
pub use pipeline::{FrameResult, Pipeline, StageTimings};
