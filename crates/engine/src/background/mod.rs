//! `Background`: the threads that serve a group of keyspaces, one of each
//! kind however many keyspaces there are.
//!
//! Owns which keyspaces the `tandem-reaper` and `tandem-resizer` threads
//! serve, starting each thread when the first keyspace needs it, ending
//! both when the last handle goes, and the workers' health (`health`).
//! What the threads do per keyspace stays with the mechanisms
//! (`expiry::reaper`, `keyspace::resizer`); this module must never touch
//! a keyspace's data (the test-only fault hook aside).
//!
//! A server's sixteen databases share one `Background`: two threads, not
//! thirty-two, and one wake-up per deadline rather than sixteen sleepers.
//! The reaper sleeps on one `Alarm` that every shard of every keyspace
//! here rings, so deadlines are compared across keyspaces as Unix
//! milliseconds: keyspaces sharing a `Background` must have clocks that
//! agree on real time (any clock that follows real time, `SystemClock`).
//!
//! Lifetime: a `Db` holds a handle; the threads hold only the `Core` (the
//! registry, with weak references to keyspaces, and the alarms). When the
//! last handle is dropped the alarms close and the threads end.

mod health;

pub use health::{Worker, WorkerState};

use crate::error::Error;
use crate::keyspace::Keyspace;
use crate::memtable::Alarm;
use health::Health;
use parking_lot::Mutex;
use std::sync::{Arc, Weak};

/// The background threads serving a group of keyspaces. Cheap to clone:
/// clones share the threads. Pass one to `Options::background` to put
/// keyspaces on it; without that each `Db` gets its own.
///
/// If a thread dies (panics, or cannot be started), every keyspace on it
/// refuses writes with `Error::BackgroundDied` from then on, while reads
/// go on: keys must never silently stop expiring.
#[derive(Clone, Default)]
pub struct Background {
    handle: Arc<Handle>,
}

impl std::fmt::Debug for Background {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Background")
            .field("reaper", &self.state(Worker::Reaper))
            .field("resizer", &self.state(Worker::Resizer))
            .finish()
    }
}

/// What the handles share; its drop ends the threads.
#[derive(Default)]
struct Handle {
    core: Arc<Core>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.core.reaper_alarm.close();
        self.core.resizer_bell.close();
    }
}

/// What the threads hold.
#[derive(Default)]
pub(crate) struct Core {
    /// What the reaper sleeps on; every shard's deadline hint rings it.
    reaper_alarm: Arc<Alarm>,
    /// What the resizer sleeps on between measures.
    resizer_bell: Alarm,
    members: Mutex<Members>,
    health: Health,
    #[cfg(feature = "fault-injection")]
    faults: [std::sync::atomic::AtomicBool; 2],
}

#[derive(Default)]
struct Members {
    list: Vec<Member>,
    next_id: u64,
    started: [bool; 2],
}

struct Member {
    id: u64,
    ks: Weak<Keyspace>,
    reaped: bool,
    resized: bool,
}

impl Background {
    /// A new group with no keyspaces yet. Its threads start when the
    /// first keyspace that needs them joins.
    pub fn new() -> Self {
        Self::default()
    }

    /// How `worker` is doing.
    pub fn state(&self, worker: Worker) -> WorkerState {
        self.handle.core.health.state(worker)
    }

    /// Whether a worker died, so writes are refused.
    pub fn is_poisoned(&self) -> bool {
        self.handle.core.health.is_poisoned()
    }

    /// The error writes get, if a worker died.
    #[inline]
    pub(crate) fn refusal(&self) -> Option<Error> {
        self.handle.core.health.refusal()
    }

    /// The alarm a keyspace's shards ring when a deadline comes earlier.
    pub(crate) fn alarm(&self) -> Arc<Alarm> {
        self.handle.core.reaper_alarm.clone()
    }

