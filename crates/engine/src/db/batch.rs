//! Atomic multi-key batches: `Db::atomically` and its `Tx`.
//!
//! Owns the batch API. The locking itself is the keyspace's
//! (`Keyspace::lock_batch`): the active shards of the declared keys in
//! ascending order, and during a resize their frozen shards after them, the
//! one order every multi-lock path in the engine follows.
//!
//! The fast path (the talk's shard-local transaction): when every key lives
//! on one shard, the batch takes exactly that one lock and allocates
//! nothing. During a resize such a batch may also have to lock the keys'
//! frozen shards (one for a growth, up to two for a shrink), to move them
//! over first; stats count those apart as `resize_batches`.

use super::access::sealed::Access;
use super::kv::KeyValue;
use super::Db;
use crate::error::{Error, Result};
use crate::journal;
use crate::keyspace::Ctx;
use crate::keyspace::{BatchGuard, BatchLocks};
use crate::memtable::ShardMap;
use std::cell::RefCell;

/// The inside of an atomic batch: the `KeyValue` operations, on keys whose
/// shards the batch holds locked. No other thread sees any of its changes
/// until the closure returns, and it sees no change by any other thread.
///
/// Do not call methods of the `Db` from inside the closure: the batch
/// already holds those locks, and taking one again deadlocks.
pub struct Tx<'a> {
    db: &'a Db,
    locks: RefCell<BatchLocks<'a>>,
    /// Why writes are refused (a background thread died), read once when
    /// the batch starts, so a batch is refused whole or runs whole.
    refused: Option<Error>,
}

impl<'a> Tx<'a> {
    fn new(db: &'a Db, locks: BatchLocks<'a>, write: bool) -> Self {
        let active = locks.layout.active.as_ref();
        match (
            locks.indexes.first(),
            locks.indexes.len(),
            locks.frozen_shards,
        ) {
            (Some(&i), 1, 0) => active.shard(i).count_fast_batch(),
            (Some(&i), 1, _) => active.shard(i).count_resize_batch(),
            (Some(&i), _, _) => active.shard(i).count_multi_batch(),
            (None, _, _) => {}
        }
        Self {
            db,
            locks: RefCell::new(locks),
            refused: if write {
                db.check_writable().err()
            } else {
                None
            },
        }
    }

    /// Position of `key`'s active shard among the locked ones, and the
    /// key's hash.
    fn find(&self, key: &[u8]) -> Result<(usize, u64)> {
        let hash = self.db.keyspace().hash(key);
        let locks = self.locks.borrow();
        let index = locks.layout.active.index(hash);
        let pos = locks
            .indexes
            .iter()
            .position(|&i| i == index)
            .ok_or(Error::KeyNotInBatch)?;
        Ok((pos, hash))
    }

    /// How many shard locks this batch holds.
    pub fn locked_shards(&self) -> usize {
        let locks = self.locks.borrow();
        locks.indexes.len() + locks.frozen_shards
    }
}

impl Access for Tx<'_> {
    fn ctx(&self) -> &Ctx {
        &self.db.keyspace().ctx
    }

    fn read_key<R>(&self, key: &[u8], f: impl FnOnce(&ShardMap, u64) -> R) -> Result<R> {
        self.read_key_with_active(key, |map, _, hash| f(map, hash))
    }

    fn read_key_with_active<R>(
        &self,
        key: &[u8],
        f: impl FnOnce(&ShardMap, &ShardMap, u64) -> R,
    ) -> Result<R> {
        let (pos, hash) = self.find(key)?;
        let locks = self.locks.borrow();
        let map: &ShardMap = match locks.guards.get(pos) {
            Some(BatchGuard::Read(g)) => g,
            Some(BatchGuard::Write(g)) => g,
            None => return Err(Error::KeyNotInBatch),
        };
        // A read-only batch during a resize holds the frozen shards too:
        // a key not yet moved is read there (the keyspace's rule 4).
        if !map.contains(hash, key) {
            if let Some(frozen) = &locks.layout.frozen {
                let index = frozen.index(hash);
                if let Some((_, old)) = locks.frozen.iter().find(|(i, _)| *i == index) {
                    return Ok(f(old, map, hash));
                }
            }
        }
        Ok(f(map, map, hash))
    }

    fn write_key<R>(&self, key: &[u8], f: impl FnOnce(&mut ShardMap, u64) -> R) -> Result<R> {
        if let Some(e) = &self.refused {
            return Err(e.clone());
        }
        let (pos, hash) = self.find(key)?;
        // Inside a transfer between databases, each side records its own.
        journal::switch_db(self.db.keyspace().ctx.id);
        let mut locks = self.locks.borrow_mut();
        match locks.guards.get_mut(pos) {
            Some(BatchGuard::Write(g)) => Ok(f(g, hash)),
            // Read batches are internal (MGET, EXISTS) and never write.
            Some(BatchGuard::Read(_)) | None => Err(Error::KeyNotInBatch),
        }
    }
}

impl KeyValue for Tx<'_> {}

impl super::Hashes for Tx<'_> {}

impl Db {
    /// Runs `f` atomically over `keys`: their shards are locked for the
    /// whole closure, so no other operation sees a partial result or
    /// changes these keys meanwhile.
    ///
    /// When all keys live on one shard this takes exactly one lock (two
    /// during a resize). Operations in `f` on keys not in `keys` fail with
    /// `Error::KeyNotInBatch`. Do not call methods of this `Db` inside `f`.
    ///
    /// In a durable `Store` that settles each write, the batch's changes
    /// are one log record, settled before this returns. If that fails the
    /// changes stay in memory without being durable, the log refuses every
    /// later write (`Error::LogFailed`), and `Db::take_unsettled` on this
    /// thread says why.
    pub fn atomically<K: AsRef<[u8]>, R>(&self, keys: &[K], f: impl FnOnce(&Tx<'_>) -> R) -> R {
        self.batch(keys, true, f)
    }

    /// Like `atomically`, with read locks: a consistent view of `keys` that
    /// does not block other readers. Only for the engine's read-only
    /// multi-key operations.
    pub(crate) fn snapshot<K: AsRef<[u8]>, R>(
        &self,
        keys: &[K],
        f: impl FnOnce(&Tx<'_>) -> R,
    ) -> R {
        self.batch(keys, false, f)
    }

    fn batch<K: AsRef<[u8]>, R>(&self, keys: &[K], write: bool, f: impl FnOnce(&Tx<'_>) -> R) -> R {
        loop {
            // The layout is held here so the locks can borrow from it; a
            // resize that started meanwhile makes `lock_batch` give up, and
            // the batch starts again on the new layout.
            let layout = self.keyspace().layout();
            if let Some(locks) = self.keyspace().lock_batch(&layout, keys, write) {
                let tx = Tx::new(self, locks, write);
                let ctx = &self.keyspace().ctx;
                let journal = ctx.journal.load();
                // After the pulls in `lock_batch`; committed (journal rule
                // 1) before `tx` releases the locks.
                let scope = write.then(|| journal::begin(journal.as_deref(), ctx.id));
                let r = f(&tx);
                drop(scope);
                drop(tx);
                if write {
                    if let Err(why) = self.keyspace().settle() {
                        journal::set_unsettled(why);
                    }
                }
                return r;
            }
            std::hint::spin_loop();
        }
    }
}
