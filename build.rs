//! Links vision_node against the ROS 2 installation on AMENT_PREFIX_PATH (the core crate
//! needs nothing).

fn main() {
    ros_link::configure();
}
