//! The keyspace: its memtables, and how every operation reaches a key while
//! the set of memtables changes underneath it.
//!
//! Owns the current layout (a `memtable::Layout`, swapped whole), what
//! operations need besides a shard (`context`), resizing (`resize`:
//! freeze, serve, drain), the policy that decides when (`policy`), the
//! loop that applies it (`resizer`, run by the `Background` the keyspace
//! is on), an import's bulk load (`bulk`), and the reaper's lateness
//! record (`lateness`). It must never
//! use `db`, `expiry` or `background`: they sit above it.
//!
//! # Freeze, serve, drain
//! A resize builds a memtable with the new shard count, marks the current
//! one frozen, and publishes a layout `{active: new, frozen: old}` with one
//! atomic pointer swap. A migrator then moves the frozen memtable's entries
//! into the active one, a small batch at a time, and publishes
//! `{active: new}` when it is empty. Requests never wait for a resize; they
//! take shard locks exactly as at any other time.
//!
//! # The access protocol, and why it is correct
//! Locks are always taken active shards first, then frozen ones, each in
//! ascending order. Requests, batches, scans and the migrator all follow
//! that order, so they cannot deadlock.
//!
//! 1. An operation loads the layout and locks its key's active shard. If
//!    that memtable is marked frozen, a resize started after the load: it
//!    unlocks and starts again. The freeze mark is set *before* the new
//!    layout is published, so nothing writes to a memtable once any writer
//!    may have written to its successor; a late writer sees the mark under
//!    the lock and retries.
//! 2. While a frozen memtable exists, a write that does not find its key in
//!    the active shard also locks the key's frozen shard and moves the entry
//!    over (it *pulls* the key) before it changes anything. After a write,
//!    the key has no copy left in the frozen memtable, so the migrator has
//!    nothing that could undo a delete or overwrite.
//! 3. The migrator moves entries only while holding both the frozen shard
//!    and every active shard its keys route to, and never over an entry the
//!    active memtable already has. So each key has exactly one visible copy
//!    at every instant (a copy shadowed by rule 5 is never visible), and a
//!    move is atomic to everyone holding a lock.
//! 4. A read that misses the active shard reads the frozen shard *while
//!    still holding the active shard's lock*. No key can enter that active
//!    shard or leave that frozen shard in between (both need the active
//!    shard's write lock), so the read sees the key wherever it is.
//!
//! 5. A *blind* write (a plain SET, which replaces the key whatever it held)
//!    writes the active shard without looking at the frozen one. A copy
//!    left there is shadowed: rule 4 reads find the active copy first, rule
//!    3 makes the migrator drop the stale one, scans prefer the active copy,
//!    and rule 2 (every other write) removes it. Most writes during a growth
//!    are such SETs; without this, each one would check the frozen
//!    memtable, and at 1 or 2 frozen shards that check serialised them all.
//!
//! No tombstones are needed: a delete goes through rule 2, which removes
//! the frozen copy (shadowed or not) instead of marking it deleted.
//!
//! DBSIZE: while a resize runs, it can count a key twice, once in each
//! memtable, if a blind write shadowed it and the migrator has not reached
//! the stale copy yet.

mod bulk;
mod context;
mod lateness;
pub mod policy;
mod resize;
mod resizer;

use crate::journal;
use crate::memtable::hashing::KeyHasher;
use crate::memtable::{Alarm, Layout, MemtableKind, ShardMap, Shards};
use crate::scan::CursorTable;
use arc_swap::ArcSwap;
pub(crate) use bulk::Built;
pub use context::Ctx;
pub(crate) use lateness::Lateness;
pub use lateness::LatenessSummary;
pub use policy::{ResizePolicy, ResizeReason};
pub(crate) use resize::Pace;
use resize::ResizeControl;
pub use resize::{ResizeEvent, ResizeState};
pub(crate) use resizer::run as run_resizer;
use std::sync::Arc;

