//! `tandem bench engine --workload grow`: resizing under load.
//!
//! Starts from one shard and an empty keyspace. Writer threads insert
//! `--keys` unique keys (taking them in ascending chunks from a shared
//! cursor), then delete them all, while the keyspace grows and shrinks on its own. It
//! reports throughput per 100 ms window, latency during migrations against
//! the steady state, the resizes, and resident memory around each
//! migration; `--chart` draws throughput over time with every resize
//! marked.

use crate::keys::key;
use crate::progress;
use crate::report::new_histogram;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use tandem_engine::prelude::*;
use tandem_engine::process::cpu_time;
use tandem_engine::process::rss_bytes;
use tandem_engine::ResizeEvent;

/// Width of a throughput window.
pub(crate) const WINDOW: Duration = Duration::from_millis(100);

/// Entries per step of the quiescent doubling between the phases.
const MIGRATE_BATCH: usize = 64;

/// A resize, placed on the run's clock.
#[derive(Debug, Clone, Serialize)]
pub struct ResizeMark {
    /// When the resize started and ended, in ms since the run began.
    pub start_ms: f64,
    /// See `start_ms`.
    pub end_ms: f64,
    /// Shards before and after.
    pub from: usize,
    /// See `from`.
    pub to: usize,
    /// growth, shrink or forced.
    pub reason: String,
    /// Entries moved.
    pub keys_moved: usize,
}

/// The grow benchmark's result.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GrowReport {
    /// Always "grow".
    pub workload: String,
    /// The memtable.
    pub memtable: String,
    /// Writer threads.
    pub threads: usize,
    /// Keys inserted, then deleted.
    pub keys: u64,
    /// Resizes during the run.
    pub resizes: usize,
    /// Shards at the end of the insert phase.
    pub peak_shards: usize,
    /// During growth (the insert phase, while every writer is still
    /// inserting), the lowest window's throughput divided by the median's.
    pub min_window_ratio: f64,
    /// The median growth window's throughput, in operations per second.
    pub median_window_ops_per_sec: f64,
    /// The windows `min_window_ratio` covers: `[first, end)`.
    pub growth_windows: (usize, usize),
    /// The same ratio for the delete phase (the keyspace shrinks), over
    /// the windows in which every writer is deleting.
    pub min_window_ratio_delete: f64,
    /// The windows `min_window_ratio_delete` covers.
    pub delete_windows: (usize, usize),
    /// Operations per second over both phases (not the pause between).
    pub ops_per_sec: f64,
    /// CPU time of the whole process per operation over both phases,
    /// including the benchmark's own work and any migration.
    pub cpu_ns_per_op: f64,
    /// p99.9 latency of operations that ran while a resize was running.
    pub p999_ns_migrating: u64,
    /// p99.9 latency of the other operations.
    pub p999_ns_steady: u64,
    /// Operations measured while a resize was running.
    pub ops_migrating: u64,
    /// Slowest operation.
    pub max_ns: u64,
    /// Slowest operation while a resize was running.
    pub max_ns_migrating: u64,
    /// Slowest of the other operations.
    pub max_ns_steady: u64,
    /// Highest resident memory growth seen (above the start).
    pub peak_rss_bytes: u64,
    /// Resident memory growth at the end (all keys deleted).
    pub final_rss_bytes: u64,
    /// Resident memory growth when the insert phase ended.
    pub loaded_rss_bytes: u64,
    /// A doubling forced between the phases, writers paused: the highest
    /// resident memory seen during its migration divided by that after it.
    pub migration_rss_ratio: f64,
    /// Operations per 100 ms window, in order.
    pub windows: Vec<u64>,
    /// The resizes, on the run's clock.
    pub resize_marks: Vec<ResizeMark>,
}

/// Resident memory growth (above `base`) sampled every 2 ms: the peak of
/// the whole run, and a peak that can be restarted to measure one period.
struct MemoryWatch {
    base: u64,
    peak: AtomicU64,
    window_peak: AtomicU64,
}

