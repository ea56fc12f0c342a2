"""vision_node end to end: real rclpy processes and the installed vision_node over DDS.

vision_node is the release binary `make build` installs into the overlay's
lib/rust_vision, the one `ros2 run rust_vision vision_node` starts.
"""

import json
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import (assert_matches_truth, call, image_msg, installed, publish_all, ROOT,
                      ros_only_env, set_parameter, spin_until, spin_until_time)
from rclpy.qos import qos_profile_sensor_data, QoSProfile, ReliabilityPolicy
from rcl_interfaces.msg import Log
from rust_vision.msg import DetectionArray
from scenes import GREY_ENCODINGS, iou, make_scene
from sensor_msgs.msg import Image


@pytest.mark.parametrize('encoding', ['rgb8', 'bgr8', 'mono8', 'bgra8', 'mono16', 'yuv422',
                                      'yuv422_yuy2', 'bayer_rggb8', 'bayer_gbrg8'])
def test_n_reliable_frames_give_exactly_n_results(encoding, vision_node, rclpy_node, collect):
    ns = f'/e2e_{encoding}'
    mode = 'bright' if encoding in GREY_ENCODINGS else 'chroma'
    vision_node('-r', f'__ns:={ns}', '-p', 'qos:=reliable', '-p', 'overflow:=all',
                '-p', f'blobs.mode:={mode}')
    results = collect(DetectionArray, f'{ns}/detections')
    rng = np.random.default_rng(7)
    frames = []
    for i in range(25):
        rgb, shapes = make_scene(640, 480, 4, rng, noise=8)
        stamp = rclpy_node.get_clock().now().to_msg()
        frames.append((image_msg(rgb, encoding, f'cam_{i}', stamp), shapes))
    publish_all(rclpy_node, f'{ns}/image', [m for m, _ in frames], results)

    spin_until(rclpy_node, lambda: len(results.messages) >= len(frames))
    spin_until_time(rclpy_node, 0.5)  # nothing more may come
    assert len(results.messages) == len(frames)
    first = results.messages[0].sequence
    for i, (result, (sent, shapes)) in enumerate(zip(results.messages, frames)):
        assert result.header.frame_id == sent.header.frame_id
        assert result.header.stamp == sent.header.stamp
        assert (result.image_width, result.image_height) == (640, 480)
        assert result.sequence == first + i
        assert result.latency >= result.decode_time + result.detect_time > 0
        assert_matches_truth(result, shapes)


