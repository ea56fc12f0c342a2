"""Shared fixtures: an isolated DDS domain per test run, rclpy, and Rust processes."""

import ctypes
import fcntl
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get('CARGO_TARGET_DIR', ROOT / 'target'))


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
            'ROS_LOG_DIR', 'RMW_IMPLEMENTATION')
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


def _die_with_parent():
    """Runs in the child: if the test process dies (even by abort), so does the node,
    instead of lingering in a domain the next run may claim."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class RustProcess:
    """A Rust binary of this workspace run as a ROS node, stopped with SIGINT."""

    def __init__(self, binary, *ros_args, log_dir):
        self.log = open(Path(log_dir) / f'{Path(binary).name}.log', 'w+')
        args = [str(TARGET / 'debug' / binary)]
        if ros_args:
            args += ['--ros-args', *ros_args]
        self.proc = subprocess.Popen(args, env=ros_only_env(), stdout=self.log,
                                     stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


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
