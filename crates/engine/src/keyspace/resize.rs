//! Resizing: freeze the active memtable, serve from both, drain the frozen
//! one into the new one.
//!
//! Owns the steps of a resize and their bookkeeping: `begin` (freeze,
//! then publish), `step` (move one bounded batch), the completion that
//! publishes the single-memtable layout, and the log of finished resizes.
//! One resize runs at a time: a resize asked for while another migrates
//! first finishes that one. Requests meet a resize only through shard
//! locks, held by the migrator for one small batch at a time, and never
//! wait for the control lock here (they only try it, to assist).
//!
//! # Pacing
//! While a step holds a unit's locks, requests for those shards wait; and
//! on a busy machine its work takes CPU from them. So steps are paced: after
//! a step that took `t`, the next may start only `t * (1 - share) / share`
//! later, which keeps migration to `share` of the time (default 20%) and
//! requests at about 80% of their throughput or more during a resize.
//! Whoever comes first after that point takes the next step: a request
//! that assists (so migration keeps pace with the load even when the
//! resizer thread waits behind a hundred busy request threads for a CPU),
//! or the resizer thread (so it also advances when no requests come).

use super::policy::ResizeReason;
use super::Keyspace;
use crate::memtable::{Layout, Unit};
use crate::memtable::{Shard, ShardCounters, ShardMap, Shards};
use parking_lot::{Mutex, RwLockWriteGuard};
use smallvec::SmallVec;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Entries the migrator moves per lock acquisition. Small, because
/// requests to those shards wait for the batch: 64 entries take about
/// 20 microseconds.
pub(crate) const MIGRATE_BATCH: usize = 64;

/// How a migration is paced and who carries it out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Pace {
    /// Entries a request moves when it finds a step due; 0 leaves
    /// migration to the resizer thread and to explicit steps.
    pub(crate) assist: usize,
    /// The share of time paced steps may take, in (0, 1]; 1 is unpaced.
    pub(crate) share: f64,
}

/// Finished resizes kept for stats.
const EVENTS_KEPT: usize = 64;

/// One finished resize.
#[derive(Debug, Clone, PartialEq)]
pub struct ResizeEvent {
    /// This keyspace's resizes are numbered from 1 in the order they began.
    pub id: u64,
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

/// How a migration step takes its shard locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Locking {
    /// Queue for each lock.
    Wait,
    /// Give up at once if any lock is taken.
    Try,
}

impl Locking {
    /// Write-locks `shard`, noting in `locked` when the first lock was got.
    fn lock<'a>(
        self,
        shard: &'a Shard,
        locked: &mut Option<Instant>,
    ) -> Option<RwLockWriteGuard<'a, ShardMap>> {
        let guard = match self {
            Locking::Wait => Some(shard.write()),
            Locking::Try => shard.try_write(),
        }?;
        locked.get_or_insert_with(Instant::now);
        Some(guard)
    }
}

/// What one migration step did.
#[derive(Debug, Default)]
struct Step {
    /// Whether the resize is still running.
    running: bool,
    /// How long shard locks were held.
    held: Duration,
    /// Whether it stopped at a lock that was taken (`Locking::Try`).
    busy: bool,
}

/// What one call of `migrate_unit` did.
#[derive(Default)]
struct UnitStep {
    moved: usize,
    purged: usize,
    /// Whether the unit's frozen shards are now empty.
    drained: bool,
    /// How long the unit's locks were held.
    held: Duration,
}

/// The resize in progress.
struct Migration {
    /// See `ResizeEvent::id`.
    id: u64,
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
    /// The id the next resize gets.
    next_id: AtomicU64,
    resizes: AtomicU64,
    /// Whether a resize is running, readable without the control lock.
    running: AtomicBool,
    /// Holds taken on the resizer's own decisions (`hold_resizes`).
    held: AtomicUsize,
    pace: Pace,
    /// When the next paced step may start, in nanoseconds since `created`.
    next_step: AtomicU64,
    /// Counters of memtables that resizes retired, so totals keep counting
    /// across resizes.
    retired: Mutex<ShardCounters>,
}

impl ResizeControl {
    pub(crate) fn new(pace: Pace) -> Self {
        let now = Instant::now();
        // No cooldown to wait out before the first resize.
        let long_ago = now.checked_sub(Duration::from_secs(3600)).unwrap_or(now);
        Self {
            current: Mutex::new(None),
            events: Mutex::new(VecDeque::new()),
            created: now,
            last_end: Mutex::new(long_ago),
            next_id: AtomicU64::new(1),
            resizes: AtomicU64::new(0),
            running: AtomicBool::new(false),
            held: AtomicUsize::new(0),
            pace,
            next_step: AtomicU64::new(0),
            retired: Mutex::new(ShardCounters::default()),
        }
    }
}

