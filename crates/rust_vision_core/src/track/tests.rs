//! The tracker on synthetic scenes with known identities: boxes that move, cross (apart
//! or overlapping) and disappear for a while. Each test reports ID switches and
//! identity precision and recall (IDP, IDR: the share of tracked boxes, and of true
//! boxes, on the best one-to-one pairing of true objects and tracks) and bounds them.

use super::assign::assign;
use super::*;
use crate::results::BoundingBox;

/// Where an object is in frame `f`, and its score: (x, y, score), None while hidden.
type Path = Box<dyn Fn(u32) -> Option<(f32, f32, f32)>>;

/// An object of a scene: its id, size, and path.
struct Object {
    id: u64,
    size: (f32, f32),
    at: Path,
}

/// Position `from + f * per_frame`, score `score`, in frames `frames`.
fn moving(
    id: u64,
    from: (f32, f32),
    per_frame: (f32, f32),
    hidden: std::ops::Range<u32>,
) -> Object {
    Object {
        id,
        size: (40.0, 60.0),
        at: Box::new(move |f| {
            let t = f as f32;
            (!hidden.contains(&f)).then_some((
                from.0 + t * per_frame.0,
                from.1 + t * per_frame.1,
                0.9,
            ))
        }),
    }
}

/// A deterministic jitter of about a pixel, so that boxes are not exact.
fn jitter(f: u32, id: u64, k: u64) -> f32 {
    let h = ((u64::from(f) * 2_654_435_761) ^ (id * 40_503) ^ (k * 97)).wrapping_mul(0x9E37_79B9);
    ((h >> 16) % 200) as f32 / 100.0 - 1.0
}

/// Per frame, (true id, track id) of every visible object.
fn run(objects: &[Object], frames: u32, config: ByteTrackConfig) -> Vec<Vec<(u64, u64)>> {
    let mut tracker = ByteTrack::new(config, 1);
    (0..frames)
        .map(|f| {
            let mut truth = Vec::new();
            let mut detections = Vec::new();
            // Detectors list boxes in no particular order: reverse every other frame.
            let order: Vec<&Object> = if f % 2 == 0 {
                objects.iter().collect()
            } else {
                objects.iter().rev().collect()
            };
            for o in order {
                if let Some((x, y, score)) = (o.at)(f) {
                    truth.push(o.id);
                    detections.push(detection(
                        x + jitter(f, o.id, 0),
                        y + jitter(f, o.id, 1),
                        o.size,
                        score,
                    ));
                }
            }
            tracker.update(&mut detections);
            truth
                .into_iter()
                .zip(detections.iter().map(|d| d.track_id))
                .collect()
        })
        .collect()
}

pub(super) fn detection(x: f32, y: f32, (width, height): (f32, f32), score: f32) -> Detection {
    Detection {
        bbox: BoundingBox {
            x,
            y,
            width,
            height,
        },
        class_id: 0,
        label: "box".into(),
        score,
        objectness: score,
        classification: None,
        track_id: 0,
    }
}

/// ID switches, IDP and IDR of a run.
#[derive(Debug)]
struct Metrics {
    switches: usize,
    idp: f64,
    idr: f64,
}

fn metrics(run: &[Vec<(u64, u64)>]) -> Metrics {
    let mut last = std::collections::HashMap::new();
    let mut switches = 0;
    let mut pairs = std::collections::HashMap::new();
    let (mut truths, mut tracked) = (0usize, 0usize);
    for &(truth, track) in run.iter().flatten() {
        truths += 1;
        if track == 0 {
            continue;
        }
        tracked += 1;
        *pairs.entry((truth, track)).or_insert(0usize) += 1;
        if let Some(previous) = last.insert(truth, track) {
            switches += usize::from(previous != track);
        }
    }
    // The best one-to-one pairing of true objects and tracks by frames shared.
    let mut ids: Vec<u64> = pairs.keys().map(|k| k.0).collect();
    let mut tracks: Vec<u64> = pairs.keys().map(|k| k.1).collect();
    ids.sort();
    ids.dedup();
    tracks.sort();
    tracks.dedup();
    let most = pairs.values().copied().max().unwrap_or(1) as f64;
    let cost: Vec<Vec<f64>> = ids
        .iter()
        .map(|i| {
            tracks
                .iter()
                .map(|t| 1.0 - *pairs.get(&(*i, *t)).unwrap_or(&0) as f64 / most)
                .collect()
        })
        .collect();
    let shared: usize = assign(&cost, 1.0)
        .into_iter()
        .map(|(i, t)| *pairs.get(&(ids[i], tracks[t])).unwrap_or(&0))
        .sum();
    Metrics {
        switches,
        idp: shared as f64 / tracked.max(1) as f64,
        idr: shared as f64 / truths.max(1) as f64,
    }
}

