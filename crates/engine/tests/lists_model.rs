//! Lists against a reference model, big and small, and across restarts.
//!
//! - Random LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP (counts of 0 too),
//!   LINDEX, LRANGE, LSET, LINSERT, LREM, LTRIM, LPOS (RANK, COUNT,
//!   MAXLEN), LMOVE (onto the same key too), LMPOP, DEL, SET, HSET and
//!   SADD sequences on a few keys, for fixed seeds, on the `Db` and now
//!   and then in a batch (`Tx`), must answer as a plain model (a `VecDeque`
//!   per key) does. After every step each key's EXISTS, TYPE, OBJECT
//!   ENCODING (`quicklist`), LLEN, LRANGE 0 -1 and LINDEX 0 and -1 match
//!   it: an emptied list does not exist, no command but a push creates
//!   one, and a string, hash or set answers WRONGTYPE to every list
//!   command and stays as it was. Elements are empty, short, binary, a few
//!   hundred bytes, now and then 5,000 to 20,000 (more than a chunk). One
//!   run keeps chunks tiny (1 to 3 elements, changed on the fly), so every
//!   command crosses chunk boundaries; one keeps the default (8 KiB).
//! - A list of 20,000 elements built by mixed LPUSH and RPUSH answers
//!   LINDEX (ends, middle, past them) and LRANGE windows as the model does,
//!   and again after restarts of a durable `Store` (the log alone; a
//!   snapshot and more changes), loaded at another chunk limit.
//! - Random sequences on a durable `Store` survive restarts, deadlines too.
//! - Redis's documented LPOS examples, LINSERT's first pivot, the
//!   WRONGTYPE order of LMOVE and LMPOP, and expired keys, one by one.
//!
//! The model shares no code with the engine: its index arithmetic is
//! Redis's, written out here.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tandem_engine::clock::ManualClock;
use tandem_engine::prelude::*;
use tandem_engine::{Bytes, ChunkLimit, Limits, PosOptions, Store, StoreOptions, ValueType};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The model test's keys; the first one is the one grown long.
const KEYS: [&[u8]; 4] = [b"big", b"l1", b"l\x00bin", b"l3"];

/// Short elements, drawn often so that LREM, LPOS and LINSERT match.
const SMALL: [&str; 8] = ["a", "b", "c", "d", "e", "1", "-1", "x y"];
const BINARY: [&[u8]; 4] = [b"\x00", b"\x00\xff", b"\r\n", b"\xff\xfe\x80"];
/// The long elements' lengths: each but the first more than a chunk.
const LONG: [usize; 3] = [5_000, 9_000, 20_000];

/// Bytes shown escaped in failure messages, long ones cut short.
#[derive(Clone, PartialEq, Eq)]
struct B(Vec<u8>);

impl fmt::Debug for B {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.get(..16) {
            Some(head) if self.0.len() > 40 => {
                write!(f, "<{} bytes \"{}\"..>", self.0.len(), head.escape_ascii())
            }
            _ => write!(f, "\"{}\"", self.0.escape_ascii()),
        }
    }
}

fn b(s: impl AsRef<[u8]>) -> B {
    B(s.as_ref().to_vec())
}

/// `prefix`, then letters up to `len` bytes.
fn filled(prefix: &str, len: usize) -> Vec<u8> {
    let mut v = prefix.as_bytes().to_vec();
    let pad = (0..).map(|i: usize| b'a' + (i % 26) as u8);
    v.extend(pad.take(len.saturating_sub(v.len())));
    v
}

fn owned(v: Vec<Bytes>) -> Vec<Vec<u8>> {
    v.into_iter().map(|b| b.to_vec()).collect()
}

fn refs(values: &[B]) -> Vec<&[u8]> {
    values.iter().map(|v| v.0.as_slice()).collect()
}

fn limits(chunk: i64) -> Limits {
    Limits {
        list_chunk: ChunkLimit(chunk),
        ..Limits::default()
    }
}

fn po(rank: i64, count: Option<usize>, maxlen: usize) -> PosOptions {
    PosOptions {
        rank,
        count,
        maxlen,
    }
}

/// Fails with the first place where `got` and `want` differ.
fn same_list<'a>(got: &[Vec<u8>], want: impl Iterator<Item = &'a Vec<u8>>, ctx: &str) {
    let want: Vec<&Vec<u8>> = want.collect();
    if let Some(i) = (0..got.len().min(want.len())).find(|&i| got[i] != *want[i]) {
        panic!("{ctx}: at {i}, {:?}, want {:?}", b(&got[i]), b(want[i]));
    }
    assert_eq!(got.len(), want.len(), "{ctx}: the length");
}

// ---------------------------------------------------------------------
// The model.

type MList = VecDeque<Vec<u8>>;

/// An index from the tail when negative; `None` outside a list of `len`.
fn index_of(index: i64, len: usize) -> Option<usize> {
    let (i, n) = (i128::from(index), len as i128);
    let i = if i < 0 { i + n } else { i };
    (0..n).contains(&i).then_some(i as usize)
}

/// LRANGE's and LTRIM's range, as Redis's `lrangeCommand` computes it.
fn range_of(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let n = len as i128;
    let from_tail = |i: i64| i128::from(i) + if i < 0 { n } else { 0 };
    let (s, e) = (from_tail(start).max(0), from_tail(stop));
    (s <= e && s < n).then(|| (s as usize, e.min(n - 1) as usize))
}

