//! The core's settings as schema rows, one per setting, in the order of the README's
//! table: name, type, default, range, runtime or start-up, description, and how each
//! applies to a [`PipelineConfig`].

use std::time::Duration;

use crate::classify::ClassifierKind;
use crate::detect::blobs::{BlobsConfig, Segmentation};
use crate::detect::cascade::CascadeParams;
use crate::detect::onnx::LayoutChoice;
use crate::detect::{DetectorKind, MAX_DETECTIONS};
use crate::frame::Limits;
use crate::onnx_model::{Backend, Provider, MAX_INPUT_SIZE};
use crate::schema::{
    choice, choice_of, double, int, param, text, Param, AT_ONCE, RUNTIME, START_UP,
};
use crate::stages::{Capacities, Overflow};
use crate::track::{ByteTrackConfig, TrackerKind};

use super::PipelineConfig;

/// Every setting of a pipeline, in the order of the README's table. Defaults of the
/// parts' settings come from their `DEFAULT`s; the aspect ratios are written out because
/// the core keeps them as f32, and 0.1f32 is not 0.1.
pub const PARAMETERS: &[Param<PipelineConfig>] = &[
    param(
        "end_of_stream_timeout",
        double(5.0, 0.0, 3600.0),
        AT_ONCE,
        "At an end of stream (rust_vision/EndOfStream on `image/end_of_stream`), how long \
         to wait for frames the source sent that have not arrived, seconds after the last \
         one received; those still missing then are counted lost in the summary",
        |c, v| {
            c.end_of_stream_timeout = Duration::from_secs_f64(v.double());
            Ok(())
        },
    ),
    param(
        "overflow",
        choice_of("latest", Overflow::NAMES),
        AT_ONCE,
        "When the input queue is full: latest drops the oldest queued frame (live cameras), \
         all waits and never drops (batch work)",
        |c, v| {
            c.overflow = choice(v)?;
            Ok(())
        },
    ),
    param(
        "input_queue",
        int(Capacities::DEFAULT.input as i64, 1, 1000),
        START_UP,
        "Capacity of the input queue, frames",
        |c, v| {
            c.capacities.input = v.int() as usize;
            Ok(())
        },
    ),
    param(
        "stage_queue",
        int(Capacities::DEFAULT.stage as i64, 1, 100),
        START_UP,
        "Capacity of each queue between two stages, frames",
        |c, v| {
            c.capacities.stage = v.int() as usize;
            Ok(())
        },
    ),
    param(
        "detect_workers",
        int(Capacities::DEFAULT.detect_workers as i64, 1, 64),
        START_UP,
        "Worker threads that each decode and detect a frame, on successive frames \
         (results stay in order)",
        |c, v| {
            c.capacities.detect_workers = v.int() as usize;
            Ok(())
        },
    ),
    param(
        "blobs.mode",
        choice_of("chroma", Segmentation::NAMES),
        RUNTIME,
        "blobs: foreground pixels are colourful (chroma >= threshold), bright \
         (luma >= threshold) or dark (luma < threshold)",
        |c, v| {
            c.blobs.segmentation = choice(v)?;
            Ok(())
        },
    ),
    param(
        "blobs.threshold",
        int(BlobsConfig::DEFAULT.threshold as i64, 0, 255),
        RUNTIME,
        "blobs: threshold of the segmentation measure (0..255)",
        |c, v| {
            c.blobs.threshold = v.int() as u8;
            Ok(())
        },
    ),
    param(
        "blobs.min_area",
        int(BlobsConfig::DEFAULT.min_area as i64, 1, 1 << 40),
        RUNTIME,
        "blobs: smallest blob reported, pixels",
        |c, v| {
            c.blobs.min_area = v.int() as u64;
            Ok(())
        },
    ),
    param(
        "blobs.max_area",
        int(BlobsConfig::DEFAULT.max_area as i64, 0, 1 << 40),
        RUNTIME,
        "blobs: largest blob reported, pixels; 0 for no limit",
        |c, v| {
            c.blobs.max_area = v.int() as u64;
            Ok(())
        },
    ),
    param(
        "blobs.min_aspect",
        double(0.1, 0.001, 1000.0),
        RUNTIME,
        "blobs: smallest box aspect ratio (width / height) reported",
        |c, v| {
            c.blobs.min_aspect = v.double() as f32;
            Ok(())
        },
    ),
    param(
        "blobs.max_aspect",
        double(10.0, 0.001, 1000.0),
        RUNTIME,
        "blobs: largest box aspect ratio (width / height) reported",
        |c, v| {
            c.blobs.max_aspect = v.double() as f32;
            Ok(())
        },
    ),
    param(
        "cascade.model",
        text(""),
        RUNTIME,
        "cascade: OpenCV cascade XML file (Haar or LBP), such as \
         haarcascade_frontalface_default.xml from opencv-python's cv2.data.haarcascades",
        |c, v| {
            c.cascade.model = v.text().into();
            Ok(())
        },
    ),
    param(
        "cascade.label",
        text(""),
        RUNTIME,
        "cascade: label of the detections; empty for the model file's name without \
         haarcascade_/lbpcascade_ (frontalface_default)",
        |c, v| {
            c.cascade.label = v.text().into();
            Ok(())
        },
    ),
    param(
        "cascade.scale_factor",
        double(CascadeParams::DEFAULT.scale_factor, 1.001, 10.0),
        RUNTIME,
        "cascade: each pyramid level is this much smaller than the previous \
         (detectMultiScale's scaleFactor)",
        |c, v| {
            c.cascade.params.scale_factor = v.double();
            Ok(())
        },
    ),
    param(
        "cascade.min_neighbors",
        int(CascadeParams::DEFAULT.min_neighbors as i64, 0, 1000),
        RUNTIME,
        "cascade: a detection needs more than this many overlapping windows \
         (detectMultiScale's minNeighbors)",
        |c, v| {
            c.cascade.params.min_neighbors = v.int() as u32;
            Ok(())
        },
    ),
    param(
        "cascade.min_width",
        int(0, 0, 65535),
        RUNTIME,
        "cascade: narrowest object searched for, pixels; 0 for the model's window",
        |c, v| {
            c.cascade.params.min_size.0 = v.int() as u32;
            Ok(())
        },
    ),
    param(
        "cascade.min_height",
        int(0, 0, 65535),
        RUNTIME,
        "cascade: shortest object searched for, pixels; 0 for the model's window",
        |c, v| {
            c.cascade.params.min_size.1 = v.int() as u32;
            Ok(())
        },
    ),
    param(
        "cascade.max_width",
        int(0, 0, 65535),
        RUNTIME,
        "cascade: widest object searched for, pixels; 0 for the image width",
        |c, v| {
            c.cascade.params.max_size.0 = v.int() as u32;
            Ok(())
        },
    ),
    param(
        "cascade.max_height",
        int(0, 0, 65535),
        RUNTIME,
        "cascade: tallest object searched for, pixels; 0 for the image height",
        |c, v| {
            c.cascade.params.max_size.1 = v.int() as u32;
            Ok(())
        },
    ),
    param(
        "onnx.model",
        text(""),
        RUNTIME,
        "onnx: YOLO-family detection model (.onnx; output layout as onnx.layout says)",
        |c, v| {
            c.onnx.model = v.text().into();
            Ok(())
        },
    ),
    param(
        "onnx.labels",
        text(""),
        RUNTIME,
        "onnx: class names, one per line; empty for the names in the model's metadata",
        |c, v| {
            c.onnx.labels = v.text().into();
            Ok(())
        },
    ),
    param(
        "onnx.layout",
        choice_of("auto", LayoutChoice::NAMES),
        RUNTIME,
        "onnx: output layout: yolov5 (1 x N x (5+C)); yolov8 (1 x (4+C) x N: YOLOv8, \
         YOLO11); end2end (1 x N x 6, x1 y1 x2 y2 score class: YOLOv10, YOLO26, nms=True \
         exports; no NMS applied); rtdetr (1 x N x (4+C), boxes as fractions of the input; \
         no NMS applied); auto (from Ultralytics' metadata, else the shape; a shape that \
         fits several layouts is refused)",
        |c, v| {
            c.onnx.config.layout = choice(v)?;
            Ok(())
        },
    ),
    param(
        "onnx.input_size",
        int(0, 0, MAX_INPUT_SIZE as i64),
        RUNTIME,
        "onnx: input width and height, pixels, for models that leave it open; 0 for the \
         model's own (640 when open; a model declaring more than 4096 is refused)",
        |c, v| {
            c.onnx.config.input_size = v.int() as u32;
            Ok(())
        },
    ),
    param(
        "onnx.confidence",
        double(0.25, 0.0, 1.0),
        RUNTIME,
        "onnx: smallest score reported (class score, times objectness for yolov5)",
        |c, v| {
            c.onnx.config.confidence = v.double() as f32;
            Ok(())
        },
    ),
    param(
        "onnx.iou",
        double(0.45, 0.0, 1.0),
        RUNTIME,
        "onnx: non-maximum suppression (yolov5, yolov8): a box overlapping a better one of \
         its class by more than this IoU is dropped",
        |c, v| {
            c.onnx.config.iou = v.double() as f32;
            Ok(())
        },
    ),
    param(
        "detector",
        choice_of("blobs", DetectorKind::NAMES),
        RUNTIME,
        "First-stage detector",
        |c, v| {
            c.detector = choice(v)?;
            Ok(())
        },
    ),
    param(
        "classifier_model",
        text(""),
        RUNTIME,
        "classifier cascade: cascade XML run inside each box (haarcascade_eye.xml, \
         haarcascade_smile.xml); classifier onnx: image classification model (.onnx)",
        |c, v| {
            c.classifier_model.model = v.text().into();
            Ok(())
        },
    ),
    param(
        "classifier_labels",
        text(""),
        RUNTIME,
        "classifier onnx: class names, one per line; empty for the model's metadata",
        |c, v| {
            c.classifier_model.labels = v.text().into();
            Ok(())
        },
    ),
    param(
        "classifier_input_size",
        int(0, 0, MAX_INPUT_SIZE as i64),
        RUNTIME,
        "classifier onnx: input width and height for models that leave it open; 0 for 224 \
         (a model declaring more than 4096 is refused)",
        |c, v| {
            c.classifier_model.input_size = v.int() as u32;
            Ok(())
        },
    ),
    param(
        "classifier",
        choice_of("none", ClassifierKind::NAMES),
        RUNTIME,
        "Second stage, on each detection's box: none; color (the dominant colour name, \
         from the box's hue histogram); cascade (an attribute found by the cascade \
         classifier_model inside the box); onnx (top-1 class of the ONNX model \
         classifier_model)",
        |c, v| {
            c.classifier = choice(v)?;
            Ok(())
        },
    ),
    param(
        "bytetrack.track_high_thresh",
        double(ByteTrackConfig::DEFAULT.track_high_thresh, 0.0, 1.0),
        RUNTIME,
        "tracker bytetrack: detections scoring at least this are matched to tracks first \
         and may start tracks",
        |c, v| {
            c.bytetrack.track_high_thresh = v.double();
            Ok(())
        },
    ),
    param(
        "bytetrack.track_low_thresh",
        double(ByteTrackConfig::DEFAULT.track_low_thresh, 0.0, 1.0),
        RUNTIME,
        "tracker bytetrack: detections scoring below this are ignored; between it and \
         track_high_thresh they only keep existing tracks alive (an occluded object)",
        |c, v| {
            c.bytetrack.track_low_thresh = v.double();
            Ok(())
        },
    ),
    param(
        "bytetrack.new_track_thresh",
        double(ByteTrackConfig::DEFAULT.new_track_thresh, 0.0, 1.0),
        RUNTIME,
        "tracker bytetrack: a confident detection no track claims starts a track when it \
         scores at least this",
        |c, v| {
            c.bytetrack.new_track_thresh = v.double();
            Ok(())
        },
    ),
    param(
        "bytetrack.match_thresh",
        double(ByteTrackConfig::DEFAULT.match_thresh, 0.0, 1.0),
        RUNTIME,
        "tracker bytetrack: largest IoU cost (1 - IoU) of a track-detection match",
        |c, v| {
            c.bytetrack.match_thresh = v.double();
            Ok(())
        },
    ),
    param(
        "bytetrack.track_buffer",
        int(ByteTrackConfig::DEFAULT.track_buffer as i64, 1, 100_000),
        RUNTIME,
        "tracker bytetrack: frames a track survives without a detection (occlusion, a \
         missed frame) before it ends; a detection after that gets a new id",
        |c, v| {
            c.bytetrack.track_buffer = v.int() as u32;
            Ok(())
        },
    ),
    param(
        "tracker",
        choice_of("none", TrackerKind::NAMES),
        RUNTIME,
        "Identities across frames, after classification: none (track_id 0) or bytetrack \
         (ByteTrack: each detection gets the persistent id of the object it follows)",
        |c, v| {
            c.tracker = choice(v)?;
            Ok(())
        },
    ),
    param(
        "onnx_backend",
        choice_of("auto", Backend::NAMES),
        START_UP,
        "Engine of the ONNX detector and classifier: onnxruntime (ONNX Runtime, loaded \
         from onnx_library; an error where none loads); tract (pure Rust, nothing to \
         install, slower); auto (onnxruntime where a library is found, else tract)",
        |c, v| {
            c.onnx_runtime.backend = choice(v)?;
            Ok(())
        },
    ),
    param(
        "onnx_library",
        text(""),
        START_UP,
        "ONNX Runtime library (libonnxruntime.so) to load; empty for ORT_DYLIB_PATH, \
         else the one in the onnxruntime Python package that python3 finds",
        |c, v| {
            c.onnx_runtime.library = v.text().into();
            Ok(())
        },
    ),
    param(
        "onnx_provider",
        choice_of("cpu", Provider::NAMES),
        START_UP,
        "Where ONNX Runtime runs models: cpu; cuda or tensorrt (an error where the \
         library lacks them, as the CPU-only onnxruntime package does); auto (tensorrt, \
         else cuda, else cpu, with the fallback logged)",
        |c, v| {
            c.onnx_runtime.provider = choice(v)?;
            Ok(())
        },
    ),
    param(
        "onnx_threads",
        int(0, 0, 256),
        START_UP,
        "ONNX Runtime's threads within an operator; 0 for one per core",
        |c, v| {
            c.onnx_runtime.threads = v.int() as usize;
            Ok(())
        },
    ),
    param(
        "max_detections",
        int(100, 1, MAX_DETECTIONS as i64),
        RUNTIME,
        "Most detections published per frame (the detector's first ones; the onnx \
         detector's suppression stops there)",
        |c, v| {
            c.max_detections = v.int() as usize;
            Ok(())
        },
    ),
    param(
        "max_width",
        int(Limits::DEFAULT.max_width as i64, 1, 65535),
        START_UP,
        "Widest image accepted, pixels; wider ones are refused unread",
        |c, v| {
            c.limits.max_width = v.int() as u32;
            Ok(())
        },
    ),
    param(
        "max_height",
        int(Limits::DEFAULT.max_height as i64, 1, 65535),
        START_UP,
        "Tallest image accepted, pixels; taller ones are refused unread",
        |c, v| {
            c.limits.max_height = v.int() as u32;
            Ok(())
        },
    ),
    param(
        "max_bytes",
        int(Limits::DEFAULT.max_bytes as i64, 1, 1 << 40),
        START_UP,
        "Largest image accepted, bytes (received data and decoded RGB each)",
        |c, v| {
            c.limits.max_bytes = v.int() as u64;
            Ok(())
        },
    ),
];
