//! Persistence as the server runs it: the durable store, start-up loading,
//! SAVE, BGSAVE and BGREWRITEAOF jobs, the `save` rules, and what INFO
//! and `-MISCONF` say about them.
//!
//! Owns the one `tandem_engine::Store` over the databases, the loading
//! flag (`-LOADING`), the background job (one at a time, on a
//! `tandem-save` thread, as Redis has one child), and the status Redis
//! reports. It must never block a serving thread for a background job,
//! nor report a save that did not finish as done.
//!
//! Tandem has one kind of snapshot, so BGSAVE and BGREWRITEAOF run the
//! same job: with `appendonly yes` a snapshot also compacts the log (the
//! log before it is deleted), which is what a rewrite is for. Each keeps
//! Redis's replies and counters.

use crate::config::Config;
use crate::databases::Databases;
use crate::shared::Shared;
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tandem_engine::storage::wal::SyncPolicy;
use tandem_engine::{Recovery, Store, StoreOptions};

/// Redis's wait before retrying a failed automatic save.
const RETRY_DELAY: Duration = Duration::from_secs(5);

/// A background job's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// BGSAVE, or a save rule.
    Save,
    /// BGREWRITEAOF, or CONFIG SET appendonly yes (which starts the log
    /// from a fresh snapshot).
    Rewrite,
}

/// What a BGSAVE or BGREWRITEAOF request got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// The job runs now.
    Now,
    /// It runs once the running job ends.
    Scheduled,
}

#[derive(Default)]
struct Status {
    running: Option<(Job, Instant)>,
    scheduled_save: bool,
    scheduled_rewrite: bool,
    /// Turn the log on when the next rewrite runs.
    enable_log: bool,
    last_save_ok: bool,
    last_save_secs: Option<u64>,
    saves: u64,
    last_rewrite_ok: bool,
    last_rewrite_secs: Option<u64>,
    rewrites: u64,
    rewrite_failures: u64,
    /// `Stats::changes` when the last successful save began, and when the
    /// running one began.
    changes_at_save: u64,
    changes_at_start: u64,
    /// When an automatic save last failed.
    failed_at: Option<Instant>,
    loaded: Option<Recovery>,
}

struct Inner {
    store: OnceLock<Store>,
    loading: AtomicBool,
    /// How loading ended: `None` while it runs, then `Ok` or why not.
    loaded: Mutex<Option<Result<(), String>>>,
    loaded_cv: Condvar,
    /// The last background save failed: read by every write command, so
    /// an atomic beside `Status::last_save_ok`.
    save_failed: AtomicBool,
    /// The store was closed for shutdown.
    closed: AtomicBool,
    /// SHUTDOWN NOSAVE came while a script was busy: the shutdown at the
    /// server's end saves nothing (see `skip_save`).
    skip_save: AtomicBool,
    /// When the server started (Unix seconds): LASTSAVE before loading.
    started: u64,
    status: Mutex<Status>,
}

/// The server's persistence (see the module docs). Cheap to clone.
#[derive(Clone)]
pub struct Persistence {
    inner: Arc<Inner>,
}

