#!/usr/bin/env python3
"""Soak: the installed vision_node for minutes at 30 Hz 1080p with the blobs detector
(reliable, overflow all), optionally with a share of malformed frames; not a CI test.

    tools/soak.py                      (10 minutes, in the project environment)
    tools/soak.py --malformed 0.01     (1% of frames with a step that does not match)

Every 10 s it prints vision_node's RSS, the publish -> result latency p50/p99 of the
frames published in that period, the node's queue depths (from /diagnostics) and its
counts; at the end the verdict on the targets: RSS growth after the first minute < 5%,
no latency drift (the last minute's p50 against the second minute's), no frame dropped,
every malformed frame counted failed and every other one answered.
"""

import argparse
import re
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from rust_vision.msg import DetectionArray
from sensor_msgs.msg import Image

from harness import (IMAGES, RESULTS, ROOT, image_msg, installed, ros_session, scene_bgr,
                     stop)

DEPTHS = 'queue depths (input, classify, output)'


class Soak:
    """Publishes frames, and keeps what comes back: results (by frame id) and the
    latest diagnostics of vision_node."""

    def __init__(self, node):
        self.publisher = node.create_publisher(Image, 'image', IMAGES)
        self.lock = threading.Lock()
        self.sent, self.answered, self.diagnostics = {}, {}, {}
        node.create_subscription(DetectionArray, 'detections', self.on_result, RESULTS)
        node.create_subscription(DiagnosticArray, '/diagnostics', self.on_diagnostics, 10)

    def on_result(self, msg):
        with self.lock:
            self.answered[msg.header.frame_id] = time.monotonic()

    def on_diagnostics(self, msg):
        for status in msg.status:
            if status.name.endswith('vision_node: pipeline'):
                with self.lock:
                    self.diagnostics = {kv.key: kv.value for kv in status.values}

    def publish(self, msg, key):
        msg.header.frame_id = key
        with self.lock:
            self.sent[key] = time.monotonic()
        self.publisher.publish(msg)

    def latencies(self, since, until):
        """Publish -> result of the frames published in [since, until), seconds."""
        with self.lock:
            return [self.answered[k] - t for k, t in self.sent.items()
                    if since <= t < until and k in self.answered]


def rss_mib(pid):
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
    return float('nan')


def percentile(values, q):
    return float(np.percentile(values, q)) * 1e3 if values else float('nan')


def frames(width, height):
    """Eight scenes, and a malformed frame: its step one byte short of its rows."""
    good = [image_msg(scene_bgr(width, height, seed)) for seed in range(8)]
    bad = image_msg(scene_bgr(width, height, 99))
    bad.step -= 1
    return good, bad


def warm_up(soak, node_proc):
    """Small frames until vision_node answers: every reader and writer has matched."""
    small = image_msg(np.full((48, 64, 3), 90, np.uint8))
    for i in range(600):
        if node_proc.poll() is not None:
            raise SystemExit('vision_node exited during warm-up')
        soak.publish(small, f'w{i}')
        time.sleep(0.1)
        with soak.lock:
            if any(k.startswith('w') for k in soak.answered):
                return
    raise SystemExit('vision_node never answered')


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--minutes', type=float, default=10.0)
    parser.add_argument('--rate', type=float, default=30.0, help='frames per second (30)')
    parser.add_argument('--malformed', type=float, default=0.0,
                        help='share of frames malformed, 0..1 (0)')
    parser.add_argument('--width', type=int, default=1920)
    parser.add_argument('--height', type=int, default=1080)
    parser.add_argument('--every', type=float, default=10.0, help='sample period, s (10)')
    args = parser.parse_args()
    profile = str(ROOT / 'config' / 'fastdds_large_images.xml')
    with ros_session('soak', profile) as node:
        command = [installed('vision_node'), '--ros-args', '-p', 'detector:=blobs',
                   '-p', 'qos:=reliable', '-p', 'overflow:=all']
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)
        log = []
        threading.Thread(target=lambda: log.extend(proc.stdout), daemon=True).start()
        try:
            soak = Soak(node)
            warm_up(soak, proc)
            time.sleep(1.0)
            with soak.lock:
                soak.sent.clear()
                soak.answered.clear()
            samples, malformed = run(soak, proc, args)
        finally:
            stop(proc, timeout=30)
        time.sleep(0.5)
        verdict(soak, samples, malformed, log, args)


