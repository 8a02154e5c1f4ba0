//! Data blocks: how entries are laid out inside one block's contents.
//!
//! Owns the entry encoding (`BlockBuilder` writes it, `decode_entry` reads
//! it back) with key prefix compression against the previous key in the
//! same block. It must never see a file, compression or checksums (that is
//! `frame`), and the decoder must never trust the bytes: a length that
//! runs past the block, a shared prefix longer than the previous key or a
//! key not after its predecessor is `Malformed`, not a panic.
//!
//! There are no restart points: a reader decompresses and checksums a
//! whole block before looking at it, and a linear scan of the entries
//! costs about what that pass did, so restarts would save little and cost
//! four bytes per restart.

use super::cursor::{put_varint, Cursor, Malformed};
use std::cmp::Ordering;
use std::ops::Range;

/// The fewest bytes an entry takes: shared, unshared, db and flags, tag
/// and payload length, one byte each, with an empty suffix and payload.
pub(crate) const MIN_ENTRY_LEN: usize = 5;

/// The most bytes an entry's fields other than its key suffix and payload
/// take: five varints (at most ten bytes each) and the tag.
const MAX_ENTRY_HEADER: usize = 5 * 10 + 1;

/// Writes entries into one block's contents.
#[derive(Default)]
pub(crate) struct BlockBuilder {
    buf: Vec<u8>,
    entries: u64,
    /// The last entry added, kept across `reset` so the table builder can
    /// check order and write the index from it.
    last_db: u32,
    last_key: Vec<u8>,
}

impl BlockBuilder {
    /// The contents so far.
    pub fn contents(&self) -> &[u8] {
        &self.buf
    }

    /// Entries in the current block.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// The last (db, key) added, in this block or an earlier one.
    pub fn last(&self) -> (u32, &[u8]) {
        (self.last_db, &self.last_key)
    }

    /// How many bytes the block would hold after adding an entry with this
    /// key and payload, at most (prefix compression only shrinks it).
    pub fn len_with(&self, key: &[u8], payload: &[u8]) -> usize {
        self.buf
            .len()
            .saturating_add(MAX_ENTRY_HEADER)
            .saturating_add(key.len())
            .saturating_add(payload.len())
    }

    /// Appends an entry. The caller has checked that it sorts after the
    /// last one; the key is compressed against that one if it is in this
    /// block.
    pub fn add(&mut self, db: u32, key: &[u8], tag: u8, deadline: Option<u64>, payload: &[u8]) {
        let shared = if self.entries == 0 {
            0
        } else {
            self.last_key
                .iter()
                .zip(key)
                .take_while(|(a, b)| a == b)
                .count()
        };
        let suffix = key.get(shared..).unwrap_or_default();
        put_varint(&mut self.buf, shared as u64);
        put_varint(&mut self.buf, suffix.len() as u64);
        put_varint(
            &mut self.buf,
            u64::from(db) << 1 | u64::from(deadline.is_some()),
        );
        self.buf.push(tag);
        if let Some(deadline) = deadline {
            put_varint(&mut self.buf, deadline);
        }
        put_varint(&mut self.buf, payload.len() as u64);
        self.buf.extend_from_slice(suffix);
        self.buf.extend_from_slice(payload);
        self.entries += 1;
        self.last_db = db;
        self.last_key.truncate(shared);
        self.last_key.extend_from_slice(suffix);
    }

    /// Empties the block for the next one, keeping its buffer.
    pub fn reset(&mut self) {
        self.buf.clear();
        self.entries = 0;
    }
}

/// One decoded entry; its key is in the buffer `decode_entry` was given,
/// and its payload is a range of the block (checked to be in it), so a
/// caller can keep it while it mutates its other buffers.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub db: u32,
    pub tag: u8,
    pub deadline: Option<u64>,
    pub payload: Range<usize>,
}

