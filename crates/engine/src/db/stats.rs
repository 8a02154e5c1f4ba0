//! Keyspace statistics: shard sizes, balance, contention and batch paths.

use super::Db;
use crate::keyspace::ResizeState;
use crate::memtable::{MemtableKind, ShardCounters};

/// One shard's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardStats {
    /// Keys stored, expired ones included until removed.
    pub keys: usize,
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
    /// Atomic batches that took one lock.
    pub fast_path_batches: u64,
    /// Atomic batches that spanned several shards.
    pub multi_shard_batches: u64,
    /// One-shard batches that, during a resize, also locked frozen shards.
    pub resize_batches: u64,
    /// Keys that expired so far, each counted once however it was found
    /// (Redis's `expired_keys`).
    pub expired_keys: u64,
    /// Per-shard numbers of the active memtable, in shard order.
    pub shards: Vec<ShardStats>,
}

fn shard_stats(shard: &crate::memtable::Shard) -> ShardStats {
    let (keys, approx_bytes, index_bytes, timer_bytes) = {
        let map = shard.read();
        (
            map.len(),
            map.approx_bytes(),
            map.index_bytes(),
            map.timer_bytes(),
        )
    };
    ShardStats {
        keys,
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
        Stats {
            memtable: self.memtable_kind(),
            shard_count: shards.len(),
            resize,
            resizes: ks.resize_count(),
            keys: all().map(|s| s.keys).sum(),
            approx_bytes: all().map(|s| s.approx_bytes).sum(),
            index_bytes: all().map(|s| s.index_bytes).sum(),
            timer_index_bytes: all().map(|s| s.timer_bytes).sum(),
            imbalance,
            read_waits: counters.read_waits,
            write_waits: counters.write_waits,
            fast_path_batches: counters.fast_batches,
            multi_shard_batches: counters.multi_batches,
            resize_batches: counters.resize_batches,
            expired_keys: ks.ctx.expired.load(std::sync::atomic::Ordering::Relaxed),
            shards,
        }
    }
}