/// Numbers each keyspace made in this process, for `Keyspace::uid`.
static KEYSPACES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A keyspace: one database's data.
pub(crate) struct Keyspace {
    /// This keyspace's number, never reused in the process: each seeds
    /// its own hasher, so something built with one keyspace's hashes
    /// (an import's `Loadable`) is told apart from another's by it.
    pub(crate) uid: u64,
    layout: ArcSwap<Layout>,
    hasher: KeyHasher,
    pub(crate) kind: MemtableKind,
    pub(crate) ctx: Ctx,
    pub(crate) cursors: CursorTable,
    pub(crate) policy: Option<ResizePolicy>,
    resize: ResizeControl,
    /// What the reaper of this keyspace's `Background` sleeps on; every
    /// shard's deadline hint rings it.
    pub(crate) alarm: Arc<Alarm>,
    /// How late the reaper removed keys.
    pub(crate) lateness: Lateness,
}

impl Keyspace {
    /// A keyspace starting with `shards` shards; `policy` makes it resize
    /// itself (a resizer thread must serve it for that). Its shards ring
    /// `alarm` when a deadline comes earlier than the reaper expects.
    pub(crate) fn new(
        kind: MemtableKind,
        shards: usize,
        policy: Option<ResizePolicy>,
        pace: Pace,
        ctx: Ctx,
        alarm: Arc<Alarm>,
    ) -> Self {
        let hasher = KeyHasher::random();
        let shards = match kind {
            MemtableKind::SingleLock => 1,
            MemtableKind::Sharded => shards,
        };
        let active = Arc::new(Shards::new(shards, hasher, &alarm));
        Self {
            uid: KEYSPACES.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            layout: ArcSwap::from_pointee(Layout {
                id: 0,
                active,
                frozen: None,
            }),
            hasher,
            kind,
            ctx,
            cursors: CursorTable::new(),
            policy: policy.filter(|_| kind == MemtableKind::Sharded),
            resize: ResizeControl::new(pace),
            alarm,
            lateness: Lateness::default(),
        }
    }

    /// The current layout.
    pub(crate) fn layout(&self) -> Arc<Layout> {
        self.layout.load_full()
    }

    /// Where each new layout is published, for a reader that must follow
    /// resizes as it goes (a scan reloads from here when its layout goes
    /// stale).
    pub(crate) fn layouts(&self) -> &ArcSwap<Layout> {
        &self.layout
    }

