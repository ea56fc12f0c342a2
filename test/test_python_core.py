"""The core as a Python module (`import rust_vision_core`, built by `make python-core`).

In-process, no ROS: the same schema rows as vision_node's parameters, the same detectors
(checked against the scenes' ground truth and against OpenCV's cascade), the core's
messages for bad settings and bad frames.
"""
import subprocess

import cv2
import numpy as np
import pytest
import rust_vision_core as rv
import skimage.data
import yaml

from conftest import installed, ros_only_env
from scenes import ENCODINGS, iou, make_scene


def test_the_settings_are_vision_nodes_core_parameters():
    done = subprocess.run([str(installed('vision_node')), '--print-defaults'],
                          env=ros_only_env(), capture_output=True, text=True, timeout=10)
    node = yaml.safe_load(done.stdout)['/**']['ros__parameters']
    ours = {row['name']: row['default'] for row in rv.PARAMETERS}
    assert ours == {name: node[name] for name in ours}
    assert set(node) - set(ours) == {'qos', 'qos_depth', 'results_depth', 'annotated_depth',
                                     'transport'}
    threshold = next(row for row in rv.PARAMETERS if row['name'] == 'blobs.threshold')
    assert (threshold['type'], threshold['min'], threshold['max'], threshold['runtime']) \
        == ('integer', 0, 255, True)
    assert rv.Pipeline().settings == ours


def test_every_encoding_image_publisher_writes_is_one_the_core_decodes():
    assert set(ENCODINGS) <= set(rv.ENCODINGS)
    assert {'uyvy', 'yuyv', '8UC3'} <= set(rv.ENCODINGS)  # aliases


@pytest.mark.parametrize('encoding', ['rgb8', 'bgr8'])
def test_blobs_find_every_shape_of_a_scene(encoding):
    rgb, shapes = make_scene(640, 480, 8, np.random.default_rng(3), noise=8)
    image = np.ascontiguousarray(rgb[:, :, ::-1]) if encoding == 'bgr8' else rgb
    found = rv.Pipeline({'classifier': 'color'}).detect(image, encoding)
    assert len(found) == len(shapes)
    for shape in shapes:
        truth = (shape.x, shape.y, shape.width, shape.height)
        best = max(found, key=lambda d: iou(d['box'], truth))
        assert iou(best['box'], truth) >= 0.9, (best, shape)
        assert best['classification'][0] == shape.colour


def test_the_cascade_finds_the_astronauts_face_where_opencv_does():
    model = cv2.data.haarcascades + 'haarcascade_frontalface_default.xml'
    rgb = np.ascontiguousarray(skimage.data.astronaut())
    found = rv.Pipeline({'cascade.model': model, 'detector': 'cascade'}).detect(rgb)
    opencv = cv2.CascadeClassifier(model).detectMultiScale(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    assert len(found) == len(opencv) >= 1
    for box in opencv:
        assert max(iou(d['box'], tuple(box)) for d in found) >= 0.9
    jpeg = cv2.imencode('.jpg', rgb[:, :, ::-1])[1].tobytes()
    pipeline = rv.Pipeline({'cascade.model': model, 'detector': 'cascade'})
    assert len(pipeline.detect_compressed(jpeg)) == len(opencv)


def test_bad_settings_are_refused_with_the_value_and_what_is_allowed():
    with pytest.raises(ValueError, match=r'parameter `blobs.threshold`: 300 is outside 0..255'):
        rv.Pipeline({'blobs.threshold': 300})
    with pytest.raises(ValueError, match=r'"hue" is not one of chroma, bright, dark'):
        rv.Pipeline({'blobs.mode': 'hue'})
    with pytest.raises(ValueError, match=r'parameter `onnx.confidence`: 2.0 is outside 0.0..1.0'):
        rv.Pipeline({'onnx.confidence': 2})  # an int where a float is expected is one
    assert rv.Pipeline({'onnx.confidence': 1}).settings['onnx.confidence'] == 1.0
    with pytest.raises(ValueError, match=r'no such setting'):
        rv.Pipeline({'blobs.bogus': 1})
    with pytest.raises(ValueError, match=r'detector cascade needs cascade.model'):
        rv.Pipeline({'detector': 'cascade'})
    with pytest.raises(ValueError, match=r'model /no/such.xml'):
        rv.Pipeline({'cascade.model': '/no/such.xml', 'detector': 'cascade'})


def test_a_change_applies_to_the_next_frame_and_a_refused_one_changes_nothing():
    image = np.full((48, 64, 3), 90, np.uint8)
    image[10:30, 10:30] = (220, 20, 20)
    pipeline = rv.Pipeline({'blobs.min_area': 50})
    assert len(pipeline.detect(image)) == 1
    pipeline.set('blobs.min_area', 1000)
    assert pipeline.detect(image) == []
    with pytest.raises(ValueError, match='model /no/such.xml'):
        pipeline.set('cascade.model', '/no/such.xml')
        pipeline.set('detector', 'cascade')
    assert pipeline.settings['detector'] == 'blobs'
    assert pipeline.detect(image) == []


def test_bad_frames_raise_the_cores_cause():
    with pytest.raises(ValueError, match='corrupt_compressed'):
        rv.Pipeline().detect_compressed(b'\xff\xd8\xff\xe0 not a jpeg')
    with pytest.raises(ValueError, match='unsupported_encoding'):
        rv.Pipeline().detect(np.zeros((4, 4, 3), np.uint8), 'rgb9')
    with pytest.raises(ValueError, match='C-contiguous'):
        rv.Pipeline().detect(np.zeros((8, 8, 3), np.uint8)[:, ::2])
