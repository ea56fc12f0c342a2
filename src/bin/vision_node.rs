//! vision_node: detections in every image of a sensor_msgs/Image stream.
//!
//! Usage: `vision_node [--ros-args ...]`; see the README for topics and parameters.
//! `vision_node --print-defaults` prints every parameter with its default, range and
//! description as a ROS 2 parameters file, without starting ROS.

use anyhow::{Context as _, Result};
use rclrs::{log_error, log_info, Context, CreateBasicExecutor, SpinOptions};
use rust_vision::ros::node::VisionNode;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--print-defaults") {
        print!("{}", rust_vision::ros::params::defaults_yaml());
        return;
    }
    if let Err(e) = run() {
        eprintln!("vision_node: {e:#}");
        std::process::exit(2);
    }
}

fn run() -> Result<()> {
    // Registered before anything else, so that an early Ctrl-C also ends cleanly.
    let mut signals = Signals::new([SIGINT, SIGTERM]).context("installing signal handlers")?;
    let context = Context::default_from_env().context("initialising ROS")?;
    let mut executor = context.create_basic_executor();
    let node = executor
        .create_node("vision_node")
        .context("creating the node")?;
    let vision = match VisionNode::new(node.clone()) {
        Ok(vision) => vision,
        Err(e) => {
            log_error!(node.logger(), "not started: {e:#}");
            return Err(e);
        }
    };

    let commands = executor.commands().clone();
    let signal_node = node.clone();
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            log_info!(signal_node.logger(), "signal {signal}: shutting down");
            commands.halt_spinning();
        }
    });

    let errors = executor.spin(SpinOptions::default());
    vision.finish();
    if let Some(e) = errors.into_iter().next() {
        return Err(e).context("spinning");
    }
    Ok(())
}
