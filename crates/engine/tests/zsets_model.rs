//! Sorted sets against a reference model, small and big, across restarts.
//!
//! Why: a sorted set is the engine's most intricate collection (a listpack
//! vector, then a member index beside chunked runs of ordered items with
//! Fenwick-tree ranks), read by rank, score or lex bound, either way, with
//! LIMIT; a model that keeps a sorted `Vec` is easy to trust.
//!
//! - Random ZADD (NX, XX, GT, LT, CH, INCR), ZINCRBY, ZREM, ZSCORE,
//!   ZMSCORE, ZRANK, ZREVRANK, ZRANGE (rank, score, lex; REV; LIMIT) with
//!   ZCOUNT / ZLEXCOUNT, ZREMRANGEBY*, ZPOPMIN, ZPOPMAX, DEL and writes of
//!   other types on a few keys, on the `Db` and in batches (`Tx`), answer
//!   as the model does, scores ±inf, -0, extremes and ties included. After
//!   each step every key's EXISTS, TYPE, OBJECT ENCODING, ZCARD, ZRANGE
//!   WITHSCORES and sampled ZRANK, ZREVRANK, ZSCORE match, scores bit for
//!   bit (a listpack reads -0 back as 0, a skiplist keeps it); WRONGTYPE
//!   both ways; the WATCH version moves if and only if the step changed
//!   the key. At the default limits and at tiny ones changed on the fly.
//! - 40,000 members from one ZADD (many chunks and runs), changed at
//!   random, read by sampled ranks and windows, and restarted; 5,000 equal
//!   scores read and removed by lex ranges.
//! - Random sets survive restarts through the log and a snapshot, loaded
//!   at other limits; Redis's documented examples, the flags, NaN, -0 and
//!   expired keys, one by one.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tandem_engine::clock::ManualClock;
use tandem_engine::prelude::*;
use tandem_engine::{Bytes, LexBound, Limits, Listpack, ScoreBound, Store, StoreOptions};
use tandem_engine::{ValueType, ZAddFlags, ZAdded, ZRange, ZRangeBy};

type TestResult = Result<(), Box<dyn std::error::Error>>;
type Res<T> = Result<T, Box<dyn std::error::Error>>;
type Rng = fastrand::Rng;

/// The model test's keys: the first grows, the third has equal scores.
const KEYS: [&[u8]; 5] = [b"grow", b"z1", b"lex", b"z\x00bin", b"z4"];
const LEX: usize = 2;
const SMALL: [&[u8]; 12] = [
    b"a", b"b", b"c", b"d", b"aa", b"ab", b"b\x00", b"", b"\x00", b"\xff", b"zz", b"-",
];
const EXTREME: [f64; 5] = [f64::MAX, -f64::MAX, f64::MIN_POSITIVE, -1e-300, 5e-324];
const INF: f64 = f64::INFINITY;
const INCRS: [f64; 10] = [0.0, -0.0, 1.0, -1.0, 0.5, 1e308, INF, -INF, INF, -INF];

/// Bytes shown escaped in failure messages.
#[derive(Clone, PartialEq, Eq)]
struct B(Vec<u8>);

impl fmt::Debug for B {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.0.escape_ascii())
    }
}

impl AsRef<[u8]> for B {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

fn b(s: impl AsRef<[u8]>) -> B {
    B(s.as_ref().to_vec())
}

fn refs(members: &[B]) -> Vec<&[u8]> {
    members.iter().map(B::as_ref).collect()
}

/// A score compared bit for bit (-0 is not 0).
#[derive(Clone, Copy, Debug)]
struct S(f64);

impl PartialEq for S {
    fn eq(&self, other: &S) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

fn lp(entries: usize, value: usize) -> Listpack {
    Listpack { entries, value }
}

fn limits(zset: Listpack) -> Limits {
    let l = Limits::default();
    Limits { zset, ..l }
}

fn sb(value: f64, exclusive: bool) -> ScoreBound {
    ScoreBound { value, exclusive }
}

fn zr(by: ZRangeBy, rev: bool, limit: Option<(i64, i64)>) -> ZRange {
    ZRange { by, rev, limit }
}

fn all() -> ZRange {
    zr(ZRangeBy::Rank(0, -1), false, None)
}

fn scored(v: Vec<(Bytes, f64)>) -> Vec<(B, S)> {
    v.into_iter().map(|(m, s)| (b(&m), S(s))).collect()
}

/// Fails at the first place where `got` and `want` differ.
fn same(got: &[(B, S)], want: &[(B, S)], ctx: &str) {
    if let Some(i) = (0..got.len().min(want.len())).find(|&i| got[i] != want[i]) {
        panic!("{ctx}: at {i}, {:?}, want {:?}", got[i], want[i]);
    }
    assert_eq!(got.len(), want.len(), "{ctx}: the length");
}

// ---------------------------------------------------------------------
// The model.

/// Redis's order: by score, then by the members' bytes.
fn order(a: (f64, &[u8]), b: (f64, &[u8])) -> Ordering {
    match a.0.partial_cmp(&b.0) {
        Some(Ordering::Equal) | None => a.1.cmp(b.1),
        Some(o) => o,
    }
}

/// One sorted set: its items in order, the scores by member, and whether
/// it has become a skiplist (for good).
#[derive(Debug, Clone, Default)]
struct MZ {
    items: Vec<(f64, Vec<u8>)>,
    scores: HashMap<Vec<u8>, f64>,
    big: bool,
}

impl MZ {
    fn len(&self) -> usize {
        self.items.len()
    }

    fn at(&self, m: &[u8]) -> Option<usize> {
        let s = *self.scores.get(m)?;
        let found = self.items.binary_search_by(|(x, y)| order((*x, y), (s, m)));
        found.ok()
    }

    fn remove(&mut self, m: &[u8]) -> Option<f64> {
        let i = self.at(m)?;
        self.scores.remove(m);
        Some(self.items.remove(i).0)
    }

    /// Sets `m`'s score. A new member past `lp.entries`, or longer than
    /// `lp.value`, makes a listpack a skiplist; a listpack reads -0 as 0.
    fn put(&mut self, m: &[u8], s: f64, lp: Listpack) {
        let new = self.remove(m).is_none();
        if new && !self.big && (self.len() >= lp.entries || m.len() > lp.value) {
            self.big = true;
        }
        let s = if !self.big && s == 0.0 { 0.0 } else { s };
        let i = self
            .items
            .partition_point(|(x, y)| order((*x, y), (s, m)).is_lt());
        self.items.insert(i, (s, m.to_vec()));
        self.scores.insert(m.to_vec(), s);
    }

    fn encoding(&self) -> &'static str {
        ["listpack", "skiplist"][usize::from(self.big)]
    }

    fn view(&self, at: &[usize]) -> Vec<(B, S)> {
        at.iter()
            .map(|&i| (b(&self.items[i].1), S(self.items[i].0)))
            .collect()
    }

    /// Removes `gone` in one pass, not one search each: how many were in.
    fn remove_all<M: AsRef<[u8]>>(&mut self, gone: &[M]) -> usize {
        let gone: HashSet<&[u8]> = gone.iter().map(M::as_ref).collect();
        self.items.retain(|(_, m)| !gone.contains(&m[..]));
        let n = self.scores.len();
        for m in &gone {
            self.scores.remove(*m);
        }
        n - self.scores.len()
    }

