//! `Table`: the hash table of a big collection, grown a small piece at a
//! time so that no single write pays for moving the whole table.
//!
//! Owns the segments and their split (linear hashing, Litwin 1980), and
//! the packing of a field with its value into one allocation (the field's
//! length, LEB128, the field, the value): one allocation and a 16-byte
//! slot a field, not two and 32.
//!
//! A field's hash picks one of `2^level` segments by its low bits, or one
//! of `2^(level+1)` if its segment has already been split this round.
//! When the table averages more than `SEGMENT_FILL` fields a segment, the
//! next segment in line is split in two: one write moves a few thousand
//! fields, never the whole table. Each segment is a small hash table of
//! its own (`hashbrown::HashTable`), whose own growth is bounded the same
//! way. Why: a single table of 10M fields doubles by copying 10M slots
//! under the shard lock (tens of milliseconds); Redis rehashes
//! incrementally for the same reason. It must never let a field be found
//! in a segment other than the one `segment_of` names. Segments are never
//! merged back when fields go (Redis shrinks its tables; Tandem does not
//! yet).

use foldhash::fast::RandomState;
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// Average fields per segment that triggers a split.
const SEGMENT_FILL: usize = 2048;

/// A field and its value in one allocation (see the module header).
type Packed = Box<[u8]>;

fn pack(field: &[u8], value: &[u8]) -> Packed {
    let mut out = Vec::with_capacity(5 + field.len() + value.len());
    let mut n = field.len();
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out.extend_from_slice(field);
    out.extend_from_slice(value);
    out.into_boxed_slice()
}

/// The field and value `pack` put together (a malformed one, which
/// `pack` never makes, reads as an empty field and value).
fn unpack(p: &[u8]) -> (&[u8], &[u8]) {
    let mut len = 0usize;
    for (i, &b) in p.iter().enumerate().take(10) {
        len |= usize::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            let rest = p.get(i + 1..).unwrap_or_default();
            return if len <= rest.len() {
                rest.split_at(len)
            } else {
                (&[], &[])
            };
        }
    }
    (&[], &[])
}

fn field_of(p: &[u8]) -> &[u8] {
    unpack(p).0
}

/// A field and its value, borrowed from the table.
pub(crate) type Pair<'a> = (&'a [u8], &'a [u8]);

