//! `Shard`: one lock around one `ShardMap`, with counters for contention.
//!
//! Owns the lock and the measurement of how often, and how long, taking
//! it had to wait. Every lock acquisition in the engine goes through
//! `read`/`write` here, so the contention count is complete; nothing may
//! lock `map` directly. Only a wait is timed: the uncontended path reads
//! no clock.

use super::map::ShardMap;
use super::{Alarm, DueHint};
use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Upper bounds of the lock-wait histogram's buckets, in nanoseconds: a
/// 1-2.5-5 series from 1 µs to 1 s, so that the alert thresholds (1 ms,
/// 10 ms) fall on bounds. Waits above the last land in the overflow
/// bucket, `WAIT_BUCKETS - 1`.
pub const WAIT_BOUNDS_NS: [u64; 19] = [
    1_000,
    2_500,
    5_000,
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
];
/// The wait histogram's buckets: one per bound, and the overflow.
pub const WAIT_BUCKETS: usize = WAIT_BOUNDS_NS.len() + 1;

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
    /// How long waits took, by `WAIT_BOUNDS_NS` bucket, and in all.
    wait_buckets: [AtomicU64; WAIT_BUCKETS],
    wait_nanos: AtomicU64,
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
    /// Waits (read and write) by how long they took: counts per
    /// `WAIT_BOUNDS_NS` bucket, not cumulative, the overflow last.
    pub wait_buckets: [u64; WAIT_BUCKETS],
    /// The waits' total time, in nanoseconds.
    pub wait_nanos: u64,
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
        for (mine, theirs) in self.wait_buckets.iter_mut().zip(&other.wait_buckets) {
            *mine += theirs;
        }
        self.wait_nanos += other.wait_nanos;
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
            wait_buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            wait_nanos: AtomicU64::new(0),
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
        let started = Instant::now();
        let guard = self.map.read();
        self.waited(started);
        guard
    }

    /// Takes the lock for writing, counting a wait if it was contended.
    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, ShardMap> {
        if let Some(guard) = self.map.try_write() {
            return guard;
        }
        self.write_waits.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let guard = self.map.write();
        self.waited(started);
        guard
    }

    /// Records a wait that began at `started` and just ended.
    fn waited(&self, started: Instant) {
        let ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let bucket = WAIT_BOUNDS_NS
            .iter()
            .position(|&bound| ns <= bound)
            .unwrap_or(WAIT_BUCKETS - 1);
        if let Some(b) = self.wait_buckets.get(bucket) {
            b.fetch_add(1, Ordering::Relaxed);
        }
        self.wait_nanos.fetch_add(ns, Ordering::Relaxed);
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
            wait_buckets: std::array::from_fn(|i| {
                self.wait_buckets
                    .get(i)
                    .map_or(0, |b| b.load(Ordering::Relaxed))
            }),
            wait_nanos: self.wait_nanos.load(Ordering::Relaxed),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_is_counted_and_timed_once() {
        let shard = Arc::new(Shard::new(1, Arc::default()));
        let held = shard.write();
        let reader = {
            let shard = shard.clone();
            std::thread::spawn(move || drop(shard.read()))
        };
        // The reader counts its wait before it blocks on the lock.
        while shard.counters().read_waits == 0 {
            std::thread::yield_now();
        }
        drop(held);
        assert!(reader.join().is_ok());
        let c = shard.counters();
        assert_eq!((c.read_waits, c.write_waits), (1, 0));
        assert_eq!(c.wait_buckets.iter().sum::<u64>(), 1);
        assert!(c.wait_nanos > 0);
        // An uncontended acquisition is neither.
        drop(shard.write());
        assert_eq!(shard.counters(), c);
    }
}
