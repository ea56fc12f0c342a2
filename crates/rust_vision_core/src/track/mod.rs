//! `track`: identities across frames. A stage after classification that gives each
//! detection the id of the object it follows (`track_id`; 0 when no tracker runs or no
//! track claims the box). The frames must come in order, so it runs in the stage that
//! already puts them in order (see [`crate::stages`]), and its state outlives pipeline
//! swaps: [`Tracking`] keeps the tracks while the tracker's own settings stay the same.

pub mod assign;
pub mod bytetrack;
mod kalman;

use std::time::{Duration, Instant};

use crate::error::ConfigError;
use crate::results::Detection;
pub use bytetrack::ByteTrack;

crate::choice! {
    /// The trackers there are, by the name the `tracker` parameter uses.
    pub enum TrackerKind for "tracker" {
        /// No tracking: every `track_id` is 0.
        None = "none",
        /// [`ByteTrack`].
        ByteTrack = "bytetrack",
    }
}

/// ByteTrack's knobs, named as in its reference implementation and Ultralytics'
/// `bytetrack.yaml`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ByteTrackConfig {
    /// Detections scoring at least this are matched first, and may start tracks.
    pub track_high_thresh: f64,
    /// Detections scoring below this are ignored; between the two, they only keep
    /// existing tracks alive (the second association).
    pub track_low_thresh: f64,
    /// An unclaimed confident detection scoring at least this starts a track.
    pub new_track_thresh: f64,
    /// Frames a track survives without a detection before it ends.
    pub track_buffer: u32,
    /// Largest IoU cost (1 - IoU) of a match in the first association.
    pub match_thresh: f64,
}

impl ByteTrackConfig {
    /// ByteTrack's defaults (as Ultralytics ships them).
    pub const DEFAULT: ByteTrackConfig = ByteTrackConfig {
        track_high_thresh: 0.5,
        track_low_thresh: 0.1,
        new_track_thresh: 0.6,
        track_buffer: 30,
        match_thresh: 0.8,
    };
}

impl ByteTrackConfig {
    /// The thresholds in their order: low <= high <= new.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.track_low_thresh > self.track_high_thresh {
            return Err(ConfigError::invalid(
                "bytetrack.track_low_thresh",
                format!(
                    "{} is above bytetrack.track_high_thresh {}",
                    self.track_low_thresh, self.track_high_thresh
                ),
            ));
        }
        Ok(())
    }
}

impl Default for ByteTrackConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The tracking stage's state: the tracker, kept across frames and pipeline swaps, new
/// (with ids going on from the old one's) when the tracker's settings change.
#[derive(Debug, Default)]
pub struct Tracking {
    tracker: Option<ByteTrack>,
    next_id: u64,
}

impl Tracking {
    /// Tracks `detections` with the tracker `config` asks for (None: no tracking, every
    /// id 0); returns the time it took.
    pub fn update(
        &mut self,
        config: Option<&ByteTrackConfig>,
        detections: &mut [Detection],
    ) -> Duration {
        let start = Instant::now();
        let Some(config) = config else {
            if let Some(old) = self.tracker.take() {
                self.next_id = old.next_id();
            }
            detections.iter_mut().for_each(|d| d.track_id = 0);
            return start.elapsed();
        };
        if self.tracker.as_ref().map(ByteTrack::config) != Some(config) {
            let first = self
                .tracker
                .as_ref()
                .map_or(self.next_id, ByteTrack::next_id);
            self.tracker = Some(ByteTrack::new(*config, first));
        }
        if let Some(tracker) = &mut self.tracker {
            tracker.update(detections);
        }
        start.elapsed()
    }

    /// Forgets every track (a panic may have left them half-updated); the ids go on
    /// from the old tracker's, so that none is given twice.
    pub fn restart(&mut self) {
        if let Some(old) = self.tracker.take() {
            self.next_id = old.next_id();
        }
    }
}

#[cfg(test)]
mod tests;
