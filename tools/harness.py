"""What the whole-node tools (bench_node, bench_cameras, soak) share: the installed
binaries, an rclpy session in a domain of the process, the QoS of frames and results,
synthetic frames, and a node process's CPU time and stop."""

import contextlib
import os
import signal
import sys
import threading
from pathlib import Path

import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.signals import SignalHandlerOptions
from sensor_msgs.msg import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'python_nodes'))
from scenes import make_scene  # noqa: E402

IMAGES = QoSProfile(history=HistoryPolicy.KEEP_ALL, reliability=ReliabilityPolicy.RELIABLE)
RESULTS = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE)


def installed(executable):
    for prefix in os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep):
        path = Path(prefix) / 'lib' / 'rust_vision' / executable
        if prefix and path.is_file():
            return str(path)
    sys.exit(f'no lib/rust_vision/{executable} on AMENT_PREFIX_PATH: run make package')


def image_msg(bgr):
    h, w = bgr.shape[:2]
    return Image(height=h, width=w, encoding='bgr8', step=w * 3, data=bgr.tobytes())


def scene_bgr(width, height, seed, noise=8):
    """A synthetic scene of coloured shapes on a noisy grey background, BGR."""
    rgb, _ = make_scene(width, height, 12, np.random.default_rng(seed), noise=noise)
    return np.ascontiguousarray(rgb[:, :, ::-1])


@contextlib.contextmanager
def ros_session(name, dds_profile):
    """An rclpy node `name` spun on a thread of its own, in a ROS domain of this process
    (localhost only), every process with the Fast DDS profile `dds_profile` ('' for Fast
    DDS's defaults)."""
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    os.environ.setdefault('ROS_DOMAIN_ID', str(100 + os.getpid() % 100))
    if dds_profile:
        # Fast DDS 2 (Jazzy) reads the first, Fast DDS 3 (Kilted) the second.
        for variable in ('FASTRTPS_DEFAULT_PROFILES_FILE', 'FASTDDS_DEFAULT_PROFILES_FILE'):
            os.environ[variable] = dds_profile
    # rclpy's own SIGINT handler would shut this process down with each node it stops.
    # No arguments: this script's own (-p ...) are not ROS arguments.
    rclpy.init(args=[], signal_handler_options=SignalHandlerOptions.NO)
    node = rclpy.create_node(name)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    done = threading.Event()

    def spin():
        while not done.is_set():
            executor.spin_once(timeout_sec=0.1)
    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        yield node
    finally:
        done.set()
        spinner.join()
        executor.shutdown()
        node.destroy_node()
        rclpy.shutdown()


def cpu_seconds(pid):
    fields = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def stop(proc, timeout=20):
    os.killpg(proc.pid, signal.SIGINT)
    proc.wait(timeout=timeout)