/// Decodes the entry at `*pos` of `block` and moves `*pos` past it.
///
/// `key` holds the previous key and `prev_db` its database, or `prev_db`
/// is `None` when there is no previous entry to compare with; on success
/// `key` holds this entry's key. `first` says this is the block's first
/// entry, which shares nothing. An entry that does not sort strictly after
/// the previous one is malformed: a reader's binary search and merge rely
/// on the order, so it is checked, not assumed.
pub(crate) fn decode_entry(
    block: &[u8],
    pos: &mut usize,
    key: &mut Vec<u8>,
    prev_db: Option<u32>,
    first: bool,
) -> Result<Decoded, Malformed> {
    let mut c = Cursor::at(block, *pos);
    let shared_at = c.pos();
    let shared = c.varint("shared key length")?;
    let unshared = c.varint("key suffix length")?;
    let meta_at = c.pos();
    let meta = c.varint("database and flags")?;
    let db = u32::try_from(meta >> 1).map_err(|_| Malformed {
        at: meta_at,
        what: "database id",
    })?;
    let tag = c.u8("tag")?;
    let deadline = if meta & 1 == 1 {
        Some(c.varint("deadline")?)
    } else {
        None
    };
    let payload_len = c.varint("payload length")?;
    let suffix = c.take(unshared, "key suffix")?;
    let payload_at = c.pos();
    c.take(payload_len, "payload")?;
    let payload = payload_at..c.pos();

    let shared = match usize::try_from(shared) {
        Ok(s) if s <= key.len() && (s == 0 || !first) => s,
        _ => {
            return Err(Malformed {
                at: shared_at,
                what: "shared key length",
            })
        }
    };
    if let Some(prev_db) = prev_db {
        // The keys agree on their first `shared` bytes, so comparing the
        // rest decides, without a copy of the old key.
        let old_tail = key.get(shared..).unwrap_or_default();
        if (prev_db, old_tail).cmp(&(db, suffix)) != Ordering::Less {
            return Err(Malformed {
                at: shared_at,
                what: "entry out of order",
            });
        }
    }
    key.truncate(shared);
    key.extend_from_slice(suffix);
    *pos = c.pos();
    Ok(Decoded {
        db,
        tag,
        deadline,
        payload,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    type Entry = (u32, Vec<u8>, u8, Option<u64>, Vec<u8>);

    fn decode_all(block: &[u8]) -> Result<Vec<Entry>, Malformed> {
        let (mut pos, mut key, mut prev) = (0, Vec::new(), None);
        let mut out = Vec::new();
        while pos < block.len() {
            let d = decode_entry(block, &mut pos, &mut key, prev, out.is_empty())?;
            prev = Some(d.db);
            out.push((
                d.db,
                key.clone(),
                d.tag,
                d.deadline,
                block[d.payload].to_vec(),
            ));
        }
        Ok(out)
    }

    #[test]
    fn entries_round_trip_with_shared_prefixes() {
        let entries: Vec<Entry> = vec![
            (0, b"".to_vec(), 0, None, b"".to_vec()),
            (0, b"a".to_vec(), 1, Some(0), b"v".to_vec()),
            (0, b"ab".to_vec(), 2, Some(u64::MAX), vec![0; 300]),
            (0, b"abc".to_vec(), 255, None, b"".to_vec()),
            (0, b"b".to_vec(), 0, Some(1_700_000_000_000), b"x".to_vec()),
            (1, b"".to_vec(), 0, None, b"".to_vec()),
            (1, b"b".to_vec(), 0, None, b"y".to_vec()),
            (u32::MAX, b"b\xff".to_vec(), 0, None, b"z".to_vec()),
        ];
        let mut b = BlockBuilder::default();
        for (db, key, tag, deadline, payload) in &entries {
            b.add(*db, key, *tag, *deadline, payload);
        }
        assert_eq!(b.entries(), entries.len() as u64);
        assert_eq!(b.last(), (u32::MAX, &b"b\xff"[..]));
        assert!(b.contents().len() >= MIN_ENTRY_LEN * entries.len());
        assert_eq!(decode_all(b.contents()).unwrap(), entries);
        b.reset();
        assert!(b.contents().is_empty());
        assert_eq!(b.last().0, u32::MAX, "the last key survives a reset");
    }

    /// The example in docs/STORAGE-FORMAT.md.
    #[test]
    fn an_entry_is_encoded_as_documented() {
        let mut b = BlockBuilder::default();
        b.add(0, b"key:0000", 0, None, b"u");
        let first = b.contents().len();
        b.add(0, b"key:0001", 0, None, b"v");
        assert_eq!(
            &b.contents()[first..],
            [0x07, 0x01, 0x00, 0x00, 0x01, 0x31, 0x76]
        );
        b.add(3, b"key:0001", 2, Some(300), b"");
        let tail = [0x08, 0x00, 0x07, 0x02, 0xac, 0x02, 0x00];
        assert_eq!(&b.contents()[b.contents().len() - tail.len()..], tail);
    }

    #[test]
    fn out_of_order_and_duplicate_entries_are_malformed() {
        for (first, second) in [
            ((0, &b"b"[..]), (0, &b"a"[..])),
            ((0, b"a"), (0, b"a")),
            ((1, b""), (0, b"z")),
        ] {
            let mut b = BlockBuilder::default();
            b.add(first.0, first.1, 0, None, b"");
            // Write the second entry as a builder that skipped the check
            // would.
            b.add(second.0, second.1, 0, None, b"");
            assert_eq!(
                decode_all(b.contents()).unwrap_err().what,
                "entry out of order"
            );
        }
    }

    #[test]
    fn a_first_entry_that_shares_is_malformed() {
        // shared = 1 at the start of a block.
        let block = [1, 0, 0, 0, 0];
        let mut key = b"a".to_vec();
        let err = decode_entry(&block, &mut 0, &mut key, Some(0), true).unwrap_err();
        assert_eq!(err.what, "shared key length");
    }

    #[test]
    fn every_cut_of_an_entry_is_malformed() {
        let mut b = BlockBuilder::default();
        b.add(300, b"key", 9, Some(1 << 40), b"payload");
        let full = b.contents();
        for cut in 0..full.len() {
            assert!(decode_entry(&full[..cut], &mut 0, &mut Vec::new(), None, true).is_err());
        }
        let mut pos = 0;
        decode_entry(full, &mut pos, &mut Vec::new(), None, true).unwrap();
        assert_eq!(pos, full.len());
        // The estimate the builder cuts blocks by never undershoots.
        let empty = BlockBuilder::default();
        assert!(empty.len_with(b"key", b"payload") >= full.len());
    }
}