fn pop_at(l: &mut MList, end: End) -> Option<Vec<u8>> {
    match end {
        End::Left => l.pop_front(),
        End::Right => l.pop_back(),
    }
}

/// LPOP or RPOP with a count.
fn pop_n(l: &mut MList, end: End, count: usize) -> Vec<Vec<u8>> {
    (0..count).map_while(|_| pop_at(l, end)).collect()
}

fn push_at(l: &mut MList, end: End, v: Vec<u8>) {
    match end {
        End::Left => l.push_front(v),
        End::Right => l.push_back(v),
    }
}

/// LREM: up to `|count|` matches (all for 0), from the tail when `count`
/// is negative.
fn lrem(l: &mut MList, count: i64, value: &[u8]) -> usize {
    let most = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    let most = if count == 0 { usize::MAX } else { most };
    let matches = (0..l.len()).filter(|&i| l[i] == value);
    let gone: Vec<usize> = if count < 0 {
        matches.rev().take(most).collect()
    } else {
        matches.take(most).collect()
    };
    let mut i = 0;
    l.retain(|_| {
        i += 1;
        !gone.contains(&(i - 1))
    });
    gone.len()
}

/// LPOS: indexes from the head; the `|rank|`-th match first, counting
/// from the tail for a negative rank, among the `maxlen` elements at the
/// end it starts from.
fn lpos(l: &MList, value: &[u8], opts: PosOptions) -> Vec<usize> {
    let n = l.len();
    let look = match opts.maxlen {
        0 => n,
        m => m.min(n),
    };
    let want = match opts.count {
        None => 1,
        Some(0) => usize::MAX,
        Some(c) => c,
    };
    let skip = usize::try_from(opts.rank.unsigned_abs() - 1).unwrap_or(usize::MAX);
    let order: Vec<usize> = if opts.rank > 0 {
        (0..look).collect()
    } else {
        (n - look..n).rev().collect()
    };
    let found = order.into_iter().filter(|&i| l[i] == value);
    found.skip(skip).take(want).collect()
}

#[derive(Debug, Clone, PartialEq)]
enum MValue {
    Str(Vec<u8>),
    /// A hash of one field, `f`, holding this value.
    Hash(Vec<u8>),
    /// A set of one member, `m`.
    Set,
    List(MList),
}

#[derive(Debug, Default)]
struct Model {
    keys: HashMap<Vec<u8>, MValue>,
}

impl Model {
    /// The list at `key` (`None`: no key), `WrongType` for another type.
    fn list(&self, key: &[u8]) -> Result<Option<&MList>, Error> {
        match self.keys.get(key) {
            None => Ok(None),
            Some(MValue::List(l)) => Ok(Some(l)),
            Some(_) => Err(Error::WrongType),
        }
    }

    fn len(&self, key: &[u8]) -> usize {
        self.list(key).ok().flatten().map_or(0, VecDeque::len)
    }

    /// Runs `f` on the list at `key` (an empty one if it is absent and
    /// `create`; else `None` without calling `f`) and stores what it
    /// leaves unless that is empty. `WrongType` for another type, without
    /// calling `f`.
    fn change<R>(
        &mut self,
        key: &[u8],
        create: bool,
        f: impl FnOnce(&mut MList) -> R,
    ) -> Result<Option<R>, Error> {
        let mut l = match self.keys.remove(key) {
            Some(MValue::List(l)) => l,
            None if create => MList::new(),
            None => return Ok(None),
            Some(other) => {
                self.keys.insert(key.to_vec(), other);
                return Err(Error::WrongType);
            }
        };
        let r = f(&mut l);
        if !l.is_empty() {
            self.keys.insert(key.to_vec(), MValue::List(l));
        }
        Ok(Some(r))
    }

    /// LMOVE: a missing source answers `None` whatever the destination
    /// holds; then the destination's type counts.
    fn lmove(
        &mut self,
        src: &[u8],
        dst: &[u8],
        from: End,
        to: End,
    ) -> Result<Option<Vec<u8>>, Error> {
        if self.list(src)?.is_none() {
            return Ok(None);
        }
        self.list(dst)?;
        let v = self.change(src, false, |l| pop_at(l, from))?.flatten();
        if let Some(v) = &v {
            self.change(dst, true, |l| push_at(l, to, v.clone()))?;
        }
        Ok(v)
    }
}

// ---------------------------------------------------------------------
// Random operations.

#[derive(Debug, Clone)]
enum Op {
    /// LPUSH or RPUSH; LPUSHX or RPUSHX when the flag is set.
    Push(usize, End, Vec<B>, bool),
    Pop(usize, End, usize),
    LIndex(usize, i64),
    LRange(usize, i64, i64),
    LSet(usize, i64, B),
    /// LINSERT, before the pivot when the flag is set.
    LInsert(usize, bool, B, B),
    LRem(usize, i64, B),
    LTrim(usize, i64, i64),
    LPos(usize, B, PosOptions),
    LMove(usize, usize, End, End),
    LMPop(Vec<usize>, End, usize),
    Del(usize),
    Set(usize, B),
    HSet(usize, B),
    SAdd(usize),
    /// `Db::set_limits` with this `list-max-listpack-size`.
    Limit(i64),
}

