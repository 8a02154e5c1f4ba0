//! List operations: LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP, LLEN,
//! LRANGE, LINDEX, LSET, LINSERT, LREM, LTRIM, LPOS on one key; LMOVE
//! (and RPOPLPUSH) and LMPOP across keys.
//!
//! Owns their Redis semantics: WRONGTYPE for a key holding another type,
//! Redis's index arithmetic (negative indexes from the tail, ranges
//! clamped), the last element removed deleting the key, and Redis's
//! keyspace events in Redis's order (`lpush`, `rpop`, `linsert`, `lset`,
//! `lrem`, `ltrim`, then `del` when a key goes; LMOVE announces the push
//! before the pop). Multi-key operations are written once against
//! `Access` and run by a `Db` inside one batch each. It must never free a
//! list under the shard lock: removed entries are handed back to be
//! dropped after it.

use super::access::sealed::Access;
use super::collection;
use super::{Db, Tx};
use crate::collection::{ChunkLimit, Collection, End, List};
use crate::entry::Entry;
use crate::error::{Error, Result};
use crate::keyspace::Ctx;
use crate::memtable::ShardMap;
use bytes::Bytes;

fn read<'m>(map: &'m ShardMap, hash: u64, key: &[u8], ctx: &Ctx) -> Result<Option<&'m List>> {
    collection::read(map, hash, key, ctx, Collection::as_list)
}

/// Runs `f` on the list at `key` (see `collection::update`), creating it if
/// absent when `create`. `f` is given `list-max-listpack-size`.
fn update<R>(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    create: bool,
    ctx: &Ctx,
    f: impl FnOnce(&mut List, ChunkLimit) -> Result<(R, bool)>,
) -> Result<(Option<R>, Option<Entry>)> {
    let limit = ctx.list_chunk();
    let create = create.then(|| Collection::List(Box::default()));
    collection::update(map, hash, key, ctx, create, |c| match c.as_list_mut() {
        Some(l) => f(l, limit),
        None => Err(Error::WrongType),
    })
}

/// An index counted from the tail when negative, as Redis does; `None`
/// when it falls outside a list of `len`.
fn index_in(index: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let i = if index < 0 {
        index.checked_add(len)?
    } else {
        index
    };
    usize::try_from(i)
        .ok()
        .filter(|&i| i64::try_from(i).is_ok_and(|i| i < len))
}

/// LRANGE's and LTRIM's range: `start` and `stop` counted from the tail
/// when negative, clamped to the list; `None` when it is empty.
pub(super) fn range_in(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let n = i64::try_from(len).ok()?;
    let start = if start < 0 {
        start.saturating_add(n).max(0)
    } else {
        start
    };
    let stop = if stop < 0 {
        stop.saturating_add(n)
    } else {
        stop
    };
    let stop = stop.min(n - 1);
    if start > stop || start >= n {
        return None;
    }
    Some((usize::try_from(start).ok()?, usize::try_from(stop).ok()?))
}

fn push_event(end: End) -> &'static str {
    match end {
        End::Left => "lpush",
        End::Right => "rpush",
    }
}

fn pop_event(end: End) -> &'static str {
    match end {
        End::Left => "lpop",
        End::Right => "rpop",
    }
}

/// Pushes `values` one after another at `end`; the new length, 0 when
/// `only_existing` and the key is absent (LPUSHX, RPUSHX).
fn push(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    end: End,
    values: &[&[u8]],
    only_existing: bool,
    ctx: &Ctx,
) -> Result<usize> {
    for v in values {
        ctx.check_len(v.len())?;
    }
    let (len, _) = update(map, hash, key, !only_existing, ctx, |l, limit| {
        for v in values {
            l.push(end, v, limit);
        }
        Ok((l.len(), !values.is_empty()))
    })?;
    if len.is_some() {
        ctx.notify_list(push_event(end), key);
    }
    Ok(len.unwrap_or(0))
}

/// Pops up to `count` elements at `end`, announcing only `del` when the
/// list empties (the caller announces the pop, whose place in the order
/// of events depends on the command). `None` if the key does not exist.
fn pop_quiet(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    end: End,
    count: usize,
    ctx: &Ctx,
) -> Result<(Option<Vec<Bytes>>, Option<Entry>)> {
    update(map, hash, key, false, ctx, |l, _| {
        let popped: Vec<Bytes> = (0..count).map_while(|_| l.pop(end)).collect();
        let changed = !popped.is_empty();
        Ok((popped, changed))
    })
}

