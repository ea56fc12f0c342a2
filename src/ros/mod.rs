//! The ROS 2 adapter: everything that knows about rclrs and ROS message types.
//!
//! [`node::VisionNode`] wires a subscription to the core [`crate::Pipeline`] and publishes
//! its results; [`params`] declares and reads the parameters, [`qos`] the subscription
//! QoS, and [`convert`] maps messages to core types and back.

pub mod convert;
pub mod node;
pub mod params;
pub mod qos;
