//! vision_node: its lifecycle steps (configure, activate, deactivate, cleanup), and
//! its outputs: it publishes what the core [`Runtime`]'s [`Sink`] gets: results,
//! annotated images and, at each end of stream, a summary. Inputs are in
//! [`crate::inputs`], diagnostics in [`crate::diagnostics`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use image::RgbImage;
use rclrs::{
    log_error, log_info, log_warn, IntoPrimitiveOptions, Node, Publisher, Subscription, Timer,
};
use ros_env::rust_vision::msg::{DetectionArray, EndOfStream, StreamSummary};
use ros_env::sensor_msgs::msg::Image;
use ros_env::std_msgs::msg::Header;

use crate::convert::{detection_array, image_msg, stream_summary};
use crate::diagnostics::health_timer;
use crate::inputs::{Gate, ImageWorker, Inputs};
use crate::params::{NodeConfig, Parameters};
use crate::vision_msgs::VisionMsgs;
use rust_vision_core::annotate::annotate;
use rust_vision_core::error::Error;
use rust_vision_core::health::StreamReport;
use rust_vision_core::pipeline::FrameResult;
use rust_vision_core::runtime::{Level, Runtime, Sink, Tally};

/// Topic of the results.
pub const DETECTIONS_TOPIC: &str = "detections";
/// Topic of the annotated images, drawn only while someone subscribes.
pub const ANNOTATED_TOPIC: &str = "annotated_image";
/// Stream summaries, under the resolved detections topic: `<detections>/summary`.
pub const SUMMARY_SUFFIX: &str = "summary";

/// The runtime's sink: vision_node's publishers.
pub struct Outputs {
    node: Node,
    detections: Publisher<DetectionArray>,
    annotated: Publisher<Image>,
    /// The resolved annotated image topic, for graph queries.
    annotated_topic: String,
    summary: Publisher<StreamSummary>,
    /// vision_msgs/Detection2DArray, with `publish_vision_msgs`.
    vision_msgs: Option<VisionMsgs>,
    /// frame_id of the latest result: the frame the status marker is drawn in.
    pub frame_id: Mutex<String>,
}

/// vision_node: its parameters, and what the lifecycle has brought up: publishers and
/// the runtime once configured, subscriptions and diagnostics once active.
pub struct VisionNode {
    node: Node,
    parameters: Parameters,
    /// Where every configuration's image subscriptions take frames.
    images: ImageWorker,
    /// Set by `~/enable`; kept across configurations.
    paused: bool,
    /// Shared by every configuration's subscriptions and the signal handler.
    shutdown: Shutdown,
    configured: Option<Configured>,
    active: Option<Active>,
}

/// What the signal handler holds: the gate of the image subscriptions, closed at the first
/// signal, and the counts of the runtime configured last, said at a second one. Nothing of
/// the node: a node dropped on the signal thread outlives the middleware's exit handlers.
#[derive(Clone, Default)]
pub struct Shutdown {
    gate: Gate,
    tally: Arc<Mutex<Option<Tally>>>,
}

impl Shutdown {
    /// From now on, frames taken in are counted dropped, not processed.
    pub fn begin(&self) {
        self.gate.close();
    }

    /// Says `tally` at a second signal: that of the runtime configured last.
    fn watch(&self, tally: Tally) {
        *self.tally.lock().unwrap_or_else(|e| e.into_inner()) = Some(tally);
    }

    /// What became of the frames received so far.
    pub fn counted(&self) -> String {
        let tally = self.tally.lock().unwrap_or_else(|e| e.into_inner());
        tally
            .as_ref()
            .map_or("not configured, no frame received".into(), Tally::to_string)
    }
}

/// The publishers and the runtime with its models; and, from the first activation, the
/// end-of-stream subscription, kept while inactive: a new one would be handed the
/// latched end of a stream summarised already.
struct Configured {
    runtime: Arc<Runtime<Header>>,
    outputs: Arc<Outputs>,
    end_of_stream: Option<Subscription<EndOfStream>>,
}

/// The subscriptions and the diagnostics timer.
struct Active {
    _inputs: Inputs,
    _timer: Timer,
}

impl Outputs {
    /// The publishers, with the history depths of `config`.
    fn advertise(node: &Node, config: &NodeConfig) -> Result<Self, rclrs::RclrsError> {
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
        let vision_msgs = if config.publish_vision_msgs {
            VisionMsgs::advertise(node, config.results_depth)?
        } else {
            None
        };
        Ok(Outputs {
            node: Arc::clone(node),
            vision_msgs,
            detections,
            annotated_topic: annotated.topic_name(),
            annotated,
            summary,
            frame_id: Mutex::new(String::new()),
        })
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
}

impl Sink<Header> for Outputs {
    fn result(
        &self,
        header: Header,
        sequence: u64,
        mut image: RgbImage,
        result: &FrameResult,
        latency: Duration,
    ) -> Result<(), String> {
        if self.annotated_wanted() {
            annotate(&mut image, &result.detections);
            if let Err(e) = self.annotated.publish(image_msg(header.clone(), image)) {
                log_error!(self.node.logger(), "publishing the annotated image: {e}");
            }
        }
        if let Ok(mut frame_id) = self.frame_id.lock() {
            frame_id.clone_from(&header.frame_id);
        }
        // The vision_msgs copy failing must not cost the frame its own result.
        if let Some(Err(e)) = self
            .vision_msgs
            .as_ref()
            .map(|v| v.publish(&header, result))
        {
            log_error!(self.node.logger(), "publishing detections_2d: {e}");
        }
        let msg = detection_array(header, sequence, result, latency);
        self.detections.publish(msg).map_err(|e| e.to_string())
    }

