//! Tandem's benchmarks, run as `tandem bench <target> ...`.
//!
//! Owns workload generation, timing and reporting, and the dispatch from
//! parsed arguments to a workload (`run`). Benchmarks measure; they never
//! assert. Results go to `docs/BENCHMARKS.md` with the command that
//! produced them. This crate never depends on the server: the server's
//! tests use its RESP client (`resp`), not the other way round.

// Input reaches the harness from the command line and from the server's
// replies: a bad length must be an error, not a panic.
#![deny(clippy::indexing_slicing)]

pub mod args;
mod chart;
pub mod engine;
pub mod expiry;
pub mod fanout;
pub mod grow;
mod keys;
pub mod metrics_cost;
pub mod net;
mod progress;
mod report;
pub mod resp;

pub use report::Report;

/// What `tandem bench` runs: its subcommands, as parsed by the binary.
#[derive(clap::Subcommand, Debug)]
pub enum Target {
    /// Benchmark the engine in-process (no network).
    Engine(args::EngineArgs),
    /// Benchmark a running Redis-protocol server over TCP (Tandem or
    /// Redis): MULTI/EXEC transactions or pub/sub fan-out.
    Net(net::NetArgs),
    /// Measure what recording one request costs through each Prometheus
    /// client, against the server's per-thread counters.
    Metrics(metrics_cost::Args),
}

/// Runs the benchmark `target` names and prints its report (one JSON
/// object with `--json`, else text); returns the process's exit code.
pub fn run(target: Target) -> i32 {
    match target {
        Target::Engine(args) => match args.workload {
            args::Workload::Grow => {
                let report = engine::run_grow(&args);
                if let Some(path) = &args.chart {
                    let written = chart::throughput_svg(&report, grow::WINDOW)
                        .and_then(|svg| std::fs::write(path, svg).map_err(|e| e.to_string()));
                    if let Err(e) = written {
                        eprintln!("cannot write the chart to {}: {e}", path.display());
                        return 1;
                    }
                }
                print(args.json, &report, || report.to_text());
            }
            args::Workload::Expiry => {
                let report = expiry::run(&args);
                print(args.json, &report, || report.to_text());
            }
            args::Workload::Fanout => {
                let report = fanout::run(&args);
                print(args.json, &report, || report.to_text());
            }
            args::Workload::Write
            | args::Workload::Read
            | args::Workload::Mixed
            | args::Workload::Scan
            | args::Workload::Load => {
                let report = engine::run(&args);
                if args.json {
                    println!("{}", report.to_json());
                } else {
                    println!("{}", report.to_text());
                }
            }
        },
        Target::Metrics(args) => {
            let report = metrics_cost::run(&args);
            print(args.json, &report, || report.to_text());
        }
        Target::Net(args) => match net::run(&args) {
            Ok(report) => print(args.json, &report, || report.to_text()),
            Err(e) => {
                eprintln!("tandem bench net: {e}");
                return 1;
            }
        },
    }
    0
}

/// Prints one JSON object with `json`, else the text form.
fn print<R: serde::Serialize>(json: bool, report: &R, text: impl FnOnce() -> String) {
    if json {
        println!("{}", serde_json::to_string(report).unwrap_or_default());
    } else {
        println!("{}", text());
    }
}
