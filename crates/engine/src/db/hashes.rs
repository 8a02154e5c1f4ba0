//! Hash operations: HSET, HSETNX, HGET, HMGET, HDEL, HLEN, HEXISTS,
//! HSTRLEN, HKEYS, HVALS, HGETALL, HINCRBY, HINCRBYFLOAT, HRANDFIELD,
//! HSCAN.
//!
//! Owns their Redis semantics: WRONGTYPE for a key holding another type,
//! the last field removed deleting the key (an empty hash never exists),
//! and Redis's keyspace events (`hset`, `hdel`, `hincrby`,
//! `hincrbyfloat`, then `del` when the key goes). Each function runs on
//! one locked shard; the `Hashes` trait routes to it, on a `Db` or a `Tx`.
//! It must never free a hash under the shard lock: a removed entry is
//! handed back to be dropped after the lock is released.

use super::access::sealed::Access;
use super::collection;
use crate::collection::{Collection, Hash, Listpack, Picks};
use crate::entry::Entry;
use crate::error::{Error, Result};
use crate::keyspace::Ctx;
use crate::memtable::ShardMap;
use crate::numeric::{format_i64, incr_by_float as add_float, parse_i64};
use bytes::Bytes;

/// A field and its value, copied out of a hash.
pub type FieldValue = (Bytes, Bytes);

/// Which parts of each field HGETALL-like reads return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashPart {
    /// HKEYS.
    Fields,
    /// HVALS.
    Values,
    /// HGETALL: field, value, field, value, ...
    Both,
}

/// The hash `key` holds: `None` if the key does not exist, `WrongType` if
/// it holds something else.
fn read<'m>(map: &'m ShardMap, hash: u64, key: &[u8], ctx: &Ctx) -> Result<Option<&'m Hash>> {
    collection::read(map, hash, key, ctx, Collection::as_hash)
}

/// Runs `f` on the hash at `key` (see `collection::update`), creating it
/// if absent when `create`.
fn update<R>(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    create: bool,
    ctx: &Ctx,
    f: impl FnOnce(&mut Hash, Listpack) -> Result<(R, bool)>,
) -> Result<(Option<R>, Option<Entry>)> {
    let limits = ctx.hash_listpack();
    let create = create.then(|| Collection::Hash(Hash::default()));
    collection::update(map, hash, key, ctx, create, |c| match c.as_hash_mut() {
        Some(h) => f(h, limits),
        None => Err(Error::WrongType),
    })
}

/// HSET (and HMSET): sets every pair; the number of new fields.
pub(crate) fn hset(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    pairs: &[(&[u8], &[u8])],
    ctx: &Ctx,
) -> Result<usize> {
    for (field, value) in pairs {
        ctx.check_len(field.len())?;
        ctx.check_len(value.len())?;
    }
    let (added, _) = update(map, hash, key, true, ctx, |h, l| {
        Ok((
            pairs.iter().filter(|(f, v)| h.insert(f, v, l)).count(),
            true,
        ))
    })?;
    ctx.notify_hash("hset", key);
    Ok(added.unwrap_or(0))
}

/// HSETNX: sets the field only if it is absent; whether it did.
pub(crate) fn hsetnx(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    field: &[u8],
    value: &[u8],
    ctx: &Ctx,
) -> Result<bool> {
    ctx.check_len(field.len())?;
    ctx.check_len(value.len())?;
    let (set, _) = update(map, hash, key, true, ctx, |h, l| {
        let set = h.get(field).is_none() && h.insert(field, value, l);
        Ok((set, set))
    })?;
    let set = set.unwrap_or(false);
    if set {
        ctx.notify_hash("hset", key);
    }
    Ok(set)
}

/// HDEL: the number of fields removed, and the key's entry if that
/// emptied it (drop it after unlocking).
pub(crate) fn hdel(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    fields: &[&[u8]],
    ctx: &Ctx,
) -> Result<(usize, Option<Entry>)> {
    let (n, removed) = update(map, hash, key, false, ctx, |h, _| {
        let n = fields.iter().filter(|f| h.remove(f)).count();
        Ok((n, n > 0))
    })?;
    let n = n.unwrap_or(0);
    if n > 0 {
        ctx.notify_hash("hdel", key);
    }
    if removed.is_some() {
        ctx.notify_generic("del", key);
    }
    Ok((n, removed))
}

