//! `Table`: the hash table of a big collection, grown a small piece at a
//! time so that no single write pays for moving the whole table.
//!
//! Owns the segments and their split (extendible hashing, Fagin et al.
//! 1979). Each field is packed with its value in one allocation behind an
//! 8-byte slot (`Packed`).
//!
//! A directory of `2^depth` entries maps the low `depth` bits of a field's
//! hash to a segment; a segment of local depth `d` is named by the
//! `2^(depth-d)` entries that share its low `d` bits. Each segment is a
//! small hash table of its own (`hashbrown::HashTable`). When a segment
//! holds `SPLIT_AT` fields (7/8 of a 4,096-slot table), the next insert
//! into it first splits it in two by bit `d`, each half rebuilt in a table
//! of that size, so one write moves at most `SPLIT_AT` fields (and, when
//! the directory must double, copies its few thousand entries); never the
//! whole table. Why: a single table of 10M fields doubles by copying 10M
//! slots under the shard lock (tens of milliseconds); Redis rehashes
//! incrementally for the same reason. Why not linear hashing (this
//! table's first design): it splits segments in a fixed order, not the
//! full ones, so tables ran half empty (2.1 slots a field); here every
//! segment lives between half and 7/8 full. It must never let a field be
//! found in a segment other than the one `segment_of` names. Segments are
//! never merged back when fields go (Redis shrinks its tables; Tandem does
//! not yet).

use foldhash::fast::RandomState;
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// Fields a segment holds before the next insert into it splits it: 7/8
/// of a 4,096-slot table, hashbrown's most before it would double.
const SPLIT_AT: usize = 3584;

use super::packed::Packed;

/// The most segments one scan step reads.
const MOST_SEGMENTS_A_STEP: usize = 8;

fn field_of(p: &Packed) -> &[u8] {
    p.field()
}

/// A field and its value, borrowed from the table.
pub(crate) type Pair<'a> = (&'a [u8], &'a [u8]);

/// One segment: a small table and the number of low hash bits all its
/// fields share.
#[derive(Clone)]
struct Segment {
    fields: HashTable<Packed>,
    depth: u32,
}

/// A growing hash table of fields and values.
#[derive(Clone)]
pub(crate) struct Table {
    segments: Vec<Segment>,
    /// Segment index by the low `depth` bits of a field's hash.
    directory: Vec<u32>,
    depth: u32,
    state: RandomState,
    len: usize,
    /// Bytes of fields and values held, with `SLOT_BYTES` for each.
    bytes: usize,
}

/// Per-field overhead counted on top of its field's and value's bytes:
/// its 8-byte slot and control byte (about two of each a field, between
/// splits), and the allocation's lengths and rounding.
const SLOT_BYTES: usize = 24;

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("len", &self.len)
            .field("segments", &self.segments.len())
            .finish()
    }
}

