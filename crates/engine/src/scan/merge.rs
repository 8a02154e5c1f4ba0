//! The ordered merge over hash-routed shards, streamed.
//!
//! Owns the k-way merge. Keys are spread over shards by hash, so a scan in
//! key order reads every shard and merges. Each shard is read in bounded
//! batches: take its read lock, copy the next few entries out, release it.
//! No lock is held between batches and nothing buffers more than one batch
//! per shard, so a scan over millions of keys neither stalls writers nor
//! grows without bound (the talk's storage-layer pagination).
//!
//! Cost model, measured on our machine: per scan there is one seek per
//! shard, so a short scan over many shards is dominated by seeks. Batches
//! therefore start at about the caller's share of the limit per shard and
//! double as a shard keeps supplying entries. Each heap slot caches the
//! first 8 key bytes as an integer, so most comparisons never touch key
//! bytes. `MergeCursor` lends each entry as slices of reused per-shard
//! buffers: handing out a reference-counted `Bytes` per entry cost 38% of
//! a scan's time in atomic increments and decrements.

use super::loser_tree::LoserTree;
use super::shard_cursor::{refill, ScanSpec, ShardCursor, Stale, ValueAt, MAX_BATCH};
use crate::entry::ValueType;
use crate::memtable::common_prefix;
use crate::memtable::Layout;
use arc_swap::ArcSwap;
use bytes::Bytes;
use std::ops::{Bound, Range};
use std::sync::Arc;

/// Batch size when the caller gave no limit.
const DEFAULT_BATCH: usize = 64;

/// A batch for a shard expected to supply `share` entries: a quarter more,
/// so that the unlucky shards rarely need a second round of locks.
fn share_batch(share: usize) -> usize {
    share
        .saturating_add(share / 4)
        .saturating_add(4)
        .min(MAX_BATCH)
}

/// Copies a borrowed bound.
fn bound_owned(b: Bound<&[u8]>) -> Bound<Box<[u8]>> {
    b.map(Box::from)
}

/// One merged entry: where its bytes are in the cursor's buffers. Valid
/// until the next call to `MergeCursor::next_hit`, or for good when the
/// cursor keeps its buffers.
pub(crate) struct Hit {
    pub(crate) buf: usize,
    pub(crate) key: Range<usize>,
    pub(crate) value: ValueAt,
    /// The entry's deadline, Unix ms.
    pub(crate) expiry: Option<u64>,
    /// The value's type.
    pub(crate) kind: ValueType,
}

/// The merged, ordered stream of entries in a key range.
///
/// Two ways to hold the copied bytes: a streaming scan reuses one buffer
/// per shard (`keep = false`), so its memory stays bounded; a page keeps
/// every batch buffer (`keep = true`) and becomes their owner, so each
/// entry is copied once, from its block into a batch, and never again.
pub(crate) struct MergeCursor<'a> {
    /// Where layouts come from: the cell a keyspace publishes its current
    /// one in, or none for one fixed layout (a standalone memtable, which
    /// never goes stale).
    layouts: Option<&'a ArcSwap<Layout>>,
    /// The layout being read; replaced when it goes stale.
    layout: Arc<Layout>,
    /// Where the scan began, for a restart before anything was returned.
    start: Bound<Box<[u8]>>,
    spec: ScanSpec,
    keep: bool,
    /// Entries the caller still wants, if it said.
    wanted: Option<usize>,
    cursors: Vec<ShardCursor>,
    bufs: Vec<Vec<u8>>,
    tree: LoserTree,
    /// A key from the scan, and how many leading bytes every buffered key
    /// shares with it. Windows are the 8 key bytes after that offset: keys
    /// like `user:000123...` share their first bytes, so windows taken
    /// from the start would decide nothing. The offset only shrinks.
    reference: Vec<u8>,
    offset: usize,
    started: bool,
    /// The key last returned before the current batch of its unit ran out,
    /// where a restart resumes.
    last_returned: Option<Box<[u8]>>,
    /// The cursor whose entry was returned last; it advances on the
    /// following call, so that entry's bytes stay put until then.
    lent: Option<usize>,
}

impl<'a> MergeCursor<'a> {
    /// A scan of the bounds. `now` (Unix ms) makes it skip expired entries;
    /// `limit` hints how many entries the caller wants, to size the first
    /// batches; without `values` only keys are copied.
    pub(crate) fn new(
        layouts: &'a ArcSwap<Layout>,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        now: Option<u64>,
        limit: Option<usize>,
        values: bool,
    ) -> Self {
        Self::over(
            Some(layouts),
            layouts.load_full(),
            start,
            end,
            now,
            limit,
            values,
        )
    }

    /// Leaves big collections uncopied (`ValueAt::Stepped`), for the
    /// caller to copy a step at a time (`collection::stepped`).
    pub(crate) fn stepping_big_collections(mut self) -> Self {
        self.spec.step_big = true;
        self
    }

