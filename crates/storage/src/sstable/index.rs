//! The index: one entry per data block, saying where the block is, how
//! many entries it holds and the last (db, key) in it.
//!
//! Owns the index encoding and the checks that make the data region
//! trustworthy before any block is read: blocks are contiguous from the
//! header to the index, each holds at least one entry, and the last keys
//! strictly ascend. It must never read a data block (that is `table`),
//! and never copy the keys out: they stay in the index's contents, which
//! the table keeps, and handles point into it.

use super::block::MIN_ENTRY_LEN;
use super::cursor::{put_varint, Cursor, Malformed};
use super::frame::TRAILER_LEN;
use std::cmp::Ordering;
use std::ops::Range;

/// Appends one index entry to an index's contents.
pub(crate) fn put(
    buf: &mut Vec<u8>,
    db: u32,
    last_key: &[u8],
    offset: u64,
    stored_len: u64,
    entries: u64,
) {
    put_varint(buf, u64::from(db));
    put_varint(buf, last_key.len() as u64);
    buf.extend_from_slice(last_key);
    put_varint(buf, offset);
    put_varint(buf, stored_len);
    put_varint(buf, entries);
}

/// Where one data block is, and what it holds.
#[derive(Debug, Clone)]
pub(crate) struct BlockHandle {
    /// The database of the block's last entry.
    pub db: u32,
    /// The block's last key, as a range of the index's contents.
    key: Range<usize>,
    /// Where the block starts in the file.
    pub offset: u64,
    /// Its stored length, trailer included.
    pub stored_len: u64,
    /// How many entries it holds (at least one).
    pub entries: u64,
}

impl BlockHandle {
    /// The fewest content bytes the block's entries need.
    pub fn min_contents_len(&self) -> usize {
        usize::try_from(self.entries).map_or(usize::MAX, |n| n.saturating_mul(MIN_ENTRY_LEN))
    }
}

/// A table's index, decoded and checked.
#[derive(Debug)]
pub(crate) struct Index {
    contents: Vec<u8>,
    blocks: Vec<BlockHandle>,
    entries: u64,
}

impl Index {
    /// Decodes an index's contents, checking that its blocks tile
    /// `data` (the bytes between the header and the index) exactly and
    /// that their last keys strictly ascend.
    pub fn decode(contents: Vec<u8>, data: Range<u64>) -> Result<Index, Malformed> {
        let mut blocks: Vec<BlockHandle> = Vec::new();
        let mut next_offset = data.start;
        let mut entries = 0u64;
        let mut c = Cursor::new(&contents);
        while !c.is_empty() {
            let at = c.pos();
            let bad = |what| Malformed { at, what };
            let db = c.varint_u32("index database id")?;
            let key_len = c.varint("index key length")?;
            let key_start = c.pos();
            c.take(key_len, "index key")?;
            let key = key_start..c.pos();
            let offset = c.varint("block offset")?;
            let stored_len = c.varint("block length")?;
            let count = c.varint("block entry count")?;
            if offset != next_offset {
                return Err(bad("block offset does not follow the previous block"));
            }
            if stored_len <= TRAILER_LEN as u64 || count == 0 {
                return Err(bad("empty block"));
            }
            next_offset = match offset.checked_add(stored_len) {
                Some(end) if end <= data.end => end,
                _ => return Err(bad("block runs past the data")),
            };
            entries = entries
                .checked_add(count)
                .ok_or(bad("entry count overflows"))?;
            if let Some(prev) = blocks.last() {
                let ordered =
                    (prev.db, contents.get(prev.key.clone())).cmp(&(db, contents.get(key.clone())));
                if ordered != Ordering::Less {
                    return Err(bad("index keys out of order"));
                }
            }
            blocks.push(BlockHandle {
                db,
                key,
                offset,
                stored_len,
                entries: count,
            });
        }
        if next_offset != data.end {
            return Err(Malformed {
                at: contents.len(),
                what: "blocks do not reach the index",
            });
        }
        Ok(Index {
            contents,
            blocks,
            entries,
        })
    }