/// Random operations, shaped so that the first key grows to about
/// `target` elements and the others stay short.
struct Gen {
    rng: fastrand::Rng,
    target: usize,
    /// Chunk limits to switch between, if any.
    limits: &'static [i64],
    label: String,
}

impl Gen {
    fn new(seed: u64, target: usize, limits: &'static [i64]) -> Self {
        let (rng, label) = (fastrand::Rng::with_seed(seed), format!("seed {seed}"));
        Gen {
            rng,
            target,
            limits,
            label,
        }
    }

    fn key(&mut self) -> usize {
        let other = self.rng.usize(1..KEYS.len());
        [0, other][usize::from(self.rng.u32(0..100) >= 45)]
    }

    fn end(&mut self) -> End {
        [End::Left, End::Right][self.rng.usize(0..2)]
    }

    fn element(&mut self) -> B {
        match self.rng.u32(0..1000) {
            0..=449 => b(SMALL[self.rng.usize(0..SMALL.len())]),
            450..=599 => b(self.rng.u32(0..50).to_string()),
            600..=749 => {
                let i = self.rng.usize(0..4);
                B(filled(&format!("m{i}-"), 100 + 150 * i))
            }
            750..=799 => b(""),
            800..=849 => b(BINARY[self.rng.usize(0..BINARY.len())]),
            850..=864 => {
                let i = self.rng.usize(0..LONG.len());
                B(filled(&format!("L{i}-"), LONG[i]))
            }
            _ => b(format!("u{}", self.rng.u32(..))),
        }
    }

    /// An index for a list of `len`: mostly within it or just past it,
    /// now and then far out.
    fn index(&mut self, len: usize) -> i64 {
        let n = len as i64;
        if self.rng.u32(0..20) == 0 {
            [i64::MIN, i64::MAX, -n - 1, n, i64::MIN + 1][self.rng.usize(0..5)]
        } else {
            self.rng.i64(-n - 2..=n + 1)
        }
    }

    fn pos_options(&mut self, len: usize) -> PosOptions {
        let rank = match self.rng.u32(0..20) {
            0 => i64::MAX,
            1 => -i64::MAX,
            _ => [1, 1, 1, 2, 3, -1, -1, -2, -3][self.rng.usize(0..9)],
        };
        let count = (self.rng.u32(0..10) > 3).then(|| self.rng.usize(0..=4));
        let maxlen = [0, self.rng.usize(1..=len + 2)][self.rng.usize(0..2)];
        po(rank, count, maxlen)
    }

    fn op(&mut self, model: &Model) -> Op {
        let r = self.rng.u32(0..1000);
        let other = self.rng.usize(1..KEYS.len());
        match r {
            975..=979 if self.rng.u32(0..10) == 0 => return Op::Del(0),
            975..=979 => return Op::Del(other),
            980..=984 => return Op::Set(other, b(format!("s{}", self.rng.u8(..)))),
            985..=989 => return Op::HSet(other, b(format!("h{}", self.rng.u8(..)))),
            990..=994 => return Op::SAdd(other),
            995.. if !self.limits.is_empty() => {
                return Op::Limit(self.limits[self.rng.usize(0..self.limits.len())])
            }
            _ => {}
        }
        let k = self.key();
        let len = model.len(KEYS[k]);
        let over = k == 0 && len > self.target;
        match r {
            0..=219 if over && self.rng.bool() => Op::Pop(k, self.end(), self.rng.usize(1..=40)),
            0..=219 => {
                let n = self.rng.usize(1..=if k == 0 { 30 } else { 4 });
                let values = (0..n).map(|_| self.element()).collect();
                Op::Push(k, self.end(), values, self.rng.u32(0..8) == 0)
            }
            220..=319 => Op::Pop(k, self.end(), self.rng.usize(0..=3)),
            320..=379 => Op::LIndex(k, self.index(len)),
            380..=439 => Op::LRange(k, self.index(len), self.index(len)),
            440..=509 => Op::LSet(k, self.index(len), self.element()),
            510..=589 => Op::LInsert(k, self.rng.bool(), self.element(), self.element()),
            590..=659 => Op::LRem(k, self.rng.i64(-3..=3), self.element()),
            // Trims that keep most of the long list, while it grows.
            660..=699 if k == 0 && !over => Op::LTrim(k, self.rng.i64(0..=3), -self.rng.i64(1..=4)),
            660..=699 => Op::LTrim(k, self.index(len), self.index(len)),
            700..=799 => Op::LPos(k, self.element(), self.pos_options(len)),
            800..=899 if self.rng.u32(0..4) == 0 => Op::LMove(k, k, self.end(), self.end()),
            800..=899 => Op::LMove(k, self.key(), self.end(), self.end()),
            _ => {
                let keys = (0..self.rng.usize(1..=3)).map(|_| self.key()).collect();
                Op::LMPop(keys, self.end(), self.rng.usize(1..=5))
            }
        }
    }
}

/// What the model tests saw, to check the seeds reached what they are
/// for.
#[derive(Debug, Default)]
struct Seen {
    most_len: usize,
    /// Checks of a list holding an element longer than a chunk.
    long_held: usize,
    wrong_type: usize,
    /// Keys removed by a command taking their last element.
    emptied: usize,
    inserted: usize,
    no_pivot: usize,
    /// LPOS from the tail finding something.
    from_tail: usize,
    rotated: usize,
    moved: usize,
    mpopped: usize,
    in_batch: usize,
}

