//! Keyspace statistics: shard sizes, balance, contention and batch paths.

use super::access::{peek, sealed::Access};
use super::Db;
use crate::error::Result;
use crate::keyspace::ResizeState;
use crate::memtable::{MemtableKind, ShardCounters};

/// One shard's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardStats {
    /// Keys stored, expired ones included until removed.
    pub keys: usize,
    /// Of `keys`, those with a deadline.
    pub volatile: usize,
    /// The sum of those keys' deadlines, in Unix ms.
    pub deadline_sum: u128,
    /// Approximate heap bytes of entries and indexes.
    pub approx_bytes: usize,
    /// Of `approx_bytes`, the index's share.
    pub index_bytes: usize,
    /// Of `index_bytes`, the timer index's share (deadline bounds).
    pub timer_bytes: usize,
    /// Lock waits and batch counts.
    pub counters: ShardCounters,
}

/// A keyspace's numbers, gathered shard by shard (not one atomic snapshot).
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// The memtable in use.
    pub memtable: MemtableKind,
    /// Shards in the active memtable.
    pub shard_count: usize,
    /// Whether a resize is running, with its progress.
    pub resize: ResizeState,
    /// Resizes finished so far.
    pub resizes: u64,
    /// Keys stored, expired ones included until removed.
    pub keys: usize,
    /// Of `keys`, those with a deadline (Redis's `expires`), expired ones
    /// included until removed.
    pub volatile_keys: usize,
    /// The mean time to live of `volatile_keys`, in milliseconds, from
    /// their deadlines (0 when there are none; exact, where Redis's
    /// `avg_ttl` is an estimate from sampling).
    pub avg_ttl_ms: u64,
    /// Approximate heap bytes of entries and indexes.
    pub approx_bytes: usize,
    /// Of `approx_bytes`, the indexes' share.
    pub index_bytes: usize,
    /// Of `index_bytes`, the timer index's share: the deadline bounds kept
    /// in the trees' inner nodes.
    pub timer_index_bytes: usize,
    /// The active memtable's largest shard's key count divided by the mean
    /// (1.0 when empty).
    pub imbalance: f64,
    /// Lock acquisitions that had to wait, for reading and for writing.
    pub read_waits: u64,
    /// See `read_waits`.
    pub write_waits: u64,
    /// How long those waits took: counts per `WAIT_BOUNDS_NS` bucket (the
    /// overflow last), and their total in nanoseconds.
    pub lock_wait_buckets: [u64; crate::memtable::WAIT_BUCKETS],
    /// See `lock_wait_buckets`.
    pub lock_wait_nanos: u64,
    /// Atomic batches that took one lock.
    pub fast_path_batches: u64,
    /// Atomic batches that spanned several shards.
    pub multi_shard_batches: u64,
    /// One-shard batches that, during a resize, also locked frozen shards.
    pub resize_batches: u64,
    /// Keys that expired so far, each counted once however it was found
    /// (Redis's `expired_keys`).
    pub expired_keys: u64,
    /// How late the reaper removed the keys it removed (keys a request
    /// met first expire on the spot, and are not counted here).
    pub expiry_lateness: crate::keyspace::LatenessSummary,
    /// The same, as a histogram: `(largest lateness in ms, keys)` per
    /// bucket, not cumulative (exact buckets below 16 ms, then powers of
    /// two).
    pub expiry_lateness_buckets: Vec<(u64, u64)>,
    /// Their lateness summed, in ms.
    pub expiry_lateness_sum_ms: u64,
    /// Per-shard numbers of the active memtable, in shard order.
    pub shards: Vec<ShardStats>,
}

fn shard_stats(shard: &crate::memtable::Shard) -> ShardStats {
    let (keys, volatile, deadline_sum, approx_bytes, index_bytes, timer_bytes) = {
        let map = shard.read();
        (
            map.len(),
            map.volatile(),
            map.deadline_sum(),
            map.approx_bytes(),
            map.index_bytes(),
            map.timer_bytes(),
        )
    };
    ShardStats {
        keys,
        volatile,
        deadline_sum,
        approx_bytes,
        index_bytes,
        timer_bytes,
        counters: shard.counters(),
    }
}

