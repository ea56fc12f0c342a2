//! rust_vision: real-time image processing for ROS 2.
//!
//! The crate is a ROS-free core plus a thin ROS adapter:
//!
//! - [`frame`]: raw images as they arrive (any encoding) and the [`Limits`] on them;
//! - [`decode`]: raw image -> RGB image, every bad input rejected before allocating;
//! - [`detect`]: the [`Detector`] extension point and its implementations ([`detect::blobs`]);
//! - [`classify`]: the [`Classifier`] extension point, the second stage run on each box;
//! - [`pipeline`]: decode -> detect -> classify for one frame, with per-stage timings;
//! - [`report`]: per-cause counting and rate-limited reporting of failed frames;
//! - `ros` (feature `ros`, on by default): parameters, QoS, message conversions and the
//!   vision_node itself. Nothing outside it knows about ROS.

pub mod classify;
pub mod decode;
pub mod detect;
pub mod error;
pub mod frame;
pub mod pipeline;
pub mod report;
#[cfg(feature = "ros")]
pub mod ros;

pub use classify::{Classification, Classifier};
pub use detect::{BoundingBox, Detection, Detector};
pub use error::{ConfigError, Error, InputError, Result, UnsupportedError};
pub use frame::{Limits, RawImage};
pub use pipeline::{FrameResult, Pipeline, StageTimings};
