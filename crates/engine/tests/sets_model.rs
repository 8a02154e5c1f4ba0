//! Sets against a reference model, across a restart, and under WATCH.
//!
//! - Random SADD, SREM, SMISMEMBER, SRANDMEMBER, SPOP, SSCAN, SINTER,
//!   SUNION, SDIFF, SINTERCARD, their `*STORE` forms, SMOVE, DEL, SET,
//!   HSET and GET sequences on a few keys, for fixed seeds, run on the
//!   `Db` and now and then inside a batch (`Tx`), must answer as a plain
//!   model does. After every step each key's SCARD, SMEMBERS, EXISTS,
//!   TYPE and OBJECT ENCODING match the model: an emptied set does not
//!   exist; strings, hashes and sets answer WRONGTYPE to each other's
//!   commands (a multi-key command checks every source key, a missing one
//!   counting as an empty set); a set is an `intset`, SMEMBERS in
//!   ascending numeric order, while it has held only integers in Redis's
//!   strict form (`string2ll`) and never gained one past
//!   `set-max-intset-entries`, and a `hashtable` for good after that,
//!   compared as a set; a `*STORE` result is built fresh. One run keeps
//!   Redis's default of 512 and grows a set past it; another uses small
//!   limits changed on the fly (`Db::set_set_intset_entries`). A hash
//!   table's order is the engine's own, so what SPOP takes from one, and
//!   all that follows, varies between runs of a seed: the checks that the
//!   seeds reached what they are for allow for it.
//! - The thresholds one by one (512 integers, the 513th, the strict
//!   integer syntax, SMOVE and the `*STORE` forms, a changed limit), and
//!   SMOVE's and the multi-key commands' WRONGTYPE rules; a key past its
//!   deadline is no set and no WRONGTYPE to any of them.
//! - A full SSCAN of a 5000-member set returns each member present
//!   throughout exactly once while others come and go between its steps;
//!   SRANDMEMBER and SPOP take the positions asked, in SMEMBERS' order
//!   (SRANDMEMBER with repeats).
//! - Sets small and big, intset and hashtable, binary, with a deadline,
//!   survive a restart of a durable `Store` through the log alone, and
//!   through a snapshot followed by more changes, with their encodings,
//!   except that they load by the limit of the moment, as Redis loads
//!   them: a hash table of a few integers comes back an intset.
//! - A set command that fails, or changes nothing, leaves the key's WATCH
//!   version alone; one that writes gives it a new one.
//!
//! The model shares no code with the engine: its integer syntax is
//! Redis's `string2ll`, written out here.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tandem_engine::clock::ManualClock;
use tandem_engine::prelude::*;
use tandem_engine::{Bytes, Store, StoreOptions, ValueType};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Redis's `set-max-intset-entries` default.
const INTSET_ENTRIES: usize = 512;

/// The model test's keys; the first one is the one grown past the limit.
const KEYS: [&[u8]; 5] = [b"big", b"s1", b"s2", b"s\x00bin", b"s4"];

/// Bytes shown escaped in failure messages.
#[derive(Clone, PartialEq, Eq)]
struct B(Vec<u8>);

impl fmt::Debug for B {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.0.escape_ascii())
    }
}

fn b(s: impl AsRef<[u8]>) -> B {
    B(s.as_ref().to_vec())
}

/// Redis's `string2ll`: an optional `-`, digits without a leading zero (a
/// lone `0` is fine), within `i64`.
fn redis_int(v: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(v).ok()?;
    if s == "0" {
        return Some(0);
    }
    let digits = s.strip_prefix('-').unwrap_or(s);
    let mut chars = digits.chars();
    let first_ok = matches!(chars.next(), Some('1'..='9'));
    if !first_ok || !chars.all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The model of one set: its members, and whether it has become a hash
/// table (for good).
#[derive(Debug, Clone, Default)]
struct MSet {
    members: BTreeSet<Vec<u8>>,
    table: bool,
}

impl MSet {
    /// A set built at once from `members`, as a `*STORE` result or a set
    /// loaded from disk is: an intset if they are all integers and no more
    /// than `limit`.
    fn fresh(members: BTreeSet<Vec<u8>>, limit: usize) -> Self {
        let table = members.len() > limit || members.iter().any(|m| redis_int(m).is_none());
        MSet { members, table }
    }

    /// Adds `member`; true if it is new. A member that is not an integer,
    /// or one more past `limit`, makes it a hash table.
    fn insert(&mut self, member: &[u8], limit: usize) -> bool {
        if self.members.contains(member) {
            return false;
        }
        if redis_int(member).is_none() || self.members.len() >= limit {
            self.table = true;
        }
        self.members.insert(member.to_vec());
        true
    }

    fn remove(&mut self, member: &[u8]) -> bool {
        self.members.remove(member)
    }

    fn encoding(&self) -> &'static str {
        if self.table {
            "hashtable"
        } else {
            "intset"
        }
    }

    /// The members sorted by their bytes, borrowed.
    fn sorted(&self) -> Vec<&[u8]> {
        self.members.iter().map(Vec::as_slice).collect()
    }

    /// An intset's SMEMBERS order: ascending by value.
    fn ascending(&self) -> Vec<&[u8]> {
        ascending(self.members.iter().map(Vec::as_slice))
    }
}

/// Integers ascending by value (anything else last, by bytes).
fn ascending<'a>(members: impl Iterator<Item = &'a [u8]>) -> Vec<&'a [u8]> {
    let mut v: Vec<(Option<i64>, &[u8])> = members.map(|m| (redis_int(m), m)).collect();
    v.sort_unstable_by(|x, y| match (x.0, y.0) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => x.1.cmp(y.1),
    });
    v.into_iter().map(|(_, m)| m).collect()
}

#[derive(Debug, Clone)]
enum MValue {
    Str(Vec<u8>),
    /// A hash of one field, `f`, holding this value.
    Hash(Vec<u8>),
    Set(MSet),
}

#[derive(Debug)]
struct Model {
    keys: HashMap<Vec<u8>, MValue>,
    /// `set-max-intset-entries` as set now.
    limit: usize,
}

impl Model {
    fn new(limit: usize) -> Self {
        Model {
            keys: HashMap::new(),
            limit,
        }
    }

    /// The set at `key` (`None`: no key), `WrongType` for another type.
    fn set(&self, key: &[u8]) -> Result<Option<&MSet>, Error> {
        match self.keys.get(key) {
            None => Ok(None),
            Some(MValue::Set(s)) => Ok(Some(s)),
            Some(_) => Err(Error::WrongType),
        }
    }

    /// Runs `f` on the set at `key` (an empty one if there is none) and
    /// stores what it leaves, unless that is empty: an empty set does not
    /// exist. `WrongType` for another type, without calling `f`.
    fn change<R>(&mut self, key: &[u8], f: impl FnOnce(&mut MSet) -> R) -> Result<R, Error> {
        let mut s = self.set(key)?.cloned().unwrap_or_default();
        let r = f(&mut s);
        if s.members.is_empty() {
            self.keys.remove(key);
        } else {
            self.keys.insert(key.to_vec(), MValue::Set(s));
        }
        Ok(r)
    }

    /// SINTER, SUNION or SDIFF of `keys`; `WrongType` if any of them holds
    /// another type, a missing one being an empty set.
    fn combine(&self, op: SetAlgebra, keys: &[&[u8]]) -> Result<BTreeSet<Vec<u8>>, Error> {
        let sets = keys
            .iter()
            .map(|k| self.set(k))
            .collect::<Result<Vec<_>, _>>()?;
        let members = |s: Option<&MSet>| s.map(|s| s.members.clone()).unwrap_or_default();
        let Some((&first, rest)) = sets.split_first() else {
            return Ok(BTreeSet::new());
        };
        let mut out = members(first);
        match op {
            SetAlgebra::Inter => {
                for s in rest {
                    out.retain(|m| s.is_some_and(|s| s.members.contains(m)));
                }
            }
            SetAlgebra::Union => {
                for s in rest {
                    out.extend(members(*s));
                }
            }
            SetAlgebra::Diff => {
                for s in rest.iter().flatten() {
                    out.retain(|m| !s.members.contains(m));
                }
            }
        }
        Ok(out)
    }

    /// SMOVE, as Redis's `smoveCommand` checks: a missing source answers
    /// false whatever the destination; then both types; then membership.
    fn smove(&mut self, src: &[u8], dst: &[u8], member: &[u8]) -> Result<bool, Error> {
        let Some(from) = self.set(src)? else {
            return Ok(false);
        };
        let found = from.members.contains(member);
        self.set(dst)?;
        if src == dst || !found {
            return Ok(found);
        }
        let limit = self.limit;
        self.change(src, |s| s.remove(member))?;
        self.change(dst, |s| s.insert(member, limit))?;
        Ok(true)
    }
}