    /// The data blocks, in order.
    pub fn blocks(&self) -> &[BlockHandle] {
        &self.blocks
    }

    /// The sum of the blocks' entry counts.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// A block's last key.
    pub fn last_key(&self, block: &BlockHandle) -> &[u8] {
        self.contents.get(block.key.clone()).unwrap_or_default()
    }

    /// The first block whose last (db, key) is at or after the given one:
    /// the only block that can hold it.
    pub fn find(&self, db: u32, key: &[u8]) -> Option<&BlockHandle> {
        let i = self
            .blocks
            .partition_point(|b| (b.db, self.last_key(b)) < (db, key));
        self.blocks.get(i)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const T: u64 = TRAILER_LEN as u64;

    /// db, last key, offset, stored length, entries.
    type Handle<'a> = (u32, &'a [u8], u64, u64, u64);

    fn index(blocks: &[Handle]) -> Vec<u8> {
        let mut buf = Vec::new();
        for &(db, key, offset, len, n) in blocks {
            put(&mut buf, db, key, offset, len, n);
        }
        buf
    }

    #[test]
    fn a_valid_index_decodes_and_finds_blocks() {
        let contents = index(&[
            (0, b"b", 8, T + 5, 1),
            (0, b"d", 8 + T + 5, T + 10, 2),
            (2, b"", 8 + 2 * T + 15, T + 5, 1),
        ]);
        let end = 8 + 3 * T + 20;
        let ix = Index::decode(contents, 8..end).unwrap();
        assert_eq!(ix.entries(), 4);
        assert_eq!(ix.blocks().len(), 3);
        let offset_of = |db, key: &[u8]| ix.find(db, key).map(|b| b.offset);
        assert_eq!(offset_of(0, b""), Some(8));
        assert_eq!(offset_of(0, b"b"), Some(8));
        assert_eq!(offset_of(0, b"ba"), Some(8 + T + 5));
        assert_eq!(offset_of(1, b"zzz"), Some(8 + 2 * T + 15));
        assert_eq!(offset_of(2, b""), Some(8 + 2 * T + 15));
        assert_eq!(offset_of(2, b"a"), None);
        assert_eq!(ix.last_key(&ix.blocks()[1]), b"d");
        assert!(Index::decode(Vec::new(), 8..8).unwrap().blocks().is_empty());
    }

    #[test]
    fn gaps_overlaps_disorder_and_empty_blocks_are_refused() {
        let cases: &[(&[Handle], u64)] = &[
            (&[(0, b"a", 9, T + 5, 1)], 9 + T + 5), // not at the header
            (&[(0, b"a", 8, T + 5, 1)], 8 + T + 6), // stops short of the index
            (&[(0, b"a", 8, T + 5, 1)], 8 + T + 4), // runs into the index
            (&[(0, b"a", 8, T, 1)], 8 + T),         // nothing but a trailer
            (&[(0, b"a", 8, T + 5, 0)], 8 + T + 5), // no entries
            (
                &[(0, b"b", 8, T + 5, 1), (0, b"a", 8 + T + 5, T + 5, 1)],
                8 + 2 * T + 10,
            ), // disorder
            (
                &[(1, b"a", 8, T + 5, 1), (0, b"b", 8 + T + 5, T + 5, 1)],
                8 + 2 * T + 10,
            ), // db disorder
            (
                &[(0, b"a", 8, T + 5, 1), (0, b"a", 8 + T + 5, T + 5, 1)],
                8 + 2 * T + 10,
            ), // duplicate
            (&[(0, b"a", 8, u64::MAX, 1)], 100),    // overflowing length
            (
                &[
                    (0, b"a", 8, T + 5, u64::MAX),
                    (0, b"b", 8 + T + 5, T + 5, 1),
                ],
                8 + 2 * T + 10,
            ),
        ];
        for (i, (blocks, end)) in cases.iter().enumerate() {
            assert!(Index::decode(index(blocks), 8..*end).is_err(), "case {i}");
        }
        let mut cut = index(&[(0, b"abc", 8, T + 5, 1)]);
        cut.pop();
        assert!(Index::decode(cut, 8..8 + T + 5).is_err());
    }
}
