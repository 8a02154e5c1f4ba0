//! Keyspace statistics: shard sizes, balance, contention and batch paths.

use super::Db;
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
    /// Lock waits and batch counts.
    pub counters: ShardCounters,
}

/// A keyspace's numbers, gathered shard by shard (not one atomic snapshot).
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// The memtable in use.
    pub memtable: MemtableKind,
    /// Keys stored, expired ones included until removed.
    pub keys: usize,
    /// Approximate heap bytes of entries and indexes.
    pub approx_bytes: usize,
    /// Of `approx_bytes`, the indexes' share.
    pub index_bytes: usize,
    /// Largest shard's key count divided by the mean (1.0 when empty).
    pub imbalance: f64,
    /// Lock acquisitions that had to wait, for reading and for writing.
    pub read_waits: u64,
    /// See `read_waits`.
    pub write_waits: u64,
    /// Atomic batches that took one lock.
    pub fast_path_batches: u64,
    /// Atomic batches that spanned several shards.
    pub multi_shard_batches: u64,
    /// Per-shard numbers, in shard order.
    pub shards: Vec<ShardStats>,
}

impl Db {
    /// Current statistics.
    pub fn stats(&self) -> Stats {
        let shards: Vec<ShardStats> = self
            .shards()
            .iter()
            .map(|s| {
                let (keys, approx_bytes, index_bytes) = {
                    let map = s.read();
                    (map.len(), map.approx_bytes(), map.index_bytes())
                };
                ShardStats {
                    keys,
                    approx_bytes,
                    index_bytes,
                    counters: s.counters(),
                }
            })
            .collect();
        let keys: usize = shards.iter().map(|s| s.keys).sum();
        let max = shards.iter().map(|s| s.keys).max().unwrap_or(0);
        let imbalance = if keys == 0 {
            1.0
        } else {
            max as f64 * shards.len() as f64 / keys as f64
        };
        let sum = |f: fn(&ShardCounters) -> u64| shards.iter().map(|s| f(&s.counters)).sum();
        Stats {
            memtable: self.memtable_kind(),
            keys,
            approx_bytes: shards.iter().map(|s| s.approx_bytes).sum(),
            index_bytes: shards.iter().map(|s| s.index_bytes).sum(),
            imbalance,
            read_waits: sum(|c| c.read_waits),
            write_waits: sum(|c| c.write_waits),
            fast_path_batches: sum(|c| c.fast_batches),
            multi_shard_batches: sum(|c| c.multi_batches),
            shards,
        }
    }
}
