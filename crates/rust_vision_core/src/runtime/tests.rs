//! Unit tests of [`super`] (runtime).

use super::*;
use crate::frame::{Origin, RawImage};
use crate::schema::Value;
use std::sync::mpsc::{channel, Receiver, Sender};

/// What reaches the test's sink, in order.
#[derive(Debug)]
enum Event {
    Result(u32, u64, usize),
    Failed(u32, &'static str),
    Ended(u32, StreamReport),
    Notice(Level, String),
}

struct Collect(Mutex<Sender<Event>>);

impl Sink<u32> for Collect {
    fn result(
        &self,
        meta: u32,
        seq: u64,
        _: RgbImage,
        r: &FrameResult,
        _: Duration,
    ) -> std::result::Result<(), String> {
        assert!(meta != PANICS, "a sink bug on frame {meta}");
        let _ = lock(&self.0).send(Event::Result(meta, seq, r.detections.len()));
        Ok(())
    }
    fn failed(&self, meta: &u32, _: u64, error: &Error, _: u64) {
        let _ = lock(&self.0).send(Event::Failed(*meta, error.cause()));
    }
    fn stream_ended(&self, meta: u32, report: &StreamReport) {
        let _ = lock(&self.0).send(Event::Ended(meta, report.clone()));
    }
    fn notice(&self, level: Level, message: &str) {
        let _ = lock(&self.0).send(Event::Notice(level, message.into()));
    }
}

/// The frame whose result the sink panics on.
const PANICS: u32 = 999;

/// A 64x48 rgb8 frame with a red square, or a frame whose data is too short.
fn frame(valid: bool) -> Input {
    let mut data = vec![90u8; 64 * 48 * 3];
    for y in 10..30 {
        for x in 10..30 {
            data[(y * 64 + x) * 3..][..3].copy_from_slice(&[220, 20, 20]);
        }
    }
    if !valid {
        data.truncate(100);
    }
    Input::Raw(RawImage {
        width: 64,
        height: 48,
        step: 64 * 3,
        encoding: "rgb8".into(),
        is_bigendian: false,
        data: data.into(),
    })
}

fn start() -> (Arc<Runtime<u32>>, Receiver<Event>, PipelineConfig) {
    let (tx, rx) = channel();
    let mut config = PipelineConfig::defaults();
    config.overflow = crate::stages::Overflow::All;
    config.blobs.min_area = 50;
    config.end_of_stream_timeout = Duration::from_millis(200);
    let runtime = Runtime::start(&config, Arc::new(Collect(Mutex::new(tx)))).unwrap();
    (runtime, rx, config)
}

fn next(rx: &Receiver<Event>) -> Event {
    rx.recv_timeout(Duration::from_secs(10)).expect("an event")
}

#[test]
fn every_frame_is_accounted_for_and_the_stream_summarised_after_its_results() {
    let (runtime, rx, _) = start();
    for i in 0..6 {
        runtime.receive(i, frame(i != 3), Instant::now());
    }
    runtime.end_of_stream(100, 7);
    let mut events = Vec::new();
    loop {
        match next(&rx) {
            Event::Ended(meta, report) => {
                assert_eq!(meta, 100);
                assert_eq!((report.sent, report.received), (7, 6));
                assert_eq!((report.processed, report.failed, report.lost), (5, 1, 1));
                assert!(!report.complete());
                break;
            }
            Event::Notice(..) => {}
            event => events.push(event),
        }
    }
    let order: Vec<u32> = events
        .iter()
        .map(|e| match e {
            Event::Result(meta, _, found) => {
                assert_eq!(*found, 1, "the square");
                *meta
            }
            Event::Failed(meta, cause) => {
                assert_eq!(*cause, "data_length");
                *meta
            }
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(order, [0, 1, 2, 3, 4, 5]);
    assert!(runtime
        .finish()
        .starts_with("frames received 6, results published 5, failed 1"));
}

/// The stream reports the sink gets, skipping results and notices.
fn ends(rx: &Receiver<Event>, n: usize) -> Vec<(u32, StreamReport)> {
    let mut ends = Vec::new();
    while ends.len() < n {
        if let Event::Ended(meta, report) = next(rx) {
            ends.push((meta, report));
        }
    }
    ends
}

#[test]
fn a_new_publisher_ends_the_previous_ones_stream_with_its_lost_frames_counted() {
    let (runtime, rx, _) = start();
    let from = |publisher, sequence| Origin {
        publisher,
        sequence,
    };
    // Publisher 7 sent 1..=5; 3 never arrived, and it died without an end of stream.
    for n in [1, 2, 4, 5] {
        runtime.receive_from(n as u32, frame(true), Instant::now(), from(7, n));
    }
    // Publisher 8 begins: its first frame ends 7's stream before it is counted.
    for n in 1..=3 {
        runtime.receive_from(10 + n as u32, frame(true), Instant::now(), from(8, n));
    }
    runtime.end_of_stream(100, 3);
    let ends = ends(&rx, 2);
    let (meta, first) = &ends[0];
    assert_eq!(*meta, 11, "the first frame of the new stream");
    assert_eq!((first.sent, first.received, first.processed), (5, 4, 4));
    assert_eq!((first.lost, first.first_sequence), (1, 0));
    assert!(first.abandoned && !first.complete());
    let (meta, second) = &ends[1];
    assert_eq!(*meta, 100);
    assert_eq!((second.sent, second.received, second.processed), (3, 3, 3));
    assert_eq!(second.first_sequence, 4);
    assert!(second.complete());
    runtime.finish();
}

#[test]
fn frames_refused_at_shutdown_are_counted_dropped() {
    let (runtime, _rx, _) = start();
    runtime.receive(0, frame(true), Instant::now());
    runtime.refuse(Instant::now());
    assert!(runtime
        .finish()
        .starts_with("frames received 2, results published 1, failed 0, dropped 1"));
    // After finish nothing processes a frame: it is dropped, not left in flight.
    runtime.receive(1, frame(true), Instant::now());
    assert!(runtime
        .finish()
        .contains("frames received 3, results published 1, failed 0, dropped 2"));
}

/// What a change gives to put back, as a channel to read it from.
fn restore() -> (Restore, Receiver<Vec<Revert>>) {
    let (tx, rx) = channel();
    (
        Box::new(move |back: &[Revert]| drop(tx.send(back.to_vec()))),
        rx,
    )
}

/// The next notice of `level`; other notices are skipped, anything else fails.
fn notice(rx: &Receiver<Event>, level: Level) -> String {
    loop {
        match next(rx) {
            Event::Notice(l, message) if l == level => return message,
            Event::Notice(..) => {}
            other => panic!("{other:?}"),
        }
    }
}

fn set(config: &mut PipelineConfig, name: &str, value: Value) {
    config.apply(name, &value).unwrap().unwrap();
}

#[test]
fn a_model_that_fails_to_load_leaves_the_running_pipeline_and_says_why() {
    let (runtime, rx, mut config) = start();
    set(
        &mut config,
        "cascade.model",
        Value::Text("/no/such.xml".into()),
    );
    set(&mut config, "detector", Value::Text("cascade".into()));
    let (back, told) = restore();
    runtime.reconfigure(&config, "detector", back);
    let message = notice(&rx, Level::Error);
    assert!(
        message.starts_with("detector not applied, detector blobs"),
        "{message}"
    );
    assert!(
        message.ends_with(r#"setting cascade.model to "", detector to "blobs" back"#),
        "{message}"
    );
    assert!(runtime
        .model_state()
        .error
        .unwrap()
        .contains("/no/such.xml"));
    runtime.receive(1, frame(true), Instant::now());
    assert!(matches!(next(&rx), Event::Result(1, 0, 1)));
    // The front end puts back what it is told: its configuration is then what runs, and
    // a knob's change applies from the next frame.
    for revert in told.recv_timeout(Duration::from_secs(10)).unwrap() {
        set(&mut config, revert.name, revert.running);
    }
    assert_eq!(lock(&runtime.control).running, config);
    set(&mut config, "blobs.min_area", Value::Int(1000));
    runtime.reconfigure(&config, "blobs.min_area", restore().0);
    let message = notice(&rx, Level::Info);
    assert!(message.starts_with("blobs.min_area changed"), "{message}");
    runtime.receive(2, frame(true), Instant::now());
    assert!(matches!(next(&rx), Event::Result(2, 1, 0)));
    assert_eq!(runtime.model_state().error, None);
}

/// A load that fails after a later change was applied says so, and neither puts its
/// error in the model state nor asks for anything to be put back.
#[test]
fn a_slow_failing_load_leaves_a_later_changes_state() {
    let (runtime, rx, mut config) = start();
    let (fifo, told) = load_from_fifo(&runtime, &mut config, "overtaken");
    assert!(notice(&rx, Level::Info).contains("loading detector cascade"));
    set(&mut config, "detector", Value::Text("blobs".into()));
    set(&mut config, "blobs.min_area", Value::Int(1000));
    runtime.reconfigure(&config, "blobs.min_area", restore().0);
    assert!(notice(&rx, Level::Info).starts_with("blobs.min_area changed"));
    write_when_read(&fifo, b"not a cascade");
    let message = notice(&rx, Level::Warn);
    assert!(
        message.starts_with("detector not applied (") && message.contains("not XML"),
        "{message}"
    );
    assert!(message.ends_with("a later change replaced it"), "{message}");
    runtime.finish();
    assert_eq!(runtime.model_state().error, None);
    assert!(runtime.model_state().active.starts_with("detector blobs"));
    assert!(told.try_recv().is_err(), "nothing to put back");
    std::fs::remove_file(&fifo).unwrap();
}

/// A setting applied at once while a model loads is neither undone when the load fails
/// nor among the settings to put back.
#[test]
fn a_setting_applied_at_once_while_a_model_loads_stays() {
    let (runtime, rx, mut config) = start();
    let (fifo, told) = load_from_fifo(&runtime, &mut config, "at-once");
    set(&mut config, "overflow", Value::Text("latest".into()));
    runtime.reconfigure(&config, "overflow", restore().0);
    write_when_read(&fifo, b"not a cascade");
    assert!(notice(&rx, Level::Error).starts_with("detector not applied"));
    let reverts = told.recv_timeout(Duration::from_secs(10)).unwrap();
    let names: Vec<_> = reverts.iter().map(|r| r.name).collect();
    assert_eq!(names, ["cascade.model", "detector"]);
    runtime.finish();
    assert_eq!(
        lock(&runtime.control).running.overflow,
        crate::stages::Overflow::Latest
    );
    std::fs::remove_file(&fifo).unwrap();
}

/// Changes `config` to the cascade detector with a model in a new FIFO (named after
/// `test`), whose loading waits until the test writes into it; returns the FIFO and what
/// the change asks to put back.
fn load_from_fifo(
    runtime: &Arc<Runtime<u32>>,
    config: &mut PipelineConfig,
    test: &str,
) -> (std::path::PathBuf, Receiver<Vec<Revert>>) {
    let fifo = std::env::temp_dir().join(format!("rv-{test}-{}.xml", std::process::id()));
    let _ = std::fs::remove_file(&fifo);
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.unwrap().success());
    set(
        config,
        "cascade.model",
        Value::Text(fifo.to_str().unwrap().into()),
    );
    set(config, "detector", Value::Text("cascade".into()));
    let (back, told) = restore();
    runtime.reconfigure(config, "detector", back);
    (fifo, told)
}

/// Writes `data` into the FIFO at `path` once a reader opened it (10 s at most).
fn write_when_read(path: &std::path::Path, data: &[u8]) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    const O_NONBLOCK: i32 = 0o4000; // Linux: opening fails at once while no one reads.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut file = loop {
        let opened = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(O_NONBLOCK)
            .open(path);
        match opened {
            Ok(file) => break file,
            Err(_) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("no one reads {}: {e}", path.display()),
        }
    };
    file.write_all(data).unwrap();
}

/// A panic in the sink's publishing is that frame's failure (cause `internal`, said in a
/// notice with the panic's message), and the frames after it are published.
#[test]
fn a_panic_in_the_sink_fails_that_frame_only() {
    let (runtime, rx, _) = start();
    for meta in [11, 12, PANICS, 14] {
        runtime.receive(meta, frame(true), Instant::now());
    }
    runtime.end_of_stream(100, 4);
    let mut published = Vec::new();
    let mut notices = Vec::new();
    let report = loop {
        match next(&rx) {
            Event::Result(meta, ..) => published.push(meta),
            Event::Notice(level, message) => notices.push((level, message)),
            Event::Ended(_, report) => break report,
            Event::Failed(meta, cause) => panic!("frame {meta} failed: {cause}"),
        }
    };
    assert_eq!(published, [11, 12, 14]);
    assert_eq!((report.processed, report.failed), (3, 1));
    assert!(
        notices.iter().any(|(level, m)| *level == Level::Error
            && m.starts_with("publishing results: internal error: panic in publishing at ")
            && m.ends_with(": a sink bug on frame 999")),
        "{notices:?}"
    );
    assert_eq!(
        runtime.finish(),
        "frames received 4, results published 3, failed 1 (internal: 1), dropped 0, paused 0"
    );
}