#[test]
fn boxes_whose_paths_cross_apart_keep_their_ids() {
    let objects = [
        moving(1, (0.0, 100.0), (8.0, 0.0), 0..0),
        moving(2, (400.0, 220.0), (-8.0, 0.0), 0..0),
        moving(3, (200.0, 0.0), (0.0, 6.0), 0..0), // passes between them, vertically
    ];
    let m = metrics(&run(&objects, 50, ByteTrackConfig::DEFAULT));
    eprintln!("crossing apart: {m:?}");
    assert_eq!(m.switches, 0);
    assert!(m.idp > 0.99 && m.idr > 0.99, "{m:?}");
}

#[test]
fn boxes_that_overlap_as_they_cross_switch_at_most_once() {
    // Head on, on the same line: they overlap fully halfway.
    let objects = [
        moving(1, (0.0, 100.0), (6.0, 0.0), 0..0),
        moving(2, (360.0, 104.0), (-6.0, 0.0), 0..0),
    ];
    let m = metrics(&run(&objects, 60, ByteTrackConfig::DEFAULT));
    eprintln!("crossing overlapped: {m:?}");
    assert!(m.switches <= 1, "{m:?}");
    assert!(m.idr > 0.85, "{m:?}");
}

#[test]
fn a_box_hidden_for_a_few_frames_comes_back_with_its_id() {
    let objects = [
        moving(1, (0.0, 100.0), (5.0, 1.0), 20..28),
        moving(2, (300.0, 300.0), (-3.0, 0.0), 0..0),
    ];
    let run = run(&objects, 50, ByteTrackConfig::DEFAULT);
    let m = metrics(&run);
    eprintln!("hidden 8 frames: {m:?}");
    assert_eq!(m.switches, 0);
    assert!(m.idp > 0.99 && m.idr > 0.99, "{m:?}");
}

#[test]
fn a_box_hidden_longer_than_the_buffer_comes_back_as_a_new_track() {
    let config = ByteTrackConfig {
        track_buffer: 10,
        ..ByteTrackConfig::DEFAULT
    };
    let objects = [moving(1, (0.0, 100.0), (2.0, 0.0), 10..25)];
    let run = run(&objects, 40, config);
    let before = run[9][0].1;
    let after = run[30][0].1;
    assert!(
        before != 0 && after != 0 && before != after,
        "{before} {after}"
    );
}

#[test]
fn a_low_score_box_keeps_a_track_alive_but_starts_none() {
    // Object 1 is occluded in frames 10..20 (score 0.3); object 2 scores 0.3 throughout.
    let objects = [
        Object {
            id: 1,
            size: (40.0, 60.0),
            at: Box::new(|f| {
                let score = if (10..20).contains(&f) { 0.3 } else { 0.9 };
                Some((4.0 * f as f32, 50.0, score))
            }),
        },
        Object {
            id: 2,
            size: (40.0, 60.0),
            at: Box::new(|f| Some((300.0, 300.0 - f as f32, 0.3))),
        },
    ];
    let run = run(&objects, 30, ByteTrackConfig::DEFAULT);
    let ids_of = |id| run.iter().flatten().filter(move |p| p.0 == id).map(|p| p.1);
    let first = ids_of(1).next().unwrap();
    assert!(first != 0 && ids_of(1).all(|t| t == first));
    assert!(ids_of(2).all(|t| t == 0));
}

#[test]
fn the_stage_keeps_tracks_across_swaps_and_restarts_ids_on_new_settings() {
    let mut tracking = Tracking::default();
    let config = ByteTrackConfig::DEFAULT;
    let frame = |x: f32| vec![detection(x, 10.0, (40.0, 60.0), 0.9)];
    let mut ids = Vec::new();
    for x in [0.0, 3.0, 6.0] {
        let mut d = frame(x);
        tracking.update(Some(&config), &mut d);
        ids.push(d[0].track_id);
    }
    assert_eq!(ids, vec![1, 1, 1]);
    let changed = ByteTrackConfig {
        track_buffer: 5,
        ..config
    };
    let mut d = frame(9.0);
    tracking.update(Some(&changed), &mut d);
    assert_eq!(d[0].track_id, 2, "a new tracker, ids going on");
    tracking.update(None, &mut d);
    assert_eq!(d[0].track_id, 0);
    tracking.update(Some(&changed), &mut d);
    assert_eq!(d[0].track_id, 3);
}