    /// A scan of one fixed layout.
    pub(crate) fn fixed(layout: Arc<Layout>, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Self {
        Self::over(None, layout, start, end, None, None, true)
    }

    fn over(
        layouts: Option<&'a ArcSwap<Layout>>,
        layout: Arc<Layout>,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        now: Option<u64>,
        limit: Option<usize>,
        values: bool,
    ) -> Self {
        let mut cursor = Self {
            layouts,
            layout,
            start: bound_owned(start),
            spec: ScanSpec {
                end: bound_owned(end),
                now,
                values,
                step_big: false,
            },
            keep: false,
            wanted: limit,
            cursors: Vec::new(),
            bufs: Vec::new(),
            tree: LoserTree::default(),
            reference: Vec::new(),
            offset: usize::MAX,
            started: false,
            last_returned: None,
            lent: None,
        };
        let from = bound_owned(start);
        cursor.plan(from);
        cursor
    }

    /// One cursor per unit of the current layout, all starting at `from`.
    fn plan(&mut self, from: Bound<Box<[u8]>>) {
        let units = self.layout.units();
        let n = units.len();
        let first_batch = match self.wanted {
            // Each unit holds about limit/n of the answer.
            Some(l) => share_batch(l / n.max(1)),
            None => DEFAULT_BATCH,
        };
        if !self.keep {
            self.bufs = vec![Vec::new(); n];
        }
        let base = if self.keep { self.bufs.len() } else { 0 };
        if self.keep {
            self.bufs.extend((0..n).map(|_| Vec::new()));
        }
        self.cursors = units
            .into_iter()
            .enumerate()
            .map(|(i, unit)| ShardCursor {
                unit,
                from: from.clone(),
                exhausted: false,
                buf: base + i,
                items: Vec::new(),
                pos: 0,
                batch_size: first_batch,
            })
            .collect();
        self.reference.clear();
        self.offset = usize::MAX;
        self.started = false;
    }

    /// Keep every batch buffer instead of reusing them, so hits stay valid
    /// and `into_buffers` can hand them over.
    pub(crate) fn keeping_buffers(mut self) -> Self {
        self.keep = true;
        self
    }

    /// Refills cursor `i` until it has an item or its unit is exhausted.
    #[expect(
        clippy::indexing_slicing,
        reason = "`i` is a cursor index, and every cursor's `buf` indexes `bufs` (`plan` and `fill` create both together)"
    )]
    fn fill(&mut self, i: usize) -> Result<(), Stale> {
        // A shard refilled mid-scan holds about its share of what is still
        // wanted; doubling instead would copy entries nobody reads.
        if let (Some(wanted), true) = (self.wanted, self.started) {
            let active = self
                .cursors
                .iter()
                .filter(|c| c.has_item() || !c.exhausted)
                .count();
            self.cursors[i].batch_size = share_batch(wanted / active.max(1));
        }
        let cursor = &mut self.cursors[i];
        while !cursor.has_item() && !cursor.exhausted {
            if self.keep && !self.bufs[cursor.buf].is_empty() {
                cursor.buf = self.bufs.len();
                self.bufs.push(Vec::new());
            }
            let buf = &mut self.bufs[cursor.buf];
            buf.clear();
            refill(cursor, buf, &self.layout, &self.spec)?;
        }
        self.window_batch(i);
        Ok(())
    }

    /// Starts reading from scratch: every unit of the current layout from
    /// `from`. A layout that goes stale meanwhile is replaced and the
    /// reading begins again.
    fn start(&mut self) {
        loop {
            let stale = (0..self.cursors.len()).any(|i| self.fill(i).is_err());
            if !stale {
                self.tree.build(&self.cursors, &self.bufs);
                self.started = true;
                return;
            }
            let from = self.restart_point();
            self.reload();
            self.plan(from);
        }
    }

    /// Takes the keyspace's current layout.
    fn reload(&mut self) {
        if let Some(layouts) = self.layouts {
            self.layout = layouts.load_full();
        }
    }

    /// Where to resume after the layout changed: after the last entry
    /// returned, or at the scan's start if none was. Entries read but not
    /// yet returned are read again from the new layout.
    fn restart_point(&self) -> Bound<Box<[u8]>> {
        match &self.last_returned {
            Some(k) => Bound::Excluded(k.clone()),
            None => self.start.clone(),
        }
    }

    /// Computes the windows of cursor `i`'s new batch, first shrinking the
    /// shared offset if the batch does not share all of it (then every
    /// buffered window is recomputed).
    #[expect(
        clippy::indexing_slicing,
        reason = "`i` and `j` are cursor indexes, and every cursor's `buf` indexes `bufs` and its item ranges lie in that buffer (`refill` wrote both)"
    )]
    fn window_batch(&mut self, i: usize) {
        let c = &self.cursors[i];
        let (Some(first), Some(last)) = (c.items.first(), c.items.last()) else {
            return;
        };
        let buf = &self.bufs[c.buf];
        let (first, last) = (&buf[first.1.clone()], &buf[last.1.clone()]);
        if self.reference.is_empty() && self.offset == usize::MAX {
            self.reference = first.to_vec();
        }
        // Sorted keys between `first` and `last` share with the reference
        // at least what the nearer of the two does.
        let shared =
            common_prefix(first, &self.reference).min(common_prefix(last, &self.reference));
        if shared < self.offset {
            self.offset = shared;
            for j in 0..self.cursors.len() {
                if j != i {
                    self.cursors[j].rewindow(&self.bufs, shared);
                }
            }
            self.cursors[i].rewindow(&self.bufs, self.offset);
            self.tree.refresh_all(&self.cursors);
            return;
        }
        self.cursors[i].rewindow(&self.bufs, self.offset);
    }

    /// Starts the merge, or moves past the entry returned last.
    #[expect(
        clippy::indexing_slicing,
        reason = "`lent` is a cursor index from the loser tree, and every cursor's `buf` indexes `bufs` and its item ranges lie in that buffer"
    )]
    fn advance(&mut self) {
        if !self.started {
            self.start();
            return;
        }
        if let Some(top) = self.lent.take() {
            let cursor = &mut self.cursors[top];
            cursor.pos += 1;
            if !cursor.has_item() {
                // About to reuse or leave this batch: remember the entry
                // just returned, in case the layout changed under us.
                let last = cursor.pos - 1;
                if let Some((_, k, ..)) = cursor.items.get(last) {
                    self.last_returned = Some(self.bufs[cursor.buf][k.clone()].into());
                }
                if self.fill(top).is_err() {
                    let from = self.restart_point();
                    self.reload();
                    self.plan(from);
                    self.start();
                    return;
                }
            }
            self.tree.replay(&self.cursors, &self.bufs);
        }
    }

    /// The next entry in key order.
    #[expect(
        clippy::indexing_slicing,
        reason = "the loser tree's winner is a cursor index"
    )]
    pub(crate) fn next_hit(&mut self) -> Option<Hit> {
        self.advance();
        let top = self.tree.winner(&self.cursors)?;
        self.lent = Some(top);
        if let Some(w) = &mut self.wanted {
            *w = w.saturating_sub(1);
        }
        let c = &self.cursors[top];
        let (_, key, value, expiry, kind) = c.items.get(c.pos)?;
        Some(Hit {
            buf: c.buf,
            key: key.clone(),
            value: value.clone(),
            expiry: *expiry,
            kind: *kind,
        })
    }

    /// The bytes of `range` in buffer `buf` (from a `Hit`).
    #[expect(
        clippy::indexing_slicing,
        reason = "a `Hit` names a buffer of this cursor and a range `refill` wrote into it"
    )]
    pub(crate) fn bytes(&self, buf: usize, range: Range<usize>) -> &[u8] {
        &self.bufs[buf][range]
    }

    /// The key the next call to `next_hit` would return.
    #[expect(
        clippy::indexing_slicing,
        reason = "the loser tree's winner is a cursor index"
    )]
    pub(crate) fn peek_key(&mut self) -> Option<&[u8]> {
        self.advance();
        let top = self.tree.winner(&self.cursors)?;
        Some(self.cursors[top].key(&self.bufs))
    }

    /// The batch buffers that hits refer to (with `keeping_buffers`).
    pub(crate) fn into_buffers(self) -> Vec<Vec<u8>> {
        self.bufs
    }
}

