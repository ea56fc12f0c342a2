"""vision_node as a managed node, driven from rclpy through the standard lifecycle
services (as `ros2 lifecycle` and launch_ros's lifecycle managers do), and paused and
resumed through ~/enable with the paused frames counted."""
import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from lifecycle_msgs.msg import Transition, TransitionEvent
from lifecycle_msgs.srv import ChangeState, GetAvailableStates, GetAvailableTransitions, GetState
from rust_vision.msg import DetectionArray, StreamSummary
from std_srvs.srv import SetBool

from conftest import (call, end_of_stream, image_msg, latched, publish_all, spin_until,
                      spin_until_time)

MANAGED = ('-p', 'managed:=true', '-p', 'qos:=reliable', '-p', 'overflow:=all')


class Lifecycle:
    """A client of one node's lifecycle services."""

    def __init__(self, node, target):
        self.node, self.target = node, target

    def state(self):
        return call(self.node, GetState, f'{self.target}/get_state',
                    GetState.Request()).current_state.label

    def transitions(self):
        response = call(self.node, GetAvailableTransitions,
                        f'{self.target}/get_available_transitions',
                        GetAvailableTransitions.Request())
        return [(t.transition.label, t.start_state.label, t.goal_state.label)
                for t in response.available_transitions]

    def change(self, label='', id=0):
        """Asks for a transition, once: change_state is not idempotent, so the service's
        two ends are first proven matched by a request for no transition (refused)."""
        name = f'{self.target}/change_state'
        assert not call(self.node, ChangeState, name,
                        ChangeState.Request(transition=Transition(label='none'))).success
        request = ChangeState.Request(transition=Transition(id=id, label=label))
        return call(self.node, ChangeState, name, request, timeout=60, resend_every=60).success


def frames(node, count, colour=(200, 30, 30)):
    image = np.zeros((60, 80, 3), np.uint8)
    image[10:40, 10:50] = colour
    return [image_msg(image, 'rgb8', f'frame{i}', node.get_clock().now().to_msg())
            for i in range(count)]


def figures(diagnostics, ns):
    """The (key, value) pairs of the latest diagnostics of the node in `ns`."""
    for array in reversed(diagnostics.messages):
        for status in array.status:
            if status.name.startswith(f'{ns}/vision_node'):
                return [(v.key, v.value) for v in status.values]
    return []


def subscribers(node, topic):
    return node.count_subscribers(topic)


def test_managed_node_follows_the_lifecycle_and_counts_paused_frames(
        vision_node, rclpy_node, collect):
    ns = '/managed'
    events = collect(TransitionEvent, f'{ns}/vision_node/transition_event')
    results = collect(DetectionArray, f'{ns}/detections')
    summaries = collect(StreamSummary, f'{ns}/detections/summary', latched())
    diagnostics = collect(DiagnosticArray, '/diagnostics')
    node = vision_node('-r', f'__ns:={ns}', *MANAGED)
    lifecycle = Lifecycle(rclpy_node, f'{ns}/vision_node')

    assert lifecycle.state() == 'unconfigured'
    assert lifecycle.transitions() == [('configure', 'unconfigured', 'configuring'),
                                       ('shutdown', 'unconfigured', 'shuttingdown')]
    states = call(rclpy_node, GetAvailableStates, f'{ns}/vision_node/get_available_states',
                  GetAvailableStates.Request()).available_states
    assert [s.id for s in states] == [1, 2, 3, 4, 10, 11, 12, 13, 14, 15]
    assert subscribers(rclpy_node, f'{ns}/image') == 0
    # Not available while unconfigured: refused, nothing changes.
    assert not lifecycle.change('activate')
    assert lifecycle.state() == 'unconfigured'

    assert lifecycle.change(id=Transition.TRANSITION_CONFIGURE)
    assert lifecycle.state() == 'inactive'
    spin_until(rclpy_node, lambda: results.subscription.get_publisher_count() > 0)
    spin_until_time(rclpy_node, 0.5)
    assert subscribers(rclpy_node, f'{ns}/image') == 0  # configured, not yet active

    assert lifecycle.change('activate')
    assert lifecycle.state() == 'active'
    first = frames(rclpy_node, 5)
    # One publisher for the stream: a new one would begin a new stream.
    publisher = rclpy_node.create_publisher(type(first[0]), f'{ns}/image', 100)
    warmups = publish_all(rclpy_node, f'{ns}/image', first, results, publisher=publisher)
    spin_until(rclpy_node, lambda: len(results.messages) >= 5)

    # Paused: frames still arrive, and are counted paused, not processed.
    enable = f'{ns}/vision_node/enable'
    response = call(rclpy_node, SetBool, enable, SetBool.Request(data=False))
    assert response.success and response.message == 'detection paused'
    for msg in frames(rclpy_node, 4, colour=(30, 30, 200)):
        publisher.publish(msg)
    assert publisher.wait_for_all_acked()
    # Evidence that the node took them while paused: its diagnostics count them.
    spin_until(rclpy_node, lambda: ('frames paused', '4') in figures(diagnostics, ns))
    assert len(results.messages) == 5
    assert call(rclpy_node, SetBool, enable, SetBool.Request(data=True)).success
    warmups += publish_all(rclpy_node, f'{ns}/image', frames(rclpy_node, 3), results,
                           publisher=publisher)
    rclpy_node.destroy_publisher(publisher)
    spin_until(rclpy_node, lambda: len(results.messages) >= 8)
    sent = 5 + 4 + 3 + warmups
    eos = end_of_stream(rclpy_node, f'{ns}/image/end_of_stream', sent)
    spin_until(rclpy_node, lambda: summaries.messages, timeout=30)
    rclpy_node.destroy_publisher(eos)
    summary = summaries.messages[-1]
    assert (summary.frames_sent, summary.frames_received) == (sent, sent)
    assert summary.frames_paused == 4
    assert summary.frames_processed == sent - 4
    assert not summary.complete

    assert lifecycle.change('deactivate')
    assert lifecycle.state() == 'inactive'
    spin_until(rclpy_node, lambda: subscribers(rclpy_node, f'{ns}/image') == 0)
    # Active again: frames flow, and the stream that ended is not ended a second time
    # (its end of stream is latched, and the node keeps its subscription to it).
    assert lifecycle.change('activate')
    sent += publish_all(rclpy_node, f'{ns}/image', [], results)
    assert node.output().count('end of stream:') == 1
    assert lifecycle.change('deactivate')
    assert lifecycle.change('cleanup')
    assert lifecycle.state() == 'unconfigured'
    # Cleanup let every frame through and said so.
    assert f'frames received {sent}, results published {sent - 4}' in node.output()
    assert lifecycle.change('shutdown')
    assert lifecycle.state() == 'finalized'
    assert lifecycle.transitions() == []

    spin_until(rclpy_node, lambda: len(events.messages) >= 14)
    steps = [(e.start_state.label, e.goal_state.label) for e in events.messages]
    assert steps == [
        ('unconfigured', 'configuring'), ('configuring', 'inactive'),
        ('inactive', 'activating'), ('activating', 'active'),
        ('active', 'deactivating'), ('deactivating', 'inactive'),
        ('inactive', 'activating'), ('activating', 'active'),
        ('active', 'deactivating'), ('deactivating', 'inactive'),
        ('inactive', 'cleaningup'), ('cleaningup', 'unconfigured'),
        ('unconfigured', 'shuttingdown'), ('shuttingdown', 'finalized')], steps
    assert [e.transition.id for e in events.messages][:2] == [1, 10]
    assert node.stop() == 0
    output = node.output()
    assert 'ERROR' not in output and 'panicked' not in output, output