fn pop(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    end: End,
    count: usize,
    ctx: &Ctx,
) -> Result<(Option<Vec<Bytes>>, Option<Entry>)> {
    let (popped, removed) = pop_quiet(map, hash, key, end, count, ctx)?;
    if popped.as_ref().is_some_and(|p| !p.is_empty()) {
        ctx.notify_list(pop_event(end), key);
    }
    if removed.is_some() {
        ctx.notify_generic("del", key);
    }
    Ok((popped, removed))
}

fn lset(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    index: i64,
    value: &[u8],
    ctx: &Ctx,
) -> Result<()> {
    ctx.check_len(value.len())?;
    let (done, _) = update(map, hash, key, false, ctx, |l, limit| {
        let i = index_in(index, l.len()).ok_or(Error::IndexOutOfRange)?;
        Ok(((), l.set(i, value, limit)))
    })?;
    done.ok_or(Error::NoSuchKey)?;
    ctx.notify_list("lset", key);
    Ok(())
}

/// LINSERT: the new length, -1 if `pivot` is not there, 0 if the key is
/// not.
fn linsert(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    before: bool,
    pivot: &[u8],
    value: &[u8],
    ctx: &Ctx,
) -> Result<i64> {
    ctx.check_len(value.len())?;
    let (inserted, _) = update(map, hash, key, false, ctx, |l, limit| {
        let inserted = l.insert(pivot, value, before, limit);
        Ok((inserted.then(|| l.len()), inserted))
    })?;
    Ok(match inserted {
        None => 0,
        Some(None) => -1,
        Some(Some(len)) => {
            ctx.notify_list("linsert", key);
            i64::try_from(len).unwrap_or(i64::MAX)
        }
    })
}

fn lrem(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    count: i64,
    value: &[u8],
    ctx: &Ctx,
) -> Result<(usize, Option<Entry>)> {
    let most = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    let (n, removed) = update(map, hash, key, false, ctx, |l, _| {
        let n = l.remove(value, most, count < 0);
        Ok((n, n > 0))
    })?;
    let n = n.unwrap_or(0);
    if n > 0 {
        ctx.notify_list("lrem", key);
    }
    if removed.is_some() {
        ctx.notify_generic("del", key);
    }
    Ok((n, removed))
}

fn ltrim(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    start: i64,
    stop: i64,
    ctx: &Ctx,
) -> Result<Option<Entry>> {
    // Redis counts LTRIM as a change (WATCH, `ltrim`) even when it keeps
    // every element.
    let (found, removed) = update(map, hash, key, false, ctx, |l, limit| {
        match range_in(start, stop, l.len()) {
            Some((from, to)) => l.trim(from, to, true, limit),
            None => l.trim(0, 0, false, limit),
        }
        Ok(((), true))
    })?;
    if found.is_some() {
        ctx.notify_list("ltrim", key);
    }
    if removed.is_some() {
        ctx.notify_generic("del", key);
    }
    Ok(removed)
}

/// LPOS's options, read by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PosOptions {
    /// RANK: which match comes first (1 the first from the head, -1 the
    /// first from the tail); never 0.
    pub rank: i64,
    /// COUNT: how many matches at most (0: all); `None` when not given
    /// (the reply is then one position or nil).
    pub count: Option<usize>,
    /// MAXLEN: how many elements to look at (0: all).
    pub maxlen: usize,
}

