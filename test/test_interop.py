"""rclpy <-> rclrs over real DDS, through the generated interface crates.

The Rust side is test/interop_node, run with only the usual ROS environment variables.
"""

import array
import math
import time

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from conftest import call, set_parameter, spin_until
from geometry_msgs.msg import Point
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock
from rust_vision_test_msgs.msg import AllTypes, IdlTypes, Primitives
from rust_vision_test_msgs.srv import Transform
from sensor_msgs.msg import Image
from std_msgs.msg import Header, String, UInt32

RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


def plain(value):
    """A message as nested dicts and lists, for field-by-field comparison."""
    if hasattr(value, 'get_fields_and_field_types'):
        return {name: plain(getattr(value, name)) for name in value.get_fields_and_field_types()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (array.array, list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return list(value)
    return value


def differences(sent, received, path=''):
    """Every field path whose value differs, with both values."""
    if isinstance(sent, dict):
        return [d for k in sent for d in differences(sent[k], received.get(k), f'{path}.{k}')]
    if isinstance(sent, list) and isinstance(received, list) and len(sent) == len(received):
        return [d for i, (a, b) in enumerate(zip(sent, received))
                for d in differences(a, b, f'{path}[{i}]')]
    return [] if sent == received else [f'{path}: sent {sent!r}, received {received!r}']


def primitives(k):
    return Primitives(flag=bool(k % 2), raw=bytes([k]), letter=65 + k, f32=k + 0.5,
                      f64=-k / 3, i8=-k, u8=250 - k, i16=-30000 + k, u16=65000 + k,
                      i32=-2_000_000_000 + k, u32=4_000_000_000 + k, i64=-(2 ** 62) - k,
                      u64=2 ** 64 - 1 - k)


def all_types_sample(marker):
    m = AllTypes()
    m.primitives = primitives(3)
    m.idl_types = IdlTypes(letter='z', s=-7, us=65535, l=-(2 ** 31),
                           ul=2 ** 32 - 1, ll=-(2 ** 63), ull=2 ** 64 - 1,
                           with_default=-0.0625)
    m.text = marker
    m.bounded_text = 'twelve chars'
    m.wide = 'wide \u00e9\u4e2d\U0001f600'
    m.bounded_wide = 'w\u00e9de'
    m.int_array = [-1, 0, 2 ** 31 - 1]
    m.float_array = [math.pi, -1e300]
    m.bool_array = [True, False]
    m.string_array = ['first', 'sec\u00f6nd']
    m.bounded_string_array = ['abcd', 'xy']
    m.nested_array = [primitives(1), primitives(2)]
    m.point_array = [Point(x=1.0, y=2.0, z=3.0), Point(x=-4.0, y=5.5, z=-6.25)]
    m.bytes = bytes(range(256)) * 3
    m.floats = [0.25, -1.5, 3.0e38]
    m.longs = [-(2 ** 63), 0, 2 ** 63 - 1]
    m.bools = [True, True, False]
    m.strings = ['', 'a', 'long ' * 50]
    m.wides = ['\u00fc', '\U0001f680 rocket']
    m.bounded_strings = ['six ch', 'abc']
    m.nested_seq = [primitives(k) for k in range(5)]
    m.stamps = [Time(sec=k, nanosec=999_999_999 - k) for k in range(4)]
    m.bounded_shorts = [-32768, 0, 32767, 12]
    m.bounded_seq_strings = ['x', 'y\u00ff', 'z' * 100]
    m.bounded_nested = [primitives(9)]
    m.bounded_points = [Point(x=0.5, y=0.25, z=0.125), Point(x=7.0, y=8.0, z=9.0)]
    m.stamp = Time(sec=1_700_000_000, nanosec=123_456_789)
    m.pose.position = Point(x=10.0, y=-20.0, z=30.5)
    m.pose.orientation.w = 0.5
    m.pose.orientation.z = -0.5
    setattr(m, 'type', 42)
    m.match = True
    m.move = 'keyword field'
    return m


def echo(node, message, in_topic, out_topic, msg_type, match, also=None, timeout=30.0):
    """Publish until the Rust node's matching reply arrives (discovery takes a moment);
    `also()` runs before each publication."""
    received = []
    sub = node.create_subscription(msg_type, out_topic, received.append, RELIABLE)
    pub = node.create_publisher(type(message), in_topic, RELIABLE)
    last = [0.0]

    def publish_now_and_then():
        if time.monotonic() - last[0] > 0.5:
            if also is not None:
                also()
            pub.publish(message)
            last[0] = time.monotonic()

    try:
        return spin_until(node, lambda: next((m for m in received if match(m)), None),
                          timeout=timeout, step=publish_now_and_then)
    finally:
        node.destroy_subscription(sub)
        node.destroy_publisher(pub)


@pytest.fixture
def interop_node(rust_process, rclpy_node):
    process = rust_process('interop_node')
    spin_until(rclpy_node, lambda: ('interop_node', '/') in
               rclpy_node.get_node_names_and_namespaces())
    return process


def test_rust_node_appears_in_rclpy_graph(interop_node, rclpy_node):
    names = rclpy_node.get_node_names_and_namespaces()
    assert ('interop_node', '/') in names
    topics = dict(rclpy_node.get_topic_names_and_types())
    assert topics.get('/all_types_in') == ['rust_vision_test_msgs/msg/AllTypes']
    assert topics.get('/image_out') == ['sensor_msgs/msg/Image']


def test_every_field_kind_round_trips(interop_node, rclpy_node):
    sent = all_types_sample('round trip 1')
    received = echo(rclpy_node, sent, 'all_types_in', 'all_types_out', AllTypes,
                    lambda m: m.text == sent.text)
    assert differences(plain(sent), plain(received)) == []


def test_default_values_round_trip(interop_node, rclpy_node):
    sent = AllTypes()
    sent.text = 'defaults'
    received = echo(rclpy_node, sent, 'all_types_in', 'all_types_out', AllTypes,
                    lambda m: m.text == 'defaults')
    assert differences(plain(sent), plain(received)) == []
    assert received.primitives.u64 == 18_000_000_000_000_000_000
    assert list(received.int_array) == [1, 2, 3]
    assert received.idl_types.with_default == 12.5


def test_1080p_image_rclpy_to_rust_and_back(interop_node, rclpy_node):
    width, height = 1920, 1080
    pixels = np.random.default_rng(7).integers(0, 256, (height, width, 3), dtype=np.uint8)
    sent = Image(height=height, width=width, encoding='rgb8', is_bigendian=0, step=width * 3)
    sent.header.frame_id = 'camera_optical'
    sent.header.stamp = Time(sec=12, nanosec=34)
    sent.data = pixels.tobytes()
    received = echo(rclpy_node, sent, 'image_in', 'image_out', Image,
                    lambda m: m.header.frame_id == 'camera_optical')
    assert (received.width, received.height, received.step) == (width, height, width * 3)
    assert (received.encoding, received.is_bigendian) == ('rgb8', 0)
    assert (received.header.stamp.sec, received.header.stamp.nanosec) == (12, 34)
    assert bytes(received.data) == pixels.tobytes()


def test_1080p_image_made_in_rust(interop_node, rclpy_node):
    seed = 11
    received = echo(rclpy_node, UInt32(data=seed), 'make_image', 'image_generated', Image,
                    lambda m: m.header.frame_id == f'seed_{seed}')
    expected = ((np.arange(1920 * 1080 * 3, dtype=np.uint64) * 7 + seed) % 251).astype(np.uint8)
    assert (received.width, received.height, received.encoding) == (1920, 1080, 'rgb8')
    assert np.array_equal(np.frombuffer(bytes(received.data), dtype=np.uint8), expected)


def test_parameter_services_and_a_generated_service(interop_node, rclpy_node):
    from rcl_interfaces.msg import ParameterType
    from rcl_interfaces.srv import DescribeParameters, GetParameters, ListParameters

    listed = call(rclpy_node, ListParameters, '/interop_node/list_parameters',
                  ListParameters.Request())
    assert {'gain', 'use_sim_time'} <= set(listed.result.names)

    described = call(rclpy_node, DescribeParameters, '/interop_node/describe_parameters',
                     DescribeParameters.Request(names=['gain']))
    gain = described.descriptors[0]
    assert gain.type == ParameterType.PARAMETER_DOUBLE
    assert gain.description == 'Factor applied by the `scale` service'
    assert (gain.floating_point_range[0].from_value, gain.floating_point_range[0].to_value) \
        == (0.0, 10.0)

    got = call(rclpy_node, GetParameters, '/interop_node/get_parameters',
               GetParameters.Request(names=['gain']))
    assert got.values[0].double_value == 1.0

    def set_gain(value):
        return set_parameter(rclpy_node, '/interop_node', 'gain', value)

    assert set_gain(2.5).successful
    refused = set_gain(20.0)
    assert not refused.successful and refused.reason
    got = call(rclpy_node, GetParameters, '/interop_node/get_parameters',
               GetParameters.Request(names=['gain']))
    assert got.values[0].double_value == 2.5

    scaled = call(rclpy_node, Transform, '/scale',
                  Transform.Request(factor=2.0, values=[1.0, -2.0, 3.5]))
    assert list(scaled.values) == [5.0, -10.0, 17.5]
    assert scaled.message == 'scaled 3 values by 5'


def pong_stamp(node, namespace, clock_value=None, accept=lambda stamp: True):
    """Ping the node in `namespace` until a pong's stamp is accepted; meanwhile publish
    `clock_value` on /clock, if given."""
    clock = node.create_publisher(Clock, '/clock', 10) if clock_value is not None else None

    def publish_clock():
        if clock is not None:
            clock.publish(Clock(clock=clock_value))

    try:
        pong = echo(node, String(data='stamp please'), f'{namespace}/ping', f'{namespace}/pong',
                    Header, lambda p: accept(p.stamp), also=publish_clock)
        return pong.stamp
    finally:
        if clock is not None:
            node.destroy_publisher(clock)


def test_use_sim_time_follows_clock_from_rclpy(rust_process, rclpy_node):
    rust_process('interop_node', '-r', '__ns:=/sim', '-p', 'use_sim_time:=true')
    rust_process('interop_node', '-r', '__ns:=/wall')
    sim_time = Time(sec=1234, nanosec=500_000_000)
    # Before the first /clock sample arrives, sim time is zero.
    stamp = pong_stamp(rclpy_node, '/sim', clock_value=sim_time,
                       accept=lambda s: (s.sec, s.nanosec) != (0, 0))
    assert (stamp.sec, stamp.nanosec) == (1234, 500_000_000)
    # Without use_sim_time the same node keeps wall time.
    wall = pong_stamp(rclpy_node, '/wall')
    assert abs(wall.sec + wall.nanosec * 1e-9 - time.time()) < 60
