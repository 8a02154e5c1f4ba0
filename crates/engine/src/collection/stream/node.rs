//! `Node`: a run of stream entries in one compact buffer, as Redis keeps
//! a run in one listpack under one radix-tree key.
//!
//! Owns the buffer's layout, appending, marking an entry deleted, walking
//! entries either way, and the size Redis's listpack for the same run
//! would have (`lp_bytes`), which decides where a node ends exactly where
//! Redis's would: approximate trimming (`~`) removes whole nodes, so the
//! boundaries must be Redis's for the results to be. It must never panic
//! on a buffer read from disk: `check` walks one before it is trusted.
//!
//! Layout, integers LEB128: the master fields (count, then each field's
//! length and bytes: the first entry's fields, which later entries with
//! the same fields omit), then per entry: a flags byte (`DELETED`,
//! `SAME_FIELDS`), the ms difference from the node's first ID, the
//! sequence difference (zigzag, as it may be negative), then either the
//! values alone (same fields) or a field count and each field and value.

use super::id::StreamId;
use crate::collection::codec::{put_bytes, put_varint, unzigzag, zigzag, BadValue, Reader};
use bytes::Bytes;

/// An entry's flag: deleted, kept as a tombstone as Redis keeps it.
pub(super) const DELETED: u8 = 1;
/// An entry's flag: its fields are the master fields.
pub(super) const SAME_FIELDS: u8 = 2;

/// A listpack's header and end byte.
const LP_OVERHEAD: usize = 7;

/// The bytes a listpack element takes for an integer (Redis's
/// `lpEncodeIntegerGetType`), its back-length included.
fn lp_int(v: i64) -> usize {
    let body = if (0..=127).contains(&v) {
        1
    } else if (-4096..=4095).contains(&v) {
        2
    } else if i16::try_from(v).is_ok() {
        3
    } else if (-8_388_608..=8_388_607).contains(&v) {
        4
    } else if i32::try_from(v).is_ok() {
        5
    } else {
        9
    };
    body + backlen(body)
}

/// The bytes a listpack element takes for `s`: as an integer when it is
/// one in canonical form (as `lpAppend` stores it), else as a string.
fn lp_str(s: &[u8]) -> usize {
    if s.len() <= 20 {
        if let Some(v) = crate::numeric::parse_i64(s) {
            return lp_int(v);
        }
    }
    let body = s.len()
        + match s.len() {
            0..=63 => 1,
            64..=4095 => 2,
            _ => 5,
        };
    body + backlen(body)
}

/// `lpEncodeBacklen`'s length for an element of `body` bytes.
fn backlen(body: usize) -> usize {
    match body {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

fn count_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// What a read of one node shares between its entries: the master
/// fields, copied once.
#[derive(Debug, Default)]
pub(super) struct Shared {
    master: Option<Vec<Bytes>>,
}

/// One entry as read from a node.
#[derive(Debug, Clone, Copy)]
pub(super) struct RawEntry<'a> {
    pub(super) id: StreamId,
    pub(super) flags: u8,
    /// Where its flags byte is in the node's buffer.
    pub(super) at: usize,
    /// Its fields and values: interleaved when `fields` is empty.
    body: &'a [u8],
    /// How many field-value pairs it has.
    pub(super) pairs: usize,
    same: bool,
}

/// A run of entries (see the module header).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Node {
    data: Vec<u8>,
    /// The first ID: the key the node is kept under.
    first: StreamId,
    /// The last entry's ID (deleted or not).
    last: StreamId,
    /// Where the last entry's flags byte is (0: no entry yet).
    last_at: usize,
    /// Where the entries begin, after the master fields.
    start: usize,
    /// How many master fields.
    master_fields: usize,
    pub(super) live: usize,
    pub(super) deleted: usize,
    /// Redis's listpack size for the same run, less its two counters
    /// (whose size changes with them).
    lp_rest: usize,
}

impl Node {
    /// A node holding one entry, `id` with `pairs` (field, value, ...),
    /// whose fields become the master fields.
    pub(super) fn new(id: StreamId, pairs: &[&[u8]]) -> Self {
        let fields: Vec<&[u8]> = pairs.iter().step_by(2).copied().collect();
        let mut node = Self::with_master(id, &fields);
        node.push(id, pairs);
        node
    }

