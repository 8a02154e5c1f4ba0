//! The `tandem` binary: flags, subcommands and process set-up only.
//!
//! Owns the command line, logging and signals. Each subcommand hands off to
//! a crate: `server` to `tandem-server`, `bench` to `tandem-bench`.

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
    /// Run the server (Redis protocol; 127.0.0.1:6379, in memory, by
    /// default). Every setting below can also go in a TOML file given with
    /// --config; flags win over the file.
    Server(tandem_server::Settings),
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
    /// Benchmark a running Redis-protocol server over TCP (Tandem or
    /// Redis): MULTI/EXEC transactions or pub/sub fan-out.
    Net(tandem_bench::net::NetArgs),
}

/// Prints one JSON object with `--json`, else the text form.
fn print_report<R: serde::Serialize>(json: bool, report: &R, text: impl FnOnce() -> String) {
    if json {
        println!("{}", serde_json::to_string(report).unwrap_or_default());
    } else {
        println!("{}", text());
    }
}

/// Runs the server until SIGINT, SIGTERM or SHUTDOWN; returns the exit
/// code.
fn run_server(settings: tandem_server::Settings) -> i32 {
    let config = match tandem_server::Config::resolve(settings) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tandem: {e}");
            return 1;
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(
            tandem_server::config::log_filter(&config.loglevel).unwrap_or("info"),
        )
    });
    tracing_subscriber::fmt().with_env_filter(filter).init();
    // This runtime only accepts clients and waits for signals; the server
    // starts its own thread per core to serve them (`io-threads`).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tandem: cannot start the runtime: {e}");
            return 1;
        }
    };
    let result = runtime.block_on(async move {
        let server = tandem_server::Server::bind(config).await?;
        tracing::info!(
            addr = %server.local_addr()?,
            "Tandem {} ready to accept connections",
            env!("CARGO_PKG_VERSION")
        );
        let handle = server.shutdown_handle();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::warn!("received a shutdown signal, finishing in-flight requests");
            handle.shutdown();
        });
        server.run().await
    });
    match result {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!("server failed: {e}");
            eprintln!("tandem: {e}");
            1
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        // Without signal handlers only SHUTDOWN stops the server.
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Server(settings) => std::process::exit(run_server(settings)),
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
            target: BenchTarget::Net(args),
        } => match tandem_bench::net::run(&args) {
            Ok(report) => print_report(args.json, &report, || report.to_text()),
            Err(e) => {
                eprintln!("tandem bench net: {e}");
                std::process::exit(1);
            }
        },
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