def test_configure_loads_the_models_and_a_missing_one_fails_the_transition(
        vision_node, rclpy_node, collect):
    ns = '/managed_bad'
    events = collect(TransitionEvent, f'{ns}/vision_node/transition_event')
    node = vision_node('-r', f'__ns:={ns}', *MANAGED, '-p', 'detector:=onnx',
                       '-p', 'onnx.model:=/nonexistent/yolo.onnx')
    lifecycle = Lifecycle(rclpy_node, f'{ns}/vision_node')
    # Started: the model is only loaded by configure.
    assert lifecycle.state() == 'unconfigured'
    assert not lifecycle.change('configure')
    assert lifecycle.state() == 'unconfigured'
    spin_until(rclpy_node, lambda: len(events.messages) >= 2)
    failure = events.messages[1]
    assert (failure.transition.id, failure.transition.label) == (11, 'transition_failure')
    assert failure.goal_state.label == 'unconfigured'
    assert 'lifecycle: configure failed' in node.output()
    assert 'no such file' in node.output()
    assert node.stop() == 0


def test_an_unmanaged_node_serves_enable_and_no_lifecycle(vision_node, rclpy_node, collect):
    ns = '/unmanaged'
    results = collect(DetectionArray, f'{ns}/detections')
    vision_node('-r', f'__ns:={ns}', '-p', 'qos:=reliable', '-p', 'overflow:=all')
    publish_all(rclpy_node, f'{ns}/image', frames(rclpy_node, 2), results)
    spin_until(rclpy_node, lambda: len(results.messages) >= 2)
    services = dict(rclpy_node.get_service_names_and_types_by_node('vision_node', ns))
    assert services[f'{ns}/vision_node/enable'] == ['std_srvs/srv/SetBool']
    assert f'{ns}/vision_node/change_state' not in services
    pause = call(rclpy_node, SetBool, f'{ns}/vision_node/enable', SetBool.Request(data=False))
    assert pause.success and pause.message == 'detection paused'
    again = call(rclpy_node, SetBool, f'{ns}/vision_node/enable', SetBool.Request(data=False))
    assert again.message == 'detection already paused'


@pytest.mark.parametrize('value', ['maybe', '1'])
def test_managed_is_a_bool(value, tmp_path):
    import subprocess

    from conftest import installed, ros_only_env
    done = subprocess.run([str(installed('vision_node')), '--ros-args', '-p',
                           f'managed:={value}'], env=ros_only_env(), capture_output=True,
                          text=True, timeout=60)
    printed = done.stdout + done.stderr
    assert done.returncode == 2, printed
    assert 'parameter `managed`: the value given is not a bool' in printed, printed