    fn failed(&self, header: &Header, sequence: u64, error: &Error, suppressed: u64) {
        let more = if suppressed > 0 {
            format!(" ({suppressed} more frames failed with this cause)")
        } else {
            String::new()
        };
        log_warn!(
            self.node.logger(),
            "frame {sequence} (stamp {}.{:09}, frame_id {:?}) dropped, {}: {error}{more}",
            header.stamp.sec,
            header.stamp.nanosec,
            header.frame_id,
            error.cause(),
        );
    }

    /// Publishes (latched) and logs the summary of a stream.
    fn stream_ended(&self, header: Header, report: &StreamReport) {
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

    fn notice(&self, level: Level, message: &str) {
        let logger = self.node.logger();
        match level {
            Level::Info => log_info!(logger, "{message}"),
            Level::Warn => log_warn!(logger, "{message}"),
            Level::Error => log_error!(logger, "{message}"),
        }
    }
}

impl VisionNode {
    /// Declares the parameters on `node`; nothing else until [`Self::configure`].
    /// `shutdown` is the signal handler's handle on it.
    pub fn new(node: Node, shutdown: Shutdown) -> anyhow::Result<Self> {
        let parameters = Parameters::declare(&node)?;
        Ok(VisionNode {
            images: node.create_worker(()),
            node,
            parameters,
            paused: false,
            shutdown,
            configured: None,
            active: None,
        })
    }

    /// Whether the parameters ask for a managed (lifecycle) node.
    pub fn managed(&self) -> bool {
        self.parameters.config().managed
    }

    pub fn logger(&self) -> rclrs::Logger {
        self.node.logger().clone()
    }

    /// Advertises the results and starts the runtime, loading the models.
    pub fn configure(&mut self) -> anyhow::Result<()> {
        let config = self.parameters.config();
        let outputs = Arc::new(Outputs::advertise(&self.node, &config)?);
        let sink: Arc<dyn Sink<Header>> = Arc::clone(&outputs) as _;
        let runtime = Runtime::start(&config.pipeline, sink)?;
        runtime.set_paused(self.paused);
        self.shutdown.watch(runtime.tally());
        let (changes, restorer) = (Arc::clone(&runtime), self.parameters.restorer());
        let logger = self.logger();
        self.parameters
            .on_change(Some(Box::new(move |config, name| {
                let (restorer, logger) = (restorer.clone(), logger.clone());
                let restore = move |reverts: &[_]| {
                    if let Err(e) = restorer.restore(reverts) {
                        log_error!(&logger, "putting back the parameters that run: {e}");
                    }
                };
                changes.reconfigure(&config.pipeline, name, Box::new(restore))
            })));
        self.configured = Some(Configured {
            runtime,
            outputs,
            end_of_stream: None,
        });
        Ok(())
    }

    /// Subscribes to the images and starts the diagnostics.
    pub fn activate(&mut self) -> anyhow::Result<()> {
        let Some(configured) = &mut self.configured else {
            anyhow::bail!("not configured");
        };
        let (runtime, outputs) = (&configured.runtime, &configured.outputs);
        let config = self.parameters.config();
        let first = configured.end_of_stream.is_none();
        let mut inputs = Inputs::subscribe(
            &self.node,
            &self.images,
            &config,
            runtime,
            &self.shutdown.gate,
            first,
        )?;
        if let Some(end_of_stream) = inputs.end_of_stream.take() {
            configured.end_of_stream = Some(end_of_stream);
        }
        let timer = health_timer(
            &self.node,
            runtime,
            outputs,
            config.qos,
            inputs.topics.clone(),
        )?;
        log_info!(
            self.node.logger(),
            "listening on {} (qos {}, {}), {}, overflow {}, publishing on {}",
            inputs.topics.join(" and "),
            config.qos.name(),
            inputs
                .depth
                .map_or("keep all".into(), |d| format!("depth {d}")),
            runtime.model_state().active,
            config.pipeline.overflow.name(),
            DETECTIONS_TOPIC,
        );
        self.active = Some(Active {
            _inputs: inputs,
            _timer: timer,
        });
        Ok(())
    }

    /// Stops taking frames; those in flight are still processed and published.
    pub fn deactivate(&mut self) {
        self.active = None;
    }

    /// Stops taking frames, lets those in flight through (their results are published),
    /// logs what happened to every frame received, and frees the models and publishers.
    pub fn cleanup(&mut self) {
        self.active = None;
        if let Some(configured) = self.configured.take() {
            self.parameters.on_change(None);
            let tally = configured.runtime.finish();
            log_info!(self.node.logger(), "{tally}");
        }
    }

    /// Pauses or resumes detection (`~/enable`); frames received while paused are
    /// counted, not processed. Says what it did.
    pub fn set_paused(&mut self, paused: bool) -> String {
        let changed = std::mem::replace(&mut self.paused, paused) != paused;
        if let Some(configured) = &self.configured {
            configured.runtime.set_paused(paused);
        }
        let now = if paused { "paused" } else { "enabled" };
        let message = if changed {
            format!("detection {now}")
        } else {
            format!("detection already {now}")
        };
        if changed {
            log_info!(self.node.logger(), "{message}");
        }
        message
    }
}
