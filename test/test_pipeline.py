"""vision_node as a pipeline, end to end over DDS: compressed input, overflow policies,
runtime parameter changes, annotated images, diagnostics, QoS mismatch warnings and the
bad-input corpus (test/corpus)."""

import json
import re
from collections import Counter

import numpy as np
import pytest
from conftest import (TALLY, assert_matches_truth, end_of_stream, image_msg, latched, moving_boxes,
                      publish_all, ROOT, set_parameter, spin_until, spin_until_time)
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import Log
from rclpy.qos import qos_profile_sensor_data
from rust_vision.msg import DetectionArray, StreamSummary
from scenes import compress, iou, make_scene
from sensor_msgs.msg import CompressedImage, Image

CORPUS = sorted((ROOT / 'test' / 'corpus').glob('*.json'))


def compressed_msg(rgb, codec, frame_id, stamp, fmt=None):
    msg = CompressedImage(format=fmt or f'rgb8; {codec} compressed bgr8')
    msg.data = compress(rgb, codec)
    msg.header.frame_id = frame_id
    msg.header.stamp = stamp
    return msg


def scenes(node, count, width=640, height=480, seed=5):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        rgb, shapes = make_scene(width, height, 4, rng)
        out.append((rgb, shapes, f'f{i}', node.get_clock().now().to_msg()))
    return out


def summary(node_output):
    """(received, published, failed, dropped) from vision_node's shutdown line."""
    found = re.search(TALLY, node_output)
    assert found, node_output
    return tuple(int(v) for v in found.groups()[:4])


@pytest.mark.parametrize('codec, fmt', [('jpeg', 'rgb8; jpeg compressed bgr8'),
                                        ('jpeg', 'jpeg'), ('png', 'bgr8; png compressed')])
def test_compressed_frames(codec, fmt, vision_node, rclpy_node, collect):
    ns = f'/compressed_{codec}_{len(fmt)}'
    vision_node('-r', f'__ns:={ns}', '-p', 'transport:=compressed', '-p', 'qos:=reliable',
                '-p', 'overflow:=all')
    results = collect(DetectionArray, f'{ns}/detections')
    frames = scenes(rclpy_node, 8)
    warmup = compressed_msg(np.zeros((8, 8, 3), np.uint8), codec, 'warmup',
                            rclpy_node.get_clock().now().to_msg(), fmt)
    publish_all(rclpy_node, f'{ns}/image/compressed',
                [compressed_msg(rgb, codec, fid, stamp, fmt) for rgb, _, fid, stamp in frames],
                results, msg_type=CompressedImage, warmup=warmup)
    spin_until(rclpy_node, lambda: len(results.messages) >= len(frames))
    spin_until_time(rclpy_node, 0.3)
    assert [m.header.frame_id for m in results.messages] == [f[2] for f in frames]
    for result, (_, shapes, _, stamp) in zip(results.messages, frames):
        assert result.header.stamp == stamp
        assert_matches_truth(result, shapes)


def test_both_transports_follow_the_remapped_topic(vision_node, rclpy_node, collect):
    node = vision_node('-r', '__ns:=/both', '-r', 'image:=/cam/image_raw',
                       '-p', 'transport:=both', '-p', 'qos:=reliable')
    results = collect(DetectionArray, '/both/detections')
    (rgb, shapes, _, stamp), = scenes(rclpy_node, 1)
    publish_all(rclpy_node, '/cam/image_raw', [image_msg(rgb, 'rgb8', 'raw', stamp)], results)
    publish_all(rclpy_node, '/cam/image_raw/compressed',
                [compressed_msg(rgb, 'png', 'png', stamp)], results,
                msg_type=CompressedImage,
                warmup=compressed_msg(rgb, 'png', 'warmup', stamp))
    spin_until(rclpy_node, lambda: {'raw', 'png'} <= {m.header.frame_id
                                                      for m in results.messages})
    assert 'listening on /cam/image_raw and /cam/image_raw/compressed' in node.output()


