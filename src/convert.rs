//! sensor_msgs/Image -> core [`RawImage`], core [`FrameResult`] -> rust_vision/DetectionArray,
//! core [`StreamReport`] -> rust_vision/StreamSummary.

use std::time::Duration;

use rclrs::rosidl_runtime_rs::Message;
use ros_env::rust_vision::msg::{Detection as DetectionMsg, DetectionArray, StreamSummary};
use ros_env::sensor_msgs::msg::{rmw::Image as RmwImage, CompressedImage as CompressedMsg, Image};
use ros_env::std_msgs::msg::Header;

use image::RgbImage;

use rust_vision_core::frame::{CompressedImage, Input, Pixels, RawImage};
use rust_vision_core::health::StreamReport;
use rust_vision_core::pipeline::FrameResult;

/// The pixels of an Image message as the middleware filled it, read in place (rclrs's
/// idiomatic message would copy them into a `Vec` first).
struct MessagePixels(RmwImage);

impl AsRef<[u8]> for MessagePixels {
    fn as_ref(&self) -> &[u8] {
        &self.0.data
    }
}

/// Splits an Image message, as taken from the middleware, into its header and the raw
/// image; the pixels stay in the message's buffer.
pub fn raw_image(mut msg: RmwImage) -> (Header, Input) {
    let header = Header::from_rmw_message(std::mem::take(&mut msg.header));
    let raw = RawImage {
        width: msg.width,
        height: msg.height,
        step: msg.step,
        encoding: msg.encoding.to_string(),
        is_bigendian: msg.is_bigendian != 0,
        data: Pixels::foreign(MessagePixels(msg)),
    };
    (header, Input::Raw(raw))
}

/// Splits a CompressedImage message into its header and the compressed image.
pub fn compressed_image(msg: CompressedMsg) -> (Header, Input) {
    let compressed = CompressedImage {
        format: msg.format,
        data: msg.data,
    };
    (msg.header, Input::Compressed(compressed))
}

/// An rgb8 Image message of `image`, with `header`.
pub fn image_msg(header: Header, image: RgbImage) -> Image {
    let (width, height) = image.dimensions();
    Image {
        header,
        height,
        width,
        encoding: "rgb8".into(),
        is_bigendian: 0,
        step: width * 3,
        data: image.into_raw(),
    }
}

/// The results message of one frame; `header` is the source image's, unchanged.
pub fn detection_array(
    header: Header,
    sequence: u64,
    result: &FrameResult,
    latency: Duration,
) -> DetectionArray {
    let detections = result
        .detections
        .iter()
        .map(|d| {
            let (classification_label, classification_score) = match &d.classification {
                Some(c) => (c.label.clone(), c.score),
                None => (String::new(), 0.0),
            };
            DetectionMsg {
                x: d.bbox.x,
                y: d.bbox.y,
                width: d.bbox.width,
                height: d.bbox.height,
                class_id: d.class_id,
                label: d.label.clone(),
                score: d.score,
                objectness: d.objectness,
                classification_label,
                classification_score,
                track_id: d.track_id,
            }
        })
        .collect();
    DetectionArray {
        header,
        image_width: result.width,
        image_height: result.height,
        sequence,
        detections,
        latency: latency.as_secs_f64(),
        decode_time: result.timings.decode.as_secs_f64(),
        detect_time: result.timings.detect.as_secs_f64(),
        classify_time: result.timings.classify.as_secs_f64(),
    }
}

/// The StreamSummary message of `report`, with the header of the stream's EndOfStream.
pub fn stream_summary(header: Header, report: &StreamReport) -> StreamSummary {
    let (failure_causes, failure_counts) = report
        .failed_by_cause
        .iter()
        .map(|&(cause, n)| (cause.to_string(), n))
        .unzip();
    StreamSummary {
        header,
        frames_sent: report.sent,
        frames_received: report.received,
        frames_processed: report.processed,
        frames_failed: report.failed,
        failure_causes,
        failure_counts,
        frames_dropped: report.dropped,
        frames_paused: report.paused,
        frames_lost: report.lost,
        first_sequence: report.first_sequence,
        duration: report.duration.as_secs_f64(),
        complete: report.complete(),
        abandoned: report.abandoned,
    }
}
