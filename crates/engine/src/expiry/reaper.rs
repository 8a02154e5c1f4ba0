//! The reaper: the thread that removes keys at their deadline, for every
//! keyspace of a `Background`.
//!
//! Owns the reaping loop and the removal of due keys from a layout's
//! shards, active and frozen. It holds the keyspaces only for a round and
//! sleeps holding none, so a dropped keyspace simply leaves its list; it
//! ends when its alarm closes (the last `Background` handle went).

use crate::journal;
use crate::keyspace::Keyspace;
use crate::memtable::{Alarm, Layout, Shard, Unit, Woken};
use crate::pubsub::NotifyFlags;
use bytes::Bytes;
use parking_lot::RwLockWriteGuard;
use smallvec::SmallVec;
use std::sync::Arc;
use std::time::Instant;

/// Most keys removed per shard lock hold.
pub(crate) const REAP_BATCH: usize = 256;

/// The reaper thread's loop: each round removes what is due in every
/// keyspace `keyspaces` returns (called once a round, so keyspaces that
/// joined since are served), then sleeps on `alarm` until the earliest
/// deadline among them. Returns when the alarm closes.
pub(crate) fn run(mut keyspaces: impl FnMut() -> Vec<Arc<Keyspace>>, alarm: &Alarm) {
    loop {
        alarm.awake();
        let all = keyspaces();
        let mut full_round = false;
        for ks in &all {
            full_round |= ks.reap_due(ks.ctx.now()) > 0;
        }
        // Announce the target, then look again (see `alarm`): the earliest
        // deadline of any shard of any keyspace here.
        let deadlines = loop {
            let deadlines: SmallVec<[u64; 16]> = all.iter().map(|ks| ks.next_deadline()).collect();
            let next = deadlines.iter().copied().min().unwrap_or(u64::MAX);
            alarm.set_target(next);
            if all.iter().all(|ks| ks.next_deadline() >= next) {
                break deadlines;
            }
        };
        // Each keyspace's own clock says how far away its deadline is.
        let until = all
            .iter()
            .zip(&deadlines)
            .filter(|(_, &d)| d != u64::MAX)
            .map(|(ks, &d)| ks.ctx.clock.real_time_until_past(d).unwrap_or_default())
            .min()
            .map(|wait| Instant::now() + wait);
        drop(all);
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
        // Expirations are logged as deletes, under the shard's lock.
        let journal = self.ctx.journal.load();
        let scope = journal::begin(journal.as_deref(), self.ctx.id);
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
        drop(scope);
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
