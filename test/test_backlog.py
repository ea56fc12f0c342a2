"""vision_node behind its publisher under overflow all: the node's services and
diagnostics answer while frames wait, and the frames that wait are held within the
documented bound: the pipeline's queues, and the image reader's history as the shipped
Fast DDS profile caps it (the publisher keeps the rest)."""

import statistics
import subprocess
import time

import cv2
from conftest import ROOT, python_node, spin_until, spin_until_time
from rust_vision.msg import DetectionArray

FACES = cv2.data.haarcascades + 'haarcascade_frontalface_default.xml'
# The reader cap of config/fastdds_large_images.xml, frames; and what the pipeline holds
# at the defaults (input_queue 4 + 2 x stage_queue 2 + 2 x detect_workers 1 + 2: README).
READER_CAP, PIPELINE_FRAMES = 8, 12


def rss_mib(pid):
    with open(f'/proc/{pid}/status') as status:
        line = next(line for line in status if line.startswith('VmRSS'))
    return int(line.split()[1]) / 1024


def ready_client(node, srv_type, name, request):
    """A client of `name` whose first answer came (Fast DDS may lose the answers to
    requests sent before the server's response writer matched us)."""
    client = node.create_client(srv_type, name)
    spin_until(node, client.service_is_ready)
    spin_until(node, lambda: answer_time(node, client, request, timeout=2.0))
    return client


def answer_time(node, client, request, timeout=10.0):
    """Seconds from a request to its answer; None if none came within `timeout`."""
    start = time.monotonic()
    future = client.call_async(request)
    while not future.done() and time.monotonic() - start < timeout:
        spin_until_time(node, 0.005)
    if future.done():
        return time.monotonic() - start
    client.remove_pending_request(future)
    return None


def test_a_node_behind_answers_and_holds_a_bounded_backlog(
        vision_node, rclpy_node, collect, monkeypatch, tmp_path):
    from diagnostic_msgs.msg import DiagnosticArray
    from rcl_interfaces.srv import GetParameters
    from std_srvs.srv import SetBool

    ns, count = '/backlog', 60
    # The shipped profile, its reader named for this topic, as the README says to do for
    # a remapped one; every process loads it.
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
    diagnostics = []
    watch = rclpy_node.create_subscription(
        DiagnosticArray, '/diagnostics',
        lambda m: diagnostics.extend(
            (time.monotonic(), s) for s in m.status if s.name == f'{ns}/vision_node: pipeline'),
        10)
    parameters = ready_client(rclpy_node, GetParameters, f'{ns}/vision_node/get_parameters',
                              GetParameters.Request(names=['overflow']))
    enable = ready_client(rclpy_node, SetBool, f'{ns}/vision_node/enable',
                          SetBool.Request(data=True))
    results.wait_matched(rclpy_node)
    before = rss_mib(node.proc.pid)
    publisher = subprocess.Popen(
        python_node('image_publisher', '--width', '1920', '--height', '1080', '--count',
                    str(count), '--rate', '0', '--qos', 'keep_all', ns=ns),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        answers, peak, behind = [], before, 0
        deadline = time.monotonic() + 180
        while len(results.messages) < count and time.monotonic() < deadline:
            answers += [answer_time(rclpy_node, parameters, GetParameters.Request(
                names=['overflow'])), answer_time(rclpy_node, enable, SetBool.Request(
                    data=True))]
            peak = max(peak, rss_mib(node.proc.pid))
            behind += 1
            spin_until_time(rclpy_node, 0.1)
        printed = publisher.communicate(timeout=180)[0]
    finally:
        publisher.kill()
        rclpy_node.destroy_subscription(watch)
        rclpy_node.destroy_client(parameters)
        rclpy_node.destroy_client(enable)
    assert publisher.returncode == 0, printed
    assert len(results.messages) == count, node.output()
    assert None not in answers, f'a request went unanswered for 10 s: {answers}'
    during = [s for t, s in diagnostics if any(
        kv.key == 'queue depths (input, classify, output)' and kv.value.startswith('4,')
        for kv in s.values)]
    frame = 1920 * 1080 * 3 / 2**20
    print(f'\nbehind {behind} rounds: parameters and enable answered in median '
          f'{statistics.median(answers) * 1000:.1f} ms, max {max(answers) * 1000:.1f} ms; '
          f'{len(during)} diagnostics with the input queue full; vision_node RSS '
          f'{before:.0f} -> {peak:.0f} MiB (+{(peak - before) / frame:.1f} frames)')
    assert max(answers) < 1.0, answers  # the whole backlog (tens of seconds) before
    assert len(during) >= 2, 'diagnostics went on while the node was behind'
    # Frames held: the pipeline's, the reader's, the one being handed over, each raw and
    # decoded at most; and 64 MiB of the profile's shared-memory segment.
    assert peak - before < 2 * (PIPELINE_FRAMES + READER_CAP + 1) * frame + 64, \
        f'{before} -> {peak} MiB'