impl MemoryWatch {
    fn sample(&self) -> u64 {
        let rss = rss_bytes().unwrap_or(0).saturating_sub(self.base);
        self.peak.fetch_max(rss, Ordering::Relaxed);
        self.window_peak.fetch_max(rss, Ordering::Relaxed);
        rss
    }
}

fn watch_memory(watch: Arc<MemoryWatch>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            watch.sample();
            std::thread::sleep(Duration::from_millis(2));
        }
    })
}

/// Per-thread measurements.
struct ThreadLog {
    steady: Histogram<u64>,
    migrating: Histogram<u64>,
    windows: Vec<u64>,
    /// When this writer's phases began and ended, since the run's start.
    insert: (Duration, Duration),
    delete: (Duration, Duration),
}

/// The full windows inside every writer's span: from the window after the
/// last writer started to the one before the first writer finished. Outside
/// it fewer writers run, and throughput falls for reasons of the benchmark,
/// not of the keyspace.
fn common_windows(spans: impl Iterator<Item = (Duration, Duration)>) -> (usize, usize) {
    let w = WINDOW.as_nanos();
    let (mut first, mut end) = (0, usize::MAX);
    for (a, b) in spans {
        first = first.max(a.as_nanos().div_ceil(w) as usize);
        end = end.min((b.as_nanos() / w) as usize);
    }
    (first, end.max(first))
}

/// Keys a writer takes from a cursor at a time.
const CHUNK: u64 = 64;

/// The next chunk of keys below `keys` from `cursor`, if any are left.
fn next_chunk(cursor: &AtomicU64, keys: u64) -> Option<std::ops::Range<u64>> {
    let first = cursor.fetch_add(CHUNK, Ordering::Relaxed);
    (first < keys).then(|| first..(first + CHUNK).min(keys))
}

/// The lowest window divided by the median one, and the median.
fn window_ratio(windows: &[u64]) -> (f64, u64) {
    let mut sorted = windows.to_vec();
    sorted.sort_unstable();
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0);
    let min = sorted.first().copied().unwrap_or(0);
    let ratio = if median == 0 {
        0.0
    } else {
        min as f64 / median as f64
    };
    (ratio, median)
}

