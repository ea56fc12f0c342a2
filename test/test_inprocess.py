"""inprocess_node (rclpy + the core as a Python module) against vision_node: both
subscribe to the same frames over DDS and must publish the same detections, for the
blobs detector with the colour classifier, the face cascade and an ONNX detector."""
import subprocess

import cv2
import numpy as np
import pytest
import skimage.data
from rust_vision.msg import DetectionArray

import onnx_models
from conftest import image_msg, publish_all, python_node, spin_until, spin_until_time
from scenes import make_scene

BATCH = ('-p', 'qos:=reliable', '-p', 'overflow:=all')
FACES = cv2.data.haarcascades + 'haarcascade_frontalface_default.xml'


def settings(kind, tmp_path):
    """(core settings, frames as RGB arrays) of one workload."""
    if kind == 'blobs':
        rng = np.random.default_rng(11)
        scenes = [make_scene(640, 480, 6, rng, noise=8)[0] for _ in range(4)]
        return {'classifier': 'color'}, scenes
    if kind == 'cascade':
        return {'detector': 'cascade', 'cascade.model': FACES,
                'cascade.min_neighbors': 5}, [skimage.data.astronaut()]
    model = onnx_models.yolo(tmp_path / 'yolo.onnx', names=onnx_models.NAMES)
    frames = [np.full((480, 640, 3), colour, np.uint8)
              for colour in ((230, 200, 200), (200, 230, 200))]
    return {'detector': 'onnx', 'onnx.model': str(model)}, frames


def fields(result):
    return [(d.x, d.y, d.width, d.height, d.class_id, d.label, d.score, d.objectness,
             d.classification_label, d.classification_score, d.track_id)
            for d in result.detections]


@pytest.fixture
def inprocess_node():
    started = []

    def start(*args):
        started.append(subprocess.Popen(
            python_node('inprocess_node', *args),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        return started[-1]

    yield start
    for process in started:
        process.terminate()
        out, _ = process.communicate(timeout=10)
        assert process.returncode in (0, -15), out
        assert 'Traceback' not in out and 'ERROR' not in out, out


@pytest.mark.parametrize('kind', ['blobs', 'cascade', 'onnx'])
def test_inprocess_node_publishes_what_vision_node_does(
        kind, vision_node, inprocess_node, rclpy_node, collect, tmp_path):
    core, images = settings(kind, tmp_path)
    params = [arg for name, value in core.items() for arg in ('-p', f'{name}:={value}')]
    ns = f'/same_{kind}'
    vision_node('-r', f'__ns:={ns}', *BATCH, *params)
    inprocess_node('--qos', 'reliable', '--ros-args', '-r', f'__ns:={ns}',
                   '-r', 'detections:=inprocess/detections', *params)
    ours = collect(DetectionArray, f'{ns}/detections')
    theirs = collect(DetectionArray, f'{ns}/inprocess/detections')
    publish_all(rclpy_node, f'{ns}/image', [], theirs)  # both have matched: warm-up answers
    frames = [image_msg(rgb, 'rgb8', f'frame{i}', rclpy_node.get_clock().now().to_msg())
              for i, rgb in enumerate(images)]
    publish_all(rclpy_node, f'{ns}/image', frames, ours)

    def answered(results):
        return [m for m in results.messages if m.header.frame_id != 'warmup']

    spin_until(rclpy_node, lambda: len(answered(ours)) == len(answered(theirs)) == len(frames),
               timeout=60)
    spin_until_time(rclpy_node, 0.3)
    assert [m.header.frame_id for m in answered(theirs)] == [m.header.frame_id for m in frames]
    for mine, other in zip(answered(ours), answered(theirs)):
        assert fields(mine), f'{kind}: nothing found in {mine.header.frame_id}'
        assert fields(other) == fields(mine), mine.header.frame_id
        assert (other.image_width, other.image_height) == (mine.image_width, mine.image_height)
