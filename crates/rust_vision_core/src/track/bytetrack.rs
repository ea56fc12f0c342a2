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

/// Most lost tracks kept, the most recently seen: every lost track is matched against
/// every frame's detections, and `track_buffer` frames of up to `max_detections`
/// births each would otherwise be kept (ByteTrack keeps them all).
pub const MAX_LOST: usize = 1000;

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
        self.end_tracks();
    }

    /// Ends the tracks born last frame and not matched now, those lost longer than
    /// `track_buffer` frames, and the longest lost beyond [`MAX_LOST`] (of those lost
    /// since the same frame, the later born).
    fn end_tracks(&mut self) {
        let (frame, buffer) = (self.frame, u64::from(self.config.track_buffer));
        self.tracks.retain(|t| match t.state {
            State::New => t.last_seen == frame,
            State::Tracked => true,
            State::Lost => frame - t.last_seen <= buffer,
        });
        let mut lost = self.indices(|s| s == State::Lost);
        if lost.len() <= MAX_LOST {
            return;
        }
        lost.sort_by_key(|&t| std::cmp::Reverse(self.tracks[t].last_seen));
        let mut ended = vec![false; self.tracks.len()];
        for &t in &lost[MAX_LOST..] {
            ended[t] = true;
        }
        let mut index = 0;
        self.tracks.retain(|_| {
            index += 1;
            !ended[index - 1]
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
        let (mut track_free, mut det_free) = (vec![true; tracks.len()], vec![true; dets.len()]);
        for &(t, d) in &pairs {
            (track_free[t], det_free[d]) = (false, false);
        }
        let matched = pairs.iter().map(|&(t, d)| (tracks[t], dets[d])).collect();
        let unmatched = |indices: &[usize], free: &[bool]| -> Vec<usize> {
            indices
                .iter()
                .zip(free)
                .filter(|p| *p.1)
                .map(|p| *p.0)
                .collect()
        };
        let (free_tracks, free_dets) = (unmatched(tracks, &track_free), unmatched(dets, &det_free));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Confident boxes `ids` on a grid, none overlapping another.
    fn grid(ids: std::ops::Range<usize>) -> Vec<Detection> {
        let at = |i: usize| ((i % 40) as f32 * 20.0, (i / 40) as f32 * 20.0);
        ids.map(|i| super::super::tests::detection(at(i).0, at(i).1, (10.0, 10.0), 0.9))
            .collect()
    }

    #[test]
    fn lost_tracks_beyond_the_bound_end_longest_lost_first() {
        let mut tracker = ByteTrack::new(ByteTrackConfig::DEFAULT, 1);
        tracker.update(&mut grid(0..1200));
        tracker.update(&mut grid(600..1200)); // the first 600 are lost
        tracker.update(&mut []); // and now the rest
        let lost_since = |frame| {
            let t = tracker.tracks.iter();
            t.filter(|t| t.state == State::Lost && t.last_seen == frame)
                .count()
        };
        assert_eq!(tracker.tracks.len(), MAX_LOST);
        assert_eq!((lost_since(2), lost_since(1)), (600, MAX_LOST - 600));
    }
}
