//! `tandem bench net`: load generators that drive a Redis-protocol server
//! over TCP, so Tandem and Redis can be measured by the same client.
//!
//! Owns the command line of `tandem bench net`, the client runtime, and
//! the CPU accounting shared by the workloads:
//! - `multi` (`multi.rs`): clients each sending one MULTI/EXEC transaction
//!   per round trip, on one key (`--mode fast`) or on several (`--mode
//!   multi`).
//! - `fanout` (`fanout.rs`): publishers PUBLISHing to one channel that
//!   `--subscribers` connections subscribe to.
//! - `probe` (`probe.rs`): one connection, one GET per `--interval-us`,
//!   each round trip timed: what a light user sees while something else
//!   (redis-benchmark) loads the server.
//!
//! The client is one Tokio thread by default (`--threads`), like
//! redis-benchmark: on a 2-core machine every core the client takes is one
//! the server does not get. Each report says how much CPU the client used,
//! so a run where the client, not the server, was the limit shows itself.
//! With `--server-pid`, the server's CPU time over the measured phase alone
//! (not connection set-up) is reported too.

mod fanout;
mod multi;
mod probe;

use serde::Serialize;
use std::time::Duration;
use tandem_engine::process::CpuTicks;

pub use fanout::FanoutReport;
pub use multi::MultiReport;
pub use probe::ProbeReport;

/// What the load generator sends.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NetWorkload {
    /// MULTI, `--keys-per-tx` commands, EXEC: one transaction per round
    /// trip per client.
    Multi,
    /// PUBLISH to `--subscribers` subscribers of one channel.
    Fanout,
    /// One GET per `--interval-us` on one connection, each round trip
    /// timed.
    Probe,
}

/// Which keys a transaction touches.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TxMode {
    /// Every command of a transaction on the same (random) key: one shard.
    Fast,
    /// Every command on a different random key: usually several shards.
    Multi,
}

/// The command queued inside each transaction.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TxCommand {
    /// `SET key <value-size bytes>`.
    Set,
    /// `INCR key` (the keys must hold integers or be absent).
    Incr,
}

impl TxMode {
    /// The flag value, for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            TxMode::Fast => "fast",
            TxMode::Multi => "multi",
        }
    }
}

impl TxCommand {
    /// The command name, for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            TxCommand::Set => "SET",
            TxCommand::Incr => "INCR",
        }
    }
}

/// Flags of `tandem bench net`.
#[derive(clap::Args, Debug, Clone)]
pub struct NetArgs {
    /// What to send.
    #[arg(long, value_enum, default_value = "multi")]
    pub workload: NetWorkload,
    /// Server address.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Server port.
    #[arg(long, default_value_t = 6379)]
    pub port: u16,
    /// Client runtime threads (1: a single-threaded runtime, the cheapest).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// The server's process id: report its CPU time (utime+stime from
    /// /proc) over the measured phase.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// For `multi`: connections, each with one transaction in flight.
    #[arg(long, default_value_t = 50)]
    pub clients: usize,
    /// For `multi`: seconds to run; for `probe`, the longest it runs.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// For `multi`: commands between MULTI and EXEC.
    #[arg(long, default_value_t = 4)]
    pub keys_per_tx: usize,
    /// For `multi`: one key per transaction, or a distinct key per command.
    #[arg(long, value_enum, default_value = "multi")]
    pub mode: TxMode,
    /// For `multi`: the command queued.
    #[arg(long, value_enum, default_value = "set")]
    pub command: TxCommand,
    /// For `probe`: microseconds between requests.
    #[arg(long, default_value_t = 1_000)]
    pub interval_us: u64,
    /// For `probe`: also stop when standard input reaches its end (a
    /// driver closes it when the load it runs beside has finished).
    #[arg(long)]
    pub until_stdin_closes: bool,
    /// For `multi` and `probe`: keys are `key:%012d` (as redis-benchmark's -r), drawn
    /// uniformly from this many.
    #[arg(long, default_value_t = 1_000_000)]
    pub keyspace: u64,
    /// For `multi`: random seed (client i uses seed + i).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Value bytes: SET values for `multi`, message payloads for `fanout`.
    #[arg(long, default_value_t = 64)]
    pub value_size: usize,
    /// For `fanout`: subscriber connections.
    #[arg(long, default_value_t = 1_000)]
    pub subscribers: usize,
    /// For `fanout`: publisher connections (each on its own thread),
    /// sharing `--messages` between them.
    #[arg(long, default_value_t = 1)]
    pub publishers: usize,
    /// For `fanout`: messages published in all.
    #[arg(long, default_value_t = 10_000)]
    pub messages: u64,
    /// For `fanout`: PUBLISH commands per write.
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// For `fanout`: batches a publisher may have unanswered.
    #[arg(long, default_value_t = 2)]
    pub window: usize,
    /// For `fanout`: the channel.
    #[arg(long, default_value = "bench")]
    pub channel: String,
    /// For `fanout`: seconds to wait for set-up, and for deliveries after
    /// the first publish, before reporting what arrived; for `probe`, for
    /// one reply.
    #[arg(long, default_value_t = 60.0)]
    pub timeout: f64,
}

