//! The durable store: a group of keyspaces whose data survives a restart.
//!
//! Owns a data directory and what is in it: the manifest, snapshot files
//! and the write-ahead log (all from `tandem_storage`), the numbering of
//! the databases (SWAPDB's state, which must survive too), recovery
//! (`recover`) and taking snapshots (`snapshot`; `pipe` for one on two
//! threads while no client is served). It must never run a
//! command: it logs the effects the journal records, and replays them.
//!
//! # The durable state
//! The manifest names a snapshot (or none) and a log position, `log-start`,
//! and optionally `log-end`. The state is the snapshot's entries, then
//! every log record from `log-start` (to `log-end`) applied in order.
//!
//! # Why a snapshot taken while writes go on is exact
//! A snapshot reads every keyspace in key order in small batches, without
//! stopping writers, so it sees some keys before a change and some after.
//! What makes the result exact is the log: before the read starts, every
//! change is being logged (rule 1 below), and the snapshot records the log
//! position `L` it started at. Replay applies every record from `L` on.
//! Records hold effects (a key's whole new value and absolute deadline,
//! its removal, its new deadline, or the edits a change made to its
//! collection), so applying one to a snapshot that already has it
//! changes nothing (a list's edits are skipped unless the list is at the
//! change count they name; see `collection::edit`), and each key ends as
//! the log last left it; a key no record after `L` touched is as the
//! snapshot read it, since nothing changed it while it was read. With
//! `appendonly no`, the log runs only while a snapshot is taken and ends
//! (`log-end`) when it is done: the saved state is the one at that end.
//! The memory cost is the log's buffer, never a second copy of the data.
//!
//! # Rules (the crash windows)
//! 1. Logging is switched on, then every shard's lock is taken and released
//!    once (`Db::barrier`), then the start position is read: a write that
//!    began before logging was on has finished by then, and every later
//!    one is logged.
//! 2. A snapshot file is written under a temporary name, synced, renamed,
//!    and its directory synced; only then does a new manifest name it. A
//!    crash before the manifest leaves the old state whole.
//! 3. The log is synced up to the snapshot's end before the manifest that
//!    relies on it is installed.
//! 4. Files are deleted only after a manifest that no longer needs them is
//!    durable.
//! 5. After the log failed, writes stay refused until a snapshot holds
//!    everything and a manifest names the new log segment (`Wal::reopen`,
//!    then the manifest, then `Wal::resume`).

mod check;
mod pipe;
mod properties;
mod recover;
mod snapshot;

pub use check::{check, CheckReport};
pub use recover::Recovery;
pub use snapshot::SnapshotInfo;

use crate::db::Db;
use crate::journal::{self, Journal, Op};
use arc_swap::ArcSwapOption;
use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tandem_storage::backend::{Backend, StdFs};
use tandem_storage::wal::{SyncPolicy, Wal, WalOptions};
use tandem_storage::Result;

/// How a store keeps its data.
#[derive(Clone)]
pub struct StoreOptions {
    /// Where the files are written. Default: the real file system.
    pub fs: Arc<dyn Backend>,
    /// Keep a log of every change between snapshots (Redis's `appendonly`).
    /// Without it, only snapshots persist data. Default `true`.
    pub appendonly: bool,
    /// When the log is synced (Redis's `appendfsync`). Default `everysec`.
    pub sync: SyncPolicy,
    /// A log segment past this size is closed and another started.
    /// Default 64 MiB.
    pub segment_bytes: u64,
    /// Start even if the log ends in a torn record, cutting it off
    /// (Redis's `aof-load-truncated`). Default `true`.
    pub load_truncated: bool,
    /// Each write call waits for its own record (synced under `always`,
    /// written to the file otherwise) before returning: what an embedding
    /// program wants. A server sets it off and waits once per batch of
    /// requests, before replying. Default `true`.
    pub settle_each_write: bool,
    /// The snapshot file name: the log position it starts from goes before
    /// the extension (`dump.tdb` gives `dump.00000000000000000042.tdb`),
    /// so a new snapshot never overwrites the one the manifest names.
    /// Default `snapshot.tdb`.
    pub snapshot_name: String,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            fs: Arc::new(StdFs),
            appendonly: true,
            sync: SyncPolicy::EverySec,
            segment_bytes: 64 * 1024 * 1024,
            load_truncated: true,
            settle_each_write: true,
            snapshot_name: "snapshot.tdb".into(),
        }
    }
}

