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

use crate::entry::Parts;
use crate::keyspace::{Keyspace, Layout, Unit};
use crate::memtable::common_prefix;
use bytes::Bytes;
use smallvec::SmallVec;
use std::ops::{Bound, Range};
use std::sync::Arc;

/// Most entries copied from one shard per lock acquisition.
const MAX_BATCH: usize = 512;
/// Most inline bytes copied from one shard per lock acquisition.
const MAX_BATCH_BYTES: usize = 256 * 1024;
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

/// Borrows an owned bound.
fn bound_ref(b: &Bound<Box<[u8]>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(k) => Bound::Included(k),
        Bound::Excluded(k) => Bound::Excluded(k),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// Copies a borrowed bound.
fn bound_owned(b: Bound<&[u8]>) -> Bound<Box<[u8]>> {
    b.map(Box::from)
}

/// Where a batched entry's value lives.
#[derive(Clone)]
pub(crate) enum ValueAt {
    /// In the entry's batch buffer.
    Buf(Range<usize>),
    /// A large value's own shared buffer (cloning it is one increment,
    /// far cheaper than copying kilobytes).
    Shared(Bytes),
}

/// One merged entry: where its bytes are in the cursor's buffers. Valid
/// until the next call to `MergeCursor::next_hit`, or for good when the
/// cursor keeps its buffers.
pub(crate) struct Hit {
    pub(crate) buf: usize,
    pub(crate) key: Range<usize>,
    pub(crate) value: ValueAt,
}

/// The read position in one unit of the layout (see `keyspace::Unit`),
/// with the entries last copied from it.
struct ShardCursor {
    unit: Unit,
    /// Where the next batch starts.
    from: Bound<Box<[u8]>>,
    /// Whether the unit holds nothing past the current batch.
    exhausted: bool,
    /// Index of this cursor's current batch buffer in `MergeCursor::bufs`.
    buf: usize,
    /// (key window, key, value) per copied entry; see `LoserTree`.
    items: Vec<(u64, Range<usize>, ValueAt)>,
    pos: usize,
    batch_size: usize,
}

impl ShardCursor {
    fn has_item(&self) -> bool {
        self.pos < self.items.len()
    }

    fn key<'b>(&self, bufs: &'b [Vec<u8>]) -> &'b [u8] {
        match self.items.get(self.pos) {
            Some((_, k, _)) => &bufs[self.buf][k.clone()],
            None => &[],
        }
    }

    fn window(&self) -> u64 {
        self.items.get(self.pos).map_or(0, |i| i.0)
    }

    /// Recomputes the windows of the entries not yet consumed.
    fn rewindow(&mut self, bufs: &[Vec<u8>], offset: usize) {
        let buf = &bufs[self.buf];
        for item in &mut self.items[self.pos..] {
            item.0 = window(&buf[item.1.clone()], offset);
        }
    }
}

/// The layout moved on while a scan was reading it: a newer resize froze
/// the memtable the scan took for active, so keys may be moving to places
/// the scan's units do not cover.
struct Stale;

/// Copies the next batch of `cursor`'s unit into `buf`, skipping expired
/// entries. The unit's shards are read-locked together, active ones first,
/// so no key can move between them while the batch is read.
fn refill(
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
                expiry,
            } = entry.parts();
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
            let value = match shared {
                _ if !scan.values => ValueAt::Buf(0..0),
                Some(b) => ValueAt::Shared(b.clone()),
                None => {
                    let at = buf.len();
                    buf.extend_from_slice(inline);
                    ValueAt::Buf(at..buf.len())
                }
            };
            cursor.items.push((0, key, value));
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
fn window(key: &[u8], offset: usize) -> u64 {
    let mut b = [0u8; 8];
    if let Some(rest) = key.get(offset..) {
        let n = rest.len().min(8);
        b[..n].copy_from_slice(&rest[..n]);
    }
    u64::from_be_bytes(b)
}

/// A loser tree (tournament tree) over the cursors, ordered by each
/// cursor's current key; a cursor with nothing left counts as +infinity.
/// Taking the smallest key and replaying its cursor costs one comparison
/// per level, log2(cursors), half a binary heap's sift-down. Each leaf's
/// current key window (see `MergeCursor::offset`) sits in one flat array,
/// so a comparison is one integer comparison unless the windows are equal.
#[derive(Default)]
struct LoserTree {
    /// Leaves, rounded up to a power of two (the padding is +infinity).
    k: usize,
    /// `nodes[0]` is the winner; `nodes[1..k]` hold each match's loser.
    nodes: Vec<usize>,
    /// The current key window of every leaf, `u64::MAX` when it has none.
    windows: Vec<u64>,
}

