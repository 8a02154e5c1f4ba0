//! Snapshot files: an SSTable, a sorted and checksummed table of entries
//! written once by `SsTableBuilder` and read by `SsTable`.
//!
//! Owns the snapshot format: its constants, its byte layout (below, and
//! drawn field by field in `docs/STORAGE-FORMAT.md`) and the rules a
//! reader applies to bytes it cannot trust. It must never interpret an
//! entry's tag or payload (the engine owns their meaning), choose file
//! names, rename files or sync directories (the caller does, per rule 1
//! in the crate's header), and it must never panic or allocate what a file
//! merely claims: every length read from a file is checked against what
//! the file holds and a fixed bound first (rule 3).
//!
//! # Layout (format version 1)
//! All fixed-width integers are little-endian; `varint` is unsigned
//! LEB128 (7 bits a byte, low bits first, at most 10 bytes).
//! ```text
//! header      8 bytes   magic "TandemSS"
//! data blocks           entries sorted by (db, key), cut at ~block_size
//! index       block     per data block: its last (db, key), offset, length, entry count
//! bloom       block     probes: u8, then the bit array, over every (db, key)
//! properties  block     the caller's blob, opaque here
//! footer      76 bytes  where index, bloom and properties are; entry count;
//!                       footer length, version, crc32c, magic "TandemSS"
//! ```
//! Every block, of any kind, is its contents (lz4-compressed when that is
//! smaller) followed by a 9-byte trailer: the compression flag (`u8`: 0
//! none, 1 lz4), the uncompressed length (`u32`) and a crc32c (`u32`) of
//! everything before it in the block, flag and length included. Data
//! blocks, then index, bloom and properties, then the footer, follow each
//! other with no gaps, and the reader insists on it: an offset that points
//! anywhere else is corruption.
//!
//! An entry in a data block is
//! `shared varint | unshared varint | db << 1 | has_deadline varint |
//! tag u8 | [deadline varint] | payload_len varint | key[shared..] |
//! payload`, where `shared` is how many leading bytes its key has in
//! common with the previous key in the same block (0 for a block's first
//! entry). An index entry is `db varint | key_len varint | key |
//! offset varint | stored_len varint | entries varint`.
//!
//! # Versions and new value types
//! The tag is a byte the engine assigns; storage stores it and never looks
//! at it, so a new value type is a new tag and changes nothing here. The
//! format version in the footer changes only when the layout does; a
//! reader reads every version up to its own and answers a newer one with
//! `Error::Version`. The footer records its own length and keeps version,
//! crc and magic at fixed distances from the end of the file, so even a
//! future, longer footer is checksummed before its version is believed: a
//! flipped bit reads as corruption, not as a file from the future.

mod block;
mod bloom;
mod builder;
mod cursor;
mod footer;
mod frame;
mod index;
mod iter;
mod table;

#[cfg(test)]
mod tests;

pub use builder::{BuildOptions, SsTableBuilder, TableStats};
pub use iter::{EntryRef, OwnedEntry, TableIter};
pub use table::SsTable;

/// The newest snapshot format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The longest key an entry may have (Redis's limit on a string).
pub const MAX_KEY_LEN: usize = 512 << 20;

/// The longest payload an entry may have (Redis's limit on a value).
pub const MAX_PAYLOAD_LEN: usize = 512 << 20;

/// The first and the last eight bytes of every snapshot file.
const MAGIC: [u8; 8] = *b"TandemSS";

/// Bytes before the first data block: the magic.
const HEADER_LEN: u64 = 8;

/// The largest `block_size` a builder accepts; larger asks are lowered
/// to it. Blocks beyond it hold a single entry.
const MAX_BLOCK_SIZE: usize = 64 << 20;

/// The most bytes any block's contents may claim to hold. A data block
/// holds one maximal entry (key and payload at their limits, plus its
/// header) or up to `MAX_BLOCK_SIZE` of small ones; index, bloom and
/// properties are held to the same bound. Together with the lz4 ratio
/// bound (see `frame`), this caps what one block can make a reader
/// allocate, whatever its file says.
const MAX_BLOCK_LEN: usize = MAX_KEY_LEN + MAX_PAYLOAD_LEN + (1 << 20);

/// Whether readers check checksums. Off only in cargo-fuzz builds, which
/// set `cfg(fuzzing)`: a fuzzer almost never forges a crc32c, so with the
/// checks on it would never get past them to the decoders behind, which
/// are what it is there to break. Skipping a check only removes early
/// returns, so every input a checking reader accepts is still explored.
#[allow(unexpected_cfgs, reason = "cargo-fuzz sets cfg(fuzzing)")]
const VERIFY_CHECKSUMS: bool = !cfg!(fuzzing);
