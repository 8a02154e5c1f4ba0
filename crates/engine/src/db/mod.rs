//! `Db`: the engine's front door.
//!
//! Owns the keyspace (its memtable, clock, limits and SCAN cursors) and
//! the operations that span it: atomic batches, scans, DBSIZE, FLUSH and
//! stats. Per-key operations come from the `KeyValue` trait, whose
//! semantics live in the per-command modules beside this one.
//!
//! A request path here takes at most the locks of the shards it touches.
//! There is no global lock: FLUSH is the only operation that takes every
//! shard's lock, briefly, in the same ascending order as batches.

mod access;
mod batch;
mod bits;
mod collection;
mod copy;
mod counters;
mod dump;
mod evict;
mod expire;
mod hashes;
mod hll;
mod keys;
mod kv;
mod lists;
mod load;
mod persist;
mod scan;
mod sets;
mod stats;
mod stream_groups;
mod streams;
mod strings;
mod types;
mod watch;
mod zset_algebra;
mod zsets;

pub use batch::Tx;
pub use bits::Bits;
pub use dump::{Dumps, Restore, Restored, Stamp};
pub use evict::{evict_one, EvictState, Evicted};
pub use hashes::{FieldValue, HashPart, Hashes};
pub use hll::{HyperLogLogs, PfDebug, PfDebugReply};
pub use kv::KeyValue;
pub use lists::{Lists, PosOptions};
pub use load::{Loadable, ResizeHold};
pub use persist::{DumpEntry, DumpStats};
pub use sets::{SetAlgebra, Sets};
pub use stats::{ShardStats, Stats};
pub use stream_groups::{GroupOp, GroupOutcome, StreamGroups};
pub use streams::{Streams, XAdd, XAdded, XRead};
pub use types::{
    ExpireCondition, Expiry, ScanOptions, ScanPage, SetCondition, SetOptions, SetOutcome, SetTtl,
};
pub use watch::Watch;
pub use zset_algebra::{Aggregate, ZPopped, ZSetAlgebra, ZSetOp};
pub use zsets::{LexBound, ScoreBound, ZAddFlags, ZAdded, ZRange, ZRangeBy, ZSets};

use crate::background::Background;
use crate::collection::{Limits, Listpack};
use crate::error::{Error, Result};
use crate::journal::{self, Journal};
use crate::keyspace::{self, Ctx, Keyspace, ResizeEvent, ResizeReason, ResizeState};
use crate::memtable::{MemtableKind, ShardMap};
use crate::options::Options;
use crate::pubsub::{Hub, Notifier};
use access::sealed::Access;
use arc_swap::ArcSwapOption;
use bytes::Bytes;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// A keyspace with Redis semantics. Cheap to clone: clones share the data.
///
/// Per-key operations come from [`KeyValue`]; import it (or the prelude).
/// By default the keyspace resizes itself: it starts with one shard and a
/// background thread (`tandem-resizer`) doubles or halves the shard count
/// as load changes, while another (`tandem-reaper`) removes keys at their
/// deadline. Many `Db`s can share those two threads (a [`Background`],
/// `Options::background`); they end when the last `Db` and `Background`
/// handle on them is dropped.
///
/// If one of those threads dies, writes fail with `Error::BackgroundDied`
/// from then on while reads go on.
#[derive(Clone)]
pub struct Db {
    ks: Arc<Keyspace>,
    background: Background,
}

impl Default for Db {
    fn default() -> Self {
        Self::new(Options::default())
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("memtable", &self.ks.kind)
            .field("shards", &self.shard_count())
            .finish()
    }
}

