"""Shared fixtures: an isolated DDS domain per test run, rclpy, and Rust processes."""

import ctypes
import fcntl
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
# The Python nodes' modules (scenes: synthetic images with ground truth).
sys.path.insert(0, str(ROOT / 'python_nodes'))
TARGET = Path(os.environ.get('CARGO_TARGET_DIR', ROOT / 'target'))
# vision_node's line of what became of every frame received (at shutdown, and at a forced
# exit): received, published, failed (with its causes), dropped, paused.
TALLY = (r'frames received (\d+), results published (\d+), failed (\d+)(?: \([^)]*\))?, '
         r'dropped (\d+), paused (\d+)')


def _claim_domain():
    """Hold a lock on a free ROS_DOMAIN_ID so that parallel runs never share one."""
    for domain in range(1, 101):
        handle = open(Path(tempfile.gettempdir()) / f'rust_vision_domain_{domain}.lock', 'w')
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        return domain, handle
    raise RuntimeError('no free ROS_DOMAIN_ID in 1..100')


# Claimed at import, before rclpy is initialised anywhere in this process.
DOMAIN_ID, _DOMAIN_LOCK = _claim_domain()
os.environ['ROS_DOMAIN_ID'] = str(DOMAIN_ID)
os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'


def ros_only_env():
    """The environment a user would give a ROS binary: nothing but the usual ROS variables.

    Binaries must find their libraries through their own RPATH, not LD_LIBRARY_PATH.
    """
    keep = ('HOME', 'PATH', 'LANG', 'ROS_DOMAIN_ID', 'ROS_AUTOMATIC_DISCOVERY_RANGE',
            'ROS_LOG_DIR', 'RMW_IMPLEMENTATION', 'FASTRTPS_DEFAULT_PROFILES_FILE',
            'FASTDDS_DEFAULT_PROFILES_FILE')
    return {k: os.environ[k] for k in keep if k in os.environ}


@pytest.fixture(scope='session')
def rclpy_node():
    import rclpy
    from rclpy.node import Node

    rclpy.init()
    node = Node('rust_vision_test_probe')
    yield node
    node.destroy_node()
    rclpy.shutdown()


def spin_until(node, predicate, timeout=20.0, step=None):
    """Spin `node` until `predicate()` is truthy; calls `step()` between spins."""
    import rclpy

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if step is not None:
            step()
        rclpy.spin_once(node, timeout_sec=0.05)
        result = predicate()
        if result:
            return result
    raise AssertionError(f'condition not met within {timeout} s')


def call(node, srv_type, name, request, timeout=20.0, resend_every=2.0):
    """Call a service and wait for the response.

    The request is sent again every `resend_every` s: with Fast DDS a response can be lost
    when the server answers before its response writer has matched our reader, even though
    `service_is_ready()` was already true. Every service called here is idempotent.
    """
    client = node.create_client(srv_type, name)
    try:
        spin_until(node, lambda: client.service_is_ready(), timeout=timeout)
        deadline = time.monotonic() + timeout
        while True:
            future = client.call_async(request)
            try:
                return spin_until(node, lambda: future.result() if future.done() else None,
                                  timeout=min(resend_every, deadline - time.monotonic()))
            except AssertionError:
                client.remove_pending_request(future)
                if time.monotonic() >= deadline:
                    raise
    finally:
        node.destroy_client(client)


def set_parameter(node, target, name, value):
    """Sets parameter `name` of the node `target` (fully qualified) to `value` (str, int or
    float) through its set_parameters service; returns the SetParametersResult."""
    from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
    from rcl_interfaces.srv import SetParameters

    if isinstance(value, str):
        v = ParameterValue(type=ParameterType.PARAMETER_STRING, string_value=value)
    elif isinstance(value, float):
        v = ParameterValue(type=ParameterType.PARAMETER_DOUBLE, double_value=value)
    else:
        v = ParameterValue(type=ParameterType.PARAMETER_INTEGER, integer_value=value)
    request = SetParameters.Request(parameters=[Parameter(name=name, value=v)])
    return call(node, SetParameters, f'{target}/set_parameters', request).results[0]


