//! A latency histogram one thread writes and any thread reads: what
//! LATENCY HISTOGRAM, INFO latencystats and /metrics' duration
//! histograms are summed from.
//!
//! Owns the bucket layout and the arithmetic on it (percentiles, counts
//! at or below a bound). Buckets are log-linear in nanoseconds: exact
//! below 16 ns, then 16 per power of two, so a bucket is at most 1/16 of
//! its values wide (as HDR histograms are with their precision) and every
//! power of two of nanoseconds is a bucket edge, which LATENCY
//! HISTOGRAM's power-of-two buckets need. Recording is a plain load and
//! store by the one thread that owns it (see `stats`); it must never be
//! written by two threads. Why not the hdrhistogram crate: its concurrent
//! form needs every recording thread to take part in each read, and an
//! idle thread would stall INFO.

use std::sync::atomic::{AtomicU64, Ordering};

/// Sub-buckets per power of two, as a shift.
const SUB_BITS: u32 = 4;
const SUB: u64 = 1 << SUB_BITS;
/// The largest power of two tracked: durations from 2^43 ns (~2.4 hours)
/// up land in the last bucket.
const MAX_EXP: u32 = 42;
/// Buckets in all.
pub const BUCKETS: usize = ((MAX_EXP - SUB_BITS + 2) as usize) * SUB as usize;

/// The bucket `ns` falls in.
fn index(ns: u64) -> usize {
    if ns < SUB {
        return ns as usize;
    }
    let exp = 63 - ns.leading_zeros();
    let sub = (ns >> (exp - SUB_BITS)) & (SUB - 1);
    let i = (exp - SUB_BITS + 1) as usize * SUB as usize + sub as usize;
    i.min(BUCKETS - 1)
}

/// The largest duration bucket `i` holds, in nanoseconds.
pub fn upper(i: usize) -> u64 {
    if i < SUB as usize {
        return i as u64;
    }
    let exp = (i / SUB as usize) as u32 + SUB_BITS - 1;
    let sub = (i % SUB as usize) as u64;
    let width = 1u64 << (exp - SUB_BITS);
    ((SUB + sub) << (exp - SUB_BITS)) + width - 1
}

/// One thread's histogram.
#[derive(Debug)]
pub struct Buckets {
    counts: Box<[AtomicU64]>,
    sum_ns: AtomicU64,
}

/// Adds `n` to a counter only this thread writes: a plain load and store
/// (a `fetch_add` would be a locked instruction, and is not needed). The
/// per-thread tables of `stats` count with it too.
pub(crate) fn bump(counter: &AtomicU64, n: u64) {
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(n),
        Ordering::Relaxed,
    );
}

impl Default for Buckets {
    fn default() -> Self {
        Self {
            counts: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            sum_ns: AtomicU64::new(0),
        }
    }
}

impl Buckets {
    /// Records one duration. Only the owning thread may call this.
    pub fn record(&self, ns: u64) {
        if let Some(c) = self.counts.get(index(ns)) {
            bump(c, 1);
        }
        bump(&self.sum_ns, ns);
    }
}

/// A histogram read at one moment (or summed over threads).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Per bucket; empty while nothing was recorded.
    counts: Vec<u64>,
    sum_ns: u64,
}

impl Snapshot {
    /// Adds what `b` holds.
    pub fn add(&mut self, b: &Buckets) {
        if self.counts.is_empty() {
            self.counts = vec![0; BUCKETS];
        }
        for (mine, theirs) in self.counts.iter_mut().zip(b.counts.iter()) {
            *mine += theirs.load(Ordering::Relaxed);
        }
        self.sum_ns += b.sum_ns.load(Ordering::Relaxed);
    }

    /// Adds another snapshot.
    pub fn merge(&mut self, other: &Snapshot) {
        if other.counts.is_empty() {
            return;
        }
        if self.counts.is_empty() {
            self.counts = vec![0; BUCKETS];
        }
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.sum_ns += other.sum_ns;
    }

