//! How an operation reaches the shard holding a key.
//!
//! Owns the sealed `Access` trait that `Db` (lock per call) and `Tx`
//! (shards already locked by an atomic batch) implement, and the helpers
//! every operation uses to see only live entries. Operations written
//! against `Access` run unchanged in both.

use crate::entry::{Entry, ValueIn};
use crate::error::Result;
use crate::keyspace::Ctx;
use crate::memtable::{ShardMap, Slot};
use crate::pubsub::NotifyFlags;

pub(crate) mod sealed {
    use super::*;

    /// Runs a closure on the locked shard that owns a key.
    pub trait Access {
        /// The keyspace's clock and limits.
        fn ctx(&self) -> &Ctx;
        /// Runs `f` with the key's shard locked for reading, and the key's hash.
        fn read_key<R>(&self, key: &[u8], f: impl FnOnce(&ShardMap, u64) -> R) -> Result<R>;
        /// Like `read_key`, also passing the key's shard in the active
        /// memtable, where a write to the key would land: the same map
        /// unless the key is still in a frozen one (what a watch reads).
        fn read_key_with_active<R>(
            &self,
            key: &[u8],
            f: impl FnOnce(&ShardMap, &ShardMap, u64) -> R,
        ) -> Result<R>;
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

/// The entry for `key` if it exists and has not expired, counted as an
/// access (its LRU time or LFU counter is updated, as Redis's
/// `lookupKey` does).
pub(crate) fn live<'m>(map: &'m ShardMap, hash: u64, key: &[u8], ctx: &Ctx) -> Option<&'m Entry> {
    let found = peek(map, hash, key, ctx);
    crate::lookups::record(found.is_some());
    let entry = found?;
    ctx.access.touch(entry);
    Some(entry)
}

/// `peek`, counted as a keyspace hit or miss (EXISTS and TYPE, which
/// Redis counts though they do not touch the key).
pub(crate) fn peek_counted<'m>(
    map: &'m ShardMap,
    hash: u64,
    key: &[u8],
    ctx: &Ctx,
) -> Option<&'m Entry> {
    let found = peek(map, hash, key, ctx);
    crate::lookups::record(found.is_some());
    found
}

/// The entry for `key` if it exists and has not expired, without counting
/// an access: what TYPE, TTL, EXISTS and OBJECT read (Redis's
/// `LOOKUP_NOTOUCH`).
pub(crate) fn peek<'m>(map: &'m ShardMap, hash: u64, key: &[u8], ctx: &Ctx) -> Option<&'m Entry> {
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
    ctx.access.touch(slot.get());
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
    let entry = Entry::build(key, value, version, expiry).ok_or_else(|| ctx.too_large())?;
    ctx.access.stamp_new(&entry);
    if ctx.probation.enter(key) {
        ctx.access.stamp_returning(&entry);
    }
    Ok(entry)
}
