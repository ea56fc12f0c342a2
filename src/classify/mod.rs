//! Second stage: the [`Classifier`] extension point, run on each detection's box, and
//! one module per classifier.

pub mod color;

use std::str::FromStr;

use image::RgbImage;

use crate::detect::BoundingBox;
use crate::error::{ConfigError, Result};

/// What a classifier says about one box.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    /// Human-readable class name.
    pub label: String,
    /// Confidence, 0..1.
    pub score: f32,
}

/// A second-stage classifier: looks at the part of the image inside one detection.
pub trait Classifier: Send + Sync {
    /// The name the `classifier` parameter selects it by.
    fn name(&self) -> &'static str;

    /// The class of what `image` shows inside `bbox`, or `None` when it cannot tell.
    fn classify(&self, image: &RgbImage, bbox: &BoundingBox) -> Result<Option<Classification>>;
}

/// The second stages there are, by the name the `classifier` parameter uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassifierKind {
    /// No second stage.
    None,
    /// [`color::DominantColor`].
    Color,
}

impl ClassifierKind {
    /// Every name [`ClassifierKind::from_str`] accepts.
    pub const NAMES: &'static [&'static str] = &["none", "color"];

    /// The classifier of this kind, if any.
    pub fn build(self) -> Option<Box<dyn Classifier>> {
        match self {
            ClassifierKind::None => None,
            ClassifierKind::Color => Some(Box::new(color::DominantColor::default())),
        }
    }
}

impl FromStr for ClassifierKind {
    type Err = ConfigError;

    fn from_str(name: &str) -> Result<Self, ConfigError> {
        match name {
            "none" => Ok(ClassifierKind::None),
            "color" => Ok(ClassifierKind::Color),
            other => Err(ConfigError::not_one_of("classifier", other, Self::NAMES)),
        }
    }
}