impl Table {
    /// An empty table expecting about `n` fields.
    pub(crate) fn with_capacity(n: usize) -> Self {
        // As many segments as `n` fields need at half of `SPLIT_AT` each,
        // a power of two, so a table loaded from disk does not split its
        // way up, nor sits in tables twice the size it needs.
        let wanted = n.div_ceil(SPLIT_AT / 2).max(1).next_power_of_two();
        let per = n.div_ceil(wanted);
        let depth = wanted.trailing_zeros();
        Self {
            segments: (0..wanted)
                .map(|_| Segment {
                    fields: HashTable::with_capacity(per),
                    depth,
                })
                .collect(),
            directory: (0..wanted).map(|i| i as u32).collect(),
            depth,
            state: RandomState::default(),
            len: 0,
            bytes: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Approximate heap bytes held (O(1)).
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// The table's hash of `field`: fixed for the table's life (HSCAN's
    /// order).
    pub(crate) fn hash(&self, field: &[u8]) -> u64 {
        self.state.hash_one(field)
    }

    /// Names this table's scan order: tables whose orders differ (their
    /// hashes differ) answer different numbers but for a 2^-64 chance. A
    /// copy in steps (`stepped`) checks it at each step, because a cursor
    /// of one order may return a field twice in another.
    pub(crate) fn order_id(&self) -> u64 {
        self.hash(b"tandem: the order of this table")
    }

    /// The hash a segment's own table files `hash` under. A segment's
    /// fields all share the low bits that chose it, and the table places
    /// by its low bits too: fed the hash as it is, a segment of a
    /// 512-segment table would use one slot in 512 and probe long chains.
    fn inner(hash: u64) -> u64 {
        hash.rotate_right(32)
    }

    fn segment_of(&self, hash: u64) -> usize {
        let low = (1u64 << self.depth) - 1;
        let at = (hash & low) as usize;
        self.directory.get(at).map_or(0, |&i| i as usize)
    }

    pub(crate) fn get(&self, field: &[u8]) -> Option<&[u8]> {
        let h = self.hash(field);
        self.segments
            .get(self.segment_of(h))?
            .fields
            .find(Self::inner(h), |p| field_of(p) == field)
            .map(|p| p.get().1)
    }

    /// Sets `field` to `value`: the old value's length if the field was
    /// there, `None` if it is new. One hash of the field either way.
    pub(crate) fn set(&mut self, field: &[u8], value: &[u8]) -> Option<usize> {
        let h = self.hash(field);
        let i = self.segment_of(h);
        let seg = &mut self.segments.get_mut(i)?.fields;
        if let Some(p) = seg.find_mut(Self::inner(h), |p| field_of(p) == field) {
            let old = p.get().1.len();
            *p = Packed::new(field, value);
            self.bytes = self.bytes - old + value.len();
            return Some(old);
        }
        self.add(h, Packed::new(field, value));
        None
    }

    /// Adds a field that is not in the table (the caller checked).
    pub(crate) fn insert_new(&mut self, field: &[u8], value: &[u8]) {
        let h = self.hash(field);
        self.add(h, Packed::new(field, value));
    }

    fn add(&mut self, h: u64, packed: Packed) {
        let mut i = self.segment_of(h);
        if self
            .segments
            .get(i)
            .is_some_and(|s| s.fields.len() >= SPLIT_AT)
        {
            self.split(i);
            i = self.segment_of(h);
        }
        let state = self.state;
        if let Some(seg) = self.segments.get_mut(i) {
            let rehash = |p: &Packed| Self::inner(state.hash_one(field_of(p)));
            let (f, v) = packed.get();
            self.bytes += SLOT_BYTES + f.len() + v.len();
            seg.fields.insert_unique(Self::inner(h), packed, rehash);
            self.len += 1;
        }
    }

    /// Removes `field`: its value's length if it was there.
    pub(crate) fn remove(&mut self, field: &[u8]) -> Option<usize> {
        let h = self.hash(field);
        let i = self.segment_of(h);
        let seg = &mut self.segments.get_mut(i)?.fields;
        let found = seg.find_entry(Self::inner(h), |p| field_of(p) == field);
        let (packed, _) = found.ok()?.remove();
        self.len -= 1;
        let (f, v) = packed.get();
        self.bytes -= SLOT_BYTES + f.len() + v.len();
        Some(v.len())
    }

    /// Splits segment `i` in two by the next bit of the hash: its fields
    /// with that bit set move to a new segment, and both halves are
    /// rebuilt in tables sized for `SPLIT_AT`, without tombstones. The
    /// directory doubles first if the segment already uses all its bits.
    fn split(&mut self, i: usize) {
        let Some(depth) = self.segments.get(i).map(|s| s.depth) else {
            return;
        };
        if depth == self.depth {
            self.directory.extend_from_within(..);
            self.depth += 1;
        }
        let bit = 1u64 << depth;
        let state = self.state;
        let rehash = |p: &Packed| Self::inner(state.hash_one(field_of(p)));
        let mut kept = HashTable::with_capacity(SPLIT_AT);
        let mut moved = HashTable::with_capacity(SPLIT_AT);
        if let Some(seg) = self.segments.get_mut(i) {
            for packed in seg.fields.drain() {
                let h = state.hash_one(field_of(&packed));
                let half = if h & bit == 0 { &mut kept } else { &mut moved };
                half.insert_unique(Self::inner(h), packed, rehash);
            }
            seg.fields = kept;
            seg.depth = depth + 1;
        }
        let new = u32::try_from(self.segments.len()).unwrap_or(u32::MAX);
        self.segments.push(Segment {
            fields: moved,
            depth: depth + 1,
        });
        for (at, entry) in self.directory.iter_mut().enumerate() {
            if *entry as usize == i && (at as u64) & bit != 0 {
                *entry = new;
            }
        }
    }

    /// Every field and value, segment by segment.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.segments
            .iter()
            .flat_map(|s| s.fields.iter().map(Packed::get))
    }

    /// The field at position `i` of `iter`'s order: found by walking the
    /// segments' sizes, then within one segment, so O(segments + a
    /// segment), not O(len).
    fn nth(&self, mut i: usize) -> Option<Pair<'_>> {
        for seg in &self.segments {
            let n = seg.fields.len();
            if i < n {
                return seg.fields.iter().nth(i).map(Packed::get);
            }
            i -= n;
        }
        None
    }

