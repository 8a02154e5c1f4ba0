//! `SsTable`: an open snapshot file, checked and ready for lookups and
//! scans.
//!
//! Owns opening (footer, header, index, bloom filter and properties, each
//! checked before use), point lookups and the reads of single blocks that
//! lookups and `TableIter` share. It must never write to its file, keep
//! more than the index, the filter and the properties in memory, or read a
//! byte range the footer and index have not first been checked to place
//! inside the file.

use super::block::decode_entry;
use super::bloom::{key_hash, Bloom};
use super::cursor::Malformed;
use super::footer::Footer;
use super::frame::unseal;
use super::index::{BlockHandle, Index};
use super::iter::{OwnedEntry, TableIter};
use super::{HEADER_LEN, MAGIC};
use crate::backend::{read_exact_at, StorageFile};
use crate::{Error, Result};
use std::cmp::Ordering;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A snapshot file opened for reading. Lookups take `&self` and may run
/// from many threads at once: reads are positional, and each call has
/// its own buffers.
pub struct SsTable {
    file: Box<dyn StorageFile>,
    path: PathBuf,
    index: Index,
    bloom: Bloom,
    properties: Vec<u8>,
    entries: u64,
}

impl fmt::Debug for SsTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsTable")
            .field("path", &self.path)
            .field("entries", &self.entries)
            .field("blocks", &self.index.blocks().len())
            .finish_non_exhaustive()
    }
}

impl SsTable {
    /// Opens the snapshot in `file`, named `path` in errors. Checks the
    /// footer, the header, and the index, bloom filter and properties
    /// (each checksummed) and keeps those three in memory; data blocks are
    /// checked as they are read.
    ///
    /// Bytes that are not a valid snapshot give `Error::Corrupt` naming
    /// the file and offset; a snapshot from a newer format gives
    /// `Error::Version`; a failed read gives `Error::Io`.
    pub fn open(file: Box<dyn StorageFile>, path: PathBuf) -> Result<Self> {
        let file_len = file.len().map_err(|e| Error::io("stat", &path, e))?;
        let footer = Footer::read(&*file, &path, file_len)?;
        let mut header = [0u8; HEADER_LEN as usize];
        read_exact_at(&*file, 0, &mut header).map_err(|e| Error::io("read", &path, e))?;
        if header != MAGIC {
            return Err(Error::corrupt(&path, 0, "no snapshot magic at the start"));
        }

        let mut stored = Vec::new();
        let mut section = |range: &Range<u64>, what: &str| -> Result<Vec<u8>> {
            let mut contents = Vec::new();
            read_block(&*file, &path, range.clone(), 0, &mut stored, &mut contents)
                .map_err(|e| retitle(e, what))?;
            Ok(contents)
        };
        let index = section(&footer.index, "index")?;
        let bloom = section(&footer.bloom, "bloom filter")?;
        let properties = section(&footer.properties, "properties")?;

        let at = |start: u64, what: &str, m: Malformed| {
            Error::corrupt(
                &path,
                start,
                format!("{what}: {} (byte {} of its contents)", m.what, m.at),
            )
        };
        let index = Index::decode(index, HEADER_LEN..footer.index.start)
            .map_err(|m| at(footer.index.start, "index", m))?;
        if index.entries() != footer.entries {
            return Err(Error::corrupt(
                &path,
                footer.index.start,
                "index and footer disagree on the entry count",
            ));
        }
        let bloom = Bloom::decode(bloom).map_err(|m| at(footer.bloom.start, "bloom filter", m))?;
        Ok(SsTable {
            file,
            path,
            index,
            bloom,
            properties,
            entries: footer.entries,
        })
    }

    /// The properties blob the builder was given.
    pub fn properties(&self) -> &[u8] {
        &self.properties
    }

    /// How many entries the table holds.
    pub fn len(&self) -> u64 {
        self.entries
    }

    /// Whether the table holds no entries.
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// The file's name, as given to `open`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the table may hold `key` in database `db`: `false` is
    /// certain, `true` is wrong about 1% of the time at the default 10
    /// bits per key. Reads nothing from the file.
    pub fn may_contain(&self, db: u32, key: &[u8]) -> bool {
        self.bloom.may_contain(key_hash(db, key))
    }