def test_python_nodes_in_a_namespace(vision_node, tmp_path):
    """image_publisher -> vision_node -> results_subscriber, all real processes, under one
    namespace given by --ros-args, with the image topic remapped."""
    ros = ['--ros-args', '-r', '__ns:=/ns_test', '-r', 'image:=camera/image_raw']
    vision_node('-r', '__ns:=/ns_test', '-r', 'image:=camera/image_raw',
                '-p', 'qos:=reliable')
    count, truth, out = 12, tmp_path / 'truth.jsonl', tmp_path / 'results.jsonl'
    python = [sys.executable]
    subscriber = subprocess.Popen(
        python + [str(installed('results_subscriber')), '--output', str(out), *ros],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first_line = subscriber.stdout.readline()
    assert 'results_subscriber: subscribed to /ns_test/detections' in first_line
    publisher = subprocess.run(
        python + [str(installed('image_publisher')), '--count', str(count), '--rate', '20',
                  '--width', '320', '--height', '240', '--encoding', 'bgr8',
                  '--ground-truth', str(truth), *ros],
        capture_output=True, text=True, timeout=60)
    assert publisher.returncode == 0, publisher.stderr
    assert (f'{count} frames of 320x240 bgr8 from synthetic published on '
            '/ns_test/camera/image_raw') in publisher.stdout
    printed = first_line + subscriber.communicate(timeout=30)[0]
    assert subscriber.returncode == 0, printed
    # It exits at the end of the stream, with the report.
    assert (f'end of stream: {count} frames sent, {count} received by vision_node, '
            f'{count} processed, 0 failed, 0 dropped, 0 lost in transport; {count} results '
            'received here, 0 frames missing, 0 duplicates: complete') in printed
    assert f'results_subscriber: {count} results' in printed

    sent = {tuple(r['stamp']): r for r in map(json.loads, truth.read_text().splitlines())}
    received = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(received) == count
    for r in received:
        stamp = round(r['stamp'] * 1e9)
        frame = next(f for k, f in sent.items() if abs(k[0] * 10**9 + k[1] - stamp) < 1000)
        boxes = [(d['x'], d['y'], d['width'], d['height']) for d in r['detections']]
        assert len(boxes) == len(frame['shapes'])
        for s in frame['shapes']:
            assert max(iou((s['x'], s['y'], s['width'], s['height']), b) for b in boxes) >= 0.9


def test_default_qos_is_best_effort(vision_node, rclpy_node, collect):
    """A best-effort publisher, which a reliable subscription would not match."""
    vision_node('-r', '__ns:=/default_qos')
    results = collect(DetectionArray, '/default_qos/detections')
    rng = np.random.default_rng(1)
    frames = [image_msg(make_scene(160, 120, 2, rng)[0], 'rgb8', f'f{i}',
                        rclpy_node.get_clock().now().to_msg()) for i in range(10)]
    publish_all(rclpy_node, '/default_qos/image', frames, results, rate=10,
                qos=qos_profile_sensor_data)
    spin_until(rclpy_node, lambda: len(results.messages) >= 5)
    spin_until_time(rclpy_node, 0.5)
    ids = [m.header.frame_id for m in results.messages]
    assert len(ids) == len(set(ids)) <= 10


def bad_frames(stamp):
    good = make_scene(64, 48, 1, np.random.default_rng(3))[0]
    short = image_msg(good, 'rgb8', 'short', stamp)
    short.data = short.data[:-1]
    unknown = image_msg(good, 'rgb8', 'unknown', stamp)
    unknown.encoding = 'yuv9'
    empty = Image(height=48, width=0, encoding='rgb8', step=0)
    empty.header.frame_id = 'empty'
    huge = Image(height=20000, width=20000, encoding='rgb8', step=60000)
    huge.data = bytes(10)
    huge.header.frame_id = 'huge'
    return good, {'data_length': short, 'unsupported_encoding': unknown,
                  'zero_size': empty, 'too_large': huge}


def test_bad_frames_are_logged_once_per_cause_counted_and_skipped(
        vision_node, rclpy_node, collect):
    ns = '/bad_input'
    node = vision_node('-r', f'__ns:={ns}', '-p', 'qos:=reliable')
    results = collect(DetectionArray, f'{ns}/detections')
    logs = collect(Log, '/rosout', QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE))
    stamp = rclpy_node.get_clock().now().to_msg()
    good, bad = bad_frames(stamp)
    repeats = 6
    sequence = [image_msg(good, 'rgb8', 'first', stamp)]
    for _ in range(repeats):
        sequence += bad.values()
    sequence.append(image_msg(good, 'rgb8', 'last', stamp))
    publish_all(rclpy_node, f'{ns}/image', sequence, results, rate=50)

    spin_until(rclpy_node, lambda: len(results.messages) >= 2)
    spin_until_time(rclpy_node, 0.5)
    # Only the good frames have results; the gap in sequence numbers shows the failures.
    first = results.messages[0].sequence
    assert [(m.header.frame_id, m.sequence - first) for m in results.messages] \
        == [('first', 0), ('last', len(sequence) - 1)]
    warnings = [m.msg for m in logs.messages
                if m.name.endswith('vision_node') and m.level == Log.WARN]
    for cause in bad:
        lines = [w for w in warnings if f', {cause}: ' in w]
        assert len(lines) == 1, f'{cause}: {warnings}'
    assert any('data length 9215 does not match step 192 x height 48 = 9216' in w
               for w in warnings)
    assert any('exceeds the limit of 8192x8192' in w for w in warnings)

    assert node.stop() == 0
    failed = len(bad) * repeats
    assert (f'frames received {first + len(sequence)}, results published {first + 2}, '
            f'failed {failed} '
            f'(data_length: {repeats}, too_large: {repeats}, '
            f'unsupported_encoding: {repeats}, zero_size: {repeats}), dropped 0') \
        in node.output()


def readme_parameters():
    """name -> (default, changeable at runtime), from the README's parameter table (`""`
    is the empty string)."""
    rows = re.findall(r'^\| `([a-z_.]+)` \| (?:string|int|double|bool) \| `?([^`|]+?)`? \| '
                      r'[^|]+ \| (yes|no) \|', (ROOT / 'README.md').read_text(), re.M)
    return {name: ('' if default == '""' else default, runtime == 'yes')
            for name, default, runtime in rows}


