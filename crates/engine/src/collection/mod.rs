//! Collections: the values a key holds when it is not a string.
//!
//! Owns each collection type's data structure (`hash`, `set`, `list`,
//! `zset`, `stream`), their byte encoding for the log and snapshots
//! (`codec`), the edits a change makes, logged instead of the whole
//! collection (`edit`), the thresholds between their compact and big encodings
//! (`Limits`), and the memory each reports. An entry keeps a collection
//! behind one pointer, so moving the entry (a resize, a rename) moves the
//! pointer and never the elements. This module must never look at
//! entries, shards or locks: it is plain data, below `entry`.

pub mod build;
mod chunk;
pub(crate) mod codec;
pub(crate) mod edit;
pub mod free;
pub(crate) mod hash;
pub(crate) mod list;
mod order;
mod packed;
mod pairs;
pub(crate) mod set;
pub(crate) mod stepped;
pub mod stream;
mod stream_edits;
mod table;
pub(crate) mod zset;

pub use chunk::ChunkLimit;
pub(crate) use hash::Hash;
pub use hash::Listpack;
pub use list::End;
pub(crate) use list::List;
pub(crate) use set::Set;
pub use stream::Stream;
pub(crate) use zset::ZSet;

/// When compact encodings give way to big ones, per type: Redis's
/// `hash-max-listpack-*` and `set-max-intset-entries`, as set now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Hashes: `hash-max-listpack-entries` and `-value`.
    pub hash: Listpack,
    /// Sets: the most integers an intset holds (default 512).
    pub set_intset_entries: usize,
    /// Lists: `list-max-listpack-size`, how full a chunk gets.
    pub list_chunk: ChunkLimit,
    /// Sorted sets: `zset-max-listpack-entries` and `-value`.
    pub zset: Listpack,
    /// Streams: `stream-node-max-bytes` and `-entries`.
    pub stream_node: stream::StreamNodeLimit,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            hash: Listpack::default(),
            set_intset_entries: 512,
            list_chunk: ChunkLimit::default(),
            zset: Listpack {
                entries: 128,
                value: 64,
            },
            stream_node: stream::StreamNodeLimit::default(),
        }
    }
}

/// A collection value. Kept small (it is allocated once per key): the big
/// encodings are boxed inside each type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Collection {
    /// A hash: fields to values.
    Hash(Hash),
    /// A set of distinct members.
    Set(Set),
    /// A list of elements, in order; boxed, as its deque makes it the
    /// largest.
    List(Box<List>),
    /// A sorted set: members ordered by score.
    ZSet(ZSet),
    /// A stream of entries; boxed, as its counters make it big.
    Stream(Box<Stream>),
}

impl Collection {
    /// Approximate heap bytes held, kept up to date as it changes (O(1)).
    pub(crate) fn footprint(&self) -> usize {
        match self {
            Collection::Hash(h) => h.footprint(),
            Collection::Set(s) => s.footprint(),
            Collection::List(l) => l.footprint(),
            Collection::ZSet(z) => z.footprint(),
            Collection::Stream(s) => s.footprint(),
        }
    }

    /// How many elements (fields, members) it holds.
    pub(crate) fn len(&self) -> usize {
        match self {
            Collection::Hash(h) => h.len(),
            Collection::Set(s) => s.len(),
            Collection::List(l) => l.len(),
            Collection::ZSet(z) => z.len(),
            Collection::Stream(s) => usize::try_from(s.len()).unwrap_or(usize::MAX),
        }
    }

