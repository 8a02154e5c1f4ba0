//! CLIENT PAUSE: holding back clients' commands for a while.
//!
//! Owns the pause state. A connection asks `blocks` before each command
//! (one relaxed atomic load when nothing is paused) and, when blocked,
//! waits with `wait` until the deadline or CLIENT UNPAUSE, then runs the
//! command. Nothing is lost or reordered: the command waits in its
//! connection's input buffer.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// The pause in force, if any.
#[derive(Debug)]
pub struct Pause {
    /// Milliseconds after `epoch` when the pause ends; 0: no pause.
    until_ms: AtomicU64,
    /// Whether every command waits (ALL), or only writes (WRITE).
    all: AtomicBool,
    epoch: Instant,
    /// Wakes waiting connections on UNPAUSE.
    lifted: Notify,
}

impl Default for Pause {
    fn default() -> Self {
        Self {
            until_ms: AtomicU64::new(0),
            all: AtomicBool::new(true),
            epoch: Instant::now(),
            lifted: Notify::new(),
        }
    }
}

impl Pause {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// CLIENT PAUSE: from now for `length`, every command (`all`) or
    /// writes only. A later pause replaces an earlier one only if it ends
    /// later, as in Redis.
    pub fn pause(&self, length: Duration, all: bool) {
        let ms = u64::try_from(length.as_millis()).unwrap_or(u64::MAX);
        let until = self.now_ms().saturating_add(ms).max(1);
        if until >= self.until_ms.load(Ordering::Relaxed) {
            self.all.store(all, Ordering::Relaxed);
            self.until_ms.store(until, Ordering::Release);
        }
    }

    /// CLIENT UNPAUSE.
    pub fn unpause(&self) {
        self.until_ms.store(0, Ordering::Release);
        self.lifted.notify_waiters();
    }

    /// Whether a command (a write if `write`) must wait now.
    pub fn blocks(&self, write: bool) -> bool {
        let until = self.until_ms.load(Ordering::Acquire);
        until != 0 && self.now_ms() < until && (write || self.all.load(Ordering::Relaxed))
    }

    /// Waits until the pause ends or is lifted.
    pub async fn wait(&self) {
        let until = self.until_ms.load(Ordering::Acquire);
        let left = until.saturating_sub(self.now_ms());
        let lifted = self.lifted.notified();
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(left)) => {}
            () = lifted => {}
        }
    }
}
