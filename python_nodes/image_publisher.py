#!/usr/bin/env python3
"""Publish synthetic camera images (coloured shapes with known ground truth) as
sensor_msgs/Image.

ROS arguments pass through: image_publisher --count 10 --ros-args -r image:=/cam/image
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

# scenes.py is installed next to this script (lib/rust_vision) and sits beside it in
# the source tree; either way Python finds it in the script's directory.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import rclpy  # noqa: E402
from rclpy.executors import ExternalShutdownException  # noqa: E402
from rclpy.qos import qos_profile_sensor_data, QoSProfile, ReliabilityPolicy  # noqa: E402
from scenes import compress, ENCODINGS, encode, make_scene  # noqa: E402
from sensor_msgs.msg import CompressedImage, Image  # noqa: E402

QOS = {
    'sensor_data': qos_profile_sensor_data,
    # A second of frames at 30 Hz: a reader that falls behind briefly loses nothing.
    'reliable': QoSProfile(depth=30, reliability=ReliabilityPolicy.RELIABLE),
}


def positive(kind):
    def parse(text):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f'must be > 0, got {text}')
        return value
    return parse


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog='image_publisher', description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--width', type=positive(int), default=640, help='pixels (640)')
    parser.add_argument('--height', type=positive(int), default=480, help='pixels (480)')
    parser.add_argument('--encoding', choices=ENCODINGS, default='rgb8', help='(rgb8)')
    parser.add_argument('--rate', type=positive(float), default=10.0,
                        help='frames per second (10)')
    parser.add_argument('--count', type=int, default=0,
                        help='frames to publish, then exit; 0 publishes until stopped (0)')
    parser.add_argument('--shapes', type=int, default=4, help='shapes per frame (4)')
    parser.add_argument('--noise', type=int, default=0,
                        help='background noise amplitude, grey levels (0)')
    parser.add_argument('--seed', type=int, default=0, help='random seed of the scenes (0)')
    parser.add_argument('--topic', default='image', help='topic (image)')
    parser.add_argument('--frame-id', default='camera_optical_frame',
                        help='header.frame_id (camera_optical_frame)')
    parser.add_argument('--compress', choices=('none', 'jpeg', 'png'), default='none',
                        help='publish sensor_msgs/CompressedImage on <topic>/compressed, '
                             'as image_transport does (none)')
    parser.add_argument('--quality', type=int, default=90,
                        help='JPEG quality 0..100 (90)')
    parser.add_argument('--qos', choices=sorted(QOS), default='reliable',
                        help='publisher QoS (reliable; matches any subscriber)')
    parser.add_argument('--wait-for-subscribers', type=float, default=5.0, metavar='SECONDS',
                        help='wait this long for a subscriber before the first frame (5)')
    parser.add_argument('--ground-truth', type=Path, metavar='FILE',
                        help='write one JSON line per frame: stamp, frame_id and shapes')
    args = parser.parse_args(argv)
    if args.encoding.startswith('yuv') and args.width % 2:
        parser.error(f'--encoding {args.encoding} packs pixels in pairs: --width must be even')
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv if argv is None else argv
    args = parse_args(rclpy.utilities.remove_ros_args(argv)[1:])
    rclpy.init(args=argv)
    node = rclpy.create_node('image_publisher')
    truth = args.ground_truth.open('w') if args.ground_truth else None
    sent, topic = 0, args.topic
    try:
        if args.compress == 'none':
            publisher = node.create_publisher(Image, args.topic, QOS[args.qos])
        else:
            publisher = node.create_publisher(CompressedImage, f'{args.topic}/compressed',
                                              QOS[args.qos])
        topic = publisher.topic_name
        deadline = time.monotonic() + args.wait_for_subscribers
        while publisher.get_subscription_count() == 0 and time.monotonic() < deadline:
            rclpy.spin_once(node, timeout_sec=0.05)
        if publisher.get_subscription_count() == 0:
            node.get_logger().warn(f'no subscriber on {publisher.topic_name}; publishing anyway')
        rng = np.random.default_rng(args.seed)
        period = 1.0 / args.rate
        next_at = time.monotonic()
        while args.count == 0 or sent < args.count:
            rgb, shapes = make_scene(args.width, args.height, args.shapes, rng, args.noise)
            if args.compress == 'none':
                data, step = encode(rgb, args.encoding)
                msg = Image(height=args.height, width=args.width, encoding=args.encoding,
                            is_bigendian=0, step=step)
            else:
                data = compress(rgb, args.compress, args.quality)
                msg = CompressedImage(format=f'rgb8; {args.compress} compressed bgr8')
            msg.data = data  # bytes: the fast way (numpy arrays are 100x slower)
            msg.header.frame_id = args.frame_id
            msg.header.stamp = node.get_clock().now().to_msg()
            publisher.publish(msg)
            if truth:
                truth.write(json.dumps({
                    'index': sent,
                    'stamp': [msg.header.stamp.sec, msg.header.stamp.nanosec],
                    'frame_id': args.frame_id, 'width': args.width, 'height': args.height,
                    'encoding': args.encoding, 'shapes': [s.to_dict() for s in shapes],
                }) + '\n')
            sent += 1
            next_at += period
            rclpy.spin_once(node, timeout_sec=max(0.0, next_at - time.monotonic()))
        if args.qos == 'reliable':
            publisher.wait_for_all_acked(rclpy.duration.Duration(seconds=5))
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if truth:
            truth.close()
        kind = args.encoding if args.compress == 'none' else args.compress
        print(f'image_publisher: {sent} frames of {args.width}x{args.height} {kind} '
              f'published on {topic}', flush=True)
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
