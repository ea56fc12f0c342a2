#!/usr/bin/env python3
"""In-process against over DDS: the core called from Python, against a round trip
through vision_node and through inprocess_node (rclpy + the same module) over DDS.

    tools/bench_inprocess.py [--frames 100]        (in the project environment)

The blobs detector on synthetic 640x480 and 1920x1080 bgr8 scenes, one frame in flight.
`in-process` is `rust_vision_core.Pipeline.process(array, 'bgr8')` timed in this process
(one copy of the pixels into Rust, then the pipeline); the DDS rows use
tools/bench_node.py's harness (reliable, keep all; publish -> result, same clock), so
they add the message's serialisation, transport and the result's way back.
"""

import argparse
import statistics
import sys
import time

import rust_vision_core as rv

import bench_node
from bench_node import run, Workload
from harness import image_msg, installed, scene_bgr


def in_process(frames, count):
    """Latency of Pipeline.process on each frame in turn, ms, and frames per second."""
    pipeline = rv.Pipeline()
    pipeline.process(frames[0])
    times = []
    for i in range(count):
        start = time.perf_counter()
        pipeline.process(frames[i % len(frames)])
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return {'fps': 1e3 / statistics.mean(times), 'p50': statistics.median(times),
            'p99': times[min(len(times) - 1, int(len(times) * 0.99))]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--frames', type=int, default=100, help='frames per row (100)')
    args = parser.parse_args()
    profile = str(bench_node.ROOT / 'config' / 'fastdds_large_images.xml')
    with bench_node.ros_session('bench_inprocess', profile) as node:
        table(node, args.frames)
    return 0


def table(node, frames_per_row):
    params = ['--ros-args', '-p', 'qos:=reliable', '-p', 'overflow:=all']
    commands = {
        'vision_node (DDS)': [installed('vision_node'), *params],
        'inprocess_node (DDS)': [sys.executable, installed('inprocess_node'), '--qos',
                                 'reliable', '--ros-args'],
    }
    print('| frame | in-process call | vision_node over DDS | inprocess_node over DDS | '
          'DDS round trip / in-process |')
    print('|---|---|---|---|---|')
    for width, height in ((640, 480), (1920, 1080)):
        frames = [scene_bgr(width, height, seed) for seed in range(4)]
        rows = {'in-process': in_process(frames, frames_per_row)}
        workload = Workload(f'{width}x{height}', frames_per_row, [], ['blobs'])
        messages = [image_msg(f) for f in frames]
        for name, command in commands.items():
            rows[name] = run(node, messages, workload, command, 1)
        cells = [f'{r["fps"]:.0f}/s, p50/p99 {r["p50"]:.1f}/{r["p99"]:.1f} ms'
                 for r in rows.values()]
        ratio = rows['vision_node (DDS)']['p50'] / rows['in-process']['p50']
        print(f'| {width}x{height} bgr8, blobs | {" | ".join(cells)} | {ratio:.1f}x |',
              flush=True)


if __name__ == '__main__':
    sys.exit(main())
