//! Segment files: their names, their header, and finding them.
//!
//! A segment is named by the log position (LSN) of its first record,
//! `<lsn, 20 digits>.wal`, so the names sort in log order and the segment
//! holding a position is found from the names alone. Its header is
//! `magic "TANDEMWL" | version u32 | start LSN u64 | crc32c u32` (24 bytes,
//! little-endian). This module must never read records: that is `reader`.

use crate::backend::{Backend, StorageFile};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The first bytes of every segment.
pub const MAGIC: &[u8; 8] = b"TANDEMWL";
/// The segment format this build writes and the newest it reads.
pub const VERSION: u32 = 1;
/// Bytes of the header, before the first record.
pub const HEADER: u64 = 24;

/// The file name of the segment starting at `lsn`.
pub fn name(lsn: u64) -> String {
    format!("{lsn:020}.wal")
}

/// The start LSN a segment file name stands for, if it is one.
pub fn parse_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".wal")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The start LSNs of the segments in `dir`, ascending.
pub fn list(fs: &dyn Backend, dir: &Path) -> Result<Vec<u64>> {
    let names = fs.list(dir).map_err(|e| Error::io("list", dir, e))?;
    let mut starts: Vec<u64> = names.iter().filter_map(|n| parse_name(n)).collect();
    starts.sort_unstable();
    Ok(starts)
}

/// The header bytes of a segment starting at `lsn`.
pub fn header(lsn: u64) -> [u8; HEADER as usize] {
    let mut h = [0u8; HEADER as usize];
    let mut fields = Vec::with_capacity(HEADER as usize);
    fields.extend_from_slice(MAGIC);
    fields.extend_from_slice(&VERSION.to_le_bytes());
    fields.extend_from_slice(&lsn.to_le_bytes());
    fields.extend_from_slice(&crc32c::crc32c(&fields).to_le_bytes());
    h.copy_from_slice(&fields);
    h
}

/// Creates the segment starting at `lsn` in `dir`, with its header synced
/// and its name made durable (rule 1: a segment that vanished in a crash
/// would leave a gap in the log).
pub fn create(fs: &dyn Backend, dir: &Path, lsn: u64) -> Result<(Box<dyn StorageFile>, PathBuf)> {
    let path = dir.join(name(lsn));
    let file = fs
        .create(&path)
        .map_err(|e| Error::io("create", &path, e))?;
    file.write_at(0, &header(lsn))
        .map_err(|e| Error::io("write", &path, e))?;
    file.sync().map_err(|e| Error::io("sync", &path, e))?;
    fs.sync_dir(dir).map_err(|e| Error::io("sync", dir, e))?;
    Ok((file, path))
}

/// Checks the header at the start of `bytes`, the segment at `path`,
/// against the start LSN its name gives.
pub fn check_header(bytes: &[u8], path: &Path, lsn: u64) -> Result<()> {
    let h = bytes
        .get(..HEADER as usize)
        .ok_or_else(|| Error::corrupt(path, 0, "segment shorter than its header"))?;
    let (fields, crc) = h.split_at(20);
    if crc32c::crc32c(fields).to_le_bytes() != crc {
        return Err(Error::corrupt(path, 0, "segment header checksum mismatch"));
    }
    if fields.get(0..8) != Some(MAGIC.as_slice()) {
        return Err(Error::corrupt(path, 0, "not a Tandem log segment"));
    }
    let mut version = [0u8; 4];
    version.copy_from_slice(fields.get(8..12).unwrap_or(&[0; 4]));
    let version = u32::from_le_bytes(version);
    if version > VERSION || version == 0 {
        return Err(Error::Version {
            path: path.to_owned(),
            found: version,
            supported: VERSION,
        });
    }
    let mut start = [0u8; 8];
    start.copy_from_slice(fields.get(12..20).unwrap_or(&[0; 8]));
    if u64::from_le_bytes(start) != lsn {
        return Err(Error::corrupt(
            path,
            12,
            "segment start does not match its name",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_in_log_order_and_parse_back() {
        let mut names: Vec<String> = [5u64, 100, 42, u64::MAX].iter().map(|&l| name(l)).collect();
        names.sort();
        let back: Vec<u64> = names.iter().filter_map(|n| parse_name(n)).collect();
        assert_eq!(back, vec![5, 42, 100, u64::MAX]);
        assert_eq!(parse_name("manifest"), None);
        assert_eq!(parse_name("0000000000000000000x.wal"), None);
    }
}