/// A growing hash table of fields and values.
#[derive(Clone)]
pub(crate) struct Table {
    segments: Vec<HashTable<Packed>>,
    state: RandomState,
    /// `2^level` segments at the start of this round of splits.
    level: u32,
    /// The next segment to split; the ones before it are split.
    split: usize,
    len: usize,
}

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
        // Start with as many segments as `n` fields need, a power of two,
        // so a table loaded from disk does not split its way up.
        let wanted = (n / SEGMENT_FILL).max(1).next_power_of_two();
        let per = n.div_ceil(wanted);
        Self {
            segments: (0..wanted).map(|_| HashTable::with_capacity(per)).collect(),
            state: RandomState::default(),
            level: wanted.trailing_zeros(),
            split: 0,
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The table's hash of `field`: fixed for the table's life (HSCAN's
    /// order).
    pub(crate) fn hash(&self, field: &[u8]) -> u64 {
        self.state.hash_one(field)
    }

    /// The hash a segment's own table files `hash` under. A segment's
    /// fields all share the low bits that chose it, and the table places
    /// by its low bits too: fed the hash as it is, a segment of a
    /// 512-segment table would use one slot in 512 and probe long chains.
    fn inner(hash: u64) -> u64 {
        hash.rotate_right(32)
    }

    fn segment_of(&self, hash: u64) -> usize {
        let low = (1u64 << self.level) - 1;
        let i = (hash & low) as usize;
        if i < self.split {
            (hash & ((low << 1) | 1)) as usize
        } else {
            i
        }
    }

    pub(crate) fn get(&self, field: &[u8]) -> Option<&[u8]> {
        let h = self.hash(field);
        self.segments
            .get(self.segment_of(h))?
            .find(Self::inner(h), |p| field_of(p) == field)
            .map(|p| unpack(p).1)
    }

    /// Sets `field` to `value`: the old value's length if the field was
    /// there, `None` if it is new. One hash of the field either way.
    pub(crate) fn set(&mut self, field: &[u8], value: &[u8]) -> Option<usize> {
        let h = self.hash(field);
        let i = self.segment_of(h);
        let seg = self.segments.get_mut(i)?;
        if let Some(p) = seg.find_mut(Self::inner(h), |p| field_of(p) == field) {
            let old = unpack(p).1.len();
            *p = pack(field, value);
            return Some(old);
        }
        self.add(h, pack(field, value));
        None
    }

    /// Adds a field that is not in the table (the caller checked).
    pub(crate) fn insert_new(&mut self, field: &[u8], value: &[u8]) {
        let h = self.hash(field);
        self.add(h, pack(field, value));
    }

    fn add(&mut self, h: u64, packed: Packed) {
        let i = self.segment_of(h);
        let state = self.state;
        if let Some(seg) = self.segments.get_mut(i) {
            let rehash = |p: &Packed| Self::inner(state.hash_one(field_of(p)));
            seg.insert_unique(Self::inner(h), packed, rehash);
            self.len += 1;
        }
        if self.len > self.segments.len() * SEGMENT_FILL {
            self.split_one();
        }
    }

    /// Removes `field`: its value's length if it was there.
    pub(crate) fn remove(&mut self, field: &[u8]) -> Option<usize> {
        let h = self.hash(field);
        let i = self.segment_of(h);
        let seg = self.segments.get_mut(i)?;
        let found = seg.find_entry(Self::inner(h), |p| field_of(p) == field);
        let (packed, _) = found.ok()?.remove();
        self.len -= 1;
        Some(unpack(&packed).1.len())
    }

    /// Splits the next segment in line: its fields whose hash has bit
    /// `level` set move to a new segment at the end.
    fn split_one(&mut self) {
        let bit = 1u64 << self.level;
        let state = self.state;
        let rehash = |p: &Packed| Self::inner(state.hash_one(field_of(p)));
        let mut moved = HashTable::new();
        if let Some(seg) = self.segments.get_mut(self.split) {
            for packed in seg.extract_if(|p| state.hash_one(field_of(p)) & bit != 0) {
                moved.insert_unique(rehash(&packed), packed, rehash);
            }
            seg.shrink_to_fit(rehash);
        }
        self.segments.push(moved);
        self.split += 1;
        if self.split == 1 << self.level {
            self.level += 1;
            self.split = 0;
        }
    }

    /// Every field and value, segment by segment.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.segments
            .iter()
            .flat_map(|s| s.iter().map(|p| unpack(p)))
    }

    /// One scan step from `cursor` (0 to start), asking for about `count`
    /// fields: this step's fields and values and the next cursor (0 when
    /// done). It walks the fields in the order of the table's own hash of
    /// each (fixed for the table's life, so a field present throughout a
    /// scan is returned exactly once); the cursor is the next hash to start
    /// from. Each step covers a slice of the hash space sized to hold
    /// `count` fields on average, and at least 1/64 of it, so a whole scan
    /// costs at most 64 passes over the table.
    pub(crate) fn scan(&self, cursor: u64, count: usize) -> (u64, Vec<Pair<'_>>) {
        let n = self.len().max(1) as u128;
        let share = (count.max(1) as u128).min(n);
        let span = ((u128::from(u64::MAX) + 1) * share / n).max(1 << 58);
        let end = u128::from(cursor) + span;
        let mut page: Vec<Pair<'_>> = self
            .iter()
            .filter(|(f, _)| {
                let h = u128::from(self.hash(f));
                h >= u128::from(cursor) && h < end
            })
            .collect();
        page.sort_unstable_by_key(|(f, _)| self.hash(f));
        let next = u64::try_from(end).unwrap_or(0);
        (next, page)
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
        let t = Table::with_capacity(SEGMENT_FILL * 16);
        assert_eq!(t.level, 4);
        let in_segment_0: Vec<u64> = (0..10_000)
            .map(|i| t.hash(format!("f{i}").as_bytes()))
            .filter(|&h| t.segment_of(h) == 0)
            .collect();
        let low: std::collections::HashSet<u64> =
            in_segment_0.iter().map(|&h| Table::inner(h) & 15).collect();
        assert!(in_segment_0.len() > 100);
        assert_eq!(low.len(), 16, "slots 0-15 of the segment's table all used");
    }

    #[test]
    fn a_field_and_its_value_pack_into_one_slice_and_back() {
        for (f, v) in [
            (&b""[..], &b""[..]),
            (b"f", b"value"),
            (&[7u8; 300][..], &[0u8; 3][..]),
        ] {
            assert_eq!(unpack(&pack(f, v)), (f, v));
        }
        assert_eq!(
            unpack(&[0x80]),
            (&b""[..], &b""[..]),
            "malformed: empty, no panic"
        );
        assert_eq!(unpack(&[5, b'a']), (&b""[..], &b""[..]));
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
        let n = SEGMENT_FILL * 9 + 17;
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
    }
}
