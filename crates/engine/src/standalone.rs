//! Standalone memtables: the public `Memtable` trait and its two
//! implementations, for embedders and benchmarks that want a concurrent
//! ordered map without a keyspace around it.
//!
//! Owns the trait (the seed document's trait, made Rust) and `SingleLock`
//! and `Sharded`, which wrap the engine's shards (`memtable::Shards`) and
//! read ranges through the scan merge. It must never be used by the engine
//! itself: a `Db` reaches its shards through `keyspace`, which adds
//! resizing and expiry. Which of the two a keyspace uses is
//! `MemtableKind`.

use crate::entry::Entry;
use crate::memtable::hashing::KeyHasher;
use crate::memtable::{Layout, Shards};
use crate::scan::RangeIter;
use std::ops::Bound;
use std::sync::Arc;

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

/// The baseline memtable: one lock over one map.
pub struct SingleLock {
    shards: Arc<Shards>,
}

impl SingleLock {
    /// An empty memtable.
    pub fn new() -> Self {
        Self {
            shards: Arc::new(Shards::new(1, KeyHasher::random(), &Arc::default())),
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
            shards: Arc::new(Shards::new(shards, KeyHasher::random(), &Arc::default())),
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
