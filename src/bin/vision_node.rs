//! vision_node: detections in every image of a sensor_msgs/Image stream.
//!
//! Usage: see [`USAGE`] (`vision_node --help`); the README has topics and parameters.

use anyhow::{Context as _, Result};
use rclrs::{log_error, log_info, log_warn, Context, CreateBasicExecutor, SpinOptions};
use rust_vision::lifecycle::{self, Lifecycle};
use rust_vision::node::VisionNode;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::time::{Duration, Instant};

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
    let finishing = shutdown.clone();
    let (worker, services) = lifecycle::serve(&node, vision, managed)?;

    // The signal thread holds no node: whatever holds a node when main returns is torn
    // down by the middleware's exit handlers, and a node dropped on another thread after
    // them makes Fast DDS fail to delete its entities (and once corrupted the heap).
    // It listens until the process ends: a second Ctrl-C, or launch's escalation to
    // SIGTERM, must not wait for the frames in flight, nor for the middleware's teardown.
    let commands = executor.commands().clone();
    let logger = node.logger().clone();
    std::thread::spawn(move || {
        let mut first: Option<Instant> = None;
        for signal in signals.forever() {
            match first {
                None => {
                    first = Some(Instant::now());
                    log_info!(
                        &logger,
                        "signal {signal}: shutting down (a second signal ends the process at once)"
                    );
                    // Begun already where the executor stopped on its own: it is finishing.
                    if !shutdown.begin() {
                        commands.halt_spinning();
                    }
                }
                Some(at) if at.elapsed() < REPEAT_GRACE => {}
                Some(_) => {
                    log_warn!(
                        &logger,
                        "signal {signal} again: exiting now, frames in flight not finished; {}",
                        shutdown.counted()
                    );
                    exit_now(128 + signal);
                }
            }
        }
    });

    let mut errors = executor.spin(SpinOptions::default());
    finishing.begin();
    // The node's state is the worker's: finish it there, spinning until that is done.
    let finished = worker.run(|lifecycle: &mut Lifecycle| lifecycle.finish());
    errors.extend(executor.spin(SpinOptions::new().until_promise_resolved(finished)));
    drop(services);
    if let Some(e) = errors.into_iter().next() {
        return Err(e).context("spinning");
    }
    Ok(Outcome::Stopped)
}

/// Repeats of the first signal this soon are the same request: a terminal's Ctrl-C reaches
/// every process of its group, and `ros2 launch --noninteractive` sends its own SIGINT.
const REPEAT_GRACE: Duration = Duration::from_millis(500);

/// Ends the process with `code` without running exit handlers: the middleware's would tear
/// down its participants while the main thread still uses them. C's buffered streams (the
/// ROS log's, where it is buffered) are flushed first; shared memory is left behind as
/// after SIGKILL, which Fast DDS cleans up at the next start.
fn exit_now(code: i32) -> ! {
    // SAFETY: fflush(NULL) flushes every C output stream and takes no other pointer;
    // _exit never returns.
    unsafe {
        libc::fflush(std::ptr::null_mut());
        libc::_exit(code)
    }
}
