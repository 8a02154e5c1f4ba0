//! How late the reaper removes keys: a histogram of lateness, from each
//! key's deadline to the moment its shard's batch was reaped.
//!
//! Owns the buckets and the summary stats report. Milliseconds, as
//! deadlines are: a key expires once the clock passes its deadline's
//! millisecond, so the least lateness is 1 ms. Buckets are exact below
//! 16 ms, where the targets are, and powers of two above.
//!
//! It lives in the keyspace, which holds the record the reaper writes and
//! stats read, so that the keyspace never uses `expiry`. It must never
//! block: recording is a few relaxed atomic adds.

use std::sync::atomic::{AtomicU64, Ordering};

/// Exact one-millisecond buckets below this.
const EXACT: u64 = 16;
/// Buckets: `EXACT` exact ones, then one per power of two up to 2^63.
const BUCKETS: usize = EXACT as usize + 60;

/// Lateness of keys removed by the reaper.
#[derive(Debug)]
pub(crate) struct Lateness {
    buckets: [AtomicU64; BUCKETS],
    max: AtomicU64,
    /// The lateness of every key reaped, summed (ms).
    sum: AtomicU64,
}

impl Default for Lateness {
    fn default() -> Self {
        Self {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            max: AtomicU64::new(0),
            sum: AtomicU64::new(0),
        }
    }
}

/// Lateness of expiry by the reaper: how many keys it removed, and
/// percentiles of how long after their deadline (bucket upper bounds,
/// exact below 16 ms).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LatenessSummary {
    /// Keys the reaper removed at (or after) their deadline.
    pub reaped: u64,
    /// Median lateness, in milliseconds.
    pub p50_ms: u64,
    /// 99th percentile, in milliseconds.
    pub p99_ms: u64,
    /// 99.9th percentile, in milliseconds.
    pub p999_ms: u64,
    /// The latest removal, in milliseconds.
    pub max_ms: u64,
}

fn bucket(ms: u64) -> usize {
    if ms < EXACT {
        return ms as usize;
    }
    // ms >= 16: 16..31 → EXACT, 32..63 → EXACT + 1, ...
    EXACT as usize + (63 - ms.leading_zeros() as usize) - 4
}

/// The largest lateness bucket `i` holds.
fn upper(i: usize) -> u64 {
    if i < EXACT as usize {
        return i as u64;
    }
    let bits = (i - EXACT as usize + 5) as u32;
    1u64.checked_shl(bits).map_or(u64::MAX, |b| b - 1)
}

impl Lateness {
    /// A key due at `deadline` was removed at `now` (Unix ms).
    pub(crate) fn record(&self, deadline: u64, now: u64) {
        let ms = now.saturating_sub(deadline);
        if let Some(b) = self.buckets.get(bucket(ms)) {
            b.fetch_add(1, Ordering::Relaxed);
        }
        self.max.fetch_max(ms, Ordering::Relaxed);
        self.sum.fetch_add(ms, Ordering::Relaxed);
    }

    /// The lateness of every key reaped, summed, in ms.
    pub(crate) fn sum_ms(&self) -> u64 {
        self.sum.load(Ordering::Relaxed)
    }

    /// Every bucket's `(upper bound in ms, count)`, in order.
    pub(crate) fn buckets(&self) -> Vec<(u64, u64)> {
        self.buckets
            .iter()
            .enumerate()
            .map(|(i, b)| (upper(i), b.load(Ordering::Relaxed)))
            .collect()
    }

    /// The summary so far.
    pub(crate) fn summary(&self) -> LatenessSummary {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let reaped: u64 = counts.iter().sum();
        let max = self.max.load(Ordering::Relaxed);
        let at = |q: f64| -> u64 {
            // The smallest bucket whose cumulative count reaches q·n.
            let rank = ((reaped as f64) * q).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (i, c) in counts.iter().enumerate() {
                seen += c;
                if seen >= rank {
                    return upper(i).min(max);
                }
            }
            max
        };
        if reaped == 0 {
            return LatenessSummary::default();
        }
        LatenessSummary {
            reaped,
            p50_ms: at(0.5),
            p99_ms: at(0.99),
            p999_ms: at(0.999),
            max_ms: max,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_exact_below_16_ms_then_powers_of_two() {
        for ms in [0, 1, 15, 16, 31, 32, 1000, u64::MAX] {
            let i = bucket(ms);
            assert!(i < BUCKETS, "{ms}");
            assert!(upper(i) >= ms, "{ms} above its bucket's bound");
            assert!(i == 0 || upper(i - 1) < ms, "{ms} in too high a bucket");
        }
    }

    #[test]
    fn percentiles_come_from_the_buckets() {
        let l = Lateness::default();
        assert_eq!(l.summary(), LatenessSummary::default());
        for _ in 0..98 {
            l.record(1000, 1001);
        }
        l.record(1000, 1003);
        l.record(1000, 1100);
        let s = l.summary();
        assert_eq!(s.reaped, 100);
        assert_eq!((s.p50_ms, s.p99_ms, s.max_ms), (1, 3, 100));
        assert_eq!(s.p999_ms, 100);
    }
}
