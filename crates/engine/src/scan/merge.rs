//! `RangeIter`: an ordered scan over hash-routed shards, streamed.
//!
//! Owns the k-way merge. Keys are spread over shards by hash, so a scan in
//! key order reads every shard and merges. Each shard is read in bounded
//! batches: take its read lock, copy the next few entries out, release it.
//! No lock is held between batches and nothing buffers more than one batch
//! per shard, so a scan over millions of keys neither stalls writers nor
//! grows without bound (the talk's storage-layer pagination).
//!
//! Cost model, and why it looks like this: per scan there is one seek per
//! shard, so a scan of few keys over many shards is dominated by seeks.
//! Batches therefore start small (about the caller's share of the limit per
//! shard) and double as a shard keeps being drained. Each heap slot caches
//! the first 8 key bytes as an integer, so most comparisons never touch
//! the key bytes.

use crate::memtable::Shards;
use bytes::{Bytes, BytesMut};
use std::ops::{Bound, Range};

/// Most entries copied from one shard per lock acquisition.
const MAX_BATCH: usize = 512;
/// Most inline bytes copied from one shard per lock acquisition.
const MAX_BATCH_BYTES: usize = 256 * 1024;
/// Batch size when the caller gave no limit.
const DEFAULT_BATCH: usize = 64;

/// Where a value of a batched entry lives.
enum ValueAt {
    /// In the batch's arena.
    Arena(Range<usize>),
    /// A large value's own shared buffer.
    Shared(Bytes),
}

/// Entries copied from one shard under one lock acquisition.
#[derive(Default)]
struct Batch {
    arena: Bytes,
    items: Vec<(Range<usize>, ValueAt)>,
}

/// The read position in one shard.
struct ShardCursor {
    shard: usize,
    /// Where the next batch starts.
    from: Bound<Box<[u8]>>,
    /// Whether the shard holds nothing past the current batch.
    exhausted: bool,
    batch: Batch,
    pos: usize,
    batch_size: usize,
}

impl ShardCursor {
    fn key(&self) -> &[u8] {
        match self.batch.items.get(self.pos) {
            Some((k, _)) => &self.batch.arena[k.clone()],
            None => &[],
        }
    }

    fn has_item(&self) -> bool {
        self.pos < self.batch.items.len()
    }

    /// Copies the next batch out of the shard, skipping expired entries.
    fn refill(&mut self, shards: &Shards, end: Bound<&[u8]>, now: Option<u64>, values: bool) {
        let mut arena = BytesMut::new();
        let mut items = Vec::new();
        let mut last: Option<Range<usize>> = None;
        let mut more = false;
        {
            let map = shards.shard(self.shard).read();
            for entry in map.range(bound_ref(&self.from), end) {
                if items.len() >= self.batch_size || arena.len() >= MAX_BATCH_BYTES {
                    more = true;
                    break;
                }
                // Expired entries are skipped but still advance the resume
                // point, so a run of them is never re-read.
                let key_at = arena.len();
                arena.extend_from_slice(entry.key());
                let key = key_at..arena.len();
                last = Some(key.clone());
                if now.is_some_and(|t| entry.is_expired(t)) {
                    continue;
                }
                let value = match entry.shared_value() {
                    _ if !values => ValueAt::Arena(0..0),
                    Some(b) => ValueAt::Shared(b.clone()),
                    None => {
                        let at = arena.len();
                        arena.extend_from_slice(entry.value());
                        ValueAt::Arena(at..arena.len())
                    }
                };
                items.push((key, value));
            }
        }
        let arena = arena.freeze();
        if let Some(k) = last {
            self.from = Bound::Excluded(arena[k].into());
        }
        self.exhausted = !more;
        self.batch = Batch { arena, items };
        self.pos = 0;
        self.batch_size = (self.batch_size * 2).min(MAX_BATCH);
    }

    fn take(&mut self) -> Option<(Bytes, Bytes)> {
        let (k, v) = self.batch.items.get(self.pos)?;
        let key = self.batch.arena.slice(k.clone());
        let value = match v {
            ValueAt::Arena(r) => self.batch.arena.slice(r.clone()),
            ValueAt::Shared(b) => b.clone(),
        };
        self.pos += 1;
        Some((key, value))
    }
}

