//! The reaper: the thread that removes keys at their deadline.
//!
//! Owns the reaping loop and the removal of due keys from a layout's
//! shards, active and frozen. It holds only a weak reference to the
//! keyspace while it sleeps, and ends when the keyspace is dropped.

use crate::keyspace::Keyspace;
use crate::memtable::{Layout, Shard, Unit, Woken};
use crate::pubsub::NotifyFlags;
use bytes::Bytes;
use parking_lot::RwLockWriteGuard;
use smallvec::SmallVec;
use std::sync::{Arc, Weak};
use std::time::Instant;

/// Most keys removed per shard lock hold.
pub(crate) const REAP_BATCH: usize = 256;

/// Starts the reaper for `ks`, if its clock follows real time (with any
/// other clock, `Db::reap_expired` removes due keys on request).
pub(crate) fn spawn(ks: &Arc<Keyspace>) {
    if ks.ctx.clock.real_time_until_past(0).is_none() {
        return;
    }
    let weak = Arc::downgrade(ks);
    // Without the thread, keys still expire lazily; there is no one to
    // report a failed spawn to here.
    let _ = std::thread::Builder::new()
        .name("tandem-reaper".into())
        .spawn(move || run(&weak));
}

fn run(weak: &Weak<Keyspace>) {
    loop {
        let Some(ks) = weak.upgrade() else {
            return;
        };
        let alarm = ks.alarm.clone();
        alarm.awake();
        let now = ks.ctx.now();
        let full_round = ks.reap_due(now) > 0;
        // Announce the target, then look again (see `alarm`).
        let next = loop {
            let next = ks.next_deadline();
            alarm.set_target(next);
            if ks.next_deadline() >= next {
                break next;
            }
        };
        let until = if next == u64::MAX {
            None
        } else {
            let wait = ks.ctx.clock.real_time_until_past(next).unwrap_or_default();
            Some(Instant::now() + wait)
        };
        drop(ks);
        if full_round {
            // Give requests the CPU between rounds of a large expiry.
            std::thread::yield_now();
        }
        if alarm.sleep(until) == Woken::Closed {
            return;
        }
    }
}

impl Keyspace {
    /// The earliest deadline any shard may hold (`u64::MAX`: none).
    pub(crate) fn next_deadline(&self) -> u64 {
        let layout = self.layout();
        let frozen = layout.frozen.iter().flat_map(|f| f.iter());
        layout
            .active
            .iter()
            .chain(frozen)
            .filter(|s| !s.is_drained())
            .map(Shard::next_deadline)
            .min()
            .unwrap_or(u64::MAX)
    }

    /// One round: removes from each shard up to `REAP_BATCH` keys expired
    /// at `now`, announcing each. Returns how many were removed; call
    /// again until it returns 0 to remove everything due.
    pub(crate) fn reap_due(&self, now: u64) -> usize {
        let layout = self.layout();
        let mut removed = 0;
        for shard in layout.active.iter() {
            if shard.next_deadline() < now {
                removed += self.reap_active(&layout, shard, now);
            }
        }
        if let Some(frozen) = &layout.frozen {
            for unit in layout.units() {
                let due = unit.frozen.clone().any(|i| {
                    let s = frozen.shard(i);
                    !s.is_drained() && s.next_deadline() < now
                });
                if due {
                    removed += self.reap_frozen(&layout, &unit, now);
                }
            }
        }
        removed
    }

    fn reap_active(&self, layout: &Layout, shard: &Shard, now: u64) -> usize {
        let mut keys = Vec::new();
        let mut removed = Vec::new();
        let mut map = shard.write();
        // A resize froze this memtable since the layout was loaded: its
        // copies may now be shadowed, which only the frozen path checks.
        if layout.active.is_frozen() {
            return 0;
        }
        map.collect_due(now, REAP_BATCH, &mut keys);
        // One clock read per batch, for the lateness stats: the round
        // began at `now`, maybe a while ago.
        let at = if keys.is_empty() {
            now
        } else {
            self.ctx.now().max(now)
        };
        let mut count = 0;
        for key in &keys {
            let hash = self.hash(key);
            if let Some(entry) = map.remove(hash, key) {
                count += 1;
                if let Some(deadline) = entry.expiry() {
                    self.lateness.record(deadline, at);
                }
                removed.push(entry);
                self.announce_expired(key);
                // A copy a blind write shadowed must not outlive the copy
                // that shadowed it: the migrator would move it back in.
                if let Some(frozen) = &layout.frozen {
                    let old = frozen.shard(frozen.index(hash));
                    if !old.is_drained() {
                        removed.extend(old.write().remove(hash, key));
                    }
                }
            }
        }
        map.publish_deadline();
        RwLockWriteGuard::unlock_fair(map);
        drop(removed);
        count
    }

    /// Reaps the frozen shards of `unit`, holding its active shards so
    /// that a copy shadowed by a blind write is told apart (and dropped
    /// without an event: its key lives on).
    #[expect(
        clippy::indexing_slicing,
        reason = "keys of a unit's frozen shards route to its active shards (`Unit`), so the index is within `news`, one per active shard of the unit"
    )]
    fn reap_frozen(&self, layout: &Layout, unit: &Unit, now: u64) -> usize {
        let Some(frozen) = &layout.frozen else {
            return 0;
        };
        let news: SmallVec<[_; 2]> = unit
            .active
            .clone()
            .map(|j| layout.active.shard(j).read())
            .collect();
        if layout.active.is_frozen() {
            return 0;
        }
        let mut count = 0;
        let mut removed = Vec::new();
        for i in unit.frozen.clone() {
            let shard = frozen.shard(i);
            if shard.is_drained() || shard.next_deadline() >= now {
                continue;
            }
            let mut keys: Vec<Bytes> = Vec::new();
            let mut map = shard.write();
            map.collect_due(now, REAP_BATCH, &mut keys);
            let at = if keys.is_empty() {
                now
            } else {
                self.ctx.now().max(now)
            };
            for key in &keys {
                let hash = self.hash(key);
                let Some(entry) = map.remove(hash, key) else {
                    continue;
                };
                let active = &news[layout.active.index(hash) - unit.active.start];
                if !active.contains(hash, key) {
                    self.announce_expired(key);
                    if let Some(deadline) = entry.expiry() {
                        self.lateness.record(deadline, at);
                    }
                }
                removed.push(entry);
                count += 1;
            }
            map.publish_deadline();
            RwLockWriteGuard::unlock_fair(map);
        }
        drop(news);
        drop(removed);
        count
    }

    /// Publishes the `expired` event for `key`.
    pub(crate) fn announce_expired(&self, key: &[u8]) {
        self.ctx.notify(NotifyFlags::EXPIRED, "expired", key);
    }
}
