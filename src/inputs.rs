//! vision_node's inputs: the image subscriptions (raw, compressed or both, as
//! `transport` says, with the QoS of `qos`) and the end-of-stream subscription, each
//! message handed to the core [`Runtime`].
//!
//! The image subscriptions run on a worker of their own ([`ImageWorker`]): a thread
//! that takes a frame only once the previous one is queued. Under overflow `all` it
//! waits for room in the pipeline, so the backlog stays in the DDS reader's history
//! (and, once a Fast DDS profile's cap fills it, in the publisher's), while the node's
//! services, parameters and diagnostics go on answering on their own threads. (rclrs
//! takes a node's messages as they arrive and queues their callbacks without bound.)

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use rclrs::{IntoPrimitiveOptions, MessageInfo, Node, Subscription, Worker, WorkerSubscription};
use ros_env::rust_vision::msg::EndOfStream;
use ros_env::sensor_msgs::msg::{rmw::Image as RmwImage, CompressedImage};
use ros_env::std_msgs::msg::Header;

use crate::convert::{compressed_image, raw_image};
use crate::params::NodeConfig;
use crate::qos::QosPolicy;
use rust_vision_core::frame::{Input, Origin};
use rust_vision_core::runtime::Runtime;
use rust_vision_core::stages::Overflow;

/// Topic of the input images (relative, so namespaces and remapping apply); compressed
/// images are on `<resolved image topic>/compressed`, as image_transport names them.
pub const IMAGE_TOPIC: &str = "image";
/// End of stream, under the resolved image topic: `<image>/end_of_stream`.
pub const END_OF_STREAM_SUFFIX: &str = "end_of_stream";

/// Whether the image subscriptions still take frames in, shared by all of them.
///
/// Closed from the signal thread at a shutdown signal: under overflow `all`, the
/// reader may hold a backlog, which the image worker would otherwise go on taking frame
/// by frame, each waiting for room in the pipeline, before the executor stops. Once
/// closed, a frame taken is counted dropped at once.
#[derive(Clone, Default)]
pub struct Gate(Arc<AtomicBool>);

impl Gate {
    /// From now on, frames are counted, not processed.
    pub fn close(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn is_closed(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Hands a frame to `runtime`, with its origin where the middleware gives one and
    /// `streams` (one publisher a stream) holds, or counts it dropped once the gate is
    /// closed.
    fn pass(
        &self,
        runtime: &Runtime<Header>,
        (header, input): (Header, Input),
        info: &MessageInfo,
        streams: bool,
    ) {
        let at = arrival(info);
        if self.is_closed() {
            runtime.refuse(at);
        } else if let Some(origin) = origin(info).filter(|_| streams) {
            runtime.receive_from(header, input, at, origin);
        } else {
            runtime.receive(header, input, at);
        }
    }
}

/// The thread the image subscriptions take frames on, one for the node's life.
pub type ImageWorker = Worker<()>;

/// The image subscriptions of `config` (raw, compressed or both) and the topics they
/// listen on, each frame handed to `runtime`.
pub struct Inputs {
    _raw: Option<WorkerSubscription<RmwImage, ()>>,
    _compressed: Option<WorkerSubscription<CompressedImage, ()>>,
    /// Asked for only at the first activation.
    pub end_of_stream: Option<Subscription<EndOfStream>>,
    pub topics: Vec<String>,
    /// History depth of the image subscriptions; None: keep all.
    pub depth: Option<u32>,
}

impl Inputs {
    /// Subscribes to the images of `config` on `worker`, passed through `gate`, and
    /// (`with_end`) to their end of stream.
    pub fn subscribe(
        node: &Node,
        worker: &ImageWorker,
        config: &NodeConfig,
        runtime: &Arc<Runtime<Header>>,
        gate: &Gate,
        with_end: bool,
    ) -> Result<Self, rclrs::RclrsError> {
        // Backpressure needs a history that never overwrites: KEEP_ALL, reliable.
        let all = config.qos == QosPolicy::Reliable && config.pipeline.overflow == Overflow::All;
        let depth = (!all).then_some(config.qos_depth);
        // Both transports are two publishers (image_transport's raw and compressed) of
        // one stream: a publisher then does not mark a stream.
        let streams = !(config.transport.raw() && config.transport.compressed());
        let (receiver, raw_gate) = (Arc::clone(runtime), gate.clone());
        let raw = worker.create_subscription(
            config.qos.options(IMAGE_TOPIC, depth),
            move |msg: RmwImage, info: MessageInfo| {
                raw_gate.pass(&receiver, raw_image(msg), &info, streams);
            },
        )?;
        // The compressed topic hangs off the *resolved* image topic, remapping included,
        // which only a subscription to it tells.
        let raw_topic = raw.topic_name();
        let mut topics = Vec::new();
        let compressed = if config.transport.compressed() {
            let topic = format!("{raw_topic}/compressed");
            let (receiver, gate) = (Arc::clone(runtime), gate.clone());
            let subscription = worker.create_subscription(
                config.qos.options(&topic, depth),
                move |msg: CompressedImage, info: MessageInfo| {
                    gate.pass(&receiver, compressed_image(msg), &info, streams);
                },
            )?;
            topics.push(topic);
            Some(subscription)
        } else {
            None
        };
        let raw = config.transport.raw().then(|| {
            topics.insert(0, raw_topic.clone());
            raw
        });
        let end_of_stream = with_end
            .then(|| end_of_stream(node, &raw_topic, runtime))
            .transpose()?;
        Ok(Inputs {
            _raw: raw,
            _compressed: compressed,
            end_of_stream,
            topics,
            depth,
        })
    }
}

/// The subscription to the end of stream of `image_topic` (resolved), reliable and
/// latched whatever the images' QoS: an end of stream must not be lost, and may be sent
/// before this node matched the source.
fn end_of_stream(
    node: &Node,
    image_topic: &str,
    runtime: &Arc<Runtime<Header>>,
) -> Result<Subscription<EndOfStream>, rclrs::RclrsError> {
    let receiver = Arc::clone(runtime);
    node.create_subscription(
        format!("{image_topic}/{END_OF_STREAM_SUFFIX}")
            .as_str()
            .keep_last(1)
            .reliable()
            .transient_local(),
        move |msg: EndOfStream| receiver.end_of_stream(msg.header, msg.frames),
    )
}

/// The publisher of a sample and its sequence number of it, where the middleware
/// reports them (`u64::MAX` where it does not).
fn origin(info: &MessageInfo) -> Option<Origin> {
    (info.publication_sequence_number != u64::MAX).then(|| Origin {
        publisher: u128::from_le_bytes(info.publisher_gid.data),
        sequence: info.publication_sequence_number,
    })
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
