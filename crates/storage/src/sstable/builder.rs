//! `SsTableBuilder`: writes a snapshot file from entries given in order.
//!
//! Owns the write path: cutting entries into blocks, sealing and writing
//! each block as it fills, and at `finish` the index, bloom filter,
//! properties, footer and header, then one `sync`. It must never hold more
//! than one block of entries (plus the index and one hash per key), never
//! write out of order entries, and never rename, name or sync directories:
//! the caller writes to a temporary name and installs the file (rule 1 in
//! the crate's header).

use super::block::BlockBuilder;
use super::bloom::{self, key_hash};
use super::footer::Footer;
use super::frame::seal;
use super::{index, HEADER_LEN, MAGIC, MAX_BLOCK_SIZE, MAX_KEY_LEN, MAX_PAYLOAD_LEN};
use crate::backend::StorageFile;
use crate::{Error, Result};
use std::io;
use std::path::PathBuf;

/// How a table is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOptions {
    /// Bytes of entries (before compression) after which a block is
    /// closed. Default 16 KiB; at most 64 MiB (larger asks are lowered).
    /// An entry bigger than this gets a block of its own.
    pub block_size: usize,
    /// Whether blocks are lz4-compressed (each only if that makes it
    /// smaller). Default `true`.
    pub compress: bool,
    /// Bloom filter bits per key: 10 (the default) gives about 1% false
    /// positives; 0 writes no filter. At most 40 (larger asks are
    /// lowered).
    pub bloom_bits_per_key: usize,
    /// About how many entries the table will hold, if known: the filter is
    /// then sized up front and filled as entries arrive, instead of
    /// keeping 8 bytes per entry until `finish` (80 MB for 10M keys).
    /// Default `None`.
    pub expected_entries: Option<u64>,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            block_size: 16 << 10,
            compress: true,
            bloom_bits_per_key: 10,
            expected_entries: None,
        }
    }
}

/// What `finish` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableStats {
    /// Entries in the table.
    pub entries: u64,
    /// The file's length in bytes.
    pub bytes: u64,
    /// Data blocks written.
    pub blocks: u64,
    /// The data blocks' contents before compression, in bytes.
    pub raw_data_bytes: u64,
}

/// Writes one snapshot file. Entries go in with `add`, strictly ascending
/// by (db, key); `finish` completes and syncs the file.
///
/// After a failed write, every later call fails with `Error::Poisoned`:
/// the file is no longer a prefix of a valid table, and the caller should
/// delete it.
pub struct SsTableBuilder {
    file: Box<dyn StorageFile>,
    path: PathBuf,
    options: BuildOptions,
    block: BlockBuilder,
    /// The index's contents so far, one entry per block written.
    index: Vec<u8>,
    /// Every key's filter hash, when the count is known only at `finish`;
    /// or the filter itself, sized from `BuildOptions::expected_entries`.
    hashes: Vec<u64>,
    sized: Option<bloom::Sized>,
    /// Scratch for a block as stored, reused.
    sealed: Vec<u8>,
    /// Where the next block goes.
    offset: u64,
    entries: u64,
    blocks: u64,
    raw_data_bytes: u64,
    poisoned: Option<String>,
}

impl SsTableBuilder {
    /// Starts writing to `file` (already created, empty), named `path` in
    /// errors.
    pub fn new(file: Box<dyn StorageFile>, path: PathBuf, mut options: BuildOptions) -> Self {
        options.block_size = options.block_size.min(MAX_BLOCK_SIZE);
        options.bloom_bits_per_key = options.bloom_bits_per_key.min(bloom::MAX_BITS_PER_KEY);
        let sized = options
            .expected_entries
            .filter(|_| options.bloom_bits_per_key > 0)
            .map(|n| bloom::Sized::new(n, options.bloom_bits_per_key));
        SsTableBuilder {
            file,
            path,
            options,
            block: BlockBuilder::default(),
            index: Vec::new(),
            hashes: Vec::new(),
            sized,
            sealed: Vec::new(),
            offset: HEADER_LEN,
            entries: 0,
            blocks: 0,
            raw_data_bytes: 0,
            poisoned: None,
        }
    }