fn lmove<A: Access + ?Sized>(
    a: &A,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
) -> Result<Option<Bytes>> {
    let ctx = a.ctx();
    // Checks before a write: no keyspace hit or miss, as in Redis.
    let present = crate::lookups::quietly(|| {
        a.read_key(src, |m, h| Ok::<_, Error>(read(m, h, src, ctx)?.is_some()))
    })??;
    if !present {
        return Ok(None);
    }
    crate::lookups::quietly(|| a.read_key(dst, |m, h| read(m, h, dst, ctx).map(drop)))??;
    if src == dst {
        // A rotation: the list never empties on the way.
        let (moved, _) = a.write_key(src, |m, h| {
            update(m, h, src, false, ctx, |l, limit| {
                let value = l.pop(from);
                if let Some(v) = &value {
                    l.push(to, v, limit);
                }
                let changed = value.is_some();
                Ok((value, changed))
            })
        })??;
        let moved = moved.flatten();
        if moved.is_some() {
            ctx.notify_list(push_event(to), dst);
            ctx.notify_list(pop_event(from), src);
        }
        return Ok(moved);
    }
    let (popped, removed) = a.write_key(src, |m, h| pop_quiet(m, h, src, from, 1, ctx))??;
    let Some(value) = popped.and_then(|p| p.into_iter().next()) else {
        return Ok(None);
    };
    a.write_key(dst, |m, h| push(m, h, dst, to, &[&value], false, ctx))??;
    ctx.notify_list(pop_event(from), src);
    if removed.is_some() {
        ctx.notify_generic("del", src);
    }
    drop(removed);
    Ok(Some(value))
}

fn lmpop<A: Access + ?Sized>(
    a: &A,
    keys: &[&[u8]],
    end: End,
    count: usize,
) -> Result<Option<(Bytes, Vec<Bytes>)>> {
    let ctx = a.ctx();
    for key in keys {
        // Redis looks the keys up as a write's: no keyspace hit or miss.
        let present = crate::lookups::quietly(|| {
            a.read_key(key, |m, h| Ok::<_, Error>(read(m, h, key, ctx)?.is_some()))
        })??;
        if !present {
            continue;
        }
        let (popped, removed) = a.write_key(key, |m, h| pop(m, h, key, end, count, ctx))??;
        drop(removed);
        let popped = popped.unwrap_or_default();
        return Ok(Some((Bytes::copy_from_slice(key), popped)));
    }
    Ok(None)
}

/// Operations on list values. Import it to call them on a `Db` or `Tx`.
pub trait Lists: Access {
    /// LPUSH / RPUSH (and, with `only_existing`, LPUSHX / RPUSHX): the
    /// list's new length (0 when `only_existing` and there is no list).
    fn push(&self, key: &[u8], end: End, values: &[&[u8]], only_existing: bool) -> Result<usize> {
        self.write_key(key, |m, h| {
            push(m, h, key, end, values, only_existing, self.ctx())
        })?
    }

    /// LPOP / RPOP: up to `count` elements; `None` if the key does not
    /// exist.
    fn pop(&self, key: &[u8], end: End, count: usize) -> Result<Option<Vec<Bytes>>> {
        let (popped, removed) =
            self.write_key(key, |m, h| pop(m, h, key, end, count, self.ctx()))??;
        // Freed here, after the shard lock is released.
        drop(removed);
        Ok(popped)
    }

    /// LLEN.
    fn llen(&self, key: &[u8]) -> Result<usize> {
        self.read_key(key, |m, h| {
            Ok(read(m, h, key, self.ctx())?.map_or(0, List::len))
        })?
    }

    /// LINDEX.
    fn lindex(&self, key: &[u8], index: i64) -> Result<Option<Bytes>> {
        self.read_key(key, |m, h| {
            let Some(l) = read(m, h, key, self.ctx())? else {
                return Ok(None);
            };
            let i = index_in(index, l.len());
            Ok(i.and_then(|i| l.get(i)).map(Bytes::copy_from_slice))
        })?
    }

    /// LRANGE.
    fn lrange(&self, key: &[u8], start: i64, stop: i64) -> Result<Vec<Bytes>> {
        self.read_key(key, |m, h| {
            let Some(l) = read(m, h, key, self.ctx())? else {
                return Ok(Vec::new());
            };
            Ok(match range_in(start, stop, l.len()) {
                Some((from, to)) => l.range(from, to),
                None => Vec::new(),
            })
        })?
    }

    /// LSET.
    ///
    /// Errors: `NoSuchKey`, `IndexOutOfRange`.
    fn lset(&self, key: &[u8], index: i64, value: &[u8]) -> Result<()> {
        self.write_key(key, |m, h| lset(m, h, key, index, value, self.ctx()))?
    }

    /// LINSERT: the new length, -1 if `pivot` is not there, 0 if the key
    /// is not.
    fn linsert(&self, key: &[u8], before: bool, pivot: &[u8], value: &[u8]) -> Result<i64> {
        self.write_key(key, |m, h| {
            linsert(m, h, key, before, pivot, value, self.ctx())
        })?
    }

