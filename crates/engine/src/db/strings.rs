//! String operations: GET, SET, GETDEL, APPEND, STRLEN, GETRANGE, SETRANGE.
//!
//! Owns their Redis semantics, including the order in which Redis checks
//! arguments (an invalid expire time is reported before a type error).
//! Each function runs on one locked shard; `KeyValue` routes to it.

use super::access::{delete, live, live_slot, new_entry};
use super::expire::deadline_for_set;
use super::types::{SetCondition, SetOptions, SetOutcome, SetTtl};
use crate::entry::{Entry, Patch, ValueIn, ValueType};
use crate::error::{Error, Result};
use crate::keyspace::Ctx;
use crate::memtable::{ShardMap, Slot};
use bytes::{Bytes, BytesMut};

/// The string `entry` holds, or `WrongType`.
pub(crate) fn string_value(entry: &Entry) -> Result<&[u8]> {
    if entry.value_type() == ValueType::String {
        Ok(entry.value())
    } else {
        Err(Error::WrongType)
    }
}

pub(crate) fn get(map: &ShardMap, hash: u64, key: &[u8], ctx: &Ctx) -> Result<Option<Bytes>> {
    match live(map, hash, key, ctx) {
        Some(e) => string_value(e).map(|_| Some(e.value_bytes())),
        None => Ok(None),
    }
}

/// MGET's read: a key holding another type reads as missing.
pub(crate) fn get_or_none(map: &ShardMap, hash: u64, key: &[u8], ctx: &Ctx) -> Option<Bytes> {
    get(map, hash, key, ctx).ok().flatten()
}

pub(crate) fn set(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    value: &[u8],
    opts: SetOptions,
    ctx: &Ctx,
) -> Result<SetOutcome> {
    ctx.check_len(value.len())?;
    let deadline = match opts.ttl {
        SetTtl::At(e) => Some(deadline_for_set(e, ctx)?),
        SetTtl::Clear | SetTtl::Keep => None,
    };
    let version = map.next_version();
    let slot = live_slot(map, hash, key, ctx);
    if opts.get {
        // SET ... GET (and GETSET) reads the old value as GET does.
        crate::lookups::record(slot.is_some());
    }
    match slot {
        Some(mut slot) => {
            // SET replaces a value of any type, but with GET the old value
            // must be a string (WRONGTYPE, and nothing is written).
            let old = if opts.get {
                string_value(slot.get())?;
                Some(slot.get().value_bytes())
            } else {
                None
            };
            if opts.condition == SetCondition::IfAbsent {
                return Ok(SetOutcome {
                    written: false,
                    old,
                });
            }
            let expiry = match opts.ttl {
                SetTtl::Keep => None,
                SetTtl::Clear => Some(None),
                SetTtl::At(_) => Some(deadline),
            };
            slot.apply(Patch {
                value: Some(ValueIn::Slice(value)),
                expiry,
                version,
            })
            .map_err(|_| ctx.too_large())?;
            notify_set(key, deadline, ctx);
            Ok(SetOutcome { written: true, old })
        }
        None => {
            if opts.condition == SetCondition::IfPresent {
                return Ok(SetOutcome {
                    written: false,
                    old: None,
                });
            }
            let entry = new_entry(key, ValueIn::Slice(value), version, deadline, ctx)?;
            map.insert_new(hash, entry);
            ctx.notify_new(key);
            notify_set(key, deadline, ctx);
            Ok(SetOutcome {
                written: true,
                old: None,
            })
        }
    }
}

/// Redis's events for a SET: `set`, then `expire` if it set a deadline.
fn notify_set(key: &[u8], deadline: Option<u64>, ctx: &Ctx) {
    ctx.notify_string("set", key);
    if deadline.is_some() {
        ctx.notify_generic("expire", key);
    }
}

pub(crate) fn get_del(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    ctx: &Ctx,
) -> Result<Option<Entry>> {
    if let Some(e) = live(map, hash, key, ctx) {
        string_value(e)?;
    }
    Ok(delete(map, hash, key, ctx))
}

pub(crate) fn strlen(map: &ShardMap, hash: u64, key: &[u8], ctx: &Ctx) -> Result<usize> {
    live(map, hash, key, ctx).map_or(Ok(0), |e| string_value(e).map(<[u8]>::len))
}

pub(crate) fn append(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    tail: &[u8],
    ctx: &Ctx,
) -> Result<usize> {
    let version = map.next_version();
    let Some(mut slot) = live_slot(map, hash, key, ctx) else {
        ctx.check_len(tail.len())?;
        let entry = new_entry(key, ValueIn::Slice(tail), version, None, ctx)?;
        map.insert_new(hash, entry);
        ctx.notify_new(key);
        ctx.notify_string("append", key);
        return Ok(tail.len());
    };
    let old_len = string_value(slot.get())?.len();
    let new_len = old_len + tail.len();
    ctx.check_len(new_len)?;
    // A large value grows its shared buffer in place (amortised O(1), as
    // Redis's sdscatlen), instead of copying the whole value each time.
    rewrite(&mut slot, version, new_len, ctx, |value| {
        if let Some(end) = value.get_mut(old_len..) {
            end.copy_from_slice(tail);
        }
    })?;
    ctx.notify_string("append", key);
    Ok(new_len)
}

