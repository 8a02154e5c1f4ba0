//! Set operations: SADD, SREM, SCARD, SISMEMBER, SMISMEMBER, SMEMBERS,
//! SRANDMEMBER, SPOP, SSCAN on one key; SMOVE, SINTER, SINTERCARD,
//! SUNION, SDIFF and their `*STORE` forms across keys.
//!
//! Owns their Redis semantics: WRONGTYPE for a key holding another type
//! (every key of a multi-key command is checked, in order, a missing one
//! counting as empty), the last member removed deleting the key, and
//! Redis's keyspace events (`sadd`, `srem`, `spop`, `sinterstore`,
//! `sunionstore`, `sdiffstore`, then `del` when a key goes). Multi-key
//! operations are written once against `Access`: on a `Tx` they run on
//! the batch's locks; a `Db` runs each inside one batch of its own, so
//! no one sees half of one. It must never free a set under the shard
//! lock: removed entries are handed back to be dropped after it.

use super::access::sealed::Access;
use super::collection;
use super::{Db, Tx};
use crate::collection::{Collection, Picks, Set};
use crate::entry::Entry;
use crate::error::{Error, Result};
use crate::keyspace::Ctx;
use crate::memtable::ShardMap;
use bytes::Bytes;

/// Which combination of sets SINTER, SUNION and SDIFF compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetAlgebra {
    /// Members in every set.
    Inter,
    /// Members in any set.
    Union,
    /// Members of the first set in none of the others.
    Diff,
}

impl SetAlgebra {
    /// The keyspace event of the `*STORE` form.
    fn store_event(self) -> &'static str {
        match self {
            SetAlgebra::Inter => "sinterstore",
            SetAlgebra::Union => "sunionstore",
            SetAlgebra::Diff => "sdiffstore",
        }
    }
}

fn read<'m>(map: &'m ShardMap, hash: u64, key: &[u8], ctx: &Ctx) -> Result<Option<&'m Set>> {
    collection::read(map, hash, key, ctx, Collection::as_set)
}

/// Runs `f` on the set at `key` (see `collection::update`), creating it if
/// absent when `create`. `f` is given `set-max-intset-entries`.
fn update<R>(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    create: bool,
    ctx: &Ctx,
    f: impl FnOnce(&mut Set, usize) -> Result<(R, bool)>,
) -> Result<(Option<R>, Option<Entry>)> {
    let limit = ctx.set_intset_entries();
    let create = create.then(|| Collection::Set(Set::default()));
    collection::update(map, hash, key, ctx, create, |c| match c.as_set_mut() {
        Some(s) => f(s, limit),
        None => Err(Error::WrongType),
    })
}

fn sadd(map: &mut ShardMap, hash: u64, key: &[u8], members: &[&[u8]], ctx: &Ctx) -> Result<usize> {
    for m in members {
        ctx.check_len(m.len())?;
    }
    let (added, _) = update(map, hash, key, true, ctx, |s, limit| {
        let added = members.iter().filter(|m| s.insert(m, limit)).count();
        Ok((added, added > 0))
    })?;
    let added = added.unwrap_or(0);
    if added > 0 {
        ctx.notify_set("sadd", key);
    }
    Ok(added)
}

fn srem(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    members: &[&[u8]],
    ctx: &Ctx,
) -> Result<(usize, Option<Entry>)> {
    let (n, removed) = update(map, hash, key, false, ctx, |s, _| {
        let n = members.iter().filter(|m| s.remove(m)).count();
        Ok((n, n > 0))
    })?;
    let n = n.unwrap_or(0);
    if n > 0 {
        ctx.notify_set("srem", key);
    }
    if removed.is_some() {
        ctx.notify_generic("del", key);
    }
    Ok((n, removed))
}

