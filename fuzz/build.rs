//! With the `ros` feature, links the fuzz binaries and the replay test against the ROS 2
//! installation on AMENT_PREFIX_PATH, as vision_node is.

fn main() {
    #[cfg(feature = "ros")]
    ros_link::configure();
}