impl Seen {
    fn assert_reached(&self, steps: usize, target: usize) {
        let reached = [
            self.most_len >= target,
            self.long_held > steps / 20,
            self.in_batch > steps / 8,
            self.wrong_type > 0 && self.emptied > 0,
            self.inserted > 0 && self.no_pivot > 0,
            self.from_tail > 0 && self.mpopped > 0,
            self.rotated > 0 && self.moved > 0,
        ];
        assert!(reached.iter().all(|&r| r), "{reached:?}: {self:?}");
    }
}

/// Runs `op` on `a` (the `Db` or a batch over every key) and on `model`,
/// comparing the answers.
fn apply<A: Lists + KeyValue + Hashes + Sets>(
    a: &A,
    model: &mut Model,
    op: &Op,
    seen: &mut Seen,
    ctx: &str,
) -> TestResult {
    let lists = |m: &Model| KEYS.map(|k| m.list(k).is_ok_and(|l| l.is_some()));
    let before = lists(model);
    match op {
        Op::Push(k, end, values, only) => {
            let key = KEYS[*k];
            let want = model.change(key, !only, |l| {
                values.iter().for_each(|v| push_at(l, *end, v.0.clone()));
                l.len()
            });
            let got = a.push(key, *end, &refs(values), *only);
            assert_eq!(got, want.map(|n| n.unwrap_or(0)), "{ctx}");
        }
        Op::Pop(k, end, count) => {
            let key = KEYS[*k];
            let want = model.change(key, false, |l| pop_n(l, *end, *count));
            let got = a.pop(key, *end, *count).map(|p| p.map(owned));
            assert_eq!(got, want, "{ctx}");
        }
        Op::LIndex(k, i) => {
            let at = |l: &MList| index_of(*i, l.len()).map(|i| l[i].clone());
            let want = model.list(KEYS[*k]).map(|l| l.and_then(at));
            let got = a.lindex(KEYS[*k], *i).map(|v| v.map(|v| v.to_vec()));
            assert_eq!(got, want, "{ctx}");
        }
        Op::LRange(k, start, stop) => {
            let want = model.list(KEYS[*k]).map(|l| {
                let range = l.and_then(|l| Some((l, range_of(*start, *stop, l.len())?)));
                range.map_or(Vec::new(), |(l, (s, e))| l.range(s..=e).cloned().collect())
            });
            let got = a.lrange(KEYS[*k], *start, *stop).map(owned);
            assert_eq!(got, want, "{ctx}");
        }
        Op::LSet(k, i, v) => {
            let key = KEYS[*k];
            let at = match model.list(key) {
                Err(e) => Err(e),
                Ok(None) => Err(Error::NoSuchKey),
                Ok(Some(l)) => index_of(*i, l.len()).ok_or(Error::IndexOutOfRange),
            };
            let want = at.map(|at| {
                let _ = model.change(key, false, |l| l[at] = v.0.clone());
            });
            assert_eq!(a.lset(key, *i, &v.0), want, "{ctx}");
        }
        Op::LInsert(k, before, pivot, v) => {
            let key = KEYS[*k];
            let want = model.change(key, false, |l| {
                let Some(p) = l.iter().position(|e| *e == pivot.0) else {
                    return -1;
                };
                l.insert(if *before { p } else { p + 1 }, v.0.clone());
                l.len() as i64
            });
            let want = want.map(|n| n.unwrap_or(0));
            match want {
                Ok(-1) => seen.no_pivot += 1,
                Ok(1..) => seen.inserted += 1,
                _ => {}
            }
            assert_eq!(a.linsert(key, *before, &pivot.0, &v.0), want, "{ctx}");
        }
        Op::LRem(k, count, v) => {
            let want = model.change(KEYS[*k], false, |l| lrem(l, *count, &v.0));
            let want = want.map(|n| n.unwrap_or(0));
            assert_eq!(a.lrem(KEYS[*k], *count, &v.0), want, "{ctx}");
        }
        Op::LTrim(k, start, stop) => {
            let want = model.change(KEYS[*k], false, |l| {
                let (s, e) = range_of(*start, *stop, l.len()).unwrap_or((1, 0));
                *l = l.drain(..).skip(s).take(e + 1 - s).collect();
            });
            assert_eq!(a.ltrim(KEYS[*k], *start, *stop), want.map(drop), "{ctx}");
        }
        Op::LPos(k, v, opts) => {
            let find = |l: &MList| lpos(l, &v.0, *opts);
            let want = model.list(KEYS[*k]).map(|l| l.map(find));
            if opts.rank < 0 && matches!(&want, Ok(Some(p)) if !p.is_empty()) {
                seen.from_tail += 1;
            }
            assert_eq!(a.lpos(KEYS[*k], &v.0, *opts), want, "{ctx}");
        }
        Op::LMove(src, dst, from, to) => {
            let (s, d) = (KEYS[*src], KEYS[*dst]);
            let want = model.lmove(s, d, *from, *to);
            let moved = usize::from(matches!(want, Ok(Some(_))));
            seen.rotated += moved * usize::from(s == d);
            seen.moved += moved * usize::from(s != d);
            let got = a.lmove(s, d, *from, *to).map(|v| v.map(|v| v.to_vec()));
            assert_eq!(got, want, "{ctx}");
        }
        Op::LMPop(ks, end, count) => {
            let keys: Vec<&[u8]> = ks.iter().map(|&k| KEYS[k]).collect();
            // The first key that exists, which must hold a list.
            let first = keys.iter().find(|k| model.keys.contains_key(**k));
            let want = match first.map(|k| (k, model.list(k))) {
                None => Ok(None),
                Some((_, Err(e))) => Err(e),
                Some((k, Ok(_))) => {
                    let popped = model.change(k, false, |l| pop_n(l, *end, *count));
                    popped.map(|p| p.map(|p| (k.to_vec(), p)))
                }
            };
            seen.mpopped += usize::from(matches!(want, Ok(Some(_))));
            let got = a.lmpop(&keys, *end, *count);
            let got = got.map(|r| r.map(|(k, v)| (k.to_vec(), owned(v))));
            assert_eq!(got, want, "{ctx}");
        }
        Op::Del(k) => {
            let want = usize::from(model.keys.remove(KEYS[*k]).is_some());
            assert_eq!(a.del(&[KEYS[*k]])?, want, "{ctx}");
            return Ok(());
        }
        Op::Set(k, v) => {
            a.set(KEYS[*k], &v.0, SetOptions::default())?;
            let v = MValue::Str(v.0.clone());
            model.keys.insert(KEYS[*k].to_vec(), v);
            return Ok(());
        }
        Op::HSet(k, _) | Op::SAdd(k) => {
            let key = KEYS[*k];
            let (got, new) = match op {
                Op::HSet(_, v) => (a.hset(key, &[(b"f", &v.0)]), MValue::Hash(v.0.clone())),
                _ => (a.sadd(key, &[b"m"]), MValue::Set),
            };
            let same = |old: &MValue| std::mem::discriminant(old) == std::mem::discriminant(&new);
            let want = match model.keys.get(key) {
                None => Ok(1),
                Some(old) if same(old) => Ok(0),
                Some(_) => Err(Error::WrongType),
            };
            if want.is_ok() {
                model.keys.insert(key.to_vec(), new);
            }
            assert_eq!(got, want, "{ctx}");
        }
        Op::Limit(_) => return Err("Limit is the caller's to run".into()),
    }
    let after = lists(model);
    seen.emptied += (0..KEYS.len()).filter(|&k| before[k] && !after[k]).count();
    Ok(())
}

