//! rust_vision: the ROS 2 adapter of [`rust_vision_core`], and the vision_node built on it.
//!
//! Everything that knows about rclrs and ROS message types is here; the processing, hot
//! reload and stream accounting are in the core's [`rust_vision_core::runtime`], which
//! has no ROS dependency. [`node::VisionNode`] brings the runtime up and publishes what
//! its sink gets, [`inputs`] subscribes; [`params`] declares and reads the parameters,
//! [`qos`] the subscription QoS, [`convert`] maps messages to core types and back,
//! [`diagnostics`] publishes the runtime's health, [`lifecycle`] serves the managed
//! node's services and `~/enable`, and [`vision_msgs`] is the optional
//! vision_msgs/Detection2DArray output.

pub mod convert;
pub mod diagnostics;
pub mod inputs;
pub mod lifecycle;
pub mod node;
pub mod params;
pub mod qos;
pub mod vision_msgs;