    /// Adds or updates `pairs` in a skiplist at once (sorted afterwards).
    fn add_many(&mut self, pairs: &[(f64, B)]) -> usize {
        let n = self.scores.len();
        for (s, m) in pairs {
            self.scores.insert(m.0.clone(), *s);
        }
        self.items = self.scores.iter().map(|(m, s)| (*s, m.clone())).collect();
        self.items.sort_by(|x, y| order((x.0, &x.1), (y.0, &y.1)));
        self.scores.len() - n
    }

    /// Removes the members at `at`, answering them with their scores.
    fn take_at(&mut self, at: &[usize]) -> Vec<(B, S)> {
        let taken = self.view(at);
        self.remove_all(&taken.iter().map(|x| x.0.clone()).collect::<Vec<_>>());
        taken
    }
}

/// Ranks `start..=stop` of `n`, negative ones from the end, clamped, as
/// Redis's `zrangeGenericCommand` computes them.
fn rank_span(start: i64, stop: i64, n: usize) -> Option<(usize, usize)> {
    let n = n as i128;
    let from_end = |i: i64| i128::from(i) + if i < 0 { n } else { 0 };
    let (s, e) = (from_end(start).max(0), from_end(stop).min(n - 1));
    (s <= e).then_some((s as usize, e as usize))
}

fn in_score(s: f64, min: &ScoreBound, max: &ScoreBound) -> bool {
    let above = s > min.value || (!min.exclusive && s == min.value);
    above && (s < max.value || (!max.exclusive && s == max.value))
}

fn in_lex(m: &[u8], min: &LexBound, max: &LexBound) -> bool {
    let above = match min {
        LexBound::Least => true,
        LexBound::Greatest => false,
        LexBound::Inclusive(x) => m >= &x[..],
        LexBound::Exclusive(x) => m > &x[..],
    };
    let below = match max {
        LexBound::Least => false,
        LexBound::Greatest => true,
        LexBound::Inclusive(x) => m <= &x[..],
        LexBound::Exclusive(x) => m < &x[..],
    };
    above && below
}

/// The positions in `z.items` that `by` names, in the order read.
fn positions(z: &MZ, by: &ZRangeBy, rev: bool) -> Vec<usize> {
    let n = z.len();
    let (lo, hi) = match by {
        ZRangeBy::Rank(s, e) => rank_span(*s, *e, n).map_or((0, 0), |(s, e)| (s, e + 1)),
        _ => (0, n),
    };
    let at = |r: usize| if rev { n - 1 - r } else { r };
    let named = |&i: &usize| match by {
        ZRangeBy::Rank(..) => true,
        ZRangeBy::Score(min, max) => in_score(z.items[i].0, min, max),
        ZRangeBy::Lex(min, max) => in_lex(&z.items[i].1, min, max),
    };
    (lo..hi).map(at).filter(named).collect()
}

/// ZRANGE's answer: a negative offset gives nothing, a negative count all.
fn expect(z: &MZ, range: &ZRange) -> Vec<(B, S)> {
    let found = positions(z, &range.by, range.rev);
    let picked: Vec<usize> = match range.limit {
        None => found,
        Some((offset, _)) if offset < 0 => Vec::new(),
        Some((offset, count)) => {
            let rest = found.into_iter().skip(offset as usize);
            rest.take(usize::try_from(count).unwrap_or(usize::MAX))
                .collect()
        }
    };
    z.view(&picked)
}

/// ZADD on the model: its answer and whether it changed anything.
fn zadd_model(
    z: &mut MZ,
    flags: ZAddFlags,
    incr: bool,
    pairs: &[(f64, B)],
    lp: Listpack,
) -> Result<(ZAdded, bool), Error> {
    let (mut added, mut updated, mut last) = (0, 0, None);
    for (score, m) in pairs {
        last = None;
        match z.scores.get(&m.0).copied() {
            Some(_) if flags.nx => {}
            Some(cur) => {
                let new = if incr { cur + score } else { *score };
                if new.is_nan() {
                    return Err(Error::ScoreNaN);
                }
                if (flags.gt && new <= cur) || (flags.lt && new >= cur) {
                    continue;
                }
                if new != cur {
                    z.put(&m.0, new, lp);
                    updated += 1;
                }
                last = Some(new);
            }
            None if flags.xx => {}
            None => {
                z.put(&m.0, *score, lp);
                added += 1;
                last = Some(*score);
            }
        }
    }
    let reply = match (incr, flags.ch) {
        (true, _) => ZAdded::Score(last),
        (false, true) => ZAdded::Count(added + updated),
        (false, false) => ZAdded::Count(added),
    };
    Ok((reply, added + updated > 0))
}

#[derive(Debug, Clone)]
enum MValue {
    Z(MZ),
    Other(ValueType),
}

struct Model {
    keys: HashMap<Vec<u8>, MValue>,
    lp: Listpack,
}

impl Model {
    fn new(lp: Listpack) -> Self {
        Model {
            keys: HashMap::new(),
            lp,
        }
    }

    fn zset(&self, key: &[u8]) -> Result<Option<&MZ>, Error> {
        match self.keys.get(key) {
            None => Ok(None),
            Some(MValue::Z(z)) => Ok(Some(z)),
            Some(MValue::Other(_)) => Err(Error::WrongType),
        }
    }

    fn kind(&self, key: &[u8]) -> Option<ValueType> {
        self.keys.get(key).map(|v| match v {
            MValue::Z(_) => ValueType::ZSet,
            MValue::Other(t) => *t,
        })
    }

    /// Runs `f` on a copy of the sorted set at `key` (a new one when absent
    /// and `create`; when absent otherwise nothing runs) and keeps what it
    /// leaves unless it fails: an emptied set is no key. `f` answers and
    /// says whether it changed the set.
    fn change<R>(
        &mut self,
        key: &[u8],
        create: bool,
        f: impl FnOnce(&mut MZ, Listpack) -> Result<(R, bool), Error>,
    ) -> Result<(Option<R>, bool), Error> {
        let z = self
            .zset(key)?
            .cloned()
            .or_else(|| create.then(MZ::default));
        let Some(mut z) = z else {
            return Ok((None, false));
        };
        let (r, changed) = f(&mut z, self.lp)?;
        if z.len() == 0 {
            self.keys.remove(key);
        } else {
            self.keys.insert(key.to_vec(), MValue::Z(z));
        }
        Ok((Some(r), changed))
    }

    /// `change` for a command that never creates the key (a missing key
    /// answers `R::default()`), and whether it changed the set.
    fn take<R: Default>(
        &mut self,
        key: &[u8],
        f: impl FnOnce(&mut MZ) -> (R, bool),
    ) -> (Result<R, Error>, bool) {
        match self.change(key, false, |z, _| Ok(f(z))) {
            Ok((r, changed)) => (Ok(r.unwrap_or_default()), changed),
            Err(e) => (Err(e), false),
        }
    }
}

// ---------------------------------------------------------------------
// Random operations.

#[derive(Debug, Clone)]
enum Op {
    ZAdd(usize, ZAddFlags, bool, Vec<(f64, B)>),
    ZIncrBy(usize, f64, B),
    ZRem(usize, Vec<B>),
    /// ZMSCORE, then ZSCORE, ZRANK and ZREVRANK of each member.
    Lookup(usize, Vec<B>),
    /// ZRANGE, and ZCOUNT or ZLEXCOUNT of the same bounds.
    ZRange(usize, ZRange),
    ZRemRange(usize, ZRangeBy),
    ZPop(usize, bool, usize),
    Del(usize),
    Other(usize, ValueType),
    Limit(Listpack),
}

impl Op {
    fn key(&self) -> Option<usize> {
        match self {
            Op::ZAdd(k, ..) | Op::ZIncrBy(k, ..) | Op::ZRem(k, _) | Op::Lookup(k, _) => Some(*k),
            Op::ZRange(k, _) | Op::ZRemRange(k, _) | Op::ZPop(k, ..) | Op::Del(k) => Some(*k),
            Op::Other(..) | Op::Limit(_) => None,
        }
    }
}

struct Gen {
    rng: Rng,
    /// Members the growing key draws from.
    pool: u32,
    limits: Vec<Listpack>,
}

impl Gen {
    fn new(seed: u64, pool: u32, limits: &[Listpack]) -> Self {
        let (rng, limits) = (Rng::with_seed(seed), limits.to_vec());
        Gen { rng, pool, limits }
    }

