//! rclrs node that the DDS interoperability tests (test/test_interop.py) talk to from rclpy.
//!
//! Every message goes through the generated idiomatic types (and so through both
//! conversions to and from the C layout) before it is sent back.
//!
//! | topic / service     | type                                   | behaviour                          |
//! |---------------------|----------------------------------------|------------------------------------|
//! | `all_types_in`      | rust_vision_test_msgs/msg/AllTypes     | republished on `all_types_out`     |
//! | `image_in`          | sensor_msgs/msg/Image                  | republished on `image_out`         |
//! | `make_image`        | std_msgs/msg/UInt32 (seed)             | 1920x1080 rgb8 pattern on `image_generated` |
//! | `ping`              | std_msgs/msg/String                    | `pong` std_msgs/Header: node clock now, frame_id = data |
//! | `scale` (service)   | rust_vision_test_msgs/srv/Transform    | values * factor * `gain`           |
//!
//! Parameter `gain` (double, default 1.0, range 0..10) is declared with a description so
//! that the standard parameter services have something to list, describe and set.

use std::sync::Arc;

use anyhow::Result;
use rclrs::*;
use ros_env::rust_vision_test_msgs::{msg::AllTypes, srv::Transform, srv::Transform_Request};
use ros_env::sensor_msgs::msg::Image;
use ros_env::std_msgs::msg::{Header, String as StringMsg, UInt32};

/// Byte `i` of the generated image; the Python test computes the same.
fn pattern(seed: u32, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i as u64 * 7 + seed as u64) % 251) as u8)
        .collect()
}

fn main() -> Result<()> {
    let context = Context::default_from_env()?;
    let mut executor = context.create_basic_executor();
    let node = executor.create_node("interop_node")?;

    let gain: MandatoryParameter<f64> = node
        .declare_parameter("gain")
        .default(1.0)
        .range(ParameterRange {
            lower: Some(0.0),
            upper: Some(10.0),
            step: None,
        })
        .description("Factor applied by the `scale` service")
        .mandatory()?;

    let all_types_out = node.create_publisher::<AllTypes>("all_types_out")?;
    let _all_types = node.create_subscription("all_types_in", move |msg: AllTypes| {
        log_error(all_types_out.publish(msg));
    })?;

    let image_out = node.create_publisher::<Image>("image_out")?;
    let _image = node.create_subscription("image_in", move |msg: Image| {
        log_error(image_out.publish(msg));
    })?;

    let generated = node.create_publisher::<Image>("image_generated")?;
    let _make = node.create_subscription("make_image", move |msg: UInt32| {
        let (width, height) = (1920u32, 1080u32);
        let image = Image {
            header: Header {
                frame_id: format!("seed_{}", msg.data),
                ..Default::default()
            },
            height,
            width,
            encoding: "rgb8".into(),
            is_bigendian: 0,
            step: width * 3,
            data: pattern(msg.data, (width * height * 3) as usize),
        };
        log_error(generated.publish(image));
    })?;

    let pong = node.create_publisher::<Header>("pong")?;
    let clock_node = Arc::clone(&node);
    let _ping = node.create_subscription("ping", move |msg: StringMsg| {
        let stamp = clock_node.get_clock().now().to_ros_msg();
        match stamp {
            Ok(stamp) => log_error(pong.publish(Header {
                stamp,
                frame_id: msg.data,
            })),
            Err(e) => eprintln!("interop_node: clock out of range: {e}"),
        }
    })?;

    let _scale = node.create_service::<Transform, _>("scale", move |req: Transform_Request| {
        let factor = req.factor * gain.get();
        ros_env::rust_vision_test_msgs::srv::Transform_Response {
            message: format!("scaled {} values by {factor}", req.values.len()),
            values: req.values.iter().map(|v| v * factor).collect(),
        }
    })?;

    executor.spin(SpinOptions::default()).first_error()?;
    Ok(())
}

fn log_error(result: Result<(), RclrsError>) {
    if let Err(e) = result {
        eprintln!("interop_node: publish failed: {e}");
    }
}
