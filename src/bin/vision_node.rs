//! vision_node: detections in every image of a sensor_msgs/Image stream.
//!
//! Usage: see [`USAGE`] (`vision_node --help`); the README has topics and parameters.

use anyhow::{Context as _, Result};
use futures_channel::oneshot;
use rclrs::{log_error, log_info, log_warn, Context, CreateBasicExecutor, Logger, SpinOptions};
use rust_vision::lifecycle::{self, Lifecycle};
use rust_vision::node::{Shutdown, VisionNode};
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
fn start(node: &rclrs::Node, shutdown: Shutdown) -> Result<VisionNode> {
    let mut vision = VisionNode::new(node.clone(), shutdown)?;
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
    let signals = Signals::new([SIGINT, SIGTERM]).context("installing signal handlers")?;
    let context = Context::default_from_env().context("initialising ROS")?;
    let mut executor = context.create_basic_executor();
    let node = executor
        .create_node("vision_node")
        .context("creating the node")?;
    let shutdown = Shutdown::default();
    let (stop, stopped) = oneshot::channel();
    // Listening from before the models load: a second Ctrl-C ends a slow start-up too.
    listen(signals, shutdown.clone(), stop, node.logger().clone());
    let vision = match start(&node, shutdown.clone()) {
        Ok(vision) => vision,
        Err(e) => {
            log_error!(node.logger(), "not started: {e:#}");
            return Ok(Outcome::NotStarted);
        }
    };
    let managed = vision.managed();
    let (worker, services) = lifecycle::serve(&node, vision, managed)?;

    // Until the first signal; a promise, unlike halting, is not lost when the signal came
    // before the spin began.
    let mut errors = executor.spin(SpinOptions::new().until_promise_resolved(stopped));
    shutdown.begin();
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

/// Handles SIGINT and SIGTERM on a thread of its own until the process ends: the first
/// closes the image subscriptions' gate and resolves `stop` (the node then finishes the
/// frames in flight); a second one, after [`REPEAT_GRACE`], ends the process at once,
/// saying what was counted. The thread holds no node: whatever holds a node when main
/// returns is torn down by the middleware's exit handlers, and a node dropped on another
/// thread after them makes Fast DDS fail to delete its entities (and once corrupted the
/// heap).
fn listen(mut signals: Signals, shutdown: Shutdown, stop: oneshot::Sender<()>, logger: Logger) {
    std::thread::spawn(move || {
        let mut stop = Some(stop);
        let mut first: Option<Instant> = None;
        for signal in signals.forever() {
            match first {
                None => {
                    first = Some(Instant::now());
                    log_info!(
                        &logger,
                        "signal {signal}: shutting down (a second signal ends the process at once)"
                    );
                    shutdown.begin();
                    if let Some(stop) = stop.take() {
                        let _ = stop.send(());
                    }
                }
                Some(at) if at.elapsed() < REPEAT_GRACE => {}
                Some(_) => {
                    let message = format!(
                        "signal {signal} again: exiting now, frames in flight not finished; {}",
                        shutdown.counted()
                    );
                    exit_now(logger, message, 128 + signal);
                }
            }
        }
    });
}

/// Logs `message` and ends the process with `code` without running exit handlers (the
/// middleware's would tear down participants the main thread still uses); shared memory
/// is left behind as after SIGKILL, which Fast DDS cleans up at its next start.
///
/// The logger waits for a lock the middleware holds while it tears an entity down, which
/// may hang: so the message is logged, and C's buffered streams flushed, on a thread of
/// their own, and written straight to stderr instead if that has not happened in 200 ms.
fn exit_now(logger: Logger, message: String, code: i32) -> ! {
    let (logged, done) = std::sync::mpsc::channel();
    let line = format!("[WARN] [vision_node]: {message}\n");
    std::thread::spawn(move || {
        log_warn!(&logger, "{message}");
        // SAFETY: fflush(NULL) flushes every C output stream and takes no other pointer.
        unsafe { libc::fflush(std::ptr::null_mut()) };
        let _ = logged.send(());
    });
    if done.recv_timeout(Duration::from_millis(200)).is_err() {
        // SAFETY: the pointer and length are those of `line`, alive for the call.
        unsafe { libc::write(2, line.as_ptr().cast(), line.len()) };
    }
    // SAFETY: _exit takes no pointer and never returns.
    unsafe { libc::_exit(code) }
}