def get_parameter(node, target, name):
    """The value of parameter `name` of the node `target` (fully qualified), through its
    get_parameters service."""
    from rcl_interfaces.srv import GetParameters
    from rclpy.parameter import parameter_value_to_python

    request = GetParameters.Request(names=[name])
    value, = call(node, GetParameters, f'{target}/get_parameters', request).values
    return parameter_value_to_python(value)


def die_with_parent():
    """Runs in the child: if the test process dies (even by abort), so does the node,
    instead of lingering in a domain the next run may claim."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def installed(executable):
    """Path of `executable` of the rust_vision package, as `ros2 run` would find it."""
    for prefix in os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep):
        path = Path(prefix) / 'lib' / 'rust_vision' / executable
        if prefix and path.is_file():
            return path
    raise FileNotFoundError(f'no lib/rust_vision/{executable} on AMENT_PREFIX_PATH: make build')


def python_node(name, *args, ns=None):
    """The command line of the package's Python node `name` with `args`, in namespace
    `ns` when one is given."""
    remap = ['--ros-args', '-r', f'__ns:={ns}'] if ns else []
    return [sys.executable, str(installed(name)), *args, *remap]


class RustProcess:
    """A Rust binary run as a ROS node, stopped with SIGINT: `binary` is a path, or the
    name of a binary of this workspace's debug build."""

    def __init__(self, binary, *ros_args, log_dir):
        self.log_path = Path(log_dir) / f'{Path(binary).name}.log'
        self.log = open(self.log_path, 'w')
        args = [str(binary if Path(binary).is_absolute() else TARGET / 'debug' / binary)]
        if ros_args:
            args += ['--ros-args', *ros_args]
        self.proc = subprocess.Popen(args, env=ros_only_env(), stdout=self.log,
                                     stderr=subprocess.STDOUT, preexec_fn=die_with_parent)

    def output(self):
        """Everything the process printed so far."""
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text()

    def stop(self, sig=signal.SIGINT):
        """Stops the process with `sig` (if still running); returns its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.log.closed:
            self.log.close()
        return self.proc.returncode


@pytest.fixture
def rust_process(tmp_path):
    started = []

    def start(binary, *ros_args):
        process = RustProcess(binary, *ros_args, log_dir=tmp_path)
        started.append(process)
        time.sleep(0.2)
        assert process.proc.poll() is None, f'{binary} exited at once:\n{process.output()}'
        return process

    yield start
    for process in started:
        process.stop()


# ---- vision_node end to end: helpers shared by the test modules ----

def _reliable(depth=100):
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    return QoSProfile(depth=depth, reliability=ReliabilityPolicy.RELIABLE)


@pytest.fixture
def vision_node(rust_process):
    """Starts the installed vision_node with ROS arguments."""
    def start(*ros_args):
        return rust_process(installed('vision_node'), *ros_args)
    return start


class Collector:
    """Keeps every message received on a topic."""

    def __init__(self, node, msg_type, topic, qos):
        self.messages = []
        self.subscription = node.create_subscription(msg_type, topic, self.messages.append, qos)

    def wait_matched(self, node):
        """Spins until this reader has matched a writer (the reader's side of the match)."""
        spin_until(node, lambda: self.subscription.get_publisher_count() > 0)


@pytest.fixture
def collect(rclpy_node):
    """collect(msg_type, topic, qos=reliable) -> Collector, destroyed after the test."""
    made = []

    def make(msg_type, topic, qos=None):
        made.append(Collector(rclpy_node, msg_type, topic, qos or _reliable()))
        return made[-1]

    yield make
    for collector in made:
        rclpy_node.destroy_subscription(collector.subscription)


def image_msg(rgb, encoding, frame_id, stamp):
    """A sensor_msgs/Image of the RGB array `rgb` in `encoding`."""
    from scenes import encode
    from sensor_msgs.msg import Image

    data, step = encode(rgb, encoding)
    msg = Image(height=rgb.shape[0], width=rgb.shape[1], encoding=encoding, step=step)
    msg.data = data
    msg.header.frame_id = frame_id
    msg.header.stamp = stamp
    return msg


def spin_until_time(node, seconds):
    """Spin `node` for `seconds`."""
    import rclpy

    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        rclpy.spin_once(node, timeout_sec=left)


def publish_all(node, topic, messages, results, rate=30.0, qos=None, msg_type=None,
                warmup=None, publisher=None):
    """Publishes `messages` on `topic` once vision_node answers; returns the number of
    warm-up frames vision_node received (one result each), for end-of-stream counts.

    Until then a warm-up frame goes out every 0.2 s: only a result for it proves that every
    reader and writer on the way has matched, so that no counted frame or result is lost
    to discovery. The results of warm-up frames are removed from `results`. `rate` 0
    publishes as fast as possible. A stream is one publisher's: pass `publisher` to go on
    with one (a new publisher begins a new stream); else one is made for the call.
    """
    from sensor_msgs.msg import Image

    msg_type = msg_type or Image
    own = publisher is None
    if own:
        publisher = node.create_publisher(msg_type, topic, qos or _reliable())
    try:
        if warmup is None:
            warmup = image_msg(np.zeros((8, 8, 3), np.uint8), 'rgb8', 'warmup',
                               node.get_clock().now().to_msg())
        warmup.header.frame_id = 'warmup'

        def answered():
            publisher.publish(warmup)
            spin_until_time(node, 0.2)
            return any(m.header.frame_id == 'warmup' for m in results.messages)

        spin_until(node, answered)
        spin_until_time(node, 0.3)
        warmups = sum(m.header.frame_id == 'warmup' for m in results.messages)
        results.messages[:] = [m for m in results.messages if m.header.frame_id != 'warmup']
        for msg in messages:
            publisher.publish(msg)
            if rate:
                spin_until_time(node, 1.0 / rate)
        publisher.wait_for_all_acked()
        return warmups
    finally:
        if own:
            node.destroy_publisher(publisher)


def latched():
    """The QoS of EndOfStream and StreamSummary: reliable, transient local, depth 1."""
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
    return QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL)


