//! Keeping memory under `maxmemory`: evicting keys before a command runs,
//! refusing commands with `-OOM` when nothing can be evicted, and
//! finishing in the background what a request had no time for.
//!
//! Owns when and how much to evict (Redis's `performEvictions`): before
//! each command while memory is over the bound, keys go one at a time by
//! the policy (`tandem_engine::evict_one`) until it is under again, or
//! until the request has spent `maxmemory-eviction-tenacity`'s time
//! limit; then the `tandem-evictor` thread carries on, so that lowering
//! `maxmemory` by gigabytes never stalls one client for the whole drop.
//! It also owns the time spent over the bound (INFO's
//! `total_eviction_exceeded_time`). Which keys go is the engine's
//! (`evict`); what memory is in use is `memory`'s.
//!
//! Never while shard locks are held: a request inside a pipeline's batch
//! (`connection/batch.rs`) runs under its key's shard lock, and an
//! eviction there could need that lock. There, a command is refused if it
//! would be under `noeviction`, and otherwise runs; the batch ends at the
//! next request, which evicts as usual.

use crate::config::Config;
use crate::databases::Databases;
use crate::memory::Memory;
use arc_swap::ArcSwap;
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Weak};
use std::time::Instant;
use tandem_engine::evict::Policy;
use tandem_engine::{evict_one, EvictState};

/// Redis's refusal of a `denyoom` command when memory cannot be freed.
pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// What an attempt to get under the bound came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Memory is under the bound (or there is none).
    Under,
    /// Still over, but keys are being evicted (the time limit ran out;
    /// the background carries on). Commands run.
    Evicting,
    /// Over, and nothing can be evicted: `noeviction`, or no key the
    /// policy may take. `denyoom` commands are refused.
    Stuck,
}

thread_local! {
    /// This thread's pool of candidates, kept between evictions.
    static STATE: RefCell<EvictState> = RefCell::new(EvictState::default());
    /// Whether this thread holds shard locks (a batch is running).
    static HOLDING_LOCKS: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with eviction held off on this thread, because `f` holds
/// shard locks that an eviction could need.
pub(crate) fn holding_locks<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            HOLDING_LOCKS.set(self.0);
        }
    }
    let _reset = Reset(HOLDING_LOCKS.replace(true));
    f()
}

/// The memory bound's state, shared by every connection.
#[derive(Debug)]
pub struct Eviction {
    /// The memory in use.
    pub memory: Memory,
    /// When memory went over the bound and stayed there (ms since
    /// `started`), or 0.
    over_since: AtomicU64,
    /// Milliseconds spent over the bound, periods ended.
    over_total: AtomicU64,
    /// The engine's evicted-key count at the last CONFIG RESETSTAT.
    evicted_base: AtomicU64,
    /// Whether the `tandem-evictor` thread started.
    background_started: std::sync::atomic::AtomicBool,
    /// Background slices that panicked (each logged).
    background_panics: AtomicU64,
    /// Wakes the `tandem-evictor` thread.
    kick: flume::Sender<()>,
    kicked: flume::Receiver<()>,
    started: Instant,
}

impl Default for Eviction {
    fn default() -> Self {
        let (kick, kicked) = flume::bounded(1);
        Self {
            memory: Memory::new(),
            over_since: AtomicU64::new(0),
            over_total: AtomicU64::new(0),
            evicted_base: AtomicU64::new(0),
            background_started: std::sync::atomic::AtomicBool::new(false),
            background_panics: AtomicU64::new(0),
            kick,
            kicked,
            started: Instant::now(),
        }
    }
}

impl Eviction {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    /// Gets memory under the bound if it is over, as far as the
    /// configured time limit allows (Redis's `performEvictions`); what is
    /// left is the `tandem-evictor` thread's.
    pub fn perform(&self, config: &ArcSwap<Config>, dbs: &Databases) -> Outcome {
        self.attempt(config, dbs, false)
    }

    /// A request's eviction (`perform`), or one slice of the background's
    /// (`background`): the same, but with at least 1 ms (so that tenacity
    /// 0 still progresses), and never held off, since the evictor holds no
    /// shard lock.
    fn attempt(&self, config: &ArcSwap<Config>, dbs: &Databases, background: bool) -> Outcome {
        let settings = config.load().eviction;
        let max = settings.maxmemory;
        if max == 0 || self.memory.used() <= max {
            self.end_excess();
            return Outcome::Under;
        }
        // Periods over the bound start where requests see them: the
        // background may act on a bound a CONFIG SET has just lifted.
        if !background && self.over_since.load(Relaxed) == 0 {
            self.over_since.store(self.now_ms(), Relaxed);
        }
        if settings.policy == Policy::NoEviction {
            return Outcome::Stuck;
        }
        if !background && HOLDING_LOCKS.get() {
            return Outcome::Evicting;
        }
        let mut limit = settings.time_limit();
        if background {
            limit = limit.map(|l| l.max(std::time::Duration::from_millis(1)));
        }
        let outcome = self.evict_until_under(config, dbs, limit);
        if outcome == Outcome::Evicting && !background {
            let _ = self.kick.try_send(());
        }
        outcome
    }

