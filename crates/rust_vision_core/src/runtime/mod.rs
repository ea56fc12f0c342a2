//! `runtime`: a running pipeline as any front end uses it. It owns the stages, the
//! models, the health figures, hot reload (a configuration change rebuilds the pipeline,
//! loading new models in the background while the running one carries on) and the
//! end-of-stream accounting; results and notices leave through a [`Sink`].
//!
//! vision_node is one front end (its sink publishes ROS messages); anything that can
//! take results can be another.

use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use image::RgbImage;

use crate::config::PipelineConfig;
use crate::error::{Error, Result};
use crate::frame::Input;
use crate::health::{Health, HealthReport, StreamReport};
use crate::models::ModelCache;
use crate::pipeline::FrameResult;
use crate::report::Verdict;
use crate::stages::{contained, Job, Outcome, Stages};
pub use changes::{describe, ModelState, Restore, Revert};
pub use tally::Tally;

/// After the first report of a failure cause, at most one report per cause this often.
pub const FAILURE_REPORT_INTERVAL: Duration = Duration::from_secs(5);
/// How often an end of stream checks whether every frame is accounted for.
pub(crate) const END_OF_STREAM_POLL: Duration = Duration::from_millis(10);

/// How much a notice matters, for the front end's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

/// Where a runtime's results go. Called from the runtime's threads, one call at a time
/// per kind of call; `M` is what the front end attaches to each frame (a ROS header).
pub trait Sink<M>: Send + Sync + 'static {
    /// A frame's result and its decoded image (to draw on, if the sink wants to). An
    /// error, or a panic, means it was not delivered; the runtime counts the frame
    /// failed (`not published`, or `internal` for a panic).
    fn result(
        &self,
        meta: M,
        sequence: u64,
        image: RgbImage,
        result: &FrameResult,
        latency: Duration,
    ) -> std::result::Result<(), String>;

    /// A frame that failed, when it is due a report: the first of its cause, then at
    /// most one per [`FAILURE_REPORT_INTERVAL`], with how many more failed meanwhile.
    /// Every failure is counted whether reported or not.
    fn failed(&self, meta: &M, sequence: u64, error: &Error, suppressed: u64);

    /// The account of a stream, once every frame of it is accounted for.
    fn stream_ended(&self, meta: M, report: &StreamReport);

    /// Something the front end's log should say (model changes and their failures,
    /// ends of stream).
    fn notice(&self, level: Level, message: &str);
}

/// What configuration changes share: kept under one lock.
struct Control {
    /// Number of the latest accepted change; a pipeline built for an older one is not
    /// applied.
    generation: u64,
    /// The configuration of the running pipeline, and of the runtime's own settings.
    running: PipelineConfig,
    models: ModelState,
    /// Whether an end of stream is being waited for.
    ending: bool,
    /// Set by [`Runtime::finish`]: an end of stream waited for is summarised as it is.
    closing: bool,
}

/// A running pipeline. See the module documentation.
pub struct Runtime<M> {
    stages: RwLock<Option<Stages<M>>>,
    health: Arc<Mutex<Health>>,
    models: ModelCache,
    control: Mutex<Control>,
    sink: Arc<dyn Sink<M>>,
    /// Model loads and end-of-stream waits under way, joined by [`Runtime::finish`]: a
    /// front end's resources (a node) must not outlive it on another thread.
    background: Mutex<Vec<JoinHandle<()>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl<M: Send + 'static> Runtime<M> {
    /// Loads the models of `config` and starts its stages; results go to `sink`.
    pub fn start(config: &PipelineConfig, sink: Arc<dyn Sink<M>>) -> Result<Arc<Self>> {
        let models = ModelCache::new(config.onnx_runtime.clone());
        let health = Arc::new(Mutex::new(Health::new(
            FAILURE_REPORT_INTERVAL,
            Instant::now(),
        )));
        let (stage_health, stage_sink) = (Arc::clone(&health), Arc::clone(&sink));
        let stages = Stages::start(
            models.pipeline(config)?,
            config.overflow,
            config.capacities,
            move |outcome| deliver(&stage_health, &*stage_sink, outcome),
        );
        let active = describe(config, &models);
        Ok(Arc::new(Runtime {
            stages: RwLock::new(Some(stages)),
            health,
            models,
            control: Mutex::new(Control {
                generation: 0,
                running: config.clone(),
                models: ModelState {
                    active,
                    error: None,
                },
                ending: false,
                closing: false,
            }),
            sink,
            background: Mutex::default(),
        }))
    }

