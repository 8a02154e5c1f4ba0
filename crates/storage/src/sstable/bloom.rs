//! The Bloom filter over a table's (db, key) pairs, so a lookup of an
//! absent key usually reads no block.
//!
//! Owns the filter's hash (part of the format: changing it is a new
//! format version), its sizing and its contents, `probes: u8` then the
//! bit array. It must never say "absent" for a key that was added; a
//! filter read from a file is accepted only with a sane probe count and a
//! non-empty bit array, or as the empty "no filter" form.
//!
//! With `b` bits per key and `k = round(b ln 2)` probes, the false
//! positive rate is about `(1 - e^(-k/b))^k`: 0.82% at the default 10 bits
//! per key (k = 7). The probes are double hashing (Kirsch and
//! Mitzenmacher): `h, h + d, h + 2d, ...` modulo the bit count, from one
//! 64-bit hash, which their analysis shows costs nothing in that rate.

use super::cursor::Malformed;

/// Most probes a filter may ask for; more would only slow lookups, since
/// the rate is best at `k = b ln 2` and `b` is capped below.
const MAX_PROBES: u8 = 30;

/// The most bits per key a builder uses; larger asks are lowered to it.
pub(crate) const MAX_BITS_PER_KEY: usize = 40;

/// The largest bit array, in bytes: within one block's bound. A table with
/// more keys than fit gets fewer bits per key rather than no filter.
const MAX_FILTER_BYTES: usize = 1 << 30;

/// The filter's 64-bit hash of (db, key). A 64-bit mix of the key's
/// little-endian words, with its length and database folded in, is
/// enough: only the probes' spread matters, not resistance to attack (an
/// attacker who fills the filter only costs lookups a block read). The
/// mixer is the finaliser of MurmurHash3, a bijection, so no two words
/// collide at any step.
pub(crate) fn key_hash(db: u32, key: &[u8]) -> u64 {
    let mut h = mix(0x9e37_79b9_7f4a_7c15 ^ u64::from(db));
    h = mix(h ^ key.len() as u64);
    let mut words = key.chunks_exact(8);
    for word in words.by_ref() {
        h = mix(h ^ le_word(word));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        h = mix(h ^ le_word(rest));
    }
    h
}

/// Up to eight bytes as a little-endian word, zero-padded.
fn le_word(bytes: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    for (dst, src) in w.iter_mut().zip(bytes) {
        *dst = *src;
    }
    u64::from_le_bytes(w)
}

fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^= x >> 33;
    x
}

/// The bit positions a hash probes, for a filter of `bits` bits (> 0).
fn probes(hash: u64, k: u8, bits: u64) -> impl Iterator<Item = u64> {
    // An odd step never cycles early when `bits` is a power of two.
    let step = hash.rotate_right(32) | 1;
    (0..u64::from(k)).map(move |i| hash.wrapping_add(i.wrapping_mul(step)) % bits)
}

/// Builds a filter's contents from the hashes of every key in the table.
/// `bits_per_key == 0` builds the empty filter, which says "maybe" to
/// everything.
pub(crate) fn build(hashes: &[u64], bits_per_key: usize) -> Vec<u8> {
    let bits_per_key = bits_per_key.min(MAX_BITS_PER_KEY);
    if bits_per_key == 0 {
        return vec![0];
    }
    // ln 2 ~ 0.69; rounded to the nearest whole probe.
    let k = ((bits_per_key * 69 + 50) / 100).clamp(1, usize::from(MAX_PROBES)) as u8;
    // At least 64 bits, so a tiny table still filters.
    let bytes = hashes
        .len()
        .saturating_mul(bits_per_key)
        .div_ceil(8)
        .clamp(8, MAX_FILTER_BYTES);
    let mut out = vec![0u8; 1 + bytes];
    let bits = (bytes as u64) * 8;
    if let Some((_, array)) = out.split_first_mut() {
        for &h in hashes {
            for bit in probes(h, k, bits) {
                if let Some(byte) = array.get_mut((bit / 8) as usize) {
                    *byte |= 1 << (bit % 8);
                }
            }
        }
    }
    if let Some(first) = out.first_mut() {
        *first = k;
    }
    out
}

/// A filter sized up front for an expected number of keys and filled as
/// keys are added, so a builder need not keep every key's hash until the
/// end (8 bytes a key; the filter itself is `bits_per_key / 8`). More keys
/// than expected only raise the false-positive rate.
pub(crate) struct Sized {
    k: u8,
    bits: u64,
    out: Vec<u8>,
}

impl Sized {
    /// A filter for about `expected` keys at `bits_per_key` (> 0).
    pub(crate) fn new(expected: u64, bits_per_key: usize) -> Self {
        let bits_per_key = bits_per_key.clamp(1, MAX_BITS_PER_KEY);
        let k = ((bits_per_key * 69 + 50) / 100).clamp(1, usize::from(MAX_PROBES)) as u8;
        let bytes = usize::try_from(expected)
            .unwrap_or(usize::MAX)
            .saturating_mul(bits_per_key)
            .div_ceil(8)
            .clamp(8, MAX_FILTER_BYTES);
        let mut out = vec![0u8; 1 + bytes];
        if let Some(first) = out.first_mut() {
            *first = k;
        }
        Sized {
            k,
            bits: (bytes as u64) * 8,
            out,
        }
    }

