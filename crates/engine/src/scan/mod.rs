//! Scans: ordered ranges, prefixes, and Redis-style SCAN.
//!
//! Owns reading many keys without holding locks for long: the streaming
//! merge (`merge`), SCAN's cursor numbers (`cursor`) and MATCH patterns
//! (`glob`). The `Db` methods that use them live in `db::scan`.

mod cursor;
mod glob;
mod merge;

pub(crate) use cursor::CursorTable;
pub use glob::glob_match;
pub use merge::RangeIter;

use bytes::Bytes;
use std::ops::Bound;

/// One page of an ordered range scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RangePage {
    /// Keys and values in key order.
    pub entries: Vec<(Bytes, Bytes)>,
    /// Where the next page starts (inclusive), or `None` if the range is
    /// exhausted. Pass it as the next call's start.
    pub next: Option<Bytes>,
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
