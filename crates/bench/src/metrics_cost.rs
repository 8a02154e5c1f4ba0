//! `tandem bench metrics`: what recording one request costs through each
//! Prometheus client the design allows, against the per-thread counters
//! the server keeps, with every thread recording at once.
//!
//! Owns the recording loops and their report. One "request" is what the
//! server would record for a command: its call count, by command name,
//! and its duration in a histogram. Each variant runs on `--threads`
//! threads at once over the same two command names (as under
//! redis-benchmark, every client hits the same series), alternating
//! variants round by round; the report gives each variant's median
//! nanoseconds per request. It measures; it decides nothing.

use metrics_exporter_prometheus::PrometheusBuilder;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Instant;

/// The command names requests are recorded under.
const NAMES: [&str; 2] = ["set", "get"];
/// Histogram buckets: powers of two from 1 µs, as LATENCY HISTOGRAM's.
const BUCKETS: usize = 24;

/// `tandem bench metrics`'s options.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Threads recording at once.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Requests each thread records per variant and round.
    #[arg(long, default_value_t = 2_000_000)]
    pub requests: u64,
    /// Rounds (each runs every variant once, in turn).
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// One JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// One variant's result.
#[derive(Debug, Serialize)]
pub struct Row {
    /// Which client, and how it is called.
    pub variant: &'static str,
    /// Median over rounds of wall-clock nanoseconds per request per thread.
    pub ns_per_request: f64,
    /// Every round's value, in order.
    pub rounds: Vec<f64>,
}

/// The benchmark's report.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Threads recording at once.
    pub threads: usize,
    /// Requests per thread per round.
    pub requests: u64,
    /// One row per variant.
    pub rows: Vec<Row>,
}