def end_of_stream(node, topic, frames):
    """Publishes an EndOfStream of `frames` frames on `topic`, as image_publisher does."""
    from rust_vision.msg import EndOfStream

    publisher = node.create_publisher(EndOfStream, topic, latched())
    msg = EndOfStream(frames=frames)
    msg.header.stamp = node.get_clock().now().to_msg()
    msg.header.frame_id = 'camera'
    publisher.publish(msg)
    return publisher


def assert_matches_truth(result, shapes, min_iou=0.9):
    """Every ground-truth shape has a detection at IoU >= `min_iou`, and no extra ones."""
    from scenes import iou

    boxes = [(d.x, d.y, d.width, d.height) for d in result.detections]
    assert len(boxes) == len(shapes), f'{result.header.frame_id}: {boxes} vs {shapes}'
    for shape in shapes:
        truth = (shape.x, shape.y, shape.width, shape.height)
        best = max(iou(truth, box) for box in boxes)
        assert best >= min_iou, f'{result.header.frame_id}: {shape} best IoU {best:.3f}'


def moving_boxes(frame):
    """Frame `frame` of two coloured boxes crossing a grey field (one passing above the
    other), RGB, with each box's (x, y) by true id."""
    rgb = np.full((240, 320, 3), 90, np.uint8)
    boxes = {1: (10 + 8 * frame, 40), 2: (250 - 8 * frame, 150)}
    for (x, y), colour in zip(boxes.values(), [(220, 30, 30), (30, 30, 220)]):
        rgb[y:y + 40, x:x + 30] = colour
    return rgb, boxes
