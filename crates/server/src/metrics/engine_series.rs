//! The keyspace's series on /metrics: per database (keys, shards,
//! resizes, imbalance, lock contention and how long waits took, expiry
//! lateness) and per shard (keys, bytes, lock waits), bounded by the
//! shard limit (1,024 a database), for databases that hold keys.
//!
//! Owns those series' names, help and labels. Like the rest of the
//! scrape, it only writes what `gather` read.

use super::collect::{clamp, family, none, Labels};
use super::gather::{DbNumbers, Gathered};
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;
use std::fmt::Error;
use tandem_engine::{ResizeState, WAIT_BOUNDS_NS};

pub(super) fn engine(e: &mut DescriptorEncoder, g: &Gathered) -> Result<(), Error> {
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
}