impl Default for Persistence {
    fn default() -> Self {
        Self::new()
    }
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Persistence {
    /// Before loading: every command without the `loading` flag is refused.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                store: OnceLock::new(),
                loading: AtomicBool::new(true),
                loaded: Mutex::new(None),
                loaded_cv: Condvar::new(),
                save_failed: AtomicBool::new(false),
                closed: AtomicBool::new(false),
                skip_save: AtomicBool::new(false),
                started: unix_secs(),
                status: Mutex::new(Status {
                    last_save_ok: true,
                    last_rewrite_ok: true,
                    ..Status::default()
                }),
            }),
        }
    }

    /// Loads the data in `config`'s directory into `dbs`, and from then on
    /// keeps it durable as `config` says; `restore` brings back what the
    /// server keeps beside the keys (its function libraries), and runs an
    /// import if one was asked for, before the loading phase ends.
    pub fn load(
        &self,
        config: &Config,
        dbs: &Databases,
        restore: &dyn Fn() -> Result<(), String>,
    ) -> tandem_engine::storage::Result<()> {
        // A panic must still end the loading phase (as a failure), or
        // `wait_loaded` would wait forever.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.open(config, dbs, restore)
        }))
        .unwrap_or_else(|_| {
            Err(tandem_engine::storage::Error::Poisoned(
                "the loading thread panicked".into(),
            ))
        });
        *self.inner.loaded.lock() = Some(result.as_ref().map(drop).map_err(ToString::to_string));
        self.inner.loaded_cv.notify_all();
        result
    }

    /// Waits until loading has ended; returns why it failed, if it did.
    pub fn wait_loaded(&self) -> Result<(), String> {
        let mut loaded = self.inner.loaded.lock();
        loop {
            if let Some(result) = &*loaded {
                return result.clone();
            }
            self.inner.loaded_cv.wait(&mut loaded);
        }
    }

    fn open(
        &self,
        config: &Config,
        dbs: &Databases,
        restore: &dyn Fn() -> Result<(), String>,
    ) -> tandem_engine::storage::Result<()> {
        let options = StoreOptions {
            fs: config.fs.0.clone(),
            appendonly: config.appendonly,
            sync: config.appendfsync,
            load_truncated: config.aof_load_truncated,
            settle_each_write: false,
            snapshot_name: config.dbfilename.clone(),
            ..StoreOptions::default()
        };
        let (store, recovery) = Store::open(&config.store_dir(), options, dbs.by_id())?;
        dbs.renumber(&store.numbering());
        dbs.attach(store.clone());
        self.inner.status.lock().loaded = Some(recovery);
        let dir = store.dir().to_owned();
        let _ = self.inner.store.set(store);
        restore().map_err(|why| tandem_engine::storage::Error::corrupt(&dir, 0, why))?;
        self.inner.loading.store(false, Ordering::Release);
        Ok(())
    }

    /// Whether the dataset is still loading.
    pub fn loading(&self) -> bool {
        self.inner.loading.load(Ordering::Acquire)
    }

    /// The store, once loaded.
    pub fn store(&self) -> Option<&Store> {
        self.inner.store.get()
    }

    /// Why a write command (or PING, as in Redis) is refused now, in
    /// Redis's words: a failed background save under
    /// `stop-writes-on-bgsave-error`, or a failed log.
    pub fn refusal(&self, config: &Config) -> Option<String> {
        if config.stop_writes_on_bgsave_error
            && config.save.any()
            && self.inner.save_failed.load(Ordering::Relaxed)
        {
            return Some(MISCONF_SAVE.into());
        }
        let store = self.store()?;
        if store.log_failed() {
            let why = store.journal()?.wal().failure()?;
            return Some(format!("MISCONF Errors writing to the AOF file: {why}"));
        }
        None
    }

    /// SAVE: a snapshot now, on the calling thread.
    pub fn save(&self, changes: u64) -> Result<(), String> {
        let store = self.store().ok_or("ERR the dataset is still loading")?;
        if self
            .inner
            .status
            .lock()
            .running
            .is_some_and(|(j, _)| j == Job::Save)
        {
            return Err("ERR Background save already in progress".into());
        }
        let started = Instant::now();
        let result = store.snapshot();
        let mut s = self.inner.status.lock();
        match result {
            Ok(info) => {
                s.last_save_ok = true;
                self.inner.save_failed.store(false, Ordering::Relaxed);
                s.saves += 1;
                s.changes_at_save = changes;
                s.last_save_secs = Some(started.elapsed().as_secs());
                log_saved(&info);
                Ok(())
            }
            Err(e) => {
                s.last_save_ok = false;
                self.inner.save_failed.store(true, Ordering::Relaxed);
                tracing::error!("SAVE failed: {e}");
                Err("ERR".into())
            }
        }
    }

    /// BGSAVE (`Job::Save`) or BGREWRITEAOF (`Job::Rewrite`): starts the
    /// job on its own thread, or schedules it, or says why not in Redis's
    /// words. `schedule` is BGSAVE SCHEDULE.
    pub fn background(&self, job: Job, schedule: bool, changes: u64) -> Result<Started, String> {
        let mut s = self.inner.status.lock();
        match (s.running.map(|(j, _)| j), job) {
            (None, _) => {}
            (Some(Job::Save), Job::Save) => {
                return Err("ERR Background save already in progress".into())
            }
            (Some(Job::Rewrite), Job::Rewrite) => {
                return Err("ERR Background append only file rewriting already in progress".into())
            }
            (Some(Job::Rewrite), Job::Save) if !schedule => {
                return Err("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.".into())
            }
            (Some(_), Job::Save) => {
                s.scheduled_save = true;
                return Ok(Started::Scheduled);
            }
            (Some(_), Job::Rewrite) => {
                s.scheduled_rewrite = true;
                return Ok(Started::Scheduled);
            }
        }
        drop(s);
        self.start(job, changes).map(|()| Started::Now)
    }

    /// CONFIG SET appendonly: `yes` starts the log from a fresh snapshot in
    /// the background (a rewrite, as Redis); `no` closes it now.
    pub fn set_appendonly(&self, on: bool, changes: u64) -> Result<(), String> {
        let store = self.store().ok_or("ERR the dataset is still loading")?;
        if !on {
            return store.set_appendonly(false).map_err(|e| e.to_string());
        }
        if store.appendonly() {
            return Ok(());
        }
        self.inner.status.lock().enable_log = true;
        self.background(Job::Rewrite, false, changes).map(drop)
    }

    /// CONFIG SET appendfsync.
    pub fn set_sync(&self, policy: SyncPolicy) {
        if let Some(store) = self.store() {
            store.set_sync(policy);
        }
    }

    fn start(&self, job: Job, changes: u64) -> Result<(), String> {
        let Some(store) = self.store().cloned() else {
            return Err("ERR the dataset is still loading".into());
        };
        let enable_log = {
            let mut s = self.inner.status.lock();
            s.running = Some((job, Instant::now()));
            s.changes_at_start = changes;
            job == Job::Rewrite && std::mem::take(&mut s.enable_log)
        };
        let me = self.clone();
        let spawned = std::thread::Builder::new()
            .name("tandem-save".into())
            .spawn(move || {
                // A panic must end the job as failed, or it would stay
                // "in progress" and refuse every later save.
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    if enable_log {
                        store.set_appendonly(true)
                    } else {
                        store.snapshot().map(|info| log_saved(&info))
                    }
                }))
                .unwrap_or_else(|_| {
                    Err(tandem_engine::storage::Error::Poisoned(
                        "the save thread panicked".into(),
                    ))
                });
                me.finished(job, result);
            });
        if let Err(e) = spawned {
            let msg = format!("ERR could not start the background job: {e}");
            self.finished(
                job,
                Err(tandem_engine::storage::Error::io("spawn", "tandem-save", e)),
            );
            return Err(msg);
        }
        Ok(())
    }

    fn finished(&self, job: Job, result: tandem_engine::storage::Result<()>) {
        let next = {
            let mut s = self.inner.status.lock();
            let took = s.running.take().map(|(_, t)| t.elapsed().as_secs());
            let ok = result.is_ok();
            match job {
                Job::Save => {
                    s.last_save_ok = ok;
                    s.last_save_secs = took;
                    if ok {
                        s.saves += 1;
                    }
                }
                Job::Rewrite => {
                    s.last_rewrite_ok = ok;
                    s.last_rewrite_secs = took;
                    s.rewrites += 1;
                    s.rewrite_failures = if ok { 0 } else { s.rewrite_failures + 1 };
                }
            }
            // Either job writes a snapshot: both count as a save, and a
            // success clears a failed save's refusal of writes.
            if ok || job == Job::Save {
                s.last_save_ok = ok;
                self.inner.save_failed.store(!ok, Ordering::Relaxed);
            }
            if ok {
                s.changes_at_save = s.changes_at_start;
                s.failed_at = None;
            } else {
                s.failed_at = Some(Instant::now());
            }
            match &result {
                Ok(()) => tracing::info!("background {job:?} finished"),
                Err(e) => tracing::error!("background {job:?} failed: {e}"),
            }
            if std::mem::take(&mut s.scheduled_rewrite) {
                Some(Job::Rewrite)
            } else if std::mem::take(&mut s.scheduled_save) {
                Some(Job::Save)
            } else {
                None
            }
        };
        if let Some(job) = next {
            let changes = self.inner.status.lock().changes_at_start;
            let _ = self.start(job, changes);
        }
    }

    /// Once a second: starts a save when a `save` rule says so (after a
    /// failure, only once `RETRY_DELAY` has passed, as Redis).
    pub fn tick(&self, config: &Config, changes: u64) {
        if self.store().is_none() || !config.save.any() {
            return;
        }
        let due = {
            let s = self.inner.status.lock();
            let since = unix_secs().saturating_sub(self.last_save());
            s.running.is_none()
                && s.failed_at.is_none_or(|t| t.elapsed() >= RETRY_DELAY)
                && config
                    .save
                    .due(since, changes.saturating_sub(s.changes_at_save))
        };
        if due {
            tracing::info!("save rule met: saving in the background");
            let _ = self.start(Job::Save, changes);
        }
    }

    /// When the last snapshot was installed (LASTSAVE), or the start.
    pub fn last_save(&self) -> u64 {
        self.store().map_or(self.inner.started, Store::last_save)
    }

    /// At shutdown: a snapshot if `save` (SHUTDOWN SAVE, or save rules
    /// without NOSAVE), then the log written out and synced. An error
    /// keeps the server running (Redis's "Errors trying to SHUTDOWN").
    pub fn shutdown(&self, save: bool, changes: u64) -> Result<(), String> {
        let Some(store) = self.store() else {
            return Ok(());
        };
        let save = save && !self.inner.skip_save.load(Ordering::Acquire);
        if self.inner.closed.load(Ordering::Acquire) {
            return Ok(());
        }
        if save {
            self.save(changes)?;
        }
        self.inner.closed.store(true, Ordering::Release);
        store.close().map_err(|e| {
            tracing::error!("could not sync the log at shutdown: {e}");
            "ERR".to_string()
        })
    }

    /// Makes the shutdown at the server's end save nothing: SHUTDOWN NOSAVE
    /// while a script is busy leaves the log's sync to then, once the
    /// script has stopped (its open changes unlogged) and released its
    /// keys, which syncing now would wait for.
    pub fn skip_save(&self) {
        self.inner.skip_save.store(true, Ordering::Release);
    }

    /// INFO's `# Persistence` fields, in Redis 7's order.
    pub fn info(&self, changes: u64, mut field: impl FnMut(&str, String)) {
        let s = self.inner.status.lock();
        let store = self.store();
        let now_secs = |t: Option<(Job, Instant)>, job: Job| match t {
            Some((j, at)) if j == job => at.elapsed().as_secs().to_string(),
            _ => "-1".into(),
        };
        let secs = |v: Option<u64>| v.map_or("-1".to_string(), |v| v.to_string());
        let ok = |b: bool| if b { "ok" } else { "err" }.to_string();
        let (loaded, expired) = s.loaded.as_ref().map_or((0, 0), |r| (r.keys, r.expired));
        field("loading", u8::from(self.loading()).to_string());
        field("async_loading", "0".into());
        // No fork, so no copy-on-write: these stay 0.
        field("current_cow_peak", "0".into());
        field("current_cow_size", "0".into());
        field("current_cow_size_age", "0".into());
        field("current_fork_perc", "0.00".into());
        field("current_save_keys_processed", "0".into());
        field("current_save_keys_total", "0".into());
        field(
            "rdb_changes_since_last_save",
            changes.saturating_sub(s.changes_at_save).to_string(),
        );
        let saving = s.running.is_some_and(|(j, _)| j == Job::Save);
        field("rdb_bgsave_in_progress", u8::from(saving).to_string());
        field("rdb_last_save_time", self.last_save().to_string());
        field("rdb_last_bgsave_status", ok(s.last_save_ok));
        field("rdb_last_bgsave_time_sec", secs(s.last_save_secs));
        field(
            "rdb_current_bgsave_time_sec",
            now_secs(s.running, Job::Save),
        );
        field("rdb_saves", s.saves.to_string());
        field("rdb_last_cow_size", "0".into());
        field("rdb_last_load_keys_expired", expired.to_string());
        field("rdb_last_load_keys_loaded", loaded.to_string());
        let aof = store.is_some_and(Store::appendonly);
        field("aof_enabled", u8::from(aof).to_string());
        let rewriting = s.running.is_some_and(|(j, _)| j == Job::Rewrite);
        field("aof_rewrite_in_progress", u8::from(rewriting).to_string());
        field(
            "aof_rewrite_scheduled",
            u8::from(s.scheduled_rewrite).to_string(),
        );
        field("aof_last_rewrite_time_sec", secs(s.last_rewrite_secs));
        field(
            "aof_current_rewrite_time_sec",
            now_secs(s.running, Job::Rewrite),
        );
        field("aof_last_bgrewrite_status", ok(s.last_rewrite_ok));
        field("aof_rewrites", s.rewrites.to_string());
        field(
            "aof_rewrites_consecutive_failures",
            s.rewrite_failures.to_string(),
        );
        let failed = store
            .and_then(Store::journal)
            .is_some_and(|j| j.wal().has_failed());
        field("aof_last_write_status", ok(!failed));
        field("aof_last_cow_size", "0".into());
        field("module_fork_in_progress", "0".into());
        field("module_fork_last_cow_size", "0".into());
        if let Some(journal) = store.and_then(Store::journal) {
            let stats = journal.wal().stats();
            field("aof_current_size", stats.bytes.to_string());
            field("aof_pending_rewrite", "0".into());
            field(
                "aof_buffer_length",
                journal
                    .wal()
                    .next_lsn()
                    .saturating_sub(journal.wal().written())
                    .to_string(),
            );
            field("aof_pending_bio_fsync", "0".into());
            field("aof_delayed_fsync", "0".into());
            // Tandem's own: how well group commit groups.
            field("aof_records", stats.records.to_string());
            field("aof_writes", stats.writes.to_string());
            field("aof_fsyncs", stats.syncs.to_string());
        }
    }
}

