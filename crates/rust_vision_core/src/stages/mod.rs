//! The concurrent pipeline: worker threads each decode and detect a frame, a classify
//! thread and a sink follow, connected by bounded queues, and the sink receives every
//! outcome in the order the frames were submitted.
//!
//! Decoding and detection share a thread so that a frame is detected on while its pixels
//! are still in that core's cache, with one hand-over less; with several workers both
//! run on several frames at once (a JPEG burst decodes in parallel).
//!
//! Memory is bounded by the queue capacities: at most `input + 2 * stage + 2 * workers +
//! 2` frames exist at once: the input queue, then at most `2 * workers + stage` frames
//! taken by the workers and not yet classified (in a worker, in the queue to classify, or
//! waiting to be put back in order: see `Window`), the output queue and the frame in
//! the sink. What happens when the input queue is full is the [`Overflow`] policy.
//!
//! A frame is the unit of failure: an error or a panic in its work (see `contain`)
//! becomes its [`Outcome::Failed`], and every frame taken reaches the sink, so no stage
//! waits for one that will not come.
//!
//! Each stage is a long-lived loop of CPU-bound work that blocks on its queue, so each
//! runs on its own OS thread with crossbeam channels between them.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{bounded, Receiver, Sender};
use image::RgbImage;

use crate::error::Error;
use crate::frame::Input;
use crate::pipeline::{FrameResult, Pipeline, StageTimings};
use crate::track::Tracking;
pub(crate) use contain::contained;
pub use input::{Overflow, Submitter};
use window::Window;

mod contain;
mod input;
mod window;

/// Queue capacities, frames, and how many threads detect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacities {
    /// Frames waiting to be decoded. Default 4.
    pub input: usize,
    /// Frames waiting between two stages. Default 2.
    pub stage: usize,
    /// Worker threads that each decode and detect a frame, on successive frames;
    /// results are put back in order before classification. Default 1.
    pub detect_workers: usize,
}

impl Capacities {
    /// The defaults, also those of vision_node's parameters.
    pub const DEFAULT: Capacities = Capacities {
        input: 4,
        stage: 2,
        detect_workers: 1,
    };
}

impl Default for Capacities {
    fn default() -> Self {
        Capacities::DEFAULT
    }
}

/// A frame handed to the pipeline. `meta` travels with it untouched (the ROS layer keeps
/// the message header there).
#[derive(Debug)]
pub struct Job<M> {
    pub meta: M,
    /// Position of the frame in the input stream.
    pub sequence: u64,
    pub input: Input,
    /// When the frame was received: latencies are measured from here.
    pub received_at: Instant,
}

/// What became of a frame.
#[derive(Debug)]
pub enum Outcome<M> {
    /// Processed: the decoded image (for annotation) and what was found.
    Done {
        meta: M,
        sequence: u64,
        received_at: Instant,
        image: RgbImage,
        result: FrameResult,
    },
    /// A stage refused the frame.
    Failed {
        meta: M,
        sequence: u64,
        error: Error,
    },
}

/// A frame between two stages.
struct Work<M> {
    /// Position among the frames the workers took from the input queue, for putting them
    /// back in order after several workers.
    ticket: u64,
    meta: M,
    sequence: u64,
    received_at: Instant,
    state: Result<InFlight, Error>,
}

struct InFlight {
    image: RgbImage,
    detections: Vec<crate::detect::Detection>,
    timings: StageTimings,
}

/// Queue lengths, frames, at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Depths {
    pub input: usize,
    pub classify: usize,
    pub output: usize,
}

/// The running stages.
pub struct Stages<M> {
    /// None once the stages are closing.
    input: Option<Submitter<M>>,
    depth_probes: [Receiver<Work<M>>; 2],
    latest: Arc<AtomicBool>,
    pipeline: Arc<RwLock<Arc<Pipeline>>>,
    threads: Vec<JoinHandle<()>>,
}

