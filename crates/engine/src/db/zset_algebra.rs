//! Sorted set operations across keys: ZUNION, ZINTER, ZDIFF and their
//! STORE forms, ZINTERCARD, ZRANGESTORE and ZMPOP.
//!
//! Owns their Redis 7.0 semantics: a plain set counts as a sorted set
//! whose scores are all 1, a missing key as empty, any other type is
//! WRONGTYPE (every key checked, in order, before anything is computed);
//! WEIGHTS multiply, AGGREGATE SUM, MIN or MAX combine, and a product or
//! sum that is NaN counts as 0; the inputs are combined smallest first,
//! as Redis does, so sums of more than two scores round as Redis's do; a
//! STORE replaces whatever the destination holds (an empty result
//! deletes it) and announces `zunionstore`, `zinterstore`, `zdiffstore`
//! or `zrangestore`. Written once against `Access`: a `Db` runs each in
//! one batch, a `Tx` on the transaction's. It must never free a replaced
//! value under the shard lock.

use super::access::live;
use super::access::sealed::Access;
use super::collection;
use super::zsets::{pop, read, select};
use super::{Db, Tx};
use crate::collection::{Collection, ZSet};
use crate::error::{Error, Result};
use bytes::Bytes;
use std::collections::HashMap;

/// Which combination ZUNION, ZINTER and ZDIFF compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZSetOp {
    /// Members in any input.
    Union,
    /// Members in every input.
    Inter,
    /// Members of the first input in none of the others.
    Diff,
}

impl ZSetOp {
    fn store_event(self) -> &'static str {
        match self {
            ZSetOp::Union => "zunionstore",
            ZSetOp::Inter => "zinterstore",
            ZSetOp::Diff => "zdiffstore",
        }
    }
}

/// ZMPOP's result: the key popped from, and its members popped with their
/// scores.
pub type ZPopped = (Bytes, Vec<(Bytes, f64)>);

/// How the scores of a member found in several inputs combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Aggregate {
    /// Their sum (the default).
    #[default]
    Sum,
    /// The least.
    Min,
    /// The greatest.
    Max,
}