impl Db {
    /// An empty keyspace set up by `options`.
    pub fn new(options: Options) -> Self {
        let hub = options.hub.unwrap_or_default();
        let background = options.background.unwrap_or_default();
        let ctx = Ctx {
            clock: options.clock,
            max_value: AtomicUsize::new(options.max_value_bytes),
            hash_listpack: [
                AtomicUsize::new(Listpack::default().entries),
                AtomicUsize::new(Listpack::default().value),
            ],
            set_intset: AtomicUsize::new(Limits::default().set_intset_entries),
            list_chunk: std::sync::atomic::AtomicI64::new(Limits::default().list_chunk.0),
            zset_listpack: [
                AtomicUsize::new(Limits::default().zset.entries),
                AtomicUsize::new(Limits::default().zset.value),
            ],
            stream_node: [
                AtomicUsize::new(Limits::default().stream_node.bytes),
                AtomicUsize::new(Limits::default().stream_node.entries),
            ],
            notifier: Notifier::new(hub, options.db_index),
            expired: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
            access: Default::default(),
            probation: Default::default(),
            id: options.db_index,
            journal: ArcSwapOption::empty(),
        };
        let ks = Arc::new(Keyspace::new(
            options.memtable,
            options.shards,
            options.resize,
            keyspace::Pace {
                assist: options.migration_assist,
                share: options.migration_share,
            },
            ctx,
            background.alarm(),
        ));
        background.serve(&ks);
        Self { ks, background }
    }

    /// The background threads this keyspace runs on, and their health.
    pub fn background(&self) -> &Background {
        &self.background
    }

    /// `Err(BackgroundDied)` once a background thread of this keyspace
    /// died: a write must not go on as if keys still expired on time.
    /// Likewise once the write-ahead log failed: a write that cannot be
    /// made durable is refused (Redis's `-MISCONF`).
    #[inline]
    pub(crate) fn check_writable(&self) -> Result<()> {
        if let Some(e) = self.background.refusal() {
            return Err(e);
        }
        if let Some(journal) = &*self.ks.ctx.journal.load() {
            if journal.wal().has_failed() {
                let why = journal.wal().failure().unwrap_or_default();
                return Err(Error::LogFailed(why));
            }
        }
        Ok(())
    }

    /// Why the last `atomically` on this thread could not make its changes
    /// durable, if it could not (see `atomically`); resets it.
    pub fn take_unsettled(&self) -> Option<Error> {
        journal::take_unsettled().map(Error::LogFailed)
    }

    /// `r`, or the error that kept the batch behind it from settling.
    fn settled<T>(&self, r: Result<T>) -> Result<T> {
        let r = r?;
        match self.take_unsettled() {
            Some(e) => Err(e),
            None => Ok(r),
        }
    }

    /// The keyspace's id in change records and snapshots (its database
    /// number when it was made; SWAPDB does not change it).
    pub fn id(&self) -> u32 {
        self.ks.ctx.id
    }

    /// Starts (or, with `None`, stops) logging every change to `journal`.
    /// A write running meanwhile is logged or not as a whole; callers that
    /// need every later change logged (a snapshot) follow this with
    /// `barrier`.
    pub fn set_journal(&self, journal: Option<Arc<Journal>>) {
        self.ks.ctx.journal.store(journal);
    }

    /// Where changes are logged, if they are.
    pub fn journal(&self) -> Option<Arc<Journal>> {
        self.ks.ctx.journal.load_full()
    }

    /// Returns once every write that started before the call has
    /// finished: each shard's lock is taken and released once.
    pub fn barrier(&self) {
        self.ks.barrier();
    }

    /// The pub/sub hub: subscribe here for keyspace notifications (switch
    /// them on with `Hub::set_notify_flags`), or use it for messaging.
    pub fn hub(&self) -> &Hub {
        self.ks.ctx.notifier.hub()
    }

    /// Changes the largest key or value a write may create (Redis's
    /// `proto-max-bulk-len`, set at run time); existing entries stay.
    pub fn set_max_value_bytes(&self, bytes: usize) {
        let bytes = bytes.min(crate::options::MAX_VALUE_BYTES_LIMIT);
        self.ks.ctx.max_value.store(bytes, Ordering::Relaxed);
    }

    /// Changes when a small hash becomes a table (Redis's
    /// `hash-max-listpack-entries` and `hash-max-listpack-value`, set at
    /// run time); existing hashes convert on their next write past them.
    pub fn set_hash_listpack(&self, limits: Listpack) {
        let ctx = &self.ks.ctx;
        ctx.hash_listpack[0].store(limits.entries, Ordering::Relaxed);
        ctx.hash_listpack[1].store(limits.value, Ordering::Relaxed);
    }