    /// An empty node for entries from `first` on, with `master` fields
    /// (its first entry's, in every node Redis writes).
    pub(super) fn with_master(first: StreamId, master: &[&[u8]]) -> Self {
        let mut data = Vec::new();
        put_varint(&mut data, master.len() as u64);
        let mut lp_rest = LP_OVERHEAD + lp_int(count_i64(master.len())) + lp_int(0);
        for field in master {
            put_bytes(&mut data, field);
            lp_rest += lp_str(field);
        }
        let start = data.len();
        Self {
            data,
            first,
            last: first,
            last_at: 0,
            start,
            master_fields: master.len(),
            live: 0,
            deleted: 0,
            lp_rest,
        }
    }

    /// The master fields.
    pub(super) fn master_fields(&self) -> Vec<&[u8]> {
        self.master().collect()
    }

    /// `e`'s fields and values, interleaved, borrowed.
    pub(super) fn pair_refs<'a>(&'a self, e: &RawEntry<'a>) -> Vec<&'a [u8]> {
        let mut out = Vec::with_capacity(e.pairs * 2);
        let mut r = Reader { rest: e.body };
        if e.same {
            for field in self.master() {
                let Ok(value) = r.bytes() else { break };
                out.push(field);
                out.push(value);
            }
        } else {
            for _ in 0..e.pairs * 2 {
                let Ok(part) = r.bytes() else { break };
                out.push(part);
            }
        }
        out
    }

    /// Appends entry `id` as described: with its fields left out when
    /// `same` (which they must then be: false if not).
    pub(super) fn push_as(&mut self, id: StreamId, pairs: &[&[u8]], same: bool) -> bool {
        if same && !self.same_fields(pairs) {
            return false;
        }
        self.push_flagged(id, pairs, same);
        true
    }

    /// The last entry's ID, if it is live: read in place, no walk.
    pub(super) fn last_if_live(&self) -> Option<StreamId> {
        let flags = self.data.get(self.last_at)?;
        (self.live > 0 && self.last_at >= self.start && flags & DELETED == 0).then_some(self.last)
    }

    /// Marks the last entry deleted.
    pub(super) fn delete_last(&mut self) {
        if let Some(at) = self.iter().last().map(|e| e.at) {
            self.mark_deleted(at);
        }
    }

    pub(super) fn first(&self) -> StreamId {
        self.first
    }

    pub(super) fn last(&self) -> StreamId {
        self.last
    }

    /// Heap bytes held.
    pub(super) fn footprint(&self) -> usize {
        self.data.capacity() + std::mem::size_of::<Self>()
    }

    /// Redis's `lpBytes` for the listpack holding the same run.
    pub(super) fn lp_bytes(&self) -> usize {
        self.lp_rest + lp_int(count_i64(self.live)) + lp_int(count_i64(self.deleted))
    }

    /// Entries held, deleted ones included.
    pub(super) fn entries(&self) -> usize {
        self.live + self.deleted
    }

    /// Frees the spare capacity a full node no longer needs.
    pub(super) fn seal(&mut self) {
        self.data.shrink_to_fit();
    }

    /// The master fields, in order.
    fn master(&self) -> impl Iterator<Item = &[u8]> {
        let mut r = Reader {
            rest: self.data.get(..self.start).unwrap_or_default(),
        };
        let n = r.varint().unwrap_or(0);
        (0..n).map_while(move |_| r.bytes().ok())
    }

    /// Whether `pairs`' fields are the master fields, in order.
    fn same_fields(&self, pairs: &[&[u8]]) -> bool {
        pairs.len() / 2 == self.master_fields
            && self
                .master()
                .zip(pairs.iter().step_by(2))
                .all(|(m, f)| m == *f)
    }

    /// Appends entry `id` (greater than every ID here) with `pairs`.
    pub(super) fn push(&mut self, id: StreamId, pairs: &[&[u8]]) {
        let same = self.same_fields(pairs);
        self.push_flagged(id, pairs, same);
    }

