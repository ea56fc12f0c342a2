"""Static checks of the launch, parameter and rviz files (no launch_ros or rviz in the
registries): each file parses, and every executable, command-line option, parameter name,
remapping, launch argument and installed file it uses exists."""
import ast
import functools
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import yaml

from conftest import ROOT, installed, ros_only_env

LAUNCH_FILES = sorted((ROOT / 'launch').glob('*.launch.py'))
XML_LAUNCH_FILES = sorted((ROOT / 'launch').glob('*.launch.xml'))

# Topics each executable subscribes or publishes under a relative name (remappable). The
# derived ones (image/compressed, image/end_of_stream, detections/summary) follow `image`
# and `detections` when those are remapped.
TOPICS = {
    'vision_node': {'image', 'image/compressed', 'detections', 'annotated_image',
                    'status_marker'},
    'image_publisher': {'image'},
    'results_subscriber': {'detections', 'annotated_image'},
    'rviz2': {'image'},  # as named in rviz/pipeline.rviz
}
# Packages other than this one that launch files may start nodes of: exec_depends.
EXTERNAL = set(re.findall(r'<exec_depend>(\w+)</exec_depend>',
                          (ROOT / 'package.xml').read_text())) - {'launch', 'launch_ros'}


def declared_parameters():
    """name -> default, from what vision_node declares (--print-defaults)."""
    out = subprocess.run([str(installed('vision_node')), '--print-defaults'],
                         env=ros_only_env(), capture_output=True, text=True, check=True)
    return yaml.safe_load(out.stdout)['/**']['ros__parameters'], out.stdout


def installed_executables():
    cmake = (ROOT / 'CMakeLists.txt').read_text()
    return set(re.findall(r'RENAME (\w+)', cmake)) | {'vision_node'}


def installed_share_dirs():
    cmake = (ROOT / 'CMakeLists.txt').read_text()
    dirs = re.search(r'install\(DIRECTORY ([\w ]+) DESTINATION share', cmake).group(1)
    return set(dirs.split())


@functools.cache
def options(executable):
    """The command-line options of a Python node, from its --help."""
    out = subprocess.run([sys.executable, str(ROOT / 'python_nodes' / f'{executable}.py'),
                          '--help'], capture_output=True, text=True, check=True).stdout
    return set(re.findall(r'--[\w-]+', out))


def check_node(where, package, executable, parameters, remaps, flags):
    """One node of a launch file: the executable exists, and so does every parameter
    name, remapped topic and command-line option it is given."""
    if package != 'rust_vision':
        assert package in EXTERNAL, f'{where}: package {package} is not an exec_depend'
    else:
        assert executable in installed_executables(), f'{where}: no executable {executable}'
    if executable == 'vision_node':
        declared, _ = declared_parameters()
        for name in parameters:
            assert name in declared, f'{where}: no parameter {name}'
    for topic in remaps:
        assert topic in TOPICS.get(executable, {topic}), \
            f'{where}: {executable} has no topic {topic}'
    if executable in ('image_publisher', 'results_subscriber'):
        for flag in flags:
            assert flag in options(executable), f'{where}: {executable} has no option {flag}'


def check_share_path(where, parts):
    """A file of this package's share directory: installed, and in the source tree."""
    assert parts[0] in installed_share_dirs(), f'{where}: {parts[0]} is not installed'
    assert (ROOT.joinpath(*parts)).is_file(), f'{where}: no file {"/".join(parts)}'


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
    nodes = calls(tree, 'Node')
    assert nodes
    for node in nodes:
        kw = {k.arg: k.value for k in node.keywords}
        parameters = [literal(key) for entry in getattr(kw.get('parameters'), 'elts', [])
                      if isinstance(entry, ast.Dict) for key in entry.keys]
        remaps = [literal(pair.elts[0]) for pair in getattr(kw.get('remappings'), 'elts', [])]
        flags = [a for a in map(literal, getattr(kw.get('arguments'), 'elts', []))
                 if isinstance(a, str) and a.startswith('--')]
        for expression in calls(node, 'PythonExpression'):  # '--loop' if ... else '--no-loop'
            flags += re.findall(r"'(--[\w-]+)'", ast.unparse(expression))
        check_node(path.name, literal(kw['package']), literal(kw['executable']),
                   parameters, remaps, flags)
    for join in calls(tree, 'PathJoinSubstitution'):
        parts = join.args[0].elts
        if calls(parts[0], 'FindPackageShare'):
            check_share_path(path.name, [literal(p) for p in parts[1:]])
    for include in calls(tree, 'IncludeLaunchDescription'):
        # An included launch file of this package: it declares every argument passed.
        parts = calls(include, 'PathJoinSubstitution')[0].args[0].elts
        included = ast.parse(ROOT.joinpath(*[literal(p) for p in parts[1:]]).read_text())
        declared = {literal(c.args[0]) for c in calls(included, 'DeclareLaunchArgument')}
        passed = {k.arg: k.value for k in include.keywords}['launch_arguments'].func.value
        for key in map(literal, passed.keys):
            assert key in declared, f'{path.name}: the included file declares no {key}'


