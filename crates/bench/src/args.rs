//! The flags of `tandem bench engine`: which workload, on which memtable,
//! with how many threads, keys and operations.
//!
//! Owns the parsed arguments every engine workload reads (`engine`,
//! `grow`, `expiry`, `fanout`), so that those modules depend on this one
//! and never on each other. It never runs anything.

use serde::Serialize;

/// Which memtable to benchmark.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemtableArg {
    /// Hash-routed shards, each with its own lock.
    Sharded,
    /// One lock over one map (the baseline).
    SingleLock,
}

/// The operation mix.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// SET over a preloaded keyspace.
    Write,
    /// GET over a preloaded keyspace.
    Read,
    /// Half SET, half GET over a preloaded keyspace.
    Mixed,
    /// Ordered range scans of `--scan-len` entries.
    Scan,
    /// Insert `--keys` new keys and measure memory per key.
    Load,
    /// From one shard: insert `--keys` unique keys, then delete them all,
    /// while the keyspace resizes itself (`--threads 100` for the seed's).
    Grow,
    /// Lateness of `expired` events: `--background` volatile keys, then
    /// `--probes` keys expiring over `--spread` seconds.
    Expiry,
    /// Pub/sub fan-out: one publisher, `--subscribers` subscribers.
    Fanout,
}

/// Flags of `tandem bench engine`.
#[derive(clap::Args, Debug, Clone)]
pub struct EngineArgs {
    /// Memtable implementation.
    #[arg(long, value_enum, default_value = "sharded")]
    pub memtable: MemtableArg,
    /// A fixed shard count for `sharded` [default: start at one shard and
    /// resize with the load].
    #[arg(long)]
    pub shards: Option<usize>,
    /// Entries a request moves when it finds a migration step due.
    #[arg(long, default_value_t = 16)]
    pub migration_assist: usize,
    /// The share of time a migration may take (1: unpaced).
    #[arg(long, default_value_t = 0.2)]
    pub migration_share: f64,
    /// Worker threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Keyspace size (keys preloaded, or loaded by `load`).
    #[arg(long, default_value_t = 1_000_000)]
    pub keys: u64,
    /// Operations to measure, across all threads (ignored by `load`).
    #[arg(long, default_value_t = 1_000_000)]
    pub ops: u64,
    /// Key size in bytes.
    #[arg(long, default_value_t = 16)]
    pub key_size: usize,
    /// Value size in bytes.
    #[arg(long, default_value_t = 100)]
    pub value_size: usize,
    /// Operation mix.
    #[arg(long, value_enum, default_value = "mixed")]
    pub workload: Workload,
    /// Entries per scan, for `scan`.
    #[arg(long, default_value_t = 1000)]
    pub scan_len: usize,
    /// Give every key a TTL (one hour), to measure what expiry costs.
    #[arg(long)]
    pub ttl: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// For `expiry`: volatile keys with long TTLs loaded first.
    #[arg(long, default_value_t = 1_000_000)]
    pub background: u64,
    /// For `expiry`: keys whose `expired` events are timed.
    #[arg(long, default_value_t = 10_000)]
    pub probes: u64,
    /// For `expiry`: seconds the probes' deadlines are spread over.
    #[arg(long, default_value_t = 10.0)]
    pub spread: f64,
    /// For `fanout`: subscribers on the channel.
    #[arg(long, default_value_t = 1_000)]
    pub subscribers: usize,
    /// For `fanout`: messages published.
    #[arg(long, default_value_t = 10_000)]
    pub messages: u64,
    /// For `fanout`: threads draining the subscribers.
    #[arg(long, default_value_t = 1)]
    pub consumers: usize,
    /// For `fanout`: how subscribers are drained.
    #[arg(long, value_enum, default_value = "poll")]
    pub receive: Receive,
    /// For `grow`: write an SVG chart of throughput over time, with every
    /// resize marked, to this file.
    #[arg(long)]
    pub chart: Option<std::path::PathBuf>,
}

/// How the benchmark's subscribers receive.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Receive {
    /// `--consumers` threads polling with `try_recv`.
    Poll,
    /// One thread per subscriber, blocking in `recv_timeout`.
    Block,
    /// One task per subscriber awaiting `recv_async`.
    Async,
}
