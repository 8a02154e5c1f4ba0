//! How an operation reaches the shard holding a key.
//!
//! Owns the sealed `Access` trait that `Db` (lock per call) and `Tx`
//! (shards already locked by an atomic batch) implement, and the helpers
//! every operation uses to see only live entries. Operations written
//! against `Access` run unchanged in both.

use crate::clock::Clock;
use crate::entry::{Entry, ValueIn};
use crate::error::{Error, Result};
use crate::memtable::{ShardMap, Slot};
use crate::pubsub::{Notifier, NotifyFlags};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// What operations need besides the shard: the clock, the limits, and
/// where events go.
pub struct Ctx {
    pub(crate) clock: Arc<dyn Clock>,
    /// The key and value size limit; changeable at run time
    /// (`Db::set_max_value_bytes`).
    pub(crate) max_value: AtomicUsize,
    pub(crate) notifier: Notifier,
    /// Keys that expired (Redis's `expired_keys`).
    pub(crate) expired: AtomicU64,
}

impl Ctx {
    pub(crate) fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Publishes keyspace event `event` of class `class` on `key`, if such
    /// events are switched on. Called under the key's shard lock, so the
    /// events of one key are published in the order they happen.
    pub(crate) fn notify(&self, class: u32, event: &'static str, key: &[u8]) {
        if class == NotifyFlags::EXPIRED {
            self.expired.fetch_add(1, Ordering::Relaxed);
        }
        self.notifier.notify(class, event, key);
    }

    /// A key was created: Redis's `new` event.
    pub(crate) fn notify_new(&self, key: &[u8]) {
        self.notify(NotifyFlags::NEW, "new", key);
    }

    /// A generic-command event (`del`, `expire`, `persist`, `rename_*`).
    pub(crate) fn notify_generic(&self, event: &'static str, key: &[u8]) {
        self.notify(NotifyFlags::GENERIC, event, key);
    }

    /// A string-command event (`set`, `append`, `incrby`, ...).
    pub(crate) fn notify_string(&self, event: &'static str, key: &[u8]) {
        self.notify(NotifyFlags::STRING, event, key);
    }

    /// The error for a key or value over the size limit.
    pub(crate) fn too_large(&self) -> Error {
        Error::ValueTooLarge {
            limit: self.max_value.load(Ordering::Relaxed),
        }
    }

    /// Checks a key or value length against the size limit.
    pub(crate) fn check_len(&self, len: usize) -> Result<()> {
        if len > self.max_value.load(Ordering::Relaxed) {
            return Err(self.too_large());
        }
        Ok(())
    }
}

pub(crate) mod sealed {
    use super::*;

    /// Runs a closure on the locked shard that owns a key.
    pub trait Access {
        /// The keyspace's clock and limits.
        fn ctx(&self) -> &Ctx;
        /// Runs `f` with the key's shard locked for reading, and the key's hash.
        fn read_key<R>(&self, key: &[u8], f: impl FnOnce(&ShardMap, u64) -> R) -> Result<R>;
        /// Runs `f` with the key's shard locked for writing, and the key's hash.
        fn write_key<R>(&self, key: &[u8], f: impl FnOnce(&mut ShardMap, u64) -> R) -> Result<R>;
        /// Like `write_key`, for a write that replaces the key whatever it
        /// held, so it need not see an older copy (see `keyspace`, rule 5).
        fn write_key_blind<R>(
            &self,
            key: &[u8],
            f: impl FnOnce(&mut ShardMap, u64) -> R,
        ) -> Result<R> {
            self.write_key(key, f)
        }
    }
}

/// Whether `entry` is past its deadline; reads the clock only for
/// entries that have one.
fn expired(entry: &Entry, ctx: &Ctx) -> bool {
    entry.expiry().is_some_and(|t| ctx.now() > t)
}

/// The entry for `key` if it exists and has not expired.
pub(crate) fn live<'m>(map: &'m ShardMap, hash: u64, key: &[u8], ctx: &Ctx) -> Option<&'m Entry> {
    map.get(hash, key).filter(|e| !expired(e, ctx))
}

/// The slot for `key` if it exists and has not expired. An expired entry
/// found here is removed and announced (lazy expiry, as Redis does on a
/// write).
pub(crate) fn live_slot<'m>(
    map: &'m mut ShardMap,
    hash: u64,
    key: &[u8],
    ctx: &Ctx,
) -> Option<Slot<'m>> {
    let slot = map.slot(hash, key)?;
    if expired(slot.get(), ctx) {
        drop(slot.remove());
        ctx.notify(NotifyFlags::EXPIRED, "expired", key);
        return None;
    }
    Some(slot)
}

/// Removes the live entry for `key`, returning it.
pub(crate) fn take_live(map: &mut ShardMap, hash: u64, key: &[u8], ctx: &Ctx) -> Option<Entry> {
    live_slot(map, hash, key, ctx).map(Slot::remove)
}

/// DEL of one key: removes the live entry and announces `del`.
pub(crate) fn delete(map: &mut ShardMap, hash: u64, key: &[u8], ctx: &Ctx) -> Option<Entry> {
    let removed = take_live(map, hash, key, ctx);
    if removed.is_some() {
        ctx.notify_generic("del", key);
    }
    removed
}

/// A new entry for a key being created: the one place where a key's length
/// is checked against the limit, so no write path can create an oversized
/// key.
pub(crate) fn new_entry(
    key: &[u8],
    value: ValueIn<'_>,
    version: u64,
    expiry: Option<u64>,
    ctx: &Ctx,
) -> Result<Entry> {
    ctx.check_len(key.len())?;
    Entry::build(key, value, version, expiry).ok_or_else(|| ctx.too_large())
}
