//! The byte encoding of a collection, as the log's PUT and a snapshot's
//! entry carry it (`docs/STORAGE-FORMAT.md`, "Values").
//!
//! Owns encoding a collection and decoding one from bytes read off disk.
//! Decoding must never panic or allocate on a count it has not checked
//! against the bytes there: a crafted count is refused, not trusted.
//!
//! Layout, integers LEB128:
//! - hash (type tag 1): field count, then per field: field length, field,
//!   value length, value.
//! - set (type tag 2): member count, then per member: its length, its
//!   bytes (an intset's members as their decimal text).
//! - list (type tag 3): element count, then per element, head to tail:
//!   its length, its bytes; then, optionally (older files lack it), the
//!   list's change count (`List::seq`), which its logged edits name.
//! - sorted set (4) and stream (5): see their tags below.

use super::order::cmp_items;
use super::stream::{Group, Pending, StreamId, StreamMeta};
use super::{Collection, End, Hash, Limits, List, Set, Stream, ZSet};

/// The type tags, as `ValueType::tag` numbers them (stored: never reused).
pub(crate) const TAG_HASH: u8 = 1;
/// A set's tag.
pub(crate) const TAG_SET: u8 = 2;
/// A list's tag.
pub(crate) const TAG_LIST: u8 = 3;
/// A sorted set: its count, then each member and its score (8 bytes,
/// little-endian `f64`), in order (a big one copied in steps: in its
/// table's order; the decoder sorts).
pub(crate) const TAG_ZSET: u8 = 4;
/// A stream: its counters (last, first and largest deleted IDs, each as
/// ms and seq; entries ever added), its node count, then per node its
/// first ID and its buffer (`stream::node`'s layout), then how many
/// consumer groups follow, each with its name, last ID, read counter (a
/// known flag, then the count), its consumers (name, seen time) and its
/// pending entries (ID, consumer, delivery time, delivery count); then
/// the stream's change count (`Stream::seq`), which its logged edits name.
pub(crate) const TAG_STREAM: u8 = 5;

/// Bytes that do not decode as the collection their tag names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadValue(pub &'static str);

impl std::fmt::Display for BadValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

pub(super) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(super) fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// Encodes `c` (without its tag) onto `out`.
pub(crate) fn encode(c: &Collection, out: &mut Vec<u8>) {
    match c {
        Collection::Hash(h) => {
            put_varint(out, h.len() as u64);
            for (field, value) in h.iter() {
                put_bytes(out, field);
                put_bytes(out, value);
            }
        }
        Collection::Set(set) => {
            put_varint(out, set.len() as u64);
            for member in set.iter() {
                member.with_text(|text| put_bytes(out, text));
            }
        }
        Collection::List(list) => {
            put_varint(out, list.len() as u64);
            for element in list.iter() {
                put_bytes(out, element);
            }
            put_varint(out, list.seq());
        }
        Collection::ZSet(z) => {
            put_varint(out, z.len() as u64);
            for (member, score) in z.iter() {
                put_bytes(out, member);
                out.extend_from_slice(&score.to_bits().to_le_bytes());
            }
        }
        Collection::Stream(s) => encode_stream(s, out),
    }
}

pub(super) fn put_id(out: &mut Vec<u8>, id: StreamId) {
    put_varint(out, id.ms);
    put_varint(out, id.seq);
}

fn encode_stream(s: &Stream, out: &mut Vec<u8>) {
    let meta = s.meta();
    put_id(out, meta.last_id);
    put_id(out, meta.first_id);
    put_id(out, meta.max_deleted);
    put_varint(out, meta.entries_added);
    put_varint(out, s.node_count() as u64);
    for (first, raw) in s.raw_nodes() {
        put_id(out, first);
        put_bytes(out, raw);
    }
    put_varint(out, s.groups().len() as u64);
    for (name, g) in s.groups() {
        put_bytes(out, name);
        put_id(out, g.last_id);
        out.push(u8::from(g.entries_read.is_some()));
        put_varint(out, g.entries_read.unwrap_or(0));
        put_varint(out, g.consumers().len() as u64);
        for (cname, c) in g.consumers() {
            put_bytes(out, cname);
            put_varint(out, zigzag(c.seen_time));
        }
        put_varint(out, g.pel().len() as u64);
        for (id, p) in g.pel() {
            put_id(out, *id);
            put_bytes(out, &p.consumer);
            put_varint(out, zigzag(p.delivery_time));
            put_varint(out, p.delivery_count);
        }
    }
    put_varint(out, s.seq());
}

