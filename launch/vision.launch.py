"""vision_node alone, behind a camera driver:

    ros2 launch rust_vision vision.launch.py image:=/camera/image_raw
    ros2 launch rust_vision vision.launch.py detector:=cascade \\
        cascade_model:=/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml

Parameters come from params_file (by default the installed config/vision_node.yaml: every
default), then from the arguments. With respawn:=true, launch starts vision_node again
1 s after it dies (the README's "Restarts and shutdown" says what a restart costs).
vision.launch.xml is the same launch in XML.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument('namespace', default_value='', description='node namespace'),
        DeclareLaunchArgument('image', default_value='image',
                              description='input sensor_msgs/Image topic'),
        DeclareLaunchArgument(
            'params_file', description='vision_node parameters file',
            default_value=PathJoinSubstitution(
                [FindPackageShare('rust_vision'), 'config', 'vision_node.yaml'])),
        DeclareLaunchArgument('qos', default_value='sensor_data',
                              description='image QoS: sensor_data (live cameras) or reliable'),
        DeclareLaunchArgument('transport', default_value='raw',
                              description='raw (image), compressed (image/compressed) or both'),
        DeclareLaunchArgument('overflow', default_value='latest',
                              description='full input queue: latest (drop the oldest) or all'),
        DeclareLaunchArgument('detector', default_value='blobs',
                              description='blobs, cascade or onnx'),
        DeclareLaunchArgument('cascade_model', default_value='',
                              description='detector cascade: OpenCV cascade XML file'),
        DeclareLaunchArgument('onnx_model', default_value='',
                              description='detector onnx: YOLO model file'),
        DeclareLaunchArgument('onnx_labels', default_value='',
                              description='detector onnx: labels file (empty: metadata)'),
        DeclareLaunchArgument('classifier', default_value='none',
                              description='none, color, cascade or onnx'),
        DeclareLaunchArgument('classifier_model', default_value='',
                              description='classifier cascade or onnx: model file'),
        DeclareLaunchArgument('respawn', default_value='false',
                              description='true: start vision_node again 1 s after it dies'),
        Node(
            package='rust_vision',
            executable='vision_node',
            namespace=LaunchConfiguration('namespace'),
            parameters=[LaunchConfiguration('params_file'), {
                'qos': LaunchConfiguration('qos'),
                'transport': LaunchConfiguration('transport'),
                'overflow': LaunchConfiguration('overflow'),
                'detector': LaunchConfiguration('detector'),
                'cascade.model': LaunchConfiguration('cascade_model'),
                'onnx.model': LaunchConfiguration('onnx_model'),
                'onnx.labels': LaunchConfiguration('onnx_labels'),
                'classifier': LaunchConfiguration('classifier'),
                'classifier_model': LaunchConfiguration('classifier_model'),
            }],
            remappings=[('image', LaunchConfiguration('image'))],
            output='screen',
            respawn=LaunchConfiguration('respawn'),
            respawn_delay=1.0,
        ),
    ])
