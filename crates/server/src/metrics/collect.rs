//! Writing a scrape: the OpenMetrics text Prometheus reads, from what
//! `gather` read, through prometheus-client's encoder.
//!
//! Owns the writing (a family's `# HELP`/`# TYPE` lines and its series,
//! `render`) and the server's own series: build, uptime, clients,
//! connections, pub/sub, CPU, memory and persistence (snapshot status,
//! fsync durations). The commands' series are `command_series`'s, the
//! keyspace's `engine_series`'. Names follow Prometheus's conventions
//! with a `tandem_` prefix (base units, `_total` for counters) and
//! redis_exporter's set where Tandem has the same thing
//! (`tandem_commands_total{cmd}`, `tandem_connected_clients`, ...), plus
//! the sharded-memtable document's series. Nothing here reads the server
//! or takes a lock: it runs at idle priority (`render_thread`).

use super::gather::Gathered;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, MetricEncoder};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use std::fmt::Error;

/// Labels: names and values.
pub(super) type Labels = Vec<(&'static str, String)>;

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
pub(super) struct Family<'e, 'd> {
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

    pub(super) fn counter(&mut self, labels: &Labels, v: u64) -> Result<(), Error> {
        self.series(labels, |m| m.encode_counter::<Labels, u64, u64>(&v, None))
    }

    pub(super) fn counter_f64(&mut self, labels: &Labels, v: f64) -> Result<(), Error> {
        self.series(labels, |m| m.encode_counter::<Labels, f64, u64>(&v, None))
    }

    pub(super) fn gauge(&mut self, labels: &Labels, v: f64) -> Result<(), Error> {
        self.series(labels, |m| m.encode_gauge(&v))
    }

    pub(super) fn int_gauge(&mut self, labels: &Labels, v: i64) -> Result<(), Error> {
        self.series(labels, |m| m.encode_gauge(&v))
    }

    /// `buckets`: `(upper bound, count)`, not cumulative; the last bound
    /// is `f64::MAX` for +Inf.
    pub(super) fn histogram(
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
pub(super) fn family<'e>(
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

pub(super) fn none() -> Labels {
    Vec::new()
}

pub(super) fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Collector for Scrape {
    fn encode(&self, mut e: DescriptorEncoder) -> Result<(), Error> {
        let g = &self.g;
        server(&mut e, g)?;
        super::command_series::commands(&mut e, g)?;
        super::engine_series::engine(&mut e, g)?;
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
