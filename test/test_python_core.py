"""The core as a Python module (`import rust_vision_core`, installed by `make package`).

In-process, no ROS: the same schema rows as vision_node's parameters, the same detectors
(checked against the scenes' ground truth and against OpenCV's cascade), the core's
messages for bad settings and bad frames.
"""
import subprocess
import threading
import time

import cv2
import numpy as np
import pytest
import rust_vision_core as rv
import skimage.data
import yaml

from conftest import ROOT, installed, ros_only_env
from scenes import ENCODINGS, iou, make_scene


def test_the_settings_are_vision_nodes_core_parameters():
    done = subprocess.run([str(installed('vision_node')), '--print-defaults'],
                          env=ros_only_env(), capture_output=True, text=True, timeout=10)
    node = yaml.safe_load(done.stdout)['/**']['ros__parameters']
    ours = {row['name']: row['default'] for row in rv.PARAMETERS}
    assert ours == {name: node[name] for name in ours}
    assert set(node) - set(ours) == {'qos', 'qos_depth', 'results_depth', 'annotated_depth',
                                     'transport', 'managed', 'publish_vision_msgs'}
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
    found = rv.Pipeline({'classifier': 'color'}).process(image, encoding)
    assert len(found) == len(shapes)
    for shape in shapes:
        truth = (shape.x, shape.y, shape.width, shape.height)
        best = max(found, key=lambda d: iou(d['box'], truth))
        assert iou(best['box'], truth) >= 0.9, (best, shape)
        assert best['classification'][0] == shape.colour


