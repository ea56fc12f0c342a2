//! vision_node: subscribes to images, runs them through the core's concurrent stages,
//! publishes results, annotated images, diagnostics and, at each end of stream, a summary.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use rclrs::{
    log_error, log_info, log_warn, IntoPrimitiveOptions, MessageInfo, Node, Publisher,
    QoSReliabilityPolicy, Subscription, Timer,
};
use ros_env::diagnostic_msgs::msg::{DiagnosticArray, DiagnosticStatus, KeyValue};
use ros_env::rust_vision::msg::{DetectionArray, EndOfStream, StreamSummary};
use ros_env::sensor_msgs::msg::{rmw::Image as RmwImage, CompressedImage, Image};
use ros_env::std_msgs::msg::{ColorRGBA, Header};
use ros_env::visualization_msgs::msg::Marker;

use crate::convert::{compressed_image, detection_array, image_msg, raw_image, stream_summary};
use crate::models::ModelCache;
use crate::params::{NodeConfig, Parameters};
use crate::qos::QosPolicy;
use rust_vision_core::annotate::annotate;
use rust_vision_core::classify::ClassifierKind;
use rust_vision_core::detect::DetectorKind;
use rust_vision_core::frame::Input;
use rust_vision_core::health::{Health, HealthReport, StreamReport};
use rust_vision_core::report::Verdict;
use rust_vision_core::stages::{Job, Outcome, Stages};

/// Topic of the input images (relative, so namespaces and remapping apply); compressed
/// images are on `<resolved image topic>/compressed`, as image_transport names them.
pub const IMAGE_TOPIC: &str = "image";
/// Topic of the results.
pub const DETECTIONS_TOPIC: &str = "detections";
/// Topic of the annotated images, drawn only while someone subscribes.
pub const ANNOTATED_TOPIC: &str = "annotated_image";
/// The diagnostics figures as an rviz text marker (rviz has no diagnostics display).
pub const STATUS_MARKER_TOPIC: &str = "status_marker";
/// End of stream, under the resolved image topic: `<image>/end_of_stream`.
pub const END_OF_STREAM_SUFFIX: &str = "end_of_stream";
/// Stream summaries, under the resolved detections topic: `<detections>/summary`.
pub const SUMMARY_SUFFIX: &str = "summary";
/// How often an end of stream checks whether every frame is accounted for.
const END_OF_STREAM_POLL: Duration = Duration::from_millis(10);
/// After the first report of a failure cause, at most one report per cause this often.
const FAILURE_REPORT_INTERVAL: Duration = Duration::from_secs(5);
/// How often diagnostics are published; the log line comes every `LOG_EVERY` of them.
const DIAGNOSTICS_PERIOD: Duration = Duration::from_secs(1);
const LOG_EVERY: u64 = 5;

/// What the output stage needs: publishers and counters.
struct Outputs {
    node: Node,
    detections: Publisher<DetectionArray>,
    annotated: Publisher<Image>,
    /// The resolved annotated image topic, for graph queries.
    annotated_topic: String,
    summary: Publisher<StreamSummary>,
    health: Mutex<Health>,
    /// frame_id of the latest result: the frame the status marker is drawn in.
    frame_id: Mutex<String>,
}

/// What the subscriptions, the timer and parameter changes share.
struct Shared {
    outputs: Arc<Outputs>,
    stages: RwLock<Option<Stages<Header>>>,
    models: ModelCache,
    /// Number of the latest accepted configuration change; a pipeline built for an
    /// older one is not applied.
    generation: AtomicU64,
    /// Which models run, and why the last change could not be applied (if it failed).
    model_state: Mutex<ModelState>,
    end_of_stream_timeout: Mutex<Duration>,
    /// Whether an end of stream is being waited for.
    ending: AtomicBool,
}

#[derive(Debug, Clone, Default)]
struct ModelState {
    active: String,
    error: Option<String>,
}