#[derive(Debug, Clone)]
enum Op {
    SAdd(usize, Vec<B>),
    SRem(usize, Vec<B>),
    SMIsMember(usize, Vec<B>),
    /// SRANDMEMBER of these positions (taken modulo the set's size).
    SRandMember(usize, Vec<usize>),
    /// SPOP of these positions (taken modulo the set's size, repeats
    /// dropped, as SPOP never answers a member twice), or of every member.
    SPop(usize, Vec<usize>, bool),
    /// A whole SSCAN, this many at a step.
    SScan(usize, usize),
    Combine(SetAlgebra, Vec<usize>),
    SInterCard(Vec<usize>, usize),
    CombineStore(SetAlgebra, usize, Vec<usize>),
    SMove(usize, usize, B),
    Del(usize),
    Set(usize, B),
    HSet(usize, B),
    Get(usize),
    /// `Db::set_set_intset_entries`.
    Limit(usize),
}

/// Members that are integers in Redis's strict form, at the edges too.
const INTS: [&str; 10] = [
    "0",
    "1",
    "2",
    "-1",
    "-5",
    "42",
    "100",
    "9223372036854775807",
    "-9223372036854775808",
    "-9223372036854775807",
];

/// Members that only look like integers, and plain text.
const NOT_INTS: [&str; 20] = [
    "007",
    "+3",
    "-0",
    " 1",
    "1 ",
    "1.5",
    "",
    "abc",
    "9223372036854775808",
    "-9223372036854775809",
    "0x10",
    "\0",
    "-",
    "99999999999999999999",
    "00",
    "01",
    "a",
    "b",
    "c",
    "1e3",
];

/// Binary members.
const BINARY: [&[u8]; 6] = [b"\x00\xff", b"\xff", b"1\x00", b"-\n", b"\n", b"\x001"];

/// Every member of the small keys that is not an integer.
fn not_ints() -> Vec<B> {
    let text = NOT_INTS.iter().map(|m| m.as_bytes());
    text.chain(BINARY).map(b).collect()
}

/// Random operations, shaped so that the first key grows past the limit
/// (as an intset first, unless `text_on_big`) and the others stay small,
/// the second of mostly integers, the others mixed.
struct Gen {
    rng: fastrand::Rng,
    /// The integers the first key draws from: more than the limit.
    big_pool: i64,
    /// Whether the first key gets members that are not integers too (when
    /// it does not, it crosses the limit as an intset).
    text_on_big: bool,
    /// Limits to switch between, if any.
    limits: &'static [usize],
}

impl Gen {
    fn key(&mut self) -> usize {
        if self.rng.u32(0..100) < 50 {
            0
        } else {
            self.rng.usize(1..KEYS.len())
        }
    }

    /// A key for a command that wipes it: rarely the first.
    fn rare_key(&mut self) -> usize {
        if self.rng.u32(0..20) == 0 {
            0
        } else {
            self.rng.usize(1..KEYS.len())
        }
    }

    fn keys(&mut self) -> Vec<usize> {
        let n = self.rng.usize(1..=3);
        (0..n).map(|_| self.key()).collect()
    }

    fn member(&mut self, k: usize) -> B {
        let r = self.rng.u32(0..100);
        if k == 0 {
            if self.text_on_big && r == 0 {
                return b(NOT_INTS[self.rng.usize(0..NOT_INTS.len())]);
            }
            if r < 3 {
                return b(INTS[self.rng.usize(0..INTS.len())]);
            }
            let half = self.big_pool / 2;
            return b(self.rng.i64(-half..self.big_pool - half).to_string());
        }
        if k == 1 && r < 97 {
            // Mostly integers: an intset that grows past small limits.
            return if r < 30 {
                b(INTS[self.rng.usize(0..INTS.len())])
            } else {
                b(self.rng.i64(-20..=20).to_string())
            };
        }
        match r {
            0..=39 => b(INTS[self.rng.usize(0..INTS.len())]),
            40..=59 => b(self.rng.i64(-8..=8).to_string()),
            60..=84 => b(NOT_INTS[self.rng.usize(0..NOT_INTS.len())]),
            _ => b(BINARY[self.rng.usize(0..BINARY.len())]),
        }
    }

    fn members(&mut self, k: usize, most: usize) -> Vec<B> {
        let n = self.rng.usize(1..=most);
        (0..n).map(|_| self.member(k)).collect()
    }

    fn value(&mut self) -> B {
        if self.rng.bool() {
            b(self.rng.i64(-5..=5).to_string())
        } else {
            b(format!("v{}", self.rng.u32(0..100)))
        }
    }

    fn algebra(&mut self) -> SetAlgebra {
        [SetAlgebra::Inter, SetAlgebra::Union, SetAlgebra::Diff][self.rng.usize(0..3)]
    }

    fn positions(&mut self, most: usize) -> Vec<usize> {
        let n = self.rng.usize(0..=most);
        (0..n).map(|_| self.rng.usize(0..10_000)).collect()
    }

    /// The next operation. `fill` is the first key's set while it is an
    /// intset, and how many more integers it takes before the limit: for
    /// SADDs that fill it to the limit exactly, before one goes past.
    fn op(&mut self, fill: Option<(&MSet, usize)>) -> Op {
        let r = self.rng.u32(0..1000);
        if r >= 985 {
            // The first key is never made a string or a hash: it would
            // stay one until a DEL, which it rarely sees.
            return match r {
                985..=989 => Op::Del(self.rare_key()),
                990..=994 => Op::Set(self.rng.usize(1..KEYS.len()), self.value()),
                _ => Op::HSet(self.rng.usize(1..KEYS.len()), self.value()),
            };
        }
        if r >= 980 && !self.limits.is_empty() {
            return Op::Limit(self.limits[self.rng.usize(0..self.limits.len())]);
        }
        let k = self.key();
        match r {
            0..=249 | 900..=979 => {
                // Big SADDs on the first key, for it to cross the limit
                // between two of its rare DELs or `*STORE`s; near the limit,
                // ones that fill an intset to it exactly.
                if let (0, Some((set, room @ 1..=80))) = (k, fill) {
                    let mut members: Vec<B> = Vec::new();
                    for _ in 0..10_000 {
                        if members.len() == room {
                            break;
                        }
                        let m = self.member(0);
                        if !set.members.contains(&m.0) && !members.contains(&m) {
                            members.push(m);
                        }
                    }
                    return Op::SAdd(0, members);
                }
                let most = if k == 0 { 80 } else { 4 };
                let mut members = self.members(k, most);
                if self.rng.u32(0..10) == 0 {
                    // The same member twice in one SADD: counted once.
                    members.push(members[0].clone());
                }
                Op::SAdd(k, members)
            }
            250..=379 => {
                if k != 0 && self.rng.u32(0..8) == 0 {
                    // Every text member at once: a hash table of integers
                    // left, which stays one.
                    return Op::SRem(k, not_ints());
                }
                let most = if k == 0 { 8 } else { 4 };
                Op::SRem(k, self.members(k, most))
            }
            380..=449 => Op::SMIsMember(k, self.members(k, 5)),
            450..=499 => Op::SRandMember(k, self.positions(6)),
            500..=549 => {
                let all = k != 0 && self.rng.u32(0..8) == 0;
                Op::SPop(k, self.positions(4), all)
            }
            550..=589 => Op::SScan(k, self.rng.usize(1..=40)),
            590..=669 => Op::Combine(self.algebra(), self.keys()),
            670..=699 => Op::SInterCard(self.keys(), self.rng.usize(0..=3)),
            700..=779 => {
                let dst = if self.rng.u32(0..50) == 0 {
                    0
                } else {
                    self.rng.usize(1..KEYS.len())
                };
                Op::CombineStore(self.algebra(), dst, self.keys())
            }
            780..=879 => {
                let member = if self.rng.bool() {
                    self.member(k)
                } else {
                    let other = self.rng.usize(1..KEYS.len());
                    self.member(other)
                };
                // Into the first key only when it may hold text.
                let dst = if self.text_on_big {
                    self.rng.usize(0..KEYS.len())
                } else {
                    self.rng.usize(1..KEYS.len())
                };
                Op::SMove(k, dst, member)
            }
            _ => Op::Get(k),
        }
    }
}

/// What the model test saw, to check the seeds reached what they are for.
#[derive(Debug, Default)]
struct Seen {
    /// The most members an intset had, and any set had.
    most_intset: usize,
    most_members: usize,
    /// Hash tables holding only integers, no more than the limit: they
    /// converted once and did not convert back.
    int_tables: usize,
    /// SMEMBERS compared in order, on intsets of 2 members or more.
    ordered: usize,
    wrong_type: usize,
    /// Keys removed by SREM, SPOP or SMOVE of their last member.
    emptied: usize,
    /// `*STORE`s replacing a string or a hash; intsets stored from a
    /// hash-table source.
    replaced_other: usize,
    fresh_intsets: usize,
    /// SMOVEs that moved a member between two keys.
    moved: usize,
    /// SRANDMEMBER answers with a member twice.
    repeats: usize,
    /// Whole SSCANs of a hash table that took more than one step.
    scans: usize,
    /// Steps run inside a batch.
    in_batch: usize,
}

fn owned(v: Vec<Bytes>) -> Vec<Vec<u8>> {
    v.into_iter().map(|b| b.to_vec()).collect()
}

fn refs(members: &[B]) -> Vec<&[u8]> {
    members.iter().map(|m| m.0.as_slice()).collect()
}

