//! The byte format of an entry's block: where each field sits.
//!
//! Owns the field offsets, flag bits and size arithmetic that `block`
//! and `patch` share. Everything here reads or sizes safe `&[u8]` views;
//! it must never allocate, free, or touch a block through a pointer.
//!
//! Layout (no alignment; multi-byte fields are little-endian). Offsets
//! are those of the block's view, which starts after the access word:
//! ```text
//! -4   access   u32     LRU time or LFU counter (`Entry::access`); atomic,
//!                       never part of a `&[u8]` view
//! 0    class    u8      allocation size class (entry::class)
//! 1    flags    u8      bits 0-2 representation, bit 3 has-expiry,
//!                       bits 4-6 value type (`ValueType::tag`)
//! 2    key_len  LEB128  u32
//! ..   key      key_len bytes
//! ..   version  u32     the low 32 bits of the shard's write counter
//!                       (`Entry::version`)
//! ..   expiry   u64     Unix ms; present only with has-expiry
//! ..   value    inline: LEB128 u32 length, then the bytes
//!               shared: the address of a `Box<Bytes>` (usize)
//!               object: the address of a `Box<Collection>` (usize)
//! ```

use super::varint::{get_varint, varint_len};

/// Values longer than this live in a shared, reference-counted buffer
/// rather than inside the block. A GET of a large value then clones a
/// reference instead of copying under the shard lock, and APPEND can grow
/// the buffer in place instead of rewriting the block.
pub(super) const INLINE_MAX: usize = 4096;

/// Bytes before the view: the access word. A read under the shard's
/// shared lock updates it (Redis's `lru` field, touched by every lookup),
/// so it is an atomic that no `&[u8]` view of the block may cover.
pub(super) const ACCESS_LEN: usize = 4;

/// Bytes of the version: the low half of the shard's 64-bit write
/// counter. The access word took the other half: together they fill the
/// 8 bytes a whole counter would, as Redis's 24-bit `lru` shares its word
/// with the object's type and encoding. A watch compares versions with a
/// window check that makes the truncation safe (`db::watch`).
pub(super) const VERSION_LEN: usize = 4;

pub(super) const FLAGS_AT: usize = 1;
pub(super) const KEY_LEN_AT: usize = 2;
pub(super) const HAS_EXPIRY: u8 = 0b1000;
pub(super) const REPR_MASK: u8 = 0b0111;
pub(super) const REPR_INLINE: u8 = 0;
pub(super) const REPR_SHARED: u8 = 1;
pub(super) const REPR_OBJECT: u8 = 2;
pub(super) const TYPE_SHIFT: u8 = 4;
pub(super) const TYPE_MASK: u8 = 0b0111_0000;
pub(super) const WORD: usize = std::mem::size_of::<usize>();
pub(super) const ALIGN: usize = 8;

#[expect(
    clippy::indexing_slicing,
    reason = "callers pass field offsets from `spans`, inside a block this module wrote"
)]
pub(super) fn get_u64(raw: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&raw[at..at + 8]);
    u64::from_le_bytes(b)
}

#[expect(
    clippy::indexing_slicing,
    reason = "callers pass field offsets from `spans`, inside a block this module wrote"
)]
pub(super) fn get_u32(raw: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&raw[at..at + 4]);
    u32::from_le_bytes(b)
}

#[expect(
    clippy::indexing_slicing,
    reason = "callers pass field offsets from `spans`, inside a block this module wrote"
)]
pub(super) fn get_usize(raw: &[u8], at: usize) -> usize {
    let mut b = [0u8; WORD];
    b.copy_from_slice(&raw[at..at + WORD]);
    usize::from_le_bytes(b)
}

/// Where the fields of a block sit.
pub(super) struct Spans {
    pub(super) key_at: usize,
    pub(super) key_len: usize,
    pub(super) version_at: usize,
    /// Where the deadline sits when the block has one.
    pub(super) expiry_at: usize,
    pub(super) value_at: usize,
}

#[expect(
    clippy::indexing_slicing,
    reason = "every block holds its flags byte and a complete key length varint at `KEY_LEN_AT`"
)]
pub(super) fn spans(raw: &[u8]) -> Spans {
    let (key_len, n) = get_varint(&raw[KEY_LEN_AT..]);
    let key_at = KEY_LEN_AT + n;
    let key_len = key_len as usize;
    let version_at = key_at + key_len;
    let expiry_at = version_at + VERSION_LEN;
    let expiry_len = if raw[FLAGS_AT] & HAS_EXPIRY != 0 {
        8
    } else {
        0
    };
    Spans {
        key_at,
        key_len,
        version_at,
        expiry_at,
        value_at: expiry_at + expiry_len,
    }
}

/// Bytes from the start of the block to the start of the value.
pub(super) fn head_len(key_len: usize, has_expiry: bool) -> usize {
    KEY_LEN_AT + varint_len(key_len as u32) + key_len + VERSION_LEN + if has_expiry { 8 } else { 0 }
}

/// Bytes the value part takes for a value of `len` bytes.
pub(super) fn value_part_len(len: usize) -> usize {
    if len > INLINE_MAX {
        WORD
    } else {
        varint_len(len as u32) + len
    }
}
