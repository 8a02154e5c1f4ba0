//! `Shard`: one lock around one `ShardMap`, with counters for contention.
//!
//! Owns the lock and the measurement of how often taking it had to wait.
//! Every lock acquisition in the engine goes through `read`/`write` here,
//! so the contention count is complete; nothing may lock `map` directly.

use super::map::ShardMap;
use super::{Alarm, DueHint};
use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// One independently locked part of a memtable.
pub struct Shard {
    map: RwLock<ShardMap>,
    /// A lower bound on the deadlines in `map`, read without the lock.
    due: Arc<DueHint>,
    /// Set by the migrator when it empties this shard of a frozen memtable:
    /// requests then skip it without locking (nothing enters a frozen
    /// shard, so once empty it stays empty).
    drained: AtomicBool,
    read_waits: AtomicU64,
    write_waits: AtomicU64,
    fast_batches: AtomicU64,
    multi_batches: AtomicU64,
    resize_batches: AtomicU64,
}

/// A shard's counters, read without taking its lock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShardCounters {
    /// Read-lock acquisitions that found the lock taken and had to wait.
    pub read_waits: u64,
    /// Write-lock acquisitions that had to wait.
    pub write_waits: u64,
    /// Atomic batches whose keys all lived on this shard (one lock).
    pub fast_batches: u64,
    /// Multi-shard atomic batches whose lowest shard was this one.
    pub multi_batches: u64,
    /// Batches on this one shard that, during a resize, also locked the
    /// keys' frozen shard (two locks instead of one).
    pub resize_batches: u64,
}

impl ShardCounters {
    /// Adds `other` to these counters.
    pub fn add(&mut self, other: &ShardCounters) {
        self.read_waits += other.read_waits;
        self.write_waits += other.write_waits;
        self.fast_batches += other.fast_batches;
        self.multi_batches += other.multi_batches;
        self.resize_batches += other.resize_batches;
    }
}

impl Shard {
    /// An empty shard of memtable `memtable` whose deadlines ring `alarm`.
    pub(crate) fn new(memtable: u64, alarm: Arc<Alarm>) -> Self {
        let due = Arc::new(DueHint::new(alarm));
        Self {
            map: RwLock::new(ShardMap::new(memtable, due.clone())),
            due,
            drained: AtomicBool::new(false),
            read_waits: AtomicU64::new(0),
            write_waits: AtomicU64::new(0),
            fast_batches: AtomicU64::new(0),
            multi_batches: AtomicU64::new(0),
            resize_batches: AtomicU64::new(0),
        }
    }

    /// Takes the lock for reading, counting a wait if it was contended.
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, ShardMap> {
        if let Some(guard) = self.map.try_read() {
            return guard;
        }
        self.read_waits.fetch_add(1, Ordering::Relaxed);
        self.map.read()
    }

    /// Takes the lock for writing, counting a wait if it was contended.
    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, ShardMap> {
        if let Some(guard) = self.map.try_write() {
            return guard;
        }
        self.write_waits.fetch_add(1, Ordering::Relaxed);
        self.map.write()
    }

    /// Takes the lock for writing if it is free right now; not a wait.
    pub(crate) fn try_write(&self) -> Option<RwLockWriteGuard<'_, ShardMap>> {
        self.map.try_write()
    }

    /// A lower bound on this shard's deadlines (`u64::MAX`: none), without
    /// taking the lock.
    pub(crate) fn next_deadline(&self) -> u64 {
        self.due.next()
    }

    /// Marks this frozen shard empty for good.
    pub(crate) fn mark_drained(&self) {
        self.drained.store(true, Ordering::Release);
    }

    /// Whether the migrator emptied this frozen shard.
    pub(crate) fn is_drained(&self) -> bool {
        self.drained.load(Ordering::Acquire)
    }

    /// Counts an atomic batch that took only this shard's lock.
    pub(crate) fn count_fast_batch(&self) {
        self.fast_batches.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an atomic batch spanning several shards.
    pub(crate) fn count_multi_batch(&self) {
        self.multi_batches.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a one-shard batch that also locked a frozen shard.
    pub(crate) fn count_resize_batch(&self) {
        self.resize_batches.fetch_add(1, Ordering::Relaxed);
    }

    /// The shard's counters.
    pub fn counters(&self) -> ShardCounters {
        ShardCounters {
            read_waits: self.read_waits.load(Ordering::Relaxed),
            write_waits: self.write_waits.load(Ordering::Relaxed),
            fast_batches: self.fast_batches.load(Ordering::Relaxed),
            multi_batches: self.multi_batches.load(Ordering::Relaxed),
            resize_batches: self.resize_batches.load(Ordering::Relaxed),
        }
    }
}

/// Keeps each shard on its own cache lines, so that taking one shard's lock
/// does not invalidate the line holding its neighbour's. 128 bytes covers
/// the adjacent-line prefetcher on x86-64.
#[repr(align(128))]
pub(crate) struct Padded<T>(pub T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}
