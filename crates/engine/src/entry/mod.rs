//! What the keyspace stores for each key.
//!
//! Owns the entry representation (`block`, its byte `format` and `varint`
//! lengths, `patch`ing it) and its allocation size classes (`class`). Values are strings today; the representation bits in each
//! block leave room for hashes, lists, sets and sorted sets.

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
}

impl ValueType {
    /// The name TYPE replies with.
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::String => "string",
        }
    }

    /// The type's tag in change records and snapshots: a stored number,
    /// never to be reused for another type.
    pub fn tag(self) -> u8 {
        match self {
            ValueType::String => 0,
        }
    }

    /// The type a stored tag stands for, if this build knows it.
    pub fn from_tag(tag: u8) -> Option<Self> {
        match tag {
            0 => Some(ValueType::String),
            _ => None,
        }
    }
}

impl Entry {
    /// The type of the stored value.
    pub fn value_type(&self) -> ValueType {
        ValueType::String
    }
}