@pytest.mark.parametrize('overflow', ['latest', 'all'])
def test_overflow_policy(overflow, vision_node, rclpy_node, collect):
    """1080p frames as fast as rclpy publishes them: `latest` drops (and counts) frames,
    `all` drops none; either way every frame received is accounted for."""
    ns = f'/overflow_{overflow}'
    node = vision_node('-r', f'__ns:={ns}', '-p', 'qos:=reliable', '-p', 'qos_depth:=1000',
                       '-p', f'overflow:={overflow}', '-p', 'input_queue:=1',
                       '-p', 'stage_queue:=1')
    results = collect(DetectionArray, f'{ns}/detections')
    rgb, _ = make_scene(1920, 1080, 12, np.random.default_rng(2))
    count = 60
    msgs = [image_msg(rgb, 'rgb8', f'f{i}', rclpy_node.get_clock().now().to_msg())
            for i in range(count)]
    warmups = publish_all(rclpy_node, f'{ns}/image', msgs, results, rate=0)
    # At the end of the stream every frame is accounted for, and its result published.
    summaries = collect(StreamSummary, f'{ns}/detections/summary', latched())
    eos = end_of_stream(rclpy_node, f'{ns}/image/end_of_stream', warmups + count)
    try:
        stream = spin_until(rclpy_node, lambda: summaries.messages, timeout=60)[0]
    finally:
        rclpy_node.destroy_publisher(eos)
    spin_until(rclpy_node, lambda: len(results.messages) >= stream.frames_processed - warmups)
    assert stream.frames_received == warmups + count and stream.frames_lost == 0
    assert node.stop() == 0
    received, published, failed, dropped = summary(node.output())
    assert failed == 0
    assert received == published + dropped
    assert len(results.messages) == count - dropped
    sequences = [m.sequence for m in results.messages]
    assert sequences == sorted(sequences)
    if overflow == 'all':
        assert dropped == 0
    else:
        assert dropped > 0
        # The newest frame is never the one dropped.
        assert results.messages[-1].header.frame_id == f'f{count - 1}'


def set_param(node, name, value):
    return set_parameter(node, '/reconf/vision_node', name, value)


def test_runtime_parameter_change_applies_from_the_next_frame(vision_node, rclpy_node,
                                                              collect):
    vision_node('-r', '__ns:=/reconf', '-p', 'qos:=reliable', '-p', 'overflow:=all')
    results = collect(DetectionArray, '/reconf/detections')
    (rgb, shapes, _, stamp), = scenes(rclpy_node, 1)

    def detections_of(frame_id):
        publish_all(rclpy_node, '/reconf/image', [image_msg(rgb, 'rgb8', frame_id, stamp)],
                    results)
        return len(spin_until(rclpy_node, lambda: [
            m for m in results.messages if m.header.frame_id == frame_id])[0].detections)

    assert detections_of('before') == len(shapes)
    # No colour of the scene has a chroma of 255: nothing is foreground any more.
    assert set_param(rclpy_node, 'blobs.threshold', 255).successful
    assert detections_of('after') == 0
    refused = set_param(rclpy_node, 'overflow', 'sometimes')
    assert not refused.successful and 'latest, all' in refused.reason, refused.reason
    refused = set_param(rclpy_node, 'blobs.threshold', 256)
    assert not refused.successful and refused.reason
    assert set_param(rclpy_node, 'blobs.threshold', 60).successful
    assert set_param(rclpy_node, 'overflow', 'latest').successful
    assert detections_of('restored') == len(shapes)


