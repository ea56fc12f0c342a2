//! What the node subscribes to, and with which QoS: both chosen by name.

use rclrs::{IntoPrimitiveOptions, PrimitiveOptions};

rust_vision_core::choice! {
    /// The QoS of the image subscription.
    pub enum QosPolicy for "qos" {
        /// Best effort, keep last: for live cameras, where a late frame is worth less than the
        /// next one. Matches both best-effort and reliable publishers.
        SensorData = "sensor_data",
        /// Reliable, keep last: every frame the history holds is delivered; for recorded data
        /// and batch work. Only matches reliable publishers.
        Reliable = "reliable",
    }
}

impl QosPolicy {
    /// Subscription options for `topic` with this policy and a history of `depth` frames,
    /// or of every frame if `depth` is `None`.
    pub fn options(self, topic: &str, depth: Option<u32>) -> PrimitiveOptions<'_> {
        let options = match depth {
            Some(depth) => topic.keep_last(depth),
            None => topic.keep_all(),
        }
        .volatile();
        match self {
            QosPolicy::SensorData => options.best_effort(),
            QosPolicy::Reliable => options.reliable(),
        }
    }
}

rust_vision_core::choice! {
    /// Which image topics the node subscribes to.
    pub enum Transport for "transport" {
        /// sensor_msgs/Image on `image`.
        Raw = "raw",
        /// sensor_msgs/CompressedImage on `image/compressed` (image_transport's name).
        Compressed = "compressed",
        /// Both.
        Both = "both",
    }
}

impl Transport {
    /// Whether the raw topic is subscribed.
    pub fn raw(self) -> bool {
        self != Transport::Compressed
    }

    /// Whether the compressed topic is subscribed.
    pub fn compressed(self) -> bool {
        self != Transport::Raw
    }
}