    /// Numbers a received frame and queues it; counts frames the overflow policy drops.
    /// With overflow `all` and a full queue, waits for room. While paused, the frame is
    /// counted paused instead.
    pub fn receive(&self, meta: M, input: Input, received_at: Instant) {
        let Some(sequence) = lock(&self.health).receive(received_at) else {
            return;
        };
        let job = Job {
            meta,
            sequence,
            input,
            received_at,
        };
        let submitter = {
            let stages = self.stages.read().unwrap_or_else(|e| e.into_inner());
            stages.as_ref().and_then(Stages::submitter)
        };
        // Without the stages' lock: under overflow `all` this waits for room, and neither
        // finish() nor the diagnostics (waiting behind finish() for the lock) may wait
        // for it. After finish() nothing will process it: counted dropped, not left in
        // flight.
        let dropped = submitter.map_or(1, |s| s.submit(job).len() as u64);
        lock(&self.health).dropped += dropped;
    }

    /// Counts a frame received and dropped unprocessed: one taken in while the front end
    /// shuts down.
    pub fn refuse(&self, received_at: Instant) {
        let mut health = lock(&self.health);
        if health.receive(received_at).is_some() {
            health.dropped += 1;
        }
    }

    /// Runs `work` on a thread of its own, joined by [`Self::finish`].
    fn in_background(&self, work: impl FnOnce() + Send + 'static) {
        let mut background = lock(&self.background);
        background.retain(|t| !t.is_finished());
        background.push(thread::spawn(work));
    }

    /// The health figures since the last report, with the stage queues' depths now.
    pub fn health_report(&self) -> HealthReport {
        let depths = {
            let stages = self.stages.read().unwrap_or_else(|e| e.into_inner());
            stages.as_ref().map(Stages::depths).unwrap_or_default()
        };
        lock(&self.health).report(depths, Instant::now())
    }

    /// Pauses processing (frames received are counted paused) or resumes it.
    pub fn set_paused(&self, paused: bool) {
        lock(&self.health).pausing = paused;
    }

    /// Lets the frames in flight through (the sink gets their results), summarises an
    /// end of stream being waited for as it stands, waits for model loads under way,
    /// then returns what became of every frame received (its [`Tally`], as text).
    pub fn finish(&self) -> String {
        lock(&self.control).closing = true;
        let stages = self
            .stages
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(stages) = stages {
            stages.finish();
        }
        let background = std::mem::take(&mut *lock(&self.background));
        for thread in background {
            let _ = thread.join();
        }
        self.tally().to_string()
    }

    /// What became of the frames received so far, for a front end that must say it
    /// without waiting (a forced exit); holds nothing of the front end's.
    pub fn tally(&self) -> Tally {
        Tally(Arc::clone(&self.health))
    }
}

/// The output stage: hands an outcome to the sink and counts it.
fn deliver<M: 'static>(health: &Mutex<Health>, sink: &dyn Sink<M>, outcome: Outcome<M>) {
    match outcome {
        Outcome::Done {
            meta,
            sequence,
            received_at,
            image,
            result,
        } => {
            let latency = received_at.elapsed();
            let publish = || sink.result(meta, sequence, image, &result, latency);
            match contained("publishing", publish) {
                Ok(Ok(())) => lock(health).published(latency),
                Ok(Err(e)) => not_published(health, sink, "not published", &e),
                Err(panic) => not_published(health, sink, panic.cause(), &panic.to_string()),
            }
        }
        Outcome::Failed {
            meta,
            sequence,
            error,
        } => {
            let verdict = lock(health).failed(error.cause(), Instant::now());
            if let Verdict::Report { suppressed } = verdict {
                sink.failed(&meta, sequence, &error, suppressed);
            }
        }
    }
}

/// Counts a frame whose result could not be published (so that an end of stream does not
/// wait for it) and says why, rate-limited per cause as other failures are.
fn not_published<M: 'static>(
    health: &Mutex<Health>,
    sink: &dyn Sink<M>,
    cause: &'static str,
    why: &str,
) {
    let verdict = lock(health).failed(cause, Instant::now());
    if let Verdict::Report { suppressed } = verdict {
        let more = match suppressed {
            0 => String::new(),
            n => format!(" ({n} more frames not published since the last report)"),
        };
        sink.notice(Level::Error, &format!("publishing results: {why}{more}"));
    }
}

#[cfg(test)]
mod tests;

mod changes;
mod streams;
mod tally;