    /// Adds a key's hash.
    pub(crate) fn add(&mut self, hash: u64) {
        if let Some((_, array)) = self.out.split_first_mut() {
            for bit in probes(hash, self.k, self.bits) {
                if let Some(byte) = array.get_mut((bit / 8) as usize) {
                    *byte |= 1 << (bit % 8);
                }
            }
        }
    }

    /// The filter's contents, as `build` makes them.
    pub(crate) fn finish(self) -> Vec<u8> {
        self.out
    }
}

/// A filter read back from a table.
#[derive(Debug)]
pub(crate) struct Bloom {
    probes: u8,
    /// The filter's contents whole, probe count first: kept as read, so a
    /// big filter is not copied to drop one byte.
    contents: Vec<u8>,
}

impl Bloom {
    /// Checks and takes a filter's contents.
    pub fn decode(contents: Vec<u8>) -> Result<Bloom, Malformed> {
        let Some((&probes, array)) = contents.split_first() else {
            return Err(Malformed {
                at: 0,
                what: "empty filter",
            });
        };
        match (probes, array.len()) {
            (0, 0) => {}
            (1..=MAX_PROBES, 1..) => {}
            _ => {
                return Err(Malformed {
                    at: 0,
                    what: "filter probe count or size",
                })
            }
        }
        Ok(Bloom { probes, contents })
    }

    /// Whether a key with this hash may have been added: `false` is
    /// certain, `true` may be a false positive.
    pub fn may_contain(&self, hash: u64) -> bool {
        let array = self.contents.get(1..).unwrap_or_default();
        if self.probes == 0 || array.is_empty() {
            return true;
        }
        let bits = (array.len() as u64) * 8;
        probes(hash, self.probes, bits).all(|bit| {
            array
                .get((bit / 8) as usize)
                .is_some_and(|byte| byte & (1 << (bit % 8)) != 0)
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn key(i: u64) -> Vec<u8> {
        format!("key:{i:012}").into_bytes()
    }

    /// The theory's rate, for `b` bits per key and the probe count `build`
    /// picks.
    fn theory(b: usize) -> f64 {
        let k = ((b * 69 + 50) / 100).max(1) as f64;
        (1.0 - (-k / b as f64).exp()).powf(k)
    }

    #[test]
    fn added_keys_are_always_found() {
        let hashes: Vec<u64> = (0..10_000)
            .map(|i| key_hash((i % 3) as u32, &key(i)))
            .collect();
        for b in [1, 4, 10, 40, 1000] {
            let filter = Bloom::decode(build(&hashes, b)).unwrap();
            assert!(
                hashes.iter().all(|&h| filter.may_contain(h)),
                "{b} bits per key"
            );
        }
    }

    /// The measured false positive rate is within a factor of two of the
    /// theory, both ways (far below would mean the test measured nothing).
    #[test]
    fn false_positive_rate_matches_theory() {
        let n = 100_000u64;
        for (b, db) in [(10, 0), (6, 7), (16, 0)] {
            let hashes: Vec<u64> = (0..n).map(|i| key_hash(db, &key(i))).collect();
            let filter = Bloom::decode(build(&hashes, b)).unwrap();
            // Absent keys: other numbers in the same database, and the
            // same keys in the next database.
            let absent = (n..3 * n)
                .map(|i| key_hash(db, &key(i)))
                .chain((0..n).map(|i| key_hash(db + 1, &key(i))));
            let positives = absent.filter(|&h| filter.may_contain(h)).count();
            let rate = positives as f64 / (3 * n) as f64;
            let want = theory(b);
            assert!(
                rate < 2.0 * want && rate > want / 2.0,
                "{b} bits/key: rate {rate}, theory {want}"
            );
        }
        assert!(
            (theory(10) - 0.0082).abs() < 0.0005,
            "the rate the docs quote"
        );
    }

    #[test]
    fn a_filter_sized_up_front_equals_one_built_at_the_end() {
        let hashes: Vec<u64> = (0..5_000).map(|i| key_hash(1, &key(i))).collect();
        let mut sized = Sized::new(hashes.len() as u64, 10);
        for &h in &hashes {
            sized.add(h);
        }
        assert_eq!(sized.finish(), build(&hashes, 10));
    }

    #[test]
    fn the_empty_filter_says_maybe() {
        let filter = Bloom::decode(build(&[1, 2, 3], 0)).unwrap();
        assert!(filter.may_contain(12345));
        let empty_table = Bloom::decode(build(&[], 10)).unwrap();
        assert!(!empty_table.may_contain(key_hash(0, b"a")));
    }

    #[test]
    fn malformed_filters_are_refused() {
        for bad in [vec![], vec![0, 1], vec![1], vec![MAX_PROBES + 1, 0xff]] {
            assert!(Bloom::decode(bad).is_err());
        }
    }

    #[test]
    fn the_hash_tells_apart_padding_databases_and_lengths() {
        let hashes = [
            key_hash(0, b"a"),
            key_hash(0, b"a\0"),
            key_hash(1, b"a"),
            key_hash(0, b""),
            key_hash(0, b"\0"),
        ];
        for (i, a) in hashes.iter().enumerate() {
            for b in &hashes[i + 1..] {
                assert_ne!(a, b);
            }
        }
        // Part of the format: a change here breaks every filter on disk.
        assert_eq!(key_hash(0, b"key:000000000001"), 6_827_277_678_510_008_761);
    }
}
