fn main() -> anyhow::Result<()> {
    use rclrs::*;
    let context = Context::default_from_env()?;
    let mut executor = context.create_basic_executor();
    let node = executor.create_node("interop_node")?;
    let publisher = node.create_publisher::<ros_env::sensor_msgs::msg::Image>("image_out")?;
    let _sub = node.create_subscription("image_in", move |msg: ros_env::sensor_msgs::msg::Image| {
        publisher.publish(&msg).unwrap();
    })?;
    executor.spin(SpinOptions::default()).first_error()?;
    Ok(())
}
