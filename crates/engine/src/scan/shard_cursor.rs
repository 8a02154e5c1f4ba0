//! `ShardCursor`: one unit of a layout, read in bounded batches.
//!
//! Owns copying the next batch of a unit's entries out under its shards'
//! read locks (active shards first, then frozen), skipping expired ones,
//! and the 8-byte key windows the merge compares. It must never hold a
//! lock past one batch, nor decide the merge order across units (that is
//! `merge` and `loser_tree`).

use crate::collection::stepped::Stepped;
use crate::entry::{Parts, ValueType};
use crate::memtable::{Layout, Unit};
use bytes::Bytes;
use smallvec::SmallVec;
use std::ops::{Bound, Range};

/// Most entries copied from one shard per lock acquisition.
pub(super) const MAX_BATCH: usize = 512;
/// Most inline bytes copied from one shard per lock acquisition.
const MAX_BATCH_BYTES: usize = 256 * 1024;
/// Borrows an owned bound.
fn bound_ref(b: &Bound<Box<[u8]>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(k) => Bound::Included(k),
        Bound::Excluded(k) => Bound::Excluded(k),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// Where a batched entry's value lives.
#[derive(Clone)]
pub(crate) enum ValueAt {
    /// In the entry's batch buffer.
    Buf(Range<usize>),
    /// A large value's own shared buffer (cloning it is one increment,
    /// far cheaper than copying kilobytes).
    Shared(Bytes),
    /// Not copied: a big collection the reader copies itself, a step at a
    /// time (`ScanSpec::step_big`, `collection::stepped`).
    Stepped,
}

/// One entry of a batch: its key's window (for the merge), where its key
/// and value are, its deadline and its value's type.
pub(super) type Item = (u64, Range<usize>, ValueAt, Option<u64>, ValueType);

/// The read position in one unit of the layout (see `memtable::Unit`),
/// with the entries last copied from it.
pub(super) struct ShardCursor {
    pub(super) unit: Unit,
    /// Where the next batch starts.
    pub(super) from: Bound<Box<[u8]>>,
    /// Whether the unit holds nothing past the current batch.
    pub(super) exhausted: bool,
    /// Index of this cursor's current batch buffer in `MergeCursor::bufs`.
    pub(super) buf: usize,
    /// (key window, key, value, deadline) per copied entry; see
    /// `LoserTree`.
    pub(super) items: Vec<Item>,
    pub(super) pos: usize,
    pub(super) batch_size: usize,
}

impl ShardCursor {
    pub(super) fn has_item(&self) -> bool {
        self.pos < self.items.len()
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "`buf` indexes the merge's buffers and each item's range lies in that buffer (`refill` wrote both)"
    )]
    pub(super) fn key<'b>(&self, bufs: &'b [Vec<u8>]) -> &'b [u8] {
        match self.items.get(self.pos) {
            Some((_, k, ..)) => &bufs[self.buf][k.clone()],
            None => &[],
        }
    }

    pub(super) fn window(&self) -> u64 {
        self.items.get(self.pos).map_or(0, |i| i.0)
    }

    /// Recomputes the windows of the entries not yet consumed.
    #[expect(
        clippy::indexing_slicing,
        reason = "`buf` indexes the merge's buffers, `pos <= items.len()`, and each item's range lies in that buffer"
    )]
    pub(super) fn rewindow(&mut self, bufs: &[Vec<u8>], offset: usize) {
        let buf = &bufs[self.buf];
        for item in &mut self.items[self.pos..] {
            item.0 = window(&buf[item.1.clone()], offset);
        }
    }
}

/// The layout moved on while a scan was reading it: a newer resize froze
/// the memtable the scan took for active, so keys may be moving to places
/// the scan's units do not cover.
pub(super) struct Stale;