    /// Adds an entry: `key` in database `db`, with the value type `tag`,
    /// an optional `deadline` (absolute Unix milliseconds) and the value's
    /// encoding `payload`. Storage keeps all four as given.
    ///
    /// An entry that does not sort strictly after the previous one, or
    /// whose key or payload is over 512 MiB, is refused with an
    /// `InvalidInput` I/O error and nothing is written; the builder can go
    /// on. A failed write poisons the builder.
    pub fn add(
        &mut self,
        db: u32,
        key: &[u8],
        tag: u8,
        deadline: Option<u64>,
        payload: &[u8],
    ) -> Result<()> {
        self.check_live()?;
        if key.len() > MAX_KEY_LEN || payload.len() > MAX_PAYLOAD_LEN {
            return Err(self.invalid("key or payload longer than 512 MiB"));
        }
        if self.entries > 0 && (db, key) <= self.block.last() {
            return Err(self.invalid("entries must be added in strictly ascending (db, key) order"));
        }
        if self.block.entries() > 0 && self.block.len_with(key, payload) > self.options.block_size {
            self.flush()?;
        }
        self.block.add(db, key, tag, deadline, payload);
        if let Some(sized) = &mut self.sized {
            sized.add(key_hash(db, key));
        } else if self.options.bloom_bits_per_key > 0 {
            self.hashes.push(key_hash(db, key));
        }
        self.entries += 1;
        if self.block.contents().len() >= self.options.block_size {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the last block, the index, the bloom filter, `properties`
    /// (the caller's metadata, returned as is by `SsTable::properties`),
    /// the footer and the header, then syncs the file. The caller then
    /// renames it into place and syncs its directory.
    pub fn finish(mut self, properties: &[u8]) -> Result<TableStats> {
        self.check_live()?;
        self.flush()?;
        let index_contents = std::mem::take(&mut self.index);
        let index = self.write_section(&index_contents, self.options.compress)?;
        // Filter bits look random to lz4; trying would only cost time.
        let filter = match self.sized.take() {
            Some(sized) => sized.finish(),
            None => bloom::build(&self.hashes, self.options.bloom_bits_per_key),
        };
        let bloom = self.write_section(&filter, false)?;
        let properties = self.write_section(properties, self.options.compress)?;
        let footer = Footer {
            index,
            bloom,
            properties,
            entries: self.entries,
        }
        .encode();
        self.write(self.offset, &footer)?;
        self.offset += footer.len() as u64;
        // The header goes last, so a build abandoned half way does not
        // leave a file that starts like a snapshot.
        self.write(0, &MAGIC)?;
        self.file
            .sync()
            .map_err(|e| Error::io("sync", &self.path, e))?;
        Ok(TableStats {
            entries: self.entries,
            bytes: self.offset,
            blocks: self.blocks,
            raw_data_bytes: self.raw_data_bytes,
        })
    }

    /// Seals and writes the current block, and indexes it.
    fn flush(&mut self) -> Result<()> {
        if self.block.entries() == 0 {
            return Ok(());
        }
        seal(
            self.block.contents(),
            self.options.compress,
            &mut self.sealed,
        )
        .map_err(|e| self.invalid(e))?;
        let sealed = std::mem::take(&mut self.sealed);
        let written = self.write(self.offset, &sealed);
        self.sealed = sealed;
        written?;
        let (db, last_key) = self.block.last();
        let stored_len = self.sealed.len() as u64;
        index::put(
            &mut self.index,
            db,
            last_key,
            self.offset,
            stored_len,
            self.block.entries(),
        );
        self.offset += stored_len;
        self.blocks += 1;
        self.raw_data_bytes += self.block.contents().len() as u64;
        self.block.reset();
        Ok(())
    }

    /// Seals and writes one of the sections after the data; returns where
    /// it went.
    fn write_section(&mut self, contents: &[u8], compress: bool) -> Result<std::ops::Range<u64>> {
        let mut sealed = Vec::new();
        seal(contents, compress, &mut sealed).map_err(|e| self.invalid(e))?;
        let start = self.offset;
        self.write(start, &sealed)?;
        self.offset += sealed.len() as u64;
        Ok(start..self.offset)
    }

    /// Writes `bytes` at `offset`, poisoning the builder if that fails.
    fn write(&mut self, offset: u64, bytes: &[u8]) -> Result<()> {
        self.file.write_at(offset, bytes).map_err(|e| {
            self.poisoned = Some(format!("write {}: {e}", self.path.display()));
            Error::io("write", &self.path, e)
        })
    }

    fn check_live(&self) -> Result<()> {
        match &self.poisoned {
            Some(why) => Err(Error::Poisoned(why.clone())),
            None => Ok(()),
        }
    }

    /// A caller's mistake: reported as `InvalidInput`, as std does.
    fn invalid(&self, why: &str) -> Error {
        Error::io(
            "add",
            &self.path,
            io::Error::new(io::ErrorKind::InvalidInput, why),
        )
    }
}
