//! The `tandem` binary: flags, subcommands and process set-up only.
//!
//! Owns the command line. Each subcommand hands off to a crate: `bench` to
//! `tandem-bench`. The server comes in its own crate and subcommand.

use clap::{Parser, Subcommand};

// jemalloc, because memory per key is a first-class target: entry blocks
// are sized to its size classes (the engine's `entry::class`), and on this
// machine it holds a 96-byte block in ~97 resident bytes and a 768-byte
// tree leaf in ~787. glibc rounds the block to 112; mimalloc 3 spent ~110
// and ~944 (docs/BENCHMARKS.md, "Allocator").
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Tandem: a sharded, self-resizing, Redis-compatible key-value store.
#[derive(Parser, Debug)]
#[command(name = "tandem", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a benchmark.
    Bench {
        #[command(subcommand)]
        target: BenchTarget,
    },
}

#[derive(Subcommand, Debug)]
enum BenchTarget {
    /// Benchmark the engine in-process (no network).
    Engine(tandem_bench::engine::EngineArgs),
}

/// Prints one JSON object with `--json`, else the text form.
fn print_report<R: serde::Serialize>(json: bool, report: &R, text: impl FnOnce() -> String) {
    if json {
        println!("{}", serde_json::to_string(report).unwrap_or_default());
    } else {
        println!("{}", text());
    }
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Bench {
            target: BenchTarget::Engine(args),
        } if args.workload == tandem_bench::engine::Workload::Grow => {
            let report = tandem_bench::engine::run_grow(&args);
            if let Some(path) = &args.chart {
                if let Err(e) = std::fs::write(path, report.to_svg()) {
                    eprintln!("cannot write the chart to {}: {e}", path.display());
                    std::process::exit(1);
                }
            }
            print_report(args.json, &report, || report.to_text());
        }
        Command::Bench {
            target: BenchTarget::Engine(args),
        } if args.workload == tandem_bench::engine::Workload::Expiry => {
            let report = tandem_bench::expiry::run(&args);
            print_report(args.json, &report, || report.to_text());
        }
        Command::Bench {
            target: BenchTarget::Engine(args),
        } if args.workload == tandem_bench::engine::Workload::Fanout => {
            let report = tandem_bench::fanout::run(&args);
            print_report(args.json, &report, || report.to_text());
        }
        Command::Bench {
            target: BenchTarget::Engine(args),
        } => {
            let report = tandem_bench::engine::run(&args);
            if args.json {
                println!("{}", report.to_json());
            } else {
                println!("{}", report.to_text());
            }
        }
    }
}