fn key_refs(ks: &[usize]) -> Vec<&'static [u8]> {
    ks.iter().map(|&k| KEYS[k]).collect()
}

/// SPOP's positions for a set of `n`: `raw` modulo `n`, repeats dropped,
/// or every position (in an order of its own) for `all`.
fn spop_positions(raw: &[usize], all: bool, n: usize) -> Vec<usize> {
    if all {
        return (0..n).rev().collect();
    }
    let mut out = Vec::new();
    for p in raw.iter().map(|r| r % n.max(1)) {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// Runs `op` on `a` (the `Db` or a batch over every key) and on `model`,
/// comparing the answers.
fn apply<A: Sets + KeyValue + Hashes>(
    a: &A,
    model: &mut Model,
    op: &Op,
    seen: &mut Seen,
    ctx: &str,
) -> TestResult {
    let limit = model.limit;
    match op {
        Op::SAdd(k, members) => {
            let key = KEYS[*k];
            let want = model.change(key, |s| {
                members.iter().filter(|m| s.insert(&m.0, limit)).count()
            });
            if want.is_err() {
                seen.wrong_type += 1;
            }
            assert_eq!(a.sadd(key, &refs(members)), want, "{ctx}");
        }
        Op::SRem(k, members) => {
            let key = KEYS[*k];
            let existed = model.keys.contains_key(key);
            let want = model.change(key, |s| members.iter().filter(|m| s.remove(&m.0)).count());
            if existed && want.is_ok() && !model.keys.contains_key(key) {
                seen.emptied += 1;
            }
            assert_eq!(a.srem(key, &refs(members)), want, "{ctx}");
        }
        Op::SMIsMember(k, members) => {
            let key = KEYS[*k];
            let want = model.set(key).map(|s| {
                members
                    .iter()
                    .map(|m| s.is_some_and(|s| s.members.contains(&m.0)))
                    .collect::<Vec<_>>()
            });
            assert_eq!(a.smismember(key, &refs(members)), want, "{ctx}");
        }
        Op::SRandMember(k, raw) => {
            let key = KEYS[*k];
            // SMEMBERS itself is checked against the model after each step.
            let order = a.smembers(key);
            let size = Cell::new(None);
            let got = a.srandmember(key, |n| {
                size.set(Some(n));
                raw.iter().map(|r| r % n.max(1)).collect::<Vec<usize>>()
            });
            match model.set(key) {
                Err(e) => {
                    assert_eq!(got, Err(e), "{ctx}");
                    assert_eq!(size.get(), None, "{ctx}: pick called on another type");
                }
                Ok(None) => {
                    assert_eq!(got, Ok(None), "{ctx}");
                    assert_eq!(size.get(), None, "{ctx}: pick called for no key");
                }
                Ok(Some(s)) => {
                    let n = s.members.len();
                    assert_eq!(size.get(), Some(n), "{ctx}: the size given to pick");
                    let order = order?;
                    let want: Vec<Bytes> = raw.iter().map(|r| order[r % n].clone()).collect();
                    let distinct: HashSet<&Bytes> = want.iter().collect();
                    if distinct.len() < want.len() {
                        seen.repeats += 1;
                    }
                    assert_eq!(got, Ok(Some(want)), "{ctx}");
                }
            }
        }
        Op::SPop(k, raw, all) => {
            let key = KEYS[*k];
            let order = a.smembers(key);
            let size = Cell::new(None);
            let got = a.spop(key, |n| {
                size.set(Some(n));
                spop_positions(raw, *all, n)
            });
            match model.set(key).map(|s| s.map(|s| s.members.len())) {
                Err(e) => {
                    assert_eq!(got, Err(e), "{ctx}");
                    assert_eq!(size.get(), None, "{ctx}: pick called on another type");
                }
                Ok(None) => {
                    assert_eq!(got, Ok(None), "{ctx}");
                    assert_eq!(size.get(), None, "{ctx}: pick called for no key");
                }
                Ok(Some(n)) => {
                    assert_eq!(size.get(), Some(n), "{ctx}: the size given to pick");
                    let order = order?;
                    let want: Vec<Bytes> = spop_positions(raw, *all, n)
                        .into_iter()
                        .map(|p| order[p].clone())
                        .collect();
                    model.change(key, |s| {
                        for m in &want {
                            s.remove(m);
                        }
                    })?;
                    if !model.keys.contains_key(key) {
                        seen.emptied += 1;
                    }
                    assert_eq!(got, Ok(Some(want)), "{ctx}");
                }
            }
        }
        Op::SScan(k, count) => {
            let key = KEYS[*k];
            match model.set(key) {
                Err(e) => assert_eq!(a.sscan(key, 0, *count), Err(e), "{ctx}"),
                Ok(None) => assert_eq!(a.sscan(key, 0, *count), Ok((0, Vec::new())), "{ctx}"),
                Ok(Some(s)) => {
                    let mut all = Vec::new();
                    let mut cursor = 0;
                    let mut steps = 0;
                    loop {
                        let (next, page) = a.sscan(key, cursor, *count)?;
                        if !s.table {
                            // An intset answers whole, in order, as Redis's.
                            assert_eq!(next, 0, "{ctx}: an intset's SSCAN cursor");
                            let page: Vec<&[u8]> = page.iter().map(|m| &m[..]).collect();
                            assert_eq!(page, s.ascending(), "{ctx}: an intset's SSCAN");
                        }
                        all.extend(owned(page));
                        cursor = next;
                        steps += 1;
                        if cursor == 0 {
                            break;
                        }
                        if steps > 10_000 {
                            return Err(format!("{ctx}: SSCAN does not end").into());
                        }
                    }
                    if steps > 1 {
                        seen.scans += 1;
                    }
                    // Sorted, duplicates would show.
                    all.sort_unstable();
                    let all: Vec<&[u8]> = all.iter().map(Vec::as_slice).collect();
                    assert_eq!(all, s.sorted(), "{ctx}: a whole SSCAN");
                }
            }
        }
        Op::Combine(algebra, ks) => {
            let keys = key_refs(ks);
            let want = model
                .combine(*algebra, &keys)
                .map(|m| m.into_iter().collect::<Vec<_>>());
            let got = a.combine(*algebra, &keys).map(|v| {
                let mut v = owned(v);
                v.sort_unstable();
                v
            });
            if want.is_err() {
                seen.wrong_type += 1;
            }
            assert_eq!(got, want, "{ctx}");
        }
        Op::SInterCard(ks, most) => {
            let keys = key_refs(ks);
            let want = model.combine(SetAlgebra::Inter, &keys).map(|m| {
                if *most == 0 {
                    m.len()
                } else {
                    m.len().min(*most)
                }
            });
            assert_eq!(a.sintercard(&keys, *most), want, "{ctx}");
        }
        Op::CombineStore(algebra, dst, ks) => {
            let keys = key_refs(ks);
            let dst = KEYS[*dst];
            let got = a.combine_store(*algebra, dst, &keys);
            let want = model.combine(*algebra, &keys).map(|members| {
                let n = members.len();
                let from_table = keys
                    .iter()
                    .any(|k| model.set(k).ok().flatten().is_some_and(|s| s.table));
                match model.keys.get(dst) {
                    None | Some(MValue::Set(_)) => {}
                    Some(_) if n > 0 => seen.replaced_other += 1,
                    Some(_) => {}
                }
                if n == 0 {
                    model.keys.remove(dst);
                } else {
                    let s = MSet::fresh(members, limit);
                    if !s.table && from_table {
                        seen.fresh_intsets += 1;
                    }
                    model.keys.insert(dst.to_vec(), MValue::Set(s));
                }
                n
            });
            assert_eq!(got, want, "{ctx}");
        }
        Op::SMove(src, dst, member) => {
            let (src, dst) = (KEYS[*src], KEYS[*dst]);
            let want = model.smove(src, dst, &member.0);
            if want == Ok(true) && src != dst {
                seen.moved += 1;
                if !model.keys.contains_key(src) {
                    seen.emptied += 1;
                }
            }
            assert_eq!(a.smove(src, dst, &member.0), want, "{ctx}");
        }
        Op::Del(k) => {
            let key = KEYS[*k];
            let want = usize::from(model.keys.remove(key).is_some());
            assert_eq!(a.del(&[key])?, want, "{ctx}");
        }
        Op::Set(k, v) => {
            let key = KEYS[*k];
            a.set(key, &v.0, SetOptions::default())?;
            model.keys.insert(key.to_vec(), MValue::Str(v.0.clone()));
        }
        Op::HSet(k, v) => {
            let key = KEYS[*k];
            let want = match model.keys.get(key) {
                None => Ok(1),
                Some(MValue::Hash(_)) => Ok(0),
                Some(_) => Err(Error::WrongType),
            };
            if want.is_ok() {
                model.keys.insert(key.to_vec(), MValue::Hash(v.0.clone()));
            }
            assert_eq!(a.hset(key, &[(b"f", &v.0)]), want, "{ctx}");
        }
        Op::Get(k) => {
            let key = KEYS[*k];
            let want = match model.keys.get(key) {
                None => Ok(None),
                Some(MValue::Str(v)) => Ok(Some(v.clone())),
                Some(_) => Err(Error::WrongType),
            };
            assert_eq!(a.get(key).map(|v| v.map(|v| v.to_vec())), want, "{ctx}");
        }
        Op::Limit(_) => return Err("Limit is the caller's to run".into()),
    }
    Ok(())
}

/// Every key's SCARD, SMEMBERS, EXISTS, TYPE and OBJECT ENCODING against
/// the model.
fn check_all(db: &Db, model: &Model, seen: &mut Seen, ctx: &str) -> TestResult {
    for key in KEYS {
        let ctx = format!("{ctx}; key {:?}", b(key));
        let value = model.keys.get(key);
        assert_eq!(
            db.exists(&[key])?,
            usize::from(value.is_some()),
            "{ctx}: EXISTS"
        );
        let (kind, encoding) = match value {
            None => (None, None),
            Some(MValue::Str(_)) => (Some(ValueType::String), Some("string")),
            Some(MValue::Hash(_)) => (Some(ValueType::Hash), Some("listpack")),
            Some(MValue::Set(s)) => (Some(ValueType::Set), Some(s.encoding())),
        };
        assert_eq!(db.key_type(key)?, kind, "{ctx}: TYPE");
        assert_eq!(db.encoding(key, |_| "string")?, encoding, "{ctx}: ENCODING");
        let members = db.smembers(key);
        match value {
            None => {
                assert_eq!(db.scard(key), Ok(0), "{ctx}: SCARD");
                assert_eq!(members, Ok(Vec::new()), "{ctx}: SMEMBERS");
            }
            Some(MValue::Str(_) | MValue::Hash(_)) => {
                if let Some(MValue::Hash(v)) = value {
                    let got = db.hget(key, b"f")?.map(|v| v.to_vec());
                    assert_eq!(got.as_ref(), Some(v), "{ctx}: HGET");
                }
                seen.wrong_type += 1;
                let wrong = Err(Error::WrongType);
                assert_eq!(db.scard(key), wrong, "{ctx}: SCARD");
                assert_eq!(members, Err(Error::WrongType), "{ctx}: SMEMBERS");
                assert_eq!(db.sadd(key, &[b"1"]), wrong, "{ctx}: SADD");
                assert_eq!(db.srem(key, &[b"1"]), wrong, "{ctx}: SREM");
                assert_eq!(
                    db.smismember(key, &[b"1"]),
                    Err(Error::WrongType),
                    "{ctx}: SMISMEMBER"
                );
                assert_eq!(db.sscan(key, 0, 10), Err(Error::WrongType), "{ctx}: SSCAN");
            }
            Some(MValue::Set(s)) => {
                let n = s.members.len();
                assert_eq!(db.scard(key), Ok(n), "{ctx}: SCARD");
                assert_eq!(db.get(key), Err(Error::WrongType), "{ctx}: GET on a set");
                assert_eq!(db.hlen(key), Err(Error::WrongType), "{ctx}: HLEN on a set");
                let members = members?;
                let mut got: Vec<&[u8]> = members.iter().map(|m| &m[..]).collect();
                seen.most_members = seen.most_members.max(n);
                if s.table {
                    if n <= model.limit && s.members.iter().all(|m| redis_int(m).is_some()) {
                        seen.int_tables += 1;
                    }
                    got.sort_unstable();
                    assert_eq!(got, s.sorted(), "{ctx}: SMEMBERS (as a set)");
                } else {
                    seen.most_intset = seen.most_intset.max(n);
                    if n >= 2 {
                        seen.ordered += 1;
                    }
                    assert_eq!(got, s.ascending(), "{ctx}: SMEMBERS (ascending)");
                }
            }
        }
    }
    Ok(())
}

/// One model run: `steps` random operations from `seed`, starting at
/// `limit` and switching between `limits` if there are any.
fn run(
    seed: u64,
    limit: usize,
    limits: &'static [usize],
    big_pool: i64,
    text_on_big: bool,
    steps: usize,
) -> Result<Seen, Box<dyn std::error::Error>> {
    let db = Db::default();
    db.set_set_intset_entries(limit);
    let mut model = Model::new(limit);
    let mut ops = Gen {
        rng: fastrand::Rng::with_seed(seed),
        big_pool,
        text_on_big,
        limits,
    };
    let mut seen = Seen::default();
    for step in 0..steps {
        let fill = match model.keys.get(KEYS[0]) {
            Some(MValue::Set(s)) if !s.table => model
                .limit
                .checked_sub(s.members.len())
                .map(|room| (s, room)),
            _ => None,
        };
        let op = ops.op(fill);
        let in_batch = ops.rng.u32(0..4) == 0;
        let how = if in_batch { " (in a batch)" } else { "" };
        let ctx = format!("seed {seed}, step {step}{how}: {op:?}");
        match &op {
            Op::Limit(n) => {
                db.set_set_intset_entries(*n);
                model.limit = *n;
            }
            _ if in_batch => {
                seen.in_batch += 1;
                db.atomically(&KEYS, |tx| apply(tx, &mut model, &op, &mut seen, &ctx))?;
            }
            _ => apply(&db, &mut model, &op, &mut seen, &ctx)?,
        }
        check_all(&db, &model, &mut seen, &ctx)?;
    }
    Ok(seen)
}

impl Seen {
    /// Adds up `other`'s counts, and keeps the larger of its sizes.
    fn add(&mut self, other: &Seen) {
        self.most_intset = self.most_intset.max(other.most_intset);
        self.most_members = self.most_members.max(other.most_members);
        self.int_tables += other.int_tables;
        self.ordered += other.ordered;
        self.wrong_type += other.wrong_type;
        self.emptied += other.emptied;
        self.replaced_other += other.replaced_other;
        self.fresh_intsets += other.fresh_intsets;
        self.moved += other.moved;
        self.repeats += other.repeats;
        self.scans += other.scans;
        self.in_batch += other.in_batch;
    }

    /// What the seeds of a test must have reached together, `steps` in
    /// all. (A hash table's order is its own, so what SPOP picks from one,
    /// and all that follows, varies between runs: these hold with room.)
    fn assert_reached(&self, steps: usize) {
        let why = format!("{self:?}");
        assert!(self.ordered > steps / 10, "{why}");
        assert!(self.int_tables > 0 && self.wrong_type > 0, "{why}");
        assert!(self.emptied > 0 && self.moved > 0, "{why}");
        assert!(self.replaced_other > 0 && self.fresh_intsets > 0, "{why}");
        assert!(self.repeats > 0 && self.scans > 0, "{why}");
        assert!(self.in_batch > steps / 8, "{why}");
    }
}

#[test]
fn random_set_operations_match_a_model() -> TestResult {
    const STEPS: usize = 4000;
    const SEEDS: u64 = 6;
    let mut all = Seen::default();
    for seed in 1..=SEEDS {
        let text_on_big = seed % 2 == 0;
        let pool = (INTSET_ENTRIES + INTSET_ENTRIES / 4) as i64;
        let seen = run(seed, INTSET_ENTRIES, &[], pool, text_on_big, STEPS)?;
        // Each seed grows a set past the limit.
        let why = format!("seed {seed}: {seen:?}");
        assert!(seen.most_members > INTSET_ENTRIES, "{why}");
        if !text_on_big {
            // Through an intset of exactly 512 members.
            assert_eq!(seen.most_intset, INTSET_ENTRIES, "{why}");
        }
        all.add(&seen);
    }
    all.assert_reached(STEPS * SEEDS as usize);
    Ok(())
}

#[test]
fn random_set_operations_with_small_changing_limits_match_a_model() -> TestResult {
    const STEPS: usize = 3000;
    const SEEDS: u64 = 6;
    let mut all = Seen::default();
    for seed in 1..=SEEDS {
        let seen = run(seed, 4, &[1, 3, 4, 8], 40, seed % 2 == 0, STEPS)?;
        all.add(&seen);
    }
    assert!(all.most_intset >= 8, "{all:?}");
    all.assert_reached(STEPS * SEEDS as usize);
    Ok(())
}

// ---------------------------------------------------------------------
// Thresholds and WRONGTYPE, one by one.

fn sadd_all(db: &Db, key: &[u8], members: &[Vec<u8>]) -> TestResult {
    for chunk in members.chunks(100) {
        let refs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
        db.sadd(key, &refs)?;
    }
    Ok(())
}

fn srem_all(db: &Db, key: &[u8], members: &[Vec<u8>]) -> TestResult {
    for chunk in members.chunks(100) {
        let refs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
        db.srem(key, &refs)?;
    }
    Ok(())
}

/// The integers of `range`, as members.
fn numbers(range: impl Iterator<Item = i64>) -> Vec<Vec<u8>> {
    range.map(|i| i.to_string().into_bytes()).collect()
}

/// `n` text members `m0`...
fn texts(prefix: &str, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| format!("{prefix}{i}").into_bytes())
        .collect()
}

fn sorted_members(db: &Db, key: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    let mut v = owned(db.smembers(key)?);
    v.sort();
    Ok(v)
}

#[test]
fn the_intset_threshold_is_redis_default() -> TestResult {
    let db = Db::default();
    let encoding = |key: &[u8]| db.encoding(key, |_| "string");

    // 512 integers, added in descending order, stay an intset answering
    // in ascending order; the 513th converts.
    let n = INTSET_ENTRIES as i64;
    sadd_all(&db, b"n", &numbers((0..n).rev().map(|i| i - n / 2)))?;
    assert_eq!(db.sadd(b"n", &[b"0"])?, 0);
    assert_eq!(encoding(b"n")?, Some("intset"));
    assert_eq!(
        owned(db.smembers(b"n")?),
        numbers((0..n).map(|i| i - n / 2))
    );
    assert_eq!(db.sadd(b"n", &[n.to_string().as_bytes()])?, 1);
    assert_eq!(encoding(b"n")?, Some("hashtable"));
    assert_eq!(db.scard(b"n")?, INTSET_ENTRIES + 1);
    // Never back, however small it gets; a new set starts small again.
    srem_all(&db, b"n", &numbers(-n / 2..n / 2))?;
    assert_eq!(owned(db.smembers(b"n")?), numbers(n..=n));
    assert_eq!(encoding(b"n")?, Some("hashtable"));
    assert_eq!(db.srem(b"n", &[n.to_string().as_bytes()])?, 1);
    assert_eq!(db.key_type(b"n")?, None, "emptied");
    db.sadd(b"n", &[b"1"])?;
    assert_eq!(encoding(b"n")?, Some("intset"));

    // Integers in Redis's strict form only; the others are text members
    // of their own.
    for text in [
        &b"007"[..],
        b"+3",
        b"-0",
        b"9223372036854775808",
        b"-9223372036854775809",
        b" 1",
        b"1.0",
        b"",
        b"\x00",
    ] {
        let ctx = format!("{:?}", b(text));
        db.sadd(b"t", &[b"1", b"3", b"7", b"0"])?;
        assert_eq!(encoding(b"t")?, Some("intset"), "{ctx}");
        assert_eq!(db.smismember(b"t", &[text])?, [false], "{ctx}");
        assert_eq!(db.sadd(b"t", &[text])?, 1, "{ctx}");
        assert_eq!(encoding(b"t")?, Some("hashtable"), "{ctx}");
        assert_eq!(db.scard(b"t")?, 5, "{ctx}");
        assert_eq!(db.smismember(b"t", &[text, b"1"])?, [true, true], "{ctx}");
        assert_eq!(db.del(&[&b"t"[..]])?, 1);
    }
    let edges = [
        &b"-9223372036854775808"[..],
        b"9223372036854775807",
        b"0",
        b"-1",
    ];
    db.sadd(b"e", &edges)?;
    assert_eq!(encoding(b"e")?, Some("intset"));
    assert_eq!(
        owned(db.smembers(b"e")?),
        [
            &b"-9223372036854775808"[..],
            b"-1",
            b"0",
            b"9223372036854775807"
        ]
    );
    // Existing members are not new, and add nothing.
    assert_eq!(db.sadd(b"e", &edges)?, 0);

    // SMOVE of text into an intset converts it; of an integer into a
    // full intset too.
    db.sadd(b"src", &[b"x", b"600"])?;
    sadd_all(&db, b"full", &numbers(0..n))?;
    db.sadd(b"small", &[b"1"])?;
    assert!(db.smove(b"src", b"small", b"x")?);
    assert_eq!(encoding(b"small")?, Some("hashtable"));
    assert!(db.smove(b"src", b"full", b"600")?);
    assert_eq!(encoding(b"full")?, Some("hashtable"));
    assert_eq!(db.key_type(b"src")?, None, "SMOVE of the last member");
    // Into a new key: a new set, an intset for an integer.
    assert!(db.smove(b"full", b"fresh", b"600")?);
    assert_eq!(encoding(b"fresh")?, Some("intset"));

    // A `*STORE` result is built fresh: integers from a hash table make
    // an intset; more than 512 a hash table, whatever the sources.
    assert_eq!(encoding(b"full")?, Some("hashtable"));
    db.sadd(b"few", &[b"1", b"2", b"nope"])?;
    assert_eq!(
        db.combine_store(SetAlgebra::Inter, b"st", &[b"full", b"few"])?,
        2
    );
    assert_eq!(encoding(b"st")?, Some("intset"));
    assert_eq!(owned(db.smembers(b"st")?), numbers(1..=2));
    assert_eq!(
        db.combine_store(SetAlgebra::Diff, b"st", &[b"few", b"full"])?,
        1
    );
    assert_eq!(encoding(b"st")?, Some("hashtable"));
    db.sadd(b"half1", &[b"-1"])?;
    sadd_all(&db, b"half1", &numbers(0..300))?;
    sadd_all(&db, b"half2", &numbers(300..600))?;
    assert_eq!(encoding(b"half1")?, Some("intset"));
    assert_eq!(
        db.combine_store(SetAlgebra::Union, b"st", &[b"half1", b"half2"])?,
        601
    );
    assert_eq!(encoding(b"st")?, Some("hashtable"));
    assert_eq!(
        db.combine_store(SetAlgebra::Union, b"st", &[b"half1", b"e"])?,
        303
    );
    assert_eq!(encoding(b"st")?, Some("intset"));
    Ok(())
}

#[test]
fn set_set_intset_entries_changes_the_threshold() -> TestResult {
    let db = Db::default();
    let encoding = |key: &[u8]| db.encoding(key, |_| "string");
    db.set_set_intset_entries(4);

    // 4 integers stay an intset; the 5th converts.
    sadd_all(&db, b"n", &numbers(1..=4))?;
    assert_eq!(encoding(b"n")?, Some("intset"));
    db.sadd(b"n", &[b"5"])?;
    assert_eq!(encoding(b"n")?, Some("hashtable"));
    // A `*STORE` of 5 integers is a hash table, of 4 an intset.
    db.combine_store(SetAlgebra::Union, b"st", &[b"n"])?;
    assert_eq!(encoding(b"st")?, Some("hashtable"));
    db.srem(b"n", &[b"5"])?;
    db.combine_store(SetAlgebra::Union, b"st", &[b"n"])?;
    assert_eq!(encoding(b"st")?, Some("intset"));

    // Lowered, the limit leaves an existing intset alone until a write
    // adds a member past it.
    db.sadd(b"keep", &[b"1", b"2", b"3", b"4"])?;
    db.set_set_intset_entries(2);
    assert_eq!(encoding(b"keep")?, Some("intset"));
    assert_eq!(db.sadd(b"keep", &[b"1"])?, 0);
    assert_eq!(db.srem(b"keep", &[b"4"])?, 1);
    assert_eq!(encoding(b"keep")?, Some("intset"));
    assert_eq!(db.sadd(b"keep", &[b"9"])?, 1);
    assert_eq!(encoding(b"keep")?, Some("hashtable"));

    // 0: no intset at all.
    db.set_set_intset_entries(0);
    db.sadd(b"zero", &[b"1"])?;
    assert_eq!(encoding(b"zero")?, Some("hashtable"));

    // Back to the default: a new set holds 5 integers as an intset; the
    // ones converted stay hash tables.
    db.set_set_intset_entries(INTSET_ENTRIES);
    sadd_all(&db, b"again", &numbers(1..=5))?;
    assert_eq!(encoding(b"again")?, Some("intset"));
    assert_eq!(encoding(b"n")?, Some("hashtable"));
    assert_eq!(encoding(b"keep")?, Some("hashtable"));
    Ok(())
}

#[test]
fn smove_and_multi_key_commands_follow_redis_wrongtype_rules() -> TestResult {
    let db = Db::default();
    db.sadd(b"a", &[b"1", b"2", b"x"])?;
    db.sadd(b"b", &[b"2", b"3"])?;
    db.set(b"str", b"v", SetOptions::default())?;
    db.hset(b"hash", &[(b"f", b"v")])?;

    // SMOVE: a missing source is false before any type check of the
    // destination; then both types are checked before membership.
    assert_eq!(db.smove(b"missing", b"str", b"1"), Ok(false));
    assert_eq!(db.smove(b"str", b"a", b"1"), Err(Error::WrongType));
    assert_eq!(db.smove(b"a", b"str", b"absent"), Err(Error::WrongType));
    assert_eq!(db.smove(b"a", b"hash", b"1"), Err(Error::WrongType));
    assert_eq!(db.smove(b"a", b"a", b"1"), Ok(true));
    assert_eq!(db.smove(b"a", b"a", b"absent"), Ok(false));
    assert_eq!(db.smove(b"a", b"b", b"absent"), Ok(false));
    assert_eq!(sorted_members(&db, b"a")?, [&b"1"[..], b"2", b"x"]);
    assert_eq!(db.get(b"str")?.as_deref(), Some(&b"v"[..]));
    // A member already in the destination leaves the source all the same.
    assert_eq!(db.smove(b"a", b"b", b"2"), Ok(true));
    assert_eq!(sorted_members(&db, b"a")?, [&b"1"[..], b"x"]);
    assert_eq!(sorted_members(&db, b"b")?, [&b"2"[..], b"3"]);

    // Every source key is checked, a missing one first or not.
    for keys in [
        &[&b"missing"[..], b"str"][..],
        &[b"a", b"hash"],
        &[b"hash", b"missing"],
    ] {
        let ctx = format!("{keys:?}");
        for op in [SetAlgebra::Inter, SetAlgebra::Union, SetAlgebra::Diff] {
            assert_eq!(db.combine(op, keys), Err(Error::WrongType), "{ctx} {op:?}");
            assert_eq!(
                db.combine_store(op, b"dst", keys),
                Err(Error::WrongType),
                "{ctx} {op:?}"
            );
            assert_eq!(db.key_type(b"dst")?, None, "{ctx} {op:?}");
        }
        assert_eq!(db.sintercard(keys, 0), Err(Error::WrongType), "{ctx}");
    }
    // A missing key is an empty set.
    assert_eq!(
        db.combine(SetAlgebra::Inter, &[&b"a"[..], b"missing"])?,
        Vec::<Bytes>::new()
    );
    assert_eq!(
        db.combine(SetAlgebra::Diff, &[&b"missing"[..], b"a"])?,
        Vec::<Bytes>::new()
    );
    assert_eq!(
        db.combine(SetAlgebra::Union, &[&b"missing"[..], b"b"])?
            .len(),
        2
    );
    assert_eq!(db.sintercard(&[&b"b"[..], b"b"], 0)?, 2);
    assert_eq!(db.sintercard(&[&b"b"[..], b"b"], 1)?, 1);
    assert_eq!(db.sintercard(&[&b"b"[..], b"b"], 5)?, 2);

    // A `*STORE` replaces a value of any type, deadline and all, and an
    // empty result deletes the destination.
    db.expire(b"str", Expiry::Seconds(100), ExpireCondition::Always)?;
    assert_eq!(
        db.combine_store(SetAlgebra::Union, b"str", &[&b"a"[..], b"b"])?,
        4
    );
    assert_eq!(db.key_type(b"str")?, Some(ValueType::Set));
    assert_eq!(db.ttl(b"str")?, -1);
    assert_eq!(
        db.combine_store(SetAlgebra::Inter, b"hash", &[&b"a"[..], b"b"])?,
        0
    );
    assert_eq!(db.key_type(b"hash")?, None);
    // The destination among the sources, a source twice.
    assert_eq!(
        db.combine_store(SetAlgebra::Diff, b"a", &[&b"str"[..], b"a", b"a"])?,
        2
    );
    assert_eq!(sorted_members(&db, b"a")?, [&b"2"[..], b"3"]);
    assert_eq!(
        db.combine_store(SetAlgebra::Diff, b"a", &[&b"a"[..], b"b"])?,
        0
    );
    assert_eq!(db.key_type(b"a")?, None);
    Ok(())
}

#[test]
fn an_expired_key_is_neither_a_set_nor_in_the_way() -> TestResult {
    let clock = Arc::new(ManualClock::new(1_000_000));
    let db = Db::new(Options::default().clock(clock.clone()));
    // No reaper follows a manual clock: the keys below expire on access.
    let expire_all = |keys: &[&[u8]]| -> TestResult {
        for key in keys {
            db.expire(key, Expiry::Millis(10), ExpireCondition::Always)?;
        }
        clock.advance(20);
        Ok(())
    };
    db.sadd(b"live", &[b"1", b"2"])?;
    db.sadd(b"gone", &[b"1", b"x"])?;
    db.set(b"str", b"v", SetOptions::default())?;
    expire_all(&[b"gone", b"str"])?;

    let called = Cell::new(false);
    let pick = |_| {
        called.set(true);
        vec![0]
    };
    assert_eq!(db.scard(b"gone")?, 0);
    assert_eq!(db.smembers(b"gone")?, Vec::<Bytes>::new());
    assert_eq!(db.smismember(b"gone", &[b"1", b"x"])?, [false, false]);
    assert_eq!(db.srandmember(b"gone", pick)?, None);
    assert_eq!(db.sscan(b"gone", 0, 10)?, (0, Vec::new()));
    assert!(!called.get());
    // An expired string is no WRONGTYPE to a set command.
    let union = db.combine(SetAlgebra::Union, &[&b"live"[..], b"gone", b"str"])?;
    assert_eq!(owned(union), numbers(1..=2));
    assert_eq!(db.sintercard(&[&b"live"[..], b"str"], 0)?, 0);
    assert!(!db.smove(b"gone", b"live", b"x")?);
    assert!(db.smove(b"live", b"str", b"1")?);
    assert_eq!(db.key_type(b"str")?, Some(ValueType::Set));
    assert_eq!(db.ttl(b"str")?, -1, "a new set, without the old deadline");
    assert_eq!(owned(db.smembers(b"str")?), numbers(1..=1));
    assert_eq!(owned(db.smembers(b"live")?), numbers(2..=2));
    // SADD to an expired set starts a new one: its old members are gone.
    assert_eq!(db.sadd(b"gone", &[b"x"])?, 1);
    assert_eq!(owned(db.smembers(b"gone")?), [b"x".to_vec()]);
    assert_eq!(db.ttl(b"gone")?, -1);

    // SPOP, SREM and a `*STORE` over an expired destination.
    db.sadd(b"p", &[b"1", b"2", b"3"])?;
    db.sadd(b"d", &[b"9"])?;
    expire_all(&[b"p", b"d"])?;
    assert_eq!(db.spop(b"p", pick)?, None);
    assert_eq!(db.srem(b"p", &[b"1"])?, 0);
    assert!(!called.get());
    assert_eq!(
        db.combine_store(SetAlgebra::Union, b"d", &[&b"live"[..], b"p"])?,
        1
    );
    assert_eq!(owned(db.smembers(b"d")?), numbers(2..=2));
    assert_eq!(db.ttl(b"d")?, -1);
    assert_eq!(db.exists(&[&b"p"[..]])?, 0);
    Ok(())
}

// ---------------------------------------------------------------------
// SSCAN and random picks.

#[test]
fn a_whole_sscan_returns_each_member_present_throughout_exactly_once() -> TestResult {
    let db = Db::default();
    let mut rng = fastrand::Rng::with_seed(7);
    for count in [1, 10, 100, 1000] {
        let key = format!("s{count}").into_bytes();
        let stay = texts("m", 5000);
        let mut going = texts("go", 1000);
        sadd_all(&db, &key, &stay)?;
        sadd_all(&db, &key, &going)?;
        assert_eq!(db.encoding(&key, |_| "string")?, Some("hashtable"));
        // Every member the set held at some point of the scan.
        let mut ever: HashSet<Vec<u8>> = stay.iter().chain(&going).cloned().collect();
        let mut returned: HashMap<Vec<u8>, usize> = HashMap::new();
        let (mut cursor, mut steps, mut added) = (0, 0, 0);
        loop {
            let (next, page) = db.sscan(&key, cursor, count)?;
            for m in owned(page) {
                assert!(ever.contains(&m), "count {count}: returned {:?}", b(&m));
                *returned.entry(m).or_default() += 1;
            }
            // Between steps: members added (the table grows, more slowly
            // than the scan moves: a set that grows faster than COUNT a
            // step is never done, in Redis too) and others removed.
            let new = texts(&format!("new{steps}-"), rng.usize(0..=count.min(60)));
            added += new.len();
            sadd_all(&db, &key, &new)?;
            ever.extend(new);
            let gone: Vec<Vec<u8>> = (0..rng.usize(0..=20)).filter_map(|_| going.pop()).collect();
            srem_all(&db, &key, &gone)?;
            cursor = next;
            steps += 1;
            if cursor == 0 {
                break;
            }
            if steps > 100_000 {
                return Err(format!("count {count}: SSCAN does not end").into());
            }
        }
        for m in &stay {
            assert_eq!(
                returned.get(m),
                Some(&1),
                "count {count}: member {:?} present throughout",
                b(m)
            );
        }
        let twice: Vec<B> = returned
            .iter()
            .filter(|(_, &n)| n > 1)
            .map(|(m, _)| b(m))
            .collect();
        assert!(twice.is_empty(), "count {count}: returned twice: {twice:?}");
        assert!(steps > 1 && added > 0, "count {count}: {steps} steps");
        assert_eq!(db.scard(&key)?, 5000 + going.len() + added);
    }

    // An intset answers whole at once, in order.
    db.sadd(b"ints", &[b"3", b"-2", b"10"])?;
    let (next, page) = db.sscan(b"ints", 0, 1)?;
    assert_eq!(next, 0);
    assert_eq!(owned(page), numbers([-2, 3, 10].into_iter()));
    // No key: done at once.
    assert_eq!(db.sscan(b"none", 0, 10)?, (0, Vec::new()));
    // A cursor from elsewhere ends all the same.
    let mut cursor = 0x1234_5678_9abc_def0_u64;
    for _ in 0..100_000 {
        cursor = db.sscan(b"s1", cursor, 10)?.0;
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(cursor, 0, "a foreign cursor does not end");
    Ok(())
}

#[test]
fn random_picks_take_the_positions_asked_in_smembers_order() -> TestResult {
    let db = Db::default();
    let mut rng = fastrand::Rng::with_seed(11);
    sadd_all(&db, b"big", &texts("m", 3000))?;
    sadd_all(&db, b"ints", &numbers((0..300).map(|i| i * 7 - 1000)))?;
    db.sadd(b"small", &[b"a", b"1"])?;
    for key in [&b"big"[..], b"ints", b"small"] {
        let ctx = format!("key {:?}", b(key));
        for round in 0..40 {
            let order = db.smembers(key)?;
            let n = order.len();
            let mut positions: Vec<usize> =
                (0..rng.usize(1..=20)).map(|_| rng.usize(0..n)).collect();
            // A repeat, always.
            positions.push(positions[0]);
            let size = Cell::new(None);
            let got = db
                .srandmember(key, |s| {
                    size.set(Some(s));
                    positions.clone()
                })?
                .ok_or("SRANDMEMBER found no set")?;
            assert_eq!(size.get(), Some(n), "{ctx}, round {round}");
            let want: Vec<Bytes> = positions.iter().map(|&p| order[p].clone()).collect();
            assert_eq!(got, want, "{ctx}, round {round}");
            let refs: Vec<&[u8]> = got.iter().map(|m| &m[..]).collect();
            assert!(db.smismember(key, &refs)?.iter().all(|&x| x), "{ctx}");
            assert_eq!(db.scard(key)?, n, "{ctx}: SRANDMEMBER removes nothing");

            // SPOP of distinct positions, every few rounds.
            if round % 4 == 3 && n > 1 {
                let mut picks: Vec<usize> = positions.clone();
                picks.sort_unstable();
                picks.dedup();
                picks.truncate(n - 1);
                rng.shuffle(&mut picks);
                let got = db
                    .spop(key, |_| picks.clone())?
                    .ok_or("SPOP found no set")?;
                let want: Vec<Bytes> = picks.iter().map(|&p| order[p].clone()).collect();
                assert_eq!(got, want, "{ctx}, round {round}: SPOP");
                let mut rest: Vec<Bytes> = order.clone();
                rest.retain(|m| !want.contains(m));
                rest.sort();
                let mut now = db.smembers(key)?;
                now.sort();
                assert_eq!(now, rest, "{ctx}, round {round}: after SPOP");
            }
        }
        // SPOP of every position empties the key.
        let n = db.scard(key)?;
        let all = db
            .spop(key, |s| (0..s).rev().collect::<Vec<usize>>())?
            .ok_or("SPOP found no set")?;
        assert_eq!(all.len(), n, "{ctx}");
        assert_eq!(db.key_type(key)?, None, "{ctx}: emptied by SPOP");
    }
    // No key, or another type: pick is not called.
    let called = Cell::new(false);
    let pick = |_| {
        called.set(true);
        vec![0]
    };
    assert_eq!(db.srandmember(b"big", pick), Ok(None));
    assert_eq!(db.spop(b"big", pick), Ok(None));
    db.set(b"str", b"v", SetOptions::default())?;
    assert_eq!(db.srandmember(b"str", pick), Err(Error::WrongType));
    assert_eq!(db.spop(b"str", pick), Err(Error::WrongType));
    assert!(!called.get());
    // SPOP of no position (SPOP key 0) removes nothing.
    db.sadd(b"one", &[b"1"])?;
    assert_eq!(db.spop(b"one", |_| Vec::new())?, Some(Vec::new()));
    assert_eq!(db.scard(b"one")?, 1);
    Ok(())
}

// ---------------------------------------------------------------------
// Restarts.

/// A data directory of its own, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("tandem-sets-model-{}-{name}", std::process::id()));
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

/// One key as a client sees it.
#[derive(Debug, PartialEq)]
struct KeyView {
    kind: ValueType,
    deadline: Option<u64>,
    encoding: Option<&'static str>,
    /// A set's members sorted, a hash's HGETALL, or a string's value.
    sorted: Vec<Vec<u8>>,
    /// An intset's SMEMBERS, in its order.
    ordered: Option<Vec<Vec<u8>>>,
}

type State = BTreeMap<Vec<u8>, KeyView>;

/// Every live key of `db`.
fn state(db: &Db) -> Result<State, Box<dyn std::error::Error>> {
    let mut keys = Vec::new();
    db.dump::<Error>(|e| {
        keys.push((e.key.to_vec(), e.kind, e.deadline));
        Ok(())
    })?;
    let mut out = State::new();
    for (key, kind, deadline) in keys {
        let encoding = db.encoding(&key, |_| "string")?;
        let (sorted, ordered) = match kind {
            ValueType::Set => {
                let members = owned(db.smembers(&key)?);
                let mut sorted = members.clone();
                sorted.sort();
                (sorted, (encoding == Some("intset")).then_some(members))
            }
            ValueType::Hash => (owned(db.hgetall(&key, HashPart::Both)?), None),
            ValueType::String => {
                let value = db.get(&key)?.ok_or("a dumped key is missing")?;
                (vec![value.to_vec()], None)
            }
            other => return Err(format!("unexpected type {other:?}").into()),
        };
        let seen = KeyView {
            kind,
            deadline,
            encoding,
            sorted,
            ordered,
        };
        out.insert(key, seen);
    }
    Ok(out)
}

/// `after` holds what `before` did, each set in the encoding it had
/// before, except for the sets named in `reshaped`: hash tables only for
/// having held text or grown once, loaded whole, in the encoding a set of
/// their members built at once at `limit` has (intsets), as Redis loads
/// them.
fn assert_same(before: &State, after: &State, reshaped: &[&[u8]], limit: usize) {
    assert_eq!(
        before.keys().map(b).collect::<Vec<_>>(),
        after.keys().map(b).collect::<Vec<_>>(),
        "the keys"
    );
    for (key, was) in before {
        let Some(now) = after.get(key) else { continue };
        let ctx = format!("key {:?}", b(key));
        assert_eq!(now.kind, was.kind, "{ctx}");
        assert_eq!(now.deadline, was.deadline, "{ctx}");
        assert_eq!(now.sorted, was.sorted, "{ctx}");
        if reshaped.contains(&key.as_slice()) {
            let fresh = MSet::fresh(now.sorted.iter().cloned().collect(), limit);
            assert_eq!(now.encoding, Some(fresh.encoding()), "{ctx}: loaded");
            if let Some(ordered) = &now.ordered {
                let want = ascending(now.sorted.iter().map(Vec::as_slice));
                let got: Vec<&[u8]> = ordered.iter().map(Vec::as_slice).collect();
                assert_eq!(got, want, "{ctx}: intset order");
            }
        }
        if reshaped.contains(&key.as_slice()) {
            assert_eq!(was.encoding, Some("hashtable"), "{ctx}: before");
            assert_eq!(now.encoding, Some("intset"), "{ctx}: reshaped");
        } else {
            assert_eq!(now.encoding, was.encoding, "{ctx}");
        }
    }
}

fn open(
    dir: &Path,
    limit: usize,
) -> Result<(Store, tandem_engine::Recovery), Box<dyn std::error::Error>> {
    let db = Db::default();
    db.set_set_intset_entries(limit);
    Ok(Store::open(dir, StoreOptions::default(), vec![db])?)
}

#[test]
fn sets_survive_restarts_through_the_log_and_a_snapshot() -> TestResult {
    let dir = TempDir::new("restart");
    let (store, _) = open(dir.path(), INTSET_ENTRIES)?;
    let db = store.db(0).ok_or("no db 0")?;
    let far = (db.now_ms() + 3_600_000) as i64;

    // Through the log alone.
    db.sadd(b"ints", &[b"5", b"-3", b"100", b"0"])?;
    db.sadd(b"ints", &[b"9223372036854775807", b"-9223372036854775808"])?;
    db.srem(b"ints", &[b"100"])?;
    db.sadd(b"mixed", &[b"1", b"two", b"3", b"007", b"+3", b"-0"])?;
    // Only integers, but more than 512 of them.
    sadd_all(db, b"big-ints", &numbers(0..600))?;
    sadd_all(db, b"big-text", &texts("m", 2000))?;
    db.sadd(b"bin\x00", &[b"", b"\x00\xff", b"\r\n", b"7"])?;
    db.sadd(b"ttl", &[b"1", b"2"])?;
    db.expire(b"ttl", Expiry::UnixMillis(far), ExpireCondition::Always)?;
    sadd_all(db, b"ttl-big", &numbers(0..700))?;
    db.expire(
        b"ttl-big",
        Expiry::UnixMillis(far + 1),
        ExpireCondition::Always,
    )?;
    // Hash tables of a few integers: they load as intsets, as in Redis.
    sadd_all(db, b"shrunk", &numbers(0..600))?;
    srem_all(db, b"shrunk", &numbers(10..600))?;
    db.sadd(b"text-gone", &[b"1", b"2", b"x"])?;
    db.srem(b"text-gone", &[b"x"])?;
    db.sadd(b"emptied", &[b"x"])?;
    db.srem(b"emptied", &[b"x"])?;
    sadd_all(db, b"popped", &numbers(1..=10))?;
    db.spop(b"popped", |n| vec![0, n - 1])?;
    db.combine_store(SetAlgebra::Union, b"stored", &[&b"ints"[..], b"mixed"])?;
    db.combine_store(
        SetAlgebra::Inter,
        b"stored-ints",
        &[&b"big-ints"[..], b"ints"],
    )?;
    assert!(db.smove(b"mixed", b"moved", b"two")?);
    db.set(b"string", b"plain", SetOptions::default())?;
    db.hset(b"hash", &[(b"f", b"v")])?;

    let before = state(db)?;
    let names: Vec<B> = before.keys().map(b).collect();
    assert_eq!(names.len(), 15, "{names:?}");
    let enc = |key: &[u8]| before.get(key).and_then(|v| v.encoding);
    for key in [&b"ints"[..], b"ttl", b"popped", b"stored-ints"] {
        assert_eq!(enc(key), Some("intset"), "{:?}", b(key));
    }
    for key in [
        &b"mixed"[..],
        b"big-ints",
        b"big-text",
        b"bin\x00",
        b"ttl-big",
        b"shrunk",
        b"text-gone",
        b"stored",
        b"moved",
    ] {
        assert_eq!(enc(key), Some("hashtable"), "{:?}", b(key));
    }
    assert_eq!(before[&b"ttl"[..]].deadline, Some(far as u64));
    assert_eq!(
        before[&b"ints"[..]].ordered,
        Some(numbers([i64::MIN, -3, 0, 5, i64::MAX].into_iter()))
    );
    assert_eq!(
        before[&b"stored-ints"[..]].sorted,
        numbers(0..1)
            .into_iter()
            .chain(numbers(5..6))
            .collect::<Vec<_>>()
    );
    assert_eq!(before[&b"popped"[..]].ordered, Some(numbers(2..=9)));
    store.close()?;
    drop(store);

    let (store, recovery) = open(dir.path(), INTSET_ENTRIES)?;
    assert_eq!(recovery.snapshot, None);
    assert!(recovery.log_records > 0, "{recovery:?}");
    let db = store.db(0).ok_or("no db 0")?;
    // Replayed from the log, a set changed by edits went through the
    // changes it went through live, and has the encoding they gave it (as
    // Redis replays an AOF): `text-gone` stays a hash table. `shrunk` lost
    // 590 of its 600 members in one SREM, edits bigger than the set left,
    // so that change was logged whole, and it loads as an intset.
    assert_same(&before, &state(db)?, &[b"shrunk"], INTSET_ENTRIES);

    // A snapshot, then more changes in the log after it.
    store.snapshot()?;
    srem_all(db, b"big-ints", &numbers(0..40))?;
    db.sadd(b"ints", &[b"77"])?;
    db.spop(b"popped", |_| vec![0])?;
    assert_eq!(db.del(&[&b"ttl"[..]])?, 1);
    db.srem(b"bin\x00", &[b""])?;
    srem_all(db, b"big-text", &texts("m", 1990))?;
    // An intset in the snapshot, a hash table in the log.
    db.sadd(b"grown", &[b"1"])?;
    store.snapshot()?;
    sadd_all(db, b"grown", &numbers(0..=INTSET_ENTRIES as i64))?;
    db.combine_store(SetAlgebra::Diff, b"stored", &[&b"mixed"[..], b"ints"])?;
    db.combine_store(SetAlgebra::Inter, b"string", &[&b"ints"[..], b"big-ints"])?;
    db.sadd(b"after", &[b"z", b"y"])?;
    // Two moves in one batch.
    db.atomically(&[&b"after"[..], b"moved"], |tx| {
        tx.smove(b"after", b"moved", b"z")?;
        tx.smove(b"moved", b"after", b"two")
    })?;

    let before = state(db)?;
    assert!(!before.contains_key(&b"ttl"[..]));
    assert_eq!(before[&b"big-ints"[..]].sorted.len(), 560);
    assert_eq!(before[&b"big-ints"[..]].encoding, Some("hashtable"));
    assert_eq!(before[&b"big-text"[..]].sorted.len(), 10);
    assert_eq!(before[&b"grown"[..]].sorted.len(), INTSET_ENTRIES + 1);
    assert_eq!(before[&b"grown"[..]].encoding, Some("hashtable"));
    assert_eq!(before[&b"string"[..]].kind, ValueType::Set);
    assert_eq!(before[&b"ttl-big"[..]].deadline, Some(far as u64 + 1));
    store.close()?;
    drop(store);

    let (store, recovery) = open(dir.path(), INTSET_ENTRIES)?;
    assert!(recovery.snapshot.is_some(), "{recovery:?}");
    assert!(recovery.log_records > 0, "{recovery:?}");
    let db = store.db(0).ok_or("no db 0")?;
    // Read from a snapshot, `text-gone` loads as an intset (`shrunk` did
    // last time).
    let after = state(db)?;
    assert_same(&before, &after, &[b"text-gone"], INTSET_ENTRIES);
    store.close()?;
    drop(store);

    // At a limit of 4, the same sets load by it: the big ones as before,
    // the intsets of more than 4 members as hash tables.
    let (store, _) = open(dir.path(), 4)?;
    let db = store.db(0).ok_or("no db 0")?;
    let small = state(db)?;
    for (key, was) in &after {
        let ctx = format!("key {:?}", b(key));
        let Some(now) = small.get(key) else {
            return Err(format!("{ctx}: gone").into());
        };
        assert_eq!((now.kind, now.deadline), (was.kind, was.deadline), "{ctx}");
        assert_eq!(now.sorted, was.sorted, "{ctx}");
        if now.kind == ValueType::Set {
            let fresh = MSet::fresh(now.sorted.iter().cloned().collect(), 4);
            assert_eq!(now.encoding, Some(fresh.encoding()), "{ctx}");
        }
    }
    assert_eq!(small[&b"ints"[..]].encoding, Some("hashtable"));
    assert_eq!(small[&b"text-gone"[..]].encoding, Some("intset"));
    store.close()?;
    Ok(())
}

// ---------------------------------------------------------------------
// WATCH versions.

#[test]
fn a_failed_or_empty_set_command_keeps_the_watch_version() -> TestResult {
    let db = Db::default();
    // An intset and a hash table.
    db.sadd(b"i", &[b"1", b"2"])?;
    db.sadd(b"t", &[b"1", b"2", b"x"])?;
    for key in [&b"i"[..], b"t"] {
        let ctx = format!("key {:?}", b(key));
        let v0 = db.version(key)?;
        assert!(v0.is_some(), "{ctx}");
        assert_eq!(db.sadd(key, &[b"1", b"2"]), Ok(0), "{ctx}");
        assert_eq!(
            db.version(key)?,
            v0,
            "{ctx}: after SADD of existing members"
        );
        assert_eq!(db.srem(key, &[b"absent", b"3"]), Ok(0), "{ctx}");
        assert_eq!(db.version(key)?, v0, "{ctx}: after SREM of absent members");
        assert_eq!(db.spop(key, |_| Vec::new()), Ok(Some(Vec::new())), "{ctx}");
        assert_eq!(db.version(key)?, v0, "{ctx}: after SPOP of nothing");
        assert_eq!(db.smove(key, b"other", b"absent"), Ok(false), "{ctx}");
        assert_eq!(db.smove(key, key, b"1"), Ok(true), "{ctx}");
        assert_eq!(
            db.version(key)?,
            v0,
            "{ctx}: after SMOVEs that move nothing"
        );
        db.scard(key)?;
        db.smembers(key)?;
        db.srandmember(key, |_| vec![0])?;
        db.sscan(key, 0, 10)?;
        db.combine(SetAlgebra::Union, &[key])?;
        assert_eq!(db.version(key)?, v0, "{ctx}: after reads");
        assert_eq!(db.key_type(b"other")?, None, "{ctx}");

        assert_eq!(db.sadd(key, &[b"3"]), Ok(1), "{ctx}");
        let v1 = db.version(key)?;
        assert_ne!(v1, v0, "{ctx}: after SADD");
        assert_eq!(db.srem(key, &[b"3"]), Ok(1), "{ctx}");
        let v2 = db.version(key)?;
        assert_ne!(v2, v1, "{ctx}: after SREM");
        assert_eq!(db.smove(key, b"other", b"2"), Ok(true), "{ctx}");
        assert_ne!(db.version(key)?, v2, "{ctx}: after SMOVE");
        assert_eq!(db.del(&[&b"other"[..]])?, 1, "{ctx}");
    }
    // A set command refused on a string leaves the string's version.
    db.set(b"str", b"x", SetOptions::default())?;
    let v = db.version(b"str")?;
    assert_eq!(db.sadd(b"str", &[b"1"]), Err(Error::WrongType));
    assert_eq!(db.srem(b"str", &[b"1"]), Err(Error::WrongType));
    assert_eq!(db.spop(b"str", |_| vec![0]), Err(Error::WrongType));
    assert_eq!(db.smove(b"i", b"str", b"1"), Err(Error::WrongType));
    assert_eq!(
        db.combine_store(SetAlgebra::Union, b"dst", &[&b"str"[..]]),
        Err(Error::WrongType)
    );
    assert_eq!(db.version(b"str")?, v);
    Ok(())
}
