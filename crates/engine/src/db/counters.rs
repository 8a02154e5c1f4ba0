//! Counters: INCR/DECR/INCRBY/DECRBY and INCRBYFLOAT.
//!
//! Owns counter semantics: the stored string is parsed with Redis's rules
//! on every call, the result is stored back as a string, and the key keeps
//! its expiry, as in Redis.

use super::access::{live_slot, new_entry};
use super::strings::string_value;
use crate::entry::{Patch, ValueIn};
use crate::error::{Error, Result};
use crate::keyspace::Ctx;
use crate::memtable::ShardMap;
use crate::numeric::{format_i64, incr_by_float as add_float, parse_i64};
use bytes::Bytes;

pub(crate) fn incr_by(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    delta: i64,
    ctx: &Ctx,
) -> Result<i64> {
    let version = map.next_version();
    let Some(mut slot) = live_slot(map, hash, key, ctx) else {
        let text = format_i64(delta);
        let entry = new_entry(key, ValueIn::Slice(text.as_bytes()), version, None, ctx)?;
        map.insert_new(hash, entry);
        ctx.notify_new(key);
        ctx.notify_string("incrby", key);
        return Ok(delta);
    };
    let current = parse_i64(string_value(slot.get())?).ok_or(Error::NotInteger)?;
    let new = current.checked_add(delta).ok_or(Error::Overflow)?;
    let text = format_i64(new);
    slot.apply(Patch {
        value: Some(ValueIn::Slice(text.as_bytes())),
        expiry: None,
        version,
    })
    .map_err(|_| ctx.too_large())?;
    ctx.notify_string("incrby", key);
    Ok(new)
}

pub(crate) fn incr_by_float(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    increment: &[u8],
    ctx: &Ctx,
) -> Result<Bytes> {
    let version = map.next_version();
    let Some(mut slot) = live_slot(map, hash, key, ctx) else {
        let text = add_float(None, increment)?;
        let out = Bytes::copy_from_slice(&text);
        let entry = new_entry(key, ValueIn::Owned(text), version, None, ctx)?;
        map.insert_new(hash, entry);
        ctx.notify_new(key);
        ctx.notify_string("incrbyfloat", key);
        return Ok(out);
    };
    let text = add_float(Some(string_value(slot.get())?), increment)?;
    let out = Bytes::copy_from_slice(&text);
    slot.apply(Patch {
        value: Some(ValueIn::Owned(text)),
        expiry: None,
        version,
    })
    .map_err(|_| ctx.too_large())?;
    ctx.notify_string("incrbyfloat", key);
    Ok(out)
}
