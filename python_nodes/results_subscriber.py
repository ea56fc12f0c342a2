#!/usr/bin/env python3
"""Subscribe to rust_vision/DetectionArray results: a line per result, a live summary line
(on a terminal), JSON lines, annotated frames saved to a folder, and at the end of a
stream a completeness report.

The end of a stream is vision_node's rust_vision/StreamSummary on <topic>/summary. The
report then says which frames sent have no result here (dropped, lost in transport, or
lost on the way here) and which came twice. The exit status is 1 if frames are missing
under reliable QoS (a frame that failed in vision_node is reported, not missing), else 0.
A stream abandoned by its source (a new publisher began before its end of stream) is
reported, and the subscriber goes on to the next.
A vision_node restarted (by launch's respawn, say) numbers its results from 0 again: a
new publisher on the topic with numbers not above the highest seen is counted on, and
said, not taken for duplicates.

ROS arguments pass through: results_subscriber --save-annotated out --ros-args -r __ns:=/cam
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import OrderedDict
from pathlib import Path

import rclpy
from rclpy.qos import DurabilityPolicy, qos_profile_sensor_data, QoSProfile, ReliabilityPolicy
from rclpy.signals import SignalHandlerOptions
from rclpy.time import Time
from rust_vision.msg import DetectionArray, StreamSummary
from sensor_msgs.msg import Image
from stopping import StopRequest
from tqdm import tqdm

QOS = {
    'sensor_data': qos_profile_sensor_data,
    # Transient local, as vision_node offers: results published before vision_node's side
    # of the match completed still arrive.
    'reliable': QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE,
                           durability=DurabilityPolicy.TRANSIENT_LOCAL),
}
# vision_node's summaries are latched: a late subscriber still gets the last one.
LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)
# Sequence numbers remembered for duplicate detection, and stamps for naming annotated
# frames: the most recent ones, so that memory stays bounded on endless streams.
WINDOW = 10000
# Annotated frames whose result has not come yet (it is published just after).
PENDING_FRAMES = 32


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog='results_subscriber', description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--topic', default='detections', help='topic (detections)')
    parser.add_argument('--qos', choices=sorted(QOS), default='reliable', help='(reliable)')
    parser.add_argument('--output', type=Path, metavar='FILE',
                        help="write one JSON line per result ('-' for stdout)")
    parser.add_argument('--save-annotated', type=lambda s: Path(s) if s else None,
                        metavar='FOLDER',
                        help='save the annotated images (topic annotated_image) as '
                             'FOLDER/<sequence>.jpg')
    parser.add_argument('--annotated-topic', default='annotated_image',
                        help='(annotated_image)')
    parser.add_argument('--count', type=int, default=0,
                        help='exit after this many results; 0 runs until stopped (0)')
    parser.add_argument('--duration', type=float, default=0.0, metavar='SECONDS',
                        help='exit after this long; 0 runs until stopped (0)')
    parser.add_argument('--idle-timeout', type=float, default=0.0, metavar='SECONDS',
                        help='exit when no result came for this long after the first (off)')
    parser.add_argument('--end-timeout', type=float, default=5.0, metavar='SECONDS',
                        help='after the summary, wait for results (and annotated frames) '
                             'still on the way until none came for this long; longer than '
                             "DDS's retransmission period (3 s in Fast DDS) (5)")
    parser.add_argument('--exit-at-end', action=argparse.BooleanOptionalAction, default=True,
                        help='exit after the completeness report of a stream its source '
                        'ended (on)')
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
            'classification_score': d.classification_score, 'track_id': d.track_id,
        } for d in msg.detections],
    }


class Tally:
    """Running totals over the results received, in bounded memory."""

    def __init__(self):
        self.results = 0
        self.detections = 0
        self.latency_sum = self.latency_max = self.end_to_end_sum = 0.0
        self.duplicates = 0
        # Numbers skipped between results: frames that failed in vision_node or were lost.
        self.gaps = 0
        self.highest = -1
        self.seen: OrderedDict[int, None] = OrderedDict()
        # The topic's publishers when the current vision_node's results began, and how
        # many times vision_node has begun again (restarted, numbering from 0).
        self.writers: frozenset = frozenset()
        self.restarts = 0

    def add(self, record: dict, writers=frozenset) -> bool:
        """Counts a result; False if its frame had a result already. A number not above the
        highest seen, with a publisher on the topic that was not there before (`writers()`
        gives them), is a restarted vision_node's: its results are counted from there on."""
        sequence = record['sequence']
        if self.highest < 0:
            self.writers = writers()
        elif sequence <= self.highest and (now := writers()) - self.writers:
            self.begin_again(now)
        if sequence in self.seen or 0 <= sequence < self.highest - WINDOW:
            self.duplicates += 1
            return False
        self.seen[sequence] = None
        if len(self.seen) > WINDOW:
            self.seen.popitem(last=False)
        if self.highest >= 0:
            self.gaps += sequence - self.highest - 1 if sequence > self.highest else -1
        self.highest = max(self.highest, sequence)
        self.results += 1
        self.detections += len(record['detections'])
        self.latency_sum += record['latency']
        self.latency_max = max(self.latency_max, record['latency'])
        self.end_to_end_sum += record['end_to_end']
        return True

    def begin_again(self, writers: frozenset) -> None:
        self.restarts += 1
        self.writers = writers
        self.seen.clear()
        self.highest = -1

    def in_range(self, first: int, count: int) -> int:
        """Results received for sequence numbers first .. first + count - 1."""
        return sum(1 for s in self.seen if first <= s < first + count)

    def live(self) -> str:
        if not self.results:
            return 'waiting for results'
        n = self.results
        return (f'{self.detections} detections, latency {self.latency_sum / n * 1e3:.1f} ms, '
                f'end-to-end {self.end_to_end_sum / n * 1e3:.1f} ms, '
                f'gaps {self.gaps}, duplicates {self.duplicates}')

    def report(self) -> str:
        if not self.results:
            return 'results_subscriber: no results received'
        n = self.results
        return (f'results_subscriber: {n} results, {self.detections} detections '
                f'({self.detections / n:.2f} per frame), mean node latency '
                f'{self.latency_sum / n * 1e3:.2f} ms (max {self.latency_max * 1e3:.2f} ms), '
                f'mean end-to-end latency {self.end_to_end_sum / n * 1e3:.2f} ms, '
                f'{self.gaps} sequence numbers without a result, '
                f'{self.duplicates} duplicates'
                + (f', {self.restarts} vision_node restart{"s" * (self.restarts > 1)}'
                   if self.restarts else ''))