/// SPOP: removes the members at the positions `pick` chooses given the
/// set's size; `None` if the key does not exist.
fn spop<P: Into<Picks>>(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    pick: impl FnOnce(usize) -> P,
    ctx: &Ctx,
) -> Result<(Option<Vec<Bytes>>, Option<Entry>)> {
    let (popped, removed) = update(map, hash, key, false, ctx, |s, _| {
        let picks = pick(s.len()).into();
        let picked: Vec<Bytes> = s.picks(&picks).into_iter().map(|m| m.to_bytes()).collect();
        // Random picks may repeat: a member is popped once.
        let popped: Vec<Bytes> = picked.into_iter().filter(|m| s.remove(m)).collect();
        let changed = !popped.is_empty();
        Ok((popped, changed))
    })?;
    if popped.as_ref().is_some_and(|p| !p.is_empty()) {
        ctx.notify_set("spop", key);
    }
    if removed.is_some() {
        ctx.notify_generic("del", key);
    }
    Ok((popped, removed))
}

/// The members of the set at `key`, copied, in the set's order; `None` if
/// the key does not exist.
fn members_of<A: Access + ?Sized>(a: &A, key: &[u8]) -> Result<Option<Vec<Bytes>>> {
    a.read_key(key, |m, h| {
        let set = read(m, h, key, a.ctx())?;
        Ok(set.map(|s| s.iter().map(|m| m.to_bytes()).collect()))
    })?
}

/// Keeps the `members` that are (`keep_in`) or are not in the set at
/// `key`; a missing key is an empty set.
fn retain<A: Access + ?Sized>(
    a: &A,
    key: &[u8],
    members: &mut Vec<Bytes>,
    keep_in: bool,
) -> Result<()> {
    a.read_key(key, |m, h| {
        let set = read(m, h, key, a.ctx())?;
        members.retain(|x| set.is_some_and(|s| s.contains(x)) == keep_in);
        Ok(())
    })?
}

/// The sizes of the sets at `keys`, `None` for a missing key; WRONGTYPE at
/// the first key holding another type, as Redis checks them all first.
fn sizes<A: Access + ?Sized>(a: &A, keys: &[&[u8]]) -> Result<Vec<Option<usize>>> {
    keys.iter()
        .map(|key| a.read_key(key, |m, h| Ok(read(m, h, key, a.ctx())?.map(Set::len)))?)
        .collect()
}

/// SINTER, SUNION or SDIFF of `keys`: the members, as Redis orders them
/// (SINTER in the smallest set's order, the others in the result set's).
fn combine<A: Access + ?Sized>(a: &A, op: SetAlgebra, keys: &[&[u8]]) -> Result<Vec<Bytes>> {
    // Every key counts once as a keyspace hit or miss, here, as Redis
    // looks each up once; the reads for the work are not counted.
    let sizes = sizes(a, keys)?;
    crate::lookups::quietly(|| combine_sized(a, op, keys, &sizes))
}

fn combine_sized<A: Access + ?Sized>(
    a: &A,
    op: SetAlgebra,
    keys: &[&[u8]],
    sizes: &[Option<usize>],
) -> Result<Vec<Bytes>> {
    let limit = a.ctx().set_intset_entries();
    match op {
        SetAlgebra::Inter => {
            if sizes.iter().any(Option::is_none) {
                return Ok(Vec::new());
            }
            let mut order: Vec<usize> = (0..keys.len()).collect();
            order.sort_by_key(|&i| sizes.get(i).copied().flatten());
            let mut keys_by_size = order.iter().filter_map(|&i| keys.get(i));
            let Some(smallest) = keys_by_size.next() else {
                return Ok(Vec::new());
            };
            let mut members = members_of(a, smallest)?.unwrap_or_default();
            for key in keys_by_size {
                if members.is_empty() {
                    break;
                }
                retain(a, key, &mut members, true)?;
            }
            Ok(members)
        }
        SetAlgebra::Union => {
            let mut out = Set::default();
            for key in keys {
                a.read_key(key, |m, h| {
                    if let Some(s) = read(m, h, key, a.ctx())? {
                        for member in s.iter() {
                            member.with_text(|t| out.insert(t, limit));
                        }
                    }
                    Ok::<_, Error>(())
                })??;
            }
            Ok(out.iter().map(|m| m.to_bytes()).collect())
        }
        SetAlgebra::Diff => {
            let Some((first, rest)) = keys.split_first() else {
                return Ok(Vec::new());
            };
            let mut members = members_of(a, first)?.unwrap_or_default();
            for key in rest {
                if members.is_empty() {
                    break;
                }
                retain(a, key, &mut members, false)?;
            }
            let mut out = Set::default();
            for m in &members {
                out.insert(m, limit);
            }
            Ok(out.iter().map(|m| m.to_bytes()).collect())
        }
    }
}