impl LoserTree {
    /// Whether leaf `a`'s current key sorts before leaf `b`'s.
    #[inline]
    fn before(&self, a: usize, b: usize, cursors: &[ShardCursor], bufs: &[Vec<u8>]) -> bool {
        let (wa, wb) = (self.windows[a], self.windows[b]);
        if wa != wb {
            return wa < wb;
        }
        // Equal windows: an exhausted leaf or padding is larger than any
        // key; two keys compare in full.
        let live = |i: usize| cursors.get(i).filter(|c| c.has_item());
        match (live(a), live(b)) {
            (Some(ca), Some(cb)) => ca.key(bufs) < cb.key(bufs),
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    /// Re-reads leaf `i`'s window from its cursor.
    fn refresh(&mut self, i: usize, cursors: &[ShardCursor]) {
        self.windows[i] = match cursors.get(i) {
            Some(c) if c.has_item() => c.window(),
            _ => u64::MAX,
        };
    }

    /// Refreshes every window (after the window offset changed).
    fn refresh_all(&mut self, cursors: &[ShardCursor]) {
        for i in 0..cursors.len().min(self.windows.len()) {
            self.refresh(i, cursors);
        }
    }

    /// Plays every match from scratch.
    fn build(&mut self, cursors: &[ShardCursor], bufs: &[Vec<u8>]) {
        self.k = cursors.len().max(1).next_power_of_two();
        self.nodes = vec![0; self.k];
        self.windows = vec![u64::MAX; self.k];
        self.refresh_all(cursors);
        // winners[i] for the subtree rooted at i, leaves at k..2k.
        let mut winners: Vec<usize> = vec![0; 2 * self.k];
        for (leaf, w) in winners[self.k..].iter_mut().enumerate() {
            *w = leaf;
        }
        for node in (1..self.k).rev() {
            let (l, r) = (winners[2 * node], winners[2 * node + 1]);
            let (win, lose) = if self.before(r, l, cursors, bufs) {
                (r, l)
            } else {
                (l, r)
            };
            winners[node] = win;
            self.nodes[node] = lose;
        }
        self.nodes[0] = winners[1];
    }

    /// The cursor with the smallest key, if any has one.
    fn winner(&self, cursors: &[ShardCursor]) -> Option<usize> {
        let w = *self.nodes.first()?;
        cursors.get(w).filter(|c| c.has_item()).map(|_| w)
    }

    /// Replays the matches on the winner's path after its cursor moved.
    fn replay(&mut self, cursors: &[ShardCursor], bufs: &[Vec<u8>]) {
        let Some(&popped) = self.nodes.first() else {
            return;
        };
        self.refresh(popped, cursors);
        let mut winner = popped;
        let mut node = (popped + self.k) / 2;
        while node > 0 {
            let other = self.nodes[node];
            if self.before(other, winner, cursors, bufs) {
                self.nodes[node] = winner;
                winner = other;
            }
            node /= 2;
        }
        self.nodes[0] = winner;
    }
}

/// What a merge reads: up to where, as of when, and whether values are
/// wanted.
struct ScanSpec {
    end: Bound<Box<[u8]>>,
    now: Option<u64>,
    values: bool,
}

/// The merged, ordered stream of entries in a key range.
///
/// Two ways to hold the copied bytes: a streaming scan reuses one buffer
/// per shard (`keep = false`), so its memory stays bounded; a page keeps
/// every batch buffer (`keep = true`) and becomes their owner, so each
/// entry is copied once, from its block into a batch, and never again.
pub(crate) struct MergeCursor<'a> {
    /// Where layouts come from: a keyspace's current one, or one fixed
    /// layout (a standalone memtable, which never goes stale).
    ks: Option<&'a Keyspace>,
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
        ks: &'a Keyspace,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        now: Option<u64>,
        limit: Option<usize>,
        values: bool,
    ) -> Self {
        Self::over(Some(ks), ks.layout(), start, end, now, limit, values)
    }

    /// A scan of one fixed layout.
    pub(crate) fn fixed(layout: Arc<Layout>, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Self {
        Self::over(None, layout, start, end, None, None, true)
    }

    fn over(
        ks: Option<&'a Keyspace>,
        layout: Arc<Layout>,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        now: Option<u64>,
        limit: Option<usize>,
        values: bool,
    ) -> Self {
        let mut cursor = Self {
            ks,
            layout,
            start: bound_owned(start),
            spec: ScanSpec {
                end: bound_owned(end),
                now,
                values,
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
        if let Some(ks) = self.ks {
            self.layout = ks.layout();
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
                if let Some((_, k, _)) = cursor.items.get(last) {
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
    pub(crate) fn next_hit(&mut self) -> Option<Hit> {
        self.advance();
        let top = self.tree.winner(&self.cursors)?;
        self.lent = Some(top);
        if let Some(w) = &mut self.wanted {
            *w = w.saturating_sub(1);
        }
        let c = &self.cursors[top];
        let (_, key, value) = c.items.get(c.pos)?;
        Some(Hit {
            buf: c.buf,
            key: key.clone(),
            value: value.clone(),
        })
    }

    /// The bytes of `range` in buffer `buf` (from a `Hit`).
    pub(crate) fn bytes(&self, buf: usize, range: Range<usize>) -> &[u8] {
        &self.bufs[buf][range]
    }

    /// The key the next call to `next_hit` would return.
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
        ks: &'a Keyspace,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        now: Option<u64>,
    ) -> Self {
        Self {
            cursor: MergeCursor::new(ks, start, end, now, None, true),
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
            ValueAt::Buf(r) => Bytes::copy_from_slice(self.cursor.bytes(hit.buf, r)),
            ValueAt::Shared(b) => b,
        };
        Some((key, value))
    }
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