def test_annotated_image_and_diagnostics(vision_node, rclpy_node, collect):
    vision_node('-r', '__ns:=/annotated', '-p', 'qos:=reliable', '-p', 'overflow:=all')
    results = collect(DetectionArray, '/annotated/detections')
    annotated = collect(Image, '/annotated/annotated_image')
    diagnostics = collect(DiagnosticArray, '/diagnostics')
    frames = scenes(rclpy_node, 3)
    publish_all(rclpy_node, '/annotated/image',
                [image_msg(rgb, 'rgb8', fid, stamp) for rgb, _, fid, stamp in frames], results)
    drawn_frames = spin_until(rclpy_node, lambda: len(
        frames_drawn := [m for m in annotated.messages if m.header.frame_id != 'warmup']) >= 3
        and frames_drawn)
    for msg, (rgb, shapes, fid, stamp) in zip(drawn_frames, frames):
        assert (msg.header.frame_id, msg.header.stamp) == (fid, stamp)
        assert (msg.width, msg.height, msg.encoding) == (640, 480, 'rgb8')
        drawn = np.frombuffer(bytes(msg.data), np.uint8).reshape(480, 640, 3)
        for s in shapes:  # each box's top-left corner is outlined in green
            assert tuple(drawn[s.y, s.x]) == (0, 255, 0)
        assert not np.array_equal(drawn, rgb)

    def ours():
        for array in diagnostics.messages:
            for status in array.status:
                if status.name == '/annotated/vision_node: pipeline':
                    return status
    status = spin_until(rclpy_node, ours)
    keys = {kv.key for kv in status.values}
    assert {'input fps', 'output fps', 'latency p50 (ms)', 'latency p99 (ms)',
            'frames dropped', 'frames failed',
            'queue depths (input, classify, output)'} <= keys


def test_incompatible_publisher_is_warned_about(vision_node, rclpy_node, collect):
    vision_node('-r', '__ns:=/mismatch', '-p', 'qos:=reliable')
    logs = collect(Log, '/rosout')
    publisher = rclpy_node.create_publisher(Image, '/mismatch/image', qos_profile_sensor_data)
    try:
        warning = spin_until(rclpy_node, lambda: [
            m.msg for m in logs.messages if 'QoS incompatible' in m.msg])
    finally:
        rclpy_node.destroy_publisher(publisher)
    assert 'RELIABILITY' in warning[0]
    assert 'rust_vision_test_probe' in warning[0]


def test_a_reliable_publisher_matching_logs_no_error(vision_node, rclpy_node, collect):
    """Matching a publisher runs the QoS check above; a healthy run prints no ERROR."""
    node = vision_node('-r', '__ns:=/healthy', '-p', 'qos:=reliable')
    results = collect(DetectionArray, '/healthy/detections')
    publish_all(rclpy_node, '/healthy/image', [], results)
    spin_until_time(rclpy_node, 2.5)  # two rounds of the once-a-second check
    assert '[ERROR]' not in node.output() and 'ERROR' not in node.output(), node.output()


def corpus_message(case, stamp):
    fields, data = case['fields'], case['data']
    if 'fill' in data:
        payload = bytes(data['fill'])
    elif 'hex' in data:
        payload = bytes.fromhex(data['hex'])
    else:
        rgb, _ = make_scene(64, 48, 1, np.random.default_rng(0))
        full = compress(rgb, data['encode'])
        payload = full[:int(len(full) * data['keep'])]
    if case['message'] == 'Image':
        msg = Image(**fields)
    else:
        msg = CompressedImage(**fields)
    msg.data = payload
    msg.header.stamp = stamp
    return msg


