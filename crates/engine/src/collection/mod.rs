//! Collections: the values a key holds when it is not a string.
//!
//! Owns each collection type's data structure (`hash` today; lists, sets
//! and sorted sets join it), their byte encoding for the log and
//! snapshots (`codec`), and the memory each reports. An entry keeps a
//! collection behind one pointer, so moving the entry (a resize, a
//! rename) moves the pointer and never the elements. This module must
//! never look at entries, shards or locks: it is plain data, below
//! `entry`.

pub(crate) mod codec;
pub(crate) mod hash;
mod table;

pub(crate) use hash::Hash;
pub use hash::Listpack;

/// A collection value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Collection {
    /// A hash: fields to values.
    Hash(Hash),
}

impl Collection {
    /// Approximate heap bytes held, kept up to date as it changes (O(1)).
    pub(crate) fn footprint(&self) -> usize {
        match self {
            Collection::Hash(h) => h.footprint(),
        }
    }

    /// Whether it holds no element: an empty collection is never stored
    /// (the last element removed deletes the key, as in Redis).
    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Collection::Hash(h) => h.is_empty(),
        }
    }

    /// The hash, if this is one.
    pub(crate) fn as_hash(&self) -> Option<&Hash> {
        match self {
            Collection::Hash(h) => Some(h),
        }
    }

    /// The hash, if this is one, to change.
    pub(crate) fn as_hash_mut(&mut self) -> Option<&mut Hash> {
        match self {
            Collection::Hash(h) => Some(h),
        }
    }

    /// Redis's name for the encoding (OBJECT ENCODING).
    pub(crate) fn encoding(&self) -> &'static str {
        match self {
            Collection::Hash(h) => h.encoding(),
        }
    }
}