/// A `tandem bench net` result.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum NetReport {
    /// `--workload multi`.
    Multi(MultiReport),
    /// `--workload fanout`.
    Fanout(FanoutReport),
    /// `--workload probe`.
    Probe(ProbeReport),
}

impl NetReport {
    /// The report as text.
    pub fn to_text(&self) -> String {
        match self {
            NetReport::Multi(r) => r.to_text(),
            NetReport::Fanout(r) => r.to_text(),
            NetReport::Probe(r) => r.to_text(),
        }
    }
}

/// Runs the workload; errors are the reason nothing could be measured.
pub fn run(args: &NetArgs) -> Result<NetReport, String> {
    match args.workload {
        NetWorkload::Multi => multi::run(args, &runtime(args.threads)?).map(NetReport::Multi),
        NetWorkload::Fanout => fanout::run(args, &runtime(args.threads)?).map(NetReport::Fanout),
        // One blocking connection: a runtime would only add wake-ups.
        NetWorkload::Probe => probe::run(args).map(NetReport::Probe),
    }
}

fn runtime(threads: usize) -> Result<tokio::runtime::Runtime, String> {
    let mut b = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(threads);
        b
    };
    b.enable_all()
        .build()
        .map_err(|e| format!("cannot start the client runtime: {e}"))
}

/// Opens one connection with Nagle off: requests are whole writes already.
async fn connect(host: &str, port: u16) -> Result<tokio::net::TcpStream, String> {
    let s = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| connect_error(host, port, &e))?;
    s.set_nodelay(true)
        .map_err(|e| format!("{host}:{port}: {e}"))?;
    Ok(s)
}

fn connect_error(host: &str, port: u16, e: &std::io::Error) -> String {
    // EMFILE: the usual 1024-descriptor soft limit is below 1000
    // subscribers plus everything else.
    if e.raw_os_error() == Some(24) {
        format!("cannot connect to {host}:{port}: {e} (raise it: ulimit -n 4096)")
    } else {
        format!("cannot connect to {host}:{port}: {e}")
    }
}

/// CPU seconds (utime + stime, all threads) of a process from
/// /proc/<pid>/stat, or of this one with `None`; `None` if unreadable.
fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let ticks = match pid {
        Some(p) => CpuTicks::of(p),
        None => CpuTicks::now(),
    };
    Some(ticks?.own().as_secs_f64())
}

/// CPU seconds of this process and of the server, read together at the
/// start and end of a measured phase.
#[derive(Debug, Clone, Copy)]
struct CpuMark {
    client: Option<f64>,
    server: Option<f64>,
}

impl CpuMark {
    fn now(server_pid: Option<u32>) -> Self {
        Self {
            client: cpu_seconds(None),
            server: server_pid.and_then(|p| cpu_seconds(Some(p))),
        }
    }

    /// (client, server) CPU seconds from `self` to `end`.
    fn until(&self, end: &CpuMark) -> (Option<f64>, Option<f64>) {
        let d = |a: Option<f64>, b: Option<f64>| Some(b? - a?);
        (d(self.client, end.client), d(self.server, end.server))
    }
}

fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(Duration::MAX)
}

/// `x` per `n`, in microseconds, if both are known and `n` is not zero.
fn us_per(x: Option<f64>, n: u64) -> Option<f64> {
    (n > 0).then_some(())?;
    Some(x? * 1e6 / n as f64)
}

/// Formats an optional number for the text reports.
fn opt(x: Option<f64>, digits: usize) -> String {
    x.map_or_else(|| "n/a".to_string(), |v| format!("{v:.digits$}"))
}
