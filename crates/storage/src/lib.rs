//! Tandem's storage layer: what survives a restart.
//!
//! Owns the on-disk formats and the I/O discipline: the write-ahead log
//! (`wal`: framed, checksummed records in segment files, appended by one
//! group-commit writer), snapshot files (`sstable`: sorted, checksummed
//! blocks with an index and a Bloom filter), the `manifest` that says which
//! files make up the durable state, and `backend`, the file-system seam
//! through which every byte goes (so tests can fail, tear and lose
//! writes). It knows nothing of keys' meaning, expiry, shards or Redis:
//! records are opaque payloads to the log, and entries are key, value and
//! deadline to a snapshot. It must never use the engine or the server;
//! they sit above it.
//!
//! # The rules every file write follows
//! 1. A file that replaces another is written whole under a temporary name,
//!    synced, renamed over the old name, and then its directory is synced.
//!    Before the directory sync, the rename may be lost; the old file is
//!    still complete.
//! 2. A failed `sync` is never retried as if it had worked: the writer that
//!    saw it is poisoned, and every later append fails with the same error,
//!    because the kernel may already have dropped the dirty pages it could
//!    not write (the fsyncgate lesson).
//! 3. A length read from disk is checked against what remains of its file
//!    and a fixed bound before anything is allocated for it.

#![deny(clippy::indexing_slicing)]

pub mod backend;
mod error;
pub mod install;
pub mod manifest;
pub mod sstable;
pub mod wal;

pub use error::{Error, Result};
