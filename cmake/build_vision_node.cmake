# Install-time step of CMakeLists.txt: generate the rclrs interface crates, build
# vision_node and the core's Python module with cargo, install vision_node into
# lib/rust_vision and the module into the Python install directory.
#
# Runs inside `cmake --install` (colcon's install step), with the variables
# RUST_VISION_* set by CMakeLists.txt.

set(_prefix "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}")
# This package's own interfaces are installed in _prefix by now; the environment's
# (a sourced ROS 2, or the project's wheel venv) follow.
set(_ament "${_prefix}")
if(NOT "$ENV{AMENT_PREFIX_PATH}" STREQUAL "")
  string(APPEND _ament ":$ENV{AMENT_PREFIX_PATH}")
endif()

message(STATUS "rust_vision: generating rclrs interface crates into ${RUST_VISION_CRATE_PREFIX}")
string(REPLACE ";" " " _packages "${RUST_VISION_INTERFACE_PACKAGES}")
separate_arguments(_packages UNIX_COMMAND "${_packages}")
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env
    "AMENT_PREFIX_PATH=${_ament}"
    "PYTHONPATH=${RUST_VISION_SOURCE_DIR}/tools:$ENV{PYTHONPATH}"
    "${RUST_VISION_PYTHON}" -m rosidl_rs_gen --overlay "${RUST_VISION_CRATE_PREFIX}" ${_packages}
  RESULT_VARIABLE _result)
if(NOT _result EQUAL 0)
  message(FATAL_ERROR "rust_vision: generating the interface crates failed (${_result})")
endif()

if(NOT "${RUST_VISION_CRATE_PREFIX}" STREQUAL "${_prefix}")
  set(_ament "${RUST_VISION_CRATE_PREFIX}:${_ament}")
endif()
set(_features "")
if(RUST_VISION_FEATURES)
  set(_features --features "rust_vision/${RUST_VISION_FEATURES}")
endif()
# One cargo run builds both: they share the core's compiled crates.
message(STATUS "rust_vision: cargo build --profile ${RUST_VISION_CARGO_PROFILE}: vision_node and the Python module")
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env
    "AMENT_PREFIX_PATH=${_ament}"
    "CARGO_TARGET_DIR=${RUST_VISION_CARGO_TARGET_DIR}"
    "${RUST_VISION_CARGO}" build --manifest-path "${RUST_VISION_SOURCE_DIR}/Cargo.toml"
      --profile "${RUST_VISION_CARGO_PROFILE}" --package rust_vision --bin vision_node
      --package rust_vision_py --lib ${_features}
  RESULT_VARIABLE _result)
if(NOT _result EQUAL 0)
  message(FATAL_ERROR "rust_vision: cargo build failed (${_result})")
endif()

if(RUST_VISION_CARGO_PROFILE STREQUAL "dev")
  set(_dir debug)
else()
  set(_dir "${RUST_VISION_CARGO_PROFILE}")
endif()
file(INSTALL "${RUST_VISION_CARGO_TARGET_DIR}/${_dir}/vision_node"
  DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/rust_vision"
  FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
    WORLD_READ WORLD_EXECUTE)

# The module is a stable-ABI (abi3) extension, as maturin names it; pyo3's
# extension-module feature leaves libpython to the interpreter that imports it.
file(INSTALL "${RUST_VISION_CARGO_TARGET_DIR}/${_dir}/librust_vision_core.so"
  DESTINATION "${CMAKE_INSTALL_PREFIX}/${RUST_VISION_PYTHON_DIR}"
  RENAME rust_vision_core.abi3.so)
