//! `Error`: every way storage can fail, with variants a caller can act on.
//!
//! I/O failures name the operation and the file; corruption names the file
//! and the byte offset, so an operator can look at it (or run `tandem
//! check`). It must never hide the difference between "the disk failed"
//! and "the bytes are wrong": a server answers the first with `-MISCONF`
//! and refuses to start on the second.

use std::path::PathBuf;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operating system refused an operation.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done: "write", "sync", "rename", ...
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Bytes on disk are not what was written: a checksum, a length or a
    /// tag is wrong somewhere other than a log's last record.
    #[error("corrupt {}: {reason} at byte {offset}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where the bad bytes start.
        offset: u64,
        /// What is wrong with them.
        reason: String,
    },
    /// A log ends inside a record (a write torn by a crash), and the
    /// caller asked not to cut it off (`aof-load-truncated no`).
    #[error("truncated {}: the last record is incomplete from byte {offset}", path.display())]
    Truncated {
        /// The log segment.
        path: PathBuf,
        /// Where the incomplete record starts.
        offset: u64,
    },
    /// A file is in a format version this build cannot read.
    #[error("{}: format version {found}, this build reads up to {supported}", path.display())]
    Version {
        /// The file.
        path: PathBuf,
        /// The version it carries.
        found: u32,
        /// The newest version this build reads.
        supported: u32,
    },
    /// An earlier write or sync failed, so this writer refuses to go on:
    /// what it had acknowledged as written may not be on disk.
    #[error("an earlier write failed ({0}); writes are refused until a snapshot succeeds")]
    Poisoned(String),
    /// The writer has been shut down.
    #[error("the log is closed")]
    Closed,
}

impl Error {
    /// An I/O error from `op` on `path`.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// Corruption in `path` at `offset`.
    pub fn corrupt(path: impl Into<PathBuf>, offset: u64, reason: impl Into<String>) -> Self {
        Error::Corrupt {
            path: path.into(),
            offset,
            reason: reason.into(),
        }
    }

    /// Whether this is bad data (as opposed to a failing disk).
    pub fn is_corruption(&self) -> bool {
        matches!(
            self,
            Error::Corrupt { .. } | Error::Truncated { .. } | Error::Version { .. }
        )
    }
}

/// A storage result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
