"""vision_node for several cameras: one vision_node per camera, in the camera's namespace
(it reads /<camera>/image and publishes /<camera>/detections, /<camera>/annotated_image,
...), all configured by one parameters file:

    ros2 launch rust_vision cameras.launch.py cameras:='front rear left right'
    ros2 launch rust_vision cameras.launch.py cameras:='[front, rear]' image:=image_raw \\
        params_file:=/path/to/my_vision_node.yaml

Why one node per camera rather than one node for all: see the README (Several cameras).
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare


def camera_names(text):
    """Namespaces from 'a b', 'a,b' or the YAML list '[a, b]'."""
    names = text.strip().strip('[]').replace(',', ' ').split()
    if not names:
        raise ValueError('cameras: give at least one camera namespace')
    if len(set(names)) != len(names):
        raise ValueError(f'cameras: {text!r} names a camera twice')
    return [name.strip('\'"') for name in names]


def vision_nodes(context):
    cameras = camera_names(LaunchConfiguration('cameras').perform(context))
    return [
        Node(
            package='rust_vision',
            executable='vision_node',
            namespace=camera,
            parameters=[LaunchConfiguration('params_file'), {
                'qos': LaunchConfiguration('qos'),
                'overflow': LaunchConfiguration('overflow'),
            }],
            remappings=[('image', LaunchConfiguration('image'))],
            output='screen',
            respawn=LaunchConfiguration('respawn'),
            respawn_delay=1.0,
        )
        for camera in cameras
    ]


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument('cameras', default_value='camera',
                              description="camera namespaces: 'a b c', 'a,b,c' or '[a, b, c]'"),
        DeclareLaunchArgument('image', default_value='image',
                              description="each camera's image topic, under its namespace"),
        DeclareLaunchArgument(
            'params_file', description='the parameters file of every vision_node',
            default_value=PathJoinSubstitution(
                [FindPackageShare('rust_vision'), 'config', 'vision_node.yaml'])),
        DeclareLaunchArgument('qos', default_value='sensor_data',
                              description='image QoS: sensor_data (live cameras) or reliable'),
        DeclareLaunchArgument('overflow', default_value='latest',
                              description='full input queue: latest (drop the oldest) or all'),
        DeclareLaunchArgument('respawn', default_value='false',
                              description='true: start a vision_node again 1 s after it dies'),
        OpaqueFunction(function=vision_nodes),
    ])
