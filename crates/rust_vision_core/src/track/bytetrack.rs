//! `bytetrack`: ByteTrack (Zhang et al., ECCV 2022), the association of every detection
//! box, low-score ones included, to tracks predicted by a Kalman filter.
//!
//! Per frame: predict every track; match the confident detections to the tracks (live
//! and recently lost) by IoU; match what is left of the live tracks to the low-score
//! detections (an occluded object scores low but is still there); confirm or drop the
//! tracks born last frame; start tracks from confident detections nobody claimed; tracks
//! unmatched for more than `track_buffer` frames end.

use super::assign::assign;
use super::kalman::BoxFilter;
use super::ByteTrackConfig;
use crate::results::{BoundingBox, Detection};

/// IoU cost limits of the second and the unconfirmed matching, as in ByteTrack.
const LOW_MATCH_THRESH: f64 = 0.5;
const UNCONFIRMED_MATCH_THRESH: f64 = 0.7;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Born last frame from a detection; dropped unless matched again.
    New,
    Tracked,
    /// Unmatched since `last_seen`.
    Lost,
}

#[derive(Debug, Clone)]
struct Track {
    id: u64,
    filter: BoxFilter,
    state: State,
    last_seen: u64,
}

/// The tracker's state across frames.
#[derive(Debug)]
pub struct ByteTrack {
    config: ByteTrackConfig,
    tracks: Vec<Track>,
    frame: u64,
    next_id: u64,
}

impl ByteTrack {
    /// No tracks yet; ids start at `first_id` (at least 1: 0 means untracked).
    pub fn new(config: ByteTrackConfig, first_id: u64) -> Self {
        ByteTrack {
            config,
            tracks: Vec::new(),
            frame: 0,
            next_id: first_id.max(1),
        }
    }

    pub fn config(&self) -> &ByteTrackConfig {
        &self.config
    }

    /// The id the next new track gets.
    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    /// Tracks this frame's detections: each gets the id of its track, or 0 when none
    /// claims it (a low-score box no live track explains).
    pub fn update(&mut self, detections: &mut [Detection]) {
        self.frame += 1;
        for track in &mut self.tracks {
            track.filter.predict();
        }
        for d in detections.iter_mut() {
            d.track_id = 0;
        }
        let c = self.config;
        let high: Vec<usize> = (0..detections.len())
            .filter(|&i| f64::from(detections[i].score) >= c.track_high_thresh)
            .collect();
        let low: Vec<usize> = (0..detections.len())
            .filter(|&i| {
                let s = f64::from(detections[i].score);
                s >= c.track_low_thresh && s < c.track_high_thresh
            })
            .collect();

        // 1. Confirmed tracks (live or lost) with the confident detections.
        let confirmed = self.indices(|s| s != State::New);
        let (matched, free_tracks, free_high) =
            self.associate(&confirmed, &high, detections, c.match_thresh);
        self.take(&matched, detections);
        // 2. Live tracks left over with the low-score detections.
        let live: Vec<usize> = free_tracks
            .into_iter()
            .filter(|&t| self.tracks[t].state == State::Tracked)
            .collect();
        let (matched, unmatched_live, _) =
            self.associate(&live, &low, detections, LOW_MATCH_THRESH);
        self.take(&matched, detections);
        for t in unmatched_live {
            self.tracks[t].state = State::Lost;
        }
        // 3. Tracks born last frame with what is left of the confident detections.
        let unconfirmed = self.indices(|s| s == State::New);
        let (matched, dropped, free_high) = self.associate(
            &unconfirmed,
            &free_high,
            detections,
            UNCONFIRMED_MATCH_THRESH,
        );
        self.take(&matched, detections);
        for t in dropped {
            self.tracks[t].last_seen = 0; // removed below
        }
        // 4. New tracks; the end of tracks lost too long ago.
        for i in free_high {
            if f64::from(detections[i].score) >= c.new_track_thresh {
                self.start(&mut detections[i]);
            }
        }
        let (frame, buffer) = (self.frame, u64::from(c.track_buffer));
        self.tracks.retain(|t| match t.state {
            State::New => t.last_seen == frame,
            State::Tracked => true,
            State::Lost => frame - t.last_seen <= buffer,
        });
    }

    /// Indices of the tracks in a state `wanted` accepts.
    fn indices(&self, wanted: impl Fn(State) -> bool) -> Vec<usize> {
        (0..self.tracks.len())
            .filter(|&t| wanted(self.tracks[t].state))
            .collect()
    }

    /// Matches tracks `tracks` to detections `dets` by IoU cost within `limit`:
    /// (matched (track, detection) pairs, unmatched tracks, unmatched detections).
    fn associate(
        &self,
        tracks: &[usize],
        dets: &[usize],
        detections: &[Detection],
        limit: f64,
    ) -> (Vec<(usize, usize)>, Vec<usize>, Vec<usize>) {
        let predicted: Vec<BoundingBox> = tracks
            .iter()
            .map(|&t| self.tracks[t].filter.bbox())
            .collect();
        let cost: Vec<Vec<f64>> = predicted
            .iter()
            .map(|p| {
                dets.iter()
                    .map(|&d| 1.0 - f64::from(p.iou(&detections[d].bbox)))
                    .collect()
            })
            .collect();
        let pairs = assign(&cost, limit);
        let matched: Vec<_> = pairs.iter().map(|&(t, d)| (tracks[t], dets[d])).collect();
        let free_tracks = (0..tracks.len())
            .filter(|t| !pairs.iter().any(|p| p.0 == *t))
            .map(|t| tracks[t])
            .collect();
        let free_dets = (0..dets.len())
            .filter(|d| !pairs.iter().any(|p| p.1 == *d))
            .map(|d| dets[d])
            .collect();
        (matched, free_tracks, free_dets)
    }

    /// Each matched track takes its detection's box, and the detection its id.
    fn take(&mut self, matched: &[(usize, usize)], detections: &mut [Detection]) {
        for &(t, d) in matched {
            let track = &mut self.tracks[t];
            track.filter.update(&detections[d].bbox);
            track.state = State::Tracked;
            track.last_seen = self.frame;
            detections[d].track_id = track.id;
        }
    }

    /// A track born from `detection`: confirmed at once in the first frame, otherwise
    /// when matched again in the next.
    fn start(&mut self, detection: &mut Detection) {
        let id = self.next_id;
        self.next_id += 1;
        detection.track_id = id;
        self.tracks.push(Track {
            id,
            filter: BoxFilter::new(&detection.bbox),
            state: if self.frame == 1 {
                State::Tracked
            } else {
                State::New
            },
            last_seen: self.frame,
        });
    }
}
