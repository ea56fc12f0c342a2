#!/usr/bin/env python3
"""Whole-node benchmark: vision_node against the rclpy node a user would write instead.

    make bench-node                       (or tools/bench_node.py in the project environment)
    tools/bench_node.py --workloads blobs,jpeg --frames 100

For each workload, the same frames go with the same QoS (reliable, keep all) to the
installed vision_node, to tools/reference_node.py (rclpy with OpenCV or onnxruntime) and
to the reference node in `null` mode (answers without looking at the pixels: the ceiling
of this image source and the transport). One node runs at a time. Each run starts with
warm-up frames until the node has answered (DDS matched both ways, models loaded).

Every process runs with config/fastdds_large_images.xml (`--dds-profile ""` for Fast
DDS's defaults, under which 1080p frames stall for the 3 s heartbeat whenever a fragment
finds the 512 KiB shared-memory segment full: see that file).

Throughput is measured closed-loop: a new frame is published whenever fewer than
`--window` frames await their result (default 1; 8 for the JPEG burst, which the pipeline
this grew from sent without waiting), so nothing queues without bound. The JPEG burst's
source is examples/bench_source.rs (rclrs, built here on first use): at ~1000 small
frames a second an rclpy source would be the bottleneck (its null-node ceiling is
~700 frames/s at one in flight), and it would take the core vision_node needs.
Latency is publish -> result, both stamped by this process's clock; the `30 Hz` workload
publishes at a fixed rate instead and skips a frame (counted) when 60 are outstanding.
CPU is the node process's user + system time per frame. For vision_node the row below
gives the medians of the publish() call here and of its own account of each frame
(receipt to result, decode, detect), which places the time: source, transport, node.
"""

import argparse
import faulthandler
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np
from rust_vision.msg import DetectionArray
from sensor_msgs.msg import CompressedImage, Image

from harness import cpu_seconds, image_msg, IMAGES, installed, RESULTS, ROOT, ros_session, \
    scene_bgr, stop

MAX_OUTSTANDING_AT_RATE = 60
LOST_AFTER = 5.0
SMALL = np.full((48, 64, 3), 90, np.uint8)  # the warm-up frame


def jpeg_msg(bgr):
    return CompressedImage(format='jpeg', data=cv2.imencode('.jpg', bgr)[1].tobytes())


def photo_1080p():
    from skimage import data
    photo = cv2.resize(data.astronaut(), (1080, 1080))[:, :, ::-1]
    frame = np.full((1080, 1920, 3), 90, np.uint8)
    frame[:, 420:1500] = photo
    return frame