/// The `*STORE` form: stores the result at `dst` (replacing whatever it
/// held, deleting it if the result is empty); the result's size.
fn combine_store<A: Access + ?Sized>(
    a: &A,
    op: SetAlgebra,
    dst: &[u8],
    keys: &[&[u8]],
) -> Result<usize> {
    let members = combine(a, op, keys)?;
    let limit = a.ctx().set_intset_entries();
    let mut out = Set::with_capacity(members.len(), limit);
    for m in &members {
        out.insert(m, limit);
    }
    let n = out.len();
    let replaced = a.write_key(dst, |m, h| {
        collection::store(m, h, dst, Collection::Set(out), a.ctx())
    })??;
    drop(replaced);
    if n > 0 {
        a.ctx().notify_set(op.store_event(), dst);
    }
    Ok(n)
}

fn smove<A: Access + ?Sized>(a: &A, src: &[u8], dst: &[u8], member: &[u8]) -> Result<bool> {
    // A write's lookups: no keyspace hits or misses, as in Redis.
    crate::lookups::quietly(|| smove_quietly(a, src, dst, member))
}

fn smove_quietly<A: Access + ?Sized>(a: &A, src: &[u8], dst: &[u8], member: &[u8]) -> Result<bool> {
    let ctx = a.ctx();
    let found = a.read_key(src, |m, h| {
        Ok::<_, Error>(read(m, h, src, ctx)?.map(|s| s.contains(member)))
    })??;
    let Some(found) = found else {
        return Ok(false);
    };
    a.read_key(dst, |m, h| read(m, h, dst, ctx).map(drop))??;
    if src == dst || !found {
        return Ok(found);
    }
    let (_, removed) = a.write_key(src, |m, h| srem(m, h, src, &[member], ctx))??;
    drop(removed);
    a.write_key(dst, |m, h| sadd(m, h, dst, &[member], ctx))??;
    Ok(true)
}

/// Operations on set values. Import it to call them on a `Db` or `Tx`.
pub trait Sets: Access {
    /// SADD: the number of members that are new.
    fn sadd(&self, key: &[u8], members: &[&[u8]]) -> Result<usize> {
        self.write_key(key, |m, h| sadd(m, h, key, members, self.ctx()))?
    }

    /// SREM: the number of members removed.
    fn srem(&self, key: &[u8], members: &[&[u8]]) -> Result<usize> {
        let (n, removed) = self.write_key(key, |m, h| srem(m, h, key, members, self.ctx()))??;
        // Freed here, after the shard lock is released.
        drop(removed);
        Ok(n)
    }

    /// SPOP: removes and returns the members `pick` chooses, given the
    /// set's size; `None` if the key does not exist.
    fn spop<P: Into<Picks>>(
        &self,
        key: &[u8],
        pick: impl FnOnce(usize) -> P,
    ) -> Result<Option<Vec<Bytes>>> {
        let (popped, removed) = self.write_key(key, |m, h| spop(m, h, key, pick, self.ctx()))??;
        drop(removed);
        Ok(popped)
    }

    /// SCARD.
    fn scard(&self, key: &[u8]) -> Result<usize> {
        self.read_key(key, |m, h| {
            Ok(read(m, h, key, self.ctx())?.map_or(0, Set::len))
        })?
    }

