//! The manifest: which files make up the durable state of a log directory.
//!
//! Owns the manifest's format and its loading and installing. It names the
//! base snapshot (if any) and the log position replay starts from; every
//! record before that position is in the snapshot. It is replaced whole
//! (`install`), so a crash leaves the old manifest or the new one, never a
//! mix. It must never name a file that is not already durable: callers
//! install the snapshot and create the log segment first.
//!
//! Format (text, so an operator can read it): `tandem-manifest 1`, then
//! `snapshot <file name>` (or `snapshot -`), `log-start <lsn>`, optionally
//! `log-end <lsn>`, and last
//! `crc32c <hex>` over the lines before it.

use crate::backend::{read_exact_at, Backend};
use crate::error::{Error, Result};
use crate::install;
use std::path::Path;

/// The manifest's file name in a log directory.
pub const NAME: &str = "manifest";
/// The format this build writes and reads.
pub const VERSION: u32 = 1;
/// A manifest is a few lines; anything longer is not one.
const MAX_BYTES: u64 = 64 * 1024;

/// The durable state of a log directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The base snapshot's file name, in the same directory.
    pub snapshot: Option<String>,
    /// The log position replay starts from.
    pub log_start: u64,
    /// Where replay stops, if the log was closed there (a log kept only
    /// while a snapshot was taken, or `appendonly` switched off); later
    /// segments belong to no durable state. `None`: read to the end.
    pub log_end: Option<u64>,
}

impl Manifest {
    fn encode(&self) -> String {
        let mut body = format!(
            "tandem-manifest {VERSION}\nsnapshot {}\nlog-start {}\n",
            self.snapshot.as_deref().unwrap_or("-"),
            self.log_start
        );
        if let Some(end) = self.log_end {
            body.push_str(&format!("log-end {end}\n"));
        }
        let crc = crc32c::crc32c(body.as_bytes());
        body.push_str(&format!("crc32c {crc:08x}\n"));
        body
    }

    fn decode(path: &Path, bytes: &[u8]) -> Result<Manifest> {
        let bad = |why: &str| Error::corrupt(path, 0, why);
        let text = std::str::from_utf8(bytes).map_err(|_| bad("manifest is not text"))?;
        let crc_at = text
            .rfind("crc32c ")
            .ok_or_else(|| bad("manifest has no checksum"))?;
        let (body, crc_line) = text.split_at(crc_at);
        if crc_line != format!("crc32c {:08x}\n", crc32c::crc32c(body.as_bytes())) {
            return Err(bad("manifest checksum mismatch"));
        }
        let mut lines = body.lines();
        let version = lines
            .next()
            .and_then(|l| l.strip_prefix("tandem-manifest "))
            .and_then(|v| v.parse::<u32>().ok())
            .ok_or_else(|| bad("not a Tandem manifest"))?;
        if version > VERSION || version == 0 {
            return Err(Error::Version {
                path: path.to_owned(),
                found: version,
                supported: VERSION,
            });
        }
        let mut snapshot = None;
        let mut log_start = None;
        let mut log_end = None;
        for line in lines {
            match line.split_once(' ') {
                Some(("snapshot", "-")) => {}
                Some(("snapshot", name)) if valid_name(name) => snapshot = Some(name.to_owned()),
                Some(("log-start", n)) => log_start = n.parse().ok(),
                Some(("log-end", n)) => {
                    log_end = Some(n.parse().map_err(|_| bad("bad log-end"))?);
                }
                _ => return Err(bad("unknown manifest line")),
            }
        }
        Ok(Manifest {
            snapshot,
            log_start: log_start.ok_or_else(|| bad("manifest has no log-start"))?,
            log_end,
        })
    }

    /// The manifest of `dir`, or `None` if it has none.
    pub fn load(fs: &dyn Backend, dir: &Path) -> Result<Option<Manifest>> {
        let path = dir.join(NAME);
        let file = match fs.open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("open", &path, e)),
        };
        let len = file.len().map_err(|e| Error::io("stat", &path, e))?;
        if len > MAX_BYTES {
            return Err(Error::corrupt(&path, 0, "manifest too large"));
        }
        let mut bytes = vec![0u8; len as usize];
        read_exact_at(file.as_ref(), 0, &mut bytes).map_err(|e| Error::io("read", &path, e))?;
        Self::decode(&path, &bytes).map(Some)
    }

    /// Replaces the manifest of `dir` with this one, atomically and
    /// durably.
    pub fn install(&self, fs: &dyn Backend, dir: &Path) -> Result<()> {
        install::write_whole(fs, dir, NAME, self.encode().as_bytes()).map(drop)
    }
}

/// A file name with no path and no control characters in it (a line
/// break or carriage return would not survive the line format).
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains(|c: char| c == '/' || c.is_control())
        && name != "."
        && name != ".."
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_round_trips_and_any_change_is_caught() {
        let m = Manifest {
            snapshot: Some("snapshot-00000000000000000042.tdb".into()),
            log_start: 42,
            log_end: Some(99),
        };
        let text = m.encode();
        assert_eq!(
            Manifest::decode(Path::new("m"), text.as_bytes()).unwrap(),
            m
        );
        let bytes = text.as_bytes();
        for i in 0..bytes.len() {
            let mut bad = bytes.to_vec();
            if let Some(b) = bad.get_mut(i) {
                *b ^= 0x01;
            }
            assert!(
                Manifest::decode(Path::new("m"), &bad).is_err(),
                "flip at {i}"
            );
        }
        let none = Manifest {
            snapshot: None,
            log_start: 0,
            log_end: None,
        };
        assert_eq!(
            Manifest::decode(Path::new("m"), none.encode().as_bytes()).unwrap(),
            none
        );
    }

    /// Regression (found reading the `wal` fuzz target's round trip): a
    /// name ending in `\r` loaded as one file and was written back as
    /// another, since `lines()` drops a `\r` before each `\n`.
    #[test]
    fn a_name_with_a_control_character_is_refused() {
        let body = "tandem-manifest 1\nsnapshot foo\r\r\nlog-start 0\n";
        let text = format!("{body}crc32c {:08x}\n", crc32c::crc32c(body.as_bytes()));
        assert!(Manifest::decode(Path::new("m"), text.as_bytes()).is_err());
        assert!(!valid_name("dump\n.tdb"));
        assert!(valid_name("dump.tdb"));
    }
}