def yolo_like_model(path):
    """A YOLOv8-shaped network of YOLOv8's cost class: ~2 GMAC at 640x640 (strided 3x3
    convolutions with SiLU, three heads at strides 8, 16, 32), output 1 x 84 x 8400.
    Random weights; class logits biased low so that a handful of boxes pass 0.25."""
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    rng = np.random.default_rng(0)
    nodes, inits = [], []

    def conv(x, cin, cout, stride, name, act=True, bias=0.0):
        w = (rng.standard_normal((cout, cin, 3, 3)) * np.sqrt(2 / (9 * cin))).astype(np.float32)
        b = np.full(cout, bias, np.float32)
        inits.extend([numpy_helper.from_array(w, f'{name}_w'),
                      numpy_helper.from_array(b, f'{name}_b')])
        nodes.append(helper.make_node('Conv', [x, f'{name}_w', f'{name}_b'], [f'{name}_c'],
                                      pads=[1, 1, 1, 1], strides=[stride, stride]))
        if not act:
            return f'{name}_c'
        nodes.append(helper.make_node('Sigmoid', [f'{name}_c'], [f'{name}_s']))
        nodes.append(helper.make_node('Mul', [f'{name}_c', f'{name}_s'], [name]))
        return name

    x = conv('images', 3, 16, 2, 'l1')
    x = conv(x, 16, 32, 2, 'l2')
    heads, cin = [], 32
    for level, cout in enumerate([64, 128, 256]):
        x = conv(x, cin, cout, 2, f'down{level}')
        x = conv(x, cout, cout, 1, f'a{level}')
        x = conv(x, cout, cout, 1, f'b{level}')
        h = conv(x, cout, 84, 1, f'head{level}', act=False, bias=-9.0)
        nodes.append(helper.make_node('Reshape', [h, 'shape'], [f'flat{level}']))
        heads.append(f'flat{level}')
        cin = cout
    nodes.append(helper.make_node('Concat', heads, ['raw'], axis=2))
    nodes.append(helper.make_node('Sigmoid', ['raw'], ['squashed']))
    nodes.append(helper.make_node('Mul', ['squashed', 'scale'], ['output0']))
    scale = np.ones((1, 84, 1), np.float32)
    scale[0, :4, 0] = [640, 640, 120, 120]
    inits += [numpy_helper.from_array(np.array([1, 84, -1], np.int64), 'shape'),
              numpy_helper.from_array(scale, 'scale')]
    graph = helper.make_graph(
        nodes, 'yolo_like',
        [helper.make_tensor_value_info('images', TensorProto.FLOAT, [1, 3, 640, 640])],
        [helper.make_tensor_value_info('output0', TensorProto.FLOAT, [1, 84, 8400])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


class Workload:
    def __init__(self, name, frames, params, reference, rate=None, compressed=False,
                 rust_source=False, window=1):
        self.name, self.frames, self.params = name, frames, params
        self.reference, self.rate, self.compressed = reference, rate, compressed
        self.rust_source, self.window = rust_source, window


def workloads(tmp, frames):
    import cv2.data
    face = cv2.data.haarcascades + 'haarcascade_frontalface_default.xml'
    blobs_frames = lambda: [image_msg(scene_bgr(1920, 1080, s)) for s in range(8)]  # noqa: E731
    jpegs = lambda: [jpeg_msg(scene_bgr(600, 180, s)) for s in range(50)]  # noqa: E731
    return {
        'blobs': (blobs_frames, Workload('blobs 1080p', frames, [], ['blobs'])),
        'blobs30': (blobs_frames,
                    Workload('blobs 1080p at 30 Hz', frames, [], ['blobs'], rate=30)),
        'cascade': (lambda: [image_msg(photo_1080p())],
                    Workload('face cascade 1080p', max(frames // 5, 10),
                             ['detector:=cascade', f'cascade.model:={face}'], ['cascade', face])),
        'yolo': (lambda: [image_msg(scene_bgr(640, 480, s)) for s in range(4)],
                 Workload('YOLOv8-shaped 2 GMAC, 640x480', max(frames // 5, 10),
                          ['detector:=onnx', f'onnx.model:={tmp}/yolo.onnx'],
                          ['onnx', f'{tmp}/yolo.onnx'])),
        'jpeg': (jpegs, Workload('JPEG 600x180 burst', 1000, ['transport:=compressed'], ['blobs'],
                                 compressed=True, rust_source=True, window=8)),
        'huge': (lambda: [image_msg(np.full((9600, 9600, 3), 90, np.uint8))],
                 Workload('276 MB bgr8 image', 3,
                          ['max_width:=9600', 'max_height:=9600', f'max_bytes:={300 << 20}'],
                          ['blobs'])),
    }


class Harness:
    """Publishes frames and collects results, stamped by one clock."""

    def __init__(self, node, compressed):
        kind, topic = (CompressedImage, 'image/compressed') if compressed else (Image, 'image')
        self.publisher = node.create_publisher(kind, topic, IMAGES)
        self.sent, self.results, self.inside, self.lock = {}, {}, {}, threading.Lock()
        self.publish_calls = []
        self.subscription = node.create_subscription(
            DetectionArray, 'detections', self.on_result, RESULTS)

    def on_result(self, msg):
        with self.lock:
            self.results.setdefault(msg.header.frame_id, time.monotonic())
            # vision_node's own account: receipt to publish, decode, detect (seconds).
            self.inside[msg.header.frame_id] = (msg.latency, msg.decode_time, msg.detect_time)

    def publish(self, msg, key):
        msg.header.frame_id = key
        with self.lock:
            self.sent[key] = time.monotonic()
        self.publisher.publish(msg)
        self.publish_calls.append(time.monotonic() - self.sent[key])

    def settle(self):
        """After the first result: waits for the warm-up frames published after the one
        answered first (those before it may have gone before the match), then forgets
        the warm-up."""
        with self.lock:
            first = min(int(k[1:]) for k in self.results)
            pending = [f'w{i}' for i in range(first + 1, len(self.sent))]
        self.wait(lambda: all(k in self.results for k in pending), 60)
        with self.lock:
            self.sent.clear()
            self.results.clear()
            self.publish_calls.clear()

    def outstanding(self):
        """Frames awaiting their result; one unanswered for LOST_AFTER counts as missing
        instead, so that a lost result cannot stall the run."""
        old = time.monotonic() - LOST_AFTER
        with self.lock:
            return sum(1 for k, t in self.sent.items() if t > old and k not in self.results)

    def wait(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)
        return True


def run(node, messages, workload, command, window):
    """One node through one workload with this process as the source: throughput,
    latency percentiles, CPU per frame."""
    harness = Harness(node, workload.compressed)
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        # Warm-up with a small frame (a queue of 276 MB ones would take minutes to drain)
        # until a result shows that both ends matched and the models are loaded.
        warm_msg = jpeg_msg(SMALL) if workload.compressed else image_msg(SMALL)
        warm = 0
        while not harness.results:
            harness.publish(warm_msg, f'w{warm}')
            warm += 1
            if proc.poll() is not None or warm > 300:
                raise RuntimeError(f'no result from {command[0]}: {proc.stderr.read().decode()}')
            harness.wait(lambda: harness.results, 0.2)
        harness.settle()
        cpu0, skipped, start = cpu_seconds(proc.pid), 0, time.monotonic()
        for i in range(workload.frames):
            if workload.rate:
                time.sleep(max(0.0, start + i / workload.rate - time.monotonic()))
                if harness.outstanding() >= MAX_OUTSTANDING_AT_RATE:
                    skipped += 1
                    continue
            else:
                harness.wait(lambda: harness.outstanding() < window, 600)
            harness.publish(messages[i % len(messages)], str(i))
        harness.wait(lambda: harness.outstanding() == 0, LOST_AFTER + 1)
        cpu = cpu_seconds(proc.pid) - cpu0
    finally:
        stop(proc)
        node.destroy_publisher(harness.publisher)
        node.destroy_subscription(harness.subscription)
    return summary(workload.frames, harness.sent,
                   {k: (t, harness.inside[k]) for k, t in harness.results.items()},
                   harness.publish_calls, cpu, skipped)


def run_rust_source(messages, workload, command, window, tmp):
    """The same with examples/bench_source.rs as the source (compressed frames only),
    for workloads where an rclpy source would be the bottleneck."""
    files = []
    for i, msg in enumerate(messages):
        files.append(Path(tmp) / f'frame{i}')
        files[-1].write_bytes(bytes(msg.data))
    warm = Path(tmp) / 'warm'
    warm.write_bytes(bytes(jpeg_msg(SMALL).data))
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        source = subprocess.Popen(
            [rust_source(), '--frames', str(workload.frames), '--window', str(window),
             '--warmup', str(warm), *map(str, files)], stdout=subprocess.PIPE, text=True)
        if source.stdout.readline().strip() != 'ready':
            raise RuntimeError(f'bench_source failed: {proc.stderr.read().decode()}')
        cpu0 = cpu_seconds(proc.pid)
        report = json.loads(source.stdout.read())
        cpu = cpu_seconds(proc.pid) - cpu0
        source.wait()
    finally:
        stop(proc)
    results = {k: (r['at'], r['inside']) for k, r in report['results'].items()}
    return summary(workload.frames, report['sent'], results, report['publish_calls'], cpu, 0)


def rust_source():
    """examples/bench_source, built (release) if it is not up to date."""
    subprocess.run(['cargo', 'build', '--quiet', '--release', '--example', 'bench_source'],
                   cwd=ROOT, check=True)
    target = Path(os.environ.get('CARGO_TARGET_DIR', ROOT / 'target'))
    return str(target / 'release' / 'examples' / 'bench_source')


def summary(frames, sent, results, publish_calls, cpu, skipped):
    """Statistics of one run from the publish times `sent` and `results`
    (time, vision_node's own account) by frame key."""
    keys = [str(i) for i in range(frames) if str(i) in sent]
    done = [k for k in keys if k in results]
    latencies = sorted((results[k][0] - sent[k]) * 1e3 for k in done)
    elapsed = max(results[k][0] for k in done) - min(sent[k] for k in keys)
    inside = [results[k][1] for k in done]
    return {'fps': len(done) / elapsed, 'p50': statistics.median(latencies),
            'inside': [statistics.median(x[i] for x in inside) * 1e3 for i in range(3)],
            'publish': statistics.median(publish_calls) * 1e3,
            'p99': latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            'cpu': cpu / len(done) * 1e3, 'missing': len(keys) - len(done), 'skipped': skipped}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--workloads', default='blobs,blobs30,cascade,yolo,jpeg,huge')
    parser.add_argument('--frames', type=int, default=150, help='frames per workload (150)')
    parser.add_argument('--window', type=int,
                        help='frames in flight (1: the next frame goes when the result of '
                             'the last is in; default 1, 8 for the JPEG burst)')
    parser.add_argument('--vision-node', help='vision_node binary (the installed one)')
    parser.add_argument('--no-null', action='store_true', help='leave out the null node')
    parser.add_argument('-p', '--param', action='append', default=[], metavar='NAME:=VALUE',
                        help='a vision_node parameter on top of the workload\'s')
    parser.add_argument('--dds-profile', default=str(ROOT / 'config' / 'fastdds_large_images.xml'),
                        help='Fast DDS profile of every process (default: the project\'s '
                             'for large images; "" for Fast DDS\'s defaults)')
    args = parser.parse_args()
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # where a run hangs
    with ros_session('bench_node', args.dds_profile) as node:
        rows = run_workloads(node, args)
    print_summary(rows)
    return 0


def run_workloads(node, args):
    vision_node = args.vision_node or installed('vision_node')
    reference = str(ROOT / 'tools' / 'reference_node.py')
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        table = workloads(tmp, args.frames)
        for key in args.workloads.split(','):
            make, workload = table[key]
            if key == 'yolo':
                yolo_like_model(Path(tmp) / 'yolo.onnx')
            messages = make()
            compressed = ['--compressed'] if workload.compressed else []
            params = ['qos:=reliable', 'overflow:=all', *workload.params, *args.param]
            commands = {
                'vision_node': [vision_node, '--ros-args', *sum((['-p', p] for p in params), [])],
                'rclpy reference': [sys.executable, reference, *workload.reference, *compressed],
                'rclpy null': [sys.executable, reference, 'null', *compressed],
            }
            if args.no_null:
                del commands['rclpy null']
            window = args.window or workload.window
            if workload.rust_source:
                results = {name: run_rust_source(messages, workload, command, window, tmp)
                           for name, command in commands.items()}
            else:
                results = {name: run(node, messages, workload, command, window)
                           for name, command in commands.items()}
            rows.append((workload.name, results))
            print_row(workload.name, results, flush=True)
    return rows


def print_row(name, results, flush=False):
    print(f'\n{name}', flush=flush)
    for who, r in results.items():
        print(f'  {who:<16} {r["fps"]:8.1f} frames/s  latency p50 {r["p50"]:7.1f} ms '
              f'p99 {r["p99"]:7.1f} ms  cpu {r["cpu"]:7.1f} ms/frame'
              f'{"  missing " + str(r["missing"]) if r["missing"] else ""}'
              f'{"  skipped " + str(r["skipped"]) if r["skipped"] else ""}', flush=flush)
        if who == 'vision_node':
            receipt, decode, detect = r['inside']
            print(f'  {"":<16} p50: publish() call {r["publish"]:.1f} ms; in vision_node: '
                  f'receipt to result {receipt:.1f} ms, decode {decode:.1f} ms, detect '
                  f'{detect:.1f} ms', flush=flush)


def print_summary(rows):
    print('\n| workload | vision_node | rclpy reference | throughput ratio | p99 ratio | '
          'source ceiling (null) |')
    print('|---|---|---|---|---|---|')
    for name, r in rows:
        ours, ref = r['vision_node'], r['rclpy reference']
        null = f'{r["rclpy null"]["fps"]:.1f}/s' if 'rclpy null' in r else '-'
        print(f'| {name} | {ours["fps"]:.1f}/s, p50/p99 {ours["p50"]:.0f}/{ours["p99"]:.0f} ms '
              f'| {ref["fps"]:.1f}/s, p50/p99 {ref["p50"]:.0f}/{ref["p99"]:.0f} ms '
              f'| {ours["fps"] / ref["fps"]:.2f}x | {ref["p99"] / ours["p99"]:.2f}x better '
              f'| {null} |')


if __name__ == '__main__':
    sys.exit(main())