/// HINCRBY: adds `delta` to the field's integer value (0 if absent).
pub(crate) fn hincrby(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    field: &[u8],
    delta: i64,
    ctx: &Ctx,
) -> Result<i64> {
    ctx.check_len(field.len())?;
    let (new, _) = update(map, hash, key, true, ctx, |h, l| {
        let current = match h.get(field) {
            Some(v) => parse_i64(v).ok_or(Error::HashNotInteger)?,
            None => 0,
        };
        let new = current.checked_add(delta).ok_or(Error::Overflow)?;
        h.insert(field, format_i64(new).as_bytes(), l);
        Ok((new, true))
    })?;
    ctx.notify_hash("hincrby", key);
    new.ok_or(Error::WrongType)
}

/// HINCRBYFLOAT: adds `increment` to the field's value (0 if absent), with
/// INCRBYFLOAT's arithmetic; the new value's text.
pub(crate) fn hincrbyfloat(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    field: &[u8],
    increment: &[u8],
    ctx: &Ctx,
) -> Result<Bytes> {
    ctx.check_len(field.len())?;
    // The increment is checked first, as Redis does, so a bad one is
    // `NotFloat` (or `NotFinite`) whatever the field holds.
    add_float(None, increment).map_err(|e| match e {
        Error::NanOrInfinity => Error::NotFinite,
        other => other,
    })?;
    let (text, _) = update(map, hash, key, true, ctx, |h, l| {
        let text = add_float(h.get(field), increment).map_err(|e| match e {
            Error::NotFloat => Error::HashNotFloat,
            other => other,
        })?;
        h.insert(field, &text, l);
        Ok((Bytes::from(text), true))
    })?;
    ctx.notify_hash("hincrbyfloat", key);
    text.ok_or(Error::WrongType)
}

/// HGET.
pub(crate) fn hget(
    map: &ShardMap,
    hash: u64,
    key: &[u8],
    field: &[u8],
    ctx: &Ctx,
) -> Result<Option<Bytes>> {
    Ok(read(map, hash, key, ctx)?.and_then(|h| h.get(field).map(Bytes::copy_from_slice)))
}

/// HEXISTS: whether the field is there (nothing copied).
pub(crate) fn hexists(
    map: &ShardMap,
    hash: u64,
    key: &[u8],
    field: &[u8],
    ctx: &Ctx,
) -> Result<bool> {
    Ok(read(map, hash, key, ctx)?.is_some_and(|h| h.get(field).is_some()))
}

/// HMGET: one value (or `None`) per field.
pub(crate) fn hmget(
    map: &ShardMap,
    hash: u64,
    key: &[u8],
    fields: &[&[u8]],
    ctx: &Ctx,
) -> Result<Vec<Option<Bytes>>> {
    let h = read(map, hash, key, ctx)?;
    Ok(fields
        .iter()
        .map(|f| h.and_then(|h| h.get(f)).map(Bytes::copy_from_slice))
        .collect())
}

/// HLEN.
pub(crate) fn hlen(map: &ShardMap, hash: u64, key: &[u8], ctx: &Ctx) -> Result<usize> {
    Ok(read(map, hash, key, ctx)?.map_or(0, Hash::len))
}

/// HSTRLEN: the length of the field's value, 0 if absent.
pub(crate) fn hstrlen(
    map: &ShardMap,
    hash: u64,
    key: &[u8],
    field: &[u8],
    ctx: &Ctx,
) -> Result<usize> {
    Ok(read(map, hash, key, ctx)?
        .and_then(|h| h.get(field))
        .map_or(0, <[u8]>::len))
}

/// HKEYS, HVALS, HGETALL: the parts asked for, flat, in the hash's order.
pub(crate) fn hgetall(
    map: &ShardMap,
    hash: u64,
    key: &[u8],
    part: HashPart,
    ctx: &Ctx,
) -> Result<Vec<Bytes>> {
    let Some(h) = read(map, hash, key, ctx)? else {
        return Ok(Vec::new());
    };
    let per = if part == HashPart::Both { 2 } else { 1 };
    let mut out = Vec::with_capacity(h.len() * per);
    for (f, v) in h.iter() {
        if part != HashPart::Values {
            out.push(Bytes::copy_from_slice(f));
        }
        if part != HashPart::Fields {
            out.push(Bytes::copy_from_slice(v));
        }
    }
    Ok(out)
}

/// HRANDFIELD's picks: `count` (field, value) pairs chosen by `pick`, which
/// is given the hash's size and returns positions in it (the caller owns
/// Redis's rules for negative counts and repeats).
pub(crate) fn hrandfield(
    map: &ShardMap,
    hash: u64,
    key: &[u8],
    pick: impl FnOnce(usize) -> Picks,
    ctx: &Ctx,
) -> Result<Option<Vec<(Bytes, Bytes)>>> {
    let Some(h) = read(map, hash, key, ctx)? else {
        return Ok(None);
    };
    let picks = pick(h.len());
    Ok(Some(
        h.picks(&picks)
            .into_iter()
            .map(|(f, v)| (Bytes::copy_from_slice(f), Bytes::copy_from_slice(v)))
            .collect(),
    ))
}

