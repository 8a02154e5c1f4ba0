//! What `/metrics` reports: every series, read at scrape time from the
//! same sources as INFO, in the OpenMetrics text format that Prometheus
//! scrapes (written by prometheus-client's encoder).
//!
//! Owns the series' names, help, types and labels. Names follow
//! Prometheus's conventions with a `tandem_` prefix (base units, `_total`
//! for counters) and redis_exporter's set where Tandem has the same thing
//! (`tandem_commands_total{cmd}`, `tandem_connected_clients`, ...), plus
//! the sharded-memtable document's series. Nothing here is recorded per
//! request: the per-thread tables are summed when read, and the engine's
//! numbers are gathered shard by shard under each shard's read lock, as
//! INFO gathers them. It must never write what it reads.

use super::gather::{DbNumbers, Gathered};
use crate::command::{stat_flags, stat_names};
use crate::latency::Snapshot;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, MetricEncoder};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use std::fmt::Error;
use tandem_engine::{ResizeState, WAIT_BOUNDS_NS};

/// Labels: names and values.
type Labels = Vec<(&'static str, String)>;

/// Commands the memtable's scan latency is made of; other commands flagged
/// read-only make up its read latency, and those flagged write its write
/// latency.
const SCANS: &[&str] = &["scan", "hscan", "sscan", "zscan", "keys"];

/// The command-duration histograms' bucket bounds: powers of two of
/// nanoseconds, 2^10 (about 1 µs) to 2^33 (about 8.6 s). They are edges
/// of the latency histograms' own buckets, so the counts are exact.
const DURATION_EXPONENTS: std::ops::RangeInclusive<u32> = 10..=33;

/// The scrape: a collector over what `gather` read.
struct Scrape {
    g: Gathered,
}

/// The collector trait asks for `Debug`; the numbers need none.
impl std::fmt::Debug for Scrape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scrape")
    }
}

/// The metrics text for what `gather` read.
pub(crate) fn render(g: Gathered) -> Result<String, Error> {
    let mut registry = Registry::with_prefix("tandem");
    registry.register_collector(Box::new(Scrape { g }));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry)?;
    Ok(text)
}

/// One family of series being written.
struct Family<'e, 'd> {
    encoder: MetricEncoder<'e>,
    _descriptor: std::marker::PhantomData<&'d ()>,
}

impl Family<'_, '_> {
    /// Writes one series: under `labels`, or bare when there are none
    /// (`name value`, not `name{} value`).
    fn series(
        &mut self,
        labels: &Labels,
        write: impl FnOnce(&mut MetricEncoder<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        if labels.is_empty() {
            write(&mut self.encoder)
        } else {
            write(&mut self.encoder.encode_family(labels)?)
        }
    }

    fn counter(&mut self, labels: &Labels, v: u64) -> Result<(), Error> {
        self.series(labels, |m| m.encode_counter::<Labels, u64, u64>(&v, None))
    }

    fn counter_f64(&mut self, labels: &Labels, v: f64) -> Result<(), Error> {
        self.series(labels, |m| m.encode_counter::<Labels, f64, u64>(&v, None))
    }

    fn gauge(&mut self, labels: &Labels, v: f64) -> Result<(), Error> {
        self.series(labels, |m| m.encode_gauge(&v))
    }

    fn int_gauge(&mut self, labels: &Labels, v: i64) -> Result<(), Error> {
        self.series(labels, |m| m.encode_gauge(&v))
    }

    /// `buckets`: `(upper bound, count)`, not cumulative; the last bound
    /// is `f64::MAX` for +Inf.
    fn histogram(
        &mut self,
        labels: &Labels,
        sum: f64,
        count: u64,
        buckets: &[(f64, u64)],
    ) -> Result<(), Error> {
        self.series(labels, |m| {
            m.encode_histogram::<Labels>(sum, count, buckets, None)
        })
    }
}

/// Starts a family: its `# HELP`, `# TYPE` and `# UNIT` lines.
fn family<'e>(
    encoder: &'e mut DescriptorEncoder<'_>,
    name: &'e str,
    help: &str,
    unit: Option<&'e Unit>,
    kind: MetricType,
) -> Result<Family<'e, 'e>, Error> {
    Ok(Family {
        encoder: encoder.encode_descriptor(name, help, unit, kind)?,
        _descriptor: std::marker::PhantomData,
    })
}

