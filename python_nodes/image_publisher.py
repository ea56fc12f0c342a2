#!/usr/bin/env python3
"""Publish camera images as sensor_msgs/Image (or CompressedImage).

After the last frame of a finite source (or --count frames, or Ctrl-C) it publishes a
rust_vision/EndOfStream on <topic>/end_of_stream (reliable, transient local), with the
number of frames sent, so that vision_node can account for every one of them.

Sources (--source): synthetic scenes of coloured shapes with known ground truth (the
default), the real photos of skimage.data (`skimage`), a folder of images (natural sort
order: 2.png before 10.png), a video file, or a camera device (`camera:0`). Finite
sources show a progress bar; --loop repeats them.

ROS arguments pass through: image_publisher --count 10 --ros-args -r image:=/cam/image
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

# scenes.py is installed next to this script (lib/rust_vision) and sits beside it in
# the source tree; either way Python finds it in the script's directory.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import rclpy  # noqa: E402
from rclpy.qos import (DurabilityPolicy, HistoryPolicy, qos_profile_sensor_data,  # noqa: E402
                       QoSProfile, ReliabilityPolicy)
from rust_vision.msg import EndOfStream  # noqa: E402
from rclpy.signals import SignalHandlerOptions  # noqa: E402
from scenes import compress, ENCODINGS, encode, make_scene  # noqa: E402
from sensor_msgs.msg import CompressedImage, Image  # noqa: E402
from stopping import StopRequest  # noqa: E402
from tqdm import tqdm  # noqa: E402

# The skimage.data photos, in the order published.
PHOTOS = ('astronaut', 'chelsea', 'coffee', 'rocket', 'camera', 'immunohistochemistry')
IMAGE_SUFFIXES = {'.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.ppm', '.pgm'}

# After the first subscriber matched, before the first frame (see main).
MATCH_SETTLE = 0.5

QOS = {
    'sensor_data': qos_profile_sensor_data,
    # A second of frames at 30 Hz: a reader that falls behind briefly loses nothing.
    'reliable': QoSProfile(depth=30, reliability=ReliabilityPolicy.RELIABLE),
    # Batch work: frames a reader has no room for stay in this writer's history until it
    # takes them (vision_node under overflow all with a capped reader: see
    # config/fastdds_large_images.xml), instead of the oldest being dropped.
    'keep_all': QoSProfile(depth=1, history=HistoryPolicy.KEEP_ALL,
                           reliability=ReliabilityPolicy.RELIABLE),
}
# The end of stream: delivered even to a subscriber that matches after it was sent.
LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)
# How long to wait at exit for subscribers to acknowledge the last frames, seconds; with
# keep_all, as long as a subscriber is matched, this long at a time (it may be working
# through a backlog).
ACK_TIMEOUT = 5.0
# The same after Ctrl-C or SIGTERM, when the subscribers may be stopping too.
ACK_TIMEOUT_STOPPED = 1.0


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
    parser.add_argument('--source', default='synthetic',
                        help='synthetic, skimage, a folder of images, a video file, or '
                             'camera:<device number> (synthetic)')
    parser.add_argument('--loop', action=argparse.BooleanOptionalAction, default=False,
                        help='start a finite source again at its end (off)')
    parser.add_argument('--rate', type=float, default=10.0,
                        help='frames per second; 0 for as fast as possible (10)')
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
                        help='publisher QoS: reliable (keep last 30; matches any subscriber), '
                        'keep_all (reliable; holds what a reader has no room for, and at '
                        'the end waits while a subscriber takes it) or sensor_data (best '
                        'effort)')
    parser.add_argument('--wait-for-subscribers', type=float, default=5.0, metavar='SECONDS',
                        help='wait this long for a subscriber before the first frame (5)')
    parser.add_argument('--end-of-stream', action=argparse.BooleanOptionalAction,
                        default=True,
                        help='publish an EndOfStream after the last frame (on)')
    parser.add_argument('--ground-truth', type=Path, metavar='FILE',
                        help='write one JSON line per frame: stamp, frame_id and shapes')
    args = parser.parse_args(argv)
    if args.rate < 0:
        parser.error(f'--rate must be >= 0, got {args.rate}')
    if args.encoding.startswith('yuv') and args.width % 2:
        parser.error(f'--encoding {args.encoding} packs pixels in pairs: --width must be even')
    return args


def spin_for(node, seconds: float) -> None:
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        rclpy.spin_once(node, timeout_sec=left)


def natural_key(path: Path):
    """2.png before 10.png: digit runs compare as numbers."""
    return [int(part) if part.isdigit() else part.lower()
            for part in re.split(r'(\d+)', path.name)]


def rgb_of(bgr):
    import cv2
    if bgr.ndim == 2:
        return cv2.cvtColor(bgr, cv2.COLOR_GRAY2RGB)
    return cv2.cvtColor(bgr, cv2.COLOR_BGRA2RGB if bgr.shape[2] == 4 else cv2.COLOR_BGR2RGB)


def frames(args):
    """(total frames or None, iterator of (rgb, ground-truth shapes or None))."""
    import cv2
    source = args.source
    if source == 'synthetic':
        rng = np.random.default_rng(args.seed)
        total = args.count or None
        return total, (make_scene(args.width, args.height, args.shapes, rng, args.noise)
                       for _ in iter(int, 1))
    if source == 'skimage':
        import skimage.data
        photos = [getattr(skimage.data, name)() for name in PHOTOS]
        photos = [np.dstack([p] * 3) if p.ndim == 2 else p[..., :3] for p in photos]
        return len(photos), ((p, None) for p in photos)
    if source.startswith('camera:'):
        capture = cv2.VideoCapture(int(source.split(':', 1)[1]))
        if not capture.isOpened():
            raise SystemExit(f'image_publisher: cannot open camera {source}')
        return None, video(capture)
    path = Path(source)
    if path.is_dir():
        files = sorted((f for f in path.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES),
                       key=natural_key)
        if not files:
            raise SystemExit(f'image_publisher: no images in {path}')
        return len(files), images(files)
    if path.is_file():
        capture = cv2.VideoCapture(str(path))
        if not capture.isOpened():
            raise SystemExit(f'image_publisher: cannot read video {path}')
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
        return total, video(capture)
    raise SystemExit(f'image_publisher: --source {source}: no such file or folder '
                     '(or synthetic, skimage, camera:N)')


def images(files):
    import cv2
    for file in files:
        bgr = cv2.imread(str(file), cv2.IMREAD_UNCHANGED)
        if bgr is None:
            print(f'image_publisher: skipping {file}: not an image', file=sys.stderr)
            continue
        if bgr.dtype != np.uint8:
            bgr = (bgr >> 8).astype(np.uint8)
        yield rgb_of(bgr), None


def video(capture):
    while True:
        ok, bgr = capture.read()
        if not ok:
            return
        yield rgb_of(bgr), None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv if argv is None else argv
    args = parse_args(rclpy.utilities.remove_ros_args(argv)[1:])
    stop = StopRequest()
    rclpy.init(args=argv, signal_handler_options=SignalHandlerOptions.NO)
    node = rclpy.create_node('image_publisher')
    truth = args.ground_truth.open('w') if args.ground_truth else None
    sent, topic, size = 0, args.topic, (args.width, args.height)
    end_of_stream = None
    try:
        # Under the resolved (remapped) topic, as image_transport and vision_node name them.
        base = node.resolve_topic_name(args.topic)
        if args.compress == 'none':
            publisher = node.create_publisher(Image, base, QOS[args.qos])
        else:
            publisher = node.create_publisher(CompressedImage, f'{base}/compressed',
                                              QOS[args.qos])
        topic = publisher.topic_name
        end_of_stream = node.create_publisher(EndOfStream, f'{base}/end_of_stream', LATCHED)
        deadline = time.monotonic() + args.wait_for_subscribers
        while (publisher.get_subscription_count() == 0 and time.monotonic() < deadline
               and not stop):
            rclpy.spin_once(node, timeout_sec=0.05)
        if publisher.get_subscription_count() == 0:
            node.get_logger().warn(f'no subscriber on {publisher.topic_name}; publishing anyway')
        else:
            # DDS matches the two ends separately: this writer has matched the reader, but
            # a reliable, volatile reader drops samples from a writer it has not matched
            # yet. The other end's match comes within milliseconds; give it some time.
            spin_for(node, MATCH_SETTLE)
        total, source = frames(args)
        limit = args.count or (None if args.loop else total)
        # A bar on a terminal only: in a launch log it would be one line of \r updates.
        progress = tqdm(total=limit, unit='frame', desc='image_publisher',
                        disable=limit is None or not sys.stderr.isatty())
        period = 1.0 / args.rate if args.rate else 0.0
        next_at = time.monotonic()
        size = (args.width, args.height)
        while (limit is None or sent < limit) and not stop:
            try:
                rgb, shapes = next(source)
            except StopIteration:
                if not args.loop or sent == 0:
                    break
                total, source = frames(args)
                continue
            size = (rgb.shape[1], rgb.shape[0])
            if args.compress == 'none':
                data, step = encode(rgb, args.encoding)
                msg = Image(height=size[1], width=size[0], encoding=args.encoding,
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
                    'frame_id': args.frame_id, 'width': size[0], 'height': size[1],
                    'encoding': args.encoding,
                    'shapes': [s.to_dict() for s in shapes] if shapes else [],
                }) + '\n')
            sent += 1
            progress.update()
            next_at += period
            rclpy.spin_once(node, timeout_sec=max(0.0, next_at - time.monotonic()))
        progress.close()
    finally:
        if stop:
            node.get_logger().info(f'{stop.signal}: stopping after {sent} frames')
        if end_of_stream is not None:
            if args.end_of_stream:
                end = EndOfStream(frames=sent)
                end.header.frame_id = args.frame_id
                end.header.stamp = node.get_clock().now().to_msg()
                end_of_stream.publish(end)
            # The process's exit takes its unacknowledged samples with it.
            seconds = ACK_TIMEOUT_STOPPED if stop else ACK_TIMEOUT
            timeout = rclpy.duration.Duration(seconds=seconds)
            if args.qos != 'sensor_data':
                while (not publisher.wait_for_all_acked(timeout) and args.qos == 'keep_all'
                       and not stop and publisher.get_subscription_count() > 0):
                    pass
            end_of_stream.wait_for_all_acked(timeout)
        if truth:
            truth.close()
        kind = args.encoding if args.compress == 'none' else args.compress
        print(f'image_publisher: {sent} frames of {size[0]}x{size[1]} {kind} '
              f'from {args.source} published on {topic}', flush=True)
        node.destroy_node()
        rclpy.try_shutdown()
        stop.exiting()
    return 0


if __name__ == '__main__':
    sys.exit(main())
