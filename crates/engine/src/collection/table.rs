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
mod tests {
    use super::*;

    /// Regression: fed the segment-choosing hash as it was, each segment's
    /// table saw the same low bits for every field (HSET at 0.74x Redis,
    /// memcmp 7% of a profile from probing).
    #[test]
    fn a_segment_table_places_its_fields_by_other_bits_than_the_segment() {
        let t = Table::with_capacity(SPLIT_AT * 8);
        assert_eq!(t.depth, 4);
        let in_segment_0: Vec<u64> = (0..10_000)
            .map(|i| t.hash(format!("f{i}").as_bytes()))
            .filter(|&h| t.segment_of(h) == 0)
            .collect();
        let low: std::collections::HashSet<u64> =
            in_segment_0.iter().map(|&h| Table::inner(h) & 15).collect();
        assert!(in_segment_0.len() > 100);
        assert_eq!(low.len(), 16, "slots 0-15 of the segment's table all used");
    }

    /// Regression: SPOP and SRANDMEMBER found their one pick by walking the
    /// whole table (O(size) each: redis-benchmark's SPOP on a 260K set
    /// never finished).
    #[test]
    fn a_few_picks_are_found_by_position_as_one_pass_finds_them() {
        let mut t = Table::with_capacity(0);
        for i in 0..20_000 {
            t.insert_new(format!("f{i}").as_bytes(), b"v");
        }
        let order: Vec<Pair<'_>> = t.iter().collect();
        for p in [0, 1, 3583, 3584, 9_999, 19_999] {
            assert_eq!(t.nth(p), order.get(p).copied(), "position {p}");
        }
        assert_eq!(t.nth(20_000), None);
        let few = [7, 19_999, 7];
        let want: Vec<Pair<'_>> = few.iter().map(|&p| order[p]).collect();
        assert_eq!(t.at_positions(&few), want);
        let many: Vec<usize> = (0..5000).map(|i| (i * 7) % 20_001).collect();
        let want: Vec<Pair<'_>> = many.iter().filter_map(|&p| order.get(p).copied()).collect();
        assert_eq!(t.at_positions(&many), want);
    }

    #[test]
    fn random_picks_reach_every_field_about_evenly() {
        let mut t = Table::with_capacity(0);
        let n = 10_000;
        for i in 0..n {
            t.insert_new(format!("f{i}").as_bytes(), b"v");
        }
        let mut hits = std::collections::HashMap::new();
        let mut rng = fastrand::Rng::with_seed(3);
        for _ in 0..n * 20 {
            let (f, _) = t.random(rng.u64(..)).expect("not empty");
            *hits.entry(f.to_vec()).or_insert(0u32) += 1;
        }
        assert!(
            hits.len() > n * 99 / 100,
            "{} of {n} fields picked",
            hits.len()
        );
        let most = hits.values().max().copied().unwrap_or(0);
        assert!(
            most < 100,
            "one field picked {most} times of an expected 20"
        );
        assert_eq!(Table::with_capacity(0).random(1), None);
    }

    #[test]
    fn a_scan_step_keeps_to_its_count_and_survives_splits_between_steps() {
        let mut t = Table::with_capacity(0);
        let n = SPLIT_AT * 6;
        for i in 0..n {
            t.insert_new(format!("kept{i}").as_bytes(), b"v");
            t.insert_new(format!("gone{i}").as_bytes(), b"v");
        }
        let mut seen = std::collections::HashMap::new();
        let (mut cursor, mut steps, mut added) = (0u64, 0usize, 0usize);
        loop {
            let (next, page) = t.scan(cursor, 50);
            assert!(page.len() <= 50, "{} fields in a step of 50", page.len());
            let fields: Vec<Vec<u8>> = page.iter().map(|(f, _)| f.to_vec()).collect();
            for f in fields {
                *seen.entry(f).or_insert(0u32) += 1;
            }
            steps += 1;
            // Between steps: enough new fields to split segments, and
            // some fields removed.
            for _ in 0..40 {
                t.insert_new(format!("new{added}").as_bytes(), b"v");
                added += 1;
            }
            t.remove(format!("gone{steps}").as_bytes());
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        assert!(t.segments.len() > 16, "{} segments", t.segments.len());
        for i in 0..n {
            let f = format!("kept{i}").into_bytes();
            assert_eq!(seen.get(&f), Some(&1), "kept{i}");
        }
        assert!(seen.values().all(|&k| k == 1), "a field returned twice");
        // About len/count steps, not a fixed number of passes.
        assert!(steps > 2 * n / 50 / 2, "{steps} steps");
        assert_eq!(Table::with_capacity(0).scan(0, 10), (0, Vec::new()));
    }

    #[test]
    fn set_replaces_and_remove_reports_the_value_length() {
        let mut t = Table::with_capacity(0);
        assert_eq!(t.set(b"f", b"one"), None);
        assert_eq!(t.set(b"f", b"three"), Some(3));
        assert_eq!(t.get(b"f"), Some(&b"three"[..]));
        assert_eq!(t.remove(b"f"), Some(5));
        assert_eq!(t.remove(b"f"), None);
    }

    #[test]
    fn every_field_stays_findable_while_segments_split() {
        let mut t = Table::with_capacity(0);
        let n = SPLIT_AT * 9 + 17;
        for i in 0..n {
            let f = format!("f{i}");
            assert!(t.get(f.as_bytes()).is_none());
            t.insert_new(f.as_bytes(), i.to_string().as_bytes());
            if i % 997 == 0 {
                for j in (0..=i).step_by(101) {
                    let want = j.to_string();
                    assert_eq!(t.get(format!("f{j}").as_bytes()), Some(want.as_bytes()));
                }
            }
        }
        assert_eq!(t.len(), n);
        assert!(t.segments.len() >= 9, "{} segments", t.segments.len());
        // Every segment holds between a quarter and all of `SPLIT_AT`
        // (halves start near half; hash skew allows some spread), and the
        // directory names each by its own low bits.
        for (i, seg) in t.segments.iter().enumerate() {
            assert!(seg.fields.len() <= SPLIT_AT, "segment {i} overfull");
            assert!(seg.fields.len() >= SPLIT_AT / 4, "segment {i} nearly empty");
            assert!(seg.depth <= t.depth);
        }
        for (at, &i) in t.directory.iter().enumerate() {
            let depth = t.segments[i as usize].depth;
            let mask = (1usize << depth) - 1;
            let first = t.directory.iter().position(|&j| j == i).unwrap_or(0);
            assert_eq!(at & mask, first & mask, "entry {at} of segment {i}");
        }
        assert_eq!(t.iter().count(), n);
        for i in (0..n).step_by(2) {
            assert!(t.remove(format!("f{i}").as_bytes()).is_some());
        }
        assert_eq!(t.len(), n / 2);
        for i in 0..n {
            assert_eq!(t.get(format!("f{i}").as_bytes()).is_some(), i % 2 == 1);
        }
        let loaded = Table::with_capacity(100_000);
        assert_eq!(loaded.segments.len(), 64);
        assert_eq!(loaded.directory.len(), 64);
    }
}
