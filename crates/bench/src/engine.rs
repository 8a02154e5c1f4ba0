//! `tandem bench engine`: the engine in-process, without the network.
//!
//! Workloads (keys are drawn uniformly at random from `--keys`):
//! - `write`: SET over a preloaded keyspace (every SET overwrites).
//! - `read`: GET over a preloaded keyspace.
//! - `mixed`: half SET, half GET (the self-scaling notes' workload).
//! - `scan`: ordered range scans of `--scan-len` entries from a random key.
//! - `load`: insert `--keys` new keys; reports resident memory per key.
//!
//! Reads use `get_with`, the zero-copy GET a server answers from.
//!
//! Every operation is timed individually into an HDR histogram; throughput
//! is operations over wall-clock time of the measured phase, so the timer's
//! own cost (~20 ns per call) is included, equally for every memtable.

use crate::args::{EngineArgs, MemtableArg, Workload};
use crate::keys::{key, Rng};
use crate::progress;
use crate::report::new_histogram;
use crate::report::Report;
use hdrhistogram::Histogram;
use std::hint::black_box;
use std::ops::Bound;
use std::sync::{Arc, Barrier};
use std::time::Instant;
use tandem_engine::prelude::*;
use tandem_engine::process::rss_bytes;
use tandem_engine::MemtableKind;

fn set_options(ttl: bool) -> SetOptions {
    SetOptions {
        ttl: if ttl {
            SetTtl::At(Expiry::Seconds(3600))
        } else {
            SetTtl::Clear
        },
        ..SetOptions::default()
    }
}

