//! Expiry: turning Redis expiry arguments into deadlines, and EXPIRE,
//! PERSIST, TTL and EXPIRETIME.
//!
//! Owns the two sets of validation rules Redis applies: SET/GETEX reject
//! any non-positive time, while EXPIRE accepts negative ones and deletes
//! the key when the deadline has passed. Deadlines are absolute Unix
//! milliseconds; an entry is expired once the clock is past its deadline.

use super::access::live_slot;
use super::types::{ExpireCondition, Expiry, SetTtl};
use crate::entry::Patch;
use crate::error::{Error, Result};
use crate::keyspace::Ctx;
use crate::memtable::ShardMap;
use bytes::Bytes;

fn now_i64(ctx: &Ctx) -> i64 {
    i64::try_from(ctx.now()).unwrap_or(i64::MAX)
}

/// The deadline for SET's and GETEX's EX/PX/EXAT/PXAT, with Redis's checks
/// (`getExpireMillisecondsOrReply`): the number must be positive, and the
/// result must not overflow.
pub(crate) fn deadline_for_set(e: Expiry, ctx: &Ctx) -> Result<u64> {
    let (v, seconds, relative) = match e {
        Expiry::Seconds(v) => (v, true, true),
        Expiry::Millis(v) => (v, false, true),
        Expiry::UnixSeconds(v) => (v, true, false),
        Expiry::UnixMillis(v) => (v, false, false),
    };
    if v <= 0 || (seconds && v > i64::MAX / 1000) {
        return Err(Error::InvalidExpireTime);
    }
    let ms = if seconds { v * 1000 } else { v };
    let ms = if relative {
        ms.checked_add(now_i64(ctx))
            .ok_or(Error::InvalidExpireTime)?
    } else {
        ms
    };
    u64::try_from(ms).map_err(|_| Error::InvalidExpireTime)
}

/// The deadline for the EXPIRE family, with Redis's checks
/// (`expireGenericCommand`): any number, unless converting it overflows.
/// The result may lie in the past, or be negative.
pub(crate) fn deadline_for_expire(e: Expiry, ctx: &Ctx) -> Result<i64> {
    let (v, seconds, base) = match e {
        Expiry::Seconds(v) => (v, true, now_i64(ctx)),
        Expiry::Millis(v) => (v, false, now_i64(ctx)),
        Expiry::UnixSeconds(v) => (v, true, 0),
        Expiry::UnixMillis(v) => (v, false, 0),
    };
    let ms = if seconds {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&v) {
            return Err(Error::InvalidExpireTime);
        }
        v * 1000
    } else {
        v
    };
    if ms > i64::MAX - base {
        return Err(Error::InvalidExpireTime);
    }
    Ok(ms + base)
}

/// EXPIRE with a resolved deadline `when` (ms). Returns whether the expiry
/// was set or the key deleted.
pub(crate) fn expire(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    when: i64,
    cond: ExpireCondition,
    ctx: &Ctx,
) -> bool {
    let version = map.next_version();
    let Some(mut slot) = live_slot(map, hash, key, ctx) else {
        return false;
    };
    let current = slot.get().expiry().map(i128::from);
    let when_wide = i128::from(when);
    let allowed = match cond {
        ExpireCondition::Always => true,
        ExpireCondition::IfNone => current.is_none(),
        ExpireCondition::IfSome => current.is_some(),
        // No expiry counts as infinitely late: nothing is later, all earlier.
        ExpireCondition::IfLater => current.is_some_and(|c| when_wide > c),
        ExpireCondition::IfEarlier => current.is_none_or(|c| when_wide < c),
        ExpireCondition::IfSomeEarlier => current.is_some_and(|c| when_wide < c),
    };
    if !allowed {
        return false;
    }
    if when <= now_i64(ctx) {
        // Redis deletes a key whose new deadline has already passed.
        drop(slot.remove());
        ctx.notify_generic("del", key);
        return true;
    }
    // `when` is positive here (it is after `now`, which is not negative).
    let deadline = u64::try_from(when).unwrap_or(u64::MAX);
    let set = slot
        .apply(Patch {
            value: None,
            expiry: Some(Some(deadline)),
            version,
        })
        .is_ok();
    if set {
        ctx.notify_generic("expire", key);
    }
    set
}

/// PERSIST: removes the expiry. Returns whether there was one.
pub(crate) fn persist(map: &mut ShardMap, hash: u64, key: &[u8], ctx: &Ctx) -> bool {
    let version = map.next_version();
    let Some(mut slot) = live_slot(map, hash, key, ctx) else {
        return false;
    };
    if slot.get().expiry().is_none() {
        return false;
    }
    let done = slot
        .apply(Patch {
            value: None,
            expiry: Some(None),
            version,
        })
        .is_ok();
    if done {
        ctx.notify_generic("persist", key);
    }
    done
}

/// GETEX: the live value, then the expiry change: `when` (already
/// validated) for `SetTtl::At`, PERSIST for `SetTtl::Clear`.
pub(crate) fn get_ex(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    when: Option<u64>,
    ttl: SetTtl,
    ctx: &Ctx,
) -> Result<Option<Bytes>> {
    // GETEX reads as GET does: a keyspace hit or miss.
    let slot = live_slot(map, hash, key, ctx);
    crate::lookups::record(slot.is_some());
    let Some(slot) = slot else {
        return Ok(None);
    };
    super::strings::string_value(slot.get())?;
    let value = slot.get().value_bytes();
    match (ttl, when) {
        (SetTtl::At(_), Some(when)) => {
            let when = i64::try_from(when).unwrap_or(i64::MAX);
            expire(map, hash, key, when, ExpireCondition::Always, ctx);
        }
        (SetTtl::Clear, _) => {
            persist(map, hash, key, ctx);
        }
        _ => {}
    }
    Ok(Some(value))
}

/// Redis's TTL replies: -2 for a missing key, -1 for no expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deadline {
    Missing,
    Persistent,
    At(u64),
}

pub(crate) fn deadline(map: &ShardMap, hash: u64, key: &[u8], ctx: &Ctx) -> Deadline {
    // TTL, PTTL and EXPIRETIME count as keyspace hits or misses in Redis.
    match super::access::peek_counted(map, hash, key, ctx) {
        None => Deadline::Missing,
        Some(e) => e.expiry().map_or(Deadline::Persistent, Deadline::At),
    }
}

/// PTTL: milliseconds left (never negative), -1, or -2.
pub(crate) fn pttl(d: Deadline, ctx: &Ctx) -> i64 {
    match d {
        Deadline::Missing => -2,
        Deadline::Persistent => -1,
        Deadline::At(t) => i64::try_from(t.saturating_sub(ctx.now())).unwrap_or(i64::MAX),
    }
}

/// TTL: seconds left rounded to nearest, as Redis (`(ms + 500) / 1000`).
pub(crate) fn ttl(d: Deadline, ctx: &Ctx) -> i64 {
    match pttl(d, ctx) {
        ms if ms < 0 => ms,
        ms => (ms + 500) / 1000,
    }
}

/// PEXPIRETIME: the deadline in Unix ms, -1, or -2.
pub(crate) fn expire_time_ms(d: Deadline) -> i64 {
    match d {
        Deadline::Missing => -2,
        Deadline::Persistent => -1,
        Deadline::At(t) => i64::try_from(t).unwrap_or(i64::MAX),
    }
}
