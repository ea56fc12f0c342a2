# rust_vision: build and test on a machine without ROS 2 (PyPI wheels in a project venv),
# or on top of a sourced ROS 2 installation (nothing installed then).
#
#   make demo               set everything up and run the pipeline on real photos
#   make test               set everything up and run every test
#   make test-core          the ROS-free core's tests alone, no ROS needed
#   make python-core        the core's Python module as a wheel (maturin), into the venv
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
	sensor_msgs visualization_msgs diagnostic_msgs lifecycle_msgs std_srvs
TEST_INTERFACES := test/interfaces/rust_vision_test_msgs

.PHONY: all ros-env interfaces package build python-core demo test-core test lint bench-node clean

all: build

ros-env:
	tools/ros-env $(STATE)

# CMake arguments of every package built here: install into the overlay; the wheel
# fix-ups only when building against the wheels.
CMAKE_ARGS = -DCMAKE_INSTALL_PREFIX=$(OVERLAY) -DBUILD_TESTING=OFF \
	-DPython3_EXECUTABLE=$$(command -v python3) \
	$$([ "$$RUST_VISION_WHEELS" = 1 ] && echo -DCMAKE_PROJECT_INCLUDE=$(CURDIR)/cmake/wheel_fixups.cmake)

# Configure, build and install the CMake package $(1) in directory $(2), logs in $(BUILD).
define cmake_package
	@name=$(1); $(RUN) \
	cmake -S $(2) -B $(BUILD)/$$name $(CMAKE_ARGS) $(3) > $(BUILD)/$$name.configure.log 2>&1 \
	  || { cat $(BUILD)/$$name.configure.log; exit 1; }; \
	cmake --build $(BUILD)/$$name -j 2 > $(BUILD)/$$name.build.log 2>&1 \
	  || { tail -50 $(BUILD)/$$name.build.log; exit 1; }; \
	cmake --install $(BUILD)/$$name > $(BUILD)/$$name.install.log 2>&1 \
	  || { tail -50 $(BUILD)/$$name.install.log; exit 1; }; \
	echo "$$name: built and installed into $(OVERLAY)"
endef

GENERATE := $(RUN) PYTHONPATH=$(CURDIR)/tools:$$PYTHONPATH python3 -m rosidl_rs_gen \
	--overlay $(OVERLAY)

# vision_msgs (optional: vision_node then also publishes vision_msgs/Detection2DArray).
# No registry carries it, so where none is installed (outside the overlay) the test
# stand-in test/interfaces/vision_msgs (same names and fields) is built instead.
VISION_MSGS_STANDIN := test/interfaces/vision_msgs
installed_vision_msgs = $(shell . $(SETUP) >/dev/null 2>&1; IFS=:; for p in $$AMENT_PREFIX_PATH; do \
	[ "$$p" != "$(OVERLAY)" ] && [ -e "$$p/share/ament_index/resource_index/packages/vision_msgs" ] \
	&& echo "$$p" && break; done)

# The test interfaces, and the rclrs crates of everything but this package's own messages
# (the package build adds those).
interfaces: ros-env
	@mkdir -p $(BUILD)
	$(foreach pkg,$(TEST_INTERFACES),$(call cmake_package,$(notdir $(pkg)),$(pkg)))
	$(if $(installed_vision_msgs),@echo "vision_msgs: the one installed in $(installed_vision_msgs)",$(call cmake_package,vision_msgs,$(VISION_MSGS_STANDIN)))
	$(GENERATE) $(INTERFACE_PACKAGES) $(notdir $(TEST_INTERFACES)) vision_msgs

# The rust_vision package itself, as colcon would build it: messages, vision_node
# (release, installed into the overlay's lib/rust_vision), Python nodes, launch files.
# Then the layout probe over every generated crate, this package's included.
package: interfaces
	$(call cmake_package,rust_vision,.,-DRUST_VISION_CRATE_PREFIX=$(OVERLAY) \
	  -DRUST_VISION_CARGO_TARGET_DIR=$(CARGO_TARGET_DIR))
	$(GENERATE) --layout-probe $(INTERFACE_PACKAGES) $(notdir $(TEST_INTERFACES)) vision_msgs \
	  rust_vision

# The Makefile always has vision_msgs (installed, or the test stand-in).
FEATURES := --features rust_vision/vision_msgs

build: package
	$(RUN) cargo build --workspace --all-targets $(FEATURES)

# The pipeline on real photos: image_publisher -> vision_node (face cascade) ->
# results_subscriber, annotated frames in demo_output/
demo: package
	$(RUN) tools/demo

# The ROS-free core, built and tested in a shell with no ROS environment at all, in its
# own target directory: a ROS dependency creeping into it fails here. With it, the
# replay of the fuzz targets' seeds and saved findings (fuzz/: cargo-fuzz, see README).
test-core:
	env -i PATH="$$PATH" HOME="$$HOME" CARGO_TARGET_DIR=$(CURDIR)/target/core \
	  cargo test -p rust_vision_core
	env -i PATH="$$PATH" HOME="$$HOME" CARGO_TARGET_DIR=$(CURDIR)/target/core \
	  cargo test --manifest-path fuzz/Cargo.toml --no-default-features

# The core as a Python module (crates/rust_vision_py: PyO3). `make package` (the CMake
# build) installs it beside the package's Python modules; this builds its wheel with
# maturin into build/<distro>/wheels and installs it into the project venv where there
# is one (the PyPI wheels), never into a system Python. maturin goes to a folder of its
# own; it reuses the CMake build's compiled crates (same target directory and profile).
python-core: package
	$(RUN) python3 -m pip install --quiet --disable-pip-version-check --upgrade \
	  --target $(STATE)/maturin 'maturin>=1.8,<2'
	$(RUN) PYTHONPATH=$(STATE)/maturin $(STATE)/maturin/bin/maturin build --quiet --release \
	  -m crates/rust_vision_py/Cargo.toml -o $(BUILD)/wheels
	if [ -x $(STATE)/venv/bin/python3 ]; then \
	  $(STATE)/venv/bin/python3 -m pip install --quiet --disable-pip-version-check \
	    --no-deps --force-reinstall $$(ls -t $(BUILD)/wheels/rust_vision_core-*.whl | head -1); fi

test: test-core build python-core
	$(RUN) cargo test --workspace --exclude rust_vision_core --exclude rust_vision_py $(FEATURES)
	$(RUN) cargo test --manifest-path fuzz/Cargo.toml --no-default-features --features ros \
	  --test replay message_to_core
	$(RUN) python3 -m pytest -ra test

# vision_node against the rclpy + OpenCV/onnxruntime node a user would write instead
# (tools/bench_node.py; BENCH_ARGS="--workloads blobs,jpeg --window 8" for a subset).
bench-node: package
	$(RUN) python3 tools/bench_node.py $(BENCH_ARGS)

lint: package
	cargo fmt --all -- --check
	cargo fmt --manifest-path fuzz/Cargo.toml --all -- --check
	$(RUN) cargo clippy --manifest-path fuzz/Cargo.toml --lib --tests --no-default-features \
	  --features ros -- -D warnings
	$(RUN) cargo clippy --workspace --all-targets $(FEATURES) -- -D warnings
	$(RUN) cargo clippy --package rust_vision --all-targets -- -D warnings
	$(RUN) flake8 tools test python_nodes launch

clean:
	rm -rf build target .ros
