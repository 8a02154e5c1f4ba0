//! The `tandem` binary: flags, subcommands and process set-up only.
//!
//! Owns the command line. Each subcommand hands off to a crate: `bench` to
//! `tandem-bench`. The server comes in its own crate and subcommand.

use clap::{Parser, Subcommand};

// Entry blocks are sized to mimalloc's size classes (see the engine's
// `entry::class`), so a 16-byte key with a 64-byte value costs exactly one
// 96-byte allocation. The system allocator rounds the same block to 112.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

fn main() {
    let cli = Cli::parse();
    match cli.command {
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