    /// SMISMEMBER (and SISMEMBER): whether each member is in the set.
    fn smismember(&self, key: &[u8], members: &[&[u8]]) -> Result<Vec<bool>> {
        self.read_key(key, |m, h| {
            let set = read(m, h, key, self.ctx())?;
            Ok(members
                .iter()
                .map(|x| set.is_some_and(|s| s.contains(x)))
                .collect())
        })?
    }

    /// SMEMBERS: every member (an intset's in ascending order).
    fn smembers(&self, key: &[u8]) -> Result<Vec<Bytes>> {
        Ok(members_of(self, key)?.unwrap_or_default())
    }

    /// SRANDMEMBER: the members `pick` chooses, given the set's size;
    /// `None` if the key does not exist.
    fn srandmember<P: Into<Picks>>(
        &self,
        key: &[u8],
        pick: impl FnOnce(usize) -> P,
    ) -> Result<Option<Vec<Bytes>>> {
        self.read_key(key, |m, h| {
            let Some(s) = read(m, h, key, self.ctx())? else {
                return Ok(None);
            };
            let picks = pick(s.len()).into();
            let members = s.picks(&picks);
            Ok(Some(members.into_iter().map(|m| m.to_bytes()).collect()))
        })?
    }

    /// SSCAN: the next cursor (0 when done) and this step's members, about
    /// `count` of them (all of an intset at once).
    fn sscan(&self, key: &[u8], cursor: u64, count: usize) -> Result<(u64, Vec<Bytes>)> {
        self.read_key(key, |m, h| {
            let Some(s) = read(m, h, key, self.ctx())? else {
                return Ok((0, Vec::new()));
            };
            let (next, page) = s.scan(cursor, count);
            Ok((next, page.into_iter().map(|m| m.to_bytes()).collect()))
        })?
    }

    /// SINTER, SUNION or SDIFF.
    fn combine(&self, op: SetAlgebra, keys: &[&[u8]]) -> Result<Vec<Bytes>> {
        combine(self, op, keys)
    }

    /// SINTERCARD: the size of the intersection, counting no further than
    /// `limit` (0: no limit).
    fn sintercard(&self, keys: &[&[u8]], limit: usize) -> Result<usize> {
        let n = combine(self, SetAlgebra::Inter, keys)?.len();
        Ok(if limit == 0 { n } else { n.min(limit) })
    }

    /// SINTERSTORE, SUNIONSTORE or SDIFFSTORE: the stored set's size.
    fn combine_store(&self, op: SetAlgebra, dst: &[u8], keys: &[&[u8]]) -> Result<usize> {
        combine_store(self, op, dst, keys)
    }

    /// SMOVE: whether `member` moved (or, when `src` is `dst`, is there).
    fn smove(&self, src: &[u8], dst: &[u8], member: &[u8]) -> Result<bool> {
        smove(self, src, dst, member)
    }
}

impl Sets for Tx<'_> {}

/// On a `Db`, the multi-key operations run as one batch each, as they are
/// atomic in Redis.
impl Sets for Db {
    fn combine(&self, op: SetAlgebra, keys: &[&[u8]]) -> Result<Vec<Bytes>> {
        self.snapshot(keys, |tx| combine(tx, op, keys))
    }

    fn sintercard(&self, keys: &[&[u8]], limit: usize) -> Result<usize> {
        self.snapshot(keys, |tx| tx.sintercard(keys, limit))
    }

    fn combine_store(&self, op: SetAlgebra, dst: &[u8], keys: &[&[u8]]) -> Result<usize> {
        let mut all = Vec::with_capacity(keys.len() + 1);
        all.push(dst);
        all.extend_from_slice(keys);
        self.settled(self.atomically(&all, |tx| combine_store(tx, op, dst, keys)))
    }

    fn smove(&self, src: &[u8], dst: &[u8], member: &[u8]) -> Result<bool> {
        self.settled(self.atomically(&[src, dst], |tx| smove(tx, src, dst, member)))
    }
}