impl Report {
    /// The text form.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "recording one request (count by command + duration histogram), {} threads at once, {} requests each\n",
            self.threads, self.requests
        );
        for r in &self.rows {
            out.push_str(&format!(
                "{:<34} {:>8.1} ns/request (rounds: {})\n",
                r.variant,
                r.ns_per_request,
                r.rounds
                    .iter()
                    .map(|v| format!("{v:.1}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        }
        out
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Cmd {
    cmd: &'static str,
}

/// A fake duration for request `i`: spread over a few buckets, as real
/// ones are, without reading a clock (the clock is not what is measured).
fn micros(i: u64) -> u64 {
    1 + (i & 7) * (1 + (i >> 3 & 3))
}

/// The command request `i` records.
fn name(i: u64) -> &'static str {
    if i & 1 == 0 {
        "set"
    } else {
        "get"
    }
}

/// The server's way: a table per thread, written only by its thread with
/// a plain load and store, summed by the reader.
struct PerThread {
    calls: [AtomicU64; NAMES.len()],
    buckets: [[AtomicU64; BUCKETS]; NAMES.len()],
}

fn bump(c: &AtomicU64) {
    c.store(c.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
}

fn per_thread_loop(requests: u64) {
    let table = Arc::new(PerThread {
        calls: std::array::from_fn(|_| AtomicU64::new(0)),
        buckets: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
    });
    for i in 0..requests {
        let n = (i & 1) as usize;
        if let (Some(calls), Some(buckets)) = (table.calls.get(n), table.buckets.get(n)) {
            bump(calls);
            let b = (64 - micros(i).leading_zeros()) as usize;
            if let Some(bucket) = buckets.get(b.min(BUCKETS - 1)) {
                bump(bucket);
            }
        }
    }
    std::hint::black_box(&table);
}

/// Runs `body` on every thread at once; nanoseconds per request per thread.
fn timed(threads: usize, requests: u64, body: Arc<dyn Fn(u64) + Send + Sync>) -> f64 {
    let barrier = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (barrier, body) = (barrier.clone(), body.clone());
            std::thread::spawn(move || {
                barrier.wait();
                body(requests);
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    for h in handles {
        let _ = h.join();
    }
    started.elapsed().as_nanos() as f64 / requests.max(1) as f64
}

/// Runs every variant `args.rounds` times, alternating.
pub fn run(args: &Args) -> Report {
    let buckets = || Histogram::new(exponential_buckets(1e-6, 2.0, BUCKETS as u16));
    let pc_calls = Arc::new(Family::<Cmd, Counter>::default());
    let pc_times = Arc::new(Family::<Cmd, Histogram>::new_with_constructor(
        buckets as fn() -> Histogram,
    ));
    let pc_handles: Arc<Vec<(Counter, Histogram)>> = Arc::new(
        NAMES
            .iter()
            .map(|&cmd| {
                let c = Cmd { cmd };
                (
                    pc_calls.get_or_create(&c).clone(),
                    pc_times.get_or_create(&c).clone(),
                )
            })
            .collect(),
    );
    // The `metrics` crate records through one process-wide recorder.
    let recorder_installed =
        metrics::set_global_recorder(PrometheusBuilder::new().build_recorder()).is_ok();
    let m_handles: Arc<Vec<(metrics::Counter, metrics::Histogram)>> = Arc::new(
        NAMES
            .iter()
            .map(|&cmd| {
                (
                    metrics::counter!("tandem_commands_total", "cmd" => cmd),
                    metrics::histogram!("tandem_command_duration_seconds", "cmd" => cmd),
                )
            })
            .collect(),
    );
    type Variant = (&'static str, Arc<dyn Fn(u64) + Send + Sync>);
    let mut variants: Vec<Variant> = vec![
        ("per-thread table (the server's)", Arc::new(per_thread_loop)),
        ("prometheus-client, family lookup", {
            let (calls, times) = (pc_calls.clone(), pc_times.clone());
            Arc::new(move |requests| {
                for i in 0..requests {
                    let c = Cmd { cmd: name(i) };
                    calls.get_or_create(&c).inc();
                    times.get_or_create(&c).observe(micros(i) as f64 * 1e-6);
                }
            })
        }),
        ("prometheus-client, held handles", {
            let handles = pc_handles.clone();
            Arc::new(move |requests| {
                for i in 0..requests {
                    if let Some((calls, times)) = handles.get((i & 1) as usize) {
                        calls.inc();
                        times.observe(micros(i) as f64 * 1e-6);
                    }
                }
            })
        }),
    ];
    if recorder_installed {
        variants.push(("metrics, macro lookup", {
            Arc::new(|requests| {
                for i in 0..requests {
                    let cmd = name(i);
                    metrics::counter!("tandem_commands_total", "cmd" => cmd).increment(1);
                    metrics::histogram!("tandem_command_duration_seconds", "cmd" => cmd)
                        .record(micros(i) as f64 * 1e-6);
                }
            })
        }));
        variants.push(("metrics, held handles", {
            let handles = m_handles.clone();
            Arc::new(move |requests| {
                for i in 0..requests {
                    if let Some((calls, times)) = handles.get((i & 1) as usize) {
                        calls.increment(1);
                        times.record(micros(i) as f64 * 1e-6);
                    }
                }
            })
        }));
    }
    let mut rounds: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    for _ in 0..args.rounds.max(1) {
        for (i, (_, body)) in variants.iter().enumerate() {
            let ns = timed(args.threads.max(1), args.requests, body.clone());
            if let Some(r) = rounds.get_mut(i) {
                r.push(ns);
            }
        }
    }
    let rows = variants
        .iter()
        .zip(rounds)
        .map(|((variant, _), rounds)| {
            let mut sorted = rounds.clone();
            sorted.sort_by(f64::total_cmp);
            Row {
                variant,
                ns_per_request: sorted.get(sorted.len() / 2).copied().unwrap_or(0.0),
                rounds,
            }
        })
        .collect();
    Report {
        threads: args.threads,
        requests: args.requests,
        rows,
    }
}