    fn member(&mut self, k: usize) -> B {
        match self.rng.u32(0..100) {
            0..=79 if k == 0 => b(format!("m{}", self.rng.u32(0..self.pool))),
            0..=39 if k == LEX => b(format!("w{}", self.rng.u32(0..30))),
            // Past the default value limit, and past tiny ones.
            0..=2 => b(format!("long{}-{}", self.rng.u32(0..3), "x".repeat(64))),
            3..=9 => b(["abcde", "hello", "12345"][self.rng.usize(0..3)]),
            _ => b(SMALL[self.rng.usize(0..SMALL.len())]),
        }
    }

    fn members(&mut self, k: usize, most: usize) -> Vec<B> {
        let n = self.rng.usize(1..=most);
        (0..n).map(|_| self.member(k)).collect()
    }

    fn score(&mut self, k: usize) -> f64 {
        let r = self.rng.u32(0..100);
        match r {
            _ if k == LEX => [0.0, -0.0][usize::from(r < 25)],
            0..=34 => f64::from(self.rng.i32(-3..=3)),
            35..=44 => [0.0, -0.0][self.rng.usize(0..2)],
            45..=49 => [INF, -INF][self.rng.usize(0..2)],
            50..=59 => f64::from(self.rng.i32(-5..=5)) + 0.5,
            60..=66 => EXTREME[self.rng.usize(0..EXTREME.len())],
            _ => self.rng.f64() * 2000.0 - 1000.0,
        }
    }

    fn incr(&mut self, k: usize) -> f64 {
        match k {
            LEX => self.score(k),
            _ => INCRS[self.rng.usize(0..INCRS.len())],
        }
    }

    /// ZADD's flags, in the combinations Redis accepts.
    fn flags(&mut self) -> ZAddFlags {
        let base = ["nx", "xx", "gt", "lt", "xx gt", "xx lt"].get(self.rng.usize(0..12));
        let ch = ["", "ch"][usize::from(self.rng.u32(0..3) == 0)];
        flags(&format!("{} {ch}", base.unwrap_or(&"")))
    }

    fn rank(&mut self, len: usize) -> i64 {
        let n = len as i64;
        match self.rng.u32(0..25) {
            0 => i64::MIN,
            1 => i64::MAX,
            _ => self.rng.i64(-n - 3..=n + 3),
        }
    }

    fn lex_bound(&mut self) -> LexBound {
        let m = Bytes::from(self.member(LEX).0);
        match self.rng.u32(0..10) {
            0 => LexBound::Least,
            1 => LexBound::Greatest,
            2..=5 => LexBound::Inclusive(m),
            _ => LexBound::Exclusive(m),
        }
    }

    /// A range of key `k` (of `len` members): lex on the equal scores
    /// only; `narrow` rank ranges name a few members at most.
    fn by(&mut self, k: usize, len: usize, narrow: bool) -> ZRangeBy {
        match self.rng.u32(0..3) {
            0 => {
                let start = self.rank(len);
                let stop = match narrow {
                    true => start.saturating_add(self.rng.i64(0..3)),
                    false => self.rank(len),
                };
                ZRangeBy::Rank(start, stop)
            }
            1 | 2 if k == LEX => ZRangeBy::Lex(self.lex_bound(), self.lex_bound()),
            _ => {
                let (lo, hi) = (self.score(0), self.score(0));
                ZRangeBy::Score(sb(lo, self.rng.bool()), sb(hi, self.rng.bool()))
            }
        }
    }

