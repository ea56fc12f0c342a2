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

function(_rust_vision_fix_wheel_python_includes)
  get_directory_property(_targets DIRECTORY "${CMAKE_SOURCE_DIR}" IMPORTED_TARGETS)
  foreach(_target IN LISTS _targets)
    get_target_property(_dirs ${_target} INTERFACE_INCLUDE_DIRECTORIES)
    if(_dirs AND "${_dirs}" MATCHES "/opt/python/")
      set(_fixed "")
      foreach(_dir IN LISTS _dirs)
        if(_dir MATCHES "^/opt/python/.*/numpy/")
          list(APPEND _fixed "${Python3_NumPy_INCLUDE_DIRS}")
        elseif(_dir MATCHES "^/opt/python/")
          list(APPEND _fixed "${Python3_INCLUDE_DIRS}")
        else()
          list(APPEND _fixed "${_dir}")
        endif()
      endforeach()
      set_target_properties(${_target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_fixed}")
    endif()
  endforeach()
endfunction()

function(_rust_vision_build_only_source_includes)
  get_directory_property(_targets DIRECTORY "${CMAKE_SOURCE_DIR}" BUILDSYSTEM_TARGETS)
  foreach(_target IN LISTS _targets)
    get_target_property(_dirs ${_target} INTERFACE_INCLUDE_DIRECTORIES)
    if(NOT _dirs)
      continue()
    endif()
    set(_fixed "")
    foreach(_dir IN LISTS _dirs)
      string(FIND "${_dir}" "${CMAKE_SOURCE_DIR}/" _at)
      if(_at EQUAL 0)
        list(APPEND _fixed "$<BUILD_INTERFACE:${_dir}>")
      else()
        list(APPEND _fixed "${_dir}")
      endif()
    endforeach()
    set_target_properties(${_target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_fixed}")
  endforeach()
endfunction()

cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _rust_vision_build_only_source_includes)
cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _rust_vision_fix_wheel_python_includes)
