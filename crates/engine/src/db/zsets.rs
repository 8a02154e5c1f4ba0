//! Sorted set operations: ZADD (NX, XX, GT, LT, CH, INCR), ZINCRBY, ZREM,
//! ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK, ZCOUNT, ZLEXCOUNT, the ZRANGE
//! family (by rank, score or lex, either way, with LIMIT), the
//! ZREMRANGEBY* commands, ZPOPMIN and ZPOPMAX, on one key.
//!
//! Owns their Redis semantics: WRONGTYPE for a key holding another type,
//! ZADD's flag rules (a member skipped, not an error, when a flag says
//! so), a NaN score refused, ranges as Redis counts them (negative ranks
//! from the end, exclusive bounds, an empty range when the bounds cross),
//! the last member removed deleting the key, and Redis's keyspace events
//! (`zadd`, `zincr`, `zrem`, `zremrangebyrank`, `zremrangebyscore`,
//! `zremrangebylex`, `zpopmin`, `zpopmax`, then `del` when a key goes).
//! It must never free a sorted set under the shard lock: removed entries
//! are handed back to be dropped after it.

use super::access::sealed::Access;
use super::collection;
use super::lists::range_in;
use super::{Db, Tx};
use crate::collection::{Collection, Listpack, Picks, ZSet};
use crate::entry::Entry;
use crate::error::{Error, Result};
use crate::keyspace::Ctx;
use crate::memtable::ShardMap;
use bytes::Bytes;

/// ZADD's flags (the caller has refused the combinations Redis refuses).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ZAddFlags {
    /// Only add new members.
    pub nx: bool,
    /// Only update existing members.
    pub xx: bool,
    /// Only update to a greater score.
    pub gt: bool,
    /// Only update to a lesser score.
    pub lt: bool,
    /// Count changed members too, not only added ones.
    pub ch: bool,
}

/// What ZADD answers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ZAdded {
    /// Members added (and changed, with CH).
    Count(usize),
    /// With INCR: the new score, `None` when a flag stopped it.
    Score(Option<f64>),
}

/// One end of a score range: `(1.5` is exclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreBound {
    /// The score (may be infinite).
    pub value: f64,
    /// Whether the score itself is out (`(`).
    pub exclusive: bool,
}

/// One end of a lex range: `-`, `+`, `[member` or `(member`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: before every member.
    Least,
    /// `+`: after every member.
    Greatest,
    /// `[member`.
    Inclusive(Bytes),
    /// `(member`.
    Exclusive(Bytes),
}

/// Which members a range names. Score and lex bounds are (min, max)
/// whichever way the range is read.
#[derive(Debug, Clone, PartialEq)]
pub enum ZRangeBy {
    /// Ranks, negative ones from the end (of the order read).
    Rank(i64, i64),
    /// Scores from the first bound to the second.
    Score(ScoreBound, ScoreBound),
    /// Members from the first bound to the second (for members of one
    /// score, as in Redis).
    Lex(LexBound, LexBound),
}

/// A ZRANGE request: which members, read which way, and LIMIT's offset
/// and count (a negative count: all).
#[derive(Debug, Clone, PartialEq)]
pub struct ZRange {
    /// Which members.
    pub by: ZRangeBy,
    /// Read from the highest score down (REV).
    pub rev: bool,
    /// LIMIT offset count.
    pub limit: Option<(i64, i64)>,
}

/// The members `by` names, as ascending ranks `lo..hi`.
fn span(z: &ZSet, by: &ZRangeBy, rev: bool) -> (usize, usize) {
    let len = z.len();
    match by {
        ZRangeBy::Rank(start, stop) => match range_in(*start, *stop, len) {
            None => (0, 0),
            Some((a, b)) if rev => (len - 1 - b, len - a),
            Some((a, b)) => (a, b + 1),
        },
        ZRangeBy::Score(min, max) => {
            let lo = z.count_below(|s, _| {
                if min.exclusive {
                    s <= min.value
                } else {
                    s < min.value
                }
            });
            let hi = z.count_below(|s, _| {
                if max.exclusive {
                    s < max.value
                } else {
                    s <= max.value
                }
            });
            (lo, hi.max(lo))
        }
        ZRangeBy::Lex(min, max) => {
            let lo = z.count_below(|_, m| match min {
                LexBound::Least => false,
                LexBound::Greatest => true,
                LexBound::Inclusive(b) => m < &b[..],
                LexBound::Exclusive(b) => m <= &b[..],
            });
            let hi = z.count_below(|_, m| match max {
                LexBound::Least => false,
                LexBound::Greatest => true,
                LexBound::Inclusive(b) => m <= &b[..],
                LexBound::Exclusive(b) => m < &b[..],
            });
            (lo, hi.max(lo))
        }
    }
}

