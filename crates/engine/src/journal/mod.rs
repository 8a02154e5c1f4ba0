//! The journal: every change to a keyspace, recorded as it is applied, for
//! the write-ahead log.
//!
//! Owns the change record's format (`record`), the `Journal` a keyspace
//! logs to, and the per-thread recorder that turns what a lock holder did
//! to its shards into one record. It must never take a shard lock or look
//! at a keyspace: the memtable calls in (`put`, `del`) as it changes
//! entries, and whoever holds the locks opens a `Scope` around the change.
//!
//! # Why the memtable reports, not the commands
//! Every change to an entry goes through `ShardMap` (insert, replace,
//! patch, remove), so recording there catches every command, present and
//! future, and records the effect (the whole new value, the absolute
//! deadline), not the command: replay is deterministic and idempotent.
//! A collection changed in place is recorded by its edits, which its
//! type's mutators report (`collection::edit`), so a change costs the
//! log what it changed, not the collection's size.
//! Moves that change nothing a client can see (a resize's migration and
//! pulls) run outside any scope and are not recorded.
//!
//! # Rules
//! 1. A scope is opened while the lock holder has its shards locked, and
//!    commits (appends its one record to the log) before they are
//!    released. So the records of one key reach the log in the order the
//!    changes were applied, and a multi-key change (a batch, MSET, RENAME,
//!    EXEC) is one record, replayed all or nothing.
//! 2. A scope only records; getting the record to disk is the caller's
//!    (`Journal::settle`, or a server before it replies).

pub mod record;

use crate::collection::edit::{self, Recording};
use crate::entry::Entry;
use std::cell::{Cell, RefCell};
use std::sync::Arc;
use tandem_storage::wal::Wal;

pub use record::{BadRecord, Op};

/// Where a keyspace's changes are logged, and how a write waits for its
/// record.
pub struct Journal {
    wal: Arc<Wal>,
    /// Whether each write call waits for its record itself (an embedded
    /// `Db`), or leaves that to its caller (a server, once per batch of
    /// requests, before replying).
    settle_each: bool,
}

impl Journal {
    /// Logs to `wal`. With `settle_each`, every write call returns only
    /// once its record is as durable as the log's policy promises.
    pub fn new(wal: Arc<Wal>, settle_each: bool) -> Self {
        Self { wal, settle_each }
    }

    /// The log.
    pub fn wal(&self) -> &Arc<Wal> {
        &self.wal
    }

    /// Makes the records this thread appended durable as the policy says:
    /// synced under `always`, written to the file otherwise.
    pub fn settle(&self, lsn: u64) -> tandem_storage::Result<()> {
        match self.wal.policy() {
            tandem_storage::wal::SyncPolicy::Always => self.wal.wait_synced(lsn),
            _ => self.wal.write_out(lsn),
        }
    }

    /// Called after a write call released its locks: with `settle_each`,
    /// settles this thread's records, and says why not if that failed.
    /// The failure has poisoned the log, so later writes are refused too.
    pub(crate) fn after_write(&self) -> Result<(), String> {
        if !self.settle_each {
            return Ok(());
        }
        let lsn = take_thread_lsn();
        if take_thread_failure() {
            return Err(self
                .wal
                .failure()
                .unwrap_or_else(|| "the log is closed".into()));
        }
        if lsn > 0 {
            self.settle(lsn).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn append(&self, record: &[u8]) {
        match self.wal.append(record) {
            Ok(lsn) => LAST_LSN.with(|l| l.set(l.get().max(lsn))),
            // The log is poisoned and said why; the change stays in memory,
            // unacknowledged: settling this thread's records fails.
            Err(_) => FAILED.with(|f| f.set(true)),
        }
    }
}

struct Recorder {
    db: u32,
    buf: Vec<u8>,
    ops: u32,
}

thread_local! {
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    /// The open scope ends without a record (`discard_open_record`).
    static DISCARD: Cell<bool> = const { Cell::new(false) };
    static RECORDER: RefCell<Recorder> = const {
        RefCell::new(Recorder { db: 0, buf: Vec::new(), ops: 0 })
    };
    static LAST_LSN: Cell<u64> = const { Cell::new(0) };
    static FAILED: Cell<bool> = const { Cell::new(false) };
    static UNSETTLED: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Remembers that a batch on this thread could not be settled.
pub(crate) fn set_unsettled(why: String) {
    UNSETTLED.with_borrow_mut(|u| *u = Some(why));
}

/// Why the last batch on this thread could not be settled, if it could
/// not; resets it.
pub(crate) fn take_unsettled() -> Option<String> {
    UNSETTLED.with_borrow_mut(Option::take)
}

/// Appends the op `make` builds for the scope's database to the record,
/// if a scope is open.
#[inline]
fn append_op<'a>(make: impl FnOnce(u32) -> Op<'a>) {
    if ACTIVE.with(Cell::get) {
        RECORDER.with_borrow_mut(|r| {
            record::encode(&make(r.db), &mut r.buf);
            r.ops += 1;
        });
    }
}

/// Records that `entry` is its key's new state, if a scope is open.
#[inline]
pub(crate) fn put(entry: &Entry) {
    if ACTIVE.with(Cell::get) {
        // A collection is logged whole here (created, replaced, moved):
        // changes in place go through `changed`.
        let value = entry.encoded_value();
        append_op(|db| Op::Put {
            db,
            key: entry.key(),
            tag: entry.value_type().tag(),
            deadline: entry.expiry(),
            value: &value,
        });
    }
}

/// Starts catching a collection's edits for a change in place, if a
/// scope is open (`changed` records them).
#[inline]
pub(crate) fn edits() -> Option<Recording> {
    ACTIVE.with(Cell::get).then(edit::record)
}

/// Records that the collection in `entry` changed in place, from change
/// count `seq`: as the edits `recording` caught, or whole when it caught
/// none or more than the collection's own size.
pub(crate) fn changed(entry: &Entry, seq: u64, recording: Option<Recording>) {
    let Some(recording) = recording else {
        return;
    };
    recording.finish(|edits| match edits {
        Some(edits) if !edits.is_empty() && edits.len() <= entry.footprint() => {
            append_op(|db| Op::Edit {
                db,
                key: entry.key(),
                tag: entry.value_type().tag(),
                seq,
                edits,
            });
        }
        _ => put(entry),
    });
}

/// Records that `entry`'s deadline changed and nothing else, if a scope
/// is open: its value is not logged again.
#[inline]
pub(crate) fn deadline(entry: &Entry) {
    append_op(|db| Op::Deadline {
        db,
        key: entry.key(),
        deadline: entry.expiry(),
    });
}

/// Records that `key` was removed, if a scope is open.
#[inline]
pub(crate) fn del(key: &[u8]) {
    append_op(|db| Op::Del { db, key });
}

/// Records a change that is not one key's (FLUSHDB, FLUSHALL, SWAPDB), if
/// a scope is open.
pub(crate) fn other(op: &Op<'_>) {
    append_op(|_| op.clone());
}

/// An open recording on this thread (rule 1). Dropping it commits.
pub(crate) struct Scope<'a> {
    journal: Option<&'a Journal>,
    /// The database id of the enclosing scope, restored on drop.
    outer_db: Option<u32>,
}

/// Opens a scope recording changes to database `db` into `journal`; a
/// scope opened inside another only switches the database (a transfer
/// between databases is one record).
pub(crate) fn begin(journal: Option<&Journal>, db: u32) -> Scope<'_> {
    if ACTIVE.with(Cell::get) {
        let outer = RECORDER.with_borrow_mut(|r| std::mem::replace(&mut r.db, db));
        return Scope {
            journal: None,
            outer_db: Some(outer),
        };
    }
    if journal.is_some() {
        RECORDER.with_borrow_mut(|r| {
            r.db = db;
            r.buf.clear();
            record::start(&mut r.buf);
            r.ops = 0;
        });
        ACTIVE.with(|a| a.set(true));
    }
    Scope {
        journal,
        outer_db: None,
    }
}

