"""vision_node's vision_msgs/Detection2DArray output (`publish_vision_msgs`), read by an
rclpy subscriber with the vision_msgs Python messages of the build (the installed
vision_msgs, or the test stand-in with the same names and fields), against the
DetectionArray of the same frames."""
import subprocess

import numpy as np
import pytest
from rust_vision.msg import DetectionArray

from conftest import (image_msg, installed, moving_boxes, publish_all, ros_only_env,
                      spin_until)

Detection2DArray = pytest.importorskip('vision_msgs.msg').Detection2DArray


def test_detection2darray_carries_each_result_as_vision_msgs_has_it(
        vision_node, rclpy_node, collect):
    ns = '/vision'
    node = vision_node('-r', f'__ns:={ns}', '-p', 'qos:=reliable', '-p', 'overflow:=all',
                       '-p', 'publish_vision_msgs:=true', '-p', 'tracker:=bytetrack',
                       '-p', 'blobs.min_area:=200', '-p', 'classifier:=color')
    ours = collect(DetectionArray, f'{ns}/detections')
    theirs = collect(Detection2DArray, f'{ns}/detections_2d')
    # Both subscriptions matched before any frame is counted: the warm-up frames (ours
    # answers first) go on until the other has an answer too.
    frames = [moving_boxes(f)[0] for f in range(10)]
    stamp = rclpy_node.get_clock().now().to_msg()
    theirs.wait_matched(rclpy_node)
    publish_all(rclpy_node, f'{ns}/image',
                [image_msg(rgb, 'rgb8', f'f{i}', stamp) for i, rgb in enumerate(frames)], ours)
    spin_until(rclpy_node, lambda: len(ours.messages) >= 10 and sum(
        m.header.frame_id.startswith('f') for m in theirs.messages) >= 10)
    theirs_by_frame = {m.header.frame_id: m for m in theirs.messages}
    for mine in ours.messages:
        other = theirs_by_frame[mine.header.frame_id]
        assert other.header == mine.header
        assert len(other.detections) == len(mine.detections) == 2
        for d, v in zip(mine.detections, other.detections):
            assert v.header == mine.header
            assert (v.bbox.center.position.x, v.bbox.center.position.y) == pytest.approx(
                (d.x + d.width / 2, d.y + d.height / 2))
            assert (v.bbox.size_x, v.bbox.size_y) == pytest.approx((d.width, d.height))
            assert v.bbox.center.theta == 0
            [hypothesis] = v.results
            assert hypothesis.hypothesis.class_id == d.label
            assert hypothesis.hypothesis.score == pytest.approx(d.score)
            assert v.id == str(d.track_id) and d.track_id != 0
    ids = {v.id for m in theirs.messages if m.header.frame_id.startswith('f')
           for v in m.detections}
    assert len(ids) == 2, ids  # one id per box, all along
    output = node.output()
    assert 'ERROR' not in output, output


def test_without_a_tracker_the_id_is_empty(vision_node, rclpy_node, collect):
    ns = '/vision_untracked'
    vision_node('-r', f'__ns:={ns}', '-p', 'qos:=reliable', '-p', 'overflow:=all',
                '-p', 'publish_vision_msgs:=true')
    ours = collect(DetectionArray, f'{ns}/detections')
    theirs = collect(Detection2DArray, f'{ns}/detections_2d')
    theirs.wait_matched(rclpy_node)
    image = np.zeros((60, 80, 3), np.uint8)
    image[10:40, 10:50] = (200, 30, 30)
    stamp = rclpy_node.get_clock().now().to_msg()
    publish_all(rclpy_node, f'{ns}/image', [image_msg(image, 'rgb8', 'one', stamp)], ours)
    [msg] = spin_until(rclpy_node, lambda: [m for m in theirs.messages
                                            if m.header.frame_id == 'one'])
    assert [d.id for d in msg.detections] == ['']


def test_the_switch_is_off_by_default(tmp_path):
    done = subprocess.run([str(installed('vision_node')), '--print-defaults'],
                          env=ros_only_env(), capture_output=True, text=True, timeout=10)
    assert 'publish_vision_msgs: false' in done.stdout