/// The members a ZRANGE request names, in the order read, with scores.
pub(super) fn select(z: &ZSet, range: &ZRange) -> Vec<(Bytes, f64)> {
    let (lo, hi) = span(z, &range.by, range.rev);
    let (offset, count) = range.limit.unwrap_or((0, -1));
    let Ok(offset) = usize::try_from(offset) else {
        return Vec::new();
    };
    let n = (hi - lo).saturating_sub(offset);
    let n = usize::try_from(count).map_or(n, |c| c.min(n));
    if n == 0 {
        return Vec::new();
    }
    let from = if range.rev {
        hi - offset - n
    } else {
        lo + offset
    };
    let mut out: Vec<(Bytes, f64)> = z
        .iter_from(from)
        .take(n)
        .map(|(m, s)| (Bytes::copy_from_slice(m), s))
        .collect();
    if range.rev {
        out.reverse();
    }
    out
}

pub(super) fn read<'m>(
    map: &'m ShardMap,
    hash: u64,
    key: &[u8],
    ctx: &Ctx,
) -> Result<Option<&'m ZSet>> {
    collection::read(map, hash, key, ctx, Collection::as_zset)
}

/// Runs `f` on the sorted set at `key` (see `collection::update`),
/// creating it if absent when `create`. `f` is given the listpack limits.
fn update<R>(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    create: bool,
    ctx: &Ctx,
    f: impl FnOnce(&mut ZSet, Listpack) -> Result<(R, bool)>,
) -> Result<(Option<R>, Option<Entry>)> {
    let limits = ctx.zset_listpack();
    let create = create.then(|| Collection::ZSet(ZSet::default()));
    collection::update(map, hash, key, ctx, create, |c| match c.as_zset_mut() {
        Some(z) => f(z, limits),
        None => Err(Error::WrongType),
    })
}

fn zadd(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    flags: ZAddFlags,
    incr: bool,
    pairs: &[(f64, &[u8])],
    ctx: &Ctx,
) -> Result<ZAdded> {
    for (_, member) in pairs {
        ctx.check_len(member.len())?;
    }
    let (reply, _) = update(map, hash, key, !flags.xx, ctx, |z, limits| {
        let (mut added, mut changed) = (0, 0);
        let mut last = None;
        for &(score, member) in pairs {
            last = None;
            match z.score(member) {
                Some(cur) => {
                    if flags.nx {
                        continue;
                    }
                    let new = if incr { cur + score } else { score };
                    if new.is_nan() {
                        return Err(Error::ScoreNaN);
                    }
                    if (flags.lt && new >= cur) || (flags.gt && new <= cur) {
                        continue;
                    }
                    if new != cur {
                        z.insert(member, new, limits);
                        changed += 1;
                    }
                    last = Some(new);
                }
                None => {
                    if flags.xx {
                        continue;
                    }
                    z.insert(member, score, limits);
                    added += 1;
                    last = Some(score);
                }
            }
        }
        let reply = if incr {
            ZAdded::Score(last)
        } else if flags.ch {
            ZAdded::Count(added + changed)
        } else {
            ZAdded::Count(added)
        };
        Ok(((reply, added + changed), added + changed > 0))
    })?;
    let Some((reply, done)) = reply else {
        return Ok(if incr {
            ZAdded::Score(None)
        } else {
            ZAdded::Count(0)
        });
    };
    if done > 0 {
        ctx.notify_zset(if incr { "zincr" } else { "zadd" }, key);
    }
    Ok(reply)
}

