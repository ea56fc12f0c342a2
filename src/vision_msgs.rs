//! vision_msgs/Detection2DArray output (`publish_vision_msgs`), for the tools that read
//! vision_msgs 4.x (rviz plugins, trackers, Isaac ROS consumers), beside the package's own
//! DetectionArray. Built only with the cargo feature `vision_msgs`, which the CMake build
//! turns on where vision_msgs is installed; without it `publish_vision_msgs:=true` is a
//! start-up error.

#[cfg(feature = "vision_msgs")]
use rclrs::IntoPrimitiveOptions;
use rclrs::{Node, RclrsError};
use ros_env::std_msgs::msg::Header;

use rust_vision_core::pipeline::FrameResult;

/// Topic of the Detection2DArray messages.
pub const TOPIC: &str = "detections_2d";

/// Whether this vision_node was built with vision_msgs.
pub const AVAILABLE: bool = cfg!(feature = "vision_msgs");

#[cfg(feature = "vision_msgs")]
mod output {
    use ros_env::geometry_msgs::msg::PoseWithCovariance;
    use ros_env::vision_msgs::msg::{
        BoundingBox2D, Detection2D, Detection2DArray, ObjectHypothesis, ObjectHypothesisWithPose,
        Point2D, Pose2D,
    };

    use super::*;

    /// The Detection2DArray publisher.
    pub struct VisionMsgs(rclrs::Publisher<Detection2DArray>);

    impl VisionMsgs {
        /// Advertises on [`TOPIC`] with the detections' QoS (reliable, transient local,
        /// keep last `depth`).
        pub fn advertise(node: &Node, depth: u32) -> Result<Option<Self>, RclrsError> {
            let options = TOPIC.keep_last(depth).reliable().transient_local();
            Ok(Some(VisionMsgs(node.create_publisher(options)?)))
        }

        pub fn publish(&self, header: &Header, result: &FrameResult) -> Result<(), String> {
            self.0
                .publish(detection_2d_array(header, result))
                .map_err(|e| e.to_string())
        }
    }

    /// The detections of `result` as vision_msgs 4.x has them: the box by its centre
    /// and size, one hypothesis (the label as class_id, the score), the track id as `id`
    /// (empty when no tracker runs).
    pub fn detection_2d_array(header: &Header, result: &FrameResult) -> Detection2DArray {
        let detections = result
            .detections
            .iter()
            .map(|d| {
                let b = &d.bbox;
                Detection2D {
                    header: header.clone(),
                    results: vec![ObjectHypothesisWithPose {
                        hypothesis: ObjectHypothesis {
                            class_id: d.label.clone(),
                            score: d.score.into(),
                        },
                        pose: PoseWithCovariance::default(),
                    }],
                    bbox: BoundingBox2D {
                        center: Pose2D {
                            position: Point2D {
                                x: f64::from(b.x) + f64::from(b.width) / 2.0,
                                y: f64::from(b.y) + f64::from(b.height) / 2.0,
                            },
                            theta: 0.0,
                        },
                        size_x: b.width.into(),
                        size_y: b.height.into(),
                    },
                    id: match d.track_id {
                        0 => String::new(),
                        id => id.to_string(),
                    },
                }
            })
            .collect();
        Detection2DArray {
            header: header.clone(),
            detections,
        }
    }
}

#[cfg(not(feature = "vision_msgs"))]
mod output {
    use super::*;

    /// No vision_msgs in this build: never made (`publish_vision_msgs` is refused).
    pub enum VisionMsgs {}

    impl VisionMsgs {
        pub fn advertise(_: &Node, _: u32) -> Result<Option<Self>, RclrsError> {
            Ok(None)
        }

        pub fn publish(&self, _: &Header, _: &FrameResult) -> Result<(), String> {
            match *self {}
        }
    }
}

pub use output::*;
