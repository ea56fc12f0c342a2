//! The image source of tools/bench_node.py where rclpy is too slow to be one: publishes
//! compressed frames closed-loop and stamps each result, with no Python in the loop.
//!
//! Reads the frames (files of JPEG or PNG bytes) once, then, like the harness's own rclpy
//! source: publishes `--warmup` until a result shows both ends matched, waits for the
//! warm-up results still on their way, then publishes `--frames` frames, a new one
//! whenever fewer than `--window` await their result (one unanswered for 5 s counts as
//! lost). Prints `ready` when the warm-up is over, then one JSON object: per frame key, the publish time, the result time and
//! vision_node's own account (receipt to result, decode, detect; zero from the reference
//! node); and the durations of the publish() calls. Times are seconds on one clock.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use clap::Parser;
use rclrs::*;
use ros_env::rust_vision::msg::DetectionArray;
use ros_env::sensor_msgs::msg::CompressedImage;
use serde_json::json;

/// A frame with no result after this long counts as lost, as in the harness.
const LOST_AFTER: Duration = Duration::from_secs(5);

#[derive(Parser)]
struct Args {
    /// Frames to publish after the warm-up (cycling through the files).
    #[arg(long)]
    frames: usize,
    /// Frames awaiting their result at most.
    #[arg(long, default_value_t = 1)]
    window: usize,
    /// The warm-up frame, a small image file.
    #[arg(long)]
    warmup: PathBuf,
    /// `format` of the CompressedImage messages.
    #[arg(long, default_value = "jpeg")]
    format: String,
    files: Vec<PathBuf>,
}

/// Publish and result times by frame key, and vision_node's account of each frame.
#[derive(Default)]
struct Log {
    sent: HashMap<String, f64>,
    results: HashMap<String, (f64, [f64; 3])>,
}

impl Log {
    /// Frames sent less than LOST_AFTER ago that have no result yet.
    fn outstanding(&self, now: f64) -> usize {
        let old = now - LOST_AFTER.as_secs_f64();
        let pending = |(k, t): &(&String, &f64)| **t > old && !self.results.contains_key(*k);
        self.sent.iter().filter(pending).count()
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    let frames: Vec<Vec<u8>> = args
        .files
        .iter()
        .map(|f| std::fs::read(f).with_context(|| format!("reading {}", f.display())))
        .collect::<Result<_>>()?;
    if frames.is_empty() {
        bail!("no frame files given");
    }
    let warmup = std::fs::read(&args.warmup)?;

    let context = Context::default_from_env()?;
    let mut executor = context.create_basic_executor();
    let node = executor.create_node("bench_source")?;
    let publisher: Publisher<CompressedImage> =
        node.create_publisher("image/compressed".keep_all().reliable())?;
    let clock = Instant::now();
    let log = Arc::new(Mutex::new(Log::default()));
    let on_result = Arc::clone(&log);
    let _results = node.create_subscription(
        "detections".keep_last(1000).reliable(),
        move |msg: DetectionArray| {
            let now = clock.elapsed().as_secs_f64();
            let inside = [msg.latency, msg.decode_time, msg.detect_time];
            let mut log = on_result.lock().unwrap();
            log.results
                .entry(msg.header.frame_id)
                .or_insert((now, inside));
        },
    )?;
    let commands = executor.commands().clone();
    let source = thread::spawn(move || {
        let out = publish_all(&args, &frames, &warmup, &publisher, &log, clock);
        commands.halt_spinning();
        out
    });
    executor.spin(SpinOptions::default()).first_error()?;
    let report = source.join().expect("the source thread panicked")?;
    println!("{report}");
    Ok(())
}

/// Warm-up, then the closed loop; returns the JSON report.
fn publish_all(
    args: &Args,
    frames: &[Vec<u8>],
    warmup: &[u8],
    publisher: &Publisher<CompressedImage>,
    log: &Mutex<Log>,
    clock: Instant,
) -> Result<serde_json::Value> {
    let now = || clock.elapsed().as_secs_f64();
    let send = |data: &[u8], key: String| -> Result<f64> {
        let msg = CompressedImage {
            header: ros_env::std_msgs::msg::Header {
                frame_id: key.clone(),
                ..Default::default()
            },
            format: args.format.clone(),
            data: data.to_vec(),
        };
        let start = now();
        log.lock().unwrap().sent.insert(key, start);
        publisher.publish(msg)?;
        Ok(now() - start)
    };
    let wait = |done: &dyn Fn(&Log) -> bool, timeout: Duration| {
        let deadline = Instant::now() + timeout;
        while !done(&log.lock().unwrap()) && Instant::now() < deadline {
            thread::sleep(Duration::from_micros(200));
        }
    };

    // Warm-up until the first result, then the warm-up frames published after the one
    // answered first (those before it may have gone before the match), as the harness's
    // settle() does.
    let mut warm = 0;
    while log.lock().unwrap().results.is_empty() {
        if warm > 300 {
            bail!("no result to 300 warm-up frames");
        }
        send(warmup, format!("w{warm}"))?;
        warm += 1;
        wait(&|l| !l.results.is_empty(), Duration::from_millis(200));
    }
    let first = {
        let log = log.lock().unwrap();
        let answered = log
            .results
            .keys()
            .filter_map(|k| k[1..].parse::<usize>().ok());
        answered.min().unwrap_or(0)
    };
    let pending: Vec<String> = (first + 1..warm).map(|i| format!("w{i}")).collect();
    wait(
        &|l| pending.iter().all(|k| l.results.contains_key(k)),
        Duration::from_secs(60),
    );
    *log.lock().unwrap() = Log::default();
    // The harness starts counting the node's CPU time here.
    println!("ready");
    std::io::stdout().flush()?;

    let mut calls = Vec::with_capacity(args.frames);
    for i in 0..args.frames {
        wait(
            &|l| l.outstanding(now()) < args.window,
            Duration::from_secs(600),
        );
        calls.push(send(&frames[i % frames.len()], i.to_string())?);
    }
    wait(
        &|l| l.outstanding(now()) == 0,
        LOST_AFTER + Duration::from_secs(1),
    );
    let log = log.lock().unwrap();
    let results: HashMap<_, _> = log
        .results
        .iter()
        .map(|(k, (t, inside))| (k.clone(), json!({"at": t, "inside": inside})))
        .collect();
    Ok(json!({"sent": log.sent, "results": results, "publish_calls": calls}))
}