/// Members with their scores, in order.
type Scored = Vec<(Bytes, f64)>;

/// Removes what `pick` chooses (ascending ranks `lo..hi` of the set, or
/// named members), announcing `event` if any went and `del` if the key
/// did. The members removed, with their scores, in ascending order.
fn remove_where(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    event: &'static str,
    ctx: &Ctx,
    take: impl FnOnce(&mut ZSet) -> Scored,
) -> Result<(Scored, Option<Entry>)> {
    let (removed, entry) = update(map, hash, key, false, ctx, |z, _| {
        let removed = take(z);
        let changed = !removed.is_empty();
        Ok((removed, changed))
    })?;
    let removed = removed.unwrap_or_default();
    if !removed.is_empty() {
        ctx.notify_zset(event, key);
    }
    if entry.is_some() {
        ctx.notify_generic("del", key);
    }
    Ok((removed, entry))
}

/// Removes `members` from `z`: those that were there, with their scores.
fn remove_members(z: &mut ZSet, members: Vec<Bytes>) -> Scored {
    members
        .into_iter()
        .filter_map(|m| z.remove(&m).map(|s| (m, s)))
        .collect()
}

fn members_in(z: &ZSet, lo: usize, hi: usize) -> Vec<Bytes> {
    z.iter_from(lo)
        .take(hi - lo)
        .map(|(m, _)| Bytes::copy_from_slice(m))
        .collect()
}

/// The sorted set operations, on a `Db` or inside a batch (`Tx`).
pub trait ZSets: Access {
    /// ZADD (and, with `incr`, ZADD INCR: one pair).
    ///
    /// Errors: `WrongType`, `ScoreNaN` (INCR only).
    fn zadd(
        &self,
        key: &[u8],
        flags: ZAddFlags,
        incr: bool,
        pairs: &[(f64, &[u8])],
    ) -> Result<ZAdded> {
        self.write_key(key, |m, h| zadd(m, h, key, flags, incr, pairs, self.ctx()))?
    }

    /// ZINCRBY: the new score.
    fn zincrby(&self, key: &[u8], by: f64, member: &[u8]) -> Result<f64> {
        match self.zadd(key, ZAddFlags::default(), true, &[(by, member)])? {
            ZAdded::Score(Some(s)) => Ok(s),
            // No flag is set, so ZADD INCR always adds or updates.
            _ => Err(Error::ScoreNaN),
        }
    }

    /// ZREM: how many of `members` were there.
    fn zrem(&self, key: &[u8], members: &[&[u8]]) -> Result<usize> {
        let (removed, entry) = self.write_key(key, |m, h| {
            remove_where(m, h, key, "zrem", self.ctx(), |z| {
                let members = members.iter().map(|m| Bytes::copy_from_slice(m));
                remove_members(z, members.collect())
            })
        })??;
        drop(entry);
        Ok(removed.len())
    }

    /// ZCARD.
    fn zcard(&self, key: &[u8]) -> Result<usize> {
        self.read_key(key, |m, h| {
            Ok(read(m, h, key, self.ctx())?.map_or(0, ZSet::len))
        })?
    }

    /// ZSCORE.
    fn zscore(&self, key: &[u8], member: &[u8]) -> Result<Option<f64>> {
        self.read_key(key, |m, h| {
            Ok(read(m, h, key, self.ctx())?.and_then(|z| z.score(member)))
        })?
    }

    /// ZMSCORE.
    fn zmscore(&self, key: &[u8], members: &[&[u8]]) -> Result<Vec<Option<f64>>> {
        self.read_key(key, |m, h| {
            let z = read(m, h, key, self.ctx())?;
            Ok(members
                .iter()
                .map(|mb| z.and_then(|z| z.score(mb)))
                .collect())
        })?
    }

    /// ZRANK, or ZREVRANK with `rev`.
    fn zrank(&self, key: &[u8], member: &[u8], rev: bool) -> Result<Option<usize>> {
        self.read_key(key, |m, h| {
            let Some(z) = read(m, h, key, self.ctx())? else {
                return Ok(None);
            };
            Ok(z.rank(member)
                .map(|r| if rev { z.len() - 1 - r } else { r }))
        })?
    }

