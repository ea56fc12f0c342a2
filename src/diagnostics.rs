//! vision_node's diagnostics: every second the pipeline's figures on /diagnostics and as
//! an rviz text marker (the heartbeat), a log line every few seconds while frames come
//! in, and a warning for each publisher whose QoS cannot reach the node.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use rclrs::{log_error, log_info, log_warn, Node, Publisher, QoSReliabilityPolicy, Timer};
use ros_env::diagnostic_msgs::msg::{DiagnosticArray, DiagnosticStatus, KeyValue};
use ros_env::std_msgs::msg::{ColorRGBA, Header};
use ros_env::visualization_msgs::msg::Marker;

use crate::node::Outputs;
use crate::qos::QosPolicy;
use rust_vision_core::health::HealthReport;
use rust_vision_core::runtime::{ModelState, Runtime};

/// The diagnostics figures as an rviz text marker (rviz has no diagnostics display).
pub const STATUS_MARKER_TOPIC: &str = "status_marker";
/// How often diagnostics are published; the log line comes every `LOG_EVERY` of them
/// when frames came in meanwhile (an idle node logs nothing: diagnostics carry that).
const DIAGNOSTICS_PERIOD: Duration = Duration::from_secs(1);
const LOG_EVERY: u64 = 5;

/// Every [`DIAGNOSTICS_PERIOD`]: diagnostics on /diagnostics, a log line every
/// [`LOG_EVERY`] periods, and a warning for each publisher whose QoS cannot reach us.
pub fn health_timer(
    node: &Node,
    runtime: &Arc<Runtime<Header>>,
    outputs: &Arc<Outputs>,
    qos: QosPolicy,
    topics: Vec<String>,
) -> anyhow::Result<Timer> {
    let diagnostics: Publisher<DiagnosticArray> = node.create_publisher("/diagnostics")?;
    let marker: Publisher<Marker> = node.create_publisher(STATUS_MARKER_TOPIC)?;
    let (node, runtime, outputs) = (Arc::clone(node), Arc::clone(runtime), Arc::clone(outputs));
    let mut ticks = 0u64;
    let mut logged_received = 0u64;
    let mut last = (0u64, 0u64);
    quiet_qos_conversion();
    let mut warned = HashSet::new();
    let mut publishers = HashMap::new();
    Ok(node
        .clone()
        .create_timer_repeating(DIAGNOSTICS_PERIOD, move || {
            let report = runtime.health_report();
            let status = status(&node, &report, &runtime.model_state(), &mut last);
            let stamp = node.get_clock().now().to_ros_msg().unwrap_or_default();
            if marker.get_subscription_count().unwrap_or(0) > 0 {
                let frame_id = outputs
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
            if ticks % LOG_EVERY == 1 && report.received != logged_received {
                logged_received = report.received;
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
/// rclrs logs an ERROR ("History policy is unknown") for every endpoint whose QoS it
/// converts when the history is unknown, which it is for every endpoint found through
/// discovery (DDS does not carry the history); the check here reads reliability only.
/// A healthy run must print no ERROR, so that logger keeps only fatal messages.
fn quiet_qos_conversion() {
    if let Ok(logger) = rclrs::Logger::new("QoSProfile.conversion") {
        let _ = logger.set_level(rclrs::LogSeverity::Fatal);
    }
}

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