impl Db {
    /// Current statistics. Counters count from the keyspace's creation,
    /// across resizes; sizes include a frozen memtable being drained.
    pub fn stats(&self) -> Stats {
        let ks = self.keyspace();
        let resize = ks.resize_state();
        let layout = ks.layout();
        let shards: Vec<ShardStats> = layout.active.iter().map(shard_stats).collect();
        let frozen: Vec<ShardStats> = layout
            .frozen
            .iter()
            .flat_map(|f| f.iter().map(shard_stats))
            .collect();
        let active_keys: usize = shards.iter().map(|s| s.keys).sum();
        let max = shards.iter().map(|s| s.keys).max().unwrap_or(0);
        let imbalance = if active_keys == 0 {
            1.0
        } else {
            max as f64 * shards.len() as f64 / active_keys as f64
        };
        let mut counters = ks.retired_counters();
        for s in shards.iter().chain(&frozen) {
            counters.add(&s.counters);
        }
        let all = || shards.iter().chain(&frozen);
        let volatile_keys: usize = all().map(|s| s.volatile).sum();
        let deadline_sum: u128 = all().map(|s| s.deadline_sum).sum();
        let avg_ttl_ms = match u128::try_from(volatile_keys) {
            Ok(n) if n > 0 => {
                let mean_deadline = deadline_sum / n;
                let now = u128::from(self.now_ms());
                u64::try_from(mean_deadline.saturating_sub(now)).unwrap_or(u64::MAX)
            }
            _ => 0,
        };
        Stats {
            memtable: self.memtable_kind(),
            shard_count: shards.len(),
            resize,
            resizes: ks.resize_count(),
            keys: all().map(|s| s.keys).sum(),
            volatile_keys,
            avg_ttl_ms,
            approx_bytes: all().map(|s| s.approx_bytes).sum(),
            index_bytes: all().map(|s| s.index_bytes).sum(),
            timer_index_bytes: all().map(|s| s.timer_bytes).sum(),
            imbalance,
            read_waits: counters.read_waits,
            write_waits: counters.write_waits,
            lock_wait_buckets: counters.wait_buckets,
            lock_wait_nanos: counters.wait_nanos,
            fast_path_batches: counters.fast_batches,
            multi_shard_batches: counters.multi_batches,
            resize_batches: counters.resize_batches,
            expired_keys: ks.ctx.expired.load(std::sync::atomic::Ordering::Relaxed),
            expiry_lateness: ks.lateness.summary(),
            expiry_lateness_buckets: ks.lateness.buckets(),
            expiry_lateness_sum_ms: ks.lateness.sum_ms(),
            shards,
        }
    }
}

