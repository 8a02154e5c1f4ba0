//! Reading a table's entries in order: `TableIter`, and the entry types
//! it hands out, `EntryRef` (borrowed) and `OwnedEntry`.
//!
//! Owns the streaming walk over the data blocks: one block in memory at a
//! time, in two buffers reused from block to block, so loading a snapshot
//! allocates nothing per entry through `next_entry`. It must never read
//! ahead or hold the whole file, and never hand out an entry from a block
//! it has not checked: each block's checksum before its first entry, and,
//! at its end, that it held the entry count and last key the index says.

use super::block::decode_entry;
use super::index::BlockHandle;
use super::table::SsTable;
use crate::{Error, Result};
use std::ops::Range;

/// An entry borrowed from the block a `TableIter` is reading; valid until
/// the iterator's next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryRef<'a> {
    /// The database id.
    pub db: u32,
    /// The key.
    pub key: &'a [u8],
    /// The value's type, as the engine numbers them; opaque to storage.
    pub tag: u8,
    /// When the key expires, in absolute Unix milliseconds, if it does.
    pub deadline: Option<u64>,
    /// The value's encoding for its tag; opaque to storage.
    pub payload: &'a [u8],
}

impl EntryRef<'_> {
    /// A copy that owns its key and payload.
    pub fn into_owned(self) -> OwnedEntry {
        OwnedEntry {
            db: self.db,
            key: self.key.to_vec(),
            tag: self.tag,
            deadline: self.deadline,
            payload: self.payload.to_vec(),
        }
    }
}

/// An entry that owns its key and payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OwnedEntry {
    /// The database id.
    pub db: u32,
    /// The key.
    pub key: Vec<u8>,
    /// The value's type, as the engine numbers them; opaque to storage.
    pub tag: u8,
    /// When the key expires, in absolute Unix milliseconds, if it does.
    pub deadline: Option<u64>,
    /// The value's encoding for its tag; opaque to storage.
    pub payload: Vec<u8>,
}

impl From<EntryRef<'_>> for OwnedEntry {
    fn from(entry: EntryRef<'_>) -> Self {
        entry.into_owned()
    }
}

/// The most capacity a block buffer keeps between blocks: well above the
/// default 16 KiB block, well below a block of one big value.
const KEEP_BUFFER_MAX: usize = 4 << 20;

/// Where the last entry decoded is, so `next_entry` can lend it.
struct Step {
    db: u32,
    tag: u8,
    deadline: Option<u64>,
    payload: Range<usize>,
}

/// The first error an iterator met, kept so every later call fails too:
/// a caller that ignored one error must not then see a clean end.
struct Failure {
    corrupt: bool,
    offset: u64,
    message: String,
}

/// Every entry of a table, in (db, key) order, read one block at a time.
///
/// `next_entry` lends each entry without allocating; the `Iterator`
/// implementation copies each into an `OwnedEntry` and ends after the
/// first error it yields.
pub struct TableIter<'a> {
    table: &'a SsTable,
    /// The next block to read, as an index into the table's blocks.
    next_block: usize,
    /// The block being read, if one is.
    current: Option<&'a BlockHandle>,
    /// Scratch for the block as stored (compressed, with its trailer).
    stored: Vec<u8>,
    /// The current block's contents.
    contents: Vec<u8>,
    /// Where the next entry starts in `contents`.
    pos: usize,
    /// Entries decoded from the current block.
    in_block: u64,
    /// The last entry's key and database; the key is carried across
    /// blocks so a block's first entry is checked against the one before.
    key: Vec<u8>,
    prev_db: Option<u32>,
    failed: Option<Failure>,
}

impl<'a> TableIter<'a> {
    pub(super) fn new(table: &'a SsTable) -> Self {
        TableIter {
            table,
            next_block: 0,
            current: None,
            stored: Vec::new(),
            contents: Vec::new(),
            pos: 0,
            in_block: 0,
            key: Vec::new(),
            prev_db: None,
            failed: None,
        }
    }

    /// The next entry, borrowed from the iterator's buffers; `Ok(None)` at
    /// the end. After an error, every later call returns an error.
    pub fn next_entry(&mut self) -> Result<Option<EntryRef<'_>>> {
        if let Some(failure) = &self.failed {
            let path = self.table.path();
            let reason = format!("iteration stopped at an earlier error: {}", failure.message);
            return Err(if failure.corrupt {
                Error::corrupt(path, failure.offset, reason)
            } else {
                Error::io("read", path, std::io::Error::other(reason))
            });
        }
        let step = match self.step() {
            Ok(Some(step)) => step,
            Ok(None) => return Ok(None),
            Err(e) => {
                let offset = match &e {
                    Error::Corrupt { offset, .. } => *offset,
                    _ => 0,
                };
                self.failed = Some(Failure {
                    corrupt: e.is_corruption(),
                    offset,
                    message: e.to_string(),
                });
                return Err(e);
            }
        };
        let Some(payload) = self.contents.get(step.payload) else {
            // `decode_entry` checked the range against this very buffer.
            return Err(Error::corrupt(
                self.table.path(),
                0,
                "payload outside its block",
            ));
        };
        Ok(Some(EntryRef {
            db: step.db,
            key: &self.key,
            tag: step.tag,
            deadline: step.deadline,
            payload,
        }))
    }

    /// Decodes the next entry, reading the next block when one ends.
    fn step(&mut self) -> Result<Option<Step>> {
        let table = self.table;
        loop {
            if let Some(block) = self.current {
                if self.pos < self.contents.len() {
                    let first = self.in_block == 0;
                    let d = decode_entry(
                        &self.contents,
                        &mut self.pos,
                        &mut self.key,
                        self.prev_db,
                        first,
                    )
                    .map_err(|m| table.block_corrupt(block, m.at, m.what))?;
                    self.in_block += 1;
                    self.prev_db = Some(d.db);
                    if self.in_block > block.entries {
                        return Err(table.block_corrupt(
                            block,
                            0,
                            "more entries than the index says",
                        ));
                    }
                    return Ok(Some(Step {
                        db: d.db,
                        tag: d.tag,
                        deadline: d.deadline,
                        payload: d.payload,
                    }));
                }
                // The index's entry count and last key for the block are
                // what `get`'s binary search trusts; hold the block to them.
                let last = (block.db, table.index().last_key(block));
                if self.in_block != block.entries
                    || self.prev_db.map(|db| (db, self.key.as_slice())) != Some(last)
                {
                    return Err(table.block_corrupt(
                        block,
                        0,
                        "block differs from its index entry",
                    ));
                }
                self.current = None;
            }
            let Some(block) = table.index().blocks().get(self.next_block) else {
                return Ok(None);
            };
            self.next_block += 1;
            // A block holding one huge value leaves both buffers huge; let
            // them go rather than hold up to a gigabyte for the rest of a
            // scan of small blocks.
            for buf in [&mut self.stored, &mut self.contents] {
                if buf.capacity() > KEEP_BUFFER_MAX {
                    *buf = Vec::new();
                }
            }
            table.read_data_block(block, &mut self.stored, &mut self.contents)?;
            self.current = Some(block);
            self.pos = 0;
            self.in_block = 0;
        }
    }
}

impl Iterator for TableIter<'_> {
    type Item = Result<OwnedEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed.is_some() {
            return None;
        }
        self.next_entry()
            .map(|e| e.map(EntryRef::into_owned))
            .transpose()
    }
}
