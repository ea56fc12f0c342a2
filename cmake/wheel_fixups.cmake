# Build fix-ups for interface packages built against the PyPI ROS 2 wheels.
#
# Injected with -DCMAKE_PROJECT_INCLUDE=<this file> by the Makefile, and only when the
# ROS 2 installation is the wheel venv; a sourced /opt/ros installation needs none of it.
#
# The wheels' exported *__rosidl_generator_py targets name the wheel builder's Python and
# NumPy include directories (/opt/python/...), which do not exist here; CMake refuses to
# generate with them. Once the project has found its dependencies, point those targets at
# this machine's Python and NumPy headers.
#
# Those headers live in the project's venv, which is inside the source tree of the root
# package; CMake refuses to export a target whose include directories are in the source
# tree. The package's own targets get such directories as build-only
# ($<BUILD_INTERFACE:...>): nothing that uses the installed package compiles against them.

find_package(Python3 REQUIRED COMPONENTS Interpreter Development.Module NumPy)

# Rewrites INTERFACE_INCLUDE_DIRECTORIES of the targets listed in directory property
# TARGETS_PROPERTY: each entry becomes what function RULE(<dir> <out_var>) says.
function(_rust_vision_rewrite_includes targets_property rule)
  get_directory_property(_targets DIRECTORY "${CMAKE_SOURCE_DIR}" ${targets_property})
  foreach(_target IN LISTS _targets)
    get_target_property(_dirs ${_target} INTERFACE_INCLUDE_DIRECTORIES)
    if(NOT _dirs)
      continue()
    endif()
    set(_fixed "")
    foreach(_dir IN LISTS _dirs)
      cmake_language(CALL ${rule} "${_dir}" _new)
      list(APPEND _fixed "${_new}")
    endforeach()
    if(NOT "${_fixed}" STREQUAL "${_dirs}")
      set_target_properties(${_target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_fixed}")
    endif()
  endforeach()
endfunction()

# The wheel builder's Python and NumPy headers -> this machine's.
function(_rust_vision_local_python dir out)
  if(dir MATCHES "^/opt/python/.*/numpy/")
    set(${out} "${Python3_NumPy_INCLUDE_DIRS}" PARENT_SCOPE)
  elseif(dir MATCHES "^/opt/python/")
    set(${out} "${Python3_INCLUDE_DIRS}" PARENT_SCOPE)
  else()
    set(${out} "${dir}" PARENT_SCOPE)
  endif()
endfunction()

# A directory in the source tree -> used at build time only.
function(_rust_vision_build_only dir out)
  string(FIND "${dir}" "${CMAKE_SOURCE_DIR}/" _at)
  if(_at EQUAL 0)
    set(${out} "$<BUILD_INTERFACE:${dir}>" PARENT_SCOPE)
  else()
    set(${out} "${dir}" PARENT_SCOPE)
  endif()
endfunction()

function(_rust_vision_fix_wheel_python_includes)
  _rust_vision_rewrite_includes(IMPORTED_TARGETS _rust_vision_local_python)
endfunction()

function(_rust_vision_build_only_source_includes)
  _rust_vision_rewrite_includes(BUILDSYSTEM_TARGETS _rust_vision_build_only)
endfunction()

cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _rust_vision_build_only_source_includes)
cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _rust_vision_fix_wheel_python_includes)
