"""Restarts, as launch's `respawn` does them: vision_node killed with SIGKILL mid-stream
and started again. Results resume (the time it takes is printed: a figure, not a timed
assertion; LIVENESS only bounds a hang), a subscriber that stayed up sees the new node's
sequence from 0 and no frame twice, and the publisher's reliable writer never blocks on
the dead reader."""
import time

import numpy as np
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rust_vision.msg import DetectionArray
from sensor_msgs.msg import Image

from conftest import image_msg, spin_until, spin_until_time

RATE = 15.0
LIVENESS = 15.0


def test_vision_node_killed_and_restarted_resumes(vision_node, rclpy_node, collect):
    ns = '/respawned'
    args = ('-r', f'__ns:={ns}', '-p', 'qos:=reliable', '-p', 'overflow:=all')
    first = vision_node(*args)
    results = collect(DetectionArray, f'{ns}/detections')
    rgb = np.zeros((120, 160, 3), np.uint8)
    rgb[20:60, 30:90] = (220, 30, 30)
    msg = image_msg(rgb, 'rgb8', '', rclpy_node.get_clock().now().to_msg())
    # Keep last 10, as a camera driver's reliable publisher has it.
    publisher = rclpy_node.create_publisher(
        Image, f'{ns}/image', QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
    sent, slowest = 0, 0.0

    def publish():
        nonlocal sent, slowest
        msg.header.frame_id = f'f{sent}'
        start = time.monotonic()
        publisher.publish(msg)
        slowest = max(slowest, time.monotonic() - start)
        sent += 1
        spin_until_time(rclpy_node, 1 / RATE)

    spin_until(rclpy_node, lambda: results.messages, step=publish)
    first.proc.kill()
    first.proc.wait()
    before = len(results.messages)
    for _ in range(int(RATE)):  # a second with nobody to read the frames
        publish()
    started = time.monotonic()
    vision_node(*args)
    spin_until(rclpy_node, lambda: len(results.messages) > before, step=publish,
               timeout=LIVENESS)
    recovery = time.monotonic() - started
    for _ in range(int(RATE)):
        publish()
    spin_until_time(rclpy_node, 0.5)
    rclpy_node.destroy_publisher(publisher)

    print(f'results resumed {recovery:.2f} s after the restart; slowest publish '
          f'{slowest * 1e3:.1f} ms')
    assert slowest < 0.5, 'the publisher blocked on the dead reader'
    frames = [m.header.frame_id for m in results.messages]
    assert len(frames) == len(set(frames)), 'a frame came twice'
    second = results.messages[before:]
    assert second[0].sequence == 0  # a new node, a new sequence
    sequences = [m.sequence for m in second]
    assert sequences == list(range(len(second))), sequences