    /// Whether it holds no element: an empty collection is never stored
    /// (the last element removed deletes the key, as in Redis). A stream
    /// is never empty in this sense: Redis keeps an empty stream, with its
    /// last ID and groups.
    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Collection::Hash(h) => h.is_empty(),
            Collection::Set(s) => s.is_empty(),
            Collection::List(l) => l.is_empty(),
            Collection::ZSet(z) => z.is_empty(),
            Collection::Stream(_) => false,
        }
    }

    /// The hash, if this is one.
    pub(crate) fn as_hash(&self) -> Option<&Hash> {
        match self {
            Collection::Hash(h) => Some(h),
            _ => None,
        }
    }

    /// The hash, if this is one, to change.
    pub(crate) fn as_hash_mut(&mut self) -> Option<&mut Hash> {
        match self {
            Collection::Hash(h) => Some(h),
            _ => None,
        }
    }

    /// The set, if this is one.
    pub(crate) fn as_set(&self) -> Option<&Set> {
        match self {
            Collection::Set(s) => Some(s),
            _ => None,
        }
    }

    /// The set, if this is one, to change.
    pub(crate) fn as_set_mut(&mut self) -> Option<&mut Set> {
        match self {
            Collection::Set(s) => Some(s),
            _ => None,
        }
    }

    /// The list, if this is one.
    pub(crate) fn as_list(&self) -> Option<&List> {
        match self {
            Collection::List(l) => Some(l),
            _ => None,
        }
    }

    /// The list, if this is one, to change.
    pub(crate) fn as_list_mut(&mut self) -> Option<&mut List> {
        match self {
            Collection::List(l) => Some(l),
            _ => None,
        }
    }

    /// The sorted set, if this is one.
    pub(crate) fn as_zset(&self) -> Option<&ZSet> {
        match self {
            Collection::ZSet(z) => Some(z),
            _ => None,
        }
    }

    /// The sorted set, if this is one, to change.
    pub(crate) fn as_zset_mut(&mut self) -> Option<&mut ZSet> {
        match self {
            Collection::ZSet(z) => Some(z),
            _ => None,
        }
    }

    /// The stream, if this is one.
    pub(crate) fn as_stream(&self) -> Option<&Stream> {
        match self {
            Collection::Stream(s) => Some(s),
            _ => None,
        }
    }

    /// The stream, if this is one, to change.
    pub(crate) fn as_stream_mut(&mut self) -> Option<&mut Stream> {
        match self {
            Collection::Stream(s) => Some(s),
            _ => None,
        }
    }

    /// The type tag (`codec`) its encoding is stored under.
    pub(crate) fn tag(&self) -> u8 {
        match self {
            Collection::Hash(_) => codec::TAG_HASH,
            Collection::Set(_) => codec::TAG_SET,
            Collection::List(_) => codec::TAG_LIST,
            Collection::ZSet(_) => codec::TAG_ZSET,
            Collection::Stream(_) => codec::TAG_STREAM,
        }
    }

    /// A list's or a stream's change count (`List::seq`, `Stream::seq`);
    /// 0 for the other types, whose edits need none.
    pub(crate) fn seq(&self) -> u64 {
        match self {
            Collection::List(l) => l.seq(),
            Collection::Stream(s) => s.seq(),
            _ => 0,
        }
    }

    /// Counts one more change, after a command changed it in place.
    pub(crate) fn count_change(&mut self) {
        match self {
            Collection::List(l) => l.set_seq(l.seq().wrapping_add(1)),
            Collection::Stream(s) => s.count_change(),
            _ => {}
        }
    }

    /// Redis's name for the encoding (OBJECT ENCODING).
    pub(crate) fn encoding(&self) -> &'static str {
        match self {
            Collection::Hash(h) => h.encoding(),
            Collection::Set(s) => s.encoding(),
            Collection::List(l) => l.encoding(),
            Collection::ZSet(z) => z.encoding(),
            Collection::Stream(_) => "stream",
        }
    }
}

/// Which elements a random read or pop takes (HRANDFIELD, SRANDMEMBER,
/// SPOP), as the caller chooses them given the collection's size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Picks {
    /// Exactly these positions of the collection's order (distinct
    /// picks, or the whole collection), in the order given; positions past
    /// the end are skipped.
    Positions(Vec<usize>),
    /// Independent random picks, one per number, each drawn from that
    /// number's bits (repeats allowed): O(1) each even in a big table,
    /// where a position costs a walk.
    Random(Vec<u64>),
}

impl From<Vec<usize>> for Picks {
    fn from(positions: Vec<usize>) -> Self {
        Picks::Positions(positions)
    }
}

/// The items at `positions` of `items`' order, in the order asked (repeats
/// allowed; positions past the end are skipped): random picks (HRANDFIELD,
/// SRANDMEMBER, SPOP) made in one pass over `items` whatever their number,
/// not one pass per pick.
pub(crate) fn at_positions<T: Copy>(items: impl Iterator<Item = T>, positions: &[usize]) -> Vec<T> {
    let mut wanted: Vec<usize> = positions.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let mut found: Vec<(usize, T)> = Vec::with_capacity(wanted.len());
    let mut next = wanted.iter().peekable();
    for (i, item) in items.enumerate() {
        let Some(&&want) = next.peek() else { break };
        if i == want {
            found.push((i, item));
            next.next();
        }
    }
    positions
        .iter()
        .filter_map(|p| {
            let at = found.binary_search_by_key(p, |(i, _)| *i).ok()?;
            found.get(at).map(|(_, item)| *item)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    /// One allocation per key holds a `Collection`: a jemalloc size class
    /// of 32 bytes, not the 96 it took with the tables inline.
    #[test]
    fn a_collection_fits_32_bytes() {
        assert!(std::mem::size_of::<super::Collection>() <= 32);
    }
}
