#!/usr/bin/env python3
"""JPEG and PNG decoding, rust_vision against cv2.imdecode, on the same bytes.

    tools/bench_vs_opencv.py [--repeats N]     (in the project's ROS environment)

Encodes a busy synthetic scene (the one benches/decode.rs uses) at 640x480 and 1920x1080
with cv2, decodes each file N times with cv2.imdecode and with rust_vision
(examples/decode_files, release build), both on one thread, and prints the best time of
each and the ratio rust / cv2 (below 1: rust_vision is faster).
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def scene(width, height):
    """The benches' scene: gradients and an xor pattern."""
    y, x = np.mgrid[0:height, 0:width].astype(np.uint32)
    rgb = np.stack([(x // 8) & 0xff, (y // 5) & 0xff, (x ^ y) & 0xff], axis=-1)
    return rgb.astype(np.uint8)


def best_cv2(data, repeats, to_rgb):
    """Best time of cv2.imdecode, ms; with `to_rgb` also the BGR -> RGB conversion, since
    rust_vision's output is RGB."""
    buffer = np.frombuffer(data, np.uint8)
    best = float('inf')
    for _ in range(repeats):
        start = time.perf_counter()
        image = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
        if to_rgb:
            cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=30)
    args = parser.parse_args()
    subprocess.run(['cargo', 'build', '--quiet', '--release', '--example', 'decode_files',
                    '-p', 'rust_vision_core'], cwd=ROOT, check=True)
    target = Path(subprocess.run(
        ['cargo', 'metadata', '--format-version', '1', '--no-deps'], cwd=ROOT, check=True,
        capture_output=True, text=True).stdout.split('"target_directory":"')[1].split('"')[0])
    decoder = target / 'release' / 'examples' / 'decode_files'

    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for width, height in [(640, 480), (1920, 1080)]:
            bgr = scene(width, height)[:, :, ::-1]
            for ext, params in [('jpg', [cv2.IMWRITE_JPEG_QUALITY, 90]), ('png', [])]:
                path = Path(tmp) / f'{width}x{height}.{ext}'
                path.write_bytes(cv2.imencode(f'.{ext}', bgr, params)[1].tobytes())
                files.append(path)
        ours = dict(line.rsplit(' ', 1) for line in subprocess.run(
            [str(decoder), str(args.repeats), *map(str, files)], check=True,
            capture_output=True, text=True).stdout.splitlines())
        print('one thread each; cv2 BGR: imdecode alone, cv2 RGB: imdecode + BGR->RGB')
        print(f'{"image":<16} {"cv2 BGR":>10} {"cv2 RGB":>10} {"rust_vision":>12} '
              f'{"ratio vs BGR":>13} {"ratio vs RGB":>13}')
        cv2.setNumThreads(1)
        for path in files:
            data = path.read_bytes()
            bgr, rgb = (best_cv2(data, args.repeats, to_rgb) for to_rgb in (False, True))
            rust = float(ours[str(path)])
            print(f'{path.name:<16} {bgr:>7.2f} ms {rgb:>7.2f} ms {rust:>9.2f} ms '
                  f'{rust / bgr:>12.2f}x {rust / rgb:>12.2f}x')
    return 0


if __name__ == '__main__':
    sys.exit(main())
