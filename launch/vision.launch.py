"""vision_node alone, behind a camera driver: ros2 launch rust_vision vision.launch.py

Arguments: namespace, image (the input topic), qos (sensor_data | reliable).
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument('namespace', default_value='', description='node namespace'),
        DeclareLaunchArgument('image', default_value='image',
                              description='input sensor_msgs/Image topic'),
        DeclareLaunchArgument('qos', default_value='sensor_data',
                              description='image subscription QoS: sensor_data or reliable'),
        Node(
            package='rust_vision',
            executable='vision_node',
            namespace=LaunchConfiguration('namespace'),
            parameters=[{'qos': LaunchConfiguration('qos')}],
            remappings=[('image', LaunchConfiguration('image'))],
            output='screen',
        ),
    ])
