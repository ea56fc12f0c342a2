"""The ROS 2 package's files, statically: package.xml, and what the build installs."""

import ast
import xml.etree.ElementTree as ET

from conftest import installed, ROOT


def test_package_xml_is_a_format_3_interface_package():
    package = ET.parse(ROOT / 'package.xml').getroot()
    assert package.get('format') == '3'
    assert package.findtext('name') == 'rust_vision'
    assert package.findtext('member_of_group') == 'rosidl_interface_packages'
    assert package.find('export').findtext('build_type') == 'ament_cmake'
    depends = {e.text for e in package if e.tag.endswith('depend')}
    assert {'rclpy', 'sensor_msgs', 'std_msgs', 'rosidl_default_generators',
            'rosidl_default_runtime'} <= depends


def test_every_executable_is_installed_and_launch_files_parse():
    for executable in ('vision_node', 'image_publisher', 'results_subscriber'):
        assert installed(executable).stat().st_mode & 0o111, executable
    launch_files = sorted((ROOT / 'launch').glob('*.launch.py'))
    assert launch_files
    for path in launch_files:
        tree = ast.parse(path.read_text(), str(path))
        names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert 'generate_launch_description' in names, path