    fn op(&mut self, model: &Model) -> Op {
        let r = self.rng.u32(0..1000);
        if r >= 980 && !self.limits.is_empty() {
            return Op::Limit(self.limits[self.rng.usize(0..self.limits.len())]);
        }
        // The growing key: 40% of the time, 10% for what removes a lot.
        let rare = (800..860).contains(&r) || (940..980).contains(&r);
        let k = match self.rng.u32(0..100) {
            x if x < if rare { 10 } else { 40 } => 0,
            _ => self.rng.usize(1..KEYS.len()),
        };
        let len = model.zset(KEYS[k]).ok().flatten().map_or(0, MZ::len);
        match r {
            0..=299 => {
                let n = self.rng.usize(1..=if k == 0 { 12 } else { 4 });
                let pairs = (0..n).map(|_| (self.score(k), self.member(k))).collect();
                Op::ZAdd(k, self.flags(), false, pairs)
            }
            300..=359 => Op::ZAdd(k, self.flags(), true, vec![(self.incr(k), self.member(k))]),
            360..=419 => Op::ZIncrBy(k, self.incr(k), self.member(k)),
            420..=519 => Op::ZRem(k, self.members(k, 4)),
            520..=619 => Op::Lookup(k, self.members(k, 4)),
            800..=859 => Op::ZRemRange(k, self.by(k, len, true)),
            860..=939 => Op::ZPop(k, self.rng.bool(), self.rng.usize(0..=4)),
            940..=959 => Op::Del(k),
            960..=979 => {
                let kinds = [ValueType::String, ValueType::List, ValueType::Set];
                let kind = [kinds[self.rng.usize(0..3)], ValueType::Hash][self.rng.usize(0..2)];
                Op::Other(self.rng.usize(1..KEYS.len()), kind)
            }
            _ => {
                let by = self.by(k, len, false);
                let limit = (self.rng.i64(-1..4), self.rng.i64(-2..5));
                let limit = match by {
                    ZRangeBy::Rank(..) => None,
                    _ => self.rng.bool().then_some(limit),
                };
                Op::ZRange(k, zr(by, self.rng.bool(), limit))
            }
        }
    }
}

/// What the runs reached, to check the seeds do what they are for.
#[derive(Debug, Default)]
struct Seen {
    most: usize,
    big: usize,
    neg_zero_big: usize,
    nan: usize,
    wrong_type: usize,
    emptied: usize,
    lex_hits: usize,
    in_batch: usize,
}

/// Runs `op` on `a` (the `Db` or a batch) and on `model`, comparing the
/// answers; whether it changed its key (`None`: not checked).
fn apply<A: ZSets + KeyValue + Lists + Sets + Hashes>(
    a: &A,
    model: &mut Model,
    op: &Op,
    seen: &mut Seen,
    ctx: &str,
) -> Res<Option<bool>> {
    let key = op.key().map_or(&b""[..], |k| KEYS[k]);
    let existed = model.keys.contains_key(key);
    let changed = match op {
        Op::ZAdd(_, flags, incr, pairs) => {
            let refs: Vec<(f64, &[u8])> = pairs.iter().map(|(s, m)| (*s, &m.0[..])).collect();
            let got = a.zadd(key, *flags, *incr, &refs).map(|r| format!("{r:?}"));
            let want = model.change(key, !flags.xx, |z, lp| {
                zadd_model(z, *flags, *incr, pairs, lp)
            });
            let changed = want.as_ref().is_ok_and(|w| w.1);
            let nothing = [ZAdded::Count(0), ZAdded::Score(None)][usize::from(*incr)];
            let want = want.map(|(r, _)| r.unwrap_or(nothing));
            seen.nan += usize::from(want == Err(Error::ScoreNaN));
            assert_eq!(got, want.map(|r| format!("{r:?}")), "{ctx}");
            changed
        }
        Op::ZIncrBy(_, by, m) => {
            let pair = [(*by, m.clone())];
            let want = model.change(key, true, |z, lp| {
                zadd_model(z, ZAddFlags::default(), true, &pair, lp)
            });
            let changed = want.as_ref().is_ok_and(|w| w.1);
            let want = want.map(|(r, _)| format!("{:?}", r.unwrap_or(ZAdded::Score(None))));
            let got = a.zincrby(key, *by, &m.0);
            seen.nan += usize::from(got == Err(Error::ScoreNaN));
            let got = got.map(|s| format!("{:?}", ZAdded::Score(Some(s))));
            assert_eq!(got, want, "{ctx}");
            changed
        }
        Op::ZRem(_, members) => {
            let (want, changed) = model.take(key, |z| {
                let n = z.remove_all(members);
                (n, n > 0)
            });
            assert_eq!(a.zrem(key, &refs(members)), want, "{ctx}");
            changed
        }
        Op::Lookup(_, members) => {
            let z = model.zset(key);
            let score = |m: &B| {
                z.clone()
                    .map(|z| z.and_then(|z| z.scores.get(&m.0)).map(|s| S(*s)))
            };
            let want: Result<Vec<_>, Error> = members.iter().map(score).collect();
            let got = a.zmscore(key, &refs(members));
            let got = got.map(|v| v.into_iter().map(|s| s.map(S)).collect());
            assert_eq!(got, want, "{ctx}: ZMSCORE");
            let n = z.clone().map_or(0, |z| z.map_or(0, MZ::len));
            for m in members {
                let rank = z.clone().map(|z| z.and_then(|z| z.at(&m.0)));
                assert_eq!(
                    a.zscore(key, &m.0).map(|s| s.map(S)),
                    score(m),
                    "{ctx}: ZSCORE"
                );
                assert_eq!(a.zrank(key, &m.0, false), rank.clone(), "{ctx}: ZRANK");
                let rev = rank.map(|r| r.map(|r| n - 1 - r));
                assert_eq!(a.zrank(key, &m.0, true), rev, "{ctx}: ZREVRANK");
            }
            false
        }
        Op::ZRange(_, range) => {
            let z = model.zset(key);
            let want = z
                .clone()
                .map(|z| z.map_or_else(Vec::new, |z| expect(z, range)));
            let lex = matches!(range.by, ZRangeBy::Lex(..));
            seen.lex_hits += usize::from(lex && want.as_ref().is_ok_and(|w| !w.is_empty()));
            assert_eq!(a.zrange(key, range).map(scored), want, "{ctx}");
            if !matches!(range.by, ZRangeBy::Rank(..)) {
                let count = z.map(|z| z.map_or(0, |z| positions(z, &range.by, false).len()));
                assert_eq!(a.zcount(key, &range.by), count, "{ctx}: ZCOUNT");
            }
            false
        }
        Op::ZRemRange(_, by) => {
            let (want, changed) = model.take(key, |z| {
                let n = z.take_at(&positions(z, by, false)).len();
                (n, n > 0)
            });
            assert_eq!(a.zremrange(key, by), want, "{ctx}");
            changed
        }
        Op::ZPop(_, max, count) => {
            let (want, changed) = model.take(key, |z| {
                let (len, n) = (z.len(), (*count).min(z.len()));
                let at: Vec<usize> = match max {
                    true => (len - n..len).rev().collect(),
                    false => (0..n).collect(),
                };
                (z.take_at(&at), n > 0)
            });
            assert_eq!(a.zpop(key, *max, *count).map(scored), want, "{ctx}");
            changed
        }
        Op::Del(_) => {
            let want = usize::from(model.keys.remove(key).is_some());
            assert_eq!(a.del(&[key])?, want, "{ctx}");
            want > 0
        }
        Op::Other(k, kind) => {
            let key = KEYS[*k];
            let ok = model.kind(key).is_none_or(|t| t == *kind);
            let got = match kind {
                ValueType::String => a.set(key, b"v", SetOptions::default()).map(drop),
                ValueType::List => a.push(key, End::Right, &[b"x"], false).map(drop),
                ValueType::Set => a.sadd(key, &[b"x"]).map(drop),
                _ => a.hset(key, &[(b"f", b"v")]).map(drop),
            };
            if ok || *kind == ValueType::String {
                got?;
                model.keys.insert(key.to_vec(), MValue::Other(*kind));
            } else {
                seen.wrong_type += 1;
                assert_eq!(got, Err(Error::WrongType), "{ctx}");
            }
            return Ok(None);
        }
        Op::Limit(_) => return Err("Limit is the caller's to run".into()),
    };
    seen.emptied += usize::from(existed && !model.keys.contains_key(key));
    Ok(Some(changed))
}

/// Every sorted set command answers WRONGTYPE on `key`.
fn assert_wrong_type(db: &Db, key: &[u8], ctx: &str) {
    let score = ZRangeBy::Score(sb(0.0, false), sb(1.0, false));
    let w = Err(Error::WrongType);
    let add = db.zadd(key, flags("xx"), true, &[(1.0, b"a")]);
    assert_eq!(add, Err(Error::WrongType), "{ctx}: ZADD");
    assert_eq!(db.zincrby(key, 1.0, b"a"), Err(Error::WrongType), "{ctx}");
    assert_eq!(db.zrem(key, &[b"a"]), w, "{ctx}: ZREM");
    assert_eq!(db.zcard(key), w, "{ctx}: ZCARD");
    assert_eq!(db.zcount(key, &score), w, "{ctx}: ZCOUNT");
    assert_eq!(db.zremrange(key, &score), w, "{ctx}: ZREMRANGEBYSCORE");
    assert_eq!(db.zscore(key, b"a"), Err(Error::WrongType), "{ctx}");
    assert_eq!(db.zmscore(key, &[b"a"]), Err(Error::WrongType), "{ctx}");
    assert_eq!(db.zrank(key, b"a", true), Err(Error::WrongType), "{ctx}");
    assert_eq!(db.zrange(key, &all()), Err(Error::WrongType), "{ctx}");
    assert_eq!(db.zpop(key, true, 1), Err(Error::WrongType), "{ctx}");
}

/// Every key's EXISTS, TYPE, ENCODING and contents against the model.
fn check_all(db: &Db, model: &Model, probe: &mut Rng, seen: &mut Seen, ctx: &str) -> TestResult {
    for key in KEYS {
        let ctx = format!("{ctx}; key {:?}", b(key));
        let exists = usize::from(model.keys.contains_key(key));
        assert_eq!(db.exists(&[key])?, exists, "{ctx}: EXISTS");
        assert_eq!(db.key_type(key)?, model.kind(key), "{ctx}: TYPE");
        let z = match model.keys.get(key) {
            None => {
                assert_eq!(db.zcard(key), Ok(0), "{ctx}");
                assert_eq!(db.zrange(key, &all()), Ok(Vec::new()), "{ctx}");
                continue;
            }
            Some(MValue::Other(_)) => {
                assert_wrong_type(db, key, &ctx);
                continue;
            }
            Some(MValue::Z(z)) => z,
        };
        let n = z.len();
        seen.most = seen.most.max(n);
        seen.big += usize::from(z.big);
        let neg_zero = z.items.iter().any(|x| x.0 == 0.0 && x.0.is_sign_negative());
        seen.neg_zero_big += usize::from(z.big && neg_zero);
        let enc = db.encoding(key, |_| "string")?;
        assert_eq!(enc, Some(z.encoding()), "{ctx}: ENCODING");
        assert_eq!(db.zcard(key)?, n, "{ctx}: ZCARD");
        let every: Vec<usize> = (0..n).collect();
        same(&scored(db.zrange(key, &all())?), &z.view(&every), &ctx);
        for i in [0, n / 2, n - 1, probe.usize(0..n)] {
            let (s, m) = &z.items[i];
            let c = format!("{ctx}: member {:?}", b(m));
            assert_eq!(db.zrank(key, m, false)?, Some(i), "{c}: ZRANK");
            assert_eq!(db.zrank(key, m, true)?, Some(n - 1 - i), "{c}: ZREVRANK");
            assert_eq!(db.zscore(key, m)?.map(S), Some(S(*s)), "{c}: ZSCORE");
        }
        assert_eq!(db.get(key), Err(Error::WrongType), "{ctx}: GET");
        assert_eq!(db.llen(key), Err(Error::WrongType), "{ctx}: LLEN");
        assert_eq!(db.scard(key), Err(Error::WrongType), "{ctx}: SCARD");
        assert_eq!(db.hlen(key), Err(Error::WrongType), "{ctx}: HLEN");
    }
    Ok(())
}

/// `steps` random operations of `gen` on `db` and `model`, now and then in
/// a batch, checking every key and the WATCH version after each.
fn run(db: &Db, model: &mut Model, gen: &mut Gen, steps: usize, seen: &mut Seen) -> TestResult {
    let mut probe = Rng::with_seed(gen.rng.u64(..));
    for step in 0..steps {
        let op = gen.op(model);
        let in_batch = gen.rng.u32(0..4) == 0;
        let how = ["", " (in a batch)"][usize::from(in_batch)];
        let ctx = format!("step {step}{how}: {op:?}");
        let key = op.key().map_or(&b""[..], |k| KEYS[k]);
        let before = db.version(key)?;
        let changed = match &op {
            Op::Limit(l) => {
                db.set_limits(limits(*l));
                model.lp = *l;
                None
            }
            _ if in_batch => {
                seen.in_batch += 1;
                db.atomically(&KEYS, |tx| apply(tx, model, &op, seen, &ctx))?
            }
            _ => apply(db, model, &op, seen, &ctx)?,
        };
        if let Some(changed) = changed {
            let moved = db.version(key)? != before;
            assert_eq!(moved, changed, "{ctx}: whether the WATCH version moved");
        }
        check_all(db, model, &mut probe, seen, &ctx)?;
    }
    Ok(())
}

/// Six seeds of `steps`, starting at `first` and switching among `limits`.
fn run_seeds(first: Listpack, limits: &[Listpack], pool: u32, steps: usize) -> Res<Seen> {
    let mut seen = Seen::default();
    for seed in 1..=6 {
        let db = Db::default();
        db.set_limits(self::limits(first));
        let mut gen = Gen::new(seed, pool, limits);
        let r = run(&db, &mut Model::new(first), &mut gen, steps, &mut seen);
        r.map_err(|e| format!("seed {seed}: {e}"))?;
    }
    let why = format!("{seen:?}");
    assert!(seen.big > 0 && seen.neg_zero_big > 0, "{why}");
    assert!(seen.nan > 2 && seen.lex_hits > 20, "{why}");
    assert!(seen.wrong_type > 0 && seen.emptied > 0, "{why}");
    assert!(seen.in_batch > steps, "{why}");
    Ok(seen)
}

#[test]
fn random_sorted_set_operations_at_default_limits_match_a_model() -> TestResult {
    let seen = run_seeds(Limits::default().zset, &[], 400, 4000)?;
    assert!(seen.most > 200, "past 128 members: {seen:?}");
    Ok(())
}

#[test]
fn random_sorted_set_operations_at_tiny_changing_limits_match_a_model() -> TestResult {
    let tiny = [lp(2, 4), lp(0, 64), lp(3, 2), lp(8, 8), lp(128, 64)];
    run_seeds(tiny[0], &tiny, 60, 4000).map(drop)
}

// ---------------------------------------------------------------------
// Big sorted sets.

/// 600 scores, so about 65 members share each, now and then ±inf or -0.
fn big_score(rng: &mut Rng) -> f64 {
    match rng.u32(0..100) {
        0 => [INF, -INF, -0.0][rng.usize(0..3)],
        _ => f64::from(rng.i32(-300..300)) / 4.0,
    }
}

/// A member of `z` half the time, else most likely a new one.
fn pick(z: &MZ, rng: &mut Rng) -> B {
    match z.len() {
        n @ 1.. if rng.bool() => b(&z.items[rng.usize(0..n)].1),
        _ => b(format!("m{}", rng.u32(0..400_000))),
    }
}

fn zadd_both(db: &Db, key: &[u8], z: &mut MZ, flags: ZAddFlags, pairs: &[(f64, B)]) -> TestResult {
    let refs: Vec<(f64, &[u8])> = pairs.iter().map(|(s, m)| (*s, &m.0[..])).collect();
    let got = db.zadd(key, flags, false, &refs).map(|r| format!("{r:?}"));
    let want = zadd_model(z, flags, false, pairs, Limits::default().zset);
    assert_eq!(got, want.map(|r| format!("{:?}", r.0)), "ZADD {flags:?}");
    Ok(())
}

/// One random write to the big set `key`, and to its model.
fn big_write(db: &Db, key: &[u8], z: &mut MZ, rng: &mut Rng, ctx: &str) -> TestResult {
    let n = z.len();
    match rng.u32(0..6) {
        0 | 1 => {
            let k = rng.usize(1..=20);
            let pairs: Vec<(f64, B)> = (0..k).map(|_| (big_score(rng), pick(z, rng))).collect();
            let f = flags(["", "gt", "ch", "gt ch"][rng.usize(0..4)]);
            zadd_both(db, key, z, f, &pairs)?;
        }
        2 => {
            let (by, m) = ([-1.0, 0.25, 2.0][rng.usize(0..3)], pick(z, rng));
            let want = zadd_model(z, ZAddFlags::default(), true, &[(by, m.clone())], lp(0, 0));
            let want = want.map(|(r, _)| format!("{r:?}"));
            let got = db.zincrby(key, by, &m.0).map(|s| ZAdded::Score(Some(s)));
            let got = got.map(|r| format!("{r:?}"));
            assert_eq!(got, want, "{ctx}: ZINCRBY {by} {m:?}");
        }
        3 => {
            let gone: Vec<B> = (0..rng.usize(1..=20)).map(|_| pick(z, rng)).collect();
            let want = z.remove_all(&gone);
            assert_eq!(db.zrem(key, &refs(&gone))?, want, "{ctx}: ZREM");
        }
        4 => {
            let start = rng.i64(-(n as i64)..n as i64);
            let lo = big_score(rng);
            let by = match rng.bool() {
                true => ZRangeBy::Rank(start, start + rng.i64(-1..40)),
                false => ZRangeBy::Score(sb(lo, rng.u32(0..8) == 0), sb(lo, false)),
            };
            let want = z.take_at(&positions(z, &by, false)).len();
            assert_eq!(db.zremrange(key, &by)?, want, "{ctx}: {by:?}");
        }
        _ => {
            let (max, count) = (rng.bool(), rng.usize(0..20));
            let at: Vec<usize> = match max {
                true => (n - count.min(n)..n).rev().collect(),
                false => (0..count.min(n)).collect(),
            };
            let want = z.take_at(&at);
            let got = scored(db.zpop(key, max, count)?);
            same(&got, &want, &format!("{ctx}: ZPOP"));
        }
    }
    Ok(())
}

/// ZCARD, sampled ZRANK, ZREVRANK and ZSCORE, windows by rank (across
/// chunks) and score with LIMIT, ZCOUNT, and everything when `full`.
fn check_big(db: &Db, key: &[u8], z: &MZ, rng: &mut Rng, full: bool, ctx: &str) -> TestResult {
    let (n, ni) = (z.len(), z.len() as i64);
    assert_eq!(db.zcard(key)?, n, "{ctx}: ZCARD");
    if full {
        same(&scored(db.zrange(key, &all())?), &expect(z, &all()), ctx);
    }
    let samples: Vec<usize> = (0..14)
        .map(|i| [0, n - 1, rng.usize(0..n)][i.min(2)])
        .collect();
    for i in samples {
        let (s, m) = &z.items[i];
        let c = format!("{ctx}: member {:?} at {i}", b(m));
        assert_eq!(db.zrank(key, m, false)?, Some(i), "{c}: ZRANK");
        assert_eq!(db.zrank(key, m, true)?, Some(n - 1 - i), "{c}: ZREVRANK");
        assert_eq!(db.zscore(key, m)?.map(S), Some(S(*s)), "{c}: ZSCORE");
    }
    let (start, lo) = (rng.i64(-ni - 5..ni + 5), big_score(rng));
    let by = ZRangeBy::Score(sb(lo, rng.bool()), sb(lo + 3.0, rng.bool()));
    let limit = Some((rng.i64(0..300), rng.i64(-1..300)));
    let rank = ZRangeBy::Rank(start, start + rng.i64(0..600));
    let (rev1, rev2) = (rng.bool(), rng.bool());
    for range in [zr(rank, rev1, None), zr(by.clone(), rev2, limit)] {
        let c = format!("{ctx}: {range:?}");
        same(&scored(db.zrange(key, &range)?), &expect(z, &range), &c);
    }
    let count = positions(z, &by, false).len();
    assert_eq!(db.zcount(key, &by)?, count, "{ctx}: ZCOUNT");
    Ok(())
}

#[test]
fn a_sorted_set_of_40000_members_reads_like_the_model_and_survives_restarts() -> TestResult {
    let db = Db::default();
    let (key, mut z, mut rng) = (&b"big"[..], MZ::default(), Rng::with_seed(40));
    // One ZADD of 40,000 pairs, some members twice.
    let new = |rng: &mut Rng| (big_score(rng), b(format!("m{}", rng.u32(0..400_000))));
    let pairs: Vec<(f64, B)> = (0..40_000).map(|_| new(&mut rng)).collect();
    zadd_both(&db, key, &mut z, ZAddFlags::default(), &pairs)?;
    assert!(z.big && z.len() > 35_000, "{}", z.len());
    check_big(&db, key, &z, &mut rng, true, "built")?;
    for round in 0..1500 {
        let ctx = format!("round {round}");
        big_write(&db, key, &mut z, &mut rng, &ctx)?;
        check_big(&db, key, &z, &mut rng, round % 300 == 299, &ctx)?;
    }
    assert!(z.len() > 25_000, "{}", z.len());
    // Thinned to about a tenth at random (chunks shrink and merge), grown
    // back by one ZADD, then a window across runs removed.
    for round in 0.. {
        if z.len() < 4_000 {
            break;
        }
        let (n, ctx) = (z.len(), format!("thinning {round}"));
        let gone: Vec<B> = (0..1500).map(|_| b(&z.items[rng.usize(0..n)].1)).collect();
        let want = z.remove_all(&gone);
        assert_eq!(db.zrem(key, &refs(&gone))?, want, "{ctx}");
        check_big(&db, key, &z, &mut rng, round % 10 == 9, &ctx)?;
    }
    let pairs: Vec<(f64, B)> = (0..40_000).map(|_| new(&mut rng)).collect();
    let refs: Vec<(f64, &[u8])> = pairs.iter().map(|(s, m)| (*s, &m.0[..])).collect();
    let added = ZAdded::Count(z.add_many(&pairs));
    assert_eq!(db.zadd(key, ZAddFlags::default(), false, &refs)?, added);
    check_big(&db, key, &z, &mut rng, true, "grown back")?;
    let window = ZRangeBy::Rank(1000, -9000);
    assert_eq!(db.zremrange(key, &window)?, z.len() - 9999);
    let gone: Vec<(f64, Vec<u8>)> = z.items.drain(1000..z.len() - 8999).collect();
    for (_, m) in &gone {
        z.scores.remove(m);
    }
    check_big(&db, key, &z, &mut rng, true, "a window removed")?;

    // Copied into a durable store by one ZADD (every write logs the whole
    // set), then through the log alone, and through a snapshot and more
    // changes; loaded at tiny limits once (a skiplist all the same).
    let dir = temp_dir("big");
    let (mut store, _) = open(&dir.0, Limits::default().zset)?;
    let pairs: Vec<(f64, B)> = z.items.iter().map(|(s, m)| (*s, b(m))).collect();
    let db = store.db(0).ok_or("no db 0")?;
    // A new set: a listpack for its first 128 members, so they lose any -0.
    z = MZ::default();
    zadd_both(db, key, &mut z, ZAddFlags::default(), &pairs)?;
    for (round, l) in [(0, lp(2, 4)), (1, Limits::default().zset)] {
        let (db, ctx) = (store.db(0).ok_or("no db 0")?, format!("restart {round}"));
        for _ in 0..4 {
            big_write(db, key, &mut z, &mut rng, &ctx)?;
        }
        store.close()?;
        drop(store);
        let (again, recovery) = open(&dir.0, l)?;
        assert_eq!(recovery.snapshot.is_some(), round == 1, "{recovery:?}");
        store = again;
        let db = store.db(0).ok_or("no db 0")?;
        assert_eq!(db.encoding(key, |_| "string")?, Some("skiplist"));
        check_big(db, key, &z, &mut rng, true, &ctx)?;
        store.snapshot()?;
    }
    // Drained by big ZPOPMINs and ZPOPMAXs: runs go, then the key.
    let db = store.db(0).ok_or("no db 0")?;
    while !z.items.is_empty() {
        let (n, max, count) = (z.len(), rng.bool(), rng.usize(1..8000));
        let at: Vec<usize> = match max {
            true => (n - count.min(n)..n).rev().collect(),
            false => (0..count.min(n)).collect(),
        };
        let want = z.take_at(&at);
        same(&scored(db.zpop(key, max, count)?), &want, "drained");
        if !z.items.is_empty() {
            check_big(db, key, &z, &mut rng, false, "drained")?;
        }
    }
    assert_eq!(db.key_type(key)?, None);
    store.close()?;
    Ok(())
}

#[test]
fn a_sorted_set_of_5000_equal_scores_reads_by_lex_ranges() -> TestResult {
    let db = Db::default();
    let (key, mut z, mut rng) = (&b"lex"[..], MZ::default(), Rng::with_seed(5));
    let name = |rng: &mut Rng| format!("w{:05}", rng.u32(0..20_000)).into_bytes();
    let pair = |rng: &mut Rng| ([0.0, -0.0][usize::from(rng.u32(0..4) == 0)], b(name(rng)));
    let pairs: Vec<(f64, B)> = (0..5000).map(|_| pair(&mut rng)).collect();
    zadd_both(&db, key, &mut z, ZAddFlags::default(), &pairs)?;
    let mut hits = 0;
    for round in 0..400 {
        let ctx = format!("round {round}");
        // A bound: an end, a member, a name maybe absent, or a prefix.
        let mut bound = || {
            let m: Bytes = match rng.u32(0..3) {
                0 => name(&mut rng).into(),
                1 => format!("w{}", rng.u32(0..20)).into(),
                _ => z.items[rng.usize(0..z.len())].1.clone().into(),
            };
            let ends = [LexBound::Least, LexBound::Greatest];
            match rng.u32(0..10) {
                0 | 1 => ends[rng.usize(0..2)].clone(),
                2..=5 => LexBound::Inclusive(m),
                _ => LexBound::Exclusive(m),
            }
        };
        let by = ZRangeBy::Lex(bound(), bound());
        let limit = rng.bool().then(|| (rng.i64(-1..100), rng.i64(-1..100)));
        let range = zr(by.clone(), rng.bool(), limit);
        let want = expect(&z, &range);
        hits += usize::from(!want.is_empty());
        let got = scored(db.zrange(key, &range)?);
        same(&got, &want, &format!("{ctx}: {range:?}"));
        let count = positions(&z, &by, false).len();
        assert_eq!(db.zcount(key, &by)?, count, "{ctx}: ZLEXCOUNT {by:?}");
        if rng.bool() {
            let i = rng.usize(0..z.len());
            let j = (i + rng.usize(0..10)).min(z.len() - 1);
            let (lo, hi) = (z.items[i].1.clone().into(), z.items[j].1.clone().into());
            let by = ZRangeBy::Lex(LexBound::Inclusive(lo), LexBound::Exclusive(hi));
            let want = z.take_at(&positions(&z, &by, false)).len();
            assert_eq!(db.zremrange(key, &by)?, want, "{ctx}: {by:?}");
        } else {
            let pairs: Vec<(f64, B)> = (0..rng.usize(1..10)).map(|_| pair(&mut rng)).collect();
            zadd_both(&db, key, &mut z, ZAddFlags::default(), &pairs)?;
        }
        check_big(&db, key, &z, &mut rng, round % 100 == 99, &ctx)?;
    }
    assert!(hits > 100, "{hits} lex ranges found members");
    Ok(())
}

// ---------------------------------------------------------------------
// Restarts.

/// A data directory of its own, removed at the end.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(name: &str) -> TempDir {
    let name = format!("tandem-zsets-model-{}-{name}", std::process::id());
    let path = std::env::temp_dir().join(name);
    let _ = std::fs::remove_dir_all(&path);
    TempDir(path)
}