    /// Puts `ks` on these threads: the reaper if its clock follows real
    /// time (with any other clock `Db::reap_expired` reaps on request),
    /// the resizer if it has a resize policy. Starts a thread the first
    /// time it is needed.
    pub(crate) fn serve(&self, ks: &Arc<Keyspace>) {
        let core = &self.handle.core;
        let reaped = ks.ctx.clock.real_time_until_past(0).is_some();
        let resized = ks.policy.is_some();
        let mut members = core.members.lock();
        members.list.retain(|m| m.ks.strong_count() > 0);
        let id = members.next_id;
        members.next_id += 1;
        members.list.push(Member {
            id,
            ks: Arc::downgrade(ks),
            reaped,
            resized,
        });
        for (worker, wanted) in [(Worker::Reaper, reaped), (Worker::Resizer, resized)] {
            let Some(started) = members.started.get_mut(worker.slot()) else {
                continue;
            };
            if wanted && !*started {
                *started = true;
                spawn(core, worker);
            }
        }
        drop(members);
        // A thread that took its list of keyspaces before this one joined
        // looks again (a ring before it sleeps is not lost).
        if reaped {
            core.reaper_alarm.ring();
        }
        if resized {
            core.resizer_bell.ring();
        }
    }

    /// Makes `worker` panic at its next wake-up, as a bug in it would: for
    /// tests of what a dead thread leaves behind. Does nothing to a worker
    /// not started.
    #[cfg(feature = "fault-injection")]
    pub fn inject_panic(&self, worker: Worker) {
        let core = &self.handle.core;
        if let Some(f) = core.faults.get(worker.slot()) {
            f.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        match worker {
            Worker::Reaper => core.reaper_alarm.ring(),
            Worker::Resizer => core.resizer_bell.ring(),
        }
    }
}

impl Core {
    /// The live keyspaces `worker` serves, with their registry ids.
    fn members(&self, worker: Worker) -> Vec<(u64, Arc<Keyspace>)> {
        self.fault_point(worker);
        let mut members = self.members.lock();
        members.list.retain(|m| m.ks.strong_count() > 0);
        members
            .list
            .iter()
            .filter(|m| match worker {
                Worker::Reaper => m.reaped,
                Worker::Resizer => m.resized,
            })
            .filter_map(|m| Some((m.id, m.ks.upgrade()?)))
            .collect()
    }

    /// Panics if a fault was injected for `worker`, holding the write lock
    /// of a shard of the first keyspace it serves, as a bug in reaping or
    /// migrating would: tests then see that the lock came free on unwind.
    #[cfg(feature = "fault-injection")]
    fn fault_point(&self, worker: Worker) {
        let flag = self.faults.get(worker.slot());
        if !flag.is_some_and(|f| f.swap(false, std::sync::atomic::Ordering::SeqCst)) {
            return;
        }
        let first = self.members.lock().list.iter().find_map(|m| m.ks.upgrade());
        let layout = first.map(|ks| ks.layout());
        let _held = layout
            .as_ref()
            .and_then(|l| l.active.iter().next())
            .map(|shard| shard.write());
        panic!("injected fault (fault-injection)");
    }

    #[cfg(not(feature = "fault-injection"))]
    fn fault_point(&self, _worker: Worker) {}
}

/// Starts `worker`'s thread on `core`; a failure to start is a death.
fn spawn(core: &Arc<Core>, worker: Worker) {
    let thread_core = core.clone();
    let body = move || {
        let core = thread_core;
        health::run_guarded(&core.health, worker, || match worker {
            Worker::Reaper => crate::expiry::run_reaper(
                || {
                    core.members(Worker::Reaper)
                        .into_iter()
                        .map(|(_, ks)| ks)
                        .collect()
                },
                &core.reaper_alarm,
            ),
            Worker::Resizer => {
                crate::keyspace::run_resizer(|| core.members(Worker::Resizer), &core.resizer_bell)
            }
        });
    };
    // Running before the thread exists, so that a panic at its first step
    // is not overwritten by a late "running".
    core.health.started(worker);
    if let Err(e) = std::thread::Builder::new()
        .name(worker.thread_name().into())
        .spawn(body)
    {
        core.health
            .died(worker, &format!("could not be spawned: {e}"));
    }
}
