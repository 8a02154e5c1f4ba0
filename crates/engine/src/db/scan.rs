//! Scans on a `Db`: ordered ranges with a resume key, prefixes, and SCAN.
//!
//! Owns the keyspace-level scan API; the streaming merge itself is in
//! `crate::scan`. All scans skip expired keys and read shards in bounded
//! batches (no lock is held between batches).

use super::types::{ScanOptions, ScanPage};
use super::Db;
use crate::error::{Error, Result};
use crate::scan::{glob_match, prefix_end, MergeCursor, RangeIter, RangePage};
use bytes::Bytes;
use std::ops::Bound;

impl Db {
    /// A streaming scan of the keys in the bounds, in key order, yielding
    /// owned pairs (a collection's value empty, as in `range`). For bulk reads prefer `range`, which allocates nothing
    /// per entry.
    pub fn range_iter(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> RangeIter<'_> {
        RangeIter::new(self.keyspace().layouts(), start, end, Some(self.now_ms()))
    }

    /// Up to `limit` entries in the bounds, in key order, and where the
    /// next page starts. A key holding a collection comes with an empty
    /// value (read it with its type's commands). Resume by passing `page.next_start()` as an
    /// inclusive start; keys written in between are seen if they sort
    /// after it.
    pub fn range(&self, start: Bound<&[u8]>, end: Bound<&[u8]>, limit: usize) -> RangePage {
        let now = Some(self.now_ms());
        let mut cursor = MergeCursor::new(
            self.keyspace().layouts(),
            start,
            end,
            now,
            Some(limit),
            true,
        )
        .keeping_buffers();
        let mut entries = Vec::with_capacity(limit.min(4096));
        for _ in 0..limit {
            let Some(hit) = cursor.next_hit() else {
                break;
            };
            // A collection's value is read with its type's commands: a
            // range gives it as empty, not in its stored encoding.
            let value = match hit.kind {
                crate::entry::ValueType::String => hit.value,
                _ => crate::scan::ValueAt::Buf(0..0),
            };
            entries.push((hit.buf, hit.key, value));
        }
        let next = cursor.peek_key().map(Bytes::copy_from_slice);
        RangePage::new(cursor.into_buffers(), entries, next)
    }

    /// A streaming scan of the keys starting with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: &[u8]) -> RangeIter<'_> {
        let end = prefix_end(prefix);
        let end_ref = match &end {
            Bound::Excluded(e) => Bound::Excluded(&e[..]),
            _ => Bound::Unbounded,
        };
        RangeIter::new(
            self.keyspace().layouts(),
            Bound::Included(prefix),
            end_ref,
            Some(self.now_ms()),
        )
    }

    /// RANDOMKEY: a live key picked at random, `None` when there is none.
    /// A shard picked in proportion to the entries it holds, then a random
    /// descent of its tree: not exactly uniform (no key is more than about
    /// four times as likely as another), and it never walks the keyspace.
    /// Weighting by size matters: picking shards evenly missed the one
    /// key of a sparse keyspace often enough to answer nil.
    pub fn random_key(&self) -> Option<Bytes> {
        let state = std::collections::hash_map::RandomState::new();
        let mut counter = 0u64;
        let mut pick = |n: usize| {
            use std::hash::BuildHasher;
            counter += 1;
            let r = state.hash_one(counter);
            usize::try_from(r % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
        };
        let now = self.now_ms();
        // Tries are bounded: a keyspace of mostly expired keys may need a
        // few, and an empty one answers at once.
        for _ in 0..64 {
            let layout = self.keyspace().layout();
            let shards: Vec<_> = [Some(&layout.active), layout.frozen.as_ref()]
                .into_iter()
                .flatten()
                .flat_map(|set| set.iter())
                .map(|shard| (shard, shard.read().len()))
                .collect();
            let total: usize = shards.iter().map(|(_, len)| len).sum();
            if total == 0 {
                return None;
            }
            let mut at = pick(total);
            let shard = shards.iter().find_map(|(shard, len)| {
                if at < *len {
                    Some(*shard)
                } else {
                    at -= len;
                    None
                }
            })?;
            let found = {
                let map = shard.read();
                map.random(&mut pick)
                    .filter(|e| !e.is_expired(now))
                    .map(|e| Bytes::copy_from_slice(e.key()))
            };
            // A frozen copy may be stale; the key counts only if it still
            // exists as the keyspace sees it.
            if let Some(key) = found {
                // Not EXISTS: RANDOMKEY is no keyspace hit in Redis.
                use super::access::sealed::Access;
                let live = self.read_key(&key, |m, h| {
                    super::access::peek(m, h, &key, self.ctx()).is_some()
                });
                if live.unwrap_or(false) {
                    return Some(key);
                }
            } else if self.dbsize() == 0 {
                return None;
            }
        }
        None
    }

    /// One step of a Redis SCAN. Start with cursor 0; the scan is complete
    /// when the returned cursor is 0. Every key that exists for the whole
    /// scan is returned exactly once; a key added or removed meanwhile may
    /// or may not be.
    ///
    /// Up to `count` keys are examined per call; MATCH and TYPE filter
    /// them, so a call may return fewer, even none, with a cursor that is
    /// not 0.
    ///
    /// Errors: `InvalidCursor` for a cursor never issued, or one pushed out
    /// of the cursor table by 65,536 newer ones.
    pub fn scan(&self, cursor: u64, opts: ScanOptions<'_>) -> Result<ScanPage> {
        let after = match cursor {
            0 => None,
            c => Some(self.ks.cursors.resume(c).ok_or(Error::InvalidCursor)?),
        };
        let start = match &after {
            Some(k) => Bound::Excluded(&k[..]),
            None => Bound::Unbounded,
        };
        let count = opts.count.max(1);
        // Redis treats a lone `*` as no pattern: it also matches "".
        let pattern = opts.pattern.filter(|p| *p != b"*");

        let now = Some(self.now_ms());
        let mut it = MergeCursor::new(
            self.keyspace().layouts(),
            start,
            Bound::Unbounded,
            now,
            Some(count),
            false,
        );
        let mut keys = Vec::new();
        let mut last = Vec::new();
        let mut examined = 0;
        while examined < count {
            let Some(hit) = it.next_hit() else {
                break;
            };
            let key = it.bytes(hit.buf, hit.key);
            examined += 1;
            if opts.value_type.is_none_or(|t| t == hit.kind)
                && pattern.is_none_or(|p| glob_match(p, key))
            {
                keys.push(Bytes::copy_from_slice(key));
            }
            last.clear();
            last.extend_from_slice(key);
        }
        let cursor = match (examined, it.peek_key().is_some()) {
            (1.., true) => self.ks.cursors.issue(&last),
            _ => 0,
        };
        Ok(ScanPage { cursor, keys })
    }
}