impl std::fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreOptions")
            .field("appendonly", &self.appendonly)
            .field("sync", &self.sync)
            .field("segment_bytes", &self.segment_bytes)
            .field("load_truncated", &self.load_truncated)
            .field("settle_each_write", &self.settle_each_write)
            .finish()
    }
}

impl StoreOptions {
    fn wal_options(&self) -> WalOptions {
        WalOptions {
            policy: self.sync,
            segment_bytes: self.segment_bytes,
        }
    }
}

/// What the store keeps between calls.
struct State {
    options: StoreOptions,
    /// The log all keyspaces write to, while `appendonly` is on.
    journal: Option<Arc<Journal>>,
    /// The position the next log will start at (past every segment ever
    /// written here, so a new log never reuses a name).
    next_lsn: u64,
    /// The manifest in force.
    manifest: tandem_storage::manifest::Manifest,
}

struct Inner {
    /// The log `appendonly` keeps, read without a lock (a server settles
    /// every batch of writes through it); kept equal to `State::journal`.
    journal: ArcSwapOption<Journal>,
    dir: PathBuf,
    fs: Arc<dyn Backend>,
    dbs: Vec<Db>,
    /// Database number to keyspace id; its lock also orders SWAPDB and
    /// `set_meta` against a snapshot's start.
    numbering: Mutex<Vec<u32>>,
    /// The named blobs kept beside the keyspaces (`set_meta`); changed
    /// only under `numbering`'s lock.
    meta: Mutex<properties::Meta>,
    state: Mutex<State>,
    /// One snapshot at a time.
    snapshotting: Mutex<()>,
    /// When the last snapshot was installed (Unix seconds; Redis's
    /// LASTSAVE), or when the store was opened.
    last_save: AtomicU64,
}

/// Keyspaces kept durable in a directory (see the module docs). Cheap to
/// clone: clones share the store.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.inner.dir)
            .field("databases", &self.inner.dbs.len())
            .finish()
    }
}

impl Store {
    /// Opens the store in `dir` (created if missing) over `dbs`, empty
    /// keyspaces whose ids are their positions: loads the newest snapshot,
    /// replays the log after it, and, with `appendonly`, logs every change
    /// from then on. Fails on any corruption, naming the file and offset;
    /// nothing is dropped silently.
    pub fn open(dir: &Path, options: StoreOptions, dbs: Vec<Db>) -> Result<(Store, Recovery)> {
        let recover::Recovered {
            state,
            numbering,
            meta,
            recovery,
        } = recover::run(dir, &options, &dbs)?;
        let store = Store {
            inner: Arc::new(Inner {
                journal: ArcSwapOption::new(state.journal.clone()),
                dir: dir.to_owned(),
                fs: options.fs.clone(),
                dbs,
                numbering: Mutex::new(numbering),
                meta: Mutex::new(meta),
                state: Mutex::new(state),
                snapshotting: Mutex::new(()),
                last_save: AtomicU64::new(unix_secs()),
            }),
        };
        if let Some(journal) = store.inner.state.lock().journal.clone() {
            for db in &store.inner.dbs {
                db.set_journal(Some(journal.clone()));
            }
        }
        Ok((store, recovery))
    }

    /// The keyspace with id `id`.
    pub fn db(&self, id: u32) -> Option<&Db> {
        self.inner.dbs.get(id as usize)
    }