    /// Evicts until memory is under the bound, nothing more can go, or
    /// `limit` has passed (checked every 16 keys, as Redis does). The
    /// settings are read again before each key: a CONFIG SET that raises
    /// the bound or changes the policy stops an eviction under way at once.
    fn evict_until_under(
        &self,
        config: &ArcSwap<Config>,
        dbs: &Databases,
        limit: Option<std::time::Duration>,
    ) -> Outcome {
        // The clock is read only once a request has evicted 16 keys: most
        // calls evict one or two, and a clock read costs as much as the
        // rest of the check.
        let mut start = None;
        let table = dbs.table();
        STATE.with_borrow_mut(|state| {
            let mut evicted = 0u64;
            loop {
                let settings = config.load().eviction;
                if settings.maxmemory == 0 || self.memory.used() <= settings.maxmemory {
                    self.end_excess();
                    return Outcome::Under;
                }
                match evict_one(&table, settings.policy, settings.samples(), state) {
                    Ok(Some(_)) => evicted += 1,
                    Ok(None) => return Outcome::Stuck,
                    Err(e) => {
                        tracing::warn!("eviction refused: {e}");
                        return Outcome::Stuck;
                    }
                }
                if evicted.is_multiple_of(16) {
                    let began = *start.get_or_insert_with(Instant::now);
                    if limit.is_some_and(|l| began.elapsed() > l) {
                        return Outcome::Evicting;
                    }
                }
            }
        })
    }

    /// Ends a period over the bound, if one is running.
    fn end_excess(&self) {
        let since = self.over_since.load(Relaxed);
        if since != 0 && self.over_since.swap(0, Relaxed) == since {
            self.over_total
                .fetch_add(self.now_ms().saturating_sub(since), Relaxed);
        }
    }

    /// CONFIG RESETSTAT: the time over the bound starts again from zero,
    /// and `evicted_keys` counts from the engine's `evicted` now. A period
    /// running is closed, as Redis's `resetServerStats` does: if memory is
    /// still over the bound, the next request opens a new one. (Kept open
    /// from the reset's instant, a period a lifted bound had left open,
    /// which no request closes while there is no bound, went on growing.)
    pub fn reset_stats(&self, evicted: u64) {
        self.over_total.store(0, Relaxed);
        self.over_since.store(0, Relaxed);
        self.evicted_base.store(evicted, Relaxed);
    }

    /// Keys evicted since the last CONFIG RESETSTAT, of `evicted` in all.
    pub fn evicted_since_reset(&self, evicted: u64) -> u64 {
        evicted.saturating_sub(self.evicted_base.load(Relaxed))
    }

    /// The `tandem-evictor` thread's state for INFO: `running`, or
    /// `not-started` (requests then evict within their time limit only),
    /// and how many of its slices panicked.
    pub fn background_state(&self) -> (&'static str, u64) {
        let state = if self.background_started.load(Relaxed) {
            "running"
        } else {
            "not-started"
        };
        (state, self.background_panics.load(Relaxed))
    }

    /// Has the `tandem-evictor` thread get memory under the bound, if it
    /// is over (after `maxmemory` is lowered).
    pub fn wake(&self) {
        let _ = self.kick.try_send(());
    }

    /// Milliseconds spent over the bound: in all, and in the period
    /// running now (INFO's `total_eviction_exceeded_time` and
    /// `current_eviction_exceeded_time`).
    pub fn exceeded_ms(&self) -> (u64, u64) {
        let since = self.over_since.load(Relaxed);
        let current = if since == 0 {
            0
        } else {
            self.now_ms().saturating_sub(since)
        };
        (self.over_total.load(Relaxed) + current, current)
    }

    /// Starts the `tandem-evictor` thread for `shared`'s databases: it
    /// waits for a request that ran out of time and evicts, slice by
    /// slice, until memory is under the bound. It ends with the server
    /// (when the last `Arc<Shared>` goes).
    pub(crate) fn start_background(shared: &Arc<crate::shared::Shared>) {
        let weak: Weak<crate::shared::Shared> = Arc::downgrade(shared);
        let kicked = shared.eviction.kicked.clone();
        let spawned = std::thread::Builder::new()
            .name("tandem-evictor".into())
            .spawn(move || background(&weak, &kicked));
        shared
            .eviction
            .background_started
            .store(spawned.is_ok(), Relaxed);
        if let Err(e) = spawned {
            tracing::error!(
                "could not start tandem-evictor ({e}): requests evict within their time limit only"
            );
        }
    }
}

/// The `tandem-evictor` loop.
fn background(shared: &Weak<crate::shared::Shared>, kicked: &flume::Receiver<()>) {
    // A timeout, so that the thread notices the server has gone even if
    // no kick ever comes.
    loop {
        match kicked.recv_timeout(std::time::Duration::from_secs(1)) {
            Ok(()) | Err(flume::RecvTimeoutError::Timeout) => {}
            Err(flume::RecvTimeoutError::Disconnected) => return,
        }
        let Some(shared) = shared.upgrade() else {
            return;
        };
        loop {
            let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                shared.eviction.attempt(&shared.config, &shared.dbs, true)
            }));
            match ran {
                Ok(Outcome::Evicting) if !shared.shutdown.is_cancelled() => {
                    // Let the serving threads have the core between slices.
                    std::thread::yield_now();
                }
                Ok(_) => break,
                Err(_) => {
                    shared.eviction.background_panics.fetch_add(1, Relaxed);
                    tracing::error!("tandem-evictor: an eviction panicked; requests still evict");
                    break;
                }
            }
        }
    }
}