/// Every key's EXISTS, TYPE, OBJECT ENCODING, LLEN, LRANGE and LINDEX at
/// both ends against the model; every list command refused on another
/// type.
fn check_all(db: &Db, model: &Model, seen: &mut Seen, ctx: &str) -> TestResult {
    for key in KEYS {
        let ctx = format!("{ctx}; key {:?}", b(key));
        let value = model.keys.get(key);
        match value {
            // Every command on a missing key is compared with the model
            // by the random steps.
            None => assert_eq!(db.llen(key), Ok(0), "{ctx}: LLEN"),
            Some(MValue::List(l)) => {
                assert_eq!(db.llen(key), Ok(l.len()), "{ctx}: LLEN");
                same_list(&owned(db.lrange(key, 0, -1)?), l.iter(), &ctx);
                let ends = (l.front().cloned(), l.back().cloned());
                let at = |i| db.lindex(key, i).map(|v| v.map(|v| v.to_vec()));
                assert_eq!((at(0)?, at(-1)?), ends, "{ctx}: LINDEX 0, -1");
                assert_eq!(db.get(key), Err(Error::WrongType), "{ctx}: GET");
                assert_eq!(db.hlen(key), Err(Error::WrongType), "{ctx}: HLEN");
                assert_eq!(db.scard(key), Err(Error::WrongType), "{ctx}: SCARD");
                let encoding = db.encoding(key, |_| "string")?;
                assert_eq!(encoding, Some("quicklist"), "{ctx}: ENCODING");
                seen.most_len = seen.most_len.max(l.len());
                seen.long_held += usize::from(l.iter().any(|e| e.len() > 8192));
            }
            Some(_) => {
                seen.wrong_type += 1;
                let (l, r) = (End::Left, End::Right);
                let refused = [
                    ("LLEN", db.llen(key).map(drop)),
                    ("LRANGE", db.lrange(key, 0, -1).map(drop)),
                    ("LINDEX", db.lindex(key, 0).map(drop)),
                    ("LPUSH", db.push(key, End::Left, &[b"x"], false).map(drop)),
                    ("RPUSHX", db.push(key, End::Right, &[b"x"], true).map(drop)),
                    ("RPOP", db.pop(key, End::Right, 1).map(drop)),
                    ("LSET", db.lset(key, 0, b"x")),
                    ("LINSERT", db.linsert(key, true, b"a", b"x").map(drop)),
                    ("LREM", db.lrem(key, 0, b"a").map(drop)),
                    ("LTRIM", db.ltrim(key, 1, 0)),
                    ("LPOS", db.lpos(key, b"a", po(-1, Some(0), 0)).map(drop)),
                    ("LMOVE", db.lmove(key, b"none", l, r).map(drop)),
                    ("LMPOP", db.lmpop(&[b"none", key], r, 1).map(drop)),
                ];
                for (name, r) in refused {
                    assert_eq!(r, Err(Error::WrongType), "{ctx}: {name}");
                }
            }
        }
        // Checked after the refused commands: they changed nothing.
        let kind = match value {
            None => None,
            Some(MValue::Str(v)) => {
                assert_eq!(db.get(key)?.as_deref(), Some(&v[..]), "{ctx}");
                Some(ValueType::String)
            }
            Some(MValue::Hash(v)) => {
                assert_eq!(db.hget(key, b"f")?.as_deref(), Some(&v[..]), "{ctx}");
                Some(ValueType::Hash)
            }
            Some(MValue::Set) => Some(ValueType::Set),
            Some(MValue::List(_)) => Some(ValueType::List),
        };
        let exists = usize::from(value.is_some());
        assert_eq!(db.exists(&[key])?, exists, "{ctx}: EXISTS");
        assert_eq!(db.key_type(key)?, kind, "{ctx}: TYPE");
    }
    Ok(())
}