impl Keyspace {
    /// Starts a resize to `to` shards, unless one is already running, `to`
    /// is the current count, or this keyspace cannot resize (single lock).
    /// Returns whether it started.
    pub(crate) fn begin_resize(&self, to: usize, reason: ResizeReason) -> bool {
        self.begin(to, reason).is_some()
    }

    /// `begin_resize`, returning the started resize's id.
    fn begin(&self, to: usize, reason: ResizeReason) -> Option<u64> {
        let mut current = self.resize.current.lock();
        if current.is_some() || self.kind == crate::memtable::MemtableKind::SingleLock {
            return None;
        }
        let layout = self.layout();
        let from = layout.active.count();
        let to = to.clamp(1, crate::memtable::MAX_SHARDS);
        if to == from {
            return None;
        }
        let id = self.resize.next_id.fetch_add(1, Ordering::Relaxed);
        let old = Arc::clone(&layout.active);
        let new = Arc::new(Shards::new(to, old.hasher(), &self.alarm));
        let total = old.iter().map(|s| s.read().len()).sum();
        let next = Arc::new(Layout {
            id: layout.id + 1,
            active: new,
            frozen: Some(Arc::clone(&old)),
        });
        let units = next.units();
        // Freeze first, publish second: from the moment anyone can write to
        // `new`, every writer still holding `old` sees the mark and retries.
        // Requests that meet the mark before the publish spin for that
        // moment: nothing is built in between.
        old.freeze();
        self.layout.store(next);
        self.resize.running.store(true, Ordering::Release);
        *current = Some(Migration {
            id,
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
        Some(id)
    }

    /// Moves up to `max` entries of the running resize, and completes it
    /// when the frozen memtable is empty. Returns whether a resize is still
    /// running afterwards.
    pub(crate) fn migrate_step(&self, max: usize) -> bool {
        let mut current = self.resize.current.lock();
        self.step(&mut current, max, Locking::Wait).running
    }

    /// `migrate_step` with the control lock held.
    fn step(&self, current: &mut Option<Migration>, max: usize, locking: Locking) -> Step {
        let Some(m) = current.as_mut() else {
            return Step::default();
        };
        let layout = self.layout();
        let mut budget = max.max(1);
        let mut held = Duration::ZERO;
        while budget > 0 {
            let Some(unit) = m.units.get(m.next_unit) else {
                break;
            };
            let Some(done) = self.migrate_unit(&layout, unit, budget, locking) else {
                return Step {
                    running: true,
                    held,
                    busy: true,
                };
            };
            m.moved += done.moved;
            m.purged += done.purged;
            held += done.held;
            budget = budget.saturating_sub((done.moved + done.purged).max(1));
            if done.drained {
                m.next_unit += 1;
            }
        }
        if m.next_unit < m.units.len() {
            return Step {
                running: true,
                held,
                busy: false,
            };
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
            id: m.id,
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
        Step {
            running: false,
            held,
            busy: false,
        }
    }

    /// Moves up to `max` entries of one unit, with all its shards locked
    /// (active ones first, then frozen, each ascending). Expired entries are
    /// dropped rather than moved. With `Locking::Try`, returns `None` when
    /// a lock is taken, having held none.
    #[expect(
        clippy::indexing_slicing,
        reason = "keys of a unit's frozen shards route to its active shards (`Unit`), so the index is within `news`, one per active shard of the unit"
    )]
    fn migrate_unit(
        &self,
        layout: &Layout,
        unit: &Unit,
        max: usize,
        locking: Locking,
    ) -> Option<UnitStep> {
        let Some(frozen) = &layout.frozen else {
            return Some(UnitStep {
                drained: true,
                ..UnitStep::default()
            });
        };
        let active = &layout.active;
        // Requests wait from the moment the first lock is held, also while
        // the rest are being acquired: that is the time the pacing counts.
        let mut locked = None;
        let mut news: SmallVec<[_; 2]> = SmallVec::new();
        for j in unit.active.clone() {
            news.push(locking.lock(active.shard(j), &mut locked)?);
        }
        let mut olds: SmallVec<[_; 2]> = SmallVec::new();
        for i in unit.frozen.clone() {
            olds.push(locking.lock(frozen.shard(i), &mut locked)?);
        }
        let now = self.ctx.now();
        let (mut moved, mut purged) = (0, 0);
        let mut dropped = Vec::new();
        for old in olds.iter_mut() {
            while moved + purged < max {
                let Some(entry) = old.pop_first() else {
                    break;
                };
                let hash = self.hash(entry.key());
                let new = &mut news[active.index(hash) - unit.active.start];
                if entry.is_expired(now) {
                    // Purged, not moved, and announced unless a blind write
                    // shadowed it: then its key lives on (see `expiry`).
                    if !new.contains(hash, entry.key()) {
                        self.announce_expired(entry.key());
                    }
                    purged += 1;
                    dropped.push(entry);
                    continue;
                }
                // Rule 3: never over an entry the active memtable has.
                match new.insert_absent(hash, entry) {
                    Ok(()) => moved += 1,
                    Err(shadowed) => dropped.push(shadowed),
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
        let held = locked.map(|t| t.elapsed()).unwrap_or_default();
        drop(dropped);
        Some(UnitStep {
            moved,
            purged,
            drained,
            held,
        })
    }

    /// Helps a running resize: takes a small step if one is due, no other
    /// thread is migrating right now, and the unit's shard locks are all
    /// free. A request never waits to assist: queueing for a lock while
    /// holding another would stall the requests behind it. Called after
    /// each request, outside its locks. Costs one atomic load when no
    /// resize runs, and a clock read when one does.
    pub(crate) fn assist_resize(&self) {
        if self.resize.pace.assist == 0 || !self.is_resizing() || !self.step_wait().is_zero() {
            return;
        }
        let Some(mut current) = self.resize.current.try_lock() else {
            return;
        };
        self.paced_step(&mut current, self.resize.pace.assist, Locking::Try);
    }

    /// How long until the next paced step is due.
    fn step_wait(&self) -> Duration {
        let now = self.resize.created.elapsed().as_nanos();
        let due = u128::from(self.resize.next_step.load(Ordering::Relaxed));
        Duration::from_nanos(u64::try_from(due.saturating_sub(now)).unwrap_or(u64::MAX))
    }

    /// One step, then the pause that keeps steps to their share of time.
    /// The share counts the time from the first shard lock held to the
    /// last released: that is when requests wait and the CPU works for the
    /// migration. Waiting for the first lock costs neither.
    fn paced_step(&self, current: &mut Option<Migration>, max: usize, locking: Locking) -> Step {
        let step = self.step(current, max, locking);
        let share = self.resize.pace.share;
        let pause = step.held.mul_f64((1.0 - share) / share);
        let due = (Instant::now() + pause).duration_since(self.resize.created);
        let due = u64::try_from(due.as_nanos()).unwrap_or(u64::MAX);
        self.resize.next_step.store(due, Ordering::Relaxed);
        step
    }

    /// Runs the current resize to its end in paced steps, sleeping while
    /// no step is due (requests may take some of the steps meanwhile). It
    /// first tries the locks as requests do, and waits for them only when
    /// they were taken, so that it always gets its turn.
    pub(crate) fn drain_paced(&self) {
        let mut locking = Locking::Try;
        loop {
            if !self.is_resizing() {
                return;
            }
            let wait = self.step_wait();
            if !wait.is_zero() {
                std::thread::sleep(wait);
                continue;
            }
            let mut current = self.resize.current.lock();
            if !self.step_wait().is_zero() {
                continue;
            }
            let step = self.paced_step(&mut current, MIGRATE_BATCH, locking);
            if !step.running {
                return;
            }
            locking = if step.busy {
                Locking::Wait
            } else {
                Locking::Try
            };
        }
    }

    /// Resizes to `to` shards and waits until it is done, first finishing
    /// any resize already running (also one the resizer starts meanwhile);
    /// all run paced, as the resizer's do. Returns the finished resize, or
    /// `None` when there was nothing to do.
    pub(crate) fn resize(&self, to: usize, reason: ResizeReason) -> Option<ResizeEvent> {
        let id = loop {
            self.drain_paced();
            if let Some(id) = self.begin(to, reason) {
                break id;
            }
            if !self.is_resizing() {
                return None;
            }
        };
        self.drain_paced();
        self.resize
            .events
            .lock()
            .iter()
            .rev()
            .find(|e| e.id == id)
            .cloned()
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

    /// Keeps the resizer from deciding anything for this keyspace until
    /// the hold is dropped; forced resizes still run. For an import, whose
    /// keyspace stays empty while the file is read and then takes every
    /// key at once: measured meanwhile, it would look idle (a shrink) and
    /// then fill at millions of keys a second (a growth).
    pub(crate) fn hold_resizes(&self) {
        self.resize.held.fetch_add(1, Ordering::AcqRel);
    }

    /// Ends one `hold_resizes`.
    pub(crate) fn release_resizes(&self) {
        self.resize.held.fetch_sub(1, Ordering::AcqRel);
    }

    /// Whether a hold is taken.
    pub(crate) fn resizes_held(&self) -> bool {
        self.resize.held.load(Ordering::Acquire) > 0
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
