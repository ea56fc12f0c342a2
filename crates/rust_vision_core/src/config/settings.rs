//! serde for [`PipelineConfig`]: a configuration is written as its settings, a map of
//! name to value in the order of the schema (`{"detector": "blobs", "blobs.threshold":
//! 40, ...}`), and read back from such a map, in any format serde reads (JSON, YAML),
//! through the same rows and checks as every front end: a bad value is an error naming
//! the setting, the value and what is allowed. Settings left out keep their defaults.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::PipelineConfig;
use crate::schema::Value;

impl Serialize for PipelineConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (name, value) in self.settings() {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for PipelineConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(SettingsVisitor)
    }
}

/// Collects the map's entries in the order written, since a later setting is checked
/// against the ones before it.
struct SettingsVisitor;

impl<'de> Visitor<'de> for SettingsVisitor {
    type Value = PipelineConfig;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of setting names to numbers or strings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PipelineConfig, A::Error> {
        let mut settings: Vec<(String, Value)> = Vec::new();
        while let Some(entry) = map.next_entry()? {
            settings.push(entry);
        }
        let settings = settings.iter().map(|(name, v)| (name.as_str(), v.clone()));
        PipelineConfig::from_settings(settings).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configuration_round_trips_through_json_as_its_settings() {
        let mut config = PipelineConfig::defaults();
        config
            .apply("blobs.threshold", &Value::Int(40))
            .unwrap()
            .unwrap();
        let json = serde_json::to_value(&config).unwrap();
        assert_eq!(json["blobs.threshold"], 40);
        assert_eq!(json["detector"], "blobs");
        assert_eq!(json["onnx.confidence"], 0.25);
        let back: PipelineConfig = serde_json::from_value(json).unwrap();
        assert_eq!(back, config);
    }

    #[test]
    fn settings_read_back_are_checked_by_their_rows() {
        let read = |text| serde_json::from_str::<PipelineConfig>(text).map_err(|e| e.to_string());
        let config = read(r#"{"blobs.threshold": 12, "onnx.iou": 1}"#).unwrap();
        assert_eq!(config.blobs.threshold, 12);
        let e = read(r#"{"blobs.threshold": 300}"#).unwrap_err();
        assert!(
            e.starts_with("parameter `blobs.threshold`: 300 is outside 0..255"),
            "{e}"
        );
        let e = read(r#"{"bogus": 1}"#).unwrap_err();
        assert!(e.starts_with("parameter `bogus`: no such setting"), "{e}");
        let e = read(r#"{"detector": "cascade"}"#).unwrap_err();
        assert!(e.contains("detector cascade needs cascade.model"), "{e}");
        assert!(read(r#"{"blobs.threshold": true}"#).is_err());
    }
}
