//! vision_node: subscribes to images, runs the core pipeline on each, publishes results.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rclrs::{log_error, log_info, log_warn, MessageInfo, Node, Publisher, Subscription};
use ros_env::rust_vision::msg::DetectionArray;
use ros_env::sensor_msgs::msg::Image;

use crate::detect::blobs::Blobs;
use crate::detect::{Detector, DetectorKind};
use crate::pipeline::Pipeline;
use crate::report::{FailureLog, Verdict};
use crate::ros::convert::{detection_array, raw_image};
use crate::ros::params::{NodeConfig, Parameters};

/// Topic of the input images (relative, so namespaces and remapping apply).
pub const IMAGE_TOPIC: &str = "image";
/// Topic of the results.
pub const DETECTIONS_TOPIC: &str = "detections";
/// After the first report of a failure cause, at most one report per cause this often.
const FAILURE_REPORT_INTERVAL: Duration = Duration::from_secs(5);

/// Frame counters, per node.
#[derive(Debug)]
struct State {
    /// Frames received so far; the next frame's sequence number.
    received: u64,
    /// Frames whose results were published.
    published: u64,
    failures: FailureLog,
}

/// The running node: keep it alive while the executor spins.
pub struct VisionNode {
    node: Node,
    _parameters: Parameters,
    _subscription: Subscription<Image>,
    state: Arc<Mutex<State>>,
}

/// The detector `config` selects.
fn detector(config: &NodeConfig) -> crate::Result<Box<dyn Detector>> {
    Ok(match config.detector {
        DetectorKind::Blobs => Box::new(Blobs::new(config.blobs)?),
    })
}

impl VisionNode {
    /// Declares the parameters on `node`, then subscribes and advertises.
    pub fn new(node: Node) -> anyhow::Result<Self> {
        let parameters = Parameters::declare(&node)?;
        let config = parameters.config().clone();
        let pipeline = Pipeline {
            limits: config.limits,
            detector: detector(&config)?,
            classifier: None,
            max_detections: config.max_detections,
        };
        let publisher: Publisher<DetectionArray> = node.create_publisher(DETECTIONS_TOPIC)?;
        let state = Arc::new(Mutex::new(State {
            received: 0,
            published: 0,
            failures: FailureLog::new(FAILURE_REPORT_INTERVAL),
        }));

        let callback_state = Arc::clone(&state);
        let callback_node = Arc::clone(&node);
        let subscription = node.create_subscription(
            config.qos.options(IMAGE_TOPIC, config.qos_depth),
            move |msg: Image, info: MessageInfo| {
                let received_at = arrival(&info);
                let mut state = callback_state.lock().unwrap_or_else(|e| e.into_inner());
                let sequence = state.received;
                state.received += 1;
                let (header, raw) = raw_image(msg);
                match pipeline.process(crate::frame::Input::Raw(raw)) {
                    Ok(result) => {
                        let latency = received_at.elapsed();
                        let out = detection_array(header, sequence, &result, latency);
                        match publisher.publish(out) {
                            Ok(()) => state.published += 1,
                            Err(e) => log_error!(callback_node.logger(), "publish failed: {e}"),
                        }
                    }
                    Err(e) => {
                        let cause = e.cause();
                        if let Verdict::Report { suppressed } =
                            state.failures.record(cause, Instant::now())
                        {
                            let more = if suppressed > 0 {
                                format!(" ({suppressed} more frames failed with this cause)")
                            } else {
                                String::new()
                            };
                            log_warn!(
                                callback_node.logger(),
                                "frame {sequence} (stamp {}.{:09}, frame_id {:?}) dropped, \
                                 {cause}: {e}{more}",
                                header.stamp.sec,
                                header.stamp.nanosec,
                                header.frame_id,
                            );
                        }
                    }
                }
            },
        )?;

        log_info!(
            node.logger(),
            "listening on {} ({:?}, depth {}), detector {:?}, publishing on {}",
            subscription.topic_name(),
            config.qos,
            config.qos_depth,
            config.detector,
            DETECTIONS_TOPIC,
        );
        Ok(VisionNode {
            node,
            _parameters: parameters,
            _subscription: subscription,
            state,
        })
    }

    /// Logs what happened to every frame received; called on shutdown.
    pub fn log_summary(&self) {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let causes: Vec<String> = state
            .failures
            .totals()
            .map(|(cause, n)| format!("{cause}: {n}"))
            .collect();
        log_info!(
            self.node.logger(),
            "frames received {}, results published {}, failed {}{}",
            state.received,
            state.published,
            state.failures.total(),
            if causes.is_empty() {
                String::new()
            } else {
                format!(" ({})", causes.join(", "))
            },
        );
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
