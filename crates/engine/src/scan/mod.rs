//! Scans: ordered ranges, prefixes, and Redis-style SCAN.
//!
//! Owns reading many keys without holding locks for long: the streaming
//! merge (`merge`), SCAN's cursor numbers (`cursor`) and MATCH patterns
//! (`glob`). The `Db` methods that use them live in `db::scan`.

mod cursor;
mod glob;
mod loser_tree;
mod merge;
mod shard_cursor;

pub(crate) use cursor::CursorTable;
pub use glob::glob_match;
pub(crate) use merge::MergeCursor;
pub use merge::RangeIter;
pub(crate) use shard_cursor::{window, ValueAt};

use bytes::Bytes;
use std::ops::{Bound, Range};

/// One page of an ordered range scan: entries in key order, and where the
/// next page starts. The page owns the batch buffers the scan copied the
/// entries into, so each entry was copied once; a large value stays in its
/// own shared buffer.
#[derive(Clone, Default)]
pub struct RangePage {
    bufs: Vec<Vec<u8>>,
    entries: Vec<(usize, Range<usize>, ValueAt)>,
    next: Option<Bytes>,
}

impl std::fmt::Debug for RangePage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RangePage")
            .field("len", &self.len())
            .field("next", &self.next)
            .finish()
    }
}

impl RangePage {
    pub(crate) fn new(
        bufs: Vec<Vec<u8>>,
        entries: Vec<(usize, Range<usize>, ValueAt)>,
        next: Option<Bytes>,
    ) -> Self {
        Self {
            bufs,
            entries,
            next,
        }
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the page has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entry `i` as `(key, value)`.
    pub fn get(&self, i: usize) -> Option<(&[u8], &[u8])> {
        let (buf, k, v) = self.entries.get(i)?;
        let data = self.bufs.get(*buf)?;
        let value = match v {
            ValueAt::Buf(r) => data.get(r.clone())?,
            ValueAt::Shared(b) => &b[..],
            ValueAt::Stepped => &[],
        };
        Some((data.get(k.clone())?, value))
    }

    /// The entries as `(key, value)`, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// Where the next page starts (inclusive), or `None` if the range is
    /// exhausted. Pass it as the next call's start.
    pub fn next_start(&self) -> Option<&[u8]> {
        self.next.as_deref()
    }
}

/// The smallest key greater than every key starting with `prefix`, or
/// `Unbounded` when there is none (`prefix` empty or all `0xff`).
pub(crate) fn prefix_end(prefix: &[u8]) -> Bound<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Bound::Excluded(end);
        }
    }
    Bound::Unbounded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_is_the_next_key_after_the_prefix() {
        assert_eq!(prefix_end(b"abc"), Bound::Excluded(b"abd".to_vec()));
        assert_eq!(prefix_end(b"ab\xff"), Bound::Excluded(b"ac".to_vec()));
        assert_eq!(prefix_end(b"\xff\xff"), Bound::Unbounded);
        assert_eq!(prefix_end(b""), Bound::Unbounded);
    }
}
