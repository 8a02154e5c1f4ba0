//! How an operation reaches the shard holding a key.
//!
//! Owns the sealed `Access` trait that `Db` (lock per call) and `Tx`
//! (shards already locked by an atomic batch) implement, and the helpers
//! every operation uses to see only live entries. Operations written
//! against `Access` run unchanged in both.

use crate::clock::Clock;
use crate::entry::Entry;
use crate::error::Result;
use crate::memtable::ShardMap;
use std::sync::Arc;

pub(crate) use crate::memtable::ShardMap as Map;

/// What operations need besides the shard: the clock and the limits.
pub struct Ctx {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) max_value: usize,
}

impl Ctx {
    pub(crate) fn now(&self) -> u64 {
        self.clock.now_ms()
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
    }
}

/// The entry for `key` if it exists and has not expired.
pub(crate) fn live<'m>(map: &'m Map, hash: u64, key: &[u8], ctx: &Ctx) -> Option<&'m Entry> {
    let entry = map.get(hash, key)?;
    match entry.expiry() {
        Some(_) if entry.is_expired(ctx.now()) => None,
        _ => Some(entry),
    }
}

/// The slot for `key` if it exists and has not expired. An expired entry
/// found here is removed (lazy expiry, as Redis does on a write).
pub(crate) fn live_slot<'m>(
    map: &'m mut Map,
    hash: u64,
    key: &[u8],
    ctx: &Ctx,
) -> Option<crate::memtable::Slot<'m>> {
    let slot = map.slot(hash, key)?;
    if slot.get().expiry().is_some() && slot.get().is_expired(ctx.now()) {
        drop(slot.remove());
        return None;
    }
    Some(slot)
}
