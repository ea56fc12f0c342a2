//! Unit tests of [`super`] (stages).

use super::*;
use crate::detect::{Detection, Detector};
use crate::frame::{Limits, RawImage};
use std::sync::atomic::AtomicUsize;
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

/// Slow on images 4 wide, fast on others: later frames overtake earlier ones.
struct Uneven(Duration);

impl Detector for Uneven {
    fn name(&self) -> &'static str {
        "uneven"
    }
    fn detect(&self, image: &RgbImage) -> crate::Result<Vec<Detection>> {
        if image.width() == 4 {
            std::thread::sleep(self.0);
        }
        Ok(Vec::new())
    }
}

#[test]
fn several_detect_workers_keep_the_order() {
    let (tx, rx) = mpsc::channel();
    let mut p = pipeline(0);
    p.detector = Box::new(Uneven(Duration::from_millis(6)));
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

/// Panics on images 3 pixels wide; elsewhere finds one box, as wide as the image.
struct PanicsOnWidth3;

impl Detector for PanicsOnWidth3 {
    fn name(&self) -> &'static str {
        "panics"
    }
    fn detect(&self, image: &RgbImage) -> crate::Result<Vec<Detection>> {
        assert!(image.width() != 3, "a detector bug on an image 3 wide");
        Ok(vec![Detection {
            bbox: crate::results::BoundingBox {
                x: 0.0,
                y: 0.0,
                width: image.width() as f32,
                height: 1.0,
            },
            class_id: 0,
            label: String::new(),
            score: 1.0,
            objectness: 1.0,
            classification: None,
            track_id: 0,
        }])
    }
}

/// Panics on boxes 5 pixels wide.
struct PanicsOnWidth5;

impl crate::classify::Classifier for PanicsOnWidth5 {
    fn name(&self) -> &'static str {
        "panics"
    }
    fn classify(
        &self,
        _: &RgbImage,
        bbox: &crate::results::BoundingBox,
    ) -> crate::Result<Option<crate::results::Classification>> {
        assert!(bbox.width as u32 != 5, "a classifier bug on a box 5 wide");
        Ok(None)
    }
}

/// Frames 3 pixels wide panic in detection, 5 wide in classification: each is that
/// frame's failure (cause `internal`, with the panic's message), every other frame goes
/// on in order, and the stages finish. Run on a thread of its own, so that a hang fails
/// the test instead of stalling it.
#[test]
fn a_panic_in_a_frames_work_fails_that_frame_only() {
    for detect_workers in [1, 3] {
        let (done_tx, done_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let (tx, rx) = mpsc::channel();
            let mut p = pipeline(0);
            p.detector = Box::new(PanicsOnWidth3);
            p.classifier = Some(Box::new(PanicsOnWidth5));
            p.tracker = Some(Default::default());
            let capacities = Capacities {
                detect_workers,
                ..Capacities::default()
            };
            let stages = Stages::start(p, Overflow::All, capacities, move |o| {
                tx.send(match o {
                    Outcome::Done { sequence, .. } => (sequence, String::new()),
                    Outcome::Failed {
                        sequence, error, ..
                    } => (sequence, format!("{}: {error}", error.cause())),
                })
                .unwrap();
            });
            for i in 0..30 {
                stages.submit(job(i, [4, 3, 5][i as usize % 3]));
            }
            stages.finish();
            done_tx.send(rx.iter().collect::<Vec<_>>()).unwrap();
        });
        let outcomes = done_rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the stages did not finish");
        assert_eq!(
            outcomes.iter().map(|o| o.0).collect::<Vec<_>>(),
            (0..30).collect::<Vec<_>>()
        );
        for (sequence, failure) in outcomes {
            let want = match sequence % 3 {
                0 => "",
                1 => "internal: internal error: panic in detection at ",
                _ => "internal: internal error: panic in classification at ",
            };
            assert!(failure.starts_with(want), "{sequence}: {failure}");
            assert!(want.is_empty() || failure.contains("bug on a"), "{failure}");
        }
    }
}

/// Frames alive, counted by their metadata.
#[derive(Default)]
struct Counts {
    now: AtomicUsize,
    most: AtomicUsize,
}

/// A frame's `meta` that keeps [`Counts`].
struct Alive(Arc<Counts>);

impl Alive {
    fn new(counts: &Arc<Counts>) -> Self {
        let now = counts.now.fetch_add(1, Ordering::SeqCst) + 1;
        counts.most.fetch_max(now, Ordering::SeqCst);
        Alive(Arc::clone(counts))
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// With several workers, a slow frame does not let the frames after it pile up while
/// they wait to be put back in order: at most `input + 2 * stage + 2 * workers + 2`
/// frames exist at once (here 16; about 20 more without the bound).
#[test]
fn a_slow_frame_with_several_workers_keeps_memory_bounded() {
    let counts = Arc::<Counts>::default();
    let mut p = pipeline(0);
    p.detector = Box::new(Uneven(Duration::from_millis(200)));
    let capacities = Capacities {
        detect_workers: 3,
        ..Capacities::default()
    };
    let (tx, rx) = mpsc::channel();
    let stages = Stages::start(p, Overflow::All, capacities, move |o| {
        tx.send(matches!(o, Outcome::Done { .. })).unwrap();
    });
    for i in 0..60 {
        let job = job(i, if i % 20 == 1 { 4 } else { 6 });
        stages.submit(Job {
            meta: Alive::new(&counts),
            sequence: job.sequence,
            input: job.input,
            received_at: job.received_at,
        });
    }
    stages.finish();
    assert_eq!(rx.iter().filter(|&done| done).count(), 60);
    let Capacities { input, stage, .. } = capacities;
    let bound = input + 2 * stage + 2 * capacities.detect_workers + 2;
    let most = counts.most.load(Ordering::SeqCst);
    assert!(
        most <= bound,
        "{most} frames alive at once, more than {bound}"
    );
}