/// Makes the scope open on this thread end without a record: its changes
/// stay in memory and never reach the log. Only for a server about to
/// stop without saving (SHUTDOWN NOSAVE while a script that wrote is
/// running), whose memory goes with it: what the log holds is then what
/// was there before the script, as Redis's AOF would hold it.
pub fn discard_open_record() {
    if ACTIVE.with(Cell::get) {
        DISCARD.with(|d| d.set(true));
    }
}

/// Where the open record stands (see `discard_since`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    len: usize,
    ops: u32,
}

/// Where the record open on this thread stands now, if a scope is open.
pub fn mark() -> Option<Mark> {
    if !ACTIVE.with(Cell::get) {
        return None;
    }
    Some(RECORDER.with_borrow(|r| Mark {
        len: r.buf.len(),
        ops: r.ops,
    }))
}

/// Drops the changes recorded in the open scope since `mark`, keeping
/// those before it: for a script stopped by SHUTDOWN NOSAVE inside a
/// batch of several (the scripts before it stay logged, as Redis's AOF
/// would have them). Their effects stay in memory, which the stopping
/// server is about to drop.
pub fn discard_since(mark: Mark) {
    if ACTIVE.with(Cell::get) {
        RECORDER.with_borrow_mut(|r| {
            if mark.len <= r.buf.len() && mark.ops <= r.ops {
                r.buf.truncate(mark.len);
                r.ops = mark.ops;
            }
        });
    }
}

/// Within an open scope, records the following changes as database
/// `db`'s (each side of a transfer between databases).
#[inline]
pub(crate) fn switch_db(db: u32) {
    if ACTIVE.with(Cell::get) {
        RECORDER.with_borrow_mut(|r| r.db = db);
    }
}

impl Drop for Scope<'_> {
    fn drop(&mut self) {
        if let Some(db) = self.outer_db {
            RECORDER.with_borrow_mut(|r| r.db = db);
            return;
        }
        let Some(journal) = self.journal.take() else {
            return;
        };
        ACTIVE.with(|a| a.set(false));
        let discard = DISCARD.with(|d| d.replace(false));
        RECORDER.with_borrow_mut(|r| {
            if r.ops > 0 && !discard {
                journal.append(&r.buf);
            }
            // A big value's record is not kept around for the next one.
            if r.buf.capacity() > 64 * 1024 {
                r.buf = Vec::new();
            }
        });
    }
}

/// The position just past the last record this thread appended since the
/// last call, or 0 if none; resets it. A server calls it after running a
/// batch of requests, to settle their records before replying.
pub fn take_thread_lsn() -> u64 {
    LAST_LSN.with(|l| l.replace(0))
}

/// The position just past the last record this thread appended since
/// `take_thread_lsn` was last called, without resetting it: what a write
/// done on another client's behalf must be settled to.
pub fn thread_lsn() -> u64 {
    LAST_LSN.with(Cell::get)
}

/// Makes this thread's next settle cover `lsn` too: for a reply to a
/// write that another thread made on this client's behalf.
pub fn note_thread_lsn(lsn: u64) {
    LAST_LSN.with(|l| l.set(l.get().max(lsn)));
}

/// Whether a record of this thread's failed to append since the last call;
/// resets it.
pub fn take_thread_failure() -> bool {
    FAILED.with(|f| f.replace(false))
}