/// Entries in a key range, in key order, merged from all shards and read in
/// bounded batches. Yields owned `(key, value)` pairs; `Db::range` pages
/// avoid that per-entry allocation for bulk reads.
pub struct RangeIter<'a> {
    cursor: MergeCursor<'a>,
}

impl<'a> RangeIter<'a> {
    pub(crate) fn new(
        layouts: &'a ArcSwap<Layout>,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        now: Option<u64>,
    ) -> Self {
        Self {
            cursor: MergeCursor::new(layouts, start, end, now, None, true),
        }
    }

    /// A scan of one memtable that is never resized.
    pub(crate) fn fixed(layout: Arc<Layout>, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Self {
        Self {
            cursor: MergeCursor::fixed(layout, start, end),
        }
    }
}

impl Iterator for RangeIter<'_> {
    type Item = (Bytes, Bytes);

    fn next(&mut self) -> Option<(Bytes, Bytes)> {
        let hit = self.cursor.next_hit()?;
        let key = Bytes::copy_from_slice(self.cursor.bytes(hit.buf, hit.key));
        let value = match hit.value {
            // A collection's value is read with its type's commands.
            _ if hit.kind != ValueType::String => Bytes::new(),
            ValueAt::Buf(r) => Bytes::copy_from_slice(self.cursor.bytes(hit.buf, r)),
            ValueAt::Shared(b) => b,
            ValueAt::Stepped => Bytes::new(),
        };
        Some((key, value))
    }
}
