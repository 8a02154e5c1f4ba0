//! Wall-clock time for expiry, behind a trait so tests can stop time.
//!
//! Owns the definition of "now" for TTLs. Deadlines are absolute Unix times
//! in milliseconds, as in Redis (`PEXPIREAT`), so they survive restarts and
//! mean the same on every node.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current Unix time in milliseconds.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;

    /// How long, in real time, until this clock reads past `deadline_ms`
    /// (zero if it already does). `None` for a clock that does not follow
    /// real time: the engine then runs no reaper thread, and expired keys
    /// are removed when touched or by `Db::reap_expired`.
    fn real_time_until_past(&self, deadline_ms: u64) -> Option<Duration> {
        let _ = deadline_ms;
        None
    }
}

/// The system's real-time clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn real_time_until_past(&self, deadline_ms: u64) -> Option<Duration> {
        // A key is alive through its deadline's millisecond: it expires
        // when the clock reaches the next one.
        let at = Duration::from_millis(deadline_ms.saturating_add(1));
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Some(at.saturating_sub(now))
    }

    fn now_ms(&self) -> u64 {
        // A clock set before 1970 reads as the epoch rather than failing:
        // expiry then errs towards keeping keys, never towards losing them.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// A clock that only moves when told to; for tests of expiry.
#[derive(Debug, Default)]
pub struct ManualClock {
    now: AtomicU64,
}

impl ManualClock {
    /// A clock reading `now_ms`.
    pub fn new(now_ms: u64) -> Self {
        Self {
            now: AtomicU64::new(now_ms),
        }
    }

    /// Sets the time.
    pub fn set(&self, now_ms: u64) {
        self.now.store(now_ms, Ordering::SeqCst);
    }

    /// Moves the time forward by `ms`.
    pub fn advance(&self, ms: u64) {
        self.now.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }
}
