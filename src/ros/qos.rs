//! Subscription QoS, chosen by name.

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

    /// Subscription options for `topic` with this policy and a history of `depth`.
    pub fn options(self, topic: &str, depth: u32) -> PrimitiveOptions<'_> {
        let options = topic.keep_last(depth).volatile();
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
            other => Err(ConfigError::invalid(
                "qos",
                format!("{other:?} is not one of {}", Self::NAMES.join(", ")),
            )),
        }
    }
}