impl Db {
    /// MEMORY USAGE: the approximate heap bytes a key takes, `None` if it
    /// does not exist. Its entry (the block holding key, value and
    /// metadata, plus a large value's shared buffer) and its share of its
    /// shard's index (the shard's index bytes over its entries).
    pub fn memory_usage(&self, key: &[u8]) -> Result<Option<usize>> {
        self.read_key(key, |m, h| {
            let index_share = m.index_bytes() / m.len().max(1);
            peek(m, h, key, self.ctx()).map(|e| e.footprint() + index_share)
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::clock::ManualClock;
    use crate::db::{Db, ExpireCondition, Expiry, KeyValue, SetOptions};
    use crate::error::Result;
    use crate::options::Options;
    use std::sync::Arc;

    #[test]
    fn volatile_keys_and_mean_ttl_follow_every_kind_of_write() -> Result<()> {
        let clock = Arc::new(ManualClock::new(1_000_000));
        let db = Db::new(Options::default().clock(clock.clone()));
        db.set(b"a", b"1", SetOptions::default())?;
        db.set(b"b", b"1", SetOptions::default())?;
        assert_eq!((db.stats().volatile_keys, db.stats().avg_ttl_ms), (0, 0));
        db.expire(b"a", Expiry::Millis(10_000), ExpireCondition::Always)?;
        db.expire(b"b", Expiry::Millis(20_000), ExpireCondition::Always)?;
        assert_eq!(
            (db.stats().volatile_keys, db.stats().avg_ttl_ms),
            (2, 15_000)
        );
        // Overwriting without a TTL, PERSIST, renaming, deleting.
        db.set(b"a", b"2", SetOptions::default())?;
        assert_eq!(
            (db.stats().volatile_keys, db.stats().avg_ttl_ms),
            (1, 20_000)
        );
        db.rename(b"b", b"c")?;
        assert_eq!(db.stats().volatile_keys, 1);
        db.persist(b"c")?;
        assert_eq!(db.stats().volatile_keys, 0);
        db.expire(b"c", Expiry::Millis(5_000), ExpireCondition::Always)?;
        db.incr_by(b"c", 0).ok();
        db.append(b"c", &[b'x'; 5000])?;
        assert_eq!(
            (db.stats().volatile_keys, db.stats().avg_ttl_ms),
            (1, 5_000)
        );
        clock.advance(1_000);
        assert_eq!(db.stats().avg_ttl_ms, 4_000);
        db.del(&[b"c"])?;
        assert_eq!(db.stats().volatile_keys, 0);
        // Expired and reaped.
        db.set(b"d", b"1", SetOptions::default())?;
        db.expire(b"d", Expiry::Millis(1), ExpireCondition::Always)?;
        clock.advance(10);
        db.reap_expired();
        assert_eq!(db.stats().volatile_keys, 0);
        // Through a resize.
        for i in 0..100 {
            db.set(format!("k{i}").as_bytes(), b"v", SetOptions::default())?;
            if i % 2 == 0 {
                db.expire(
                    format!("k{i}").as_bytes(),
                    Expiry::Millis(60_000),
                    ExpireCondition::Always,
                )?;
            }
        }
        db.resize(4);
        assert_eq!(db.stats().volatile_keys, 50);
        db.flush();
        assert_eq!(db.stats().volatile_keys, 0);
        Ok(())
    }

    #[test]
    fn reaped_keys_report_their_lateness() -> Result<()> {
        let clock = Arc::new(ManualClock::new(1_000_000));
        let db = Db::new(Options::default().clock(clock.clone()));
        for (key, ms) in [(&b"a"[..], 10), (b"b", 10), (b"c", 2)] {
            db.set(key, b"v", SetOptions::default())?;
            db.expire(key, Expiry::Millis(ms), ExpireCondition::Always)?;
        }
        clock.advance(13);
        assert_eq!(db.reap_expired(), 3);
        let l = db.stats().expiry_lateness;
        assert_eq!((l.reaped, l.p50_ms, l.max_ms), (3, 3, 11));
        // A key a request meets first is not the reaper's.
        db.set(b"d", b"v", SetOptions::default())?;
        db.expire(b"d", Expiry::Millis(1), ExpireCondition::Always)?;
        clock.advance(5);
        assert_eq!(db.get(b"d")?, None);
        db.set(b"d", b"w", SetOptions::default())?;
        assert_eq!(db.stats().expiry_lateness.reaped, 3);
        Ok(())
    }

    #[test]
    fn memory_usage_counts_the_entry_and_grows_with_the_value() -> Result<()> {
        let db = Db::default();
        assert_eq!(db.memory_usage(b"nope")?, None);
        db.set(b"k", b"v", SetOptions::default())?;
        let small = db.memory_usage(b"k")?.unwrap_or(0);
        assert!(small >= 16, "{small}");
        db.set(b"k", &[b'x'; 10_000], SetOptions::default())?;
        let large = db.memory_usage(b"k")?.unwrap_or(0);
        assert!((10_000..11_000).contains(&large), "{large}");
        Ok(())
    }
}