    /// Changes every type's thresholds between compact and big encodings
    /// (`set_hash_listpack` and `set_set_intset_entries` at once).
    pub fn set_limits(&self, limits: Limits) {
        self.set_hash_listpack(limits.hash);
        self.set_set_intset_entries(limits.set_intset_entries);
        let ctx = &self.ks.ctx;
        ctx.list_chunk.store(limits.list_chunk.0, Ordering::Relaxed);
        ctx.zset_listpack[0].store(limits.zset.entries, Ordering::Relaxed);
        ctx.zset_listpack[1].store(limits.zset.value, Ordering::Relaxed);
        ctx.stream_node[0].store(limits.stream_node.bytes, Ordering::Relaxed);
        ctx.stream_node[1].store(limits.stream_node.entries, Ordering::Relaxed);
    }

    /// Changes when a set of integers becomes a table (Redis's
    /// `set-max-intset-entries`, set at run time); existing sets convert on
    /// their next write past it.
    pub fn set_set_intset_entries(&self, entries: usize) {
        self.ks.ctx.set_intset.store(entries, Ordering::Relaxed);
    }

    /// Renames this keyspace's database number in the channels of later
    /// keyspace events (a server's SWAPDB moves a keyspace to another
    /// number).
    pub fn set_db_index(&self, index: u32) {
        self.ks.ctx.notifier.set_db_index(index);
    }

    /// Removes every key whose deadline has passed, now, announcing each;
    /// returns how many. The reaper thread does this at each deadline; this
    /// is for keyspaces whose clock does not follow real time (tests,
    /// simulations), where no reaper runs.
    pub fn reap_expired(&self) -> usize {
        let now = self.ks.ctx.now();
        let mut total = 0;
        loop {
            let n = self.ks.reap_due(now);
            if n == 0 {
                return total;
            }
            total += n;
        }
    }

    pub(crate) fn keyspace(&self) -> &Keyspace {
        &self.ks
    }

    /// Which memtable this keyspace uses.
    pub fn memtable_kind(&self) -> MemtableKind {
        self.ks.kind
    }

    /// The number of shards writes go to now.
    pub fn shard_count(&self) -> usize {
        self.ks.layout().active.count()
    }

    /// The keyspace's current time in Unix milliseconds.
    pub fn now_ms(&self) -> u64 {
        self.ks.ctx.now()
    }

    /// DBSIZE: the number of keys, counting expired keys not yet removed,
    /// as Redis does. Each shard is counted under its own lock, one after
    /// another.
    pub fn dbsize(&self) -> usize {
        self.ks.len()
    }

    /// FLUSHDB: removes every key, atomically: all shard locks are taken
    /// in the global order and each map is swapped for an empty one. The
    /// old entries are freed after the locks are released. Allowed even
    /// after a background thread died: removing keys cannot leave one
    /// alive past its deadline.
    pub fn flush(&self) {
        self.ks.flush();
        self.ks.ctx.probation.clear();
        if let Err(why) = self.ks.settle() {
            journal::set_unsettled(why);
        }
    }

    /// Resizes to `shards` shards now and waits until the migration is
    /// done (finishing first any resize already running). Returns the
    /// finished resize, or `None` if the count was already `shards` or the
    /// memtable is `SingleLock`. The migration is paced as the resizer's
    /// are (`Options::migration_share`). For operators and tests; the
    /// resizer does this on its own.
    pub fn resize(&self, shards: usize) -> Option<ResizeEvent> {
        self.ks.resize(shards, ResizeReason::Forced)
    }

    /// Starts a resize to `shards` shards without migrating anything yet;
    /// `migrate_step` then moves entries. Returns whether it started (not
    /// if a resize is running, nothing would change, or `SingleLock`).
    /// Requests are served throughout.
    pub fn begin_resize(&self, shards: usize) -> bool {
        self.ks.begin_resize(shards, ResizeReason::Forced)
    }

    /// Moves up to `max_entries` entries of the running resize, finishing
    /// it when nothing is left. Returns whether a resize is still running.
    pub fn migrate_step(&self, max_entries: usize) -> bool {
        self.ks.migrate_step(max_entries)
    }

