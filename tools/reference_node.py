#!/usr/bin/env python3
"""The node a Python user would write instead of vision_node: the baseline of
tools/bench_node.py.

Subscribes to `image` (sensor_msgs/Image) or `image/compressed`, gets the pixels with
np.frombuffer (cv2.imdecode for compressed), runs OpenCV or onnxruntime on them and
publishes a rust_vision/DetectionArray with the image's header, like vision_node. One
callback at a time, on rclpy's default executor; OpenCV and onnxruntime use their
default thread counts.

    reference_node.py blobs|cascade MODEL.xml|onnx MODEL.onnx|null [--compressed]

`null` answers every frame with an empty result without touching the pixels: the ceiling
of the image source and the transport.
"""

import argparse
import sys

import cv2
import numpy as np
import rclpy
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from rust_vision.msg import Detection, DetectionArray
from sensor_msgs.msg import CompressedImage, Image

# Reliable and keep all, as vision_node subscribes with qos:=reliable overflow:=all.
QOS = QoSProfile(history=HistoryPolicy.KEEP_ALL, reliability=ReliabilityPolicy.RELIABLE)


def bgr(msg):
    """The frame as an OpenCV BGR array (a view of the message's bytes where possible)."""
    if isinstance(msg, CompressedImage):
        return cv2.imdecode(np.frombuffer(msg.data, np.uint8), cv2.IMREAD_COLOR)
    rows = np.frombuffer(msg.data, np.uint8).reshape(msg.height, msg.step)
    pixels = rows[:, :msg.width * 3].reshape(msg.height, msg.width, 3)
    return pixels if msg.encoding == 'bgr8' else cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)


def blobs(image, threshold=60, min_area=100, min_aspect=0.1, max_aspect=10.0):
    """vision_node's blobs: chroma (max - min channel) >= threshold, 8-connected
    components, filtered by area and aspect; largest first."""
    b, g, r = cv2.split(image)
    chroma = cv2.subtract(cv2.max(cv2.max(b, g), r), cv2.min(cv2.min(b, g), r))
    _, mask = cv2.threshold(chroma, threshold - 1, 255, cv2.THRESH_BINARY)
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    found = []
    for x, y, w, h, area in stats[1:]:
        if area >= min_area and min_aspect <= w / h <= max_aspect:
            found.append((area, (x, y, w, h), 'blob', area / (w * h)))
    return [f[1:] for f in sorted(found, key=lambda f: -f[0])]


def cascade(model):
    classifier = cv2.CascadeClassifier(model)

    def detect(image):
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        boxes = classifier.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=3)
        return [(tuple(box), 'face', 1.0) for box in boxes]
    return detect


def yolo(model, size=640, confidence=0.25, iou=0.45):
    """YOLOv8 as its users run it: letterbox, onnxruntime, numpy decoding, cv2.dnn NMS."""
    import onnxruntime
    session = onnxruntime.InferenceSession(model, providers=['CPUExecutionProvider'])
    name = session.get_inputs()[0].name

    def detect(image):
        h, w = image.shape[:2]
        scale = min(size / w, size / h)
        nw, nh = round(w * scale), round(h * scale)
        padded = np.full((size, size, 3), 114, np.uint8)
        top, left = (size - nh) // 2, (size - nw) // 2
        padded[top:top + nh, left:left + nw] = cv2.resize(image, (nw, nh))
        blob = cv2.dnn.blobFromImage(padded, 1 / 255, swapRB=True)
        out = session.run(None, {name: blob})[0][0].T  # 8400 x (4 + classes)
        scores = out[:, 4:]
        classes = scores.argmax(1)
        best = scores[np.arange(len(out)), classes]
        keep = best >= confidence
        cx, cy, bw, bh = out[keep, :4].T
        boxes = np.stack([(cx - bw / 2 - left) / scale, (cy - bh / 2 - top) / scale,
                          bw / scale, bh / scale], 1)
        picked = cv2.dnn.NMSBoxesBatched(boxes.tolist(), best[keep].tolist(),
                                         classes[keep].tolist(), confidence, iou)
        return [(tuple(boxes[i]), str(classes[keep][i]), float(best[keep][i]))
                for i in np.array(picked).flatten()]
    return detect


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('detector', choices=['blobs', 'cascade', 'onnx', 'null'])
    parser.add_argument('model', nargs='?')
    parser.add_argument('--compressed', action='store_true')
    args = parser.parse_args(rclpy.utilities.remove_ros_args(argv)[1:])
    detect = {'blobs': lambda: blobs, 'cascade': lambda: cascade(args.model),
              'onnx': lambda: yolo(args.model), 'null': lambda: None}[args.detector]()

    rclpy.init(args=argv)
    node = rclpy.create_node('reference_node')
    publisher = node.create_publisher(DetectionArray, 'detections', 100)

    def on_image(msg):
        out = DetectionArray(header=msg.header)
        if detect is not None:
            image = bgr(msg)
            out.image_height, out.image_width = image.shape[:2]
            out.detections = [
                Detection(x=float(x), y=float(y), width=float(w), height=float(h),
                          label=label, score=float(score), objectness=float(score))
                for (x, y, w, h), label, score in detect(image)]
        publisher.publish(out)

    kind, topic = (CompressedImage, 'image/compressed') if args.compressed else (Image, 'image')
    node.create_subscription(kind, topic, on_image, QOS)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, rclpy.executors.ExternalShutdownException):
        pass
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