fn open(dir: &Path, zset: Listpack) -> Res<(Store, tandem_engine::Recovery)> {
    let db = Db::default();
    db.set_limits(limits(zset));
    Ok(Store::open(dir, StoreOptions::default(), vec![db])?)
}

/// After a load: each sorted set holds what it did, scores equal as
/// numbers (a listpack loads -0 as 0), in the encoding a set of its members
/// built at once at the limits of the moment has. The model takes the
/// loaded scores and encodings.
fn reload(db: &Db, model: &mut Model, ctx: &str) -> TestResult {
    let lp = model.lp;
    for (key, value) in &mut model.keys {
        let MValue::Z(z) = value else { continue };
        let ctx = format!("{ctx}; key {:?}", b(key));
        let got: Vec<(Vec<u8>, f64)> = db
            .zrange(key, &all())?
            .into_iter()
            .map(|(m, s)| (m.to_vec(), s))
            .collect();
        let want: Vec<(Vec<u8>, f64)> = z.items.iter().map(|(s, m)| (m.clone(), *s)).collect();
        assert_eq!(got, want, "{ctx}: loaded");
        let big = z.len() > lp.entries || z.items.iter().any(|(_, m)| m.len() > lp.value);
        z.big = big;
        for (item, (_, s)) in z.items.iter_mut().zip(got) {
            item.0 = s;
            z.scores.insert(item.1.clone(), s);
        }
        let enc = db.encoding(key, |_| "string")?;
        assert_eq!(enc, Some(z.encoding()), "{ctx}: loaded");
    }
    Ok(())
}

