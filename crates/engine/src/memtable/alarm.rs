//! How the reaper learns when to wake: per-shard deadline hints and the
//! alarm of the `Background` the keyspace runs on. (The resizer sleeps on
//! an `Alarm` too, without hints: only to be rung or closed.)
//!
//! Owns the wake-up protocol between writers and the reaper thread. It
//! lives with the shards, which ring it, so that the memtable never uses
//! `expiry`; it must never know what the reaper does once woken. Each
//! shard publishes a `DueHint`: a lower bound on its deadlines, readable
//! without the shard's lock (it mirrors the tree's root bound, see
//! `memtable::tree::due`). The reaper sleeps until the earliest hint; a
//! writer that lowers a hint below the time the reaper sleeps until rings
//! the `Alarm`.
//!
//! Why no wake-up is lost: the writer stores its hint, then reads
//! `wake_at`; the reaper stores `wake_at`, then reads every hint again
//! (both sequentially consistent). Whichever goes second sees the other's
//! store: either the writer sees the reaper's new target and rings, or the
//! reaper sees the lowered hint and does not sleep past it. While the
//! reaper is awake `wake_at` is 0, so writers do not ring at all. A
//! keyspace that joins the `Background` after the reaper took its list
//! rings once, so its hints are read at the next round.

use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// What a background thread waits on.
#[derive(Debug, Default)]
pub(crate) struct Alarm {
    /// The deadline the reaper sleeps until; `u64::MAX` when it sleeps with
    /// nothing due, 0 while it is awake.
    wake_at: AtomicU64,
    state: Mutex<AlarmState>,
    bell: Condvar,
}

#[derive(Debug, Default)]
struct AlarmState {
    rung: bool,
    closed: bool,
}

/// Why `Alarm::sleep` returned.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Woken {
    /// The time came, or a writer rang: look again.
    Look,
    /// Its `Background` is gone.
    Closed,
}

impl Alarm {
    /// Wakes the reaper if `deadline` is earlier than it means to sleep.
    pub(crate) fn ring_if_before(&self, deadline: u64) {
        if deadline < self.wake_at.load(Ordering::SeqCst) {
            self.ring();
        }
    }

    /// Wakes the reaper now.
    pub(crate) fn ring(&self) {
        self.state.lock().rung = true;
        self.bell.notify_one();
    }

    /// Ends the sleeper: the last handle of its `Background` was dropped.
    pub(crate) fn close(&self) {
        self.state.lock().closed = true;
        self.bell.notify_one();
    }

    /// Marks the reaper awake: writers stop ringing until it sleeps again.
    pub(crate) fn awake(&self) {
        self.wake_at.store(0, Ordering::SeqCst);
    }

    /// Announces the deadline the reaper will sleep until. The caller must
    /// read the hints again afterwards (see the module comment).
    pub(crate) fn set_target(&self, deadline: u64) {
        self.wake_at.store(deadline, Ordering::SeqCst);
    }

    /// Sleeps until `until` (forever for `None`) unless rung first or
    /// already rung since the last sleep.
    pub(crate) fn sleep(&self, until: Option<Instant>) -> Woken {
        let mut state = self.state.lock();
        loop {
            if state.closed {
                return Woken::Closed;
            }
            if state.rung {
                state.rung = false;
                return Woken::Look;
            }
            match until {
                Some(t) => {
                    if self.bell.wait_until(&mut state, t).timed_out() {
                        return if state.closed {
                            Woken::Closed
                        } else {
                            Woken::Look
                        };
                    }
                }
                None => self.bell.wait(&mut state),
            }
        }
    }
}

/// One shard's lower bound on its deadlines, for the reaper to read
/// without the shard's lock.
#[derive(Debug, Default)]
pub(crate) struct DueHint {
    next: AtomicU64,
    alarm: Arc<Alarm>,
}

impl DueHint {
    /// A hint for a shard of a keyspace whose reaper waits on `alarm`.
    pub(crate) fn new(alarm: Arc<Alarm>) -> Self {
        Self {
            next: AtomicU64::new(u64::MAX),
            alarm,
        }
    }

    /// The shard's earliest deadline, or earlier (`u64::MAX`: none).
    pub(crate) fn next(&self) -> u64 {
        self.next.load(Ordering::SeqCst)
    }

    /// Lowers the hint to `deadline` if that is earlier, ringing the
    /// alarm if the reaper would sleep past it. Called under the shard's
    /// write lock, after the shard's tree took the deadline in.
    pub(crate) fn lower(&self, deadline: u64) {
        if deadline < self.next.load(Ordering::Relaxed) {
            self.next.fetch_min(deadline, Ordering::SeqCst);
            self.alarm.ring_if_before(deadline);
        }
    }

    /// Sets the hint to the shard's new bound after the reaper removed
    /// what was due. Called under the shard's write lock, so no writer
    /// lowers it meanwhile.
    pub(crate) fn reset(&self, bound: u64) {
        self.next.store(bound, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_ring_before_sleeping_is_not_lost() {
        let alarm = Alarm::default();
        alarm.set_target(1_000);
        alarm.ring_if_before(500);
        let far = Instant::now() + Duration::from_secs(60);
        assert_eq!(alarm.sleep(Some(far)), Woken::Look);
    }

    #[test]
    fn a_later_deadline_does_not_ring() {
        let alarm = Arc::new(Alarm::default());
        let hint = DueHint::new(alarm.clone());
        alarm.set_target(1_000);
        hint.lower(2_000);
        assert_eq!(hint.next(), 2_000);
        let soon = Instant::now() + Duration::from_millis(20);
        assert_eq!(alarm.sleep(Some(soon)), Woken::Look);
        assert!(Instant::now() >= soon, "slept until the target");
        hint.lower(3_000);
        assert_eq!(hint.next(), 2_000, "a hint only goes down");
    }

    #[test]
    fn closing_ends_a_sleep_without_deadline() {
        let alarm = Arc::new(Alarm::default());
        let a = alarm.clone();
        let t = std::thread::spawn(move || a.sleep(None));
        std::thread::sleep(Duration::from_millis(20));
        alarm.close();
        assert_eq!(t.join().ok(), Some(Woken::Closed));
    }
}
