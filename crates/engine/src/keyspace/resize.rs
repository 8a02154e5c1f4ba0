//! Resizing: freeze the active memtable, serve from both, drain the frozen
//! one into the new one.
//!
//! Owns the steps of a resize and their bookkeeping: `begin` (freeze,
//! then publish), `step` (move one bounded batch), the completion that
//! publishes the single-memtable layout, and the log of finished resizes.
//! One resize runs at a time: a resize asked for while another migrates
//! first finishes that one. The control lock here is never taken on a
//! request path; requests meet a resize only through shard locks, held by
//! the migrator for one small batch at a time.

use super::layout::{Layout, Unit};
use super::policy::ResizeReason;
use super::Keyspace;
use crate::memtable::{ShardCounters, Shards};
use parking_lot::{Mutex, RwLockWriteGuard};
use smallvec::SmallVec;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Entries the migrator moves per lock acquisition. Small, because
/// requests to those shards wait for the batch: 64 entries take a few
/// microseconds.
pub(crate) const MIGRATE_BATCH: usize = 64;

/// Finished resizes kept for stats.
const EVENTS_KEPT: usize = 64;

/// One finished resize.
#[derive(Debug, Clone, PartialEq)]
pub struct ResizeEvent {
    /// Shards before.
    pub from: usize,
    /// Shards after.
    pub to: usize,
    /// Entries moved from the frozen memtable to the new one.
    pub keys_moved: usize,
    /// Expired entries dropped instead of moved.
    pub keys_purged: usize,
    /// From freezing to publishing the final layout.
    pub duration: Duration,
    /// Why it happened.
    pub reason: ResizeReason,
    /// When it started, as time since the keyspace was created.
    pub started: Duration,
}

/// Whether a resize is running, and how far it got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResizeState {
    /// One memtable, no migration.
    Idle,
    /// Draining `from` shards into `to` shards.
    Migrating {
        /// Shards of the frozen memtable.
        from: usize,
        /// Shards of the active memtable.
        to: usize,
        /// Entries handled so far (moved or purged).
        done: usize,
        /// Entries the frozen memtable held when the resize began.
        total: usize,
    },
}

/// The resize in progress.
struct Migration {
    from: usize,
    to: usize,
    reason: ResizeReason,
    started: Instant,
    units: Vec<Unit>,
    next_unit: usize,
    moved: usize,
    purged: usize,
    total: usize,
}

/// A keyspace's resize bookkeeping.
pub(crate) struct ResizeControl {
    current: Mutex<Option<Migration>>,
    events: Mutex<VecDeque<ResizeEvent>>,
    created: Instant,
    last_end: Mutex<Instant>,
    generations: AtomicU64,
    resizes: AtomicU64,
    /// Whether a resize is running, readable without the control lock.
    running: AtomicBool,
    /// Counters of memtables that resizes retired, so totals keep counting
    /// across resizes.
    retired: Mutex<ShardCounters>,
}

impl ResizeControl {
    pub(crate) fn new() -> Self {
        let now = Instant::now();
        // No cooldown before the first resize: a keyspace under load from
        // its first moment should start growing at the first measurement,
        // while it is still small and cheap to migrate.
        let long_ago = now.checked_sub(Duration::from_secs(3600)).unwrap_or(now);
        Self {
            current: Mutex::new(None),
            events: Mutex::new(VecDeque::new()),
            created: now,
            last_end: Mutex::new(long_ago),
            generations: AtomicU64::new(1),
            resizes: AtomicU64::new(0),
            running: AtomicBool::new(false),
            retired: Mutex::new(ShardCounters::default()),
        }
    }
}

impl Keyspace {
    /// Starts a resize to `to` shards, unless one is already running, `to`
    /// is the current count, or this keyspace cannot resize (single lock).
    /// Returns whether it started.
    pub(crate) fn begin_resize(&self, to: usize, reason: ResizeReason) -> bool {
        let mut current = self.resize.current.lock();
        if current.is_some() || self.kind == crate::memtable::MemtableKind::SingleLock {
            return false;
        }
        let layout = self.layout();
        let from = layout.active.count();
        let to = to.clamp(1, crate::options::MAX_SHARDS);
        if to == from {
            return false;
        }
        let generation = self.resize.generations.fetch_add(1, Ordering::Relaxed);
        let old = Arc::clone(&layout.active);
        let new = Arc::new(Shards::new(to, old.hasher(), generation));
        let total = old.iter().map(|s| s.read().len()).sum();
        // Freeze first, publish second: from the moment anyone can write to
        // `new`, every writer still holding `old` sees the mark and retries.
        old.freeze();
        let next = Layout {
            id: layout.id + 1,
            active: new,
            frozen: Some(old),
        };
        let units = next.units();
        self.layout.store(Arc::new(next));
        self.resize.running.store(true, Ordering::Release);
        *current = Some(Migration {
            from,
            to,
            reason,
            started: Instant::now(),
            units,
            next_unit: 0,
            moved: 0,
            purged: 0,
            total,
        });
        true
    }

    /// Moves up to `max` entries of the running resize, and completes it
    /// when the frozen memtable is empty. Returns whether a resize is still
    /// running afterwards.
    pub(crate) fn migrate_step(&self, max: usize) -> bool {
        let mut current = self.resize.current.lock();
        self.step(&mut current, max)
    }

