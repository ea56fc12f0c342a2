#!/usr/bin/env python3
"""Detectors and classifiers, rust_vision against what users would use instead, in one run.

    tools/bench_models_vs_opencv.py [--repeats N]     (in the project's ROS environment)

- cascade detection (haarcascade_frontalface_default, scaleFactor 1.1, minNeighbors 3) on
  the astronaut photo composed into 640x480 and 1920x1080 frames: cv2.CascadeClassifier
  against rust_vision (examples/cascade_detect), one thread each, then each with all
  cores;
- ONNX inference of a small convolutional YOLO-shaped model (320x320 input) and of
  bench_node's YOLOv8-shaped one (~2 GMAC at 640x640), both built here with the onnx
  package: onnxruntime from Python against rust_vision's tract and ONNX Runtime (ort)
  engines (examples/time_models), one thread each, then each with all cores (tract has
  one thread whatever it is given);
- the colour classifier on a 640x480 crop: OpenCV + numpy (HSV conversion and a hue
  histogram, what a Python node would do) against rust_vision.

Prints the best time of each and the ratio rust / other (below 1: rust_vision faster).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime
import skimage.data
from onnx import TensorProto, helper, numpy_helper

from bench_node import yolo_like_model

ROOT = Path(__file__).resolve().parent.parent


def best(repeats, run):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def frame(width, height):
    """The astronaut, at about half the frame height, on the coffee photo."""
    canvas = cv2.resize(cv2.cvtColor(skimage.data.coffee(), cv2.COLOR_RGB2BGR),
                        (width, height))
    astronaut = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR)
    side = height // 2
    canvas[height // 4:height // 4 + side, width // 3:width // 3 + side] = \
        cv2.resize(astronaut, (side, side))
    return canvas


def small_yolo(path, size=320, classes=80):
    """Four stride-2 3x3 convolutions (3 -> 16 -> 32 -> 64 -> 128 channels, ReLU) and a
    1x1 head to 4 + classes rows over 20x20 cells: 1 x 84 x 400, random weights."""
    rng = np.random.default_rng(0)
    nodes, inits, x, channels = [], [], 'images', 3
    for i, out in enumerate([16, 32, 64, 128]):
        w = rng.normal(0, 0.1, (out, channels, 3, 3)).astype(np.float32)
        b = np.zeros(out, np.float32)
        inits += [numpy_helper.from_array(w, f'w{i}'), numpy_helper.from_array(b, f'b{i}')]
        nodes += [helper.make_node('Conv', [x, f'w{i}', f'b{i}'], [f'c{i}'], strides=[2, 2],
                                   pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
                  helper.make_node('Relu', [f'c{i}'], [f'r{i}'])]
        x, channels = f'r{i}', out
    head = rng.normal(0, 0.1, (4 + classes, channels, 1, 1)).astype(np.float32)
    inits.append(numpy_helper.from_array(head, 'head'))
    cells = size // 16
    inits.append(numpy_helper.from_array(np.array([1, 4 + classes, cells * cells], np.int64),
                                         'shape'))
    nodes += [helper.make_node('Conv', [x, 'head'], ['h'], kernel_shape=[1, 1]),
              helper.make_node('Reshape', ['h', 'shape'], ['output0'])]
    graph = helper.make_graph(
        nodes, 'small_yolo',
        [helper.make_tensor_value_info('images', TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info('output0', TensorProto.FLOAT,
                                       [1, 4 + classes, cells * cells])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return size


def hue_histogram(bgr):
    """What a Python node would do for the dominant colour: HSV, then a hue histogram of
    the saturated, bright pixels and a count of the rest."""
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    chromatic = (hsv[..., 1] >= 64) & (hsv[..., 2] >= 51)
    hist = np.bincount(hsv[..., 0][chromatic], minlength=180)
    return int(np.argmax(hist)), int((~chromatic).sum())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=10)
    args = parser.parse_args()
    subprocess.run(['cargo', 'build', '--quiet', '--release', '-p', 'rust_vision_core',
                    '--example', 'cascade_detect', '--example', 'time_models'],
                   cwd=ROOT, check=True)
    target = Path(os.environ.get('CARGO_TARGET_DIR', ROOT / 'target')) / 'release' / 'examples'
    model = cv2.data.haarcascades + 'haarcascade_frontalface_default.xml'
    cascade = cv2.CascadeClassifier(model)

    with tempfile.TemporaryDirectory() as tmp:
        print('cascade detection, frontalface_default, scaleFactor 1.1, minNeighbors 3')
        print(f'{"image":<12} {"threads":<8} {"cv2":>10} {"rust_vision":>12} {"ratio":>7}'
              f'  detections (cv2 / rust)')
        for width, height in [(640, 480), (1920, 1080)]:
            path = Path(tmp) / f'{width}x{height}.png'
            image = frame(width, height)
            cv2.imwrite(str(path), image)
            for threads in (1, os.cpu_count()):
                cv2.setNumThreads(threads)
                found = []
                theirs = best(args.repeats, lambda: found.append(
                    cascade.detectMultiScale(image, 1.1, 3)))
                out = json.loads(subprocess.run(
                    [str(target / 'cascade_detect'), '--model', model, '--repeats',
                     str(args.repeats), '--threads', str(threads), str(path)],
                    check=True, capture_output=True, text=True).stdout)
                print(f'{path.stem:<12} {threads:<8} {theirs:>7.1f} ms {out["ms"]:>9.1f} ms '
                      f'{out["ms"] / theirs:>6.2f}x  {len(found[0])} / {len(out["boxes"])}')

        print('\nONNX inference (a ready 1x3xHxW tensor): onnxruntime from Python against '
              'rust_vision on tract and on ONNX Runtime (ort)')
        print(f'{"model":<22} {"threads":<8} {"onnxruntime":>12} {"tract":>10} {"ort":>10}'
              f' {"tract÷py":>10} {"ort÷py":>8}')
        models = [('small_yolo 320', Path(tmp) / 'small_yolo.onnx', small_yolo),
                  ('yolo_like 640 (2 GMAC)', Path(tmp) / 'yolo_like.onnx', yolo_like_model)]
        for name, onnx_path, build in models:
            build(onnx_path)
            size = onnx.load(str(onnx_path)).graph.input[0].type.tensor_type.shape.dim[2]
            tensor = np.random.default_rng(1).random((1, 3, size.dim_value, size.dim_value),
                                                     np.float32)
            for threads in (1, os.cpu_count()):
                options = onnxruntime.SessionOptions()
                options.intra_op_num_threads = threads
                session = onnxruntime.InferenceSession(str(onnx_path), options,
                                                       providers=['CPUExecutionProvider'])
                theirs = best(args.repeats * 3, lambda: session.run(None, {'images': tensor}))
                ours = {backend: float(subprocess.run(
                    [str(target / 'time_models'), '--repeats', str(args.repeats * 3),
                     '--backend', backend, '--threads', str(threads), 'onnx',
                     str(onnx_path), str(Path(tmp) / '640x480.png')],
                    check=True, capture_output=True, text=True).stdout)
                    for backend in ('tract', 'onnxruntime')}
                print(f'{name:<22} {threads:<8} {theirs:>9.2f} ms {ours["tract"]:>7.2f} ms '
                      f'{ours["onnxruntime"]:>7.2f} ms {ours["tract"] / theirs:>9.2f}x '
                      f'{ours["onnxruntime"] / theirs:>7.2f}x')

        crop = frame(640, 480)
        cv2.setNumThreads(1)
        theirs = best(args.repeats * 3, lambda: hue_histogram(crop))
        print('\ncolour classifier on a 640x480 box (OpenCV + numpy: one thread)')
        for threads in (1, os.cpu_count()):
            ours = float(subprocess.run(
                [str(target / 'time_models'), '--repeats', str(args.repeats * 3), 'color',
                 str(Path(tmp) / '640x480.png')], check=True, capture_output=True,
                text=True, env={**os.environ, 'RAYON_NUM_THREADS': str(threads)}).stdout)
            print(f'OpenCV + numpy {theirs:.2f} ms, rust_vision on {threads} thread(s) '
                  f'{ours:.2f} ms, ratio {ours / theirs:.2f}x')
    return 0


if __name__ == '__main__':
    sys.exit(main())