/// Borrows an owned bound.
pub(crate) fn bound_ref(b: &Bound<Box<[u8]>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(k) => Bound::Included(k),
        Bound::Excluded(k) => Bound::Excluded(k),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// Copies a borrowed bound.
pub(crate) fn bound_owned(b: Bound<&[u8]>) -> Bound<Box<[u8]>> {
    b.map(Box::from)
}

/// The first 8 bytes of a key as a big-endian integer: ordering these
/// integers agrees with ordering the keys, except on ties.
fn prefix(key: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = key.len().min(8);
    b[..n].copy_from_slice(&key[..n]);
    u64::from_be_bytes(b)
}

/// A binary min-heap of cursor indices, keyed by each cursor's current key.
#[derive(Default)]
struct MergeHeap {
    /// (cached key prefix, cursor index)
    slots: Vec<(u64, usize)>,
}

impl MergeHeap {
    fn less(a: &(u64, usize), b: &(u64, usize), cursors: &[ShardCursor]) -> bool {
        match a.0.cmp(&b.0) {
            std::cmp::Ordering::Equal => cursors[a.1].key() < cursors[b.1].key(),
            o => o.is_lt(),
        }
    }

    fn push(&mut self, cursor: usize, cursors: &[ShardCursor]) {
        self.slots.push((prefix(cursors[cursor].key()), cursor));
        let mut i = self.slots.len() - 1;
        while i > 0 {
            let parent = (i - 1) / 2;
            if !Self::less(&self.slots[i], &self.slots[parent], cursors) {
                break;
            }
            self.slots.swap(i, parent);
            i = parent;
        }
    }

    fn peek(&self) -> Option<usize> {
        self.slots.first().map(|s| s.1)
    }

    /// Re-reads the top cursor's key after it advanced, or drops it when it
    /// has nothing left, and restores the heap order.
    fn update_top(&mut self, cursors: &[ShardCursor]) {
        let Some(&(_, top)) = self.slots.first() else {
            return;
        };
        if cursors[top].has_item() {
            self.slots[0].0 = prefix(cursors[top].key());
        } else {
            let last = self.slots.len() - 1;
            self.slots.swap(0, last);
            self.slots.pop();
        }
        let n = self.slots.len();
        let mut i = 0;
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut min = i;
            if l < n && Self::less(&self.slots[l], &self.slots[min], cursors) {
                min = l;
            }
            if r < n && Self::less(&self.slots[r], &self.slots[min], cursors) {
                min = r;
            }
            if min == i {
                break;
            }
            self.slots.swap(i, min);
            i = min;
        }
    }
}

/// Entries in a key range, in key order, merged from all shards and read in
/// bounded batches. Yields `(key, value)`.
pub struct RangeIter<'a> {
    shards: &'a Shards,
    end: Bound<Box<[u8]>>,
    now: Option<u64>,
    values: bool,
    cursors: Vec<ShardCursor>,
    heap: MergeHeap,
    started: bool,
}

impl<'a> RangeIter<'a> {
    /// A scan of `[start, end)`-style bounds. `now` (Unix ms) makes it skip
    /// expired entries; `limit` hints how many entries the caller wants, to
    /// size the first batches.
    pub(crate) fn new(
        shards: &'a Shards,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        now: Option<u64>,
    ) -> Self {
        Self::with_limit(shards, start, end, now, None)
    }

    /// As `new`, with a hint of how many entries the caller will take.
    pub(crate) fn with_limit(
        shards: &'a Shards,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        now: Option<u64>,
        limit: Option<usize>,
    ) -> Self {
        let n = shards.count();
        let first_batch = match limit {
            // Each shard holds about limit/n of the answer; a little more
            // avoids a second round of locks for the unlucky shards.
            Some(l) => (l / n + l / (4 * n) + 4).min(MAX_BATCH),
            None => DEFAULT_BATCH,
        };
        let from = bound_owned(start);
        let cursors = (0..n)
            .map(|shard| ShardCursor {
                shard,
                from: from.clone(),
                exhausted: false,
                batch: Batch::default(),
                pos: 0,
                batch_size: first_batch,
            })
            .collect();
        Self {
            shards,
            end: bound_owned(end),
            now,
            values: true,
            cursors,
            heap: MergeHeap::default(),
            started: false,
        }
    }

    /// Stops copying values: the iterator then yields empty values, which
    /// is all SCAN needs.
    pub(crate) fn keys_only(mut self) -> Self {
        self.values = false;
        self
    }

    /// Refills cursor `i` until it has an item or its shard is exhausted.
    fn fill(&mut self, i: usize) {
        let end = bound_ref(&self.end);
        let cursor = &mut self.cursors[i];
        while !cursor.has_item() && !cursor.exhausted {
            cursor.refill(self.shards, end, self.now, self.values);
        }
    }

    fn start(&mut self) {
        self.started = true;
        for i in 0..self.cursors.len() {
            self.fill(i);
            if self.cursors[i].has_item() {
                self.heap.push(i, &self.cursors);
            }
        }
    }

    /// The key the next call to `next` would return, without consuming it.
    pub fn peek_key(&mut self) -> Option<&[u8]> {
        if !self.started {
            self.start();
        }
        let top = self.heap.peek()?;
        Some(self.cursors[top].key())
    }
}

impl Iterator for RangeIter<'_> {
    type Item = (Bytes, Bytes);

    fn next(&mut self) -> Option<(Bytes, Bytes)> {
        if !self.started {
            self.start();
        }
        let top = self.heap.peek()?;
        let item = self.cursors[top].take();
        if !self.cursors[top].has_item() {
            self.fill(top);
        }
        self.heap.update_top(&self.cursors);
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_order_agrees_with_key_order() {
        let keys: [&[u8]; 7] = [b"", b"\0", b"a", b"a\0", b"ab", b"abcdefgh", b"abcdefgh\0"];
        for a in keys {
            for b in keys {
                if prefix(a) != prefix(b) {
                    assert_eq!(prefix(a) < prefix(b), a < b, "{a:?} {b:?}");
                }
            }
        }
    }
}
