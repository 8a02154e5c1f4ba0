//! The `tandem` binary: flags, subcommands and process set-up only.
//!
//! Owns the command line, logging and signals. Each subcommand hands off to
//! a crate: `server` to `tandem-server`, `bench` to `tandem-bench`, `check`
//! to `tandem-engine` (this file only turns its result into an exit code);
//! `top` is a client of a running server (`top.rs`).

// As in every crate of the workspace: no index that can panic outside tests.
#![deny(clippy::indexing_slicing)]

mod top;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

// jemalloc, because memory per key is a first-class target: entry blocks
// are sized to its size classes (the engine's `entry::class`), and on this
// machine it holds a 96-byte block in ~97 resident bytes and a 768-byte
// tree leaf in ~787. glibc rounds the block to 112; mimalloc 3 spent ~110
// and ~944 (docs/BENCHMARKS.md, "Allocator").
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

// jemalloc's options, read at its start-up (its `malloc_conf`): a thread
// of its own returns pages freed for a second (not ten) to the system,
// at once rather than in a second stage. Under a memory bound, evictions
// free pages continuously; with the defaults, RSS under a churn of mixed
// sizes held 1.14x maxmemory, with these 1.10x (docs/BENCHMARKS.md,
// "Cache mode"). `_RJEM_MALLOC_CONF` in the environment still overrides.
#[export_name = "_rjem_malloc_conf"]
static MALLOC_CONF: &[u8; 60] = b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

/// Tandem: a sharded, self-resizing, Redis-compatible key-value store.
#[derive(Parser, Debug)]
#[command(name = "tandem", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server (Redis protocol; 127.0.0.1:6379; snapshots in the
    /// working directory by Redis's save rules, by default). Every setting
    /// below can also go in a TOML file given with --config; flags win over
    /// the file.
    Server(Box<tandem_server::Settings>),
    /// Watch a running server: keys, memory, clients, commands per second,
    /// each database's shards and the fullest shards of one, refreshed in
    /// place (through the Redis protocol, as `redis-cli --stat`).
    Top(top::TopArgs),
    /// Run a benchmark.
    Bench {
        #[command(subcommand)]
        target: tandem_bench::Target,
    },
    /// Check the data files (Redis's redis-check-aof and redis-check-rdb).
    ///
    /// Reads the manifest, every entry of the snapshot it names (each
    /// block's checksum, the key order) and every log record from where
    /// the snapshot ends, and prints what it found. Nothing is changed,
    /// except that with --fix a torn tail (the log's last record, cut
    /// short by a crash) is cut off, as the server does at start-up with
    /// `aof-load-truncated yes`. Run it while no server uses the directory:
    /// a record being written looks like a torn tail.
    ///
    /// Example: `tandem check --dir /var/lib/tandem --fix`.
    ///
    /// Exit codes: 0 the files are sound (or had a torn tail that --fix
    /// cut off); 1 the log ends in a torn tail (rerun with --fix); 2 a file
    /// is corrupt or cannot be read (the message names the file and byte).
    Check {
        /// The directory the server was given (`dir`); the files are in
        /// `appenddirname` inside it.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The data directory's name inside --dir, as the server's
        /// `appenddirname`.
        #[arg(long, default_value = "appendonlydir")]
        appenddirname: String,
        /// Cut a torn tail off the log.
        #[arg(long)]
        fix: bool,
    },
}

/// Checks the data files in `dir/appenddirname`, printing the report;
/// returns the exit code (see `Command::Check`).
fn run_check(dir: PathBuf, appenddirname: &str, fix: bool) -> i32 {
    let data = dir.join(appenddirname);
    match tandem_engine::check(&data, &tandem_engine::storage::backend::StdFs, fix) {
        Ok(report) => {
            print!("{report}");
            if report.is_sound() {
                0
            } else {
                eprintln!(
                    "tandem check: the log ends in a torn record; rerun with --fix to cut it off"
                );
                1
            }
        }
        Err(e) => {
            eprintln!("tandem check: {e}");
            2
        }
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
    // CONFIG SET loglevel swaps the filter while the server runs.
    let (filter, reload) = tracing_subscriber::reload::Layer::new(filter);
    {
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        tracing_subscriber::registry()
            .with(filter)
            .with(tracing_subscriber::fmt::layer())
            .init();
    }
    tandem_server::log_level::set_hook(Box::new(move |directive| {
        reload
            .reload(tracing_subscriber::EnvFilter::new(directive))
            .map_err(|e| e.to_string())
    }));
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
    let code = match Cli::parse().command {
        Command::Server(settings) => run_server(*settings),
        Command::Bench { target } => tandem_bench::run(target),
        Command::Top(args) => top::run(&args),
        Command::Check {
            dir,
            appenddirname,
            fix,
        } => run_check(dir, &appenddirname, fix),
    };
    std::process::exit(code);
}
