//! Atomic multi-key batches: `Db::atomically` and its `Tx`.
//!
//! Owns the locking protocol for operations on several keys. A batch
//! locks the shards of its declared keys in ascending shard order, runs the
//! caller's closure, and unlocks. Every multi-lock path in the engine
//! (batches, FLUSH) takes locks in that one order, so batches cannot
//! deadlock each other; single-key operations hold one lock at a time.
//!
//! The fast path (the talk's shard-local transaction): when every key lives
//! on one shard, the batch takes exactly that one lock and allocates
//! nothing. Stats count fast-path and multi-shard batches.

use super::access::{sealed::Access, Ctx};
use super::kv::KeyValue;
use super::Db;
use crate::error::{Error, Result};
use crate::memtable::{ShardMap, Shards};
use parking_lot::{RwLockReadGuard, RwLockWriteGuard};
use smallvec::SmallVec;
use std::cell::RefCell;

/// Shard indexes and guards are kept inline up to this many shards, so
/// batches of a few keys never allocate.
const INLINE: usize = 8;

enum Guard<'a> {
    Read(RwLockReadGuard<'a, ShardMap>),
    Write(RwLockWriteGuard<'a, ShardMap>),
}

/// The inside of an atomic batch: the `KeyValue` operations, on keys whose
/// shards the batch holds locked. No other thread sees any of its changes
/// until the closure returns, and it sees no change by any other thread.
///
/// Do not call methods of the `Db` from inside the closure: the batch
/// already holds those locks, and taking one again deadlocks.
pub struct Tx<'a> {
    ctx: &'a Ctx,
    shards: &'a Shards,
    indexes: SmallVec<[usize; INLINE]>,
    guards: RefCell<SmallVec<[Guard<'a>; INLINE]>>,
}

impl<'a> Tx<'a> {
    /// Locks the shards of `keys`, in ascending order.
    fn lock<K: AsRef<[u8]>>(db: &'a Db, keys: &[K], write: bool) -> Self {
        let shards = db.shards();
        let mut indexes: SmallVec<[usize; INLINE]> = keys
            .iter()
            .map(|k| shards.index(shards.hash(k.as_ref())))
            .collect();
        indexes.sort_unstable();
        indexes.dedup();
        let guards = indexes
            .iter()
            .map(|&i| {
                let shard = shards.shard(i);
                if write {
                    Guard::Write(shard.write())
                } else {
                    Guard::Read(shard.read())
                }
            })
            .collect();
        match indexes.first() {
            Some(&first) if indexes.len() == 1 => shards.shard(first).count_fast_batch(),
            Some(&first) => shards.shard(first).count_multi_batch(),
            None => {}
        }
        Self {
            ctx: db.ctx(),
            shards,
            indexes,
            guards: RefCell::new(guards),
        }
    }

    /// Position of `key`'s shard among the locked ones, and the key's hash.
    fn find(&self, key: &[u8]) -> Result<(usize, u64)> {
        let hash = self.shards.hash(key);
        let index = self.shards.index(hash);
        let pos = self
            .indexes
            .iter()
            .position(|&i| i == index)
            .ok_or(Error::KeyNotInBatch)?;
        Ok((pos, hash))
    }

    /// How many shard locks this batch holds.
    pub fn locked_shards(&self) -> usize {
        self.indexes.len()
    }
}

impl Access for Tx<'_> {
    fn ctx(&self) -> &Ctx {
        self.ctx
    }

    fn read_key<R>(&self, key: &[u8], f: impl FnOnce(&ShardMap, u64) -> R) -> Result<R> {
        let (pos, hash) = self.find(key)?;
        let guards = self.guards.borrow();
        match &guards[pos] {
            Guard::Read(g) => Ok(f(g, hash)),
            Guard::Write(g) => Ok(f(g, hash)),
        }
    }

    fn write_key<R>(&self, key: &[u8], f: impl FnOnce(&mut ShardMap, u64) -> R) -> Result<R> {
        let (pos, hash) = self.find(key)?;
        let mut guards = self.guards.borrow_mut();
        match &mut guards[pos] {
            Guard::Write(g) => Ok(f(g, hash)),
            // Read batches are internal (MGET, EXISTS) and never write.
            Guard::Read(_) => Err(Error::KeyNotInBatch),
        }
    }
}

impl KeyValue for Tx<'_> {}

impl Db {
    /// Runs `f` atomically over `keys`: their shards are locked (in
    /// ascending order) for the whole closure, so no other operation sees a
    /// partial result or changes these keys meanwhile.
    ///
    /// When all keys live on one shard this takes exactly one lock.
    /// Operations in `f` on keys not in `keys` fail with
    /// `Error::KeyNotInBatch`. Do not call methods of this `Db` inside `f`.
    pub fn atomically<K: AsRef<[u8]>, R>(&self, keys: &[K], f: impl FnOnce(&Tx<'_>) -> R) -> R {
        let tx = Tx::lock(self, keys, true);
        f(&tx)
    }

    /// Like `atomically`, with read locks: a consistent view of `keys` that
    /// does not block other readers. Only for the engine's read-only
    /// multi-key operations.
    pub(crate) fn snapshot<K: AsRef<[u8]>, R>(
        &self,
        keys: &[K],
        f: impl FnOnce(&Tx<'_>) -> R,
    ) -> R {
        let tx = Tx::lock(self, keys, false);
        f(&tx)
    }
}
