//! Reading the log back: every record from a position on, in order.
//!
//! Owns the rules that tell a torn tail (a crash cut the last write short:
//! cut it off) from corruption (anything else: stop and name the file and
//! offset). It must never skip a bad record and go on: a record it cannot
//! read may hold a change later records depend on.
//!
//! A bad or short record is a torn tail only when it is in the last
//! segment and nothing but zeros follows it (a file system may extend a
//! file before the data lands, and the unwritten part reads as zeros).

use super::frame::{self, Frame};
use super::segment;
use crate::backend::Backend;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Where a log's last segment ends in an incomplete record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The segment.
    pub path: PathBuf,
    /// The file offset where the incomplete record starts; the segment is
    /// cut to this length.
    pub offset: u64,
    /// The bytes after it.
    pub bytes: u64,
}

impl TornTail {
    /// Cuts the segment back to its last complete record, durably.
    pub fn cut(&self, fs: &dyn Backend) -> Result<()> {
        let file = fs
            .open(&self.path)
            .map_err(|e| Error::io("open", &self.path, e))?;
        file.set_len(self.offset)
            .map_err(|e| Error::io("truncate", &self.path, e))?;
        file.sync().map_err(|e| Error::io("sync", &self.path, e))
    }
}

/// What a read of the log found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    /// The LSN just past the last complete record: where the log goes on.
    pub end: u64,
    /// Records read.
    pub records: u64,
    /// Bytes of records read.
    pub bytes: u64,
    /// Segments read.
    pub segments: usize,
    /// An incomplete last record, if the log ends in one.
    pub torn: Option<TornTail>,
}

/// Calls `each(lsn, payload)` for every record of the log in `dir` from
/// position `from` on (up to `until`, if given), in order, where `lsn` is
/// the position just past the record. A torn tail is an error unless `allow_torn` (Redis's
/// `aof-load-truncated`); then it is returned for the caller to log and
/// `cut`. An error from `each` stops the read and is returned.
pub fn read(
    fs: &dyn Backend,
    dir: &Path,
    from: u64,
    until: Option<u64>,
    allow_torn: bool,
    mut each: impl FnMut(u64, &[u8]) -> Result<()>,
) -> Result<Replay> {
    let mut starts = segment::list(fs, dir)?;
    if let Some(until) = until {
        // Segments starting at or past the end belong to no durable state.
        starts.retain(|&s| s < until || s == from);
    }
    let first = starts.iter().rposition(|&s| s <= from).ok_or_else(|| {
        Error::corrupt(
            dir,
            0,
            format!("no log segment holds position {from} (the log is missing)"),
        )
    })?;
    let mut replay = Replay {
        end: from,
        records: 0,
        bytes: 0,
        segments: 0,
        torn: None,
    };
    let chosen = starts.get(first..).unwrap_or_default();
    for (i, &start) in chosen.iter().enumerate() {
        let last = i + 1 == chosen.len();
        let path = dir.join(segment::name(start));
        if i > 0 && start != replay.end {
            return Err(Error::corrupt(
                &path,
                0,
                format!(
                    "gap in the log: the previous segment ends at {}",
                    replay.end
                ),
            ));
        }
        let bytes = read_whole(fs, &path)?;
        segment::check_header(&bytes, &path, start)?;
        let skip = replay.end - start;
        let mut pos = segment::HEADER
            .checked_add(skip)
            .filter(|&p| p <= bytes.len() as u64)
            .ok_or_else(|| {
                Error::corrupt(
                    &path,
                    0,
                    format!("position {from} is past the segment's end"),
                )
            })? as usize;
        replay.segments += 1;
        while pos < bytes.len() {
            if until.is_some_and(|u| replay.end >= u) {
                break;
            }
            let rest = bytes.get(pos..).unwrap_or_default();
            match frame::decode(rest) {
                Frame::Record(payload, len) => {
                    // A crafted segment name can put positions near the
                    // top of `u64`: past it is corruption, not a wrap.
                    replay.end = replay.end.checked_add(len as u64).ok_or_else(|| {
                        Error::corrupt(&path, pos as u64, "log position overflows")
                    })?;
                    replay.records += 1;
                    replay.bytes = replay.bytes.saturating_add(len as u64);
                    each(replay.end, payload)?;
                    pos += len;
                }
                Frame::Short | Frame::Bad(_) if last && torn_tail(rest) => {
                    let torn = TornTail {
                        path: path.clone(),
                        offset: pos as u64,
                        bytes: rest.len() as u64,
                    };
                    if !allow_torn {
                        return Err(Error::Truncated {
                            path,
                            offset: pos as u64,
                        });
                    }
                    replay.torn = Some(torn);
                    break;
                }
                Frame::Short => {
                    return Err(Error::corrupt(
                        &path,
                        pos as u64,
                        "incomplete record before the log's end",
                    ));
                }
                Frame::Bad(why) => return Err(Error::corrupt(&path, pos as u64, why)),
            }
        }
    }
    if let Some(until) = until {
        if replay.end < until && replay.torn.is_none() {
            return Err(Error::corrupt(
                dir,
                0,
                format!(
                    "the log ends at {} before its recorded end {until}",
                    replay.end
                ),
            ));
        }
    }
    Ok(replay)
}

/// Whether what is left, starting with a frame that is short or bad, can
/// only be the remains of a write a crash cut short.
fn torn_tail(rest: &[u8]) -> bool {
    match frame::decode(rest) {
        Frame::Short => true,
        // A length that fits: everything after the claimed record must be
        // zeros. A length that does not: everything must be.
        _ => {
            let claimed = frame::le_u32(rest, 0).unwrap_or(0) as usize;
            let after = frame::FRAME_HEADER.saturating_add(claimed);
            let tail = if claimed > 0 && claimed <= frame::MAX_RECORD && after <= rest.len() {
                rest.get(after..).unwrap_or_default()
            } else {
                rest
            };
            tail.iter().all(|&b| b == 0)
        }
    }
}

fn read_whole(fs: &dyn Backend, path: &Path) -> Result<Vec<u8>> {
    let file = fs.open(path).map_err(|e| Error::io("open", path, e))?;
    let len = file.len().map_err(|e| Error::io("stat", path, e))?;
    let len = usize::try_from(len).map_err(|_| Error::corrupt(path, 0, "segment too large"))?;
    let mut bytes = vec![0u8; len];
    crate::backend::read_exact_at(file.as_ref(), 0, &mut bytes)
        .map_err(|e| Error::io("read", path, e))?;
    Ok(bytes)
}