/// Makes the string in `slot` `new_len` bytes long (zero-filled past its
/// end; never shorter) and runs `f` on its bytes, as `version`: in place
/// when its buffer is shared, as Redis changes its strings (no copy of a
/// large value), otherwise through a copy.
pub(crate) fn rewrite(
    slot: &mut Slot<'_>,
    version: u64,
    new_len: usize,
    ctx: &Ctx,
    f: impl Fn(&mut [u8]),
) -> Result<()> {
    let in_place = slot.with_shared(version, |buf| {
        let mut m = writable(std::mem::take(buf), new_len);
        if m.len() < new_len {
            m.resize(new_len, 0);
        }
        f(&mut m);
        *buf = m.freeze();
    });
    if in_place.is_none() {
        let mut value = Vec::with_capacity(new_len);
        value.extend_from_slice(slot.get().value());
        if value.len() < new_len {
            value.resize(new_len, 0);
        }
        f(&mut value);
        slot.apply(Patch {
            value: Some(ValueIn::Owned(value)),
            expiry: None,
            version,
        })
        .map_err(|_| ctx.too_large())?;
    }
    Ok(())
}

/// A buffer we may write to: the same allocation when no reader shares
/// it, otherwise a copy with room to grow.
fn writable(buf: Bytes, want: usize) -> BytesMut {
    match buf.try_into_mut() {
        Ok(mut m) => {
            m.reserve(want.saturating_sub(m.len()));
            m
        }
        Err(shared) => {
            let mut m = BytesMut::with_capacity(want.max(shared.len() * 2));
            m.extend_from_slice(&shared);
            m
        }
    }
}

/// GETRANGE with Redis's index rules: negative indexes count from the end,
/// out-of-range indexes are clamped, an empty result for `start > end`.
pub(crate) fn get_range(
    map: &ShardMap,
    hash: u64,
    key: &[u8],
    start: i64,
    end: i64,
    ctx: &Ctx,
) -> Result<Bytes> {
    let Some(entry) = live(map, hash, key, ctx) else {
        return Ok(Bytes::new());
    };
    let value = string_value(entry)?;
    Ok(match clamp_range(value.len(), start, end) {
        Some((s, e)) => value
            .get(s..=e)
            .map_or_else(Bytes::new, Bytes::copy_from_slice),
        None => Bytes::new(),
    })
}

/// The inclusive byte range GETRANGE returns for a string of `len` bytes.
pub(crate) fn clamp_range(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let len_i = i128::try_from(len).ok()?;
    let fix = |i: i64| -> i128 {
        let i = i128::from(i);
        let i = if i < 0 { len_i + i } else { i };
        i.max(0)
    };
    let s = fix(start);
    let e = fix(end).min(len_i - 1);
    if len == 0 || s > e {
        return None;
    }
    Some((usize::try_from(s).ok()?, usize::try_from(e).ok()?))
}

/// SETRANGE: overwrite from `offset`, zero-padding a shorter value.
pub(crate) fn set_range(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    offset: usize,
    patch: &[u8],
    ctx: &Ctx,
) -> Result<usize> {
    let version = map.next_version();
    let Some(mut slot) = live_slot(map, hash, key, ctx) else {
        if patch.is_empty() {
            return Ok(0);
        }
        let total = offset
            .checked_add(patch.len())
            .ok_or_else(|| ctx.too_large())?;
        ctx.check_len(total)?;
        let mut value = vec![0u8; total];
        // `total` is `offset + patch.len()`: the tail is exactly the patch.
        if let Some(tail) = value.get_mut(offset..) {
            tail.copy_from_slice(patch);
        }
        let entry = new_entry(key, ValueIn::Owned(value), version, None, ctx)?;
        map.insert_new(hash, entry);
        ctx.notify_new(key);
        ctx.notify_string("setrange", key);
        return Ok(total);
    };
    let old_len = string_value(slot.get())?.len();
    if patch.is_empty() {
        return Ok(old_len);
    }
    let end = offset
        .checked_add(patch.len())
        .ok_or_else(|| ctx.too_large())?;
    ctx.check_len(end)?;
    let new_len = old_len.max(end);
    rewrite(&mut slot, version, new_len, ctx, |value| {
        if let Some(span) = value.get_mut(offset..end) {
            span.copy_from_slice(patch);
        }
    })?;
    ctx.notify_string("setrange", key);
    Ok(new_len)
}

#[cfg(test)]
mod tests {
    use super::clamp_range;

    #[test]
    fn getrange_indexes_follow_redis() {
        // "This is a string" examples from the Redis docs.
        let len = 16;
        assert_eq!(clamp_range(len, 0, 3), Some((0, 3)));
        assert_eq!(clamp_range(len, -3, -1), Some((13, 15)));
        assert_eq!(clamp_range(len, 0, -1), Some((0, 15)));
        assert_eq!(clamp_range(len, 10, 100), Some((10, 15)));
        assert_eq!(clamp_range(len, 5, 3), None);
        assert_eq!(clamp_range(len, -1, -5), None);
        assert_eq!(clamp_range(len, -100, 2), Some((0, 2)));
        assert_eq!(clamp_range(len, 100, 200), None);
        assert_eq!(clamp_range(0, 0, -1), None);
        assert_eq!(clamp_range(len, i64::MIN, i64::MAX), Some((0, 15)));
    }
}
