//! What the node subscribes to, and with which QoS: both chosen by name.

use std::str::FromStr;

use rclrs::{IntoPrimitiveOptions, PrimitiveOptions};

use crate::error::ConfigError;

/// The QoS of the image subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QosPolicy {
    /// Best effort, keep last: for live cameras, where a late frame is worth less than the
    /// next one. Matches both best-effort and reliable publishers.
    SensorData,
    /// Reliable, keep last: every frame the history holds is delivered; for recorded data
    /// and batch work. Only matches reliable publishers.
    Reliable,
}

impl QosPolicy {
    /// Every name [`QosPolicy::from_str`] accepts.
    pub const NAMES: &'static [&'static str] = &["sensor_data", "reliable"];

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

impl FromStr for QosPolicy {
    type Err = ConfigError;

    fn from_str(name: &str) -> Result<Self, ConfigError> {
        match name {
            "sensor_data" => Ok(QosPolicy::SensorData),
            "reliable" => Ok(QosPolicy::Reliable),
            other => Err(ConfigError::not_one_of("qos", other, Self::NAMES)),
        }
    }
}

/// Which image topics the node subscribes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// sensor_msgs/Image on `image`.
    Raw,
    /// sensor_msgs/CompressedImage on `image/compressed` (image_transport's name).
    Compressed,
    /// Both.
    Both,
}

impl Transport {
    /// Every name [`Transport::from_str`] accepts.
    pub const NAMES: &'static [&'static str] = &["raw", "compressed", "both"];

    /// Whether the raw topic is subscribed.
    pub fn raw(self) -> bool {
        self != Transport::Compressed
    }

    /// Whether the compressed topic is subscribed.
    pub fn compressed(self) -> bool {
        self != Transport::Raw
    }
}

impl FromStr for Transport {
    type Err = ConfigError;

    fn from_str(name: &str) -> Result<Self, ConfigError> {
        match name {
            "raw" => Ok(Transport::Raw),
            "compressed" => Ok(Transport::Compressed),
            "both" => Ok(Transport::Both),
            other => Err(ConfigError::not_one_of("transport", other, Self::NAMES)),
        }
    }
}