def test_bad_input_corpus(vision_node, rclpy_node, collect):
    """Every case of test/corpus over DDS: bad frames are refused with their cause and
    counted, good ones processed, and the node carries on."""
    node = vision_node('-r', '__ns:=/corpus', '-p', 'transport:=both', '-p', 'qos:=reliable',
                       '-p', 'overflow:=all', '-p', 'max_width:=4096', '-p', 'max_height:=4096')
    results = collect(DetectionArray, '/corpus/detections')
    logs = collect(Log, '/rosout')
    stamp = rclpy_node.get_clock().now().to_msg()
    cases = [(path.stem, json.loads(path.read_text())) for path in CORPUS]
    assert len(cases) >= 15
    for kind, topic, msg_type in [('Image', '/corpus/image', Image),
                                  ('CompressedImage', '/corpus/image/compressed',
                                   CompressedImage)]:
        msgs = []
        for name, case in cases:
            if case['message'] == kind:
                msgs.append(corpus_message(case, stamp))
                msgs[-1].header.frame_id = name
        warmup = (image_msg(np.zeros((8, 8, 3), np.uint8), 'rgb8', 'warmup', stamp)
                  if kind == 'Image' else
                  compressed_msg(np.zeros((8, 8, 3), np.uint8), 'png', 'warmup', stamp))
        publish_all(rclpy_node, topic, msgs, results, msg_type=msg_type, warmup=warmup)
    good = image_msg(make_scene(64, 48, 1, np.random.default_rng(1))[0], 'rgb8', 'after',
                     stamp)
    publish_all(rclpy_node, '/corpus/image', [good], results)
    spin_until(rclpy_node, lambda: any(m.header.frame_id == 'after' for m in results.messages))
    spin_until_time(rclpy_node, 0.5)

    processed = {m.header.frame_id for m in results.messages}
    warnings = [m.msg for m in logs.messages if m.level == Log.WARN]
    causes = Counter(case['expect'] for _, case in cases if case['expect'] != 'ok')
    for name, case in cases:
        assert (name in processed) == (case['expect'] == 'ok'), name
    # Each cause is logged (its first frame at once, the rest rate-limited) and counted.
    for cause in causes:
        assert any(f') dropped, {cause}: ' in w for w in warnings), (cause, warnings)
    assert node.stop() == 0
    output = node.output()
    assert summary(output)[2] == sum(causes.values())
    for cause, n in causes.items():
        assert f'{cause}: {n}' in output


def test_color_classifier_names_each_shape(vision_node, rclpy_node, collect):
    vision_node('-r', '__ns:=/color', '-p', 'qos:=reliable', '-p', 'overflow:=all',
                '-p', 'classifier:=color')
    results = collect(DetectionArray, '/color/detections')
    frames = scenes(rclpy_node, 4)
    publish_all(rclpy_node, '/color/image',
                [image_msg(rgb, 'rgb8', fid, stamp) for rgb, _, fid, stamp in frames], results)
    spin_until(rclpy_node, lambda: len(results.messages) >= len(frames))
    for result, (_, shapes, _, _) in zip(results.messages, frames):
        assert_matches_truth(result, shapes)
        for shape in shapes:
            box = max(result.detections, key=lambda d: iou(
                (shape.x, shape.y, shape.width, shape.height), (d.x, d.y, d.width, d.height)))
            assert box.classification_label == shape.colour, (shape, box)
            assert 0.7 <= box.classification_score <= 1.0
        assert result.classify_time > 0


def test_the_tracker_gives_each_moving_box_one_id(vision_node, rclpy_node, collect):
    vision_node('-r', '__ns:=/tracked', '-p', 'qos:=reliable', '-p', 'overflow:=all',
                '-p', 'tracker:=bytetrack', '-p', 'blobs.min_area:=200')
    results = collect(DetectionArray, '/tracked/detections')
    frames = [moving_boxes(f) for f in range(25)]
    stamp = rclpy_node.get_clock().now().to_msg()
    publish_all(rclpy_node, '/tracked/image',
                [image_msg(rgb, 'rgb8', f'f{i}', stamp) for i, (rgb, _) in enumerate(frames)],
                results)
    spin_until(rclpy_node, lambda: len(results.messages) >= len(frames))
    ids = {1: set(), 2: set()}
    for msg, (_, boxes) in zip(results.messages, frames):
        assert len(msg.detections) == 2, msg.header.frame_id
        for d in msg.detections:
            truth = min(boxes, key=lambda k: abs(boxes[k][0] - d.x) + abs(boxes[k][1] - d.y))
            ids[truth].add(d.track_id)
    assert len(ids[1]) == len(ids[2]) == 1, ids  # one id each, all along
    assert ids[1] != ids[2] and 0 not in ids[1] | ids[2], ids

    assert set_parameter(rclpy_node, '/tracked/vision_node', 'tracker', 'none').successful
    results.messages.clear()
    publish_all(rclpy_node, '/tracked/image', [image_msg(frames[0][0], 'rgb8', 'off', stamp)],
                results)
    [off] = spin_until(rclpy_node, lambda: [m for m in results.messages
                                            if m.header.frame_id == 'off'])
    assert [d.track_id for d in off.detections] == [0, 0]