def account(summary: StreamSummary) -> str:
    """What vision_node's summary says became of the stream's frames."""
    causes = ', '.join(
        f'{c}: {n}' for c, n in zip(summary.failure_causes, summary.failure_counts))
    return (f'{summary.frames_sent} frames sent, '
            f'{summary.frames_received} received by vision_node, '
            f'{summary.frames_processed} processed, {summary.frames_failed} failed'
            + (f' ({causes})' if causes else '')
            + f', {summary.frames_dropped} dropped'
            + (f', {summary.frames_paused} paused' if summary.frames_paused else '')
            + f', {summary.frames_lost} lost in transport'
            + (', ended without an end of stream (a new publisher began)'
               if summary.abandoned else ''))


def completeness(summary: StreamSummary, here: int, duplicates: int) -> tuple[str, int]:
    """The report of a stream whose summary is `summary`, of which `here` results arrived
    here, and how many frames sent have neither a result here nor a reported failure or
    pause. An abandoned stream is never complete: what its source sent last is unknown."""
    missing = summary.frames_sent - summary.frames_failed - summary.frames_paused - here
    whole = missing <= 0 and not summary.abandoned
    text = (f'results_subscriber: end of stream: {account(summary)}; '
            f'{here} results received here, {max(missing, 0)} frames missing, '
            f'{duplicates} duplicates: ' + ('complete' if whole else 'INCOMPLETE'))
    return text, max(missing, 0)