    /// This minus an earlier reading of the same histogram (a reset's
    /// baseline).
    pub fn minus(mut self, base: &Snapshot) -> Snapshot {
        for (mine, theirs) in self.counts.iter_mut().zip(&base.counts) {
            *mine = mine.saturating_sub(*theirs);
        }
        self.sum_ns = self.sum_ns.saturating_sub(base.sum_ns);
        if self.count() == 0 {
            return Snapshot::default();
        }
        self
    }

    /// Durations recorded.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Their total, in nanoseconds.
    pub fn sum_ns(&self) -> u64 {
        self.sum_ns
    }

    /// How many took at most `ns` (exact when `ns` is a bucket's upper
    /// bound, as every power of two minus one is; otherwise the buckets
    /// wholly at or below it).
    pub fn at_most(&self, ns: u64) -> u64 {
        self.counts
            .iter()
            .enumerate()
            .take_while(|(i, _)| upper(*i) <= ns)
            .map(|(_, c)| c)
            .sum()
    }

    /// The duration at percentile `p` (0 to 100), in nanoseconds: the
    /// upper bound of the bucket holding that rank; 0 when empty.
    pub fn percentile(&self, p: f64) -> u64 {
        let total = self.count();
        if total == 0 {
            return 0;
        }
        // Rounded to the nearest rank, as HDR histograms (and so Redis)
        // do: a ceiling turns 99.9% of 1,000 (999.0000000000001) into
        // the 1,000th, the slowest.
        let rank = ((p / 100.0 * total as f64 + 0.5) as u64).clamp(1, total);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return upper(i);
            }
        }
        upper(BUCKETS - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_duration_lands_in_a_bucket_that_bounds_it_tightly() {
        let mut n = 1u64;
        let mut samples = vec![0, 1, 15, 16, 17, 31, 32, 1000, 1023, 1024, 1025, u64::MAX];
        while n < u64::MAX / 3 {
            samples.extend([n, n + 1, n * 3 / 2, n * 2 - 1]);
            n *= 2;
        }
        for ns in samples {
            let i = index(ns);
            assert!(i < BUCKETS, "{ns}");
            if i == BUCKETS - 1 {
                assert!(ns > upper(BUCKETS - 2), "{ns}");
                continue;
            }
            assert!(upper(i) >= ns, "{ns} above its bucket {i}'s bound");
            assert!(i == 0 || upper(i - 1) < ns, "{ns} in too high a bucket");
            // At most a sixteenth wide.
            assert!(
                upper(i) - ns <= ns / 16 + 1,
                "{ns}: bucket up to {}",
                upper(i)
            );
        }
    }

    #[test]
    fn powers_of_two_are_bucket_edges() {
        for exp in 0..MAX_EXP {
            let edge = (1u64 << exp) - 1;
            assert_eq!(upper(index(edge)), edge, "2^{exp} - 1");
        }
    }

    #[test]
    fn percentiles_and_counts_come_from_what_was_recorded() {
        let b = Buckets::default();
        for ns in 1..=1000 {
            b.record(ns * 1000);
        }
        let mut s = Snapshot::default();
        s.add(&b);
        assert_eq!(s.count(), 1000);
        assert_eq!(s.sum_ns(), 1000 * 1001 / 2 * 1000);
        let p50 = s.percentile(50.0);
        assert!((500_000..=500_000 * 17 / 16).contains(&p50), "{p50}");
        let p999 = s.percentile(99.9);
        assert!((999_000..=999_000 * 17 / 16).contains(&p999), "{p999}");
        assert_eq!(s.percentile(100.0), upper(index(1_000_000)));
        // The 999th of 1,000, not the slowest.
        assert_eq!(s.percentile(99.9), upper(index(999_000)));
        assert_eq!(s.at_most((1 << 19) - 1), 524);
        assert_eq!(s.at_most(u64::MAX), 1000);
        let later = s.clone();
        b.record(5);
        let mut again = Snapshot::default();
        again.add(&b);
        let since = again.minus(&later);
        assert_eq!((since.count(), since.sum_ns()), (1, 5));
        assert_eq!(Snapshot::default().percentile(50.0), 0);
    }
}
