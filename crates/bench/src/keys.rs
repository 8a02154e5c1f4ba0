//! Benchmark keys, and the seeded generator that picks them.

/// Key number `i` as exactly `size` bytes. From 12 bytes up it reads like
/// redis-benchmark's keys (`key:000000012345`), so shared prefixes are as
/// common as in real keyspaces; shorter keys are the number's bytes.
pub(crate) fn key(i: u64, size: usize, out: &mut Vec<u8>) {
    out.clear();
    if size >= 12 {
        // Formatted by hand: the harness must not allocate per operation.
        out.extend_from_slice(b"key:");
        out.resize(size, b'0');
        let mut n = i;
        for d in out.iter_mut().skip(4).rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
    } else {
        let bytes = i.to_be_bytes();
        out.extend_from_slice(bytes.get(8 - size.min(8)..).unwrap_or_default());
        out.resize(size, 0);
    }
}

/// A seeded generator (wyrand: about a nanosecond per number, so it does
/// not show up in the measurement), seeded so runs are repeatable.
pub(crate) struct Rng(fastrand::Rng);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(fastrand::Rng::with_seed(seed))
    }

    /// A number below `n`, or 0 when `n` is 0 (an empty keyspace flag
    /// must not panic the harness).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0.u64(..n.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_the_requested_size_and_are_distinct() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        for size in [1, 4, 8, 12, 16, 32] {
            key(12345, size, &mut a);
            key(12346, size, &mut b);
            assert_eq!(a.len(), size);
            if size >= 2 {
                assert_ne!(a, b);
            }
        }
        key(42, 16, &mut a);
        assert_eq!(a, b"key:000000000042");
    }

    #[test]
    fn rng_stays_in_range() {
        let mut r = Rng::new(1);
        assert!((0..10_000).all(|_| r.below(7) < 7));
    }
}
