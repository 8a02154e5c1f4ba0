//! The steps every collection command shares: reading a key's collection
//! of the type asked, changing it in place (creating it, deleting the key
//! when it empties), and replacing a key with a computed collection (the
//! `*STORE` commands).
//!
//! Owns the rules common to the types: WRONGTYPE for a key holding
//! another type, the `new` event for a key created, an empty collection
//! never stored. Each type's module (`hashes`, `sets`) adds its own
//! semantics on top. It must never free a collection under the shard
//! lock: removed entries are handed back to be dropped after it.

use super::access::{live, live_slot, new_entry, take_live};
use crate::collection::Collection;
use crate::entry::{Entry, ValueIn};
use crate::error::{Error, Result};
use crate::keyspace::Ctx;
use crate::memtable::ShardMap;

/// The collection at `key`, as `pick` views it: `None` if the key does not
/// exist, `WrongType` if `pick` finds no value of its type there.
pub(super) fn read<'m, T>(
    map: &'m ShardMap,
    hash: u64,
    key: &[u8],
    ctx: &Ctx,
    pick: impl FnOnce(&'m Collection) -> Option<&'m T>,
) -> Result<Option<&'m T>> {
    match live(map, hash, key, ctx) {
        None => Ok(None),
        Some(e) => e
            .collection()
            .and_then(pick)
            .map(Some)
            .ok_or(Error::WrongType),
    }
}

/// Runs `f` on the collection at `key`, or on `create` if the key is
/// absent (nothing runs when `create` is `None`), and removes the key if
/// `f` leaves it empty. `f` returns its result and whether it changed the
/// collection; it must check what it needs before changing anything, so
/// that an error leaves the collection as it was, and answer `WrongType`
/// for a collection of another type. Returns `f`'s result (`None` when
/// the key is absent and not created) and the removed entry.
pub(super) fn update<R>(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    ctx: &Ctx,
    create: Option<Collection>,
    f: impl FnOnce(&mut Collection) -> Result<(R, bool)>,
) -> Result<(Option<R>, Option<Entry>)> {
    let version = map.next_version();
    let Some(mut slot) = live_slot(map, hash, key, ctx) else {
        let Some(mut c) = create else {
            return Ok((None, None));
        };
        let (r, _) = f(&mut c)?;
        if c.is_empty() {
            return Ok((Some(r), None));
        }
        let entry = new_entry(key, ValueIn::Object(Box::new(c)), version, None, ctx)?;
        map.insert_new(hash, entry);
        ctx.notify_new(key);
        return Ok((Some(r), None));
    };
    let r = slot.with_collection(version, f).ok_or(Error::WrongType)??;
    let emptied = slot.get().collection().is_some_and(Collection::is_empty);
    let removed = emptied.then(|| slot.remove());
    Ok((Some(r), removed))
}

/// Replaces whatever `key` holds with `c`, without a deadline (an empty
/// `c` deletes the key, announcing `del` if it existed). Returns the
/// replaced entry, to drop after unlocking.
pub(super) fn store(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    c: Collection,
    ctx: &Ctx,
) -> Result<Option<Entry>> {
    let version = map.next_version();
    if c.is_empty() {
        let old = take_live(map, hash, key, ctx);
        if old.is_some() {
            ctx.notify_generic("del", key);
        }
        return Ok(old);
    }
    let entry = new_entry(key, ValueIn::Object(Box::new(c)), version, None, ctx)?;
    let old = take_live(map, hash, key, ctx);
    map.insert_new(hash, entry);
    if old.is_none() {
        ctx.notify_new(key);
    }
    Ok(old)
}