    /// Every keyspace, by id.
    pub fn dbs(&self) -> &[Db] {
        &self.inner.dbs
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Database number to keyspace id.
    pub fn numbering(&self) -> Vec<u32> {
        self.inner.numbering.lock().clone()
    }

    /// SWAPDB: databases numbered `a` and `b` trade numbers. `apply` makes
    /// the change visible (a server swaps its table); it runs under the
    /// same lock as the logged record, so a snapshot sees both or neither.
    /// Returns false if either number is out of range.
    pub fn swap(&self, a: usize, b: usize, apply: impl FnOnce()) -> bool {
        let mut numbering = self.inner.numbering.lock();
        if a >= numbering.len() || b >= numbering.len() {
            return false;
        }
        numbering.swap(a, b);
        let journal = self.inner.state.lock().journal.clone();
        let scope = journal::begin(journal.as_deref(), 0);
        journal::other(&Op::SwapDb(a as u32, b as u32));
        drop(scope);
        apply();
        drop(numbering);
        if let Some(journal) = journal {
            // A failure poisons the log, which then refuses every write.
            let _ = journal.after_write();
        }
        true
    }

    /// The blob named `name` (see `set_meta`), as recovery left it or
    /// the last `set_meta` set it.
    pub fn meta(&self, name: &str) -> Option<Vec<u8>> {
        self.inner.meta.lock().get(name).cloned()
    }

    /// Sets (or, with `None`, removes) the blob named `name`: state the
    /// embedding program keeps beside the keyspaces and wants as durable
    /// as they are (a server's function libraries). The whole value is
    /// logged as one record, and snapshots hold every blob; after a
    /// restart `meta` returns the last value set. Calls are ordered by the
    /// caller: two racing calls are logged in the order they take the
    /// store's lock. Names are 1 to 64 ASCII letters, digits, `-` or `_`;
    /// false (and nothing done) for another name. Never call it with a
    /// change being recorded on the thread (inside a write of the
    /// keyspaces): its record would join that one, logged after the lock
    /// that orders it is released.
    pub fn set_meta(&self, name: &str, value: Option<&[u8]>) -> bool {
        if !properties::valid_meta_name(name) {
            return false;
        }
        let numbering = self.inner.numbering.lock();
        // Whatever log the keyspaces write to now: `appendonly`'s, or a
        // snapshot's while one runs with `appendonly no`.
        let journal = self.inner.dbs.first().and_then(Db::journal);
        let scope = journal::begin(journal.as_deref(), 0);
        journal::other(&Op::Meta {
            name: name.as_bytes(),
            value,
        });
        drop(scope);
        let mut meta = self.inner.meta.lock();
        match value {
            Some(v) => meta.insert(name.to_owned(), v.to_vec()),
            None => meta.remove(name),
        };
        drop(meta);
        drop(numbering);
        if let Some(journal) = journal {
            // A failure poisons the log, which then refuses every write.
            let _ = journal.after_write();
        }
        true
    }

    /// The log, while `appendonly` is on. No lock is taken.
    pub fn journal(&self) -> Option<Arc<Journal>> {
        self.inner.journal.load_full()
    }

    /// Whether the log failed (writes are refused until a snapshot): one
    /// lock-free load, for a server to check before every write command.
    pub fn log_failed(&self) -> bool {
        self.inner
            .journal
            .load()
            .as_ref()
            .is_some_and(|j| j.wal().has_failed())
    }

    /// Whether every change is logged (`appendonly`).
    pub fn appendonly(&self) -> bool {
        self.inner.state.lock().options.appendonly
    }

    /// Changes the sync policy of the log (CONFIG SET appendfsync).
    pub fn set_sync(&self, policy: SyncPolicy) {
        let mut state = self.inner.state.lock();
        state.options.sync = policy;
        if let Some(journal) = &state.journal {
            journal.wal().set_policy(policy);
        }
    }

    /// The sync policy.
    pub fn sync_policy(&self) -> SyncPolicy {
        self.inner.state.lock().options.sync
    }

    /// Switches the log on (a snapshot is taken first, as Redis rewrites
    /// its AOF then) or off (the log is closed where it is; the state saved
    /// so far stays the durable one).
    pub fn set_appendonly(&self, on: bool) -> Result<()> {
        let _one = self.inner.snapshotting.lock();
        if on == self.appendonly() {
            return Ok(());
        }
        if on {
            let journal = self.start_log()?;
            self.inner.state.lock().options.appendonly = true;
            snapshot::take_locked(&self.inner, Some(journal), false).map(drop)
        } else {
            self.inner.state.lock().options.appendonly = false;
            self.stop_log()
        }
    }

    /// Takes a snapshot now, while writes go on, and installs it; returns
    /// what it wrote. One runs at a time: a second caller waits.
    pub fn snapshot(&self) -> Result<SnapshotInfo> {
        let _one = self.inner.snapshotting.lock();
        let journal = self.journal();
        snapshot::take_locked(&self.inner, journal, false)
    }

    /// `snapshot`, reading the keyspaces on a thread of its own while this
    /// one builds the file (`pipe`): about a quarter faster with two cores,
    /// for a snapshot no client waits behind (an import's, while clients
    /// get `-LOADING`). A served store saves on one thread, leaving the
    /// other cores to requests; here a few chunks of about 1.6 MB, or one
    /// value past that size, are in flight between the two.
    pub fn snapshot_on_two_threads(&self) -> Result<SnapshotInfo> {
        let _one = self.inner.snapshotting.lock();
        let journal = self.journal();
        snapshot::take_locked(&self.inner, journal, true)
    }

    /// Reloads the durable state into the keyspaces (Redis's DEBUG
    /// RELOAD): a snapshot first when `save`, the keyspaces emptied when
    /// `flush`, then recovery as at start-up, logging again afterwards if
    /// `appendonly` is on. Returns what recovery found; the numbering may
    /// have changed (read `numbering`).
    pub fn reload(&self, save: bool, flush: bool) -> Result<Recovery> {
        if save {
            self.snapshot()?;
        }
        let _one = self.inner.snapshotting.lock();
        let journal = self.inner.state.lock().journal.take();
        self.inner.journal.store(None);
        if let Some(journal) = journal {
            self.inner.close_log(&journal)?;
        }
        if flush {
            for db in &self.inner.dbs {
                db.flush();
            }
        }
        let options = self.inner.state.lock().options.clone();
        let recover::Recovered {
            state,
            numbering,
            meta,
            recovery,
        } = recover::run(&self.inner.dir, &options, &self.inner.dbs)?;
        if let Some(journal) = &state.journal {
            for db in &self.inner.dbs {
                db.set_journal(Some(journal.clone()));
            }
        }
        self.inner.journal.store(state.journal.clone());
        let mut numbering_now = self.inner.numbering.lock();
        *numbering_now = numbering;
        *self.inner.meta.lock() = meta;
        drop(numbering_now);
        *self.inner.state.lock() = state;
        Ok(recovery)
    }

    /// When the last snapshot was installed, in Unix seconds (LASTSAVE).
    pub fn last_save(&self) -> u64 {
        self.inner.last_save.load(Ordering::Relaxed)
    }

    /// Writes out and syncs the log, and stops logging: for a clean
    /// shutdown. Writes after this are not logged.
    pub fn close(&self) -> Result<()> {
        let _one = self.inner.snapshotting.lock();
        let journal = self.inner.state.lock().journal.take();
        self.inner.journal.store(None);
        if let Some(journal) = journal {
            self.inner.close_log(&journal)?;
        }
        Ok(())
    }

    /// Starts the log `appendonly` keeps (rule 1). The caller holds
    /// `snapshotting`.
    fn start_log(&self) -> Result<Arc<Journal>> {
        let journal = self.inner.open_log()?;
        self.inner.state.lock().journal = Some(journal.clone());
        self.inner.journal.store(Some(journal.clone()));
        Ok(journal)
    }

    /// Stops logging and closes the log where it ends, recording that end
    /// in the manifest. The caller holds `snapshotting`.
    fn stop_log(&self) -> Result<()> {
        let journal = self.inner.state.lock().journal.take();
        self.inner.journal.store(None);
        let Some(journal) = journal else {
            return Ok(());
        };
        let end = self.inner.close_log(&journal)?;
        let mut state = self.inner.state.lock();
        let mut manifest = state.manifest.clone();
        manifest.log_end = Some(end);
        manifest.install(self.inner.fs.as_ref(), &self.inner.dir)?;
        state.manifest = manifest;
        Ok(())
    }
}

impl Inner {
    /// Starts a log at the next position and makes every keyspace write to
    /// it (rule 1). The caller holds `snapshotting`.
    fn open_log(&self) -> Result<Arc<Journal>> {
        let (at, opts, settle) = {
            let state = self.state.lock();
            (
                state.next_lsn,
                state.options.wal_options(),
                state.options.settle_each_write,
            )
        };
        let wal = Wal::create(self.fs.clone(), &self.dir, at, &opts)?;
        let journal = Arc::new(Journal::new(Arc::new(wal), settle));
        for db in &self.dbs {
            db.set_journal(Some(journal.clone()));
        }
        for db in &self.dbs {
            db.barrier();
        }
        Ok(journal)
    }

    /// Stops every keyspace logging to `journal`, waits for writes that
    /// still were, and closes the log (written out and synced); returns
    /// where it ended. Later logs start past it.
    fn close_log(&self, journal: &Arc<Journal>) -> Result<u64> {
        for db in &self.dbs {
            if db.journal().is_some_and(|j| Arc::ptr_eq(&j, journal)) {
                db.set_journal(None);
            }
        }
        for db in &self.dbs {
            db.barrier();
        }
        // `set_meta` appends under the numbering's lock, not a shard's:
        // one that found this log has appended by the time it is free.
        drop(self.numbering.lock());
        let closed = journal.wal().close();
        let end = journal.wal().next_lsn();
        let mut state = self.state.lock();
        state.next_lsn = state.next_lsn.max(end);
        closed.map(|()| end)
    }
}

fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
