"""End of stream: the source's EndOfStream, vision_node's StreamSummary, and the
completeness report of results_subscriber; real processes over DDS."""

import re
import signal
import subprocess

import cv2
import numpy as np
import pytest
from conftest import end_of_stream, installed, latched, publish_all, python_node, spin_until
from rust_vision.msg import DetectionArray, EndOfStream, StreamSummary
from scenes import make_scene
from sensor_msgs.msg import CompressedImage


def start_subscriber(ns, *args):
    """results_subscriber in namespace `ns`, once it has matched vision_node."""
    process = subprocess.Popen(
        python_node('results_subscriber', '--quiet', *args, ns=ns),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first = process.stdout.readline()
    assert 'subscribed to' in first, first
    return process


@pytest.mark.parametrize('source, compress, count', [
    ('synthetic', 'none', 30), ('skimage', 'jpeg', 6)])
def test_n_frames_in_n_results_out_then_the_summary(
        source, compress, count, vision_node, rclpy_node, collect, tmp_path):
    """The real publisher (raw synthetic frames, or skimage's photos as JPEG, as fast as
    it can), vision_node (reliable, overflow all) and the real subscriber saving the
    annotated frames: every frame has its result, once, then a complete summary."""
    ns = f'/eos_{compress}'
    vision_node('-r', f'__ns:={ns}', '-p', 'qos:=reliable', '-p', 'overflow:=all',
                '-p', 'transport:=both', '-p', f'annotated_depth:={count}')
    summaries = collect(StreamSummary, f'{ns}/detections/summary', latched())
    saved, lines = tmp_path / 'annotated', tmp_path / 'results.jsonl'
    subscriber = start_subscriber(ns, '--save-annotated', str(saved), '--output', str(lines))
    publisher = subprocess.run(
        python_node('image_publisher', '--source', source, '--count', str(count),
                    '--rate', '0', '--compress', compress, ns=ns),
        capture_output=True, text=True, timeout=120)
    assert publisher.returncode == 0, publisher.stderr
    printed = subscriber.communicate(timeout=60)[0]
    assert subscriber.returncode == 0, printed
    assert (f'end of stream: {count} frames sent, {count} received by vision_node, '
            f'{count} processed, 0 failed, 0 dropped, 0 lost in transport; {count} results '
            'received here, 0 frames missing, 0 duplicates: complete') in printed, printed
    assert f'{count} annotated frames saved' in printed, printed

    spin_until(rclpy_node, lambda: summaries.messages)
    summary = summaries.messages[0]
    assert (summary.frames_sent, summary.frames_received, summary.frames_processed,
            summary.frames_failed, summary.frames_dropped, summary.frames_lost,
            summary.first_sequence, summary.complete) == (count, count, count, 0, 0, 0, 0, True)
    assert summary.header.frame_id == 'camera_optical_frame' and summary.duration > 0
    assert len(lines.read_text().splitlines()) == count
    files = sorted(p.name for p in saved.iterdir())
    assert files == [f'{i:06d}.jpg' for i in range(count)]
    assert cv2.imread(str(saved / files[0])) is not None


def test_1080p_as_fast_as_sent_with_the_large_images_profile(vision_node, monkeypatch):
    """Every process with the shipped config/fastdds_large_images.xml: Fast DDS takes the
    profile without a word (a profile it cannot parse prints XMLPARSER errors), and 40
    1080p frames sent as fast as the real publisher can give 40 results, complete."""
    profile = installed('vision_node').parents[2] / 'share' / 'rust_vision' / 'config' / \
        'fastdds_large_images.xml'
    assert profile.is_file()
    for variable in ('FASTRTPS_DEFAULT_PROFILES_FILE', 'FASTDDS_DEFAULT_PROFILES_FILE'):
        monkeypatch.setenv(variable, str(profile))
    ns, count = '/large', 40
    node = vision_node('-r', f'__ns:={ns}', '-p', 'qos:=reliable', '-p', 'overflow:=all')
    subscriber = start_subscriber(ns)
    publisher = subprocess.run(
        python_node('image_publisher', '--width', '1920', '--height', '1080', '--encoding',
                    'bgr8', '--count', str(count), '--rate', '0', ns=ns),
        capture_output=True, text=True, timeout=120)
    printed = subscriber.communicate(timeout=60)[0]
    assert publisher.returncode == 0, publisher.stderr
    assert subscriber.returncode == 0, printed
    assert f'{count} results received here, 0 frames missing, 0 duplicates: complete' \
        in printed, printed
    for output in (publisher.stdout + publisher.stderr, printed, node.output()):
        assert 'XMLPARSER' not in output, output


def test_a_frame_that_fails_is_reported_as_failed(vision_node, rclpy_node, collect):
    """A corrupt JPEG in the middle of a stream: counted failed with its cause; the other
    frames processed; a second stream is accounted for on its own."""
    ns = '/eos_failed'
    vision_node('-r', f'__ns:={ns}', '-p', 'qos:=reliable', '-p', 'overflow:=all',
                '-p', 'transport:=compressed')
    results = collect(DetectionArray, f'{ns}/detections')
    summaries = collect(StreamSummary, f'{ns}/detections/summary', latched())
    rng = np.random.default_rng(5)
    frames = []
    for i in range(8):
        ok, jpeg = cv2.imencode('.jpg', make_scene(160, 120, 2, rng)[0])
        msg = CompressedImage(format='jpeg', data=jpeg.tobytes()[:200 if i == 3 else None])
        msg.header.frame_id = f'f{i}'
        msg.header.stamp = rclpy_node.get_clock().now().to_msg()
        frames.append(msg)
    warmup = CompressedImage(format='jpeg', data=cv2.imencode(
        '.jpg', np.zeros((8, 8, 3), np.uint8))[1].tobytes())
    warmups = publish_all(rclpy_node, f'{ns}/image/compressed', frames, results,
                          msg_type=CompressedImage, warmup=warmup)
    eos = end_of_stream(rclpy_node, f'{ns}/image/end_of_stream', warmups + len(frames))
    try:
        spin_until(rclpy_node, lambda: summaries.messages)
        summary = summaries.messages[0]
        assert (summary.frames_sent, summary.frames_received, summary.frames_processed,
                summary.frames_failed, summary.frames_lost, summary.complete) == (
            warmups + 8, warmups + 8, warmups + 7, 1, 0, False)
        assert list(summary.failure_causes) == ['corrupt_compressed']
        assert list(summary.failure_counts) == [1]
        # Every result came before the summary; the failed frame has none.
        assert [m.header.frame_id for m in results.messages] == [
            f'f{i}' for i in range(8) if i != 3]
        # A second stream of one frame counts from where the first ended.
        frames[0].header.frame_id = 'second'
        publish_all(rclpy_node, f'{ns}/image/compressed', [frames[0]], results,
                    msg_type=CompressedImage, warmup=warmup)
        spin_until(rclpy_node, lambda: any(
            m.header.frame_id == 'second' for m in results.messages))
        second_sequence = results.messages[-1].sequence
        eos.publish(EndOfStream(frames=1))
        spin_until(rclpy_node, lambda: len(summaries.messages) >= 2)
        second = summaries.messages[1]
        # The warm-up frames of the second publish_all belong to the second stream too.
        assert second.first_sequence == warmups + 8
        assert second.frames_processed == second.frames_received == second_sequence + 1 - (
            warmups + 8)
    finally:
        rclpy_node.destroy_publisher(eos)


def test_the_subscriber_fails_when_frames_are_missing(vision_node, rclpy_node, tmp_path):
    """The source says it sent 7 frames, 5 arrive: after end_of_stream_timeout vision_node
    counts 2 lost, and results_subscriber reports them and exits with status 1."""
    ns = '/eos_missing'
    vision_node('-r', f'__ns:={ns}', '-p', 'qos:=reliable', '-p', 'overflow:=all',
                '-p', 'end_of_stream_timeout:=0.5')
    subscriber = start_subscriber(ns)
    publisher = subprocess.run(
        python_node('image_publisher', '--count', '5', '--rate', '0', '--no-end-of-stream',
                    ns=ns),
        capture_output=True, text=True, timeout=60)
    assert publisher.returncode == 0, publisher.stderr
    eos = end_of_stream(rclpy_node, f'{ns}/image/end_of_stream', 7)
    try:
        printed = subscriber.communicate(timeout=30)[0]
    finally:
        rclpy_node.destroy_publisher(eos)
    assert subscriber.returncode == 1, printed
    assert ('end of stream: 7 frames sent, 5 received by vision_node, 5 processed, 0 failed, '
            '0 dropped, 2 lost in transport; 5 results received here, 2 frames missing, '
            '0 duplicates: INCOMPLETE') in printed, printed


def test_the_subscriber_counts_duplicates_and_gaps():
    """The tally on its own: a repeated sequence number is a duplicate, a skipped one a
    gap, and a late one fills its gap."""
    from results_subscriber import Tally

    tally = Tally()
    record = {'detections': [], 'latency': 0.001, 'end_to_end': 0.002}
    for sequence in [0, 1, 3, 1, 5, 2]:
        tally.add(dict(record, sequence=sequence))
    assert (tally.results, tally.duplicates, tally.gaps) == (5, 1, 1)  # 4 never came
    assert tally.in_range(0, 4) == 4 and tally.in_range(4, 2) == 1


def test_the_subscriber_counts_a_restarted_node_on():
    """Numbers from 0 again with a new publisher on the topic: a restarted vision_node,
    whose results count; the same numbers from the same publishers: duplicates."""
    from results_subscriber import Tally

    tally = Tally()
    record = {'detections': [], 'latency': 0.001, 'end_to_end': 0.002}
    for sequence, writers in [(0, {'a'}), (1, {'a'}), (2, {'a'}), (0, {'a', 'b'}),
                              (1, {'a', 'b'}), (1, {'a', 'b'}), (2, {'b'})]:
        tally.add(dict(record, sequence=sequence), lambda: frozenset(writers))
    assert (tally.results, tally.duplicates, tally.gaps, tally.restarts) == (6, 1, 0, 1)
    assert tally.in_range(0, 3) == 3  # the restarted node's
    assert tally.report().endswith('1 duplicates, 1 vision_node restart')


@pytest.mark.parametrize('sig', ['SIGINT', 'SIGTERM'])
def test_ctrl_c_ends_the_stream_cleanly(sig, vision_node, rclpy_node, collect):
    """Ctrl-C (or SIGTERM) in the middle of a looping stream: image_publisher still
    sends its end of stream, exits with status 0 and no traceback, and vision_node
    summarises exactly the frames it sent."""
    ns = f'/stopped_{sig.lower()}'
    vision_node('-r', f'__ns:={ns}', '-p', 'qos:=reliable', '-p', 'overflow:=all')
    results = collect(DetectionArray, f'{ns}/detections')
    summaries = collect(StreamSummary, f'{ns}/detections/summary', latched())
    publisher = subprocess.Popen(
        python_node('image_publisher', '--loop', '--rate', '30', ns=ns),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    spin_until(rclpy_node, lambda: len(results.messages) >= 10, timeout=30)
    publisher.send_signal(getattr(signal, sig))
    printed = publisher.communicate(timeout=10)[0]
    assert publisher.returncode == 0, printed
    assert 'Traceback' not in printed and 'ERROR' not in printed, printed
    sent = int(re.search(r'image_publisher: (\d+) frames', printed).group(1))
    spin_until(rclpy_node, lambda: summaries.messages, timeout=30)
    summary = summaries.messages[0]
    assert (summary.frames_sent, summary.frames_received, summary.frames_processed,
            summary.complete) == (sent, sent, sent, True), printed