/// A signed number as an unsigned one, small when near 0 either way.
pub(super) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// `zigzag` undone.
pub(super) fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// `c` encoded, in a buffer of its own.
pub(crate) fn to_vec(c: &Collection) -> Vec<u8> {
    let mut out = Vec::with_capacity(c.footprint().min(1 << 20));
    encode(c, &mut out);
    out
}

/// Reads lengths, bytes and scores off stored bytes, checking each
/// against what is left (a value here, an EDIT's edits in `edit`).
pub(super) struct Reader<'a> {
    pub(super) rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(super) fn byte(&mut self) -> Result<u8, BadValue> {
        let (&b, rest) = self.rest.split_first().ok_or(BadValue("truncated"))?;
        self.rest = rest;
        Ok(b)
    }

    pub(super) fn varint(&mut self) -> Result<u64, BadValue> {
        let mut v = 0u64;
        for i in 0..10 {
            let (&b, rest) = self
                .rest
                .split_first()
                .ok_or(BadValue("truncated length"))?;
            self.rest = rest;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(BadValue("length longer than 10 bytes"))
    }

    pub(super) fn bytes(&mut self) -> Result<&'a [u8], BadValue> {
        let len = usize::try_from(self.varint()?).map_err(|_| BadValue("length too large"))?;
        if len > self.rest.len() {
            return Err(BadValue("length past the end of the value"));
        }
        let (b, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(b)
    }

    /// A score: 8 bytes, never NaN.
    pub(super) fn score(&mut self) -> Result<f64, BadValue> {
        let (b, rest) = self
            .rest
            .split_first_chunk::<8>()
            .ok_or(BadValue("truncated score"))?;
        self.rest = rest;
        let score = f64::from_bits(u64::from_le_bytes(*b));
        if score.is_nan() {
            return Err(BadValue("score is NaN"));
        }
        Ok(score)
    }

    /// A count of items each at least `min_bytes` long, checked against
    /// what is left, so it can size an allocation.
    fn count(&mut self, min_bytes: usize) -> Result<usize, BadValue> {
        let n = self.varint()?;
        let fits = usize::try_from(n)
            .ok()
            .filter(|&n| n.saturating_mul(min_bytes) <= self.rest.len());
        fits.ok_or(BadValue("element count larger than the value"))
    }
}

fn read_id(r: &mut Reader<'_>) -> Result<StreamId, BadValue> {
    Ok(StreamId::new(r.varint()?, r.varint()?))
}

fn decode_stream(r: &mut Reader<'_>) -> Result<Stream, BadValue> {
    let meta = StreamMeta {
        last_id: read_id(r)?,
        first_id: read_id(r)?,
        max_deleted: read_id(r)?,
        entries_added: r.varint()?,
    };
    // Each node takes at least its two IDs and its buffer's length.
    let n = r.count(5)?;
    let mut nodes = Vec::with_capacity(n);
    for _ in 0..n {
        let first = read_id(r)?;
        nodes.push((first, r.bytes()?.to_vec()));
    }
    // Each group takes at least its name's length, ID, flag and counts.
    let groups = r.count(6)?;
    let mut all = std::collections::BTreeMap::new();
    for _ in 0..groups {
        let name = bytes::Bytes::copy_from_slice(r.bytes()?);
        let last_id = read_id(r)?;
        let known = r.byte()? != 0;
        let read = r.varint()?;
        let mut g = Group::new(last_id, known.then_some(read));
        for _ in 0..r.count(2)? {
            let cname = r.bytes()?.to_vec();
            let seen = unzigzag(r.varint()?);
            if !g.add_consumer_at(&cname, seen) {
                return Err(BadValue("a consumer repeated"));
            }
        }
        // Each pending entry: its ID, its consumer's name, time, count.
        for _ in 0..r.count(5)? {
            let id = read_id(r)?;
            let p = Pending {
                consumer: bytes::Bytes::copy_from_slice(r.bytes()?),
                delivery_time: unzigzag(r.varint()?),
                delivery_count: r.varint()?,
            };
            if !g.add_pending_at(id, p) {
                return Err(BadValue("a pending entry repeated or without its consumer"));
            }
        }
        if all.insert(name, g).is_some() {
            return Err(BadValue("a consumer group repeated"));
        }
    }
    let mut s = Stream::from_raw(meta, nodes, all)?;
    s.set_seq(r.varint()?);
    Ok(s)
}