def run(soak, proc, args):
    """Publishes at the rate for the duration, printing a sample every period."""
    good, bad = frames(args.width, args.height)
    rng = np.random.default_rng(1)
    start = time.monotonic()
    end = start + args.minutes * 60
    next_sample, samples, malformed, n = start + args.every, [], set(), 0
    print(f'{"t (s)":>6} {"RSS MiB":>8} {"p50 ms":>7} {"p99 ms":>7} {"sent":>6} '
          f'{"results":>7} {"failed":>6} {"dropped":>7}  queues (input, classify, output)',
          flush=True)
    while (now := time.monotonic()) < end:
        key = f'f{n}'
        if rng.random() < args.malformed:
            malformed.add(key)
            soak.publish(bad, key)
        else:
            soak.publish(good[n % len(good)], key)
        n += 1
        if now >= next_sample:
            samples.append(sample(soak, proc, now - start, next_sample - args.every, now))
            next_sample += args.every
        time.sleep(max(0.0, start + n / args.rate - time.monotonic()))
    time.sleep(2.0)  # the last results
    return samples, malformed


def sample(soak, proc, t, since, until):
    latencies = soak.latencies(since, until)
    with soak.lock:
        d = dict(soak.diagnostics)
        sent, answered = len(soak.sent), len(soak.answered)
    row = dict(t=t, rss=rss_mib(proc.pid), p50=percentile(latencies, 50),
               p99=percentile(latencies, 99), sent=sent, results=answered,
               failed=d.get('frames failed', '?'), dropped=d.get('frames dropped', '?'),
               depths=d.get(DEPTHS, '?'))
    print(f'{row["t"]:6.0f} {row["rss"]:8.1f} {row["p50"]:7.1f} {row["p99"]:7.1f} '
          f'{row["sent"]:6} {row["results"]:7} {row["failed"]:>6} {row["dropped"]:>7}  '
          f'{row["depths"]}', flush=True)
    return row


def verdict(soak, samples, malformed, log, args):
    after_minute = [s for s in samples if s['t'] >= 60] or samples
    base, peak = after_minute[0]['rss'], max(s['rss'] for s in after_minute)
    growth = (peak - base) / base * 100
    per_minute = max(1, int(60 / args.every))
    second_minute = [s['p50'] for s in samples[per_minute:2 * per_minute]] or [np.nan]
    last_minute = [s['p50'] for s in samples[-per_minute:]]
    with soak.lock:
        unanswered = [k for k in soak.sent if k not in soak.answered and k not in malformed]
        answered_bad = [k for k in malformed if k in soak.answered]
    final = next((line.strip() for line in reversed(log)
                  if re.search(r'frames received \d+, results published', line)), '?')
    errors = [line.strip() for line in log if 'ERROR' in line or 'panicked' in line]
    print(f'\nRSS after the first minute: {base:.1f} -> peak {peak:.1f} MiB '
          f'({growth:+.1f}%; target < 5%)')
    print(f'latency p50: second minute {np.median(second_minute):.1f} ms, last minute '
          f'{np.median(last_minute):.1f} ms')
    print(f'frames published {len(soak.sent)}, malformed {len(malformed)}, unanswered '
          f'(not malformed) {len(unanswered)}, malformed answered {len(answered_bad)}')
    print(f'vision_node at exit: {final}')
    print(f'error lines in its log: {len(errors)}' + ''.join(f'\n  {e}' for e in errors[:5]))


if __name__ == '__main__':
    main()
