#!/usr/bin/env python3
"""Subscribe to rust_vision/DetectionArray results, print them, write one JSON line per
result and a summary at the end.

ROS arguments pass through: results_subscriber --count 10 --ros-args -r __ns:=/cam
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.qos import qos_profile_sensor_data, QoSProfile, ReliabilityPolicy
from rclpy.time import Time
from rust_vision.msg import DetectionArray

QOS = {
    'sensor_data': qos_profile_sensor_data,
    'reliable': QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE),
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog='results_subscriber', description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--topic', default='detections', help='topic (detections)')
    parser.add_argument('--qos', choices=sorted(QOS), default='reliable', help='(reliable)')
    parser.add_argument('--output', type=Path, metavar='FILE',
                        help="write one JSON line per result ('-' for stdout)")
    parser.add_argument('--count', type=int, default=0,
                        help='exit after this many results; 0 runs until stopped (0)')
    parser.add_argument('--duration', type=float, default=0.0, metavar='SECONDS',
                        help='exit after this long; 0 runs until stopped (0)')
    parser.add_argument('--idle-timeout', type=float, default=0.0, metavar='SECONDS',
                        help='exit when no result came for this long after the first (off)')
    parser.add_argument('--quiet', action='store_true', help='no line per result')
    return parser.parse_args(argv)


def to_record(msg: DetectionArray, end_to_end: float) -> dict:
    """The JSON line of one result; boxes in pixels, times in seconds."""
    return {
        'stamp': msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9,
        'frame_id': msg.header.frame_id,
        'sequence': msg.sequence,
        'image_width': msg.image_width, 'image_height': msg.image_height,
        'latency': msg.latency, 'decode_time': msg.decode_time,
        'detect_time': msg.detect_time, 'classify_time': msg.classify_time,
        'end_to_end': end_to_end,
        'detections': [{
            'x': d.x, 'y': d.y, 'width': d.width, 'height': d.height,
            'class_id': d.class_id, 'label': d.label, 'score': d.score,
            'objectness': d.objectness, 'classification_label': d.classification_label,
            'classification_score': d.classification_score,
        } for d in msg.detections],
    }


class Summary:
    """Running totals over the results received."""

    def __init__(self):
        self.results = 0
        self.detections = 0
        self.latencies: list[float] = []
        self.end_to_end: list[float] = []
        self.sequences: list[int] = []

    def add(self, record: dict) -> None:
        self.results += 1
        self.detections += len(record['detections'])
        self.latencies.append(record['latency'])
        self.end_to_end.append(record['end_to_end'])
        self.sequences.append(record['sequence'])

    def report(self) -> str:
        if not self.results:
            return 'results_subscriber: no results received'
        mean = sum(self.latencies) / self.results
        e2e = sum(self.end_to_end) / self.results
        # vision_node numbers every frame it receives; a number missing between the first
        # and last result seen is a frame it received and could not process.
        span = max(self.sequences) - min(self.sequences) + 1
        failed = span - len(set(self.sequences))
        return (f'results_subscriber: {self.results} results, {self.detections} detections '
                f'({self.detections / self.results:.2f} per frame), mean node latency '
                f'{mean * 1e3:.2f} ms (max {max(self.latencies) * 1e3:.2f} ms), mean '
                f'end-to-end latency {e2e * 1e3:.2f} ms, {failed} frames failed in the node')


def describe(record: dict) -> str:
    boxes = ', '.join(
        f"{d['label']} {d['score']:.2f}"
        + (f" ({d['classification_label']} {d['classification_score']:.2f})"
           if d['classification_label'] else '')
        + f" at ({d['x']:.0f}, {d['y']:.0f}) {d['width']:.0f}x{d['height']:.0f}"
        for d in record['detections'])
    return (f"frame {record['sequence']} [{record['frame_id']}]: "
            f"{len(record['detections'])} detections in {record['latency'] * 1e3:.2f} ms"
            + (f': {boxes}' if boxes else ''))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv if argv is None else argv
    args = parse_args(rclpy.utilities.remove_ros_args(argv)[1:])
    rclpy.init(args=argv)
    node = rclpy.create_node('results_subscriber')
    summary = Summary()
    output = None
    if args.output is not None:
        output = sys.stdout if str(args.output) == '-' else args.output.open('w')

    def on_result(msg: DetectionArray) -> None:
        end_to_end = (node.get_clock().now() - Time.from_msg(msg.header.stamp)).nanoseconds
        record = to_record(msg, end_to_end * 1e-9)
        summary.add(record)
        if output is not None:
            output.write(json.dumps(record) + '\n')
            output.flush()
        if not args.quiet:
            print(describe(record), flush=True)

    subscription = node.create_subscription(DetectionArray, args.topic, on_result,
                                            QOS[args.qos])
    start = last = time.monotonic()
    connected = False
    try:
        while args.count == 0 or summary.results < args.count:
            seen = summary.results
            rclpy.spin_once(node, timeout_sec=0.1)
            if not connected and node.count_publishers(subscription.topic_name) > 0:
                # Printed once, so that a script can wait for it before sending frames.
                connected = True
                print(f'results_subscriber: subscribed to {subscription.topic_name}',
                      flush=True)
            now = time.monotonic()
            if summary.results != seen:
                last = now
            if args.duration and now - start >= args.duration:
                break
            if args.idle_timeout and summary.results and now - last >= args.idle_timeout:
                break
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        print(summary.report(), flush=True)
        if output is not None and output is not sys.stdout:
            output.close()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