    /// A field picked at random from the bits of `r`: a directory entry,
    /// then slots of that segment's table until one is occupied (as
    /// Redis's `dictGetRandomKey` samples buckets). Each segment is picked
    /// by its share of the hash space, about its share of the fields.
    pub(crate) fn random(&self, r: u64) -> Option<Pair<'_>> {
        if self.len == 0 {
            return None;
        }
        let mut x = r;
        for _ in 0..64 {
            // splitmix64: fresh bits for each try.
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            let entry = (z as usize) % self.directory.len().max(1);
            let Some(seg) = self
                .directory
                .get(entry)
                .and_then(|&i| self.segments.get(i as usize))
            else {
                continue;
            };
            let buckets = seg.fields.num_buckets();
            if seg.fields.is_empty() || buckets == 0 {
                continue;
            }
            if let Some(p) = seg.fields.get_bucket(((z >> 32) as usize) % buckets) {
                return Some(p.get());
            }
        }
        // Unlucky, or a table of mostly empty segments: a position.
        self.nth((r as usize) % self.len)
    }

    /// The fields at `positions` of `iter`'s order, in the order asked
    /// (repeats allowed; positions past the end skipped): each found
    /// alone when there are few, in one pass over the table when there
    /// are many (HRANDFIELD, SRANDMEMBER, SPOP).
    pub(crate) fn at_positions(&self, positions: &[usize]) -> Vec<Pair<'_>> {
        let each = self.segments.len() + SPLIT_AT / 2;
        if positions.len().saturating_mul(each) < self.len {
            positions.iter().filter_map(|&p| self.nth(p)).collect()
        } else {
            super::at_positions(self.iter(), positions)
        }
    }

    /// Copies whole segments in scan order from `cursor` (0 to start, then
    /// what the last call returned), handing each field and value to `f`,
    /// until at least `want` fields went: the next cursor, 0 when done.
    /// The same order and guarantee as `scan` (a field is handed over at
    /// most once, however segments split between calls), but a segment's
    /// run goes whole, so a call neither hashes nor sorts: it costs the
    /// fields it copies (a snapshot's copy, `stepped`). A cursor inside a
    /// run (from another table of the same order, split differently) is
    /// met by filtering that run by hash.
    pub(crate) fn copy_runs(&self, cursor: u64, want: usize, mut f: impl FnMut(Pair<'_>)) -> u64 {
        let mut at = cursor;
        let mut copied = 0;
        loop {
            let Some(seg) = self.segments.get(self.segment_of(at.reverse_bits())) else {
                return 0;
            };
            let span = 1u128 << (64 - seg.depth.min(64));
            let start = u128::from(at) & !(span - 1);
            if start == u128::from(at) {
                seg.fields.iter().for_each(|p| f(p.get()));
                copied += seg.fields.len();
            } else {
                for pair in seg.fields.iter().map(Packed::get) {
                    if self.hash(pair.0).reverse_bits() >= at {
                        f(pair);
                        copied += 1;
                    }
                }
            }
            let Ok(next) = u64::try_from(start + span) else {
                return 0;
            };
            at = next;
            if copied >= want {
                return at;
            }
        }
    }

    /// One scan step from `cursor` (0 to start), asking for about `count`
    /// fields: this step's fields and values and the next cursor (0 when
    /// done). Fields come in the order of their hash's bits reversed (the
    /// table's own hash, fixed for its life), and the cursor is the
    /// reversed hash to go on from: every field present throughout a scan
    /// is returned exactly once, however segments split between steps.
    /// In that order each segment holds one contiguous run (it is named by
    /// the hash's low bits, the order's high ones), so a step reads only
    /// the segments its run of fields lies in: O(a segment) per step, never
    /// O(len), whatever the table's size (Redis's reverse-binary cursor,
    /// on extendible hashing).
    pub(crate) fn scan(&self, cursor: u64, count: usize) -> (u64, Vec<Pair<'_>>) {
        let want = count.max(1);
        let mut page: Vec<Pair<'_>> = Vec::new();
        let mut at = cursor;
        // Segments emptied by deletes stay (they are never merged): a step
        // reads a few at most, and may come back short, as Redis's does
        // after enough empty buckets.
        for _ in 0..MOST_SEGMENTS_A_STEP {
            let hash = at.reverse_bits();
            let Some(seg) = self.segments.get(self.segment_of(hash)) else {
                return (0, page);
            };
            // The segment's run: the reversed hashes whose top `depth`
            // bits are this segment's low hash bits.
            let span = 1u128 << (64 - seg.depth.min(64));
            let start = u128::from(at) & !(span - 1);
            let end = start + span;
            let mut run: Vec<(u64, Pair<'_>)> = seg
                .fields
                .iter()
                .map(|p| {
                    let pair = p.get();
                    (self.hash(pair.0).reverse_bits(), pair)
                })
                .filter(|&(r, _)| r >= at)
                .collect();
            run.sort_unstable_by_key(|&(r, _)| r);
            let room = want - page.len().min(want);
            if run.len() > room {
                // Stop inside the run, between two distinct hashes.
                let mut cut = room.max(1);
                let next = run.get(cut).map_or(0, |&(r, _)| r);
                while cut > 0 && run.get(cut - 1).is_some_and(|&(r, _)| r == next) {
                    cut -= 1;
                }
                if cut > 0 {
                    page.extend(run.into_iter().take(cut).map(|(_, p)| p));
                    return (next, page);
                }
                // Every field here shares one hash (never in practice):
                // the whole run goes in this step.
            }
            page.extend(run.into_iter().map(|(_, p)| p));
            let Ok(next) = u64::try_from(end) else {
                return (0, page);
            };
            at = next;
            if page.len() >= want {
                break;
            }
        }
        (at, page)
    }
}

#[cfg(test)]
mod tests;
