//! The write-ahead log: records appended by many threads, written and
//! synced by few, in segment files.
//!
//! Owns the log's framing (`frame`), its segment files (`segment`), the
//! appending and group commit (`writer`), and reading it back (`reader`).
//! A record is an opaque payload here; its position is its LSN, the count
//! of framed bytes appended before it since the log began, so positions
//! only grow and survive segment changes. It must never interpret a
//! payload or decide what a failure means to a client: it reports.
//!
//! # Group commit
//! `append` only copies a framed record into a shared buffer (one short
//! lock, no I/O) and returns the position just past it. Getting it to disk
//! is separate, so that many appends share one `write` and one sync:
//! - `write_out(lsn)` writes whatever is buffered, up to at least `lsn`, to
//!   the current segment. A server calls it before it sends the replies of
//!   a batch of requests, so a reply never leaves before its record is in
//!   the kernel's page cache: a killed process loses nothing it
//!   acknowledged (only a power cut can, under `everysec` and `no`).
//! - `synced(lsn)` (a future) or `wait_synced(lsn)` (blocking) waits until
//!   a sync covers `lsn`. The `tandem-wal` thread does the syncing: under
//!   `always` whenever an append is waiting for one, writing out and
//!   syncing everything buffered so far, so all appends made during one
//!   sync share the next; under `everysec` once a second; under `no`
//!   never (the kernel flushes on its own schedule).
//!
//! # Crash windows
//! 1. A record is durable once a sync after its write succeeded; `durable()`
//!    never runs ahead of that.
//! 2. A segment is synced whole before the next one is created, and a new
//!    segment's header and name are synced before a record goes into it, so
//!    only the last segment can end in a torn record.
//! 3. A failed write or sync poisons the log (crate rule 2). Every later
//!    append fails, and every waiter is told, until `reopen` starts a new
//!    segment after a snapshot has made the state durable another way.

mod frame;
mod reader;
pub mod segment;
mod writer;

pub use frame::{FRAME_HEADER, MAX_RECORD};
pub use reader::{read, Replay, TornTail};
pub use writer::{Wal, WalStats};

/// When the log is synced (Redis's `appendfsync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPolicy {
    /// Before a write is acknowledged.
    Always,
    /// About once a second: a power cut loses at most the last second or two.
    EverySec,
    /// Never explicitly; the kernel writes dirty pages back on its own.
    No,
}

impl SyncPolicy {
    /// Redis's name for the policy.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncPolicy::Always => "always",
            SyncPolicy::EverySec => "everysec",
            SyncPolicy::No => "no",
        }
    }

    /// Parses Redis's name for a policy, case-insensitively.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "always" => Some(SyncPolicy::Always),
            "everysec" => Some(SyncPolicy::EverySec),
            "no" => Some(SyncPolicy::No),
            _ => None,
        }
    }

    fn to_u8(self) -> u8 {
        match self {
            SyncPolicy::Always => 0,
            SyncPolicy::EverySec => 1,
            SyncPolicy::No => 2,
        }
    }

    fn from_u8(v: u8) -> Self {
        match v {
            0 => SyncPolicy::Always,
            1 => SyncPolicy::EverySec,
            _ => SyncPolicy::No,
        }
    }
}

/// How a log is written.
#[derive(Debug, Clone)]
pub struct WalOptions {
    /// When to sync. Default `everysec`, as Redis.
    pub policy: SyncPolicy,
    /// A segment past this many bytes is closed and a new one started at
    /// the next record. Default 64 MiB.
    pub segment_bytes: u64,
}

impl Default for WalOptions {
    fn default() -> Self {
        Self {
            policy: SyncPolicy::EverySec,
            segment_bytes: 64 * 1024 * 1024,
        }
    }
}