fn none() -> Labels {
    Vec::new()
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A latency snapshot as histogram buckets at `DURATION_EXPONENTS`.
fn duration_buckets(h: &Snapshot) -> Vec<(f64, u64)> {
    let mut out = Vec::with_capacity(DURATION_EXPONENTS.count() + 1);
    let mut below = 0;
    for exp in DURATION_EXPONENTS {
        let cumulative = h.at_most((1u64 << exp) - 1);
        out.push(((1u64 << exp) as f64 / 1e9, cumulative - below));
        below = cumulative;
    }
    out.push((f64::MAX, h.count() - below));
    out
}

/// Which memtable latency a command's duration counts towards.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Write,
    Read,
    Scan,
}

fn kind_of(name: &str, flags: u32) -> Option<Kind> {
    use crate::command::spec_flags::{READONLY, WRITE};
    if SCANS.contains(&name) {
        return Some(Kind::Scan);
    }
    if flags & WRITE != 0 {
        Some(Kind::Write)
    } else if flags & READONLY != 0 {
        Some(Kind::Read)
    } else {
        None
    }
}

impl Collector for Scrape {
    fn encode(&self, mut e: DescriptorEncoder) -> Result<(), Error> {
        let g = &self.g;
        server(&mut e, g)?;
        commands(&mut e, g)?;
        engine(&mut e, g)?;
        persistence(&mut e, g)?;
        Ok(())
    }
}

fn server(e: &mut DescriptorEncoder, g: &Gathered) -> Result<(), Error> {
    let mut f = family(
        e,
        "build_info",
        "Tandem's version and the Redis version it answers as",
        None,
        MetricType::Gauge,
    )?;
    f.int_gauge(
        &vec![
            ("version", env!("CARGO_PKG_VERSION").to_string()),
            ("redis_version", crate::command::REDIS_VERSION.to_string()),
        ],
        1,
    )?;
    let uptime = g.uptime_secs;
    family(
        e,
        "uptime",
        "Time since the server started",
        Some(&Unit::Seconds),
        MetricType::Gauge,
    )?
    .gauge(&none(), uptime)?;
    family(
        e,
        "connected_clients",
        "Client connections open",
        None,
        MetricType::Gauge,
    )?
    .int_gauge(&none(), clamp(g.clients))?;
    family(
        e,
        "max_clients",
        "The most client connections allowed (maxclients)",
        None,
        MetricType::Gauge,
    )?
    .int_gauge(&none(), i64::from(g.maxclients))?;
    family(
        e,
        "blocked_clients",
        "Clients waiting in a blocking command",
        None,
        MetricType::Gauge,
    )?
    .int_gauge(&none(), clamp(g.blocked))?;
    let totals = &g.totals;
    family(
        e,
        "connections_received",
        "Connections accepted",
        None,
        MetricType::Counter,
    )?
    .counter(&none(), totals.connections)?;
    family(
        e,
        "rejected_connections",
        "Connections refused (maxclients, protected mode)",
        None,
        MetricType::Counter,
    )?
    .counter(&none(), totals.rejected_connections)?;
    family(
        e,
        "pubsub_channels",
        "Channels with subscribers",
        None,
        MetricType::Gauge,
    )?
    .int_gauge(&none(), clamp(g.channels))?;
    family(
        e,
        "pubsub_patterns",
        "Pattern subscriptions",
        None,
        MetricType::Gauge,
    )?
    .int_gauge(&none(), clamp(g.patterns))?;
    if let Some(cpu) = g.cpu {
        let secs = |ticks: u64| ticks as f64 / 100.0;
        family(
            e,
            "cpu_user_seconds",
            "CPU time in user mode, every thread",
            None,
            MetricType::Counter,
        )?
        .counter_f64(&none(), secs(cpu.user))?;
        family(
            e,
            "cpu_system_seconds",
            "CPU time in the kernel on the server's behalf",
            None,
            MetricType::Counter,
        )?
        .counter_f64(&none(), secs(cpu.system))?;
    }
    let used = g.used;
    family(
        e,
        "memory_used",
        "Bytes allocated (used_memory)",
        Some(&Unit::Bytes),
        MetricType::Gauge,
    )?
    .int_gauge(&none(), clamp(used))?;
    family(
        e,
        "memory_peak",
        "The most bytes allocated so far (used_memory_peak)",
        Some(&Unit::Bytes),
        MetricType::Gauge,
    )?
    .int_gauge(&none(), clamp(g.peak))?;
    family(
        e,
        "memory_rss",
        "Resident set size (used_memory_rss)",
        Some(&Unit::Bytes),
        MetricType::Gauge,
    )?
    .int_gauge(&none(), clamp(g.rss))?;
    family(
        e,
        "memory_max",
        "The memory bound (maxmemory); 0 is none",
        Some(&Unit::Bytes),
        MetricType::Gauge,
    )?
    .int_gauge(&none(), clamp(g.maxmemory))?;
    Ok(())
}