    /// Whether a resize is running: one atomic load, cheap enough to call
    /// per operation.
    pub fn is_resizing(&self) -> bool {
        self.ks.is_resizing()
    }

    /// Whether a resize is running, and how far it got.
    pub fn resize_state(&self) -> ResizeState {
        self.ks.resize_state()
    }

    /// The last finished resizes (up to 64), oldest first.
    pub fn resize_events(&self) -> Vec<ResizeEvent> {
        self.ks.resize_events()
    }
}

impl Access for Db {
    fn ctx(&self) -> &Ctx {
        &self.ks.ctx
    }

    fn read_key<R>(&self, key: &[u8], f: impl FnOnce(&ShardMap, u64) -> R) -> Result<R> {
        Ok(self.ks.read(key, f))
    }

    fn read_key_with_active<R>(
        &self,
        key: &[u8],
        f: impl FnOnce(&ShardMap, &ShardMap, u64) -> R,
    ) -> Result<R> {
        Ok(self.ks.read_with_active(key, f))
    }

    fn write_key<R>(&self, key: &[u8], f: impl FnOnce(&mut ShardMap, u64) -> R) -> Result<R> {
        self.check_writable()?;
        let r = self.ks.write(key, f);
        self.ks.settle().map_err(Error::LogFailed)?;
        Ok(r)
    }

    fn write_key_blind<R>(&self, key: &[u8], f: impl FnOnce(&mut ShardMap, u64) -> R) -> Result<R> {
        self.check_writable()?;
        let r = self.ks.write_blind(key, f);
        self.ks.settle().map_err(Error::LogFailed)?;
        Ok(r)
    }
}

/// On a `Db`, the multi-key operations run as atomic batches, as the same
/// commands are atomic in Redis.
impl Hashes for Db {}

impl KeyValue for Db {
    fn del<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<usize> {
        // Removed entries leave the batch and are freed after it unlocks.
        let (n, removed) = self.atomically(keys, |tx| {
            let mut removed = Vec::new();
            for key in keys {
                let key = key.as_ref();
                if let Some(e) = tx.write_key(key, |m, h| access::delete(m, h, key, tx.ctx()))? {
                    removed.push(e);
                }
            }
            Ok::<_, crate::Error>((removed.len(), removed))
        })?;
        drop(removed);
        self.settled(Ok(n))
    }

    fn exists<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<usize> {
        // One key needs one lock and no batch bookkeeping.
        if let [key] = keys {
            let key = key.as_ref();
            return self.read_key(key, |m, h| {
                usize::from(access::peek_counted(m, h, key, self.ctx()).is_some())
            });
        }
        self.snapshot(keys, |tx| tx.exists(keys))
    }

    fn mget<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<Vec<Option<Bytes>>> {
        if let [key] = keys {
            let key = key.as_ref();
            let value = self.read_key(key, |m, h| strings::get_or_none(m, h, key, self.ctx()))?;
            return Ok(vec![value]);
        }
        self.snapshot(keys, |tx| tx.mget(keys))
    }

    fn mset<K: AsRef<[u8]>, V: AsRef<[u8]>>(&self, pairs: &[(K, V)]) -> Result<()> {
        let keys: Vec<&[u8]> = pairs.iter().map(|(k, _)| k.as_ref()).collect();
        self.settled(self.atomically(&keys, |tx| tx.mset(pairs)))
    }

    fn msetnx<K: AsRef<[u8]>, V: AsRef<[u8]>>(&self, pairs: &[(K, V)]) -> Result<bool> {
        let keys: Vec<&[u8]> = pairs.iter().map(|(k, _)| k.as_ref()).collect();
        self.settled(self.atomically(&keys, |tx| tx.msetnx(pairs)))
    }

    fn rename(&self, src: &[u8], dst: &[u8]) -> Result<()> {
        self.settled(self.atomically(&[src, dst], |tx| tx.rename(src, dst)))
    }

    fn rename_nx(&self, src: &[u8], dst: &[u8]) -> Result<bool> {
        self.settled(self.atomically(&[src, dst], |tx| tx.rename_nx(src, dst)))
    }
}