/// Runs the grow workload on `db` with `threads` writers and `keys` keys.
pub fn run(db: Db, threads: usize, keys: u64, key_size: usize, value_size: usize) -> GrowReport {
    let threads = threads.max(1);
    let base = rss_bytes().unwrap_or(0);
    let stop = Arc::new(AtomicBool::new(false));
    let watch = Arc::new(MemoryWatch {
        base,
        peak: AtomicU64::new(0),
        window_peak: AtomicU64::new(0),
    });
    let memory = watch_memory(watch.clone(), stop.clone());
    let cpu_before = cpu_time();
    let start = Instant::now();
    let barrier = Arc::new(Barrier::new(threads));
    let pause = Arc::new(parking_lot::Mutex::new(Pause::default()));
    // Insert and delete cursors: writers take keys in small chunks, so all
    // of them stay busy until the keys run out.
    let cursors = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
    // Every key is inserted, then deleted.
    let bar = progress::bar(2 * keys, "grow");
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (db, barrier, pause, watch, cursors) = (
                db.clone(),
                barrier.clone(),
                pause.clone(),
                watch.clone(),
                cursors.clone(),
            );
            let mut done = progress::Counter::new(&bar);
            std::thread::spawn(move || {
                let mut log = ThreadLog {
                    steady: new_histogram(),
                    migrating: new_histogram(),
                    windows: Vec::new(),
                    insert: Default::default(),
                    delete: Default::default(),
                };
                let value = vec![b'v'; value_size];
                let mut buf = Vec::with_capacity(key_size);
                let mut op = |insert: bool, i: u64, log: &mut ThreadLog| {
                    key(i, key_size, &mut buf);
                    let t0 = Instant::now();
                    if insert {
                        let _ = db.set(&buf, &value, SetOptions::default());
                    } else {
                        let _ = db.del(&[&buf[..]]);
                    }
                    let ns = u64::try_from(t0.elapsed().as_nanos())
                        .unwrap_or(u64::MAX)
                        .max(1);
                    let h = if db.is_resizing() {
                        &mut log.migrating
                    } else {
                        &mut log.steady
                    };
                    h.saturating_record(ns);
                    let w = (t0.duration_since(start).as_nanos() / WINDOW.as_nanos()) as usize;
                    if log.windows.len() <= w {
                        log.windows.resize(w + 1, 0);
                    }
                    if let Some(n) = log.windows.get_mut(w) {
                        *n += 1;
                    }
                };
                // One phase: keys from `cursor` until none are left;
                // returns when it began and ended.
                let mut phase = |cursor: &AtomicU64, insert: bool, log: &mut ThreadLog| {
                    let began = start.elapsed();
                    while let Some(chunk) = next_chunk(cursor, keys) {
                        done.add(chunk.end - chunk.start);
                        for i in chunk {
                            op(insert, i, log);
                        }
                    }
                    (began, start.elapsed())
                };
                barrier.wait();
                log.insert = phase(&cursors.0, true, &mut log);
                if barrier.wait().is_leader() {
                    let paused = cpu_time();
                    // Between the phases, with writers paused: one more
                    // doubling, to measure what a migration itself costs in
                    // memory (moving, not copying: the peak should stay near
                    // the level after).
                    while db.migrate_step(usize::MAX) {}
                    let shards = db.shard_count();
                    let loaded_rss = watch.sample();
                    watch.window_peak.store(0, Ordering::Relaxed);
                    // Unpaced: nothing else runs.
                    if db.begin_resize(shards * 2) {
                        while db.migrate_step(MIGRATE_BATCH) {}
                    }
                    let after = watch.sample();
                    let peak = watch.window_peak.load(Ordering::Relaxed);
                    *pause.lock() = Pause {
                        shards,
                        loaded_rss,
                        migration_ratio: peak as f64 / after.max(1) as f64,
                        cpu: cpu_time().saturating_sub(paused),
                    };
                }
                barrier.wait();
                log.delete = phase(&cursors.1, false, &mut log);
                log
            })
        })
        .collect();
    let logs: Vec<ThreadLog> = handles.into_iter().filter_map(|h| h.join().ok()).collect();
    bar.finish_and_clear();
    // Time under load: both phases, not the pause between them.
    let phase = |f: fn(&ThreadLog) -> (Duration, Duration)| {
        let began = logs.iter().map(|l| f(l).0).min().unwrap_or_default();
        let ended = logs.iter().map(|l| f(l).1).max().unwrap_or_default();
        ended.saturating_sub(began)
    };
    let elapsed = phase(|l| l.insert) + phase(|l| l.delete);
    let pause = *pause.lock();
    let cpu = cpu_time()
        .saturating_sub(cpu_before)
        .saturating_sub(pause.cpu);
    // Let a shrink that the emptied keyspace triggers show up, then stop.
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let _ = memory.join();

    let mut steady = new_histogram();
    let mut migrating = new_histogram();
    let mut windows: Vec<u64> = Vec::new();
    for log in &logs {
        let _ = steady.add(&log.steady);
        let _ = migrating.add(&log.migrating);
        if windows.len() < log.windows.len() {
            windows.resize(log.windows.len(), 0);
        }
        for (w, n) in windows.iter_mut().zip(&log.windows) {
            *w += n;
        }
    }
    let span = |(a, b): (usize, usize)| windows.get(a..b.min(windows.len())).unwrap_or_default();
    let growth = common_windows(logs.iter().map(|l| l.insert));
    let (min_window_ratio, median) = window_ratio(span(growth));
    let delete = common_windows(logs.iter().map(|l| l.delete));
    let (min_window_ratio_delete, _) = window_ratio(span(delete));
    let per_sec = 1.0 / WINDOW.as_secs_f64();
    let events = db.resize_events();
    GrowReport {
        workload: "grow".into(),
        memtable: db.memtable_kind().as_str().into(),
        threads,
        keys,
        resizes: events.len(),
        peak_shards: pause.shards,
        min_window_ratio,
        median_window_ops_per_sec: median as f64 * per_sec,
        growth_windows: growth,
        min_window_ratio_delete,
        delete_windows: delete,
        ops_per_sec: (2 * keys) as f64 / elapsed.as_secs_f64().max(1e-9),
        cpu_ns_per_op: cpu.as_nanos() as f64 / (2 * keys).max(1) as f64,
        p999_ns_migrating: migrating.value_at_quantile(0.999),
        p999_ns_steady: steady.value_at_quantile(0.999),
        ops_migrating: migrating.len(),
        max_ns: steady.max().max(migrating.max()),
        max_ns_migrating: migrating.max(),
        max_ns_steady: steady.max(),
        peak_rss_bytes: watch.peak.load(Ordering::Relaxed),
        final_rss_bytes: rss_bytes().unwrap_or(0).saturating_sub(base),
        loaded_rss_bytes: pause.loaded_rss,
        migration_rss_ratio: pause.migration_ratio,
        windows,
        resize_marks: events.iter().map(mark).collect(),
    }
}

