//! Key heads: searching sorted keys mostly without reading them.
//!
//! Owns the one search both node kinds use. Keys in a node share a prefix;
//! a node keeps, per key, its *head*: the 4 bytes after that prefix as a
//! big-endian integer. Comparing heads agrees with comparing keys except on
//! ties, so a binary search reads the contiguous head array and opens a
//! key (a cache miss, for a leaf's entry block) only when heads are equal.

use std::cmp::Ordering;

/// The 4 key bytes after `prefix`, big-endian and zero-padded: ordering
/// heads agrees with ordering keys that share the prefix, except on ties.
#[expect(
    clippy::indexing_slicing,
    reason = "`n` is at most 4 and at most `rest.len()`"
)]
pub(crate) fn head(key: &[u8], prefix: usize) -> u32 {
    let mut b = [0u8; 4];
    if let Some(rest) = key.get(prefix..) {
        let n = rest.len().min(4);
        b[..n].copy_from_slice(&rest[..n]);
    }
    u32::from_be_bytes(b)
}

/// Length of the common prefix of `a` and `b`.
pub(crate) fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Finds `key` among sorted keys that all start with `prefix` and whose
/// heads are `heads`: `Ok(i)` if key `i` equals it, otherwise `Err(i)`, the
/// position it would be inserted at. `cmp(i)` compares key `i` with `key`
/// in full, for ties.
#[expect(
    clippy::indexing_slicing,
    reason = "`mid` lies in `lo..hi`, within `0..heads.len()`, and the prefix slice is clamped to `key.len()`"
)]
pub(super) fn search(
    heads: &[u32],
    prefix: &[u8],
    key: &[u8],
    cmp: impl Fn(usize) -> Ordering,
) -> Result<usize, usize> {
    let n = heads.len();
    // A key without the shared prefix sorts before or after all of them.
    match key[..prefix.len().min(key.len())].cmp(prefix) {
        Ordering::Less => return Err(0),
        Ordering::Greater => return Err(n),
        Ordering::Equal => {}
    }
    let h = head(key, prefix.len());
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        let ord = match heads[mid].cmp(&h) {
            Ordering::Equal => cmp(mid),
            o => o,
        };
        match ord {
            Ordering::Less => lo = mid + 1,
            Ordering::Greater => hi = mid,
            Ordering::Equal => return Ok(mid),
        }
    }
    Err(lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_order_like_keys() {
        let keys: [&[u8]; 6] = [b"ab", b"ab\0", b"abc", b"abcd", b"abcde", b"b"];
        for a in keys {
            for b in keys {
                if head(a, 0) != head(b, 0) {
                    assert_eq!(head(a, 0) < head(b, 0), a < b);
                }
            }
        }
        assert_eq!(head(b"key:0001", 4), u32::from_be_bytes(*b"0001"));
        assert_eq!(head(b"key", 4), 0);
    }

    #[test]
    fn search_finds_and_places_keys() {
        let keys: Vec<&[u8]> = vec![
            b"pre:a",
            b"pre:ab",
            b"pre:ab\0",
            b"pre:b",
            b"pre:bbbbb1",
            b"pre:bbbbb2",
        ];
        let heads: Vec<u32> = keys.iter().map(|k| head(k, 4)).collect();
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(search(&heads, b"pre:", k, |j| keys[j].cmp(k)), Ok(i));
        }
        let at = |probe: &[u8]| search(&heads, b"pre:", probe, |j| keys[j].cmp(probe));
        assert_eq!(at(b"a"), Err(0));
        assert_eq!(at(b"pre"), Err(0));
        assert_eq!(at(b"pre:"), Err(0));
        assert_eq!(at(b"pre:bbbbb15"), Err(5));
        assert_eq!(at(b"pre:c"), Err(6));
        assert_eq!(at(b"zzz"), Err(6));
    }
}