impl<M: Send + 'static> Stages<M> {
    /// Starts the stage threads; `sink` is called on its own thread with each outcome.
    pub fn start(
        pipeline: Pipeline,
        overflow: Overflow,
        capacities: Capacities,
        mut sink: impl FnMut(Outcome<M>) + Send + 'static,
    ) -> Self {
        let pipeline = Arc::new(RwLock::new(Arc::new(pipeline)));
        let (input_tx, input_rx) = bounded::<Job<M>>(capacities.input.max(1));
        let (classify_tx, classify_rx) = bounded::<Work<M>>(capacities.stage.max(1));
        let (output_tx, output_rx) = bounded::<Work<M>>(capacities.stage.max(1));
        let mut threads = Vec::new();

        // Workers number the frames as they take them, so that evicted frames leave no
        // gap in the numbering classify puts them back in order by.
        let input = Arc::new(Mutex::new((0u64, input_rx.clone())));
        let workers = capacities.detect_workers.max(1);
        let window = Window::new(2 * workers + capacities.stage.max(1));
        for _ in 0..workers {
            let (p, input, tx, window) = (
                Arc::clone(&pipeline),
                Arc::clone(&input),
                classify_tx.clone(),
                window.clone(),
            );
            threads.push(spawn("detect", move || {
                detect_stage(&p, &input, &tx, &window)
            }));
        }
        drop(classify_tx);
        let (p, rx) = (Arc::clone(&pipeline), classify_rx.clone());
        threads.push(spawn("classify", move || {
            classify_stage(&p, rx, &output_tx, &window)
        }));
        let rx = output_rx.clone();
        threads.push(spawn("sink", move || {
            for work in rx {
                // The sink is the front end's, which contains what it knows how to count
                // (the runtime's does, for publishing); anything else is printed by the
                // standard hook, and the thread goes on so that no stage before it blocks.
                let _ = std::panic::catch_unwind(AssertUnwindSafe(|| sink(outcome(work))));
            }
        }));

        let latest = Arc::new(AtomicBool::new(overflow == Overflow::Latest));
        Stages {
            input: Some(Submitter {
                input: input_tx,
                evict: input_rx,
                latest: Arc::clone(&latest),
            }),
            depth_probes: [classify_rx, output_rx],
            latest,
            pipeline,
            threads,
        }
    }

    /// What queues frames, until the stages close. A front end that may wait for room
    /// (overflow `all`) waits on it without holding the stages.
    pub fn submitter(&self) -> Option<Submitter<M>> {
        self.input.clone()
    }

    /// [`Submitter::submit`]; nothing once the stages are closing.
    pub fn submit(&self, job: Job<M>) -> Vec<Job<M>> {
        self.input
            .as_ref()
            .map(|s| s.submit(job))
            .unwrap_or_default()
    }

    /// Runs the following frames through `pipeline` (frames already past a stage keep
    /// the previous one for that stage).
    pub fn set_pipeline(&self, pipeline: Pipeline) {
        *self.pipeline.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(pipeline);
    }

    /// Applies `overflow` from the next submitted frame.
    pub fn set_overflow(&self, overflow: Overflow) {
        self.latest
            .store(overflow == Overflow::Latest, Ordering::Relaxed);
    }

    /// Current queue lengths.
    pub fn depths(&self) -> Depths {
        Depths {
            input: self.input.as_ref().map_or(0, |s| s.evict.len()),
            classify: self.depth_probes[0].len(),
            output: self.depth_probes[1].len(),
        }
    }

    /// Stops taking frames, lets every queued frame through to the sink, and waits for
    /// it (dropping the stages does the same).
    pub fn finish(self) {}
}