    /// ZCOUNT (a score range) or ZLEXCOUNT (a lex range).
    fn zcount(&self, key: &[u8], by: &ZRangeBy) -> Result<usize> {
        self.read_key(key, |m, h| {
            Ok(read(m, h, key, self.ctx())?.map_or(0, |z| {
                let (lo, hi) = span(z, by, false);
                hi - lo
            }))
        })?
    }

    /// ZRANGE and its older forms: the members named, in the order read,
    /// with their scores.
    fn zrange(&self, key: &[u8], range: &ZRange) -> Result<Vec<(Bytes, f64)>> {
        self.read_key(key, |m, h| {
            Ok(read(m, h, key, self.ctx())?.map_or_else(Vec::new, |z| select(z, range)))
        })?
    }

    /// GEO's read: for each `[min, max)` score range in turn, hands its
    /// members in order to `f`, which returns false to stop; under one
    /// read lock, so all ranges see one state. False if the key does
    /// not exist.
    ///
    /// Errors: `WrongType`.
    fn zscore_ranges(
        &self,
        key: &[u8],
        ranges: &[(f64, f64)],
        f: &mut dyn FnMut(&[u8], f64) -> bool,
    ) -> Result<bool> {
        self.read_key(key, |m, h| {
            let Some(z) = read(m, h, key, self.ctx())? else {
                return Ok(false);
            };
            'ranges: for &(min, max) in ranges {
                let start = z.count_below(|s, _| s < min);
                for (member, score) in z.iter_from(start) {
                    if score >= max {
                        break;
                    }
                    if !f(member, score) {
                        break 'ranges;
                    }
                }
            }
            Ok(true)
        })?
    }

    /// ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX: how many went.
    fn zremrange(&self, key: &[u8], by: &ZRangeBy) -> Result<usize> {
        let event = match by {
            ZRangeBy::Rank(..) => "zremrangebyrank",
            ZRangeBy::Score(..) => "zremrangebyscore",
            ZRangeBy::Lex(..) => "zremrangebylex",
        };
        let (removed, entry) = self.write_key(key, |m, h| {
            remove_where(m, h, key, event, self.ctx(), |z| {
                let (lo, hi) = span(z, by, false);
                let members = members_in(z, lo, hi);
                remove_members(z, members)
            })
        })??;
        drop(entry);
        Ok(removed.len())
    }

    /// ZPOPMIN, or ZPOPMAX with `max`: up to `count` members, lowest (or
    /// highest) first, with their scores.
    fn zpop(&self, key: &[u8], max: bool, count: usize) -> Result<Vec<(Bytes, f64)>> {
        pop(self, key, max, count)
    }

    /// ZRANDMEMBER: the members `pick` chooses, given the set's size, with
    /// their scores; `None` if the key does not exist.
    fn zrandmember<P: Into<Picks>>(
        &self,
        key: &[u8],
        pick: impl FnOnce(usize) -> P,
    ) -> Result<Option<Vec<(Bytes, f64)>>> {
        self.read_key(key, |m, h| {
            let Some(z) = read(m, h, key, self.ctx())? else {
                return Ok(None);
            };
            let picks = pick(z.len()).into();
            Ok(Some(
                z.picks(&picks)
                    .into_iter()
                    .map(|(m, s)| (Bytes::copy_from_slice(m), s))
                    .collect(),
            ))
        })?
    }

    /// One ZSCAN step (see `ZSet::scan`).
    fn zscan(&self, key: &[u8], cursor: u64, count: usize) -> Result<(u64, Vec<(Bytes, f64)>)> {
        self.read_key(key, |m, h| {
            let Some(z) = read(m, h, key, self.ctx())? else {
                return Ok((0, Vec::new()));
            };
            let (next, page) = z.scan(cursor, count);
            Ok((
                next,
                page.into_iter()
                    .map(|(m, s)| (Bytes::copy_from_slice(m), s))
                    .collect(),
            ))
        })?
    }
}