    fn push_flagged(&mut self, id: StreamId, pairs: &[&[u8]], same: bool) {
        self.last_at = self.data.len();
        let ms = id.ms.wrapping_sub(self.first.ms);
        let seq = id.seq.wrapping_sub(self.first.seq) as i64;
        self.data.push(if same { SAME_FIELDS } else { 0 });
        put_varint(&mut self.data, ms);
        put_varint(&mut self.data, zigzag(seq));
        let n = pairs.len() / 2;
        let mut lp =
            lp_int(i64::from(if same { SAME_FIELDS } else { 0 })) + lp_int(ms as i64) + lp_int(seq);
        if same {
            for value in pairs.iter().skip(1).step_by(2) {
                put_bytes(&mut self.data, value);
                lp += lp_str(value);
            }
            lp += lp_int(count_i64(n + 3));
        } else {
            put_varint(&mut self.data, n as u64);
            for part in pairs {
                put_bytes(&mut self.data, part);
                lp += lp_str(part);
            }
            lp += lp_int(count_i64(n)) + lp_int(count_i64(2 * n + 4));
        }
        self.lp_rest += lp;
        self.live += 1;
        self.last = id;
    }

    /// Marks the entry whose flags byte is at `at` deleted.
    pub(super) fn mark_deleted(&mut self, at: usize) {
        if let Some(flags) = self.data.get_mut(at) {
            if *flags & DELETED == 0 {
                *flags |= DELETED;
                self.live -= 1;
                self.deleted += 1;
            }
        }
    }

    /// The entries in order, tombstones included.
    pub(super) fn iter(&self) -> Entries<'_> {
        Entries {
            first: self.first,
            master_fields: self.master_fields,
            data: &self.data,
            r: Reader {
                rest: self.data.get(self.start..).unwrap_or_default(),
            },
        }
    }

    /// The entries from last to first, tombstones included.
    pub(super) fn iter_rev(&self) -> impl Iterator<Item = RawEntry<'_>> {
        let all: Vec<RawEntry<'_>> = self.iter().collect();
        all.into_iter().rev()
    }

    /// The live entry `id`, if it is here. The whole node is looked at:
    /// a tombstone may be out of order, and may share a live entry's ID
    /// (XSETID below it, then XADD), as in Redis.
    pub(super) fn find_live(&self, id: StreamId) -> Option<RawEntry<'_>> {
        self.iter().find(|e| e.id == id && e.flags & DELETED == 0)
    }

    /// `e`'s fields and values, interleaved: one copy of the entry's
    /// bytes, each field and value a slice of it (and the master fields,
    /// copied once per node into `shared`, slices of that).
    pub(super) fn pairs(&self, e: &RawEntry<'_>, shared: &mut Shared) -> Vec<Bytes> {
        let mut out = Vec::with_capacity(e.pairs * 2);
        let body = Bytes::copy_from_slice(e.body);
        let mut r = Reader { rest: e.body };
        let slice = |part: &[u8]| {
            let at = part.as_ptr() as usize - e.body.as_ptr() as usize;
            body.slice(at..at + part.len())
        };
        if e.same {
            if shared.master.is_none() {
                shared.master = Some(self.master_bytes());
            }
            let master = shared.master.as_deref().unwrap_or_default();
            for field in master {
                let Ok(value) = r.bytes() else { break };
                out.push(field.clone());
                out.push(slice(value));
            }
        } else {
            for _ in 0..e.pairs * 2 {
                let Ok(part) = r.bytes() else { break };
                out.push(slice(part));
            }
        }
        out
    }

    /// The master fields, as slices of one copy.
    fn master_bytes(&self) -> Vec<Bytes> {
        let region = self.data.get(..self.start).unwrap_or_default();
        let copy = Bytes::copy_from_slice(region);
        self.master()
            .map(|f| {
                let at = f.as_ptr() as usize - region.as_ptr() as usize;
                copy.slice(at..at + f.len())
            })
            .collect()
    }

    /// The raw buffer and its counters, for the snapshot encoding.
    pub(super) fn raw(&self) -> &[u8] {
        &self.data
    }

    /// A node from its buffer, read off disk: walked whole, so that every
    /// later read of it is of well-formed bytes. `prev_live` is the last
    /// live ID before it, updated: live entries must ascend (a tombstone
    /// may be out of order, as Redis allows after XSETID below it).
    pub(super) fn check(
        first: StreamId,
        data: Vec<u8>,
        prev_live: &mut Option<StreamId>,
    ) -> Result<Self, BadValue> {
        let mut r = Reader { rest: &data };
        let master_fields = usize::try_from(r.varint()?).map_err(|_| BadValue("field count"))?;
        if master_fields > r.rest.len() {
            return Err(BadValue("master field count past the bytes"));
        }
        let mut lp_rest = LP_OVERHEAD + lp_int(count_i64(master_fields)) + lp_int(0);
        for _ in 0..master_fields {
            lp_rest += lp_str(r.bytes()?);
        }
        let start = data.len() - r.rest.len();
        let mut node = Self {
            data: Vec::new(),
            first,
            last: first,
            last_at: 0,
            start,
            master_fields,
            live: 0,
            deleted: 0,
            lp_rest,
        };
        let mut count = 0usize;
        let mut lp = 0usize;
        {
            let mut walk = Entries {
                first,
                master_fields,
                data: &data,
                r: Reader {
                    rest: data.get(start..).unwrap_or_default(),
                },
            };
            while !walk.r.rest.is_empty() {
                let e = walk.read()?;
                if count == 0 && e.id != first {
                    return Err(BadValue("a node's first entry is not its key"));
                }
                let live = e.flags & DELETED == 0;
                if live && prev_live.is_some_and(|p| e.id <= p) {
                    return Err(BadValue("stream entries out of order"));
                }
                if e.flags & !(DELETED | SAME_FIELDS) != 0 {
                    return Err(BadValue("unknown entry flags"));
                }
                lp += entry_lp(first, &e)?;
                if e.flags & DELETED == 0 {
                    node.live += 1;
                } else {
                    node.deleted += 1;
                }
                node.last = e.id;
                node.last_at = e.at;
                if live {
                    *prev_live = Some(e.id);
                }
                count += 1;
            }
        }
        // A node whose entries are all tombstones is kept, as Redis keeps
        // one an exact trim emptied; a node with no entry at all is not.
        if count == 0 {
            return Err(BadValue("a stream node with no entry"));
        }
        node.lp_rest += lp;
        node.data = data;
        Ok(node)
    }
}

