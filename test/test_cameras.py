"""Several cameras as launch/cameras.launch.py runs them: one vision_node per camera
namespace, all with the shipped parameters file. Four synthetic cameras at 15 Hz each:
every frame of every camera is processed once, and its result is on that camera's topic
with that frame's header."""
import numpy as np
from rust_vision.msg import DetectionArray
from sensor_msgs.msg import Image

from conftest import ROOT, image_msg, publish_all, spin_until, spin_until_time

CAMERAS = ['cam0', 'cam1', 'cam2', 'cam3']
FRAMES = 30  # per camera: 2 s at 15 Hz
RATE = 15.0


def frame(camera, index, node):
    """Camera `camera`'s frame `index`: a box whose place says which frame it is."""
    rgb = np.full((120, 160, 3), 90, np.uint8)
    x = 4 * index
    rgb[20 + 10 * camera:50 + 10 * camera, x:x + 30] = (220, 30, 30)
    msg = image_msg(rgb, 'rgb8', f'{CAMERAS[camera]}_optical', node.get_clock().now().to_msg())
    return msg


def test_four_cameras_at_15_hz_each_get_every_result_on_their_own_topic(
        vision_node, rclpy_node, collect):
    params = str(ROOT / 'config' / 'vision_node.yaml')
    for camera in CAMERAS:
        vision_node('-r', f'__ns:=/{camera}', '--params-file', params,
                    '-p', 'qos:=reliable', '-p', 'overflow:=all')
    results = {camera: collect(DetectionArray, f'/{camera}/detections') for camera in CAMERAS}
    # Evidence that every node and both ends of every connection matched: a warm-up
    # result from each camera's node.
    for camera in CAMERAS:
        publish_all(rclpy_node, f'/{camera}/image', [], results[camera])
    publishers = [rclpy_node.create_publisher(Image, f'/{camera}/image', 100)
                  for camera in CAMERAS]
    sent = {camera: [] for camera in CAMERAS}
    for index in range(FRAMES):
        for camera, publisher in enumerate(publishers):
            msg = frame(camera, index, rclpy_node)
            publisher.publish(msg)
            sent[CAMERAS[camera]].append(msg.header)
        spin_until_time(rclpy_node, 1 / RATE)
    for publisher in publishers:
        assert publisher.wait_for_all_acked()
        rclpy_node.destroy_publisher(publisher)
    spin_until(rclpy_node, lambda: all(len(results[c].messages) >= FRAMES for c in CAMERAS),
               timeout=30)
    spin_until_time(rclpy_node, 0.3)  # nothing more may come
    for camera in CAMERAS:
        got = results[camera].messages
        assert [m.header for m in got] == sent[camera], camera  # each once, in order
        sequences = [m.sequence for m in got]
        assert sequences == list(range(sequences[0], sequences[0] + FRAMES)), camera
        for index, m in enumerate(got):
            [box] = m.detections  # its own camera's box, where that frame put it
            assert (round(box.x), round(box.y)) == (4 * index, 20 + 10 * CAMERAS.index(camera))