/// `steps` random operations of `gen` on `db` and `model`, now and then in
/// a batch, checking every key after each.
fn run(db: &Db, model: &mut Model, gen: &mut Gen, steps: usize, seen: &mut Seen) -> TestResult {
    for step in 0..steps {
        let op = gen.op(model);
        let in_batch = gen.rng.u32(0..4) == 0;
        let how = if in_batch { " (in a batch)" } else { "" };
        let ctx = format!("{}, step {step}{how}: {op:?}", gen.label);
        match &op {
            Op::Limit(n) => db.set_limits(limits(*n)),
            _ if in_batch => {
                seen.in_batch += 1;
                db.atomically(&KEYS, |tx| apply(tx, model, &op, seen, &ctx))?;
            }
            _ => apply(db, model, &op, seen, &ctx)?,
        }
        check_all(db, model, seen, &ctx)?;
    }
    Ok(())
}

/// Six seeds of `steps` each, starting at chunk limit `first` and
/// switching between `limits`; each seed grows its first key to `target`.
fn run_seeds(first: i64, limits: &'static [i64], target: usize, steps: usize) -> TestResult {
    let mut seen = Seen::default();
    for seed in 1..=6 {
        let db = Db::default();
        db.set_limits(self::limits(first));
        let mut gen = Gen::new(seed, target, limits);
        seen.most_len = 0;
        run(&db, &mut Model::default(), &mut gen, steps, &mut seen)?;
        assert!(seen.most_len >= target, "seed {seed}: {seen:?}");
    }
    seen.assert_reached(steps * 6, target);
    Ok(())
}

#[test]
fn random_list_operations_in_tiny_chunks_match_a_model() -> TestResult {
    // 1 to 3 elements a chunk, changed on the fly: chunks filled at one
    // limit are changed at another.
    run_seeds(2, &[1, 2, 3, 2], 200, 4000)
}

#[test]
fn random_list_operations_in_default_chunks_match_a_model() -> TestResult {
    run_seeds(ChunkLimit::default().0, &[], 1200, 4000)
}

// ---------------------------------------------------------------------
// A long list, and restarts.

/// A data directory of its own, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let name = format!("tandem-lists-model-{}-{name}", std::process::id());
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&path);
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn open(
    dir: &Path,
    chunk: i64,
) -> Result<(Store, tandem_engine::Recovery), Box<dyn std::error::Error>> {
    let db = Db::default();
    db.set_limits(limits(chunk));
    Ok(Store::open(dir, StoreOptions::default(), vec![db])?)
}

/// The long list's `i`-th element: mostly short, some of a few hundred
/// bytes, a few longer than a chunk, some empty.
fn long_list_element(i: usize) -> Vec<u8> {
    if i.is_multiple_of(2003) {
        filled(&format!("L{i}-"), 9_000 + i % 7)
    } else if i.is_multiple_of(101) {
        filled(&format!("m{i}-"), 300)
    } else if i.is_multiple_of(499) {
        Vec::new()
    } else {
        format!("e{i}").into_bytes()
    }
}

/// LLEN, LINDEX at both ends, the middle, at random and past the ends,
/// and LRANGE windows of `key` against `want`.
fn check_long(db: &Db, key: &[u8], want: &MList, rng: &mut fastrand::Rng, ctx: &str) -> TestResult {
    let (n, ni) = (want.len(), want.len() as i64);
    assert_eq!(db.llen(key)?, n, "{ctx}: LLEN");
    let mut indexes: Vec<i64> = (0..60).chain(ni - 60..ni + 3).collect();
    indexes.extend((-ni - 3..-ni + 60).chain(-60..0));
    indexes.extend([ni / 2 - 1, ni / 2, ni / 2 + 1, i64::MIN, i64::MAX]);
    indexes.extend((0..600).map(|_| rng.i64(-ni..ni)));
    for i in indexes {
        let got = db.lindex(key, i)?.map(|v| v.to_vec());
        let expect = index_of(i, n).map(|i| &want[i]);
        assert_eq!(got.as_ref(), expect, "{ctx}: LINDEX {i}");
    }
    let mut windows = vec![(0, -1), (-ni - 9, ni + 9), (ni - 5, ni + 5), (-3, -1)];
    for _ in 0..200 {
        let start = rng.i64(-ni - 5..ni + 5);
        let stop = match rng.bool() {
            true => start + rng.i64(0..300),
            false => rng.i64(-ni - 5..ni + 5),
        };
        windows.push((start, stop));
    }
    for (start, stop) in windows {
        let got = owned(db.lrange(key, start, stop)?);
        let (s, e) = range_of(start, stop, n).unwrap_or((1, 0));
        let ctx = format!("{ctx}: LRANGE {start} {stop}");
        let expect = want.iter().skip(s).take((e + 1).saturating_sub(s));
        same_list(&got, expect, &ctx);
    }
    Ok(())
}