    /// The entry for `key` in database `db`, if the table holds one. Asks
    /// the bloom filter first, then binary-searches the index, then reads
    /// and scans the one block that can hold the key.
    pub fn get(&self, db: u32, key: &[u8]) -> Result<Option<OwnedEntry>> {
        if !self.may_contain(db, key) {
            return Ok(None);
        }
        let Some(block) = self.index.find(db, key) else {
            return Ok(None);
        };
        let (mut stored, mut contents) = (Vec::new(), Vec::new());
        self.read_data_block(block, &mut stored, &mut contents)?;
        let (mut pos, mut found_key, mut prev_db) = (0, Vec::new(), None);
        while pos < contents.len() {
            let first = prev_db.is_none();
            let d = decode_entry(&contents, &mut pos, &mut found_key, prev_db, first)
                .map_err(|m| self.block_corrupt(block, m.at, m.what))?;
            prev_db = Some(d.db);
            match (d.db, found_key.as_slice()).cmp(&(db, key)) {
                Ordering::Less => continue,
                Ordering::Greater => return Ok(None),
                Ordering::Equal => {}
            }
            let Some(payload) = contents.get(d.payload) else {
                return Err(self.block_corrupt(block, pos, "payload outside its block"));
            };
            return Ok(Some(OwnedEntry {
                db,
                key: found_key,
                tag: d.tag,
                deadline: d.deadline,
                payload: payload.to_vec(),
            }));
        }
        // The index said this block's last key is at or after the one
        // sought, yet every key in it is before.
        Err(self.block_corrupt(block, 0, "block differs from its index entry"))
    }

    /// Every entry, in (db, key) order, read one block at a time.
    pub fn iter(&self) -> TableIter<'_> {
        TableIter::new(self)
    }

    pub(super) fn index(&self) -> &Index {
        &self.index
    }

    /// Reads and checks one data block into `contents`, using `stored` as
    /// scratch.
    pub(super) fn read_data_block(
        &self,
        block: &BlockHandle,
        stored: &mut Vec<u8>,
        contents: &mut Vec<u8>,
    ) -> Result<()> {
        let range = block.offset..block.offset.saturating_add(block.stored_len);
        read_block(
            &*self.file,
            &self.path,
            range,
            block.min_contents_len(),
            stored,
            contents,
        )
        .map_err(|e| retitle(e, "data block"))
    }

    /// Corruption found inside a data block's contents.
    pub(super) fn block_corrupt(&self, block: &BlockHandle, at: usize, what: &str) -> Error {
        Error::corrupt(
            &self.path,
            block.offset,
            format!("data block: {what} (byte {at} of its contents)"),
        )
    }
}

/// Reads the stored block at `range` of `file` into `stored` and leaves
/// its checked contents in `contents`. The caller has placed `range`
/// inside the file (footer and index checks), so the allocation is for
/// bytes the file holds.
fn read_block(
    file: &dyn StorageFile,
    path: &Path,
    range: Range<u64>,
    min_len: usize,
    stored: &mut Vec<u8>,
    contents: &mut Vec<u8>,
) -> Result<()> {
    let len = range
        .end
        .checked_sub(range.start)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| Error::corrupt(path, range.start, "block length"))?;
    stored.clear();
    stored.resize(len, 0);
    read_exact_at(file, range.start, stored).map_err(|e| Error::io("read", path, e))?;
    unseal(stored, contents, min_len).map_err(|m| {
        Error::corrupt(
            path,
            range.start,
            format!("{} (byte {} of the block)", m.what, m.at),
        )
    })
}

/// Prefixes a corruption's reason with which kind of block it is in.
fn retitle(e: Error, what: &str) -> Error {
    match e {
        Error::Corrupt {
            path,
            offset,
            reason,
        } => Error::Corrupt {
            path,
            offset,
            reason: format!("{what}: {reason}"),
        },
        other => other,
    }
}
