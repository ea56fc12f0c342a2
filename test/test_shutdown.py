"""Shutdown while streaming: SIGINT or SIGTERM while 1080p frames stream in at 30 Hz,
into blobs (which keeps up) and into the face cascade (which falls behind: a backlog in
the reader under overflow `all`). The node exits with status 0 within 2 s, prints no
error, and accounts for every frame it received: published, failed or dropped (its
shutdown line; frames still taken from the reader after the signal are dropped, not
processed), and what it published is what a subscriber got, in sequence."""
import re
import signal
import time

import cv2
import numpy as np
import pytest
from rust_vision.msg import DetectionArray
from sensor_msgs.msg import Image

from conftest import image_msg, publish_all, spin_until, spin_until_time

RATE = 30.0


FACES = ('-p', 'detector:=cascade', '-p',
         f'cascade.model:={cv2.data.haarcascades}haarcascade_frontalface_default.xml')


@pytest.mark.parametrize('behind', [False, True], ids=['keeping_up', 'behind'])
@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM], ids=['SIGINT', 'SIGTERM'])
def test_a_signal_while_streaming_loses_no_frame_unaccounted(sig, behind, vision_node,
                                                             rclpy_node, collect):
    ns = f'/loaded_{sig.name.lower()}_{int(behind)}'
    node = vision_node('-r', f'__ns:={ns}', '-p', 'qos:=reliable', '-p', 'overflow:=all',
                       *(FACES if behind else ()))
    results = collect(DetectionArray, f'{ns}/detections')
    warmups = publish_all(rclpy_node, f'{ns}/image', [], results)
    rgb = np.full((1080, 1920, 3), 90, np.uint8)
    rgb[300:600, 500:900] = (220, 30, 30)
    msg = image_msg(rgb, 'rgb8', '', rclpy_node.get_clock().now().to_msg())
    publisher = rclpy_node.create_publisher(Image, f'{ns}/image', 100)
    sent = 0

    def publish():
        nonlocal sent
        msg.header.frame_id = f'f{sent}'
        publisher.publish(msg)
        sent += 1
        spin_until_time(rclpy_node, 1 / RATE)
    # Until the node has published some results of this stream, then frames more, the
    # signal arriving among them (behind: 2 s more, a backlog of dozens of frames).
    while len(results.messages) < 5 or sent < (60 if behind else 15):
        publish()
        assert sent < 300, 'no results while streaming'
    signalled, before = time.monotonic(), sent
    node.proc.send_signal(sig)
    while node.proc.poll() is None and time.monotonic() - signalled < 10:
        publish()
    took = time.monotonic() - signalled
    rclpy_node.destroy_publisher(publisher)
    assert node.proc.returncode == 0
    assert took < 2.0, f'exited {took:.2f} s after the signal'
    node.stop()
    output = node.output()
    assert 'ERROR' not in output and 'panicked' not in output, output
    line = re.search(r'frames received (\d+), results published (\d+), failed (\d+), '
                     r'dropped (\d+), paused (\d+)', output)
    assert line, output
    received, published, failed, dropped, paused = map(int, line.groups())
    assert received == published + failed + dropped + paused, output
    assert (failed, paused) == (0, 0)
    if not behind:
        # Keeping up, it leaves nothing in the reader: only frames that came after the
        # signal, when the subscriptions had closed, can be dropped.
        assert dropped <= sent - before, output
    assert warmups < received <= 2 * warmups + sent
    print(f'exit {took:.2f} s after the signal: {line.group(0)}')
    # What it published reached the subscriber, each once, in sequence, up to the last.
    spin_until(rclpy_node, lambda: results.messages
               and results.messages[-1].sequence == published - 1, timeout=10)
    sequences = [m.sequence for m in results.messages]
    assert sequences == list(range(sequences[0], published)), sequences
    assert [m.header.frame_id for m in results.messages] == \
        [f'f{i}' for i in range(len(sequences))]
