//! The commands' series on /metrics: calls, failures, refusals and
//! durations by command (`cmd`), error replies by code, keyspace hits and
//! misses, and the sharded-memtable document's write, read and scan
//! latency histograms, grouped from the commands' own histograms.
//!
//! Owns those series' names, help and grouping. Like the rest of the
//! scrape, it only writes what `gather` read.

use super::collect::{family, none, Labels};
use super::gather::Gathered;
use crate::command::{stat_flags, stat_names};
use crate::latency::Snapshot;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;
use std::fmt::Error;

/// Commands the memtable's scan latency is made of; other commands flagged
/// read-only make up its read latency, and those flagged write its write
/// latency.
const SCANS: &[&str] = &["scan", "hscan", "sscan", "zscan", "keys"];

/// The command-duration histograms' bucket bounds: powers of two of
/// nanoseconds, 2^10 (about 1 µs) to 2^33 (about 8.6 s). They are edges
/// of the latency histograms' own buckets, so the counts are exact.
const DURATION_EXPONENTS: std::ops::RangeInclusive<u32> = 10..=33;

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

pub(super) fn commands(e: &mut DescriptorEncoder, g: &Gathered) -> Result<(), Error> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
