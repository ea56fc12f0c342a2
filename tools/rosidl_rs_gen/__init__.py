"""Generate rclrs interface crates from installed ROS 2 interface definitions.

The crates have the shape ``rosidl_generator_rs`` writes into
``<prefix>/share/<pkg>/rust`` (idiomatic and RMW-native types implementing the
traits of ``rosidl_runtime_rs`` 0.7), so that rclrs and its ``ros-env`` crate
build unmodified on an installation that has no Rust generator.  Interface
files are read with the installation's own ``rosidl_parser``.
"""

from .model import GenerationError  # noqa: F401