def test_the_cascade_finds_the_astronauts_face_where_opencv_does():
    model = cv2.data.haarcascades + 'haarcascade_frontalface_default.xml'
    rgb = np.ascontiguousarray(skimage.data.astronaut())
    found = rv.Pipeline({'cascade.model': model, 'detector': 'cascade'}).process(rgb, 'rgb8')
    opencv = cv2.CascadeClassifier(model).detectMultiScale(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    assert len(found) == len(opencv) >= 1
    for box in opencv:
        assert max(iou(d['box'], tuple(box)) for d in found) >= 0.9
    jpeg = cv2.imencode('.jpg', rgb[:, :, ::-1])[1].tobytes()
    pipeline = rv.Pipeline({'cascade.model': model, 'detector': 'cascade'})
    assert len(pipeline.process_compressed(jpeg)) == len(opencv)


def test_bad_settings_are_refused_with_the_value_and_what_is_allowed():
    with pytest.raises(rv.ParameterError,
                       match=r'parameter `blobs.threshold`: 300 is outside 0..255'):
        rv.Pipeline({'blobs.threshold': 300})
    with pytest.raises(rv.ParameterError, match=r'"hue" is not one of chroma, bright, dark'):
        rv.Pipeline({'blobs.mode': 'hue'})
    with pytest.raises(rv.ParameterError,
                       match=r'parameter `onnx.confidence`: 2.0 is outside 0.0..1.0'):
        rv.Pipeline({'onnx.confidence': 2})  # an int where a float is expected is one
    assert rv.Pipeline({'onnx.confidence': 1}).settings['onnx.confidence'] == 1.0
    with pytest.raises(rv.ParameterError, match=r'parameter `blobs.bogus`: no such setting'):
        rv.Pipeline({'blobs.bogus': 1})
    with pytest.raises(rv.ParameterError,
                       match=r'parameter `blobs.threshold`: true is not an integer'):
        rv.Pipeline({'blobs.threshold': True})
    with pytest.raises(rv.ParameterError, match=r'detector cascade needs cascade.model'):
        rv.Pipeline({'detector': 'cascade'})
    with pytest.raises(rv.ModelError, match=r'model /no/such.xml'):
        rv.Pipeline({'cascade.model': '/no/such.xml', 'detector': 'cascade'})
    assert issubclass(rv.ParameterError, rv.Error) and issubclass(rv.Error, ValueError)


def test_settings_come_from_yaml_files_as_vision_node_reads_them(tmp_path):
    shipped = rv.Pipeline(str(ROOT / 'config' / 'vision_node.yaml'))
    assert shipped.settings == rv.Pipeline().settings
    assert shipped.ignored == ['qos', 'qos_depth', 'results_depth', 'annotated_depth',
                               'transport', 'managed', 'publish_vision_msgs']  # not the core's
    nested = tmp_path / 'nested.yaml'
    nested.write_text('detector: blobs\nblobs:\n  threshold: 40\n  min_area: 12\n')
    pipeline = rv.Pipeline(nested)
    assert (pipeline.settings['blobs.threshold'], pipeline.settings['blobs.min_area']) == (40, 12)
    assert pipeline.ignored == []
    nested.write_text('blobs:\n  threshold: 400\n')
    with pytest.raises(rv.ParameterError, match='400 is outside 0..255'):
        rv.Pipeline(nested)
    nested.write_text('qos: reliable\n')  # only a ROS parameters file has the front end's
    with pytest.raises(rv.ParameterError, match='`qos`: no such setting'):
        rv.Pipeline(nested)
    nested.write_text('blobs: [1, 2\n')
    with pytest.raises(rv.Error, match='settings file .*nested.yaml'):
        rv.Pipeline(nested)


def test_a_change_applies_to_the_next_frame_and_a_refused_one_changes_nothing():
    image = np.full((48, 64, 3), 90, np.uint8)
    image[10:30, 10:30] = (220, 20, 20)
    pipeline = rv.Pipeline({'blobs.min_area': 50})
    assert len(pipeline.process(image)) == 1
    pipeline.set('blobs.min_area', 1000)
    assert pipeline.process(image) == []
    with pytest.raises(rv.ModelError, match='model /no/such.xml'):
        pipeline.set('cascade.model', '/no/such.xml')
        pipeline.set('detector', 'cascade')
    assert pipeline.settings['detector'] == 'blobs'
    assert pipeline.process(image) == []


def test_bad_frames_raise_the_cores_cause():
    with pytest.raises(rv.InputError, match='corrupt_compressed') as raised:
        rv.Pipeline().process_compressed(b'\xff\xd8\xff\xe0 not a jpeg')
    assert raised.value.cause == 'corrupt_compressed'
    with pytest.raises(rv.UnsupportedError, match='unsupported_encoding: .*rgb9'):
        rv.Pipeline().process(np.zeros((4, 4, 3), np.uint8), 'rgb9')
    with pytest.raises(rv.InputError, match='C-contiguous'):
        rv.Pipeline().process(np.zeros((8, 8, 3), np.uint8)[:, ::2])
    with pytest.raises(rv.InputError, match='data_length: .*does not match step 30'):
        rv.Pipeline().process(bytes(100), 'rgb8', width=10, height=4, step=30)
    with pytest.raises(rv.InputError, match='uint8'):
        rv.Pipeline().process(np.zeros((4, 4), np.float32), 'mono8')
    with pytest.raises(rv.InputError, match='too_large'):
        rv.Pipeline({'max_width': 100}).process(np.zeros((4, 200), np.uint8), 'mono8')


def test_bytes_with_a_size_are_a_sensor_msgs_image():
    rgb, shapes = make_scene(320, 240, 4, np.random.default_rng(5))
    pipeline = rv.Pipeline()
    from_array = pipeline.process(rgb, 'rgb8')
    assert len(from_array) == len(shapes)
    assert pipeline.process(rgb.tobytes(), 'rgb8', width=320, height=240) == from_array
    padded = np.zeros((240, 1024), np.uint8)  # rows of 960 bytes padded to 1024
    padded[:, :960] = rgb.reshape(240, 960)
    assert pipeline.process(memoryview(padded).cast('B'), 'rgb8', width=320, height=240,
                            step=1024) == from_array


def test_the_gil_is_released_while_rust_works():
    model = cv2.data.haarcascades + 'haarcascade_frontalface_default.xml'
    pipeline = rv.Pipeline({'cascade.model': model, 'detector': 'cascade'})
    image = cv2.resize(np.ascontiguousarray(skimage.data.astronaut()), (1920, 1080))
    span = []

    def work():
        start = time.monotonic()
        pipeline.process(image, 'rgb8')
        span.extend([start, time.monotonic()])

    worker = threading.Thread(target=work)
    ticks = []
    worker.start()
    while worker.is_alive():
        ticks.append(time.monotonic())
    worker.join()
    start, end = span
    assert end - start > 0.05  # long enough for the check to mean something
    during = [t for t in ticks if start + 0.02 < t < end - 0.02]
    assert len(during) > 1000, 'Python ran only between calls: the GIL was held'


def test_the_tracker_follows_boxes_across_calls():
    def frame(f):
        image = np.full((120, 200, 3), 90, np.uint8)
        image[20:50, 10 + 5 * f:40 + 5 * f] = (20, 20, 220)  # bgr: red, moving right
        return image

    pipeline = rv.Pipeline({'tracker': 'bytetrack', 'blobs.min_area': 100})
    ids = {d['track_id'] for f in range(10) for d in pipeline.process(frame(f))}
    assert len(ids) == 1 and 0 not in ids, ids
    assert [d['track_id'] for d in rv.Pipeline().process(frame(0))] == [0]