/// Decodes a collection of type `tag` from `bytes`, small or big by
/// `limits` (as Redis loads by its settings of the moment). `Ok(None)`:
/// the tag is not a collection's (a string, or a type this build does
/// not know).
pub(crate) fn decode(
    tag: u8,
    bytes: &[u8],
    limits: Limits,
) -> Result<Option<Collection>, BadValue> {
    let mut r = Reader { rest: bytes };
    let c = match tag {
        TAG_HASH => {
            // Each field takes at least its two one-byte lengths.
            let n = r.count(2)?;
            if n == 0 {
                return Err(BadValue("empty hash"));
            }
            let mut h = Hash::with_capacity(n, limits.hash);
            for _ in 0..n {
                let field = r.bytes()?;
                let value = r.bytes()?;
                if !h.insert(field, value, limits.hash) {
                    return Err(BadValue("hash field repeated"));
                }
            }
            Collection::Hash(h)
        }
        TAG_SET => {
            // Each member takes at least its one-byte length.
            let n = r.count(1)?;
            if n == 0 {
                return Err(BadValue("empty set"));
            }
            let mut set = Set::with_capacity(n, limits.set_intset_entries);
            for _ in 0..n {
                if !set.insert(r.bytes()?, limits.set_intset_entries) {
                    return Err(BadValue("set member repeated"));
                }
            }
            Collection::Set(set)
        }
        TAG_LIST => {
            // Each element takes at least its one-byte length.
            let n = r.count(1)?;
            if n == 0 {
                return Err(BadValue("empty list"));
            }
            let mut list = List::default();
            for _ in 0..n {
                list.push(End::Right, r.bytes()?, limits.list_chunk);
            }
            if !r.rest.is_empty() {
                list.set_seq(r.varint()?);
            }
            Collection::List(Box::new(list))
        }
        TAG_ZSET => {
            let n = r.count(9)?;
            if n == 0 {
                return Err(BadValue("empty sorted set"));
            }
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                let member = r.bytes()?;
                items.push((r.score()?, member));
            }
            // A snapshot's copy in steps writes a big set in its table's
            // order (`stepped`): sorted here, at load, where no client
            // waits, rather than on the snapshot's thread beside them.
            // Inserted in order, each member lands at the end.
            if !items.is_sorted_by(|&a, &b| cmp_items(a, b).is_le()) {
                items.sort_unstable_by(|&a, &b| cmp_items(a, b));
            }
            let mut z = ZSet::with_capacity(n, limits.zset);
            for (score, member) in items {
                if z.insert(member, score, limits.zset).is_some() {
                    return Err(BadValue("sorted set member repeated"));
                }
            }
            Collection::ZSet(z)
        }
        TAG_STREAM => Collection::Stream(Box::new(decode_stream(&mut r)?)),
        _ => return Ok(None),
    };
    if !r.rest.is_empty() {
        return Err(BadValue("bytes after the last element"));
    }
    Ok(Some(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_round_trips() {
        let mut h = Hash::default();
        let l = Limits::default();
        h.insert(b"f1", b"v1", l.hash);
        h.insert(b"", b"empty field", l.hash);
        h.insert(&[0, 255, 10], &[], l.hash);
        let c = Collection::Hash(h);
        assert_eq!(decode(TAG_HASH, &to_vec(&c), l), Ok(Some(c)));
    }

    #[test]
    fn a_set_round_trips_in_either_encoding() {
        let l = Limits::default();
        for members in [&["3", "-1", "77"][..], &["3", "x", "", "\0"][..]] {
            let mut s = Set::default();
            for m in members {
                s.insert(m.as_bytes(), l.set_intset_entries);
            }
            let encoding = s.encoding();
            let c = Collection::Set(s);
            let back = decode(TAG_SET, &to_vec(&c), l);
            assert_eq!(
                back.as_ref().map(|c| c.as_ref().map(Collection::encoding)),
                Ok(Some(encoding))
            );
            assert_eq!(back, Ok(Some(c)));
        }
        assert!(decode(TAG_SET, &[0], l).is_err(), "empty set");
        assert!(
            decode(TAG_SET, &[2, 1, b'1', 1, b'1'], l).is_err(),
            "repeated"
        );
        let mut b = Vec::new();
        put_varint(&mut b, 1 << 40);
        assert!(
            decode(TAG_SET, &b, l).is_err(),
            "a count larger than the bytes"
        );
    }

    #[test]
    fn a_list_round_trips_in_order() {
        let l = Limits::default();
        let mut list = List::default();
        for e in ["b", "", "a", "b"] {
            list.push(End::Right, e.as_bytes(), l.list_chunk);
        }
        let c = Collection::List(Box::new(list));
        assert_eq!(decode(TAG_LIST, &to_vec(&c), l), Ok(Some(c)));
        assert!(decode(TAG_LIST, &[0], l).is_err(), "empty list");
        assert!(decode(TAG_LIST, &[2, 1, b'a'], l).is_err(), "truncated");
    }

    #[test]
    fn a_list_keeps_its_change_count_and_an_older_list_has_none() {
        let l = Limits::default();
        let mut list = List::default();
        list.push(End::Right, b"a", l.list_chunk);
        list.set_seq(300);
        let bytes = to_vec(&Collection::List(Box::new(list)));
        assert_eq!(bytes, [1, 1, b'a', 0xac, 0x02]);
        let seq = |b: &[u8]| decode(TAG_LIST, b, l).map(|c| c.map(|c| c.seq()));
        assert_eq!(seq(&bytes), Ok(Some(300)));
        assert_eq!(seq(&[1, 1, b'a']), Ok(Some(0)), "written before counts");
        assert!(seq(&[1, 1, b'a', 5, 0]).is_err(), "a byte after the count");
        assert!(seq(&[1, 1, b'a', 0x80]).is_err(), "a truncated count");
    }

    const L: Limits = Limits {
        hash: crate::collection::Listpack {
            entries: 512,
            value: 64,
        },
        set_intset_entries: 512,
        list_chunk: crate::collection::ChunkLimit(-2),
        zset: crate::collection::Listpack {
            entries: 128,
            value: 64,
        },
        stream_node: super::super::stream::StreamNodeLimit {
            bytes: 4096,
            entries: 100,
        },
    };

    #[test]
    fn a_sorted_set_round_trips_in_either_encoding() {
        let tiny = crate::collection::Listpack {
            entries: 2,
            value: 64,
        };
        for limits in [L, Limits { zset: tiny, ..L }] {
            let mut z = ZSet::default();
            for (m, s) in [("a", 1.5), ("", -2.0), ("c", f64::INFINITY)] {
                z.insert(m.as_bytes(), s, limits.zset);
            }
            let encoding = z.encoding();
            let c = Collection::ZSet(z);
            let back = decode(TAG_ZSET, &to_vec(&c), limits);
            assert_eq!(
                back.as_ref().map(|c| c.as_ref().map(Collection::encoding)),
                Ok(Some(encoding))
            );
            assert_eq!(back, Ok(Some(c)));
        }
        assert!(decode(TAG_ZSET, &[0], L).is_err(), "empty");
        let nan = f64::NAN.to_bits().to_le_bytes();
        let mut b = vec![1, 1, b'a'];
        b.extend_from_slice(&nan);
        assert!(decode(TAG_ZSET, &b, L).is_err(), "a NaN score");
        let mut b = vec![2, 1, b'a'];
        b.extend_from_slice(&1f64.to_bits().to_le_bytes());
        b.extend_from_slice(&[1, b'a']);
        b.extend_from_slice(&2f64.to_bits().to_le_bytes());
        assert!(decode(TAG_ZSET, &b, L).is_err(), "a member twice");
        assert!(
            decode(TAG_ZSET, &[1, 1, b'a', 0, 0], L).is_err(),
            "truncated"
        );
    }

    #[test]
    fn a_sorted_set_written_out_of_order_loads_in_order() {
        let tiny = crate::collection::Listpack {
            entries: 2,
            value: 64,
        };
        let pairs = [("c", 3.0), ("a", 1.0), ("b", 1.0), ("", -0.5)];
        let mut b = vec![pairs.len() as u8];
        for (m, s) in pairs {
            put_bytes(&mut b, m.as_bytes());
            b.extend_from_slice(&f64::to_bits(s).to_le_bytes());
        }
        for limits in [L, Limits { zset: tiny, ..L }] {
            let Ok(Some(Collection::ZSet(z))) = decode(TAG_ZSET, &b, limits) else {
                panic!("does not decode");
            };
            let order: Vec<(&[u8], f64)> = z.iter().collect();
            assert_eq!(
                order,
                [(&b""[..], -0.5), (b"a", 1.0), (b"b", 1.0), (b"c", 3.0)]
            );
        }
    }

    #[test]
    fn crafted_bytes_are_refused_without_allocating_their_count() {
        // A count of 2^60 fields in a 3-byte value.
        let mut b = Vec::new();
        put_varint(&mut b, 1 << 60);
        b.extend_from_slice(&[0, 0]);
        assert!(decode(TAG_HASH, &b, L).is_err());
        assert!(decode(TAG_HASH, &[], L).is_err());
        assert!(decode(TAG_HASH, &[0], L).is_err(), "empty hash");
        assert!(decode(TAG_HASH, &[1, 1, b'f'], L).is_err(), "truncated");
        assert!(decode(TAG_HASH, &[1, 0, 0, 9], L).is_err(), "trailing");
        assert!(decode(TAG_HASH, &[2, 0, 0, 0, 0], L).is_err(), "repeated");
        assert_eq!(decode(0, b"a string", L), Ok(None));
    }
}
