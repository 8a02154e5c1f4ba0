//! How long the real file system's syncs take: a process-wide histogram
//! of every `fdatasync` of a file and `fsync` of a directory that `StdFs`
//! makes, for /metrics' fsync latency.
//!
//! Owns the buckets and their reading. Recording is a few relaxed atomic
//! adds after a system call that takes microseconds at best; it must
//! never block or fail. A sync that failed is counted apart and not
//! timed: its duration says nothing about the disk's latency.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the buckets, in nanoseconds: 10 µs to 10 s, 1-2.5-5.
pub const BOUNDS_NS: [u64; 19] = [
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];

/// The syncs' durations.
#[derive(Debug)]
pub struct SyncTimes {
    /// One per bound, then the overflow.
    buckets: [AtomicU64; BOUNDS_NS.len() + 1],
    sum_ns: AtomicU64,
    failed: AtomicU64,
}

/// What `SyncTimes::read` returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Per `BOUNDS_NS` bucket (not cumulative), the overflow last.
    pub buckets: Vec<u64>,
    /// Every timed sync's duration, summed.
    pub sum_ns: u64,
    /// Syncs that returned an error.
    pub failed: u64,
}

/// Every sync `StdFs` made in this process.
pub static SYNCS: SyncTimes = SyncTimes {
    buckets: [const { AtomicU64::new(0) }; BOUNDS_NS.len() + 1],
    sum_ns: AtomicU64::new(0),
    failed: AtomicU64::new(0),
};

impl SyncTimes {
    /// A sync that succeeded after `took`.
    pub fn record(&self, took: Duration) {
        let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        let i = BOUNDS_NS
            .iter()
            .position(|&b| ns <= b)
            .unwrap_or(BOUNDS_NS.len());
        if let Some(b) = self.buckets.get(i) {
            b.fetch_add(1, Ordering::Relaxed);
        }
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// A sync that failed.
    pub fn record_failure(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts so far.
    pub fn read(&self) -> SyncReport {
        SyncReport {
            buckets: self
                .buckets
                .iter()
                .map(|b| b.load(Ordering::Relaxed))
                .collect(),
            sum_ns: self.sum_ns.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }
}

/// Runs `sync`, timing it into `SYNCS`.
pub(super) fn timed(sync: impl FnOnce() -> std::io::Result<()>) -> std::io::Result<()> {
    let started = std::time::Instant::now();
    let result = sync();
    match &result {
        Ok(()) => SYNCS.record(started.elapsed()),
        Err(_) => SYNCS.record_failure(),
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sync_lands_in_the_bucket_that_bounds_it() {
        let times = SyncTimes {
            buckets: [const { AtomicU64::new(0) }; BOUNDS_NS.len() + 1],
            sum_ns: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        };
        times.record(Duration::from_micros(10));
        times.record(Duration::from_micros(11));
        times.record(Duration::from_secs(60));
        times.record_failure();
        let r = times.read();
        assert_eq!(r.buckets[0], 1);
        assert_eq!(r.buckets[1], 1);
        assert_eq!(r.buckets[BOUNDS_NS.len()], 1);
        assert_eq!(r.buckets.iter().sum::<u64>(), 3);
        assert_eq!(r.sum_ns, 60_000_021_000);
        assert_eq!(r.failed, 1);
    }
}