/// The detector and classifier `config` runs, for logs and diagnostics.
fn describe(config: &NodeConfig, models: &ModelCache) -> String {
    let file = |path: &str| {
        Path::new(path)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let detector = match config.pipeline.detector {
        DetectorKind::Blobs => "blobs".to_string(),
        DetectorKind::Cascade => format!("cascade {}", file(&config.pipeline.cascade.model)),
        DetectorKind::Onnx => format!("onnx {}", file(&config.pipeline.onnx.model)),
    };
    let classifier = match config.pipeline.classifier {
        ClassifierKind::None => "none".to_string(),
        ClassifierKind::Color => "color".to_string(),
        ClassifierKind::Cascade => {
            format!("cascade {}", file(&config.pipeline.classifier_model.model))
        }
        ClassifierKind::Onnx => format!("onnx {}", file(&config.pipeline.classifier_model.model)),
    };
    let engine = models
        .onnx_engine(config)
        .map(|engine| format!(", ONNX on {engine}"))
        .unwrap_or_default();
    format!("detector {detector}, classifier {classifier}{engine}")
}

/// The running node: keep it alive while the executor spins, then [`VisionNode::finish`].
pub struct VisionNode {
    shared: Arc<Shared>,
    _parameters: Parameters,
    _raw: Option<Subscription<RmwImage>>,
    _compressed: Option<Subscription<CompressedImage>>,
    _end_of_stream: Subscription<EndOfStream>,
    _timer: Timer,
}

impl Shared {
    /// Applies changed parameter `name`: the pipeline of `config` replaces the running
    /// one, unless a later change came meanwhile or the models cannot be loaded (then
    /// the running one stays, and the reason is logged and put in the diagnostics).
    fn apply(&self, config: &NodeConfig, name: &str, generation: u64, started: Instant) {
        let logger = self.outputs.node.logger();
        let pipeline = match self.models.pipeline(config) {
            Ok(pipeline) => pipeline,
            Err(e) => {
                log_error!(
                    logger,
                    "{name} not applied, {} keeps running: {e}",
                    self.model_state().active
                );
                self.model_state
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .error = Some(format!("{name}: {e}"));
                return;
            }
        };
        let stages = self.stages.read().unwrap_or_else(|e| e.into_inner());
        let mut state = self.model_state.lock().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::SeqCst) != generation {
            return; // A later change is being applied.
        }
        if let Some(stages) = stages.as_ref() {
            stages.set_pipeline(pipeline);
        }
        self.models.keep_only(config);
        *state = ModelState {
            active: describe(config, &self.models),
            error: None,
        };
        log_info!(
            logger,
            "{name} changed; {} from the next frame (ready after {} ms)",
            state.active,
            started.elapsed().as_millis()
        );
    }

    fn model_state(&self) -> ModelState {
        self.model_state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Numbers a received frame and queues it; counts frames the overflow policy drops.
    fn receive(&self, header: Header, input: Input, received_at: Instant) {
        let sequence = self.outputs.health().receive(received_at);
        let job = Job {
            meta: header,
            sequence,
            input,
            received_at,
        };
        let stages = self.stages.read().unwrap_or_else(|e| e.into_inner());
        if let Some(stages) = stages.as_ref() {
            let dropped = stages.submit(job).len() as u64;
            self.outputs.health().dropped += dropped;
        }
    }

    /// An end of stream: once every frame received is accounted for, and every frame the
    /// source sent has arrived (or none came for `end_of_stream_timeout`), publishes the
    /// stream's summary, after the results of its frames.
    fn end_of_stream(self: &Arc<Self>, end: EndOfStream) {
        let logger = self.outputs.node.logger();
        if self.ending.swap(true, Ordering::SeqCst) {
            log_warn!(
                logger,
                "end of stream while the previous one is being summarised: ignored"
            );
            return;
        }
        log_info!(
            logger,
            "end of stream: {} frames sent; waiting for those in flight",
            end.frames
        );
        let shared = Arc::clone(self);
        std::thread::spawn(move || {
            let arrived = Instant::now();
            let report = loop {
                let timeout = *shared
                    .end_of_stream_timeout
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                {
                    let mut health = shared.outputs.health();
                    let last = health
                        .last_received_at()
                        .map_or(arrived, |t| t.max(arrived));
                    let arrived_all = health.stream_received() >= end.frames;
                    if health.in_flight() == 0 && (arrived_all || last.elapsed() >= timeout) {
                        break health.end_stream(end.frames, Instant::now());
                    }
                }
                std::thread::sleep(END_OF_STREAM_POLL);
            };
            shared.outputs.publish_summary(end.header, &report);
            shared.ending.store(false, Ordering::SeqCst);
        });
    }
}

impl Outputs {
    /// Publishes (latched) and logs the summary of a stream.
    fn publish_summary(&self, header: Header, report: &StreamReport) {
        let logger = self.node.logger();
        if report.complete() {
            log_info!(logger, "stream complete: {report}");
        } else {
            log_warn!(logger, "stream incomplete: {report}");
        }
        if let Err(e) = self.summary.publish(stream_summary(header, report)) {
            log_error!(logger, "publishing the stream summary: {e}");
        }
    }

    /// Whether anyone subscribes to the annotated images: a reader this writer has matched,
    /// or one the ROS graph knows of (which may come first).
    fn annotated_wanted(&self) -> bool {
        self.annotated.get_subscription_count().unwrap_or(0) > 0
            || self
                .node
                .count_subscriptions(&self.annotated_topic)
                .unwrap_or(0)
                > 0
    }

    fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The output stage: publishes a result (and the annotated image when someone
    /// listens), or reports a failure.
    fn publish(&self, outcome: Outcome<Header>) {
        match outcome {
            Outcome::Done {
                meta: header,
                sequence,
                received_at,
                mut image,
                result,
            } => {
                if self.annotated_wanted() {
                    annotate(&mut image, &result.detections);
                    if let Err(e) = self.annotated.publish(image_msg(header.clone(), image)) {
                        log_error!(self.node.logger(), "publishing the annotated image: {e}");
                    }
                }
                let latency = received_at.elapsed();
                if let Ok(mut frame_id) = self.frame_id.lock() {
                    frame_id.clone_from(&header.frame_id);
                }
                let msg = detection_array(header, sequence, &result, latency);
                match self.detections.publish(msg) {
                    Ok(()) => self.health().published(latency),
                    Err(e) => {
                        // Counted, so that an end of stream does not wait for it.
                        self.health().failed("not published", Instant::now());
                        log_error!(self.node.logger(), "publishing results: {e}");
                    }
                }
            }
            Outcome::Failed {
                meta: header,
                sequence,
                error,
            } => {
                let cause = error.cause();
                if let Verdict::Report { suppressed } = self.health().failed(cause, Instant::now())
                {
                    let more = if suppressed > 0 {
                        format!(" ({suppressed} more frames failed with this cause)")
                    } else {
                        String::new()
                    };
                    log_warn!(
                        self.node.logger(),
                        "frame {sequence} (stamp {}.{:09}, frame_id {:?}) dropped, \
                         {cause}: {error}{more}",
                        header.stamp.sec,
                        header.stamp.nanosec,
                        header.frame_id,
                    );
                }
            }
        }
    }
}

impl VisionNode {
    /// Declares the parameters on `node`, starts the stages, subscribes and advertises.
    pub fn new(node: Node) -> anyhow::Result<Self> {
        let parameters = Parameters::declare(&node)?;
        let config = parameters.config();
        // Reliable, keep last: a subscriber that falls further behind loses the oldest,
        // and its end-of-stream report says so. Transient local: DDS matches the two ends
        // of a connection separately, and a subscriber this writer has not matched yet
        // (though its reader matched us) still gets the results published meanwhile.
        let detections: Publisher<DetectionArray> = node.create_publisher(
            DETECTIONS_TOPIC
                .keep_last(config.results_depth)
                .reliable()
                .transient_local(),
        )?;
        // Latched: a consumer that subscribes after the stream ended still gets it.
        let summary_topic = format!("{}/{SUMMARY_SUFFIX}", detections.topic_name());
        let summary = node.create_publisher(
            summary_topic
                .as_str()
                .keep_last(1)
                .reliable()
                .transient_local(),
        )?;
        let annotated: Publisher<Image> = node.create_publisher(
            ANNOTATED_TOPIC
                .keep_last(config.annotated_depth)
                .reliable()
                .transient_local(),
        )?;
        let outputs = Arc::new(Outputs {
            node: Arc::clone(&node),
            detections,
            annotated_topic: annotated.topic_name(),
            annotated,
            summary,
            frame_id: Mutex::new(String::new()),
            health: Mutex::new(Health::new(FAILURE_REPORT_INTERVAL, Instant::now())),
        });
        let sink_outputs = Arc::clone(&outputs);
        let models = ModelCache::new(config.pipeline.onnx_runtime.clone());
        let stages = Stages::start(
            models.pipeline(&config)?,
            config.pipeline.overflow,
            config.pipeline.capacities,
            move |outcome| sink_outputs.publish(outcome),
        );
        let active = describe(&config, &models);
        let shared = Arc::new(Shared {
            outputs,
            stages: RwLock::new(Some(stages)),
            models,
            generation: AtomicU64::new(0),
            model_state: Mutex::new(ModelState {
                active,
                error: None,
            }),
            end_of_stream_timeout: Mutex::new(config.pipeline.end_of_stream_timeout),
            ending: AtomicBool::new(false),
        });

        // Backpressure needs a history that never overwrites: KEEP_ALL, reliable.
        let all = config.qos == QosPolicy::Reliable
            && config.pipeline.overflow == rust_vision_core::stages::Overflow::All;
        let depth = (!all).then_some(config.qos_depth);
        let receiver = Arc::clone(&shared);
        let raw = node.create_subscription(
            config.qos.options(IMAGE_TOPIC, depth),
            move |msg: RmwImage, info: MessageInfo| {
                let (header, input) = raw_image(msg);
                receiver.receive(header, input, arrival(&info));
            },
        )?;
        let raw_topic = raw.topic_name();
        let mut topics = vec![raw_topic.clone()];
        // The compressed topic hangs off the *resolved* image topic, remapping included,
        // which only a subscription to it tells.
        let raw = if config.transport.raw() {
            Some(raw)
        } else {
            topics.clear();
            None
        };
        let compressed = if config.transport.compressed() {
            let topic = format!("{raw_topic}/compressed");
            let receiver = Arc::clone(&shared);
            let subscription = node.create_subscription(
                config.qos.options(&topic, depth),
                move |msg: CompressedImage, info: MessageInfo| {
                    let (header, input) = compressed_image(msg);
                    receiver.receive(header, input, arrival(&info));
                },
            )?;
            topics.push(topic);
            Some(subscription)
        } else {
            None
        };

        // Reliable and latched, whatever the images' QoS: an end of stream must not be
        // lost, and may be sent before this node matched the source.
        let receiver = Arc::clone(&shared);
        let end_of_stream = node.create_subscription(
            format!("{raw_topic}/{END_OF_STREAM_SUFFIX}")
                .as_str()
                .keep_last(1)
                .reliable()
                .transient_local(),
            move |msg: EndOfStream| receiver.end_of_stream(msg),
        )?;

        let timer = health_timer(&node, &shared, config.qos, topics.clone())?;
        let listener = Arc::clone(&shared);
        parameters.on_change(Box::new(move |config, name| {
            if name == "end_of_stream_timeout" {
                *listener
                    .end_of_stream_timeout
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = config.pipeline.end_of_stream_timeout;
                return;
            }
            if name == "overflow" {
                let stages = listener.stages.read().unwrap_or_else(|e| e.into_inner());
                if let Some(stages) = stages.as_ref() {
                    stages.set_overflow(config.pipeline.overflow);
                }
                log_info!(
                    listener.outputs.node.logger(),
                    "overflow changed; applies now"
                );
                return;
            }
            let generation = listener.generation.fetch_add(1, Ordering::SeqCst) + 1;
            let started = Instant::now();
            if listener.models.has_models_for(config) {
                listener.apply(config, name, generation, started);
                return;
            }
            // A new model loads in the background; frames keep going through the
            // running pipeline until it is ready.
            log_info!(
                listener.outputs.node.logger(),
                "{name} changed; loading {} in the background, {} runs meanwhile",
                describe(config, &listener.models),
                listener.model_state().active
            );
            let (shared, config, name) = (Arc::clone(&listener), config.clone(), name.to_string());
            std::thread::spawn(move || shared.apply(&config, &name, generation, started));
        }));

        log_info!(
            node.logger(),
            "listening on {} (qos {}, {}), {}, overflow {}, publishing on {}",
            topics.join(" and "),
            config.qos.name(),
            depth.map_or("keep all".into(), |d| format!("depth {d}")),
            shared.model_state().active,
            config.pipeline.overflow.name(),
            DETECTIONS_TOPIC,
        );
        Ok(VisionNode {
            shared,
            _parameters: parameters,
            _raw: raw,
            _compressed: compressed,
            _end_of_stream: end_of_stream,
            _timer: timer,
        })
    }

    /// Lets the frames in flight through (their results are published), then logs what
    /// happened to every frame received. Call after the executor stopped.
    pub fn finish(self) {
        let stages = self
            .shared
            .stages
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(stages) = stages {
            stages.finish();
        }
        let outputs = &self.shared.outputs;
        let health = outputs.health();
        let causes: Vec<String> = health
            .failures
            .totals()
            .map(|(cause, n)| format!("{cause}: {n}"))
            .collect();
        log_info!(
            outputs.node.logger(),
            "frames received {}, results published {}, failed {}{}, dropped {}",
            health.received,
            health.published,
            health.failures.total(),
            if causes.is_empty() {
                String::new()
            } else {
                format!(" ({})", causes.join(", "))
            },
            health.dropped,
        );
    }
}

/// Every [`DIAGNOSTICS_PERIOD`]: diagnostics on /diagnostics, a log line every
/// [`LOG_EVERY`] periods, and a warning for each publisher whose QoS cannot reach us.
fn health_timer(
    node: &Node,
    shared: &Arc<Shared>,
    qos: QosPolicy,
    topics: Vec<String>,
) -> anyhow::Result<Timer> {
    let diagnostics: Publisher<DiagnosticArray> = node.create_publisher("/diagnostics")?;
    let marker: Publisher<Marker> = node.create_publisher(STATUS_MARKER_TOPIC)?;
    let (node, shared) = (Arc::clone(node), Arc::clone(shared));
    let mut ticks = 0u64;
    let mut last = (0u64, 0u64);
    let mut warned = HashSet::new();
    let mut publishers = HashMap::new();
    Ok(node
        .clone()
        .create_timer_repeating(DIAGNOSTICS_PERIOD, move || {
            let depths = {
                let stages = shared.stages.read().unwrap_or_else(|e| e.into_inner());
                stages.as_ref().map(Stages::depths).unwrap_or_default()
            };
            let report = shared.outputs.health().report(depths, Instant::now());
            let status = status(&node, &report, &shared.model_state(), &mut last);
            let stamp = node.get_clock().now().to_ros_msg().unwrap_or_default();
            if marker.get_subscription_count().unwrap_or(0) > 0 {
                let frame_id = shared
                    .outputs
                    .frame_id
                    .lock()
                    .map(|f| f.clone())
                    .unwrap_or_default();
                let header = Header {
                    stamp: stamp.clone(),
                    frame_id,
                };
                if let Err(e) = marker.publish(status_marker(header, &status)) {
                    log_error!(node.logger(), "publishing the status marker: {e}");
                }
            }
            let msg = DiagnosticArray {
                header: Header {
                    stamp,
                    frame_id: String::new(),
                },
                status: vec![status],
            };
            if let Err(e) = diagnostics.publish(msg) {
                log_error!(node.logger(), "publishing diagnostics: {e}");
            }
            ticks += 1;
            if ticks % LOG_EVERY == 1 {
                let line: Vec<String> = report
                    .values()
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect();
                log_info!(node.logger(), "{}", line.join(", "));
            }
            if qos == QosPolicy::Reliable {
                warn_incompatible_publishers(&node, &topics, &mut warned, &mut publishers);
            }
        })?)
}

/// The diagnostic status of one report: WARN while frames are dropped or failing.
fn status(
    node: &Node,
    report: &HealthReport,
    models: &ModelState,
    last: &mut (u64, u64),
) -> DiagnosticStatus {
    let (dropped, failed) = (report.dropped - last.0, report.failed - last.1);
    *last = (report.dropped, report.failed);
    let (level, message) = match (dropped, failed, &models.error) {
        (0, 0, None) => (DiagnosticStatus::OK, "ok".to_string()),
        (_, _, Some(error)) => (DiagnosticStatus::WARN, format!("model not loaded: {error}")),
        _ => (
            DiagnosticStatus::WARN,
            format!("{dropped} frames dropped, {failed} failed in the last period"),
        ),
    };
    let mut values = report.values();
    values.push(("models".into(), models.active.clone()));
    if let Some(error) = &models.error {
        values.push(("model error".into(), error.clone()));
    }
    DiagnosticStatus {
        level,
        name: format!("{}: pipeline", node.fully_qualified_name()),
        message,
        hardware_id: String::new(),
        values: values
            .into_iter()
            .map(|(key, value)| KeyValue { key, value })
            .collect(),
    }
}

/// The diagnostic status as a text marker in the camera's frame, for rviz (whose fixed
/// frame is then the camera's): the message, then one line per figure.
fn status_marker(header: Header, status: &DiagnosticStatus) -> Marker {
    let mut text = status.message.clone();
    for kv in &status.values {
        text += &format!("\n{}: {}", kv.key, kv.value);
    }
    let mut marker = Marker {
        header,
        ns: "rust_vision".into(),
        type_: Marker::TEXT_VIEW_FACING,
        action: Marker::ADD,
        text,
        // Text height, metres (the unit of the frame); white, or amber on WARN.
        color: if status.level == DiagnosticStatus::OK {
            ColorRGBA {
                r: 1.0,
                g: 1.0,
                b: 1.0,
                a: 1.0,
            }
        } else {
            ColorRGBA {
                r: 1.0,
                g: 0.75,
                b: 0.0,
                a: 1.0,
            }
        },
        ..Default::default()
    };
    marker.scale.z = 0.05;
    marker.pose.orientation.w = 1.0;
    marker
}

/// A best-effort publisher never matches a reliable subscription, and DDS says nothing:
/// the most common reason for "no detections". Warns once per publisher and topic.
/// Looks only when the number of publishers changed: rclrs logs an error for every remote
/// endpoint whose history the middleware does not report.
fn warn_incompatible_publishers(
    node: &Node,
    topics: &[String],
    warned: &mut HashSet<String>,
    counts: &mut HashMap<String, usize>,
) {
    for topic in topics {
        let count = node.count_publishers(topic).unwrap_or(0);
        if counts.insert(topic.clone(), count) == Some(count) {
            continue;
        }
        for publisher in node.get_publishers_info_by_topic(topic).unwrap_or_default() {
            if publisher.qos_profile.reliability != QoSReliabilityPolicy::BestEffort {
                continue;
            }
            let who = format!(
                "{}/{} on {topic}",
                publisher.node_namespace, publisher.node_name
            )
            .replace("//", "/");
            if warned.insert(who.clone()) {
                log_warn!(
                    node.logger(),
                    "QoS incompatible: publisher {who} offers RELIABILITY best effort, this \
                     node requests reliable; none of its frames will arrive. Set qos:=sensor_data \
                     or make the publisher reliable",
                );
            }
        }
    }
}

/// When the sample reached this process, as an Instant: the middleware's reception
/// time when it reports one, else now.
fn arrival(info: &MessageInfo) -> Instant {
    let now = Instant::now();
    info.received_timestamp
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .and_then(|age| now.checked_sub(age))
        .unwrap_or(now)
}
