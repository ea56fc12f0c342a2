//! rust_vision: the ROS 2 adapter of [`rust_vision_core`], and the vision_node built on it.
//!
//! Everything that knows about rclrs and ROS message types is here; the processing is in
//! the core, which has no ROS dependency. [`node::VisionNode`] wires subscriptions to the
//! core [`rust_vision_core::Pipeline`] and publishes its results; [`params`] declares and
//! reads the parameters, [`qos`] the subscription QoS, [`convert`] maps messages to core
//! types and back, and [`models`] builds the core pipeline of a configuration, loading
//! each model file once.

pub mod convert;
pub mod models;
pub mod node;
pub mod params;
pub mod qos;
