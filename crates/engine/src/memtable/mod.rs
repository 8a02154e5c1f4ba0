//! Memtables: the in-memory key-value maps a keyspace keeps its data in.
//!
//! Owns the `Memtable` trait (the seed document's trait, made Rust) and its
//! two implementations, chosen at start-up by `Options::memtable`:
//!
//! - `SingleLock`: one `RwLock` around one map. The seed's "before", kept
//!   as the baseline and as the rollback switch.
//! - `Sharded`: N maps, each behind its own lock, keys routed by a seeded
//!   hash.
//!
//! Both use the same map (`ShardMap`), so a benchmark between them measures
//! exactly what the seed claims: what partitioning the lock buys.
//!
//! The engine itself reaches the shards through `Shards`, which exposes the
//! per-shard locks that atomic batches and scans need. The trait is the
//! plain interface for everyone else.

pub(crate) mod hashing;
mod map;
mod shard;
mod tree;

use crate::entry::Entry;
use crate::expiry::Alarm;
use crate::keyspace::Layout;
use crate::scan::RangeIter;
use hashing::{shard_index, KeyHasher};
pub(crate) use map::{ShardMap, Slot};
pub(crate) use shard::Padded;
pub use shard::{Shard, ShardCounters};
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
pub(crate) use tree::common_prefix;