impl<M> Drop for Stages<M> {
    fn drop(&mut self) {
        // Closing the input ends each stage in turn once it has passed on what it holds.
        self.input = None;
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// The pipeline frames entering a stage now go through.
fn current(pipeline: &RwLock<Arc<Pipeline>>) -> Arc<Pipeline> {
    Arc::clone(&pipeline.read().unwrap_or_else(|e| e.into_inner()))
}

/// A worker: takes frames from the input queue, decodes and detects each.
fn detect_stage<M>(
    pipeline: &RwLock<Arc<Pipeline>>,
    input: &Mutex<(u64, Receiver<Job<M>>)>,
    tx: &Sender<Work<M>>,
    window: &Window,
) {
    loop {
        window.enter();
        let Some((ticket, job)) = take(input) else {
            window.leave();
            return;
        };
        if tx
            .send(decode_and_detect(&current(pipeline), ticket, job))
            .is_err()
        {
            return;
        }
    }
}

/// Classifies and tracks the frames in the order they were taken: the workers finish out
/// of order, so frames wait until their turn. The tracks live here, across pipeline
/// swaps; tracking's time counts in the classify stage's.
fn classify_stage<M>(
    pipeline: &RwLock<Arc<Pipeline>>,
    rx: Receiver<Work<M>>,
    tx: &Sender<Work<M>>,
    window: &Window,
) {
    let mut waiting = std::collections::BTreeMap::new();
    let mut next = 0u64;
    let mut tracking = Tracking::default();
    for work in rx {
        waiting.insert(work.ticket, work);
        while let Some(mut work) = waiting.remove(&next) {
            next += 1;
            work.state = work
                .state
                .and_then(|f| classify_and_track(&current(pipeline), &mut tracking, f));
            if tx.send(work).is_err() {
                return;
            }
            window.leave();
        }
    }
}

/// The classify stage's part of a frame; a panic in tracking restarts the tracks.
fn classify_and_track(
    pipeline: &Pipeline,
    tracking: &mut Tracking,
    mut f: InFlight,
) -> Result<InFlight, Error> {
    let classify = contained("classification", || {
        pipeline.classify(&f.image, &mut f.detections)
    })??;
    let track = contained("tracking", || {
        tracking.update(pipeline.tracker.as_ref(), &mut f.detections)
    })
    .inspect_err(|_| tracking.restart())?;
    f.timings.classify = classify + track;
    Ok(f)
}

/// What the sink gets for a frame that went through every stage.
fn outcome<M>(work: Work<M>) -> Outcome<M> {
    match work.state {
        Ok(f) => Outcome::Done {
            meta: work.meta,
            sequence: work.sequence,
            received_at: work.received_at,
            result: FrameResult {
                width: f.image.width(),
                height: f.image.height(),
                detections: f.detections,
                timings: f.timings,
            },
            image: f.image,
        },
        Err(error) => Outcome::Failed {
            meta: work.meta,
            sequence: work.sequence,
            error,
        },
    }
}

/// The next frame of the input queue and its number; `None` once the queue is closed
/// and empty.
fn take<M>(input: &Mutex<(u64, Receiver<Job<M>>)>) -> Option<(u64, Job<M>)> {
    let mut input = input.lock().unwrap_or_else(|e| e.into_inner());
    let job = input.1.recv().ok()?;
    input.0 += 1;
    Some((input.0 - 1, job))
}

/// A worker's part of a frame: decoding it, then detecting on it.
fn decode_and_detect<M>(pipeline: &Pipeline, ticket: u64, job: Job<M>) -> Work<M> {
    Work {
        ticket,
        state: decoded_and_detected(pipeline, job.input),
        meta: job.meta,
        sequence: job.sequence,
        received_at: job.received_at,
    }
}

fn decoded_and_detected(pipeline: &Pipeline, input: Input) -> Result<InFlight, Error> {
    let (image, decode) = contained("decoding", || pipeline.decode(input))??;
    let (detections, detect) = contained("detection", || pipeline.detect(&image))??;
    Ok(InFlight {
        image,
        detections,
        timings: StageTimings {
            decode,
            detect,
            ..StageTimings::default()
        },
    })
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name(format!("rv-{name}"))
        .spawn(f)
        .expect("spawning a pipeline thread")
}

#[cfg(test)]
mod tests;