#[test]
fn a_list_of_20000_elements_reads_like_the_model_and_survives_restarts() -> TestResult {
    // Built and changed at one limit, loaded at another.
    for (build, load) in [(-2, 3), (3, -5), (2, -2)] {
        let ctx = format!("chunks {build}, then {load}");
        let dir = TempDir::new(&format!("long{build}"));
        let (store, _) = open(dir.path(), build)?;
        let db = store.db(0).ok_or("no db 0")?;
        let mut rng = fastrand::Rng::with_seed(build.unsigned_abs());
        let mut want = MList::new();
        while want.len() < 20_000 {
            let i = want.len();
            let values: Vec<Vec<u8>> = (i..20_000.min(i + rng.usize(1..=400)))
                .map(long_list_element)
                .collect();
            let end = [End::Left, End::Right][rng.usize(0..2)];
            let refs: Vec<&[u8]> = values.iter().map(Vec::as_slice).collect();
            let len = db.push(b"long", end, &refs, false)?;
            values.into_iter().for_each(|v| push_at(&mut want, end, v));
            assert_eq!(len, want.len(), "{ctx}");
        }
        check_long(db, b"long", &want, &mut rng, &format!("{ctx}: built"))?;
        store.close()?;
        drop(store);

        // Through the log alone.
        let (store, recovery) = open(dir.path(), build)?;
        assert_eq!(recovery.snapshot, None, "{ctx}");
        let db = store.db(0).ok_or("no db 0")?;
        check_long(db, b"long", &want, &mut rng, &format!("{ctx}: reloaded"))?;

        // A snapshot, then changes in the middle and at the ends.
        store.snapshot()?;
        // LINSERT after and before the first match of a pivot.
        let mid = want[10_000].clone();
        let first = want.iter().position(|e| *e == mid).ok_or("no pivot")?;
        assert_eq!(db.linsert(b"long", false, &mid, b"after")?, 20_001);
        want.insert(first + 1, b"after".to_vec());
        assert_eq!(db.linsert(b"long", true, b"", b"before")?, 20_002);
        let first = want.iter().position(|e| e.is_empty()).ok_or("no empty")?;
        want.insert(first, b"before".to_vec());
        db.lset(b"long", -7_000, b"set")?;
        let at = want.len() - 7_000;
        want[at] = b"set".to_vec();
        let gone = owned(db.pop(b"long", End::Left, 150)?.ok_or("no list")?);
        same_list(&gone, want.drain(..150).collect::<Vec<_>>().iter(), &ctx);
        assert_eq!(db.lrem(b"long", -2, b"")?, 2, "{ctx}");
        lrem(&mut want, -2, b"");
        db.ltrim(b"long", 3, -4)?;
        want.truncate(want.len() - 3);
        want.drain(..3);
        let pos = want.iter().position(|e| e == b"e12345");
        let found = db.lpos(b"long", b"e12345", po(-1, None, 0))?;
        assert_eq!(found, pos.map(|p| vec![p]), "{ctx}: LPOS");
        check_long(db, b"long", &want, &mut rng, &format!("{ctx}: changed"))?;
        store.close()?;
        drop(store);

        let (store, recovery) = open(dir.path(), load)?;
        assert!(recovery.snapshot.is_some(), "{recovery:?}");
        assert!(recovery.log_records > 0, "{recovery:?}");
        let db = store.db(0).ok_or("no db 0")?;
        check_long(db, b"long", &want, &mut rng, &format!("{ctx}: loaded"))?;
        let rest = db.pop(b"long", End::Right, usize::MAX)?.ok_or("no list")?;
        same_list(&owned(rest), want.iter().rev(), &format!("{ctx}: RPOP all"));
        assert_eq!(db.key_type(b"long")?, None, "{ctx}");
        store.close()?;
    }
    Ok(())
}

#[test]
fn random_lists_survive_restarts_through_the_log_and_a_snapshot() -> TestResult {
    let dir = TempDir::new("restart");
    let (mut model, mut gen) = (Model::default(), Gen::new(7, 150, &[]));
    let mut seen = Seen::default();
    let ttl = [&b""[..], b"z", &[b'q'; 10_000]];
    // Loaded at one chunk limit, changed at another.
    for (round, chunk) in [3, -2, 1, 2].into_iter().enumerate() {
        let ctx = format!("round {round}, chunks {chunk}");
        let (store, recovery) = open(dir.path(), chunk)?;
        assert_eq!(recovery.snapshot.is_some(), round >= 2, "{ctx}");
        assert_eq!(recovery.log_records > 0, round > 0, "{ctx}");
        let db = store.db(0).ok_or("no db 0")?;
        check_all(db, &model, &mut seen, &ctx)?;
        if round == 0 {
            // A list with a deadline, of an empty and a long element.
            db.push(b"ttl", End::Right, &ttl, false)?;
            db.expire(b"ttl", Expiry::Millis(3_600_000), ExpireCondition::Always)?;
        }
        let got = owned(db.lrange(b"ttl", 0, -1)?);
        same_list(&got, ttl.map(<[u8]>::to_vec).iter(), &ctx);
        assert!(db.ttl(b"ttl")? > 3_000, "{ctx}: the deadline");
        if round == 1 {
            store.snapshot()?;
        }
        if round < 3 {
            run(db, &mut model, &mut gen, 400, &mut seen)?;
        }
        store.close()?;
    }
    Ok(())
}