fn mark(e: &ResizeEvent) -> ResizeMark {
    let start = e.started.as_secs_f64() * 1e3;
    ResizeMark {
        start_ms: start,
        end_ms: start + e.duration.as_secs_f64() * 1e3,
        from: e.from,
        to: e.to,
        reason: e.reason.as_str().into(),
        keys_moved: e.keys_moved,
    }
}

/// What the leader measured in the pause between the phases.
#[derive(Debug, Default, Clone, Copy)]
struct Pause {
    /// Shards when the inserts ended.
    shards: usize,
    /// Resident memory growth when the inserts ended.
    loaded_rss: u64,
    /// The forced doubling's peak resident memory over that after it.
    migration_ratio: f64,
    /// CPU time the pause took, left out of the per-operation figure.
    cpu: Duration,
}

impl GrowReport {
    /// The report as human-readable text.
    pub fn to_text(&self) -> String {
        format!(
            "workload grow  memtable {}  threads {}  keys {} inserted then deleted\n\
             throughput {:.0} ops/s overall, {:.0} ns CPU per op; growth: median 100 ms window {:.0} ops/s, lowest window {:.2} of median (windows {}..{}); deletes: lowest {:.2} of median (windows {}..{})\n\
             resizes {} (peak {} shards)\n\
             p99.9 latency: {} ns during migrations ({} ops), {} ns steady; max {} ns migrating, {} ns steady\n\
             memory: peak {:.1} MB, loaded {:.1} MB, final {:.1} MB; a quiescent doubling's peak/after {:.2}",
            self.memtable,
            self.threads,
            self.keys,
            self.ops_per_sec,
            self.cpu_ns_per_op,
            self.median_window_ops_per_sec,
            self.min_window_ratio,
            self.growth_windows.0,
            self.growth_windows.1,
            self.min_window_ratio_delete,
            self.delete_windows.0,
            self.delete_windows.1,
            self.resizes,
            self.peak_shards,
            self.p999_ns_migrating,
            self.ops_migrating,
            self.p999_ns_steady,
            self.max_ns_migrating,
            self.max_ns_steady,
            self.peak_rss_bytes as f64 / 1e6,
            self.loaded_rss_bytes as f64 / 1e6,
            self.final_rss_bytes as f64 / 1e6,
            self.migration_rss_ratio,
        )
    }
}
