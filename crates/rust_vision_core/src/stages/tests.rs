//! Unit tests of [`super`] (stages).

use super::*;
use crate::detect::{Detection, Detector};
use crate::frame::{Limits, RawImage};
use std::sync::mpsc;
use std::time::Duration;

/// Finds nothing, slowly.
struct Slow(Duration);

impl Detector for Slow {
    fn name(&self) -> &'static str {
        "slow"
    }
    fn detect(&self, _: &RgbImage) -> crate::Result<Vec<Detection>> {
        std::thread::sleep(self.0);
        Ok(Vec::new())
    }
}

fn pipeline(delay_ms: u64) -> Pipeline {
    Pipeline {
        limits: Limits::default(),
        detector: Box::new(Slow(Duration::from_millis(delay_ms))),
        classifier: None,
        max_detections: 10,
        tracker: None,
    }
}

fn job(sequence: u64, width: u32) -> Job<u64> {
    Job {
        meta: sequence,
        sequence,
        input: Input::Raw(RawImage {
            width,
            height: 2,
            step: width,
            encoding: "mono8".into(),
            is_bigendian: false,
            data: vec![0; width as usize * 2].into(),
        }),
        received_at: Instant::now(),
    }
}

/// Runs `frames` jobs (width 0, a bad frame, where `bad` says) and returns the
/// sequence numbers of the outcomes (negative for failures) and the dropped ones.
fn run(
    overflow: Overflow,
    delay_ms: u64,
    frames: u64,
    bad: fn(u64) -> bool,
) -> (Vec<i64>, Vec<u64>) {
    let (tx, rx) = mpsc::channel();
    let stages = Stages::start(
        pipeline(delay_ms),
        overflow,
        Capacities::default(),
        move |o| {
            tx.send(match o {
                Outcome::Done { sequence, .. } => sequence as i64,
                Outcome::Failed { sequence, .. } => -(sequence as i64),
            })
            .unwrap();
        },
    );
    let mut dropped = Vec::new();
    for i in 1..=frames {
        let width = if bad(i) { 0 } else { 4 };
        dropped.extend(stages.submit(job(i, width)).into_iter().map(|j| j.sequence));
        assert!(stages.depths().input <= Capacities::default().input);
    }
    stages.finish();
    (rx.iter().collect(), dropped)
}

#[test]
fn all_keeps_every_frame_in_order() {
    let (outcomes, dropped) = run(Overflow::All, 2, 40, |i| i % 7 == 0);
    assert!(dropped.is_empty());
    let expected: Vec<i64> = (1..=40).map(|i| if i % 7 == 0 { -i } else { i }).collect();
    assert_eq!(outcomes, expected);
}

#[test]
fn latest_drops_the_oldest_and_accounts_for_every_frame() {
    let (outcomes, dropped) = run(Overflow::Latest, 5, 100, |_| false);
    assert!(!dropped.is_empty());
    let mut seen: Vec<u64> = outcomes.iter().map(|&s| s as u64).collect();
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "out of order: {seen:?}"
    );
    // The newest frame is never the one dropped.
    assert_eq!(seen.last(), Some(&100));
    seen.extend(&dropped);
    seen.sort_unstable();
    assert_eq!(seen, (1..=100).collect::<Vec<_>>());
}

/// Slow on narrow images, fast on wide ones: later frames overtake earlier ones.
struct Uneven;

impl Detector for Uneven {
    fn name(&self) -> &'static str {
        "uneven"
    }
    fn detect(&self, image: &RgbImage) -> crate::Result<Vec<Detection>> {
        if image.width() == 4 {
            std::thread::sleep(Duration::from_millis(6));
        }
        Ok(Vec::new())
    }
}

#[test]
fn several_detect_workers_keep_the_order() {
    let (tx, rx) = mpsc::channel();
    let mut p = pipeline(0);
    p.detector = Box::new(Uneven);
    let capacities = Capacities {
        detect_workers: 3,
        ..Capacities::default()
    };
    let stages = Stages::start(p, Overflow::All, capacities, move |o| {
        if let Outcome::Done { sequence, .. } = o {
            tx.send(sequence).unwrap();
        }
    });
    for i in 0..60 {
        stages.submit(job(i, if i % 3 == 0 { 4 } else { 6 }));
    }
    stages.finish();
    assert_eq!(rx.iter().collect::<Vec<_>>(), (0..60).collect::<Vec<_>>());
}

#[test]
fn a_new_pipeline_applies_to_the_next_frames() {
    let (tx, rx) = mpsc::channel();
    let stages = Stages::start(
        pipeline(0),
        Overflow::All,
        Capacities::default(),
        move |o| {
            if let Outcome::Done { result, .. } = o {
                tx.send(result.detections.len()).unwrap();
            }
        },
    );
    stages.submit(job(1, 4));
    let mut blobs = pipeline(0);
    blobs.detector = Box::new(
        crate::detect::blobs::Blobs::new(crate::detect::blobs::BlobsConfig {
            segmentation: crate::detect::blobs::Segmentation::Dark,
            min_area: 1,
            ..Default::default()
        })
        .unwrap(),
    );
    std::thread::sleep(Duration::from_millis(50));
    stages.set_pipeline(blobs);
    stages.submit(job(2, 4));
    stages.finish();
    assert_eq!(rx.iter().collect::<Vec<_>>(), [0, 1]);
}
