//! How to run the stages: three CPU-bound stages joined by bounded queues (capacity 2),
//! with 100 µs or 2 ms of work per stage and frame, run as OS threads with crossbeam
//! channels (as `rust_vision_core::stages` does) and as tokio tasks with tokio channels, the
//! work on tokio's blocking pool (`spawn_blocking`, as tokio recommends for CPU-bound
//! work) or inline.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// (work per stage and frame, frames)
const LOADS: [(Duration, u64); 2] = [
    (Duration::from_micros(100), 1000),
    (Duration::from_millis(2), 100),
];

/// A fixed amount of computation taking about `amount` on an idle core, standing in for
/// one stage's decoding or detection. (Fixed work, not a clock: a thread that is not
/// scheduled must not get its work done meanwhile.)
fn work(frame: u64, amount: Duration) -> u64 {
    let mut x = frame;
    for _ in 0..amount.as_nanos() as u64 * iterations_per_ns() / 1000 {
        x = black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
    }
    x
}

/// Loop iterations per microsecond on this machine, measured once.
fn iterations_per_ns() -> u64 {
    static RATE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *RATE.get_or_init(|| {
        let start = Instant::now();
        let mut x = 1u64;
        for _ in 0..10_000_000u64 {
            x = black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
        }
        (10_000_000_000 / start.elapsed().as_nanos() as u64).max(1)
    })
}

fn threads(amount: Duration, frames: u64) {
    let work = move |f| work(f, amount);
    let (tx0, rx0) = crossbeam_channel::bounded::<u64>(2);
    let (tx1, rx1) = crossbeam_channel::bounded::<u64>(2);
    let (tx2, rx2) = crossbeam_channel::bounded::<u64>(2);
    let a = std::thread::spawn(move || rx0.iter().for_each(|f| tx1.send(work(f)).unwrap()));
    let b = std::thread::spawn(move || rx1.iter().for_each(|f| tx2.send(work(f)).unwrap()));
    let c = std::thread::spawn(move || {
        let mut n = 0u64;
        for f in rx2 {
            black_box(work(f));
            n += 1;
        }
        n
    });
    (0..frames).for_each(|f| tx0.send(f).unwrap());
    drop(tx0);
    a.join().unwrap();
    b.join().unwrap();
    assert_eq!(c.join().unwrap(), frames);
}

fn tokio(runtime: &tokio::runtime::Runtime, blocking_pool: bool, amount: Duration, frames: u64) {
    use tokio::sync::mpsc::channel;
    runtime.block_on(async move {
        let (tx0, mut rx0) = channel::<u64>(2);
        let (tx1, mut rx1) = channel::<u64>(2);
        let (tx2, mut rx2) = channel::<u64>(2);
        let run = move |f: u64, blocking_pool: bool| async move {
            if blocking_pool {
                tokio::task::spawn_blocking(move || work(f, amount))
                    .await
                    .unwrap()
            } else {
                work(f, amount)
            }
        };
        let a = tokio::spawn(async move {
            while let Some(f) = rx0.recv().await {
                tx1.send(run(f, blocking_pool).await).await.unwrap();
            }
        });
        let b = tokio::spawn(async move {
            while let Some(f) = rx1.recv().await {
                tx2.send(run(f, blocking_pool).await).await.unwrap();
            }
        });
        let c = tokio::spawn(async move {
            let mut n = 0u64;
            while let Some(f) = rx2.recv().await {
                run(f, blocking_pool).await;
                n += 1;
            }
            n
        });
        for f in 0..frames {
            tx0.send(f).await.unwrap();
        }
        drop(tx0);
        a.await.unwrap();
        b.await.unwrap();
        assert_eq!(c.await.unwrap(), frames);
    });
}

fn handoff(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().build().unwrap();
    for (amount, frames) in LOADS {
        let mut group = c.benchmark_group(format!("3 stages x {amount:?}, {frames} frames"));
        group.throughput(Throughput::Elements(frames));
        group.sample_size(10);
        group.bench_function("threads + crossbeam", |b| {
            b.iter(|| threads(amount, frames))
        });
        group.bench_function("tokio + spawn_blocking", |b| {
            b.iter(|| tokio(&runtime, true, amount, frames))
        });
        group.bench_function("tokio, work inline", |b| {
            b.iter(|| tokio(&runtime, false, amount, frames))
        });
        group.finish();
    }
}

criterion_group!(benches, handoff);
criterion_main!(benches);