#[test]
fn random_sorted_sets_survive_restarts_through_the_log_and_a_snapshot() -> TestResult {
    let dir = temp_dir("random");
    let (mut model, mut gen) = (Model::new(Limits::default().zset), Gen::new(9, 200, &[]));
    let (mut seen, mut probe) = (Seen::default(), Rng::with_seed(10));
    let ttl: [(f64, &[u8]); 3] = [(-0.0, b"n"), (INF, b"i"), (1.5, &[b'x'; 100])];
    let mut deadline = 0;
    // Loaded at one limit, changed at another.
    let limits = [lp(128, 64), lp(2, 4), lp(16, 8), lp(0, 64)];
    for (round, l) in limits.into_iter().enumerate() {
        let ctx = format!("round {round}, limits {l:?}");
        let (store, recovery) = open(&dir.0, l)?;
        assert_eq!(recovery.snapshot.is_some(), round >= 2, "{ctx}");
        assert_eq!(recovery.log_records > 0, round > 0, "{ctx}");
        let db = store.db(0).ok_or("no db 0")?;
        model.lp = l;
        reload(db, &mut model, &ctx)?;
        check_all(db, &model, &mut probe, &mut seen, &ctx)?;
        if round == 0 {
            db.zadd(b"ttl", ZAddFlags::default(), false, &ttl)?;
            db.expire(b"ttl", Expiry::Millis(3_600_000), ExpireCondition::Always)?;
            deadline = db.pexpire_time(b"ttl")?;
        }
        assert_eq!(db.pexpire_time(b"ttl")?, deadline, "{ctx}: the deadline");
        let got: Vec<f64> = db.zrange(b"ttl", &all())?.iter().map(|x| x.1).collect();
        assert_eq!(got, [0.0, 1.5, INF], "{ctx}");
        if round == 1 {
            store.snapshot()?;
        }
        if round < 3 {
            run(db, &mut model, &mut gen, 300, &mut seen).map_err(|e| format!("{ctx}: {e}"))?;
        }
        store.close()?;
    }
    assert!(seen.big > 0 && seen.neg_zero_big > 0, "{seen:?}");
    Ok(())
}

