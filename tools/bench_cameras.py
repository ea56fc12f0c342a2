#!/usr/bin/env python3
"""Several cameras: one vision_node per camera against one vision_node for the same
pixel rate, on memory (RSS) and CPU.

N cameras at R Hz each go to N vision_nodes (as launch/cameras.launch.py runs them); the
same frames at N x R Hz on one topic go to one vision_node, which is what one node
serving N topics would do, minus the N - 1 extra subscriptions. RSS and CPU time come from
/proc (RSS, and PSS, which counts shared libraries once); results are counted per
camera. Usage:

    tools/bench_cameras.py --cameras 4 --rate 15 --seconds 20 [-p detector:=cascade ...]
"""

import argparse
import subprocess
import sys
import threading
import time
from pathlib import Path

from rust_vision.msg import DetectionArray
from sensor_msgs.msg import Image

from harness import cpu_seconds, image_msg, installed, IMAGES, RESULTS, ros_session, \
    scene_bgr, stop


def memory_mb(pid):
    """(RSS, PSS) of process `pid`, MB: PSS shares the pages of shared libraries among the
    processes that map them, so a sum of PSS is what the processes take together."""
    fields = dict(line.split(':', 1) for line in
                  Path(f'/proc/{pid}/smaps_rollup').read_text().splitlines()[1:])
    return tuple(int(fields[k].split()[0]) / 1024 for k in ('Rss', 'Pss'))


def start_nodes(namespaces, params):
    command = [installed('vision_node'), '--ros-args', '-p', 'qos:=reliable',
               '-p', 'overflow:=all', *sum((['-p', p] for p in params), [])]
    return [subprocess.Popen([*command, '-r', f'__ns:=/{ns}'], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
            for ns in namespaces]


def measure(node, namespaces, streams, rate, seconds, params, frame):
    """`streams` cameras at `rate` Hz, camera i's frames on namespaces[i % len]: frames
    sent and results, CPU (cores) and RSS and PSS (MB, after the run) of the vision_nodes."""
    procs = start_nodes(namespaces, params)
    counts, lock = {ns: 0 for ns in namespaces}, threading.Lock()

    def count(ns):
        def on_result(msg):
            with lock:
                counts[ns] += msg.header.frame_id == 'measured'
                warm.add(ns)
        return on_result
    warm = set()
    subs = [node.create_subscription(DetectionArray, f'/{ns}/detections', count(ns), RESULTS)
            for ns in namespaces]
    pubs = {ns: node.create_publisher(Image, f'/{ns}/image', IMAGES) for ns in namespaces}
    try:
        frame.header.frame_id = 'warm-up'
        while len(warm) < len(namespaces):  # a warm-up result from every node
            for pub in pubs.values():
                pub.publish(frame)
            time.sleep(0.2)
        frame.header.frame_id = 'measured'
        cpu0 = sum(cpu_seconds(p.pid) for p in procs)
        start, sent = time.monotonic(), 0
        while time.monotonic() - start < seconds:
            for i in range(streams):
                pubs[namespaces[i % len(namespaces)]].publish(frame)
                sent += 1
            time.sleep(max(0.0, start + sent / streams / rate - time.monotonic()))
        deadline = time.monotonic() + 10
        while sum(counts.values()) < sent and time.monotonic() < deadline:
            time.sleep(0.05)
        elapsed = time.monotonic() - start
        cpu = (sum(cpu_seconds(p.pid) for p in procs) - cpu0) / elapsed
        rss, pss = (sum(m) for m in zip(*(memory_mb(p.pid) for p in procs)))
    finally:
        for proc in procs:
            stop(proc)
        for sub in subs:
            node.destroy_subscription(sub)
        for pub in pubs.values():
            node.destroy_publisher(pub)
    return sent, sum(counts.values()), cpu, rss, pss


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--cameras', type=int, default=4)
    parser.add_argument('--rate', type=float, default=15.0, help='Hz per camera (15)')
    parser.add_argument('--seconds', type=float, default=20.0)
    parser.add_argument('--size', default='640x480')
    parser.add_argument('-p', '--param', action='append', default=[], metavar='NAME:=VALUE',
                        help='a vision_node parameter (detector, model, ...)')
    args = parser.parse_args()
    width, height = map(int, args.size.split('x'))
    frame = image_msg(scene_bgr(width, height, 0))
    layouts = {f'{args.cameras} nodes, one per camera':
               [f'cam{i}' for i in range(args.cameras)],
               f'1 node, all {args.cameras} streams': ['all']}
    print(f'| {args.cameras} x {args.size} at {args.rate:g} Hz, {" ".join(args.param) or "blobs"}'
          ' | frames sent | results | CPU (cores) | RSS (MB) | PSS (MB) |')
    print('|---|---|---|---|---|---|')
    with ros_session('bench_cameras', '') as node:
        for name, namespaces in layouts.items():
            sent, got, cpu, rss, pss = measure(node, namespaces, args.cameras, args.rate,
                                               args.seconds, args.param, frame)
            print(f'| {name} | {sent} | {got} | {cpu:.2f} | {rss:.0f} | {pss:.0f} |',
                  flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
