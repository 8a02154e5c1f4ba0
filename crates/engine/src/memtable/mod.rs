//! Memtables: the in-memory key-value maps a keyspace keeps its data in.
//!
//! Owns the shards of a memtable (`Shards`: each a lock around a
//! `ShardMap` and its B+tree, keys routed by a seeded hash), the layout of
//! memtables a keyspace holds at one moment (`layout`), and the deadline
//! hints each shard publishes for the reaper (`alarm`). Which kind a
//! keyspace uses is `MemtableKind`, chosen at start-up by
//! `Options::memtable`:
//!
//! - `SingleLock`: one shard behind one `RwLock`. The seed's "before", kept
//!   as the baseline and as the rollback switch.
//! - `Sharded`: N shards, each behind its own lock.
//!
//! Both use the same map (`ShardMap`), so a benchmark between them measures
//! exactly what the seed claims: what partitioning the lock buys. The
//! public `Memtable` trait over them lives in `standalone`.
//!
//! This is the engine's lowest layer above `entry`: it must never use the
//! keyspace, scans, expiry or `Db`. What those need from it, it exposes;
//! what it needs from them (the reaper's alarm) lives here.

mod alarm;
pub(crate) mod hashing;
mod layout;
mod map;
mod shard;
mod tree;

use crate::entry::Entry;
pub(crate) use alarm::{Alarm, DueHint, Woken};
pub(crate) use hashing::shard_index;
use hashing::KeyHasher;
pub(crate) use layout::{Layout, Unit};
pub(crate) use map::{ShardMap, Slot, WriteMark};
pub(crate) use shard::Padded;
pub use shard::{Shard, ShardCounters, WAIT_BOUNDS_NS, WAIT_BUCKETS};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
pub(crate) use tree::common_prefix;

/// The most shards a memtable can have.
pub const MAX_SHARDS: usize = 1024;

/// Which memtable a keyspace uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MemtableKind {
    /// One lock over one map.
    SingleLock,
    /// Hash-routed shards, each with its own lock.
    #[default]
    Sharded,
}

impl MemtableKind {
    /// The name used in benchmark output and stats.
    pub fn as_str(self) -> &'static str {
        match self {
            MemtableKind::SingleLock => "single-lock",
            MemtableKind::Sharded => "sharded",
        }
    }
}

/// The shards of a memtable and how keys are routed to them.
pub(crate) struct Shards {
    shards: Box<[Padded<Shard>]>,
    hasher: KeyHasher,
    /// Set when a resize freezes this memtable. An operation that finds it
    /// set after taking a shard lock is working from an outdated layout and
    /// must start again (see `keyspace`).
    frozen: AtomicBool,
}

/// Numbers memtables across the process, so that no two of any keyspace
/// share one: a watch that finds another memtable than the one it
/// recorded (after a resize, or SWAPDB) knows the versions it compares
/// came from different counters.
static MEMTABLES: AtomicU64 = AtomicU64::new(1);

impl Shards {
    /// `count` empty shards whose deadlines ring `alarm`.
    pub(crate) fn new(count: usize, hasher: KeyHasher, alarm: &Arc<Alarm>) -> Self {
        let id = MEMTABLES.fetch_add(1, Ordering::Relaxed);
        let shards = (0..count.max(1))
            .map(|_| Padded(Shard::new(id, alarm.clone())))
            .collect();
        Self {
            shards,
            hasher,
            frozen: AtomicBool::new(false),
        }
    }

    pub(crate) fn hasher(&self) -> KeyHasher {
        self.hasher
    }

    /// Marks this memtable frozen: from now on it only loses entries.
    pub(crate) fn freeze(&self) {
        self.frozen.store(true, Ordering::SeqCst);
    }

    pub(crate) fn is_frozen(&self) -> bool {
        self.frozen.load(Ordering::SeqCst)
    }

    pub(crate) fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash(key)
    }

    pub(crate) fn count(&self) -> usize {
        self.shards.len()
    }

    /// The index of the shard owning `hash`.
    pub(crate) fn index(&self, hash: u64) -> usize {
        shard_index(hash, self.shards.len())
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "callers pass an index from `index` (the hash mapped below `count`) or from this memtable's units, all below `count`"
    )]
    pub(crate) fn shard(&self, index: usize) -> &Shard {
        &self.shards[index]
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Shard> {
        self.shards.iter().map(|p| &p.0)
    }

    /// The shard owning `key`, with the key's hash.
    pub(crate) fn route(&self, key: &[u8]) -> (u64, &Shard) {
        let hash = self.hash(key);
        (hash, self.shard(self.index(hash)))
    }

    pub(crate) fn get(&self, key: &[u8]) -> Option<Entry> {
        let (hash, shard) = self.route(key);
        shard.read().get(hash, key).cloned()
    }

    pub(crate) fn insert(&self, mut entry: Entry) -> Option<Entry> {
        let (hash, shard) = self.route(entry.key());
        let mut map = shard.write();
        entry.set_version(map.next_version());
        map.upsert(hash, entry)
    }

    pub(crate) fn remove(&self, key: &[u8]) -> Option<Entry> {
        let (hash, shard) = self.route(key);
        shard.write().remove(hash, key)
    }

    pub(crate) fn len(&self) -> usize {
        self.iter().map(|s| s.read().len()).sum()
    }

    pub(crate) fn approx_bytes(&self) -> usize {
        self.iter().map(|s| s.read().approx_bytes()).sum()
    }

    pub(crate) fn drain(&self, max: usize) -> Vec<Entry> {
        /// Entries moved per lock acquisition, so a drain never holds a
        /// shard long.
        const BATCH: usize = 256;
        let mut out = Vec::new();
        for shard in self.iter() {
            while out.len() < max {
                let mut map = shard.write();
                let before = out.len();
                while out.len() < max && out.len() - before < BATCH {
                    match map.pop_first() {
                        Some(e) => out.push(e),
                        None => break,
                    }
                }
                if out.len() - before < BATCH {
                    break;
                }
            }
        }
        out
    }
}