    pub(crate) fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash(key)
    }

    /// Runs `f` on the map that holds `key` (or would), read-locked.
    pub(crate) fn read<R>(&self, key: &[u8], f: impl FnOnce(&ShardMap, u64) -> R) -> R {
        self.read_with_active(key, |map, _, hash| f(map, hash))
    }

    /// Like `read`, also passing the key's shard in the active memtable,
    /// where a write to the key would land (the same map unless the key
    /// is still in a frozen memtable), read-locked too.
    pub(crate) fn read_with_active<R>(
        &self,
        key: &[u8],
        f: impl FnOnce(&ShardMap, &ShardMap, u64) -> R,
    ) -> R {
        let hash = self.hash(key);
        let r = loop {
            let layout = self.layout.load();
            let active = &layout.active;
            let map = active.shard(active.index(hash)).read();
            if active.is_frozen() {
                drop(map);
                std::hint::spin_loop();
                continue;
            }
            if let Some(frozen) = &layout.frozen {
                let old = frozen.shard(frozen.index(hash));
                if !old.is_drained() && !map.contains(hash, key) {
                    // Rule 4: read the frozen shard while holding the
                    // active one, so the key cannot move in between.
                    break f(&old.read(), &map, hash);
                }
            }
            break f(&map, &map, hash);
        };
        self.assist_resize();
        r
    }

    /// Runs `f` on the active map for `key`, write-locked, after pulling the
    /// key out of the frozen memtable if it is still there (rule 2).
    pub(crate) fn write<R>(&self, key: &[u8], f: impl FnOnce(&mut ShardMap, u64) -> R) -> R {
        self.write_inner(key, true, f)
    }

    /// Runs `f` on the active map for `key` without looking at the frozen
    /// memtable, for a write that replaces the key whatever it held (a plain
    /// SET). A copy left in the frozen memtable is shadowed (rule 5).
    pub(crate) fn write_blind<R>(&self, key: &[u8], f: impl FnOnce(&mut ShardMap, u64) -> R) -> R {
        self.write_inner(key, false, f)
    }

    fn write_inner<R>(
        &self,
        key: &[u8],
        pull_first: bool,
        f: impl FnOnce(&mut ShardMap, u64) -> R,
    ) -> R {
        let hash = self.hash(key);
        let r = loop {
            let layout = self.layout.load();
            let active = &layout.active;
            let mut map = active.shard(active.index(hash)).write();
            if active.is_frozen() {
                drop(map);
                std::hint::spin_loop();
                continue;
            }
            if let Some(frozen) = &layout.frozen {
                // A blind write still pulls when the key's frozen shard may
                // hold something expired, so that an expired copy is
                // removed and announced before the new value lands, never
                // shadowed (see `expiry`).
                if pull_first || self.frozen_has_due(frozen, hash) {
                    pull(&mut map, frozen, hash, key);
                }
            }
            // After the pull, which changes nothing a client sees.
            let journal = self.ctx.journal.load();
            let scope = journal::begin(journal.as_deref(), self.ctx.id);
            let r = f(&mut map, hash);
            drop(scope);
            break r;
        };
        self.assist_resize();
        r
    }

    /// For an embedded keyspace that settles each write (`Journal`), waits
    /// until this thread's records are as durable as promised; the error
    /// says why they are not.
    pub(crate) fn settle(&self) -> Result<(), String> {
        match &*self.ctx.journal.load() {
            Some(journal) => journal.after_write(),
            None => Ok(()),
        }
    }

    /// Locks every shard that `keys` can live in, in the global order, and
    /// pulls the keys into the active memtable when `write`; returns `None`
    /// when the layout moved on (the caller retries with a new one).
    pub(crate) fn lock_batch<'l, K: AsRef<[u8]>>(
        &self,
        layout: &'l Layout,
        keys: &[K],
        write: bool,
    ) -> Option<BatchLocks<'l>> {
        let hashes: smallvec::SmallVec<[u64; 8]> =
            keys.iter().map(|k| self.hash(k.as_ref())).collect();
        let mut indexes: smallvec::SmallVec<[usize; 8]> =
            hashes.iter().map(|&h| layout.active.index(h)).collect();
        indexes.sort_unstable();
        indexes.dedup();
        let mut guards: smallvec::SmallVec<[BatchGuard<'l>; 8]> = indexes
            .iter()
            .map(|&i| {
                let shard = layout.active.shard(i);
                if write {
                    BatchGuard::Write(shard.write())
                } else {
                    BatchGuard::Read(shard.read())
                }
            })
            .collect();
        if layout.active.is_frozen() {
            return None;
        }
        let mut frozen_shards = 0;
        if let Some(frozen) = &layout.frozen {
            let mut old: smallvec::SmallVec<[usize; 8]> = hashes
                .iter()
                .map(|&h| frozen.index(h))
                .filter(|&i| !frozen.shard(i).is_drained())
                .collect();
            old.sort_unstable();
            old.dedup();
            frozen_shards = old.len();
            if !write {
                // A read-only batch keeps the frozen shards locked too, so
                // it sees keys not yet moved (rule 4).
                let olds = old.iter().map(|&i| (i, frozen.shard(i).read())).collect();
                return Some(BatchLocks {
                    layout,
                    indexes,
                    guards,
                    frozen: olds,
                    frozen_shards,
                });
            }
            // Rule 2 for every key, while the batch holds its active shard.
            for (key, &h) in keys.iter().zip(&hashes) {
                let pos = indexes.iter().position(|&j| j == layout.active.index(h));
                if let Some(BatchGuard::Write(map)) = pos.and_then(|p| guards.get_mut(p)) {
                    pull(map, frozen, h, key.as_ref());
                }
            }
        }
        Some(BatchLocks {
            layout,
            indexes,
            guards,
            frozen: smallvec::SmallVec::new(),
            frozen_shards,
        })
    }

    /// Removes every key: all shard locks are taken in the global order and
    /// each map is swapped for an empty one; the old entries are freed after
    /// the locks are released.
    pub(crate) fn flush(&self) {
        loop {
            let layout = self.layout.load();
            let mut guards: Vec<_> = layout.active.iter().map(|s| s.write()).collect();
            if layout.active.is_frozen() {
                continue;
            }
            if let Some(frozen) = &layout.frozen {
                guards.extend(frozen.iter().map(|s| s.write()));
            }
            let old: Vec<ShardMap> = guards.iter_mut().map(|g| g.take()).collect();
            let journal = self.ctx.journal.load();
            let scope = journal::begin(journal.as_deref(), self.ctx.id);
            journal::other(&journal::Op::FlushDb(self.ctx.id));
            drop(scope);
            drop(guards);
            drop(old);
            return;
        }
    }

    /// Takes and releases every shard's write lock, in the global order,
    /// so every write that held one when this began has finished.
    pub(crate) fn barrier(&self) {
        let layout = self.layout.load_full();
        for shard in layout.active.iter() {
            drop(shard.write());
        }
        if let Some(frozen) = &layout.frozen {
            for shard in frozen.iter() {
                drop(shard.write());
            }
        }
    }

    /// Keys stored, counting expired ones not yet removed. During a resize
    /// each unit is counted with all its shards locked at once, so a key
    /// the migrator or a pull moves meanwhile is counted once, not missed
    /// or seen twice; a copy shadowed by a blind write is still counted
    /// (see "DBSIZE" above).
    pub(crate) fn len(&self) -> usize {
        loop {
            let layout = self.layout.load_full();
            let Some(frozen) = &layout.frozen else {
                return layout.active.iter().map(|s| s.read().len()).sum();
            };
            let mut total = 0;
            for unit in layout.units() {
                let news: smallvec::SmallVec<[_; 2]> =
                    unit.active.map(|j| layout.active.shard(j).read()).collect();
                let olds: smallvec::SmallVec<[_; 2]> =
                    unit.frozen.map(|i| frozen.shard(i).read()).collect();
                total += news.iter().chain(&olds).map(|m| m.len()).sum::<usize>();
            }
            // A newer resize moved keys out of this layout: count again.
            if !layout.active.is_frozen() {
                return total;
            }
        }
    }
}

