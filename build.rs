//! Links vision_node against the ROS 2 installation on AMENT_PREFIX_PATH; the ROS-free
//! core (built without the `ros` feature) needs nothing.

fn main() {
    #[cfg(feature = "ros")]
    ros_link::configure();
}
