"""vision_node behind its publisher under overflow all: the node's services and
diagnostics answer while frames wait, and the frames that wait are held within the
documented bound: the pipeline's queues, and the image reader's history as the shipped
Fast DDS profile caps it (a keep-all publisher keeps the rest)."""

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cv2
from conftest import ROOT, die_with_parent, python_node, spin_until_time
from rust_vision.msg import DetectionArray

FACES = cv2.data.haarcascades + 'haarcascade_frontalface_default.xml'
# The reader cap of config/fastdds_large_images.xml, frames; and what the pipeline holds
# at the defaults (input_queue 4 + 2 x stage_queue 2 + 2 x detect_workers 1 + 2: README).
READER_CAP, PIPELINE_FRAMES = 8, 12


def rss_mib(pid):
    with open(f'/proc/{pid}/status') as status:
        line = next(line for line in status if line.startswith('VmRSS'))
    return int(line.split()[1]) / 1024


def start(*command):
    """A process of the test's (it dies with it), talked to through pipes."""
    return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, preexec_fn=die_with_parent)


def test_a_node_behind_answers_and_holds_a_bounded_backlog(
        vision_node, rclpy_node, collect, monkeypatch, tmp_path):
    from diagnostic_msgs.msg import DiagnosticArray

    ns, count = '/backlog', 60
    # The shipped profile, its reader named for this topic, as the README says to do for
    # a remapped one; every process but this one (started before) loads it.
    shipped = (ROOT / 'config' / 'fastdds_large_images.xml').read_text()
    assert f'<max_samples>{READER_CAP}</max_samples>' in shipped
    profile = tmp_path / 'profile.xml'
    profile.write_text(shipped.replace('profile_name="/image"', f'profile_name="{ns}/image"'))
    for variable in ('FASTRTPS_DEFAULT_PROFILES_FILE', 'FASTDDS_DEFAULT_PROFILES_FILE'):
        monkeypatch.setenv(variable, str(profile))
    # About 10 frames a second at 1080p here, several times slower than the publisher.
    node = vision_node('-r', f'__ns:={ns}', '-p', 'qos:=reliable', '-p', 'overflow:=all',
                       '-p', 'detector:=cascade', '-p', f'cascade.model:={FACES}',
                       '-p', 'cascade.scale_factor:=1.05')
    results = collect(DetectionArray, f'{ns}/detections')
    diagnostics = collect(DiagnosticArray, '/diagnostics')
    results.wait_matched(rclpy_node)
    # A user's `ros2 param get` and `ros2 service call`, timed.
    prober = start(sys.executable, str(Path(__file__).parent / 'answer_times.py'),
                   f'{ns}/vision_node')
    publisher = None
    try:
        assert prober.stdout.readline() == 'ready\n', prober.communicate(timeout=10)[0]
        before = peak = rss_mib(node.proc.pid)
        publisher = start(*python_node(
            'image_publisher', '--width', '1920', '--height', '1080', '--count', str(count),
            '--rate', '0', '--qos', 'keep_all', ns=ns))
        deadline = time.monotonic() + 180
        while len(results.messages) < count and time.monotonic() < deadline:
            peak = max(peak, rss_mib(node.proc.pid))
            spin_until_time(rclpy_node, 0.1)
        answers = json.loads(prober.communicate('', timeout=30)[0].splitlines()[-1])
        printed = publisher.communicate(timeout=180)[0]
    finally:
        for process in (prober, publisher):
            if process:
                process.kill()
                process.wait()
    assert publisher.returncode == 0, printed
    assert len(results.messages) == count, node.output()
    assert answers and None not in answers, f'a request went unanswered for 10 s: {answers}'
    during = [s for m in diagnostics.messages for s in m.status
              if s.name == f'{ns}/vision_node: pipeline' and any(
                  kv.key == 'queue depths (input, classify, output)'
                  and kv.value.startswith('4,') for kv in s.values)]
    frame = 1920 * 1080 * 3 / 2**20
    print(f'\nbehind: {len(answers)} calls of get_parameters and enable answered in median '
          f'{statistics.median(answers) * 1000:.1f} ms, max {max(answers) * 1000:.1f} ms; '
          f'{len(during)} diagnostics with the input queue full; vision_node RSS '
          f'{before:.0f} -> {peak:.0f} MiB (+{(peak - before) / frame:.1f} frames)')
    assert max(answers) < 1.0, answers  # the whole backlog (tens of seconds) before
    assert len(during) >= 2, 'diagnostics went on while the node was behind'
    # Frames held: the pipeline's, the reader's, the one being handed over, each raw and
    # decoded at most; and 64 MiB of the profile's shared-memory segment.
    assert peak - before < 2 * (PIPELINE_FRAMES + READER_CAP + 1) * frame + 64, \
        f'{before} -> {peak} MiB'
