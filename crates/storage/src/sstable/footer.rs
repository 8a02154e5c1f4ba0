//! The footer: the fixed-size end of a snapshot that says where
//! everything else is.
//!
//! Owns the footer's encoding and its checks: magic, checksum, version,
//! and that the index, bloom filter and properties tile the space between
//! the data blocks and the footer exactly. It must never read anything
//! but the footer, and must believe nothing in it (its version included)
//! before its checksum matches.
//!
//! ```text
//! offset  size  field
//!      0     8  index offset          u64
//!      8     8  index length          u64 (stored, trailer included)
//!     16     8  bloom offset          u64
//!     24     8  bloom length          u64
//!     32     8  properties offset     u64
//!     40     8  properties length     u64
//!     48     8  entry count           u64
//!     56     4  footer length         u32 (76 in version 1)
//!     60     4  format version        u32
//!     64     4  crc32c of bytes 0..64 u32
//!     68     8  magic "TandemSS"
//! ```
//! A later version may add fields at the front; footer length, version,
//! crc and magic stay where they are, counted from the end of the file.

use super::cursor::{Cursor, Malformed};
use super::{FORMAT_VERSION, HEADER_LEN, MAGIC, VERIFY_CHECKSUMS};
use crate::backend::{read_exact_at, StorageFile};
use crate::{Error, Result};
use std::ops::Range;
use std::path::Path;

/// The footer's length in format version 1.
pub(crate) const FOOTER_LEN: usize = 76;

/// The fields at a fixed distance from the end in every version: footer
/// length, version, crc and magic.
const TAIL_LEN: usize = 20;

/// The longest footer a later version may write; a longer claim is
/// corruption, so reading a footer never allocates much.
const MAX_FOOTER_LEN: u32 = 4096;

/// Where the index, bloom filter and properties are, and how many entries
/// the table holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Footer {
    pub index: Range<u64>,
    pub bloom: Range<u64>,
    pub properties: Range<u64>,
    pub entries: u64,
}

impl Footer {
    /// The footer's bytes, in format version 1.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FOOTER_LEN);
        for section in [&self.index, &self.bloom, &self.properties] {
            out.extend_from_slice(&section.start.to_le_bytes());
            out.extend_from_slice(&(section.end - section.start).to_le_bytes());
        }
        out.extend_from_slice(&self.entries.to_le_bytes());
        out.extend_from_slice(&(FOOTER_LEN as u32).to_le_bytes());
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        let crc = crc32c::crc32c(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&MAGIC);
        out
    }

    /// Reads and checks the footer of `file`, whose length is `file_len`.
    pub fn read(file: &dyn StorageFile, path: &Path, file_len: u64) -> Result<Footer> {
        let corrupt = |offset: u64, reason: &str| Error::corrupt(path, offset, reason);
        let min_len = HEADER_LEN + TAIL_LEN as u64;
        if file_len < min_len {
            return Err(corrupt(0, "file too short to be a snapshot"));
        }
        let tail_at = file_len - TAIL_LEN as u64;
        let mut tail = [0u8; TAIL_LEN];
        read_exact_at(file, tail_at, &mut tail).map_err(|e| Error::io("read", path, e))?;
        let [l0, l1, l2, l3, v0, v1, v2, v3, c0, c1, c2, c3, magic @ ..] = tail;
        let footer_len = u32::from_le_bytes([l0, l1, l2, l3]);
        let version = u32::from_le_bytes([v0, v1, v2, v3]);
        let crc = u32::from_le_bytes([c0, c1, c2, c3]);
        if magic != MAGIC {
            return Err(corrupt(
                file_len - 8,
                "no snapshot magic at the end (not a snapshot, or cut short)",
            ));
        }
        if footer_len < TAIL_LEN as u32
            || footer_len > MAX_FOOTER_LEN
            || u64::from(footer_len) > file_len - HEADER_LEN
        {
            return Err(corrupt(tail_at, "footer length"));
        }
        let footer_at = file_len - u64::from(footer_len);
        let mut footer = vec![0u8; footer_len as usize];
        read_exact_at(file, footer_at, &mut footer).map_err(|e| Error::io("read", path, e))?;
        let covered = footer.get(..footer.len() - 12).unwrap_or_default();
        if VERIFY_CHECKSUMS && crc32c::crc32c(covered) != crc {
            return Err(corrupt(footer_at, "footer checksum mismatch"));
        }
        if version > FORMAT_VERSION {
            return Err(Error::Version {
                path: path.to_path_buf(),
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        if version == 0 || footer_len as usize != FOOTER_LEN {
            return Err(corrupt(
                footer_at,
                "format version 0, or a footer length not its version's",
            ));
        }
        let mut c = Cursor::new(&footer);
        let mut section = || -> Result<Range<u64>, Malformed> {
            let start = c.u64_le("section offset")?;
            let len = c.u64_le("section length")?;
            let end = start.checked_add(len).ok_or(Malformed {
                at: 0,
                what: "section length",
            })?;
            Ok(start..end)
        };
        let (Ok(index), Ok(bloom), Ok(properties)) = (section(), section(), section()) else {
            return Err(corrupt(footer_at, "section offset overflows"));
        };
        let entries = c
            .u64_le("entry count")
            .map_err(|_| corrupt(footer_at, "footer"))?;
        // The sections follow the data and each other with no gap and no
        // overlap, and end where the footer starts; the data blocks then
        // fill exactly the space between the header and the index.
        let tiles = HEADER_LEN <= index.start
            && index.end == bloom.start
            && bloom.end == properties.start
            && properties.end == footer_at;
        if !tiles {
            return Err(corrupt(footer_at, "sections do not tile the file"));
        }
        Ok(Footer {
            index,
            bloom,
            properties,
            entries,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn the_footer_has_its_documented_size_and_fields() {
        let footer = Footer {
            index: 8..20,
            bloom: 20..30,
            properties: 30..40,
            entries: 3,
        };
        let bytes = footer.encode();
        assert_eq!(bytes.len(), FOOTER_LEN);
        assert_eq!(&bytes[0..8], &8u64.to_le_bytes());
        assert_eq!(&bytes[8..16], &12u64.to_le_bytes());
        assert_eq!(&bytes[48..56], &3u64.to_le_bytes());
        assert_eq!(&bytes[56..60], &76u32.to_le_bytes());
        assert_eq!(&bytes[60..64], &FORMAT_VERSION.to_le_bytes());
        assert_eq!(&bytes[64..68], &crc32c::crc32c(&bytes[..64]).to_le_bytes());
        assert_eq!(&bytes[68..], b"TandemSS");
    }
}
