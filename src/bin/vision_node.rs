//! vision_node: detections in every image of a sensor_msgs/Image stream.
//!
//! Usage: see [`USAGE`] (`vision_node --help`); the README has topics and parameters.

use anyhow::{Context as _, Result};
use rclrs::{log_error, log_info, log_warn, Context, CreateBasicExecutor, SpinOptions};
use rust_vision::lifecycle::{self, Lifecycle};
use rust_vision::node::VisionNode;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// What `vision_node --help` prints.
const USAGE: &str = "\
usage: vision_node [--help] [--print-defaults] [--ros-args ...]

Detects objects in every image of a sensor_msgs/Image stream (topic `image`, or
`image/compressed` with transport:=compressed) and publishes one
rust_vision/DetectionArray per frame on `detections`.

options:
  --help            print this help and exit
  --print-defaults  print every parameter with its default, range and description as
                    a ROS 2 parameters file, and exit
  --ros-args ...    ROS arguments: -p name:=value, --params-file FILE, -r from:=to

example:
  ros2 run rust_vision vision_node --ros-args -r image:=/camera/image_raw \\
      -p detector:=cascade -p cascade.model:=haarcascade_frontalface_default.xml
";

fn main() {
    // Only the arguments before --ros-args are ours.
    let ours: Vec<String> = std::env::args()
        .skip(1)
        .take_while(|a| a != "--ros-args")
        .collect();
    match ours.first().map(String::as_str) {
        Some("--help" | "-h") => {
            print!("{USAGE}");
            return;
        }
        Some("--print-defaults") => {
            print!("{}", rust_vision::params::defaults_yaml());
            return;
        }
        _ => {}
    }
    match run() {
        Ok(Outcome::Stopped) => {}
        // Logged once by the node's logger, where a ROS user reads it.
        Ok(Outcome::NotStarted) => std::process::exit(2),
        Err(e) => {
            eprintln!("vision_node: {e:#}");
            std::process::exit(2);
        }
    }
}

/// vision_node with its parameters declared and, unless it is a managed node (which
/// waits for ~/change_state), configured and active.
fn start(node: &rclrs::Node) -> Result<VisionNode> {
    let mut vision = VisionNode::new(node.clone())?;
    if !vision.managed() {
        vision.configure()?;
        vision.activate()?;
    }
    Ok(vision)
}

/// How a run ended, short of a failure of ROS itself.
enum Outcome {
    Stopped,
    /// The node refused its configuration (a parameter, a model) and said why.
    NotStarted,
}

fn run() -> Result<Outcome> {
    // Registered before anything else, so that an early Ctrl-C also ends cleanly.
    let mut signals = Signals::new([SIGINT, SIGTERM]).context("installing signal handlers")?;
    let context = Context::default_from_env().context("initialising ROS")?;
    let mut executor = context.create_basic_executor();
    let node = executor
        .create_node("vision_node")
        .context("creating the node")?;
    let vision = match start(&node) {
        Ok(vision) => vision,
        Err(e) => {
            log_error!(node.logger(), "not started: {e:#}");
            return Ok(Outcome::NotStarted);
        }
    };
    let managed = vision.managed();
    let shutdown = vision.shutdown();
    let (worker, services) = lifecycle::serve(&node, vision, managed)?;

    // The signal thread holds no node: whatever holds a node when main returns is torn
    // down by the middleware's exit handlers, and a node dropped on another thread after
    // them makes Fast DDS fail to delete its entities (and once corrupted the heap).
    let commands = executor.commands().clone();
    let logger = node.logger().clone();
    let signal_handle = signals.handle();
    let signal_thread = std::thread::spawn(move || {
        let mut signals = signals.forever();
        if let Some(signal) = signals.next() {
            log_info!(
                &logger,
                "signal {signal}: shutting down (a second signal ends the process at once)"
            );
            shutdown.begin();
            commands.halt_spinning();
        }
        // Listening on while the frames in flight drain: a second Ctrl-C, or launch's
        // escalation to SIGTERM, must not wait for them.
        if let Some(signal) = signals.next() {
            log_warn!(
                &logger,
                "signal {signal} again: exiting now, frames in flight not finished; {}",
                shutdown.counted()
            );
            exit_now(128 + signal);
        }
    });

    let mut errors = executor.spin(SpinOptions::default());
    // The node's state is the worker's: finish it there, spinning until that is done.
    let finished = worker.run(|lifecycle: &mut Lifecycle| lifecycle.finish());
    errors.extend(executor.spin(SpinOptions::new().until_promise_resolved(finished)));
    signal_handle.close();
    let _ = signal_thread.join();
    drop(services);
    if let Some(e) = errors.into_iter().next() {
        return Err(e).context("spinning");
    }
    Ok(Outcome::Stopped)
}

/// Ends the process with `code` without running exit handlers: the middleware's would tear
/// down its participants while the main thread still uses them.
fn exit_now(code: i32) -> ! {
    // SAFETY: _exit takes no pointer and never returns; it only ends the process.
    unsafe { libc::_exit(code) }
}