/// ZPOPMIN / ZPOPMAX on `key` (see `ZSets::zpop`), for a `Db`, a `Tx`,
/// and ZMPOP inside its batch.
pub(super) fn pop<A: Access + ?Sized>(
    a: &A,
    key: &[u8],
    max: bool,
    count: usize,
) -> Result<Vec<(Bytes, f64)>> {
    let event = if max { "zpopmax" } else { "zpopmin" };
    let (removed, entry) = a.write_key(key, |m, h| {
        // Taken by rank, one at a time: no member is looked up by name.
        remove_where(m, h, key, event, a.ctx(), |z| {
            (0..count.min(z.len()))
                .map_while(|_| z.pop_end(max))
                .map(|(member, score)| (Bytes::from(member), score))
                .collect()
        })
    })??;
    drop(entry);
    Ok(removed)
}

impl ZSets for Tx<'_> {}

impl ZSets for Db {}

#[cfg(test)]
mod tests {
    use super::*;

    fn zset(pairs: &[(&str, f64)]) -> ZSet {
        let mut z = ZSet::default();
        for (m, s) in pairs {
            z.insert(m.as_bytes(), *s, Listpack::default());
        }
        z
    }

    fn names(v: &[(Bytes, f64)]) -> Vec<&str> {
        v.iter()
            .map(|(m, _)| std::str::from_utf8(m).unwrap_or("?"))
            .collect()
    }

    #[test]
    fn ranges_select_as_redis_counts_them() {
        let z = zset(&[("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 4.0)]);
        let r = |by, rev, limit| select(&z, &ZRange { by, rev, limit });
        let incl = |v| ScoreBound {
            value: v,
            exclusive: false,
        };
        let excl = |v| ScoreBound {
            value: v,
            exclusive: true,
        };
        assert_eq!(
            names(&r(ZRangeBy::Rank(0, -1), false, None)),
            ["a", "b", "c", "d"]
        );
        assert_eq!(names(&r(ZRangeBy::Rank(0, 0), true, None)), ["d"]);
        assert_eq!(names(&r(ZRangeBy::Rank(-2, -1), true, None)), ["b", "a"]);
        assert_eq!(
            names(&r(ZRangeBy::Rank(3, 1), false, None)),
            Vec::<&str>::new()
        );
        assert_eq!(
            names(&r(ZRangeBy::Score(incl(2.0), incl(3.0)), false, None)),
            ["b", "c"]
        );
        assert_eq!(
            names(&r(ZRangeBy::Score(excl(2.0), incl(4.0)), true, None)),
            ["d", "c"]
        );
        assert_eq!(
            names(&r(
                ZRangeBy::Score(incl(f64::NEG_INFINITY), incl(f64::INFINITY)),
                true,
                Some((1, 2))
            )),
            ["c", "b"]
        );
        assert_eq!(
            names(&r(
                ZRangeBy::Score(incl(0.0), incl(10.0)),
                false,
                Some((1, -1))
            )),
            ["b", "c", "d"]
        );
        assert!(r(ZRangeBy::Score(incl(0.0), incl(10.0)), false, Some((-1, 2))).is_empty());
        assert!(r(ZRangeBy::Score(excl(2.0), excl(2.0)), false, None).is_empty());
        assert!(r(ZRangeBy::Score(incl(3.0), incl(2.0)), false, None).is_empty());
        let lex = zset(&[("a", 0.0), ("b", 0.0), ("c", 0.0)]);
        let l = |min, max| {
            names(&select(
                &lex,
                &ZRange {
                    by: ZRangeBy::Lex(min, max),
                    rev: false,
                    limit: None,
                },
            ))
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
        };
        assert_eq!(l(LexBound::Least, LexBound::Greatest), ["a", "b", "c"]);
        assert_eq!(
            l(
                LexBound::Exclusive(Bytes::from_static(b"a")),
                LexBound::Inclusive(Bytes::from_static(b"c"))
            ),
            ["b", "c"]
        );
        assert_eq!(l(LexBound::Greatest, LexBound::Least), Vec::<String>::new());
    }
}