fn aggregate(target: &mut f64, value: f64, how: Aggregate) {
    match how {
        Aggregate::Sum => {
            *target += value;
            // inf + -inf: Redis keeps 0.
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => *target = target.min(value),
        Aggregate::Max => *target = target.max(value),
    }
}

/// One input's members with their scores: a sorted set's, or a set's
/// with score 1; `None` for a missing key.
type Input = Option<Vec<(Bytes, f64)>>;

fn input<A: Access + ?Sized>(a: &A, key: &[u8]) -> Result<Input> {
    a.read_key(key, |m, h| {
        let Some(e) = live(m, h, key, a.ctx()) else {
            return Ok(None);
        };
        let members = match e.collection() {
            Some(Collection::ZSet(z)) => z
                .iter()
                .map(|(m, s)| (Bytes::copy_from_slice(m), s))
                .collect(),
            Some(Collection::Set(s)) => s.iter().map(|m| (m.to_bytes(), 1.0)).collect(),
            _ => return Err(Error::WrongType),
        };
        Ok(Some(members))
    })?
}

/// The result of `op` over `keys`, in (score, member) order.
fn combine<A: Access + ?Sized>(
    a: &A,
    op: ZSetOp,
    keys: &[&[u8]],
    weights: &[f64],
    how: Aggregate,
) -> Result<ZSet> {
    let inputs: Vec<Input> = keys.iter().map(|k| input(a, k)).collect::<Result<_>>()?;
    let weight = |i: usize| weights.get(i).copied().unwrap_or(1.0);
    let weighed = |s: f64, w: f64| {
        let v = s * w;
        if v.is_nan() {
            0.0
        } else {
            v
        }
    };
    // Smallest first, as Redis orders them (for Union and Inter).
    let mut order: Vec<usize> = (0..inputs.len()).collect();
    order.sort_by_key(|&i| inputs.get(i).and_then(|x| x.as_ref()).map_or(0, Vec::len));
    let limits = a.ctx().zset_listpack();
    let mut out = ZSet::default();
    match op {
        ZSetOp::Union => {
            let mut acc: HashMap<Bytes, f64> = HashMap::new();
            let mut first_seen: Vec<Bytes> = Vec::new();
            for &i in &order {
                for (m, s) in inputs.get(i).and_then(|x| x.as_ref()).into_iter().flatten() {
                    let v = weighed(*s, weight(i));
                    match acc.get_mut(m) {
                        Some(t) => aggregate(t, v, how),
                        None => {
                            acc.insert(m.clone(), v);
                            first_seen.push(m.clone());
                        }
                    }
                }
            }
            for m in first_seen {
                if let Some(&s) = acc.get(&m) {
                    out.insert(&m, s, limits);
                }
            }
        }
        ZSetOp::Inter => {
            let sets: Vec<HashMap<&[u8], f64>> = inputs
                .iter()
                .map(|x| x.iter().flatten().map(|(m, s)| (&m[..], *s)).collect())
                .collect();
            if inputs.iter().any(Option::is_none) {
                return Ok(out);
            }
            let Some((&smallest, rest)) = order.split_first() else {
                return Ok(out);
            };
            'members: for (m, s) in inputs
                .get(smallest)
                .and_then(|x| x.as_ref())
                .into_iter()
                .flatten()
            {
                let mut score = weighed(*s, weight(smallest));
                for &j in rest {
                    match sets.get(j).and_then(|set| set.get(&m[..])) {
                        Some(&sj) => aggregate(&mut score, weighed(sj, weight(j)), how),
                        None => continue 'members,
                    }
                }
                out.insert(m, score, limits);
            }
        }
        ZSetOp::Diff => {
            let Some((first, rest)) = inputs.split_first() else {
                return Ok(out);
            };
            let others: Vec<HashMap<&[u8], f64>> = rest
                .iter()
                .map(|x| x.iter().flatten().map(|(m, s)| (&m[..], *s)).collect())
                .collect();
            for (m, s) in first.iter().flatten() {
                if !others.iter().any(|o| o.contains_key(&m[..])) {
                    out.insert(m, *s, limits);
                }
            }
        }
    }
    Ok(out)
}

fn to_pairs(z: &ZSet) -> Vec<(Bytes, f64)> {
    z.iter()
        .map(|(m, s)| (Bytes::copy_from_slice(m), s))
        .collect()
}

/// Replaces `dst` with `z` (an empty `z` deletes it), announcing `event`.
fn store<A: Access + ?Sized>(a: &A, dst: &[u8], z: ZSet, event: &'static str) -> Result<usize> {
    let n = z.len();
    let replaced = a.write_key(dst, |m, h| {
        collection::store(m, h, dst, Collection::ZSet(z), a.ctx())
    })??;
    drop(replaced);
    if n > 0 {
        a.ctx().notify_zset(event, dst);
    }
    Ok(n)
}

fn range_store<A: Access + ?Sized>(
    a: &A,
    dst: &[u8],
    src: &[u8],
    range: &super::ZRange,
) -> Result<usize> {
    let picked = a.read_key(src, |m, h| {
        Ok::<_, Error>(read(m, h, src, a.ctx())?.map_or_else(Vec::new, |z| select(z, range)))
    })??;
    let limits = a.ctx().zset_listpack();
    let mut z = ZSet::with_capacity(picked.len(), limits);
    for (m, s) in &picked {
        z.insert(m, *s, limits);
    }
    store(a, dst, z, "zrangestore")
}

fn mpop<A: Access + ?Sized>(
    a: &A,
    keys: &[&[u8]],
    max: bool,
    count: usize,
) -> Result<Option<ZPopped>> {
    for key in keys {
        // Redis looks the keys up as a write's: no keyspace hit or miss.
        let present = crate::lookups::quietly(|| {
            a.read_key(key, |m, h| {
                Ok::<_, Error>(read(m, h, key, a.ctx())?.is_some())
            })
        })??;
        if present {
            let popped = pop(a, key, max, count)?;
            return Ok(Some((Bytes::copy_from_slice(key), popped)));
        }
    }
    Ok(None)
}

/// The sorted set operations across keys, on a `Db` (each in one batch)
/// or inside a batch (`Tx`).
pub trait ZSetAlgebra: Access {
    /// ZUNION, ZINTER, ZDIFF: the result, in order, with scores.
    fn zcombine(
        &self,
        op: ZSetOp,
        keys: &[&[u8]],
        weights: &[f64],
        how: Aggregate,
    ) -> Result<Vec<(Bytes, f64)>> {
        Ok(to_pairs(&combine(self, op, keys, weights, how)?))
    }

    /// ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE: the stored set's size.
    fn zcombine_store(
        &self,
        op: ZSetOp,
        dst: &[u8],
        keys: &[&[u8]],
        weights: &[f64],
        how: Aggregate,
    ) -> Result<usize> {
        let z = combine(self, op, keys, weights, how)?;
        store(self, dst, z, op.store_event())
    }

    /// ZINTERCARD: the size of the intersection, counting no further than
    /// `limit` (0: no limit).
    fn zintercard(&self, keys: &[&[u8]], limit: usize) -> Result<usize> {
        let n = combine(self, ZSetOp::Inter, keys, &[], Aggregate::Sum)?.len();
        Ok(if limit == 0 { n } else { n.min(limit) })
    }

    /// ZRANGESTORE: the stored set's size.
    fn zrangestore(&self, dst: &[u8], src: &[u8], range: &super::ZRange) -> Result<usize> {
        range_store(self, dst, src, range)
    }

    /// GEORADIUS's and GEOSEARCHSTORE's store: replaces `dst` with a
    /// sorted set of `pairs` (none deletes it, announcing `del`),
    /// announcing `event`; how many members it holds.
    fn zstore(&self, dst: &[u8], pairs: &[(f64, &[u8])], event: &'static str) -> Result<usize> {
        let limits = self.ctx().zset_listpack();
        let mut z = ZSet::with_capacity(pairs.len(), limits);
        for (s, m) in pairs {
            z.insert(m, *s, limits);
        }
        store(self, dst, z, event)
    }

    /// ZMPOP: the first of `keys` holding a sorted set, and up to `count`
    /// members popped from its low (or, with `max`, high) end.
    fn zmpop(&self, keys: &[&[u8]], max: bool, count: usize) -> Result<Option<ZPopped>> {
        mpop(self, keys, max, count)
    }
}

impl ZSetAlgebra for Tx<'_> {}

/// On a `Db`, each runs as one batch, as it is atomic in Redis.
impl ZSetAlgebra for Db {
    fn zcombine(
        &self,
        op: ZSetOp,
        keys: &[&[u8]],
        weights: &[f64],
        how: Aggregate,
    ) -> Result<Vec<(Bytes, f64)>> {
        self.snapshot(keys, |tx| tx.zcombine(op, keys, weights, how))
    }

    fn zcombine_store(
        &self,
        op: ZSetOp,
        dst: &[u8],
        keys: &[&[u8]],
        weights: &[f64],
        how: Aggregate,
    ) -> Result<usize> {
        let mut all = Vec::with_capacity(keys.len() + 1);
        all.push(dst);
        all.extend_from_slice(keys);
        self.settled(self.atomically(&all, |tx| tx.zcombine_store(op, dst, keys, weights, how)))
    }

    fn zintercard(&self, keys: &[&[u8]], limit: usize) -> Result<usize> {
        self.snapshot(keys, |tx| tx.zintercard(keys, limit))
    }

    fn zrangestore(&self, dst: &[u8], src: &[u8], range: &super::ZRange) -> Result<usize> {
        self.settled(self.atomically(&[dst, src], |tx| tx.zrangestore(dst, src, range)))
    }

    fn zmpop(&self, keys: &[&[u8]], max: bool, count: usize) -> Result<Option<ZPopped>> {
        self.settled(self.atomically(keys, |tx| tx.zmpop(keys, max, count)))
    }
}