/// HSCAN: one step from `cursor`, the next cursor and the pairs of this
/// step (see `Hash::scan`); `(0, [])` if the key does not exist.
pub(crate) fn hscan(
    map: &ShardMap,
    hash: u64,
    key: &[u8],
    cursor: u64,
    count: usize,
    ctx: &Ctx,
) -> Result<(u64, Vec<FieldValue>)> {
    let Some(h) = read(map, hash, key, ctx)? else {
        return Ok((0, Vec::new()));
    };
    let (next, page) = h.scan(cursor, count);
    let page = page
        .into_iter()
        .map(|(f, v)| (Bytes::copy_from_slice(f), Bytes::copy_from_slice(v)))
        .collect();
    Ok((next, page))
}

/// Operations on hash values. Import it to call them on a `Db` or `Tx`.
pub trait Hashes: Access {
    /// HSET / HMSET: the number of fields that are new.
    fn hset(&self, key: &[u8], pairs: &[(&[u8], &[u8])]) -> Result<usize> {
        self.write_key(key, |m, h| hset(m, h, key, pairs, self.ctx()))?
    }

    /// HSETNX: whether the field was set.
    fn hsetnx(&self, key: &[u8], field: &[u8], value: &[u8]) -> Result<bool> {
        self.write_key(key, |m, h| hsetnx(m, h, key, field, value, self.ctx()))?
    }

    /// HDEL: the number of fields removed.
    fn hdel(&self, key: &[u8], fields: &[&[u8]]) -> Result<usize> {
        let (n, removed) = self.write_key(key, |m, h| hdel(m, h, key, fields, self.ctx()))??;
        // Freed here, after the shard lock is released.
        drop(removed);
        Ok(n)
    }

    /// HINCRBY: the new value.
    fn hincrby(&self, key: &[u8], field: &[u8], delta: i64) -> Result<i64> {
        self.write_key(key, |m, h| hincrby(m, h, key, field, delta, self.ctx()))?
    }

    /// HINCRBYFLOAT: the new value's text.
    fn hincrbyfloat(&self, key: &[u8], field: &[u8], increment: &[u8]) -> Result<Bytes> {
        self.write_key(key, |m, h| {
            hincrbyfloat(m, h, key, field, increment, self.ctx())
        })?
    }

    /// HGET.
    fn hget(&self, key: &[u8], field: &[u8]) -> Result<Option<Bytes>> {
        self.read_key(key, |m, h| hget(m, h, key, field, self.ctx()))?
    }

    /// HMGET.
    fn hmget(&self, key: &[u8], fields: &[&[u8]]) -> Result<Vec<Option<Bytes>>> {
        self.read_key(key, |m, h| hmget(m, h, key, fields, self.ctx()))?
    }

    /// HLEN.
    fn hlen(&self, key: &[u8]) -> Result<usize> {
        self.read_key(key, |m, h| hlen(m, h, key, self.ctx()))?
    }

    /// HEXISTS.
    fn hexists(&self, key: &[u8], field: &[u8]) -> Result<bool> {
        self.read_key(key, |m, h| hexists(m, h, key, field, self.ctx()))?
    }

    /// HSTRLEN.
    fn hstrlen(&self, key: &[u8], field: &[u8]) -> Result<usize> {
        self.read_key(key, |m, h| hstrlen(m, h, key, field, self.ctx()))?
    }

    /// HKEYS, HVALS or HGETALL.
    fn hgetall(&self, key: &[u8], part: HashPart) -> Result<Vec<Bytes>> {
        self.read_key(key, |m, h| hgetall(m, h, key, part, self.ctx()))?
    }

    /// HSCAN: the next cursor (0 when done) and this step's pairs, about
    /// `count` of them (all of a small hash at once).
    fn hscan(&self, key: &[u8], cursor: u64, count: usize) -> Result<(u64, Vec<FieldValue>)> {
        self.read_key(key, |m, h| hscan(m, h, key, cursor, count, self.ctx()))?
    }

    /// HRANDFIELD: `None` if the key does not exist; otherwise the pairs
    /// `pick` chooses, given the hash's size.
    fn hrandfield<P: Into<Picks>>(
        &self,
        key: &[u8],
        pick: impl FnOnce(usize) -> P,
    ) -> Result<Option<Vec<(Bytes, Bytes)>>> {
        self.read_key(key, |m, h| {
            hrandfield(m, h, key, |n| pick(n).into(), self.ctx())
        })?
    }
}