fn commands(e: &mut DescriptorEncoder, g: &Gathered) -> Result<(), Error> {
    let totals = &g.totals;
    let latencies = &g.latencies;
    let names = stat_names();
    let used: Vec<(usize, &str)> = names
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            totals
                .commands
                .get(*i)
                .is_some_and(|c| c.calls + c.rejected + c.failed > 0)
        })
        .map(|(i, n)| (i, *n))
        .collect();
    let cmd = |name: &str| -> Labels { vec![("cmd", name.to_string())] };
    family(
        e,
        "keyspace_hits",
        "Read lookups that found their key",
        None,
        MetricType::Counter,
    )?
    .counter(&none(), totals.keyspace_hits)?;
    family(
        e,
        "keyspace_misses",
        "Read lookups that did not find their key",
        None,
        MetricType::Counter,
    )?
    .counter(&none(), totals.keyspace_misses)?;
    family(
        e,
        "commands_processed",
        "Commands run (total_commands_processed)",
        None,
        MetricType::Counter,
    )?
    .counter(&none(), totals.commands_processed())?;
    let mut f = family(e, "commands", "Calls by command", None, MetricType::Counter)?;
    for (i, name) in &used {
        f.counter(&cmd(name), totals.commands.get(*i).map_or(0, |c| c.calls))?;
    }
    let mut f = family(
        e,
        "commands_failed_calls",
        "Calls that replied with an error, by command",
        None,
        MetricType::Counter,
    )?;
    for (i, name) in &used {
        f.counter(&cmd(name), totals.commands.get(*i).map_or(0, |c| c.failed))?;
    }
    let mut f = family(
        e,
        "commands_rejected_calls",
        "Calls refused before running (arity, authentication), by command",
        None,
        MetricType::Counter,
    )?;
    for (i, name) in &used {
        f.counter(
            &cmd(name),
            totals.commands.get(*i).map_or(0, |c| c.rejected),
        )?;
    }
    let mut f = family(
        e,
        "commands_duration_seconds",
        "Time spent running each command, every call summed (latency-tracking)",
        None,
        MetricType::Counter,
    )?;
    // From the latency histograms' sums, which only grow: commandstats'
    // usec is a sampled mean times the calls, which a faster sample can
    // lower, and a counter that goes down reads as a reset.
    for (i, name) in &used {
        if let Some(h) = latencies.get(*i).filter(|h| h.count() > 0) {
            f.counter_f64(&cmd(name), h.sum_ns() as f64 / 1e9)?;
        }
    }
    let mut f = family(
        e,
        "errors",
        "Error replies by code (errorstats)",
        None,
        MetricType::Counter,
    )?;
    for (code, n) in &totals.codes {
        f.counter(&vec![("err", code.clone())], *n)?;
    }
    // Durations: per command, and by kind for the memtable's series.
    let mut by_kind = [
        Snapshot::default(),
        Snapshot::default(),
        Snapshot::default(),
    ];
    let mut write_ops = 0;
    let mut f = family(
        e,
        "command_duration",
        "Each call's duration, by command (latency-tracking)",
        Some(&Unit::Seconds),
        MetricType::Histogram,
    )?;
    let flags = stat_flags();
    for (i, name) in names.iter().enumerate() {
        let kind = kind_of(name, flags.get(i).copied().unwrap_or(0));
        if kind == Some(Kind::Write) {
            write_ops += totals.commands.get(i).map_or(0, |c| c.calls);
        }
        let Some(h) = latencies.get(i).filter(|h| h.count() > 0) else {
            continue;
        };
        if let Some(k) = kind {
            if let Some(sum) = by_kind.get_mut(k as usize) {
                sum.merge(h);
            }
        }
        f.histogram(
            &cmd(name),
            h.sum_ns() as f64 / 1e9,
            h.count(),
            &duration_buckets(h),
        )?;
    }
    family(
        e,
        "memtable_write_ops",
        "Write commands run (each counts once, however many keys it writes)",
        None,
        MetricType::Counter,
    )?
    .counter(&none(), write_ops)?;
    for (kind, name, help) in [
        (
            Kind::Write,
            "memtable_write_latency",
            "Durations of write commands",
        ),
        (
            Kind::Read,
            "memtable_read_latency",
            "Durations of read commands other than scans",
        ),
        (
            Kind::Scan,
            "memtable_scan_latency",
            "Durations of SCAN, HSCAN, SSCAN, ZSCAN and KEYS",
        ),
    ] {
        let h = by_kind.get(kind as usize).cloned().unwrap_or_default();
        family(e, name, help, Some(&Unit::Seconds), MetricType::Histogram)?.histogram(
            &none(),
            h.sum_ns() as f64 / 1e9,
            h.count(),
            &duration_buckets(&h),
        )?;
    }
    Ok(())
}

