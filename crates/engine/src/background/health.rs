//! Whether the background threads are alive, and what refuses writes when
//! one is not.
//!
//! Owns each worker's state (not started, running, dead and why), the
//! poison flag that writes check, and the wrapper every background thread
//! runs in, which turns a panic into a recorded, logged death. It must
//! never restart a dead thread or clear the poison: a keyspace whose keys
//! silently stopped expiring (or whose resize stopped half way) must not
//! limp on looking healthy, so writes stay refused until the process is
//! restarted (as fjall poisons its engine).

use crate::error::Error;
use parking_lot::Mutex;
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

/// A background thread a group of keyspaces shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Worker {
    /// `tandem-reaper`: removes keys at their deadline.
    Reaper,
    /// `tandem-resizer`: measures load and resizes shards.
    Resizer,
}

impl Worker {
    /// Every worker, in the order INFO lists them.
    pub const ALL: [Worker; 2] = [Worker::Reaper, Worker::Resizer];

    /// The thread's name, as `ps -L` and `/proc/*/task/*/comm` show it.
    pub fn thread_name(self) -> &'static str {
        match self {
            Worker::Reaper => "tandem-reaper",
            Worker::Resizer => "tandem-resizer",
        }
    }

    /// A short lowercase name (`reaper`, `resizer`).
    pub fn as_str(self) -> &'static str {
        match self {
            Worker::Reaper => "reaper",
            Worker::Resizer => "resizer",
        }
    }

    /// Its index in per-worker arrays.
    pub(crate) fn slot(self) -> usize {
        match self {
            Worker::Reaper => 0,
            Worker::Resizer => 1,
        }
    }
}

/// How a background thread is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WorkerState {
    /// No keyspace has needed it yet (no real-time clock, or no resize
    /// policy), so it was never started.
    NotStarted,
    /// Running.
    Running,
    /// It panicked or could not be started. Writes are refused.
    Dead {
        /// Why, on one line (`panicked: ...`, `could not be spawned: ...`).
        cause: String,
    },
}

impl WorkerState {
    /// `not_started`, `running` or `dead`, as INFO prints it.
    pub fn as_str(&self) -> &'static str {
        match self {
            WorkerState::NotStarted => "not_started",
            WorkerState::Running => "running",
            WorkerState::Dead { .. } => "dead",
        }
    }
}

/// The workers' states and the poison flag.
#[derive(Debug)]
pub(crate) struct Health {
    /// Set once, never cleared, after any worker died. Checked on every
    /// write, so it is an atomic apart from the states' lock.
    poisoned: AtomicBool,
    states: Mutex<[WorkerState; 2]>,
}

impl Default for Health {
    fn default() -> Self {
        Self {
            poisoned: AtomicBool::new(false),
            states: Mutex::new([WorkerState::NotStarted, WorkerState::NotStarted]),
        }
    }
}

impl Health {
    pub(crate) fn state(&self, worker: Worker) -> WorkerState {
        self.states
            .lock()
            .get(worker.slot())
            .cloned()
            .unwrap_or(WorkerState::NotStarted)
    }

    pub(crate) fn started(&self, worker: Worker) {
        if let Some(s) = self.states.lock().get_mut(worker.slot()) {
            *s = WorkerState::Running;
        }
    }

    /// Records `worker`'s death, poisons the keyspaces it served and logs
    /// it at error level. `cause` is kept on one line: it ends up in an
    /// error reply, where a line break would end the reply early.
    pub(crate) fn died(&self, worker: Worker, cause: &str) {
        let cause: String = cause
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        tracing::error!(
            thread = worker.thread_name(),
            cause = %cause,
            "background thread died; writes are refused until restart"
        );
        if let Some(s) = self.states.lock().get_mut(worker.slot()) {
            *s = WorkerState::Dead { cause };
        }
        // After the state, so that whoever sees the flag finds the cause.
        self.poisoned.store(true, Ordering::Release);
    }

    pub(crate) fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::Acquire)
    }

    /// The error a write gets, if any worker died: the first dead one's.
    #[inline]
    pub(crate) fn refusal(&self) -> Option<Error> {
        // Every write asks: one atomic load, and the rest out of line.
        if !self.is_poisoned() {
            return None;
        }
        self.death()
    }

    /// The error of the first dead worker (after the poison was seen).
    #[cold]
    fn death(&self) -> Option<Error> {
        let states = self.states.lock();
        Worker::ALL
            .iter()
            .zip(states.iter())
            .find_map(|(w, s)| match s {
                WorkerState::Dead { cause } => Some(Error::BackgroundDied {
                    thread: w.thread_name(),
                    cause: cause.clone(),
                }),
                _ => None,
            })
    }
}

/// Runs a background thread's body, recording a panic as its death.
///
/// `catch_unwind` rather than reading the thread's join result: nobody
/// joins these threads (they end on their own when the last handle goes),
/// and the death must be seen the moment it happens. The body's state is
/// not reused after a panic, so unwind safety is not a concern; the shard
/// locks it may have held are `parking_lot`'s, which unlock on unwind and
/// do not poison, so reads go on.
pub(crate) fn run_guarded(health: &Health, worker: Worker, body: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(body)) {
        health.died(worker, &format!("panicked: {}", panic_message(&*payload)));
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "a value that is not a string"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_recorded_on_one_line_and_poisons() {
        let health = Health::default();
        health.started(Worker::Reaper);
        assert_eq!(health.refusal(), None);
        run_guarded(&health, Worker::Reaper, || {
            std::panic::panic_any(String::from("line one\r\nline two"))
        });
        let cause = "panicked: line one  line two".to_string();
        assert_eq!(
            health.state(Worker::Reaper),
            WorkerState::Dead {
                cause: cause.clone()
            }
        );
        assert_eq!(health.state(Worker::Resizer), WorkerState::NotStarted);
        assert_eq!(
            health.refusal(),
            Some(Error::BackgroundDied {
                thread: "tandem-reaper",
                cause
            })
        );
    }

    #[test]
    fn a_body_that_returns_is_no_death() {
        let health = Health::default();
        health.started(Worker::Resizer);
        run_guarded(&health, Worker::Resizer, || {});
        assert_eq!(health.state(Worker::Resizer), WorkerState::Running);
        assert!(!health.is_poisoned());
    }
}