// ---------------------------------------------------------------------
// One by one.

fn texts(v: Vec<Bytes>) -> Vec<String> {
    v.iter().map(|e| e.escape_ascii().to_string()).collect()
}

#[test]
fn redis_examples_wrongtype_rules_and_expired_keys_one_by_one() -> TestResult {
    let clock = Arc::new(ManualClock::new(1_000_000));
    let db = Db::new(Options::default().clock(clock.clone()));
    db.set_limits(limits(2));
    let (l, r) = (End::Left, End::Right);
    let all = |key: &[u8]| db.lrange(key, 0, -1).map(texts);
    // LPUSH pushes one after another: a b c reads c b a.
    assert_eq!(db.push(b"l", l, &[b"a", b"b", b"c"], false)?, 3);
    assert_eq!(db.push(b"l", r, &[b"d", b"e"], true)?, 5);
    assert_eq!(all(b"l")?, ["c", "b", "a", "d", "e"]);

    // LPOS, as in Redis's documentation; LINSERT at the first pivot.
    let p: [&[u8]; 8] = [b"a", b"b", b"c", b"1", b"2", b"3", b"c", b"c"];
    db.push(b"p", r, &p, false)?;
    let pos = |rank, count, maxlen| db.lpos(b"p", b"c", po(rank, count, maxlen));
    assert_eq!(pos(1, None, 0)?, Some(vec![2]));
    assert_eq!(pos(2, None, 0)?, Some(vec![6]));
    assert_eq!(pos(-1, None, 0)?, Some(vec![7]));
    assert_eq!(pos(1, Some(2), 0)?, Some(vec![2, 6]));
    assert_eq!(pos(-1, Some(2), 0)?, Some(vec![7, 6]));
    assert_eq!(pos(1, Some(0), 0)?, Some(vec![2, 6, 7]));
    assert_eq!(pos(1, Some(0), 2)?, Some(vec![]));
    assert_eq!(pos(-2, Some(0), 3)?, Some(vec![6]));
    assert_eq!(db.linsert(b"p", true, b"c", b"X")?, 9);
    assert_eq!(db.linsert(b"p", false, b"c", b"Y")?, 10);
    let want = ["a", "b", "X", "c", "Y", "1", "2", "3", "c", "c"];
    assert_eq!(all(b"p")?, want);

    // LMOVE: a missing source answers nil whatever the destination holds;
    // LMPOP: the first key that exists must hold a list.
    db.push(b"src", r, &[b"1", b"2", b"3"], false)?;
    db.set(b"str", b"v", SetOptions::default())?;
    assert_eq!(db.lmove(b"missing", b"str", l, l), Ok(None));
    assert_eq!(db.lmove(b"src", b"str", l, l), Err(Error::WrongType));
    let refused = db.lmpop(&[b"missing", b"str", b"src"], l, 1);
    assert_eq!(refused, Err(Error::WrongType));
    let popped = db.lmpop(&[b"missing", b"src", b"str"], r, 2)?;
    let popped = popped.map(|(k, v)| (k.escape_ascii().to_string(), texts(v)));
    assert_eq!(popped, Some(("src".into(), vec!["3".into(), "2".into()])));

    // An expired list is no list; an expired string no WRONGTYPE.
    for key in [&b"p"[..], b"str"] {
        db.expire(key, Expiry::Millis(10), ExpireCondition::Always)?;
    }
    clock.advance(20);
    assert_eq!(db.llen(b"p")?, 0);
    assert_eq!(db.lpos(b"p", b"c", po(1, Some(0), 0))?, None);
    assert_eq!(db.push(b"p", l, &[b"x"], true)?, 0);
    assert_eq!(db.lset(b"p", 0, b"x"), Err(Error::NoSuchKey));
    assert_eq!(db.lmove(b"p", b"src", l, l)?, None);
    let popped = db.lmpop(&[b"p", b"str", b"src"], l, 1)?;
    assert_eq!(popped.map(|(_, v)| texts(v)), Some(vec!["1".into()]));
    db.push(b"src", r, &[b"z"], false)?;
    assert_eq!(db.lmove(b"src", b"str", l, r)?.as_deref(), Some(&b"z"[..]));
    // New lists, without the old deadlines.
    assert_eq!(db.push(b"p", r, &[b"new"], false)?, 1);
    assert_eq!([all(b"p")?, all(b"str")?], [["new"], ["z"]]);
    assert_eq!((db.ttl(b"p")?, db.ttl(b"str")?), (-1, -1));
    Ok(())
}
