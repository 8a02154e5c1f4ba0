//! Benchmark keys and a cheap random generator.

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
        for d in out[4..].iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
    } else {
        out.extend_from_slice(&i.to_be_bytes()[8 - size.min(8)..]);
        out.resize(size, 0);
    }
}

/// xorshift64*: a few nanoseconds per number, so the generator does not
/// show up in the measurement.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        ((u128::from(r) * u128::from(n.max(1))) >> 64) as u64
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
