"""The whole pipeline: image_publisher -> vision_node -> results_subscriber, and rviz.

    ros2 launch rust_vision pipeline.launch.py
    ros2 launch rust_vision pipeline.launch.py source:=/data/photos save_annotated:=/tmp/out
    ros2 launch rust_vision pipeline.launch.py source:=camera:0 qos:=sensor_data \\
        overflow:=latest rviz:=true
    ros2 launch rust_vision pipeline.launch.py source:=/data/4k large_images:=true

By default the photos of skimage.data go through OpenCV's frontal face cascade, reliable
and without drops; at their end the publisher sends an end of stream, vision_node its
summary, and results_subscriber its completeness report and exits, which ends the launch
(a source with loop:=true, or a camera, runs until Ctrl-C). rviz starts where rviz2 is
installed; elsewhere the launch says so and runs without it.
"""

from launch import LaunchDescription
from launch.actions import (DeclareLaunchArgument, EmitEvent, IncludeLaunchDescription,
                            LogInfo, OpaqueFunction, RegisterEventHandler,
                            SetEnvironmentVariable)
from launch.conditions import IfCondition
from launch.event_handlers import OnProcessExit
from launch.events import Shutdown
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import (LaunchConfiguration, PathJoinSubstitution,
                                  PythonExpression)
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare


def face_cascade():
    """OpenCV's frontal face cascade: opencv-python's copy, else the Debian/Ubuntu one."""
    try:
        import cv2
        return cv2.data.haarcascades + 'haarcascade_frontalface_default.xml'
    except (ImportError, AttributeError):
        return '/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml'


def large_images_profile():
    """Every process of the launch loads config/fastdds_large_images.xml (Fast DDS 2
    reads the first variable, Fast DDS 3 the second) when `large_images` is true."""
    profile = PathJoinSubstitution(
        [FindPackageShare('rust_vision'), 'config', 'fastdds_large_images.xml'])
    wanted = IfCondition(LaunchConfiguration('large_images'))
    return [SetEnvironmentVariable(variable, profile, condition=wanted)
            for variable in ('FASTRTPS_DEFAULT_PROFILES_FILE', 'FASTDDS_DEFAULT_PROFILES_FILE')]


def rviz(context):
    """rviz2 with rviz/pipeline.rviz when asked for (rviz:=true) and installed. Were it
    started without being installed, launch would fail and leave the nodes it had started
    running; instead it says what is missing and goes on without it."""
    if LaunchConfiguration('rviz').perform(context).lower() not in ('true', '1'):
        return []
    try:
        from ament_index_python.packages import get_package_share_directory
        get_package_share_directory('rviz2')
    except (ImportError, LookupError):
        return [LogInfo(msg='rviz2 is not installed (on Ubuntu: apt install '
                            'ros-$ROS_DISTRO-rviz2); running without it (rviz:=false '
                            'to say so)')]
    return [Node(
        package='rviz2',
        executable='rviz2',
        namespace=LaunchConfiguration('namespace'),
        arguments=['-d', PathJoinSubstitution(
            [FindPackageShare('rust_vision'), 'rviz', 'pipeline.rviz'])],
        remappings=[('image', LaunchConfiguration('image'))],
    )]


def end_with(subscriber):
    """The launch ends when results_subscriber does: after the completeness report of a
    finite stream (a looping source or a camera never ends its stream)."""
    return RegisterEventHandler(OnProcessExit(target_action=subscriber, on_exit=[
        LogInfo(msg='results_subscriber has ended; stopping the pipeline'),
        EmitEvent(event=Shutdown(reason='the stream is summarised')),
    ]))


def generate_launch_description():
    namespace = LaunchConfiguration('namespace')
    image = LaunchConfiguration('image')
    qos = LaunchConfiguration('qos')
    subscriber = Node(
        package='rust_vision',
        executable='results_subscriber',
        namespace=namespace,
        arguments=['--qos', qos, '--save-annotated', LaunchConfiguration('save_annotated')],
        output='screen',
    )
    return LaunchDescription([
        DeclareLaunchArgument('namespace', default_value='',
                              description='namespace of the three nodes'),
        DeclareLaunchArgument('image', default_value='image',
                              description='image topic between publisher and vision_node'),
        DeclareLaunchArgument('source', default_value='skimage',
                              description='synthetic, skimage, a folder of images, a video '
                                          'file or camera:<n>'),
        DeclareLaunchArgument('rate', default_value='2.0',
                              description='frames per second; 0 for as fast as possible'),
        DeclareLaunchArgument('loop', default_value='false',
                              description='true: start the source again at its end'),
        DeclareLaunchArgument('compress', default_value='none',
                              description='publish raw (none) or jpeg or png'),
        DeclareLaunchArgument('qos', default_value='reliable',
                              description='publisher and vision_node QoS: reliable or '
                                          'sensor_data'),
        DeclareLaunchArgument('overflow', default_value='all',
                              description='vision_node full input queue: all (wait) or '
                                          'latest (drop the oldest)'),
        DeclareLaunchArgument('detector', default_value='cascade',
                              description='blobs, cascade or onnx'),
        DeclareLaunchArgument('cascade_model', default_value=face_cascade(),
                              description='detector cascade: OpenCV cascade XML file'),
        DeclareLaunchArgument('onnx_model', default_value='',
                              description='detector onnx: YOLO model file'),
        DeclareLaunchArgument('onnx_labels', default_value='',
                              description='detector onnx: labels file (empty: metadata)'),
        DeclareLaunchArgument('classifier', default_value='none',
                              description='none, color, cascade or onnx'),
        DeclareLaunchArgument('classifier_model', default_value='',
                              description='classifier cascade or onnx: model file'),
        DeclareLaunchArgument('save_annotated', default_value='',
                              description='folder for the annotated frames (empty: none)'),
        DeclareLaunchArgument('rviz', default_value='true',
                              description='start rviz with the raw and annotated images '
                                          '(where rviz2 is installed)'),
        DeclareLaunchArgument('large_images', default_value='false',
                              description='true: Fast DDS profile for frames of 1080p and '
                                          'up (config/fastdds_large_images.xml)'),
        *large_images_profile(),
        Node(
            package='rust_vision',
            executable='image_publisher',
            namespace=namespace,
            arguments=['--source', LaunchConfiguration('source'),
                       '--rate', LaunchConfiguration('rate'),
                       '--compress', LaunchConfiguration('compress'),
                       '--qos', qos,
                       PythonExpression(["'--loop' if '", LaunchConfiguration('loop'),
                                         "'.lower() == 'true' else '--no-loop'"])],
            remappings=[('image', image)],
            output='screen',
        ),
        # vision_node as vision.launch.py starts it (parameters file first, then these).
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(PathJoinSubstitution(
                [FindPackageShare('rust_vision'), 'launch', 'vision.launch.py'])),
            launch_arguments={
                'namespace': namespace,
                'image': image,
                'qos': qos,
                'transport': 'both',
                'overflow': LaunchConfiguration('overflow'),
                'detector': LaunchConfiguration('detector'),
                'cascade_model': LaunchConfiguration('cascade_model'),
                'onnx_model': LaunchConfiguration('onnx_model'),
                'onnx_labels': LaunchConfiguration('onnx_labels'),
                'classifier': LaunchConfiguration('classifier'),
                'classifier_model': LaunchConfiguration('classifier_model'),
            }.items(),
        ),
        subscriber,
        end_with(subscriber),
        OpaqueFunction(function=rviz),
    ])