    /// LREM: removes up to `|count|` elements equal to `value` (all for 0),
    /// from the tail when `count` is negative; how many.
    fn lrem(&self, key: &[u8], count: i64, value: &[u8]) -> Result<usize> {
        let (n, removed) =
            self.write_key(key, |m, h| lrem(m, h, key, count, value, self.ctx()))??;
        drop(removed);
        Ok(n)
    }

    /// LTRIM.
    fn ltrim(&self, key: &[u8], start: i64, stop: i64) -> Result<()> {
        let removed = self.write_key(key, |m, h| ltrim(m, h, key, start, stop, self.ctx()))??;
        drop(removed);
        Ok(())
    }

    /// LPOS: the positions of the matches; `None` if the key does not
    /// exist.
    fn lpos(&self, key: &[u8], value: &[u8], opts: PosOptions) -> Result<Option<Vec<usize>>> {
        self.read_key(key, |m, h| {
            let Some(l) = read(m, h, key, self.ctx())? else {
                return Ok(None);
            };
            // i64::MIN has no positive counterpart; Redis reads it as the
            // first match from the tail.
            let rank = if opts.rank == i64::MIN { -1 } else { opts.rank };
            let skip = usize::try_from(rank.unsigned_abs()).unwrap_or(usize::MAX);
            let count = opts.count.unwrap_or(1);
            Ok(Some(l.positions(value, skip, rank < 0, count, opts.maxlen)))
        })?
    }

    /// LMOVE (and RPOPLPUSH): the element moved; `None` if `src` does not
    /// exist.
    fn lmove(&self, src: &[u8], dst: &[u8], from: End, to: End) -> Result<Option<Bytes>> {
        lmove(self, src, dst, from, to)
    }

    /// LMPOP: the first key of `keys` holding a list, and up to `count`
    /// elements popped from it; `None` if none does.
    fn lmpop(&self, keys: &[&[u8]], end: End, count: usize) -> Result<Option<(Bytes, Vec<Bytes>)>> {
        lmpop(self, keys, end, count)
    }

    /// SORT ... STORE: replaces whatever `key` holds with a list of
    /// `items`, in order, without a deadline (no items: deletes it),
    /// announcing `sortstore`; the list's length.
    fn lstore(&self, key: &[u8], items: &[Bytes]) -> Result<usize> {
        let ctx = self.ctx();
        let limit = ctx.list_chunk();
        let mut list = List::default();
        for item in items {
            ctx.check_len(item.len())?;
            list.push(End::Right, item, limit);
        }
        let n = list.len();
        let replaced = self.write_key(key, |m, h| {
            collection::store(m, h, key, Collection::List(Box::new(list)), ctx)
        })??;
        drop(replaced);
        if n > 0 {
            ctx.notify_list("sortstore", key);
        }
        Ok(n)
    }
}

impl Lists for Tx<'_> {}

/// On a `Db`, the multi-key operations run as one batch each, as they are
/// atomic in Redis.
impl Lists for Db {
    fn lmove(&self, src: &[u8], dst: &[u8], from: End, to: End) -> Result<Option<Bytes>> {
        self.settled(self.atomically(&[src, dst], |tx| lmove(tx, src, dst, from, to)))
    }

    fn lmpop(&self, keys: &[&[u8]], end: End, count: usize) -> Result<Option<(Bytes, Vec<Bytes>)>> {
        self.settled(self.atomically(keys, |tx| lmpop(tx, keys, end, count)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_and_ranges_follow_redis_arithmetic() {
        assert_eq!(index_in(0, 3), Some(0));
        assert_eq!(index_in(-1, 3), Some(2));
        assert_eq!(index_in(-4, 3), None);
        assert_eq!(index_in(3, 3), None);
        assert_eq!(index_in(i64::MIN, 3), None);
        assert_eq!(range_in(0, -1, 5), Some((0, 4)));
        assert_eq!(range_in(-100, 100, 5), Some((0, 4)));
        assert_eq!(range_in(5, 1, 5), None);
        assert_eq!(range_in(2, 1, 5), None);
        assert_eq!(range_in(-2, -1, 5), Some((3, 4)));
        assert_eq!(range_in(i64::MIN, i64::MAX, 5), Some((0, 4)));
        assert_eq!(range_in(0, 0, 0), None);
    }
}
