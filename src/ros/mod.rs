//! The ROS 2 adapter: everything that knows about rclrs and ROS message types.
//!
//! [`node::VisionNode`] wires a subscription to the core [`crate::Pipeline`] and publishes
//! its results; [`params`] declares and reads the parameters, [`qos`] the subscription
//! QoS, [`convert`] maps messages to core types and back, and [`models`] builds the
//! core pipeline of a configuration, loading each model file once.

pub mod convert;
pub mod models;
pub mod node;
pub mod params;
pub mod qos;
