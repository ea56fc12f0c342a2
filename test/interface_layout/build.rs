fn main() {
    ros_link::configure();
}