def value_text(value):
    from rcl_interfaces.msg import ParameterType
    return {ParameterType.PARAMETER_STRING: value.string_value,
            ParameterType.PARAMETER_INTEGER: str(value.integer_value),
            ParameterType.PARAMETER_DOUBLE: str(value.double_value),
            ParameterType.PARAMETER_BOOL: str(value.bool_value).lower()}[value.type]


def test_parameters_are_described_read_only_and_as_in_the_readme(vision_node, rclpy_node):
    from rcl_interfaces.srv import DescribeParameters, GetParameters, ListParameters

    vision_node('-r', '__ns:=/params')
    names = call(rclpy_node, ListParameters, '/params/vision_node/list_parameters',
                 ListParameters.Request()).result.names
    documented = readme_parameters()
    expected = set(documented)
    assert set(names) - {'use_sim_time'} == expected
    values = call(rclpy_node, GetParameters, '/params/vision_node/get_parameters',
                  GetParameters.Request(names=sorted(expected))).values
    assert {n: value_text(v) for n, v in zip(sorted(expected), values)} \
        == {n: default for n, (default, _) in documented.items()}
    described = call(rclpy_node, DescribeParameters,
                     '/params/vision_node/describe_parameters',
                     DescribeParameters.Request(names=sorted(expected))).descriptors
    runtime = {n for n, (_, changeable) in documented.items() if changeable}
    assert {'overflow', 'blobs.threshold'} <= runtime
    for d in described:
        assert d.description, d.name
        assert d.read_only == (d.name not in runtime), d.name
    threshold = next(d for d in described if d.name == 'blobs.threshold')
    assert (threshold.integer_range[0].from_value, threshold.integer_range[0].to_value) \
        == (0, 255)
    qos = next(d for d in described if d.name == 'qos')
    assert qos.additional_constraints == 'one of: sensor_data, reliable'

    def set_int(name, value):
        return set_parameter(rclpy_node, '/params/vision_node', name, value)

    assert not set_int('max_width', 100).successful  # read-only
    assert set_int('blobs.min_area', 500).successful
    refused = set_int('blobs.max_area', 10)  # below min_area
    assert not refused.successful
    assert 'blobs.max_area' in refused.reason and '500' in refused.reason, refused.reason


@pytest.mark.parametrize('args, message', [
    (['-p', 'qos:=fast'], 'parameter `qos`: "fast" is not one of sensor_data, reliable'),
    (['-p', 'blobs.mode:=hue'], 'parameter `blobs.mode`: "hue" is not one of'),
    (['-p', 'blobs.threshold:=300'], 'parameter `blobs.threshold`: 300 is outside 0..255'),
    (['-p', 'blobs.threshold:=abc'], 'parameter `blobs.threshold`: the value given is not an '
                                     'integer'),
    (['-p', 'onnx.iou:=1'], 'parameter `onnx.iou`: the value given is not a double'),
    (['-p', 'blobs.min_area:=500', '-p', 'blobs.max_area:=10'], 'blobs.max_area'),
    (['-p', 'detector:=cascade', '-p', 'cascade.model:=/no/such.xml'],
     'bad configuration: model /no/such.xml: cannot read: No such file or directory'),
])
def test_bad_parameters_stop_the_node_with_a_clear_error(args, message):
    done = subprocess.run([str(installed('vision_node')), '--ros-args', *args],
                          env=ros_only_env(), capture_output=True, text=True, timeout=30)
    assert done.returncode == 2, done
    printed = done.stdout + done.stderr
    assert printed.count(message) == 1, printed  # said once, as a user can act on it
    assert printed.count('/no/such.xml') <= 1, printed
    assert 'panicked' not in printed and 'Error(' not in printed and 'Rejected' not in printed


@pytest.mark.parametrize('flag', ['--help', '-h'])
def test_help_prints_usage_and_exits(flag):
    done = subprocess.run([str(installed('vision_node')), flag], env=ros_only_env(),
                          capture_output=True, text=True, timeout=5)
    assert done.returncode == 0, done
    assert done.stdout.startswith('usage: vision_node')
    assert '--print-defaults' in done.stdout and '--ros-args' in done.stdout
    assert done.stderr == ''


def test_sigterm_stops_cleanly(vision_node):
    node = vision_node('-r', '__ns:=/sigterm')
    time.sleep(0.5)
    assert node.stop(signal.SIGTERM) == 0
    assert 'signal 15: shutting down' in node.output()
    assert 'frames received 0' in node.output()
