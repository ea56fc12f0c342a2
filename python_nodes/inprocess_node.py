#!/usr/bin/env python3
"""vision_node's job in an rclpy node, through the core as a Python module (in-process).

The native-handler pattern: Python subscribes and publishes, rust_vision_core decodes,
detects and classifies with the GIL released. Subscribes to `image` (sensor_msgs/Image)
or `image/compressed`, publishes rust_vision/DetectionArray on `detections` with the
image's header and a sequence number per frame received (a failed frame leaves a gap).

The core's settings are ROS parameters of the same names, types, ranges and defaults as
vision_node's (declared from rust_vision_core.PARAMETERS; start-up ones read-only), so
`--ros-args --params-file config/vision_node.yaml` and `ros2 param set` work as there.
A bad frame is logged (once per cause, then at most every 5 s), counted, and skipped.
"""

import argparse
import sys
import time
from collections import Counter

import rclpy
from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                ParameterType, SetParametersResult)
from rclpy.qos import qos_profile_sensor_data, QoSProfile, ReliabilityPolicy
from rclpy.signals import SignalHandlerOptions
from rust_vision.msg import Detection, DetectionArray
import rust_vision_core as rv
from sensor_msgs.msg import CompressedImage, Image
from stopping import StopRequest

QOS = {
    'sensor_data': qos_profile_sensor_data,
    'reliable': QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE),
}
TYPES = {'integer': ParameterType.PARAMETER_INTEGER, 'double': ParameterType.PARAMETER_DOUBLE,
         'string': ParameterType.PARAMETER_STRING}


def descriptor(row):
    """The ROS parameter descriptor of a schema row: type, range, read-only when start-up."""
    d = ParameterDescriptor(name=row['name'], type=TYPES[row['type']],
                            description=row['description'], read_only=not row['runtime'])
    if row['type'] == 'integer':
        d.integer_range = [IntegerRange(from_value=row['min'], to_value=row['max'])]
    elif row['type'] == 'double':
        d.floating_point_range = [FloatingPointRange(from_value=row['min'],
                                                     to_value=row['max'])]
    elif 'choices' in row:
        d.additional_constraints = 'one of ' + ', '.join(row['choices'])
    return d


def to_msg(found):
    """A core detection (dict) as a rust_vision/Detection."""
    x, y, w, h = found['box']
    label, score = found['classification'] or ('', 0.0)
    return Detection(x=x, y=y, width=w, height=h, class_id=found['class_id'],
                     label=found['label'], score=found['score'],
                     objectness=found['objectness'], classification_label=label,
                     classification_score=score, track_id=found['track_id'])


class InProcessNode:
    """Owns the node, the pipeline and the counts; one callback at a time."""

    def __init__(self, node, compressed):
        self.node = node
        rows = rv.PARAMETERS
        declared = node.declare_parameters('', [(row['name'], row['default'], descriptor(row))
                                                for row in rows])
        self.pipeline = rv.Pipeline({p.name: p.value for p in declared})
        node.add_on_set_parameters_callback(self.on_set)
        self.publisher = node.create_publisher(DetectionArray, 'detections', 100)
        self.sequence = 0
        self.failed = Counter()
        self.compressed = compressed

    def on_set(self, parameters):
        for p in parameters:
            try:
                self.pipeline.set(p.name, p.value)
            except rv.Error as e:
                return SetParametersResult(successful=False, reason=str(e))
        return SetParametersResult(successful=True)

    def on_image(self, msg):
        received = time.monotonic()
        sequence, self.sequence = self.sequence, self.sequence + 1
        try:
            if self.compressed:
                found = self.pipeline.process_compressed(bytes(msg.data), msg.format)
                width = height = 0
            else:
                found = self.pipeline.process(msg.data, msg.encoding, width=msg.width,
                                              height=msg.height, step=msg.step)
                width, height = msg.width, msg.height
        except rv.Error as e:
            cause = getattr(e, 'cause', 'configuration')
            self.failed[cause] += 1
            self.node.get_logger().warning(
                f'frame {sequence} dropped, {e} ({self.failed[cause]} with this cause)',
                throttle_duration_sec=5.0)
            return
        self.publisher.publish(DetectionArray(
            header=msg.header, image_width=width, image_height=height, sequence=sequence,
            detections=[to_msg(d) for d in found], latency=time.monotonic() - received))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--qos', choices=sorted(QOS), default='sensor_data',
                        help='QoS of the image subscription (sensor_data, as vision_node)')
    parser.add_argument('--compressed', action='store_true',
                        help='subscribe to image/compressed (JPEG or PNG) instead of image')
    args = parser.parse_args(rclpy.utilities.remove_ros_args(argv)[1:])
    stop = StopRequest()
    rclpy.init(args=argv, signal_handler_options=SignalHandlerOptions.NO)
    node = rclpy.create_node('inprocess_node')
    try:
        state = InProcessNode(node, args.compressed)
    except rv.Error as e:
        node.get_logger().error(f'not started: {e}')
        node.destroy_node()
        rclpy.try_shutdown()
        stop.exiting()
        return 1
    kind, topic = (CompressedImage, 'image/compressed') if args.compressed else (Image, 'image')
    node.create_subscription(kind, topic, state.on_image, QOS[args.qos])
    try:
        while not stop:
            rclpy.spin_once(node, timeout_sec=0.1)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
        stop.exiting()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