fn engine(e: &mut DescriptorEncoder, g: &Gathered) -> Result<(), Error> {
    let stats: Vec<(&String, &tandem_engine::Stats, u64)> = g
        .dbs
        .iter()
        .map(
            |DbNumbers {
                 index,
                 stats,
                 evicted,
             }| (index, stats, *evicted),
        )
        .collect();
    let db = |i: &String| -> Labels { vec![("db", i.clone())] };
    // Per-database series for every database that holds keys or resized.
    let live: Vec<&(&String, &tandem_engine::Stats, u64)> = stats
        .iter()
        .filter(|(i, s, _)| *i == "0" || s.keys > 0 || s.resizes > 0)
        .collect();
    let size: usize = stats.iter().map(|(_, s, _)| s.approx_bytes).sum();
    let index: usize = stats.iter().map(|(_, s, _)| s.index_bytes).sum();
    family(
        e,
        "memtable_size",
        "Approximate heap bytes of every database's entries and indexes",
        Some(&Unit::Bytes),
        MetricType::Gauge,
    )?
    .int_gauge(&none(), clamp(size as u64))?;
    family(
        e,
        "memtable_index",
        "Of memtable_size_bytes, the indexes' share",
        Some(&Unit::Bytes),
        MetricType::Gauge,
    )?
    .int_gauge(&none(), clamp(index as u64))?;
    let expired: u64 = stats.iter().map(|(_, s, _)| s.expired_keys).sum();
    family(
        e,
        "expired_keys",
        "Keys that expired",
        None,
        MetricType::Counter,
    )?
    .counter(&none(), expired)?;
    let evicted: u64 = stats.iter().map(|(_, _, n)| n).sum();
    family(
        e,
        "evicted_keys",
        "Keys evicted to keep under maxmemory",
        None,
        MetricType::Counter,
    )?
    .counter(&none(), evicted)?;
    let mut f = family(
        e,
        "db_keys",
        "Keys per database, expired ones included until removed",
        None,
        MetricType::Gauge,
    )?;
    for (i, s, _) in &live {
        f.int_gauge(&db(i), clamp(s.keys as u64))?;
    }
    let mut f = family(
        e,
        "db_keys_expiring",
        "Keys with a time to live, per database",
        None,
        MetricType::Gauge,
    )?;
    for (i, s, _) in &live {
        f.int_gauge(&db(i), clamp(s.volatile_keys as u64))?;
    }
    let mut f = family(
        e,
        "memtable_shards",
        "Shards in each database's active memtable",
        None,
        MetricType::Gauge,
    )?;
    for (i, s, _) in &live {
        f.int_gauge(&db(i), clamp(s.shard_count as u64))?;
    }
    let mut f = family(
        e,
        "memtable_resizing",
        "1 while a database's keyspace is being resized",
        None,
        MetricType::Gauge,
    )?;
    for (i, s, _) in &live {
        f.int_gauge(
            &db(i),
            i64::from(matches!(s.resize, ResizeState::Migrating { .. })),
        )?;
    }
    let mut f = family(
        e,
        "memtable_resizes",
        "Resizes finished",
        None,
        MetricType::Counter,
    )?;
    for (i, s, _) in &live {
        f.counter(&db(i), s.resizes)?;
    }
    let mut f = family(
        e,
        "memtable_shard_imbalance_ratio",
        "The largest shard's key count over the mean (1 is even)",
        None,
        MetricType::Gauge,
    )?;
    for (i, s, _) in &live {
        f.gauge(&db(i), s.imbalance)?;
    }
    let mut f = family(
        e,
        "memtable_lock_contention",
        "Shard lock acquisitions that had to wait",
        None,
        MetricType::Counter,
    )?;
    for (i, s, _) in &live {
        for (mode, n) in [("read", s.read_waits), ("write", s.write_waits)] {
            f.counter(&vec![("db", i.to_string()), ("mode", mode.to_string())], n)?;
        }
    }
    let mut f = family(
        e,
        "memtable_lock_wait",
        "How long waits for a shard lock took",
        Some(&Unit::Seconds),
        MetricType::Histogram,
    )?;
    for (i, s, _) in &live {
        let mut buckets: Vec<(f64, u64)> = WAIT_BOUNDS_NS
            .iter()
            .zip(&s.lock_wait_buckets)
            .map(|(b, n)| (*b as f64 / 1e9, *n))
            .collect();
        buckets.push((f64::MAX, s.lock_wait_buckets.last().copied().unwrap_or(0)));
        let count = s.lock_wait_buckets.iter().sum();
        f.histogram(&db(i), s.lock_wait_nanos as f64 / 1e9, count, &buckets)?;
    }
    let mut f = family(
        e,
        "expiry_lateness",
        "How long after its deadline the reaper removed each key",
        Some(&Unit::Seconds),
        MetricType::Histogram,
    )?;
    for (i, s, _) in &live {
        // The count from the buckets written, not the summary read
        // apart, so that `_count` and the +Inf bucket always agree.
        let buckets = lateness_buckets(&s.expiry_lateness_buckets);
        let count = buckets.iter().map(|(_, n)| n).sum();
        f.histogram(
            &db(i),
            s.expiry_lateness_sum_ms as f64 / 1e3,
            count,
            &buckets,
        )?;
    }
    // Per shard: bounded by the shard limit (1,024) per database.
    let shard =
        |i: &String, n: usize| -> Labels { vec![("db", i.clone()), ("shard", n.to_string())] };
    let mut f = family(
        e,
        "memtable_shard_size",
        "Approximate heap bytes per shard",
        Some(&Unit::Bytes),
        MetricType::Gauge,
    )?;
    for (i, s, _) in &live {
        for (n, sh) in s.shards.iter().enumerate() {
            f.int_gauge(&shard(i, n), clamp(sh.approx_bytes as u64))?;
        }
    }
    let mut f = family(
        e,
        "memtable_shard_keys",
        "Keys per shard",
        None,
        MetricType::Gauge,
    )?;
    for (i, s, _) in &live {
        for (n, sh) in s.shards.iter().enumerate() {
            f.int_gauge(&shard(i, n), clamp(sh.keys as u64))?;
        }
    }
    let mut f = family(
        e,
        "memtable_shard_lock_waits",
        "Lock acquisitions that waited, per shard of the active memtable",
        None,
        MetricType::Counter,
    )?;
    for (i, s, _) in &live {
        for (n, sh) in s.shards.iter().enumerate() {
            f.counter(
                &shard(i, n),
                sh.counters.read_waits + sh.counters.write_waits,
            )?;
        }
    }
    Ok(())
}