/// The listpack bytes of entry `e` (checked as it is measured).
fn entry_lp(first: StreamId, e: &RawEntry<'_>) -> Result<usize, BadValue> {
    let ms = e.id.ms.wrapping_sub(first.ms) as i64;
    let seq = e.id.seq.wrapping_sub(first.seq) as i64;
    let mut lp = lp_int(i64::from(e.flags)) + lp_int(ms) + lp_int(seq);
    let mut r = Reader { rest: e.body };
    let n = e.pairs;
    if e.same {
        for _ in 0..n {
            lp += lp_str(r.bytes()?);
        }
        lp += lp_int(count_i64(n + 3));
    } else {
        for _ in 0..2 * n {
            lp += lp_str(r.bytes()?);
        }
        lp += lp_int(count_i64(n)) + lp_int(count_i64(2 * n + 4));
    }
    Ok(lp)
}

/// A walk over a node's entries.
pub(super) struct Entries<'a> {
    first: StreamId,
    master_fields: usize,
    data: &'a [u8],
    r: Reader<'a>,
}

impl<'a> Entries<'a> {
    /// Reads one entry, checking each length against the bytes left.
    fn read(&mut self) -> Result<RawEntry<'a>, BadValue> {
        let at = self.data.len() - self.r.rest.len();
        let flags = self.r.byte()?;
        let ms = self.first.ms.wrapping_add(self.r.varint()?);
        let seq = self
            .first
            .seq
            .wrapping_add(unzigzag(self.r.varint()?) as u64);
        let same = flags & SAME_FIELDS != 0;
        let pairs = if same {
            self.master_fields
        } else {
            usize::try_from(self.r.varint()?).map_err(|_| BadValue("field count"))?
        };
        if pairs > self.r.rest.len() {
            return Err(BadValue("field count past the bytes"));
        }
        let body_start = self.r.rest;
        let parts = if same { pairs } else { 2 * pairs };
        for _ in 0..parts {
            self.r.bytes()?;
        }
        let used = body_start.len() - self.r.rest.len();
        Ok(RawEntry {
            id: StreamId::new(ms, seq),
            flags,
            at,
            body: body_start.get(..used).unwrap_or_default(),
            pairs,
            same,
        })
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = RawEntry<'a>;

