"""Two hosts: network namespaces joined by a veth pair, as two machines on one subnet.
image_publisher and results_subscriber run on host A, vision_node on host B; every frame
crosses the link over UDP (config/fastdds_network.xml: no shared memory), and N frames
in give N results out, at 640x480 and 1080p. Discovery is by multicast on the subnet,
as ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET has it.

Needs root (CI runs as root); elsewhere it skips, saying why."""
import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import DOMAIN_ID, ROOT, installed, python_node, ros_only_env

PROFILE = ROOT / 'config' / 'fastdds_network.xml'
FRAMES = 20


def ip(*args, check=True):
    return subprocess.run(['ip', *args], capture_output=True, text=True, check=check)


@pytest.fixture
def hosts():
    """Two namespaces, A (10.77.<d>.1) and B (10.77.<d>.2), on one veth link, each
    with a default route over it (so multicast goes out on it), named after this run's
    domain so that parallel runs do not collide."""
    if os.geteuid() != 0:
        pytest.skip('two hosts need network namespaces: run as root (CI does)')
    names = (f'rv{DOMAIN_ID}a', f'rv{DOMAIN_ID}b')
    for name in names:
        ip('netns', 'delete', name, check=False)
    made = ip('netns', 'add', names[0], check=False)
    if made.returncode != 0:
        pytest.skip(f'cannot create a network namespace: {made.stderr.strip()}')
    try:
        ip('netns', 'add', names[1])
        ip('link', 'add', 'rvveth0', 'netns', names[0], 'type', 'veth',
           'peer', 'rvveth1', 'netns', names[1])
        for i, name in enumerate(names):
            link = f'rvveth{i}'
            ip('-n', name, 'link', 'set', 'lo', 'up')
            ip('-n', name, 'addr', 'add', f'10.77.{DOMAIN_ID}.{i + 1}/24', 'dev', link)
            ip('-n', name, 'link', 'set', link, 'up')
            ip('-n', name, 'route', 'add', 'default', 'dev', link)
        yield names
    finally:
        for name in names:
            ip('netns', 'delete', name, check=False)


def sent_bytes(host, link):
    """Bytes `link` of `host` has sent."""
    stats = json.loads(ip('-n', host, '-s', '-j', 'link', 'show', link).stdout)
    return stats[0]['stats64']['tx']['bytes']


def on(host, *command):
    """`command` as run on `host`."""
    return ['ip', 'netns', 'exec', host, *map(str, command)]


def network_env(env):
    """`env` as a user sets it for a pipeline across hosts."""
    return dict(env, ROS_AUTOMATIC_DISCOVERY_RANGE='SUBNET',
                FASTRTPS_DEFAULT_PROFILES_FILE=str(PROFILE),
                FASTDDS_DEFAULT_PROFILES_FILE=str(PROFILE))


@pytest.mark.parametrize('width, height', [(640, 480), (1920, 1080)])
def test_frames_cross_to_another_host_and_back(hosts, width, height, tmp_path):
    a, b = hosts
    env = network_env(os.environ)
    ns = f'/hosts_{height}'
    log = open(tmp_path / 'vision_node.log', 'w')
    node = subprocess.Popen(
        on(b, installed('vision_node'), '--ros-args', '-r', f'__ns:={ns}',
           '-p', 'qos:=reliable', '-p', 'overflow:=all'),
        env=network_env(ros_only_env()),
        stdout=log, stderr=subprocess.STDOUT)
    subscriber = subprocess.Popen(
        on(a, *python_node('results_subscriber', '--quiet', '--exit-at-end', ns=ns)),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = subscriber.stdout.readline()
        assert 'subscribed to' in first, first + Path(log.name).read_text()
        publisher = subprocess.run(
            on(a, *python_node('image_publisher', '--width', width, '--height', height,
                               '--count', FRAMES, '--rate', 5, '--wait-for-subscribers', 30,
                               ns=ns)),
            env=env, capture_output=True, text=True, timeout=120)
        assert publisher.returncode == 0, publisher.stderr
        printed = subscriber.communicate(timeout=120)[0]
        crossed = sent_bytes(a, 'rvveth0')
    finally:
        subscriber.kill()
        node.terminate()
        node.wait(timeout=10)
        log.close()
    output = Path(log.name).read_text()
    print(printed)
    assert subscriber.returncode == 0, printed + output
    assert (f'{FRAMES} frames sent, {FRAMES} received by vision_node, {FRAMES} processed, '
            f'0 failed, 0 dropped, 0 lost in transport; {FRAMES} results received here, '
            '0 frames missing, 0 duplicates: complete') in printed, printed + output
    assert node.returncode == 0 and 'ERROR' not in output, output
    # Every frame went over the link (UDP), none through shared memory.
    assert crossed >= FRAMES * width * height * 3, crossed