// ---------------------------------------------------------------------
// One by one.

fn flags(s: &str) -> ZAddFlags {
    let has = |f: &str| s.split(' ').any(|w| w == f);
    let (nx, xx, gt, lt, ch) = (has("nx"), has("xx"), has("gt"), has("lt"), has("ch"));
    ZAddFlags { nx, xx, gt, lt, ch }
}

/// `-`, `+`, `[member` or `(member`.
fn lex(s: &str) -> LexBound {
    let m = Bytes::copy_from_slice(s.get(1..).unwrap_or_default().as_bytes());
    match s {
        "-" => LexBound::Least,
        "+" => LexBound::Greatest,
        _ if s.starts_with('[') => LexBound::Inclusive(m),
        _ => LexBound::Exclusive(m),
    }
}

/// A ZRANGE answer's members, space-separated.
fn names(v: Vec<(Bytes, f64)>) -> String {
    let v: Vec<String> = v
        .iter()
        .map(|(m, _)| m.escape_ascii().to_string())
        .collect();
    v.join(" ")
}

#[test]
fn redis_examples_flags_nan_negative_zero_and_expiry_one_by_one() -> TestResult {
    let clock = Arc::new(ManualClock::new(1_000_000));
    let db = Db::new(Options::default().clock(clock.clone()));
    // ZADD key, flags, "score member ...".
    let add = |key: &[u8], f: &str, pairs: &str| -> Res<ZAdded> {
        let (w, mut v): (Vec<&str>, Vec<(f64, &[u8])>) = (pairs.split(' ').collect(), vec![]);
        for p in w.chunks(2) {
            v.push((p[0].parse()?, p[1].as_bytes()));
        }
        Ok(db.zadd(key, flags(f), false, &v)?)
    };
    let incr = |f: &str, by: f64, m: &str| db.zadd(b"z", flags(f), true, &[(by, m.as_bytes())]);
    let range = |key: &[u8], by, rev, limit| db.zrange(key, &zr(by, rev, limit)).map(names);
    let score = |m: &str| db.zscore(b"z", m.as_bytes());
    let (rank, by_score, count, got) = (
        ZRangeBy::Rank,
        ZRangeBy::Score,
        ZAdded::Count,
        ZAdded::Score,
    );
    let by_lex = |a: &str, e: &str| ZRangeBy::Lex(lex(a), lex(e));
    let (incl, excl) = (|v| sb(v, false), |v| sb(v, true));

    // ZADD's and ZRANGE's examples: ties in member order.
    assert_eq!(add(b"z", "", "1 one 1 uno 2 two 3 three")?, count(4));
    assert_eq!(range(b"z", rank(0, -1), false, None)?, "one uno two three");
    assert_eq!(db.zrem(b"z", &[b"uno", b"uno", b"none"])?, 1);
    assert_eq!(range(b"z", rank(2, 3), false, None)?, "three");
    assert_eq!(range(b"z", rank(-2, -1), false, None)?, "two three");
    assert_eq!(range(b"z", rank(0, -1), true, None)?, "three two one");
    let by = by_score(excl(1.0), incl(INF));
    assert_eq!(range(b"z", by, false, Some((1, 1)))?, "three");
    assert_eq!(
        range(b"z", by_score(excl(1.0), excl(2.0)), false, None)?,
        ""
    );
    assert_eq!(db.zcount(b"z", &by_score(excl(1.0), incl(3.0)))?, 2);
    assert_eq!(db.zrank(b"z", b"one", true)?, Some(2));
    // NX only adds, XX only updates, GT and LT update one way but add,
    // CH counts updates, INCR answers nil when a flag says no.
    assert_eq!(add(b"z", "nx", "5 one 4 four")?, count(1));
    assert_eq!(add(b"z", "xx", "5 five 1.5 one")?, count(0));
    assert_eq!((score("one")?, score("five")?), (Some(1.5), None));
    assert_eq!(add(b"z", "gt ch", "0.5 one 9 two 6 six")?, count(2));
    assert_eq!(add(b"z", "lt ch", "10 two -1 two -1 one")?, count(2));
    assert_eq!((score("one")?, score("two")?), (Some(-1.0), Some(-1.0)));
    assert_eq!(incr("nx", 1.0, "one")?, got(None));
    assert_eq!(incr("gt", -1.0, "one")?, got(None));
    assert_eq!(incr("lt", -1.0, "one")?, got(Some(-2.0)));
    assert_eq!(incr("xx", 1.0, "seven")?, got(None));
    assert_eq!(add(b"none", "xx ch", "1 one")?, count(0));
    assert_eq!(db.exists(&[b"none"])?, 0);
    // inf + -inf is refused and changes nothing, the WATCH version
    // included; nor do writes that change nothing.
    add(b"z", "", "inf inf")?;
    let v = db.version(b"z")?;
    assert_eq!(db.zincrby(b"z", -INF, b"inf"), Err(Error::ScoreNaN));
    assert_eq!(incr("xx", -INF, "inf"), Err(Error::ScoreNaN));
    assert_eq!(score("inf")?, Some(INF));
    add(b"z", "gt", "4 four -2 one -5 one")?;
    assert_eq!(db.zincrby(b"z", 0.0, b"one")?, -2.0);
    assert_eq!(db.zpop(b"z", true, 0)?, []);
    assert_eq!(db.zremrange(b"z", &by_score(incl(100.0), excl(INF)))?, 0);
    assert_eq!(db.version(b"z")?, v);

    // -0: a listpack reads it back as 0, a skiplist keeps it, and a set
    // keeps the 0 it had when it converts.
    add(b"nz", "", "-0 a")?;
    db.set_limits(limits(lp(1, 64)));
    add(b"nz", "", "-0 b")?;
    let signs: Vec<bool> = db
        .zrange(b"nz", &all())?
        .iter()
        .map(|x| x.1.is_sign_negative())
        .collect();
    assert_eq!(signs, [false, true]);
    assert_eq!(db.encoding(b"nz", |_| "")?, Some("skiplist"));
    db.set_limits(Limits::default());

    // ZRANGEBYLEX, ZLEXCOUNT, ZREVRANGEBYLEX and ZREMRANGEBYLEX examples.
    add(b"l", "", "0 a 0 b 0 c 0 d 0 e 0 f 0 g")?;
    assert_eq!(range(b"l", by_lex("-", "[c"), false, None)?, "a b c");
    assert_eq!(range(b"l", by_lex("-", "(c"), false, None)?, "a b");
    assert_eq!(range(b"l", by_lex("[aaa", "(g"), false, None)?, "b c d e f");
    assert_eq!(range(b"l", by_lex("-", "[c"), true, None)?, "c b a");
    assert_eq!(
        range(b"l", by_lex("[aaa", "(g"), true, Some((1, 2)))?,
        "e d"
    );
    assert_eq!(db.zcount(b"l", &by_lex("-", "+"))?, 7);
    assert_eq!(db.zcount(b"l", &by_lex("[b", "[f"))?, 5);
    assert_eq!(db.zcount(b"l", &by_lex("+", "-"))?, 0);
    add(
        b"r",
        "",
        "0 aaaa 0 b 0 c 0 d 0 e 0 foo 0 zap 0 zip 0 ALPHA 0 alpha",
    )?;
    assert_eq!(db.zremrange(b"r", &by_lex("[alpha", "[omega"))?, 6);
    assert_eq!(range(b"r", rank(0, -1), false, None)?, "ALPHA aaaa zap zip");
    // An expired sorted set is none; an expired string no WRONGTYPE.
    db.set(b"str", b"v", SetOptions::default())?;
    for key in [&b"z"[..], b"str"] {
        db.expire(key, Expiry::Millis(10), ExpireCondition::Always)?;
    }
    clock.advance(20);
    assert_eq!((db.zcard(b"z")?, score("one")?), (0, None));
    assert_eq!(db.zrank(b"z", b"one", false)?, None);
    assert_eq!(range(b"z", rank(0, -1), false, None)?, "");
    assert_eq!(db.zpop(b"z", false, 1)?, []);
    assert_eq!(db.zrem(b"z", &[b"one"])?, 0);
    assert_eq!(db.zcount(b"z", &by_lex("-", "+"))?, 0);
    assert_eq!(add(b"z", "xx", "1 one")?, count(0));
    assert_eq!(db.exists(&[b"z"])?, 0);
    assert_eq!(db.zincrby(b"z", 2.0, b"new")?, 2.0);
    assert_eq!((db.zcard(b"z")?, db.ttl(b"z")?), (1, -1));
    assert_eq!(add(b"str", "", "1 one")?, count(1));
    assert_eq!(db.key_type(b"str")?, Some(ValueType::ZSet));
    Ok(())
}