    fn next(&mut self) -> Option<RawEntry<'a>> {
        if self.r.rest.is_empty() {
            return None;
        }
        // Only checked buffers get here (`check`, or built by `push`).
        self.read().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_read_back_with_their_fields() {
        let mut n = Node::new(StreamId::new(5, 3), &[b"f", b"1", b"g", b"two"]);
        n.push(StreamId::new(5, 4), &[b"f", b"x", b"g", b"y"]);
        n.push(StreamId::new(9, 0), &[b"other", b"z"]);
        let ids: Vec<_> = n.iter().map(|e| e.id).collect();
        assert_eq!(
            ids,
            [
                StreamId::new(5, 3),
                StreamId::new(5, 4),
                StreamId::new(9, 0)
            ]
        );
        let rev: Vec<_> = n.iter_rev().map(|e| e.id).collect();
        assert_eq!(rev.first(), Some(&StreamId::new(9, 0)));
        let e = n.find_live(StreamId::new(9, 0)).unwrap();
        let mut shared = Shared::default();
        assert_eq!(n.pairs(&e, &mut shared), [&b"other"[..], b"z"]);
        let e = n.find_live(StreamId::new(5, 4)).unwrap();
        assert_eq!(n.pairs(&e, &mut shared), [&b"f"[..], b"x", b"g", b"y"]);
        assert!(n.find_live(StreamId::new(6, 0)).is_none());
        n.mark_deleted(e.at);
        assert_eq!((n.live, n.deleted), (2, 1));
        let back = Node::check(n.first(), n.raw().to_vec(), &mut None).unwrap();
        assert_eq!(back, n);
    }

    /// Sizes of listpacks Redis 7.0.15 built (`MEMORY USAGE` aside, the
    /// listpack's own `lpBytes`, read from DEBUG LISTPACK).
    #[test]
    fn listpack_sizes_are_redis_sizes() {
        // XADD s 1-1 a 1: master entry [1, 0, 1, "a", 0] = 2+2+2+2+2,
        // entry [2, 0, 0, 1, 4] = 10, plus 7; "a" takes 3.
        let n = Node::new(StreamId::new(1, 1), &[b"a", b"1"]);
        assert_eq!(n.lp_bytes(), 28);
        assert_eq!(lp_str(b"hello"), 7);
        assert_eq!(lp_str(b"-4096"), 3);
        assert_eq!(lp_str(b"4096"), 4);
        assert_eq!(lp_str(&[b'x'; 64]), 67);
        assert_eq!(lp_str(&[b'x'; 200]), 204);
        assert_eq!(lp_int(i64::MIN), 10);
    }

    #[test]
    fn damaged_buffers_are_refused() {
        let n = Node::new(StreamId::new(1, 0), &[b"f", b"v"]);
        let good = n.raw().to_vec();
        for cut in 0..good.len() {
            assert!(Node::check(n.first(), good[..cut].to_vec(), &mut None).is_err());
        }
        let mut moved = good.clone();
        moved[n.start + 1] = 1;
        assert_eq!(
            Node::check(n.first(), moved, &mut None),
            Err(BadValue("a node's first entry is not its key"))
        );
        assert!(Node::check(n.first(), good.clone(), &mut Some(StreamId::new(1, 0))).is_err());
        let mut bad = good.clone();
        bad[n.start] = 0x80;
        assert!(Node::check(n.first(), bad, &mut None).is_err());
        let mut flags = good;
        flags[n.start] |= 8;
        assert!(Node::check(n.first(), flags, &mut None).is_err());
    }
}