/// Runs `f(thread_index)` on `threads` threads released together, and
/// returns the wall-clock seconds until the last one finished, with each
/// thread's result.
fn parallel<T: Send + 'static>(
    threads: usize,
    f: impl Fn(usize) -> T + Send + Sync + 'static,
) -> (f64, Vec<T>) {
    let f = Arc::new(f);
    let barrier = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (f, barrier) = (f.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                f(t)
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let results = handles.into_iter().filter_map(|h| h.join().ok()).collect();
    (start.elapsed().as_secs_f64(), results)
}

/// Inserts keys `0..keys`, split evenly over the threads.
fn load(db: &Db, args: &EngineArgs, timed: bool) -> (f64, Histogram<u64>) {
    let threads = args.threads.max(1);
    let (db, args2) = (db.clone(), args.clone());
    let bar = progress::bar(args.keys, "load");
    let shown = bar.clone();
    let (elapsed, hists) = parallel(threads, move |t| {
        let mut done = progress::Counter::new(&shown);
        let mut h = new_histogram();
        let value = vec![b'v'; args2.value_size];
        let opts = set_options(args2.ttl);
        let per = args2.keys.div_ceil(threads as u64);
        let mut buf = Vec::with_capacity(args2.key_size);
        for i in (t as u64 * per)..((t as u64 + 1) * per).min(args2.keys) {
            key(i, args2.key_size, &mut buf);
            let t0 = timed.then(Instant::now);
            let _ = black_box(db.set(&buf, &value, opts));
            if let Some(t0) = t0 {
                record(&mut h, t0);
            }
            done.tick();
        }
        h
    });
    bar.finish_and_clear();
    (elapsed, merge(hists))
}

fn record(h: &mut Histogram<u64>, t0: Instant) {
    let ns = u64::try_from(t0.elapsed().as_nanos())
        .unwrap_or(u64::MAX)
        .max(1);
    h.saturating_record(ns);
}

fn merge(hists: Vec<Histogram<u64>>) -> Histogram<u64> {
    let mut all = new_histogram();
    for h in hists {
        // Same bounds everywhere, so adding cannot fail.
        let _ = all.add(h);
    }
    all
}

fn lock_waits(db: &Db) -> u64 {
    let s = db.stats();
    s.read_waits + s.write_waits
}

/// The keyspace `args` describe: the chosen memtable, with a fixed shard
/// count when `--shards` is given, otherwise resizing itself from one shard.
pub(crate) fn open(args: &EngineArgs) -> Db {
    let mut options = Options::default().memtable(match args.memtable {
        MemtableArg::Sharded => MemtableKind::Sharded,
        MemtableArg::SingleLock => MemtableKind::SingleLock,
    });
    if let Some(n) = args.shards {
        options = options.shards(n);
    }
    Db::new(
        options
            .migration_assist(args.migration_assist)
            .migration_share(args.migration_share),
    )
}

/// Waits until a self-resizing keyspace stops resizing after the preload
/// (at most 60 s), so that the measurement sees its steady state.
pub(crate) fn settle(db: &Db) {
    let deadline = Instant::now() + std::time::Duration::from_secs(60);
    let mut seen = db.stats().resizes;
    while Instant::now() < deadline {
        // Longer than the resizer's interval and cooldown.
        std::thread::sleep(std::time::Duration::from_millis(300));
        let now = db.stats().resizes;
        if now == seen && !db.is_resizing() {
            return;
        }
        seen = now;
    }
}

/// Runs the `grow` workload.
pub fn run_grow(args: &EngineArgs) -> crate::grow::GrowReport {
    crate::grow::run(
        open(args),
        args.threads,
        args.keys,
        args.key_size,
        args.value_size,
    )
}

/// Runs the benchmark described by `args` (any workload but `grow`).
pub fn run(args: &EngineArgs) -> Report {
    let db = open(args);
    let threads = args.threads.max(1);
    let mut report = Report {
        workload: format!("{:?}", args.workload).to_lowercase(),
        memtable: db.memtable_kind().as_str().to_string(),
        shards: db.shard_count(),
        threads,
        keys: args.keys,
        ops: args.ops,
        key_size: args.key_size,
        value_size: args.value_size,
        elapsed_s: 0.0,
        ops_per_sec: 0.0,
        p50_ns: 0,
        p99_ns: 0,
        p999_ns: 0,
        max_ns: 0,
        bytes_per_key: None,
        engine_bytes_per_key: None,
        index_bytes_per_key: None,
        scan_len: (args.workload == Workload::Scan).then_some(args.scan_len),
        ttl: args.ttl,
        lock_waits: 0,
    };

    if args.workload == Workload::Load {
        let before = rss_bytes().unwrap_or(0);
        let (elapsed, h) = load(&db, args, true);
        let grown = rss_bytes().unwrap_or(0).saturating_sub(before);
        report.ops = args.keys;
        report.elapsed_s = elapsed;
        report.ops_per_sec = args.keys as f64 / elapsed;
        report.bytes_per_key = Some(grown as f64 / args.keys.max(1) as f64);
        let stats = db.stats();
        let per_key = |b: usize| Some(b as f64 / args.keys.max(1) as f64);
        report.engine_bytes_per_key = per_key(stats.approx_bytes);
        report.index_bytes_per_key = per_key(stats.index_bytes);
        report.lock_waits = lock_waits(&db);
        report.fill_latency(&h);
        return report;
    }

    load(&db, args, false);
    settle(&db);
    report.shards = db.shard_count();
    let waits_before = lock_waits(&db);
    let per_thread = args.ops.div_ceil(threads as u64);
    let (d, a) = (db.clone(), args.clone());
    let bar = progress::bar(per_thread * threads as u64, &report.workload);
    let shown = bar.clone();
    let (elapsed, hists) = parallel(threads, move |t| {
        let mut done = progress::Counter::new(&shown);
        let mut h = new_histogram();
        let mut rng = Rng::new(t as u64 + 1);
        let value = vec![b'w'; a.value_size];
        let opts = set_options(a.ttl);
        let mut buf = Vec::with_capacity(a.key_size);
        for _ in 0..per_thread {
            key(rng.below(a.keys), a.key_size, &mut buf);
            let write = match a.workload {
                Workload::Write => true,
                Workload::Mixed => rng.below(2) == 0,
                _ => false,
            };
            let t0 = Instant::now();
            match a.workload {
                Workload::Scan => {
                    let page = d.range(Bound::Included(&buf), Bound::Unbounded, a.scan_len);
                    black_box(page);
                }
                _ if write => {
                    let _ = black_box(d.set(&buf, &value, opts));
                }
                _ => {
                    // The zero-copy read a server uses to answer GET.
                    let _ = black_box(d.get_with(&buf, |v| v.map(|v| black_box(v).len())));
                }
            }
            record(&mut h, t0);
            done.tick();
        }
        h
    });
    bar.finish_and_clear();
    report.ops = per_thread * threads as u64;
    report.elapsed_s = elapsed;
    report.ops_per_sec = report.ops as f64 / elapsed;
    report.lock_waits = lock_waits(&db) - waits_before;
    report.fill_latency(&merge(hists));
    report
}