def check_xml_launch_file(path):
    root = ET.parse(path).getroot()
    assert root.tag == 'launch'
    arguments = {arg.get('name') for arg in root.iter('arg')}
    for element in root.iter():
        for value in element.attrib.values():
            for name in re.findall(r'\$\(var (\w+)\)', value):
                assert name in arguments, f'{path.name}: undeclared argument {name}'
            for share in re.findall(r'\$\(find-pkg-share rust_vision\)/([\w./]+)', value):
                check_share_path(path.name, share.split('/'))
    nodes = list(root.iter('node'))
    assert nodes
    for node in nodes:
        flags = [a for a in (node.get('args') or '').split() if a.startswith('--')]
        check_node(path.name, node.get('pkg'), node.get('exec'),
                   [p.get('name') for p in node.iter('param') if p.get('name')],
                   [r.get('from') for r in node.iter('remap')], flags)


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=[p.name for p in LAUNCH_FILES])
def test_launch_file_uses_what_exists(path):
    check_launch_file(path)


@pytest.mark.parametrize('path', XML_LAUNCH_FILES, ids=[p.name for p in XML_LAUNCH_FILES])
def test_xml_launch_file_uses_what_exists(path):
    check_xml_launch_file(path)


def test_the_pipeline_ends_with_its_stream_and_rviz_only_where_installed():
    """No registry has launch: the event handler and the rviz check are read, not run
    (checked by hand with ros2/launch 3.4.3: a finite stream ends the launch; Ctrl-C
    ends every process with status 0; without rviz2 the launch says so and goes on)."""
    tree = ast.parse((ROOT / 'launch' / 'pipeline.launch.py').read_text())
    [handler] = calls(tree, 'OnProcessExit')
    target = {k.arg: k.value for k in handler.keywords}['target_action']
    subscriber = next(n for n in ast.walk(tree) if isinstance(n, ast.Assign)
                      and n.targets[0].id == 'subscriber' and calls(n, 'Node'))
    assert literal({k.arg: k.value for k in calls(subscriber, 'Node')[0].keywords}[
        'executable']) == 'results_subscriber'
    assert ast.unparse(target) == 'subscriber'
    assert [ast.unparse(c.args[0]) for c in calls(tree, 'end_with')] == ['subscriber']
    assert calls(handler, 'Shutdown')
    rviz = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == 'rviz')
    assert "get_package_share_directory('rviz2')" in ast.unparse(rviz)
    assert [literal(k.value) for c in calls(rviz, 'Node') for k in c.keywords
            if k.arg == 'package'] == ['rviz2']


def test_python_and_xml_twins_declare_the_same_arguments():
    for xml in XML_LAUNCH_FILES:
        python = xml.with_suffix('.py')
        tree = ast.parse(python.read_text())
        declared = {literal(c.args[0]) for c in calls(tree, 'DeclareLaunchArgument')}
        assert declared == {a.get('name') for a in ET.parse(xml).getroot().iter('arg')}


def test_rviz_config_shows_what_the_pipeline_publishes():
    config = yaml.safe_load((ROOT / 'rviz' / 'pipeline.rviz').read_text())
    displays = config['Visualization Manager']['Displays']
    topics = {d['Topic']['Value']: d['Class'] for d in displays}
    assert topics == {'image': 'rviz_default_plugins/Image',
                      'annotated_image': 'rviz_default_plugins/Image',
                      'status_marker': 'rviz_default_plugins/Marker'}
    assert set(topics) <= TOPICS['vision_node']
    # The marker is drawn in the images' frame: image_publisher's default frame_id.
    fixed = config['Visualization Manager']['Global Options']['Fixed Frame']
    help_text = subprocess.run(
        [sys.executable, str(ROOT / 'python_nodes' / 'image_publisher.py'), '--help'],
        capture_output=True, text=True, check=True).stdout
    assert f'({fixed})' in help_text.rsplit('--frame-id FRAME_ID', 1)[1].split('--')[0]


MUTATIONS = [
    ('vision.launch.py', "'qos': LaunchConfiguration('qos')",
     "'qos_typo': LaunchConfiguration('qos')", 'no parameter qos_typo'),
    ('vision.launch.py', "executable='vision_node'", "executable='vision_nod'", 'vision_nod'),
    ('vision.launch.py', "('image', LaunchConfiguration('image'))",
     "('images', LaunchConfiguration('image'))", 'has no topic images'),
    ('vision.launch.py', "LaunchConfiguration('namespace')", "LaunchConfiguration('ns')",
     'undeclared'),
    ('vision.launch.xml', 'name="cascade.model"', 'name="cascade.modle"',
     'no parameter cascade.modle'),
    ('vision.launch.xml', 'exec="vision_node"', 'exec="visionnode"',
     'no executable visionnode'),
    ('vision.launch.xml', 'from="image"', 'from="img"', 'has no topic img'),
    ('vision.launch.xml', '$(var qos)', '$(var q)', 'undeclared argument q'),
    ('vision.launch.xml', 'config/vision_node.yaml', 'config/vision.yaml',
     'no file config/vision.yaml'),
    ('pipeline.launch.py', "'--rate'", "'--rates'", 'image_publisher has no option --rates'),
    ('pipeline.launch.py', "'detector': LaunchConfiguration('detector')",
     "'detectr': LaunchConfiguration('detector')", 'the included file declares no detectr'),
]


@pytest.mark.parametrize('name,before,after,complaint', MUTATIONS)
def test_the_checks_find_mistakes(tmp_path, name, before, after, complaint):
    text = (ROOT / 'launch' / name).read_text()
    assert before in text
    bad = tmp_path / f'bad.{name.split(".", 1)[1]}'
    bad.write_text(text.replace(before, after))
    check = check_xml_launch_file if name.endswith('.xml') else check_launch_file
    with pytest.raises(AssertionError, match=complaint):
        check(bad)