/// The lateness buckets (`(largest ms, keys)`, exact below 16 ms, then
/// powers of two) at a fixed set of bounds, then +Inf.
fn lateness_buckets(all: &[(u64, u64)]) -> Vec<(f64, u64)> {
    const BOUNDS_MS: [u64; 14] = [
        1, 2, 5, 10, 15, 31, 63, 127, 255, 511, 1023, 4095, 16383, 65535,
    ];
    let mut out = Vec::with_capacity(BOUNDS_MS.len() + 1);
    let mut rest = all.iter().peekable();
    for bound in BOUNDS_MS {
        let mut n = 0;
        while let Some((_, c)) = rest.next_if(|(upper, _)| *upper <= bound) {
            n += c;
        }
        out.push((bound as f64 / 1e3, n));
    }
    out.push((f64::MAX, rest.map(|(_, c)| c).sum()));
    out
}

fn persistence(e: &mut DescriptorEncoder, g: &Gathered) -> Result<(), Error> {
    let fields = &g.persistence;
    let number = |name: &str| -> i64 { fields.get(name).and_then(|v| v.parse().ok()).unwrap_or(0) };
    let ok = |name: &str| -> i64 { i64::from(fields.get(name).is_some_and(|v| v == "ok")) };
    family(
        e,
        "loading",
        "1 while the data set is being loaded",
        None,
        MetricType::Gauge,
    )?
    .int_gauge(&none(), number("loading"))?;
    family(
        e,
        "rdb_changes_since_last_save",
        "Writes since the last snapshot",
        None,
        MetricType::Gauge,
    )?
    .int_gauge(&none(), number("rdb_changes_since_last_save"))?;
    family(
        e,
        "rdb_last_save_timestamp",
        "When the last snapshot was taken (Unix time)",
        Some(&Unit::Seconds),
        MetricType::Gauge,
    )?
    .int_gauge(&none(), number("rdb_last_save_time"))?;
    family(
        e,
        "rdb_last_bgsave_ok",
        "1 if the last snapshot succeeded",
        None,
        MetricType::Gauge,
    )?
    .int_gauge(&none(), ok("rdb_last_bgsave_status"))?;
    family(
        e,
        "aof_enabled",
        "1 while the write-ahead log is on",
        None,
        MetricType::Gauge,
    )?
    .int_gauge(&none(), number("aof_enabled"))?;
    family(
        e,
        "aof_last_write_ok",
        "1 if the last write to the log succeeded",
        None,
        MetricType::Gauge,
    )?
    .int_gauge(&none(), ok("aof_last_write_status"))?;
    let syncs = &g.syncs;
    let mut buckets: Vec<(f64, u64)> = tandem_engine::storage::backend::sync_timing::BOUNDS_NS
        .iter()
        .zip(&syncs.buckets)
        .map(|(b, n)| (*b as f64 / 1e9, *n))
        .collect();
    buckets.push((f64::MAX, syncs.buckets.last().copied().unwrap_or(0)));
    family(
        e,
        "fsync_duration",
        "How long each fsync of the log, snapshots and their directory took",
        Some(&Unit::Seconds),
        MetricType::Histogram,
    )?
    .histogram(
        &none(),
        syncs.sum_ns as f64 / 1e9,
        syncs.buckets.iter().sum(),
        &buckets,
    )?;
    family(
        e,
        "fsync_failures",
        "fsyncs that returned an error",
        None,
        MetricType::Counter,
    )?
    .counter(&none(), syncs.failed)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lateness_buckets_regroup_without_losing_a_key() {
        let all: Vec<(u64, u64)> = (0..16)
            .map(|ms| (ms, 1))
            .chain([(31, 5), (1u64 << 40, 2)])
            .collect();
        let b = lateness_buckets(&all);
        assert_eq!(b[0], (0.001, 2), "0 and 1 ms");
        assert_eq!(b.iter().map(|(_, n)| n).sum::<u64>(), 16 + 5 + 2);
        assert_eq!(b.last(), Some(&(f64::MAX, 2)));
    }

    #[test]
    fn duration_buckets_hold_every_call_once() {
        let h = crate::latency::histogram::Buckets::default();
        for ns in [500, 1500, 3_000_000, 20_000_000_000] {
            h.record(ns);
        }
        let mut s = Snapshot::default();
        s.add(&h);
        let b = duration_buckets(&s);
        assert_eq!(b.iter().map(|(_, n)| n).sum::<u64>(), 4);
        assert_eq!(b[0], (1024e-9, 1));
        assert_eq!(b.last(), Some(&(f64::MAX, 1)));
    }
}