/// Redis's refusal of writes after a failed background save.
pub const MISCONF_SAVE: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/// Settles the records the current thread appended while running a batch
/// of requests, before their replies go out: under `always` until synced,
/// otherwise until written to the file (a killed process then loses
/// nothing acknowledged). An error means the replies must not be sent.
pub async fn settle(shared: &Shared) -> Result<(), String> {
    let lsn = tandem_engine::journal::take_thread_lsn();
    let failed = tandem_engine::journal::take_thread_failure();
    if lsn == 0 && !failed {
        return Ok(());
    }
    let Some(journal) = shared.persistence.store().and_then(Store::journal) else {
        return Ok(());
    };
    if failed {
        return Err(journal.wal().failure().unwrap_or_default());
    }
    let wal = journal.wal();
    // Yielding first lets every other ready connection on this thread run
    // its batch before anyone writes or asks for a sync: the first one
    // back writes out (or has synced) all of their records, and the rest
    // find theirs done, as Redis writes its AOF once per event-loop turn.
    // Without it each connection's batch costs a `write` of its own, and
    // the serving threads queue for the segment to make them.
    let done = match wal.policy() {
        SyncPolicy::Always => {
            if wal.durable() < lsn {
                tokio::task::yield_now().await;
            }
            wal.synced(lsn).await
        }
        SyncPolicy::EverySec | SyncPolicy::No => {
            if wal.written() < lsn {
                tokio::task::yield_now().await;
            }
            wal.write_out(lsn)
        }
    };
    done.map_err(|e| e.to_string())
}

/// The log line of a snapshot written (SAVE, BGSAVE, BGREWRITEAOF).
fn log_saved(info: &tandem_engine::SnapshotInfo) {
    tracing::info!(
        "DB saved on disk: {} keys in {:?} ({} big values copied in {} steps)",
        info.keys,
        info.elapsed,
        info.stepped.stepped_values,
        info.stepped.steps
    );
}
