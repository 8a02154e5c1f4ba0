//! What the keyspace stores for each key.
//!
//! Owns the entry representation (`block`, its byte `format` and `varint`
//! lengths, `patch`ing it), its allocation size classes (`class`), and the
//! value types (`ValueType`). A value is a string (in the block, or shared
//! when large) or a collection behind a pointer (`crate::collection`).

mod block;
mod class;
mod format;
mod patch;
mod varint;

pub use block::Entry;
pub(crate) use block::{Parts, ValueIn};
pub(crate) use patch::{Applied, Oversize, Patch};

/// The type of a stored value, as the TYPE command names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueType {
    /// A binary-safe string.
    String,
    /// A hash of fields to values.
    Hash,
    /// A set of distinct members.
    Set,
    /// A list of elements.
    List,
    /// A sorted set: members ordered by score.
    ZSet,
    /// A stream of entries.
    Stream,
}

impl ValueType {
    /// The name TYPE replies with.
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::Hash => "hash",
            ValueType::Set => "set",
            ValueType::List => "list",
            ValueType::ZSet => "zset",
            ValueType::Stream => "stream",
        }
    }

    /// The type's tag in change records and snapshots: a stored number,
    /// never to be reused for another type.
    pub fn tag(self) -> u8 {
        match self {
            ValueType::String => 0,
            ValueType::Hash => crate::collection::codec::TAG_HASH,
            ValueType::Set => crate::collection::codec::TAG_SET,
            ValueType::List => crate::collection::codec::TAG_LIST,
            ValueType::ZSet => crate::collection::codec::TAG_ZSET,
            ValueType::Stream => crate::collection::codec::TAG_STREAM,
        }
    }

    /// The type a stored tag stands for, if this build knows it.
    pub fn from_tag(tag: u8) -> Option<Self> {
        match tag {
            0 => Some(ValueType::String),
            crate::collection::codec::TAG_HASH => Some(ValueType::Hash),
            crate::collection::codec::TAG_SET => Some(ValueType::Set),
            crate::collection::codec::TAG_LIST => Some(ValueType::List),
            crate::collection::codec::TAG_ZSET => Some(ValueType::ZSet),
            crate::collection::codec::TAG_STREAM => Some(ValueType::Stream),
            _ => None,
        }
    }
}

/// Every type, so that a lookup by name cannot miss one (SCAN TYPE
/// zset found nothing while this list was written out by hand).
const ALL: [ValueType; 6] = [
    ValueType::String,
    ValueType::Hash,
    ValueType::Set,
    ValueType::List,
    ValueType::ZSet,
    ValueType::Stream,
];

impl ValueType {
    /// The type of a collection.
    pub(crate) fn of(c: &crate::collection::Collection) -> Self {
        match c {
            crate::collection::Collection::Hash(_) => ValueType::Hash,
            crate::collection::Collection::Set(_) => ValueType::Set,
            crate::collection::Collection::List(_) => ValueType::List,
            crate::collection::Collection::ZSet(_) => ValueType::ZSet,
            crate::collection::Collection::Stream(_) => ValueType::Stream,
        }
    }

    /// The type a TYPE name stands for (SCAN's TYPE option), if any.
    pub fn from_name(name: &[u8]) -> Option<Self> {
        ALL.into_iter()
            .find(|t| t.as_str().as_bytes().eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: SCAN's TYPE zset matched nothing.
    #[test]
    fn every_type_is_found_by_its_name() {
        // No wildcard: a new type fails to compile here until it is
        // listed in `ALL`.
        let listed = |t: ValueType| match t {
            ValueType::String
            | ValueType::Hash
            | ValueType::Set
            | ValueType::List
            | ValueType::ZSet
            | ValueType::Stream => ALL.contains(&t),
        };
        for t in ALL {
            assert!(listed(t));
            assert_eq!(ValueType::from_name(t.as_str().as_bytes()), Some(t));
        }
        assert_eq!(ValueType::from_name(b"ZSET"), Some(ValueType::ZSet));
        assert_eq!(ValueType::from_name(b"STREAM"), Some(ValueType::Stream));
        assert_eq!(ValueType::from_name(b"module"), None);
    }
}
