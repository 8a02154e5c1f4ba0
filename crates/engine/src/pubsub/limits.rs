//! `QueueLimits`: how far a subscriber may fall behind.
//!
//! Owns Redis's `client-output-buffer-limit pubsub <hard> <soft> <seconds>`
//! rule and its default. A subscriber whose queue holds more than `hard`
//! bytes, or more than `soft` bytes for `soft_seconds` without a break, is
//! cut off. Zero turns a limit off, as in Redis.

use std::sync::atomic::{AtomicU64, Ordering};

/// Limits on one subscriber's queue of undelivered messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLimits {
    /// Cut off at once above this many queued bytes (0: no limit).
    pub hard_bytes: u64,
    /// Cut off after staying above this many bytes... (0: no limit)
    pub soft_bytes: u64,
    /// ...for this many seconds.
    pub soft_seconds: u64,
}

impl Default for QueueLimits {
    /// Redis's default for pub/sub clients: `32mb 8mb 60`.
    fn default() -> Self {
        Self {
            hard_bytes: 32 * 1024 * 1024,
            soft_bytes: 8 * 1024 * 1024,
            soft_seconds: 60,
        }
    }
}

/// The limits in force, changeable while subscribers run (CONFIG SET).
#[derive(Debug)]
pub(crate) struct SharedLimits {
    hard: AtomicU64,
    soft: AtomicU64,
    soft_seconds: AtomicU64,
}

impl SharedLimits {
    pub(crate) fn new(l: QueueLimits) -> Self {
        Self {
            hard: AtomicU64::new(l.hard_bytes),
            soft: AtomicU64::new(l.soft_bytes),
            soft_seconds: AtomicU64::new(l.soft_seconds),
        }
    }

    pub(crate) fn get(&self) -> QueueLimits {
        QueueLimits {
            hard_bytes: self.hard.load(Ordering::Relaxed),
            soft_bytes: self.soft.load(Ordering::Relaxed),
            soft_seconds: self.soft_seconds.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn set(&self, l: QueueLimits) {
        self.hard.store(l.hard_bytes, Ordering::Relaxed);
        self.soft.store(l.soft_bytes, Ordering::Relaxed);
        self.soft_seconds.store(l.soft_seconds, Ordering::Relaxed);
    }
}