/// An in-memory map from binary keys to entries, safe to share between
/// threads. Expiry is not interpreted here: an entry past its deadline is
/// returned like any other.
pub trait Memtable: Send + Sync {
    /// A copy of the entry for `key`.
    fn get(&self, key: &[u8]) -> Option<Entry>;
    /// Stores `entry` under its key with a fresh version, returning the
    /// entry it replaced.
    fn insert(&self, entry: Entry) -> Option<Entry>;
    /// Removes and returns the entry for `key`.
    fn remove(&self, key: &[u8]) -> Option<Entry>;
    /// The entries with keys in the bounds, in key order, streamed: shards
    /// are read in small batches and no lock is held between batches.
    fn range(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> RangeIter<'_>;
    /// The number of entries.
    fn len(&self) -> usize;
    /// Whether there are no entries.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Approximate heap bytes held by entries and indexes.
    fn approx_bytes(&self) -> usize;
    /// Removes and returns up to `max` entries, taking each shard's lock
    /// for one bounded batch at a time. An empty result means the memtable
    /// was empty.
    fn drain(&self, max: usize) -> Vec<Entry>;
    /// The number of independently locked shards.
    fn shard_count(&self) -> usize;
}

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

impl Shards {
    /// `count` empty shards whose deadlines ring `alarm`.
    pub(crate) fn new(
        count: usize,
        hasher: KeyHasher,
        generation: u64,
        alarm: &Arc<Alarm>,
    ) -> Self {
        let shards = (0..count.max(1))
            .map(|_| Padded(Shard::new(generation, alarm.clone())))
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

    fn get(&self, key: &[u8]) -> Option<Entry> {
        let (hash, shard) = self.route(key);
        shard.read().get(hash, key).cloned()
    }

    fn insert(&self, mut entry: Entry) -> Option<Entry> {
        let (hash, shard) = self.route(entry.key());
        let mut map = shard.write();
        entry.set_version(map.next_version());
        map.upsert(hash, entry)
    }

    fn remove(&self, key: &[u8]) -> Option<Entry> {
        let (hash, shard) = self.route(key);
        shard.write().remove(hash, key)
    }

    fn len(&self) -> usize {
        self.iter().map(|s| s.read().len()).sum()
    }

    fn approx_bytes(&self) -> usize {
        self.iter().map(|s| s.read().approx_bytes()).sum()
    }

    fn drain(&self, max: usize) -> Vec<Entry> {
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

/// The baseline memtable: one lock over one map.
pub struct SingleLock {
    shards: Arc<Shards>,
}

impl SingleLock {
    /// An empty memtable.
    pub fn new() -> Self {
        Self {
            shards: Arc::new(Shards::new(1, KeyHasher::random(), 0, &Arc::default())),
        }
    }
}

impl Default for SingleLock {
    fn default() -> Self {
        Self::new()
    }
}

/// The sharded memtable: keys spread over shards by a seeded hash.
pub struct Sharded {
    shards: Arc<Shards>,
}

impl Sharded {
    /// An empty memtable with `shards` shards (at least one).
    pub fn new(shards: usize) -> Self {
        Self {
            shards: Arc::new(Shards::new(shards, KeyHasher::random(), 0, &Arc::default())),
        }
    }
}

/// Both memtables implement the trait the same way; only their shard
/// counts differ.
macro_rules! impl_memtable {
    ($t:ty) => {
        impl Memtable for $t {
            fn get(&self, key: &[u8]) -> Option<Entry> {
                self.shards.get(key)
            }
            fn insert(&self, entry: Entry) -> Option<Entry> {
                self.shards.insert(entry)
            }
            fn remove(&self, key: &[u8]) -> Option<Entry> {
                self.shards.remove(key)
            }
            fn range(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> RangeIter<'_> {
                let layout = Layout {
                    id: 0,
                    active: Arc::clone(&self.shards),
                    frozen: None,
                };
                RangeIter::fixed(Arc::new(layout), start, end)
            }
            fn len(&self) -> usize {
                self.shards.len()
            }
            fn approx_bytes(&self) -> usize {
                self.shards.approx_bytes()
            }
            fn drain(&self, max: usize) -> Vec<Entry> {
                self.shards.drain(max)
            }
            fn shard_count(&self) -> usize {
                self.shards.count()
            }
        }
    };
}

impl_memtable!(SingleLock);
impl_memtable!(Sharded);

#[cfg(test)]
mod tests {
    use super::*;

    fn both() -> Vec<Box<dyn Memtable>> {
        vec![Box::new(SingleLock::new()), Box::new(Sharded::new(8))]
    }

    fn entry(k: &str, v: &str) -> Entry {
        Entry::new(k.as_bytes(), v.as_bytes(), None).expect("small")
    }

    #[test]
    fn point_operations() {
        for m in both() {
            assert!(m.insert(entry("a", "1")).is_none());
            let old = m.insert(entry("a", "2")).expect("replaced");
            assert_eq!(old.value(), b"1");
            assert_eq!(m.get(b"a").expect("present").value(), b"2");
            assert!(m.get(b"a").expect("present").version() > old.version());
            assert_eq!(m.len(), 1);
            assert!(m.approx_bytes() > 0);
            assert_eq!(m.remove(b"a").expect("removed").value(), b"2");
            assert!(m.get(b"a").is_none());
            assert!(m.is_empty());
        }
    }

    #[test]
    fn range_is_ordered_across_shards() {
        for m in both() {
            for i in (0..500).rev() {
                m.insert(entry(&format!("k{i:04}"), &i.to_string()));
            }
            let keys: Vec<Vec<u8>> = m
                .range(Bound::Included(b"k0100"), Bound::Excluded(b"k0200"))
                .map(|(k, _)| k.to_vec())
                .collect();
            let want: Vec<Vec<u8>> = (100..200)
                .map(|i| format!("k{i:04}").into_bytes())
                .collect();
            assert_eq!(keys, want);
        }
    }

    #[test]
    fn drain_moves_everything_out_in_bounded_steps() {
        for m in both() {
            for i in 0..1000 {
                m.insert(entry(&format!("k{i}"), "v"));
            }
            let mut total = 0;
            loop {
                let batch = m.drain(300);
                assert!(batch.len() <= 300);
                if batch.is_empty() {
                    break;
                }
                total += batch.len();
            }
            assert_eq!(total, 1000);
            assert!(m.is_empty());
        }
    }
}
