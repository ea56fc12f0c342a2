"""Static checks of the launch and parameter files (no launch_ros in the registries):
each file parses, and every executable, parameter name, remapping and launch argument
it uses exists."""
import ast
import re
import subprocess

import pytest
import yaml

from conftest import ROOT, installed, ros_only_env

LAUNCH_FILES = sorted((ROOT / 'launch').glob('*.launch.py'))

# Topics each executable subscribes or publishes under a relative name (remappable). The
# derived ones (image/compressed, image/end_of_stream, detections/summary) follow `image`
# and `detections` when those are remapped.
TOPICS = {
    'vision_node': {'image', 'image/compressed', 'detections', 'annotated_image'},
    'image_publisher': {'image'},
    'results_subscriber': {'detections', 'annotated_image'},
}


def declared_parameters():
    """name -> default, from what vision_node declares (--print-defaults)."""
    out = subprocess.run([str(installed('vision_node')), '--print-defaults'],
                         env=ros_only_env(), capture_output=True, text=True, check=True)
    return yaml.safe_load(out.stdout)['vision_node']['ros__parameters'], out.stdout


def installed_executables():
    cmake = (ROOT / 'CMakeLists.txt').read_text()
    return set(re.findall(r'RENAME (\w+)', cmake)) | {'vision_node'}


def test_parameter_file_holds_every_default():
    params, text = declared_parameters()
    assert (ROOT / 'config' / 'vision_node.yaml').read_text() == text, \
        'config/vision_node.yaml is stale: vision_node --print-defaults > config/vision_node.yaml'
    assert params['qos'] == 'sensor_data' and params['cascade.scale_factor'] == 1.1


def literal(node):
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def calls(tree, name):
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)
            and getattr(n.func, 'id', getattr(n.func, 'attr', None)) == name]


def check_launch_file(path):
    tree = ast.parse(path.read_text(), str(path))
    assert calls(tree, 'generate_launch_description') or any(
        isinstance(n, ast.FunctionDef) and n.name == 'generate_launch_description'
        for n in ast.walk(tree))
    arguments = {literal(c.args[0]) for c in calls(tree, 'DeclareLaunchArgument')}
    for use in calls(tree, 'LaunchConfiguration'):
        assert literal(use.args[0]) in arguments, f'undeclared argument {ast.dump(use)}'
    params, _ = declared_parameters()
    nodes = calls(tree, 'Node')
    assert nodes
    for node in nodes:
        kw = {k.arg: k.value for k in node.keywords}
        assert literal(kw['package']) == 'rust_vision'
        executable = literal(kw['executable'])
        assert executable in installed_executables(), executable
        if executable == 'vision_node':
            for entry in getattr(kw.get('parameters'), 'elts', []):
                if isinstance(entry, ast.Dict):
                    for key in entry.keys:
                        assert literal(key) in params, f'{path.name}: no parameter {literal(key)}'
        for pair in getattr(kw.get('remappings'), 'elts', []):
            source = literal(pair.elts[0])
            assert source in TOPICS.get(executable, {source}), \
                f'{path.name}: {executable} has no topic {source}'


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=[p.name for p in LAUNCH_FILES])
def test_launch_file_uses_what_exists(path):
    check_launch_file(path)


@pytest.mark.parametrize('change,complaint', [
    (("'qos': LaunchConfiguration('qos')", "'qos_typo': LaunchConfiguration('qos')"),
     'no parameter qos_typo'),
    (("executable='vision_node'", "executable='vision_nod'"), 'vision_nod'),
    (("('image', LaunchConfiguration('image'))", "('images', LaunchConfiguration('image'))"),
     'has no topic images'),
    (("LaunchConfiguration('namespace')", "LaunchConfiguration('ns')"), 'undeclared'),
])
def test_the_check_finds_mistakes(tmp_path, change, complaint):
    text = (ROOT / 'launch' / 'vision.launch.py').read_text()
    assert change[0] in text
    bad = tmp_path / 'bad.launch.py'
    bad.write_text(text.replace(change[0], change[1]))
    with pytest.raises(AssertionError, match=complaint):
        check_launch_file(bad)