/// Copies the next batch of `cursor`'s unit into `buf`, skipping expired
/// entries. The unit's shards are read-locked together, active ones first,
/// so no key can move between them while the batch is read.
#[expect(
    clippy::indexing_slicing,
    reason = "`next` is an index into `ranges`, and `last` a range just written into `buf`"
)]
pub(super) fn refill(
    cursor: &mut ShardCursor,
    buf: &mut Vec<u8>,
    layout: &Layout,
    scan: &ScanSpec,
) -> Result<(), Stale> {
    cursor.items.clear();
    cursor.items.reserve(cursor.batch_size);
    cursor.pos = 0;
    let mut last: Option<Range<usize>> = None;
    let mut more = false;
    {
        let active: SmallVec<[_; 2]> = cursor
            .unit
            .active
            .clone()
            .map(|i| layout.active.shard(i).read())
            .collect();
        if layout.active.is_frozen() {
            return Err(Stale);
        }
        let frozen: SmallVec<[_; 2]> = match &layout.frozen {
            Some(f) => cursor
                .unit
                .frozen
                .clone()
                .map(|i| f.shard(i).read())
                .collect(),
            None => SmallVec::new(),
        };
        // Merge the unit's maps in key order. A key can be in an active and
        // a frozen map at once (a blind write shadowed the frozen copy): the
        // active copy is the one that counts, and comes first in `ranges`.
        let mut ranges: SmallVec<[_; 4]> = active
            .iter()
            .chain(frozen.iter())
            .map(|m| {
                m.range(bound_ref(&cursor.from), bound_ref(&scan.end))
                    .peekable()
            })
            .collect();
        loop {
            let next = ranges
                .iter_mut()
                .enumerate()
                .filter_map(|(i, r)| r.peek().map(|e| (i, e.key())))
                .min_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(&b.0)))
                .map(|(i, _)| i);
            let Some(entry) = next.and_then(|i| ranges[i].next()) else {
                break;
            };
            for r in ranges.iter_mut() {
                if r.peek().is_some_and(|e| e.key() == entry.key()) {
                    r.next();
                }
            }
            if cursor.items.len() >= cursor.batch_size || buf.len() >= MAX_BATCH_BYTES {
                more = true;
                break;
            }
            let Parts {
                key,
                inline,
                shared,
                collection,
                expiry,
            } = entry.parts();
            let kind = entry.value_type();
            if buf.is_empty() {
                // Size the buffer once, from the first entry, rather than
                // letting it double its way up.
                let per = key.len() + if scan.values { inline.len() } else { 0 };
                buf.reserve((per * cursor.batch_size).min(MAX_BATCH_BYTES));
            }
            // Expired entries are skipped but still advance the resume
            // point, so a run of them is never read twice.
            let at = buf.len();
            buf.extend_from_slice(key);
            let key = at..buf.len();
            last = Some(key.clone());
            if let (Some(now), Some(deadline)) = (scan.now, expiry) {
                if now > deadline {
                    continue;
                }
            }
            let value = match (shared, collection) {
                _ if !scan.values => ValueAt::Buf(0..0),
                (Some(b), _) => ValueAt::Shared(b.clone()),
                (None, Some(c)) if scan.step_big && Stepped::applies(c) => ValueAt::Stepped,
                // Any other collection is copied out in its encoding,
                // under the lock like any value.
                (None, Some(c)) => {
                    let at = buf.len();
                    crate::collection::codec::encode(c, buf);
                    ValueAt::Buf(at..buf.len())
                }
                (None, None) => {
                    let at = buf.len();
                    buf.extend_from_slice(inline);
                    ValueAt::Buf(at..buf.len())
                }
            };
            cursor.items.push((0, key, value, expiry, kind));
        }
    }
    if let Some(k) = last {
        cursor.from = Bound::Excluded(buf[k].into());
    }
    cursor.exhausted = !more;
    // Without a limit, a unit that keeps supplying entries gets larger
    // batches; with one, `MergeCursor::fill` sizes the next batch from what
    // the caller still wants.
    cursor.batch_size = (cursor.batch_size * 2).min(MAX_BATCH);
    Ok(())
}

/// The 8 key bytes from `offset` on, as a big-endian integer (zero-padded).
/// For keys that share their first `offset` bytes, ordering these integers
/// agrees with ordering the keys, except on ties.
#[expect(
    clippy::indexing_slicing,
    reason = "`n` is at most 8 and at most `rest.len()`"
)]
pub(crate) fn window(key: &[u8], offset: usize) -> u64 {
    let mut b = [0u8; 8];
    if let Some(rest) = key.get(offset..) {
        let n = rest.len().min(8);
        b[..n].copy_from_slice(&rest[..n]);
    }
    u64::from_be_bytes(b)
}

/// What a merge reads: up to where, as of when, and whether values are
/// wanted.
pub(super) struct ScanSpec {
    pub(super) end: Bound<Box<[u8]>>,
    pub(super) now: Option<u64>,
    pub(super) values: bool,
    /// Whether a big collection is left for the reader to copy in steps
    /// (a snapshot), rather than encoded under the lock.
    pub(super) step_big: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_order_agrees_with_key_order() {
        let keys: [&[u8]; 8] = [
            b"",
            b"\0",
            b"a",
            b"a\0",
            b"ab",
            b"abcdefgh",
            b"abcdefgh\0",
            b"abcdefghi",
        ];
        for offset in [0, 1, 3] {
            for a in keys {
                for b in keys {
                    let shared = a.iter().zip(b).take_while(|(x, y)| x == y).count();
                    if shared < offset.min(a.len()).min(b.len())
                        || window(a, offset) == window(b, offset)
                    {
                        continue;
                    }
                    if a.len() >= offset && b.len() >= offset {
                        assert_eq!(
                            window(a, offset) < window(b, offset),
                            a < b,
                            "{a:?} {b:?} at {offset}"
                        );
                    }
                }
            }
        }
    }
}