impl Keyspace {
    /// Whether `hash`'s frozen shard may hold an entry already expired.
    fn frozen_has_due(&self, frozen: &Shards, hash: u64) -> bool {
        let old = frozen.shard(frozen.index(hash));
        !old.is_drained() && old.next_deadline() < self.ctx.now()
    }
}

/// Leaves no copy of `key` in the frozen memtable: moves it into `map` (its
/// active shard, which the caller holds), or drops it if `map` already has
/// the key (the frozen copy was shadowed by a blind write).
///
/// It looks first with a shared read lock, and skips a shard the migrator
/// has emptied, so that writes of keys the frozen memtable does not have
/// do not queue on its few shards. A key absent under the read lock stays
/// absent: nothing enters a frozen memtable.
fn pull(map: &mut ShardMap, frozen: &Shards, hash: u64, key: &[u8]) {
    let old = frozen.shard(frozen.index(hash));
    if old.is_drained() || !old.read().contains(hash, key) {
        return;
    }
    let Some(entry) = old.write().remove(hash, key) else {
        return;
    };
    // A shadowed copy comes back and is dropped here.
    let _ = map.insert_absent(hash, entry);
}

/// A lock on one active shard held by a batch.
pub(crate) enum BatchGuard<'l> {
    Read(parking_lot::RwLockReadGuard<'l, ShardMap>),
    Write(parking_lot::RwLockWriteGuard<'l, ShardMap>),
}

/// The locks a batch holds: its keys' active shards (in `indexes` order),
/// and for a read-only batch during a resize, their frozen shards too.
pub(crate) struct BatchLocks<'l> {
    pub(crate) layout: &'l Layout,
    pub(crate) indexes: smallvec::SmallVec<[usize; 8]>,
    pub(crate) guards: smallvec::SmallVec<[BatchGuard<'l>; 8]>,
    pub(crate) frozen: smallvec::SmallVec<[(usize, parking_lot::RwLockReadGuard<'l, ShardMap>); 8]>,
    /// How many frozen shards the batch had to lock (0 when not resizing).
    pub(crate) frozen_shards: usize,
}