    /// `migrate_step` with the control lock held.
    fn step(&self, current: &mut Option<Migration>, max: usize) -> bool {
        let Some(m) = current.as_mut() else {
            return false;
        };
        let layout = self.layout();
        let mut budget = max.max(1);
        while budget > 0 && m.next_unit < m.units.len() {
            let (moved, purged, drained) =
                self.migrate_unit(&layout, &m.units[m.next_unit], budget);
            m.moved += moved;
            m.purged += purged;
            budget = budget.saturating_sub((moved + purged).max(1));
            if drained {
                m.next_unit += 1;
            }
        }
        if m.next_unit < m.units.len() {
            return true;
        }
        // Drained: publish the layout without the frozen memtable.
        if let Some(frozen) = &layout.frozen {
            let mut retired = self.resize.retired.lock();
            for shard in frozen.iter() {
                retired.add(&shard.counters());
            }
        }
        let done = Layout {
            id: layout.id + 1,
            active: Arc::clone(&layout.active),
            frozen: None,
        };
        self.layout.store(Arc::new(done));
        let event = ResizeEvent {
            from: m.from,
            to: m.to,
            keys_moved: m.moved,
            keys_purged: m.purged,
            duration: m.started.elapsed(),
            reason: m.reason,
            started: m.started.duration_since(self.resize.created),
        };
        *current = None;
        self.resize.running.store(false, Ordering::Release);
        *self.resize.last_end.lock() = Instant::now();
        self.resize.resizes.fetch_add(1, Ordering::Relaxed);
        let mut events = self.resize.events.lock();
        if events.len() == EVENTS_KEPT {
            events.pop_front();
        }
        events.push_back(event);
        false
    }

    /// Moves up to `max` entries of one unit, with all its shards locked
    /// (active ones first, then frozen, each ascending). Expired entries are
    /// dropped rather than moved. Returns (moved, purged, unit drained).
    fn migrate_unit(&self, layout: &Layout, unit: &Unit, max: usize) -> (usize, usize, bool) {
        let Some(frozen) = &layout.frozen else {
            return (0, 0, true);
        };
        let active = &layout.active;
        let mut news: SmallVec<[_; 2]> = unit
            .active
            .clone()
            .map(|j| active.shard(j).write())
            .collect();
        let mut olds: SmallVec<[_; 2]> = unit
            .frozen
            .clone()
            .map(|i| frozen.shard(i).write())
            .collect();
        let now = self.ctx.now();
        let (mut moved, mut purged) = (0, 0);
        let mut dropped = Vec::new();
        for old in olds.iter_mut() {
            while moved + purged < max {
                let Some(entry) = old.pop_first() else {
                    break;
                };
                if entry.is_expired(now) {
                    purged += 1;
                    dropped.push(entry);
                    continue;
                }
                let hash = self.hash(entry.key());
                let new = &mut news[active.index(hash) - unit.active.start];
                // Rule 3: never over an entry the active memtable has.
                if new.contains(hash, entry.key()) {
                    dropped.push(entry);
                } else {
                    new.insert_new(hash, entry);
                    moved += 1;
                }
            }
        }
        let drained = olds.iter().all(|m| m.len() == 0);
        if drained {
            for i in unit.frozen.clone() {
                frozen.shard(i).mark_drained();
            }
        }
        // Fair unlocks: hand the locks to waiting requests. A plain unlock
        // lets the migrator, which locks the same shards again at once, win
        // them back before the woken requests run, starving them: with two
        // writers, throughput fell to 2% of normal during a migration.
        for guard in olds {
            RwLockWriteGuard::unlock_fair(guard);
        }
        for guard in news {
            RwLockWriteGuard::unlock_fair(guard);
        }
        drop(dropped);
        (moved, purged, drained)
    }

    /// Helps a running resize: moves a small batch, unless another thread
    /// is migrating right now. Called after each request, outside its
    /// locks. Under heavy load the resizer thread gets little CPU among the
    /// request threads; this way migration advances with the load itself,
    /// as Redis's incremental rehash does. Costs one atomic load when no
    /// resize runs.
    pub(crate) fn assist_resize(&self) {
        if self.assist == 0 || !self.is_resizing() {
            return;
        }
        let Some(mut current) = self.resize.current.try_lock() else {
            return;
        };
        self.step(&mut current, self.assist);
    }

    /// Resizes to `to` shards and waits until it is done, first finishing a
    /// resize already running. Returns the finished resize, or `None` when
    /// there was nothing to do.
    pub(crate) fn resize(&self, to: usize, reason: ResizeReason) -> Option<ResizeEvent> {
        while self.migrate_step(usize::MAX) {}
        if !self.begin_resize(to, reason) {
            return None;
        }
        while self.migrate_step(MIGRATE_BATCH) {}
        self.resize.events.lock().back().cloned()
    }

    /// The running resize's progress.
    pub(crate) fn resize_state(&self) -> ResizeState {
        match self.resize.current.lock().as_ref() {
            None => ResizeState::Idle,
            Some(m) => ResizeState::Migrating {
                from: m.from,
                to: m.to,
                done: m.moved + m.purged,
                total: m.total,
            },
        }
    }

    /// The last finished resizes, oldest first.
    pub(crate) fn resize_events(&self) -> Vec<ResizeEvent> {
        self.resize.events.lock().iter().cloned().collect()
    }

    /// How many resizes have finished.
    pub(crate) fn resize_count(&self) -> u64 {
        self.resize.resizes.load(Ordering::Relaxed)
    }

    /// Time since the last resize finished (or since creation).
    pub(crate) fn since_last_resize(&self) -> Duration {
        self.resize.last_end.lock().elapsed()
    }

    /// Whether a resize is running; one atomic load.
    pub(crate) fn is_resizing(&self) -> bool {
        self.resize.running.load(Ordering::Acquire)
    }

    /// Counters of the memtables resizes have retired.
    pub(crate) fn retired_counters(&self) -> ShardCounters {
        *self.resize.retired.lock()
    }
}