def describe(record: dict) -> str:
    boxes = ', '.join(
        (f"#{d['track_id']} " if d['track_id'] else '')
        + f"{d['label']} {d['score']:.2f}"
        + (f" ({d['classification_label']} {d['classification_score']:.2f})"
           if d['classification_label'] else '')
        + f" at ({d['x']:.0f}, {d['y']:.0f}) {d['width']:.0f}x{d['height']:.0f}"
        for d in record['detections'])
    return (f"frame {record['sequence']} [{record['frame_id']}]: "
            f"{len(record['detections'])} detections in {record['latency'] * 1e3:.2f} ms"
            + (f': {boxes}' if boxes else ''))


def stamp_key(stamp) -> tuple[int, int]:
    return stamp.sec, stamp.nanosec


class AnnotatedSaver:
    """Writes annotated images as <folder>/<sequence>.jpg, the sequence number taken from
    the result with the same stamp (published just after the image)."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.saved = 0
        self.sequences: OrderedDict[tuple[int, int], int] = OrderedDict()
        self.pending: OrderedDict[tuple[int, int], Image] = OrderedDict()

    def on_result(self, msg: DetectionArray) -> None:
        key = stamp_key(msg.header.stamp)
        self.sequences[key] = msg.sequence
        if len(self.sequences) > WINDOW:
            self.sequences.popitem(last=False)
        if key in self.pending:
            self.write(self.pending.pop(key), f'{msg.sequence:06d}')

    def on_image(self, msg: Image) -> None:
        key = stamp_key(msg.header.stamp)
        if key in self.sequences:
            self.write(msg, f'{self.sequences[key]:06d}')
            return
        self.pending[key] = msg
        if len(self.pending) > PENDING_FRAMES:
            # No result for it: named by its stamp.
            (sec, nanosec), oldest = self.pending.popitem(last=False)
            self.write(oldest, f'stamp_{sec}.{nanosec:09d}')

    def write(self, msg: Image, name: str) -> None:
        import cv2
        import numpy as np
        if msg.encoding != 'rgb8':
            return  # vision_node publishes rgb8 only
        rgb = np.frombuffer(msg.data, np.uint8).reshape(msg.height, msg.step)
        rgb = rgb[:, :msg.width * 3].reshape(msg.height, msg.width, 3)
        cv2.imwrite(str(self.folder / f'{name}.jpg'), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        self.saved += 1


def wait_for_stream(node, tally: Tally, saver: AnnotatedSaver | None,
                    summary: StreamSummary, timeout: float) -> None:
    """Spins until every result of the stream (and its annotated frame) is here, for as
    long as they keep coming: until none came for `timeout` seconds."""
    def progress():
        return tally.results, tally.duplicates, saver.saved if saver else 0

    def waiting():
        return (tally.in_range(summary.first_sequence, summary.frames_received)
                < summary.frames_processed
                or (saver is not None and saver.saved < tally.results))

    before, since = progress(), time.monotonic()
    while waiting() and time.monotonic() - since < timeout:
        rclpy.spin_once(node, timeout_sec=0.05)
        if progress() != before:
            before, since = progress(), time.monotonic()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv if argv is None else argv
    args = parse_args(rclpy.utilities.remove_ros_args(argv)[1:])
    stop = StopRequest()
    rclpy.init(args=argv, signal_handler_options=SignalHandlerOptions.NO)
    node = rclpy.create_node('results_subscriber')
    tally = Tally()
    output = None
    if args.output is not None:
        output = sys.stdout if str(args.output) == '-' else args.output.open('w')
    saver = AnnotatedSaver(args.save_annotated) if args.save_annotated else None
    started = node.get_clock().now()
    summaries: list[StreamSummary] = []
    # The live line: on a terminal only (tqdm disables itself elsewhere).
    live = tqdm(unit='result', desc='results_subscriber', disable=None, file=sys.stderr)

    def on_result(msg: DetectionArray) -> None:
        end_to_end = (node.get_clock().now() - Time.from_msg(msg.header.stamp)).nanoseconds
        record = to_record(msg, end_to_end * 1e-9)
        restarts = tally.restarts
        if not tally.add(record, writers):
            tqdm.write(f'results_subscriber: frame {msg.sequence} received again',
                       file=sys.stderr)
            return
        if tally.restarts != restarts:
            tqdm.write(f'results_subscriber: a new vision_node publishes on {args.topic}: its '
                       f'results begin again at {msg.sequence}', file=sys.stdout)
        if saver is not None:
            saver.on_result(msg)
        if output is not None:
            output.write(json.dumps(record) + '\n')
            output.flush()
        if not args.quiet:
            tqdm.write(describe(record), file=sys.stdout)
        live.update()
        live.set_postfix_str(tally.live(), refresh=False)

    def on_summary(msg: StreamSummary) -> None:
        # A latched summary of a stream that ended before this subscriber started, and of
        # which it saw nothing, is not this run's.
        mine = tally.in_range(msg.first_sequence, msg.frames_received) > 0
        if mine or Time.from_msg(msg.header.stamp) >= started:
            summaries.append(msg)
        else:
            # Said, not judged: this subscriber saw none of that stream's results.
            tqdm.write('results_subscriber: the latest stream ended before this subscriber '
                       f'started: {account(msg)}: '
                       + ('complete' if msg.complete else 'incomplete'), file=sys.stdout)
            sys.stdout.flush()  # said now, also into a pipe: it may be all there is to say

    subscription = node.create_subscription(DetectionArray, args.topic, on_result,
                                            QOS[args.qos])

    def writers() -> frozenset:
        return frozenset(tuple(info.endpoint_gid) for info in
                         node.get_publishers_info_by_topic(subscription.topic_name))
    node.create_subscription(StreamSummary, f'{subscription.topic_name}/summary',
                             on_summary, LATCHED)
    if saver is not None:
        node.create_subscription(Image, args.annotated_topic, saver.on_image, QOS[args.qos])
    start = last = time.monotonic()
    connected = False
    status = 0
    try:
        while (args.count == 0 or tally.results < args.count) and not stop:
            seen = tally.results
            rclpy.spin_once(node, timeout_sec=0.1)
            if not connected and subscription.get_publisher_count() > 0:
                # Printed once, so that a script can wait for it before sending frames.
                connected = True
                print(f'results_subscriber: subscribed to {subscription.topic_name}',
                      flush=True)
            now = time.monotonic()
            if tally.results != seen:
                last = now
            if summaries:
                summary = summaries.pop(0)
                wait_for_stream(node, tally, saver, summary, args.end_timeout)
                here = tally.in_range(summary.first_sequence, summary.frames_received)
                text, missing = completeness(summary, here, tally.duplicates)
                tqdm.write(text, file=sys.stdout)
                if missing and args.qos == 'reliable':
                    status = 1
                # An abandoned stream's source is gone, and the next stream has begun.
                if args.exit_at_end and not summary.abandoned:
                    break
            if args.duration and now - start >= args.duration:
                break
            if args.idle_timeout and tally.results and now - last >= args.idle_timeout:
                break
    finally:
        live.close()
        print(tally.report(), flush=True)
        if saver is not None:
            missing = tally.results - saver.saved
            why = (f'; {missing} results came without an annotated image (vision_node draws '
                   'them only once it has matched a subscriber of annotated_image, so the '
                   'first frames of a late subscriber have none)') if missing > 0 else ''
            print(f'results_subscriber: {saver.saved} annotated frames saved in '
                  f'{saver.folder}{why}', flush=True)
        if output is not None and output is not sys.stdout:
            output.close()
        node.destroy_node()
        rclpy.try_shutdown()
        stop.exiting()
    return status


if __name__ == '__main__':
    sys.exit(main())
