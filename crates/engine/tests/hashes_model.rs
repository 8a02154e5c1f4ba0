//! Hashes against a reference model, across a restart, and under WATCH.
//!
//! - Random HSET, HSETNX, HDEL, HINCRBY, HGET, HMGET, HLEN, HEXISTS,
//!   HSTRLEN, HKEYS/HVALS/HGETALL, HRANDFIELD, DEL, SET and GET sequences
//!   on a few keys, for fixed seeds, must answer as a plain model does.
//!   After every step each key's HLEN, HGETALL, EXISTS, TYPE and OBJECT
//!   ENCODING match the model: an emptied hash does not exist, strings and
//!   hashes answer WRONGTYPE to each other's commands, and while a hash has
//!   never held more than 512 fields nor a field or value over 64 bytes
//!   (Redis 7's listpack thresholds) HGETALL answers in insertion order (a
//!   field removed and added again goes to the end); after that the hash
//!   is a `hashtable` for good and is compared as a set. The thresholds
//!   themselves (512 fields, 64 bytes, HINCRBY and HSETNX) are also
//!   checked one by one, and so are thresholds set with
//!   `Db::set_hash_listpack`.
//! - Hashes small and big, binary, with a deadline, survive a restart of a
//!   durable `Store` through the log alone, and through a snapshot followed
//!   by more changes (fields removed, hashes deleted, counters moved, a
//!   small hash growing past 512 fields).
//! - A hash command that fails, or changes nothing, leaves the key's WATCH
//!   version alone; one that writes gives it a new one.
//!
//! The model shares no code with the engine: its integer syntax is
//! Redis's `string2ll`, written out here.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use tandem_engine::prelude::*;
use tandem_engine::{Bytes, Listpack, Store, StoreOptions, ValueType};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Redis's `hash-max-listpack-entries` default (512 since Redis 7.0).
const LISTPACK_ENTRIES: usize = 512;
/// Redis's `hash-max-listpack-value` default.
const LISTPACK_VALUE: usize = 64;

/// The model test's keys; the first one is the one grown past 512 fields.
const KEYS: [&[u8]; 5] = [b"big", b"h1", b"h2", b"h\x00bin", b"h4"];
/// Field names per key: enough on the first to cross 512.
const BIG_POOL: usize = 640;
const SMALL_POOL: usize = 8;

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

/// The model of one hash: its pairs in insertion order while it is a
/// listpack; sorted by field once it has converted (its order is
/// unspecified then, and sorted it compares as a set without a copy).
#[derive(Debug, Clone, Default)]
struct MHash {
    pairs: Vec<(Vec<u8>, Vec<u8>)>,
    /// Has crossed a listpack threshold: a hash table from then on, its
    /// order unspecified.
    converted: bool,
}

impl MHash {
    fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.pairs
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, v)| v.as_slice())
    }

    /// Sets `field`; true if it is new. An existing field keeps its place.
    fn insert(&mut self, field: &[u8], value: &[u8]) -> bool {
        if field.len() > LISTPACK_VALUE || value.len() > LISTPACK_VALUE {
            self.convert();
        }
        if let Some(pair) = self.pairs.iter_mut().find(|(f, _)| f == field) {
            pair.1 = value.to_vec();
            return false;
        }
        let pair = (field.to_vec(), value.to_vec());
        if self.converted {
            let at = self.pairs.partition_point(|(f, _)| f.as_slice() < field);
            self.pairs.insert(at, pair);
        } else {
            self.pairs.push(pair);
            if self.pairs.len() > LISTPACK_ENTRIES {
                self.convert();
            }
        }
        true
    }

    /// A hash table from now on: the pairs sorted by field.
    fn convert(&mut self) {
        if !self.converted {
            self.converted = true;
            self.pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        }
    }

    fn remove(&mut self, field: &[u8]) -> bool {
        match self.pairs.iter().position(|(f, _)| f == field) {
            Some(i) => {
                self.pairs.remove(i);
                true
            }
            None => false,
        }
    }

    fn encoding(&self) -> &'static str {
        if self.converted {
            "hashtable"
        } else {
            "listpack"
        }
    }

    /// The pairs, borrowed (sorted once converted): the big hash is
    /// compared after every step, so it is not copied for that.
    fn borrowed(&self) -> Vec<(&[u8], &[u8])> {
        self.pairs
            .iter()
            .map(|(f, v)| (f.as_slice(), v.as_slice()))
            .collect()
    }
}

#[derive(Debug, Clone)]
enum MValue {
    Str(Vec<u8>),
    Hash(MHash),
}

#[derive(Debug, Default)]
struct Model {
    keys: HashMap<Vec<u8>, MValue>,
}

impl Model {
    /// The hash at `key` (`None`: no key), `WrongType` for a string.
    fn hash(&self, key: &[u8]) -> Result<Option<&MHash>, Error> {
        match self.keys.get(key) {
            None => Ok(None),
            Some(MValue::Hash(h)) => Ok(Some(h)),
            Some(MValue::Str(_)) => Err(Error::WrongType),
        }
    }

    /// Takes the hash at `key` out to change it (an empty one if there is
    /// none); a string stays and is `WrongType`. Give it back with `put`.
    fn take(&mut self, key: &[u8]) -> Result<MHash, Error> {
        match self.keys.remove(key) {
            None => Ok(MHash::default()),
            Some(MValue::Hash(h)) => Ok(h),
            Some(s @ MValue::Str(_)) => {
                self.keys.insert(key.to_vec(), s);
                Err(Error::WrongType)
            }
        }
    }

    /// Stores `h` at `key`, unless it is empty: an empty hash does not
    /// exist.
    fn put(&mut self, key: &[u8], h: MHash) {
        if !h.pairs.is_empty() {
            self.keys.insert(key.to_vec(), MValue::Hash(h));
        }
    }

    /// Runs `f` on the hash at `key` (created empty if absent) and stores
    /// what it leaves; `WrongType` for a string, without calling `f`.
    fn change<R>(
        &mut self,
        key: &[u8],
        f: impl FnOnce(&mut MHash) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let mut h = self.take(key)?;
        let r = f(&mut h);
        self.put(key, h);
        r
    }
}

#[derive(Debug, Clone)]
enum Op {
    HSet(usize, Vec<(B, B)>),
    HSetNx(usize, B, B),
    HDel(usize, Vec<B>),
    HIncrBy(usize, B, i64),
    HGet(usize, B),
    HMGet(usize, Vec<B>),
    HLen(usize),
    HExists(usize, B),
    HStrLen(usize, B),
    /// HKEYS and HVALS, checked against the model and against HGETALL.
    HKeysVals(usize),
    /// HRANDFIELD with these positions (taken modulo the hash's size).
    HRandField(usize, Vec<usize>),
    Del(usize),
    Set(usize, B),
    Get(usize),
}

/// Random operations, shaped so that the first key grows past 512 fields
/// and the others stay small, with fields and values sometimes at and
/// over 64 bytes, integers at the edges of `i64`, and texts that only
/// look like integers.
struct Gen {
    rng: fastrand::Rng,
    /// Whether the first key gets fields and values over 64 bytes too
    /// (when it does not, it crosses 512 fields while still a listpack).
    long_on_big: bool,
}

impl Gen {
    fn key(&mut self) -> usize {
        if self.rng.u32(0..100) < 40 {
            0
        } else {
            self.rng.usize(1..KEYS.len())
        }
    }

    fn long_ok(&self, k: usize) -> bool {
        k != 0 || self.long_on_big
    }

    fn field(&mut self, k: usize) -> B {
        match self.rng.u32(0..100) {
            0 if self.long_ok(k) => {
                let i = self.rng.usize(0..3);
                let mut f = format!("long{i}-").into_bytes();
                f.resize(LISTPACK_VALUE + 1 + i * 30, b'x');
                B(f)
            }
            1 | 2 => {
                // Exactly at the threshold: still a listpack.
                let mut f = b"edge-".to_vec();
                f.resize(LISTPACK_VALUE, b'e');
                B(f)
            }
            3 => b(""),
            4 => b(b"\x00\xff\r\n"),
            _ => {
                let pool = if k == 0 { BIG_POOL } else { SMALL_POOL };
                b(format!("f{}", self.rng.usize(0..pool)))
            }
        }
    }

    fn fields(&mut self, k: usize, most: usize) -> Vec<B> {
        let n = self.rng.usize(1..=most);
        (0..n).map(|_| self.field(k)).collect()
    }

    fn value(&mut self, k: usize) -> B {
        const EDGES: [&str; 6] = [
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775806",
            "-9223372036854775807",
            "0",
            "1",
        ];
        const NOT_INTEGERS: [&str; 15] = [
            "",
            "007",
            "-0",
            "+1",
            " 1",
            "1 ",
            "1.5",
            "abc",
            "9223372036854775808",
            "-9223372036854775809",
            "1e3",
            "0x10",
            "\0",
            "-",
            "99999999999999999999",
        ];
        match self.rng.u32(0..100) {
            0..=29 => b(self.rng.i64(-1000..=1000).to_string()),
            30..=35 => b(EDGES[self.rng.usize(0..EDGES.len())]),
            36..=47 => b(NOT_INTEGERS[self.rng.usize(0..NOT_INTEGERS.len())]),
            48 if self.long_ok(k) => {
                let len = [65, 66, 100, 300][self.rng.usize(0..4)];
                B((0..len).map(|i| b'a' + (i % 26) as u8).collect())
            }
            49 | 50 => {
                let len = [LISTPACK_VALUE - 1, LISTPACK_VALUE][self.rng.usize(0..2)];
                B(vec![b'v'; len])
            }
            _ => {
                let len = self.rng.usize(0..=16);
                B((0..len).map(|_| self.rng.u8(..)).collect())
            }
        }
    }

    fn delta(&mut self) -> i64 {
        match self.rng.u32(0..10) {
            0 => i64::MAX,
            1 => i64::MIN,
            2 => [1, -1, i64::MAX - 1, i64::MIN + 1][self.rng.usize(0..4)],
            _ => self.rng.i64(-100..=100),
        }
    }

    fn op(&mut self) -> Op {
        let r = self.rng.u32(0..1000);
        // DEL and SET pick any key alike, so the first is rarely wiped.
        if r >= 980 {
            let k = self.rng.usize(0..KEYS.len());
            return if r >= 985 {
                Op::Del(k)
            } else {
                let v = self.value(k);
                Op::Set(k, v)
            };
        }
        let k = self.key();
        match r {
            0..=219 => {
                // Big HSETs on the first key, for it to cross 512 fields
                // between two of its rare DELs or SETs.
                let most = if k == 0 { 80 } else { 4 };
                let n = self.rng.usize(1..=most);
                let mut pairs: Vec<(B, B)> =
                    (0..n).map(|_| (self.field(k), self.value(k))).collect();
                if self.rng.u32(0..10) == 0 {
                    // The same field twice in one HSET: the last value wins.
                    let again = pairs[0].0.clone();
                    let v = self.value(k);
                    pairs.push((again, v));
                }
                Op::HSet(k, pairs)
            }
            220..=299 => {
                let (f, v) = (self.field(k), self.value(k));
                Op::HSetNx(k, f, v)
            }
            300..=419 => {
                let most = if k == 0 { 6 } else { 5 };
                Op::HDel(k, self.fields(k, most))
            }
            420..=539 => {
                let f = self.field(k);
                Op::HIncrBy(k, f, self.delta())
            }
            540..=599 => Op::HGet(k, self.field(k)),
            600..=649 => Op::HMGet(k, self.fields(k, 5)),
            650..=679 => Op::HLen(k),
            680..=719 => Op::HExists(k, self.field(k)),
            720..=759 => Op::HStrLen(k, self.field(k)),
            760..=799 => Op::HKeysVals(k),
            800..=839 => {
                let n = self.rng.usize(1..=5);
                Op::HRandField(k, (0..n).map(|_| self.rng.usize(0..1000)).collect())
            }
            _ => Op::Get(k),
        }
    }
}

/// What the model test saw, to check the seeds reached what they are for.
#[derive(Debug, Default)]
struct Seen {
    /// Comparisons of HGETALL's order on a listpack of 2 fields or more.
    ordered: usize,
    /// The most fields a listpack had, and any hash had.
    most_listpack: usize,
    most_fields: usize,
    /// Hashes of at most 512 fields that converted (a long field or value).
    converted_small: usize,
    not_integer: usize,
    overflow: usize,
    wrong_type: usize,
    /// Keys removed by HDEL of their last field.
    emptied: usize,
}

fn owned(v: Vec<Bytes>) -> Vec<Vec<u8>> {
    v.into_iter().map(|b| b.to_vec()).collect()
}

/// HGETALL's answer as pairs, borrowed from it.
fn borrowed_pairs(flat: &[Bytes]) -> Vec<(&[u8], &[u8])> {
    flat.chunks(2)
        .map(|c| (&c[0][..], c.get(1).map_or(&[][..], |v| &v[..])))
        .collect()
}

fn to_pairs(flat: Vec<Bytes>) -> Vec<(Vec<u8>, Vec<u8>)> {
    flat.chunks(2)
        .map(|c| {
            (
                c[0].to_vec(),
                c.get(1).map(|v| v.to_vec()).unwrap_or_default(),
            )
        })
        .collect()
}

/// Runs `op` on `db` and on `model`, comparing the answers.
fn apply(db: &Db, model: &mut Model, op: &Op, seen: &mut Seen, ctx: &str) -> TestResult {
    match op {
        Op::HSet(k, pairs) => {
            let key = KEYS[*k];
            let refs: Vec<(&[u8], &[u8])> = pairs
                .iter()
                .map(|(f, v)| (f.0.as_slice(), v.0.as_slice()))
                .collect();
            let want = model.change(key, |h| {
                Ok(pairs.iter().filter(|(f, v)| h.insert(&f.0, &v.0)).count())
            });
            assert_eq!(db.hset(key, &refs), want, "{ctx}");
        }
        Op::HSetNx(k, f, v) => {
            let key = KEYS[*k];
            let want = model.change(key, |h| Ok(h.get(&f.0).is_none() && h.insert(&f.0, &v.0)));
            assert_eq!(db.hsetnx(key, &f.0, &v.0), want, "{ctx}");
        }
        Op::HDel(k, fields) => {
            let key = KEYS[*k];
            let existed = model.keys.contains_key(key);
            let want = model.change(key, |h| {
                Ok(fields.iter().filter(|f| h.remove(&f.0)).count())
            });
            if existed && want.is_ok() && !model.keys.contains_key(key) {
                seen.emptied += 1;
            }
            let refs: Vec<&[u8]> = fields.iter().map(|f| f.0.as_slice()).collect();
            assert_eq!(db.hdel(key, &refs), want, "{ctx}");
        }
        Op::HIncrBy(k, f, delta) => {
            let key = KEYS[*k];
            let want = model.change(key, |h| {
                let current = match h.get(&f.0) {
                    None => 0,
                    Some(v) => redis_int(v).ok_or(Error::HashNotInteger)?,
                };
                let new = current.checked_add(*delta).ok_or(Error::Overflow)?;
                h.insert(&f.0, new.to_string().as_bytes());
                Ok(new)
            });
            match want {
                Err(Error::HashNotInteger) => seen.not_integer += 1,
                Err(Error::Overflow) => seen.overflow += 1,
                _ => {}
            }
            assert_eq!(db.hincrby(key, &f.0, *delta), want, "{ctx}");
        }
        Op::HGet(k, f) => {
            let key = KEYS[*k];
            let want = model
                .hash(key)
                .map(|h| h.and_then(|h| h.get(&f.0)).map(<[u8]>::to_vec));
            let got = db.hget(key, &f.0).map(|v| v.map(|v| v.to_vec()));
            assert_eq!(got, want, "{ctx}");
        }
        Op::HMGet(k, fields) => {
            let key = KEYS[*k];
            let want = model.hash(key).map(|h| {
                fields
                    .iter()
                    .map(|f| h.and_then(|h| h.get(&f.0)).map(<[u8]>::to_vec))
                    .collect::<Vec<_>>()
            });
            let refs: Vec<&[u8]> = fields.iter().map(|f| f.0.as_slice()).collect();
            let got = db
                .hmget(key, &refs)
                .map(|vs| vs.into_iter().map(|v| v.map(|v| v.to_vec())).collect());
            assert_eq!(got, want, "{ctx}");
        }
        Op::HLen(k) => {
            let key = KEYS[*k];
            let want = model.hash(key).map(|h| h.map_or(0, |h| h.pairs.len()));
            assert_eq!(db.hlen(key), want, "{ctx}");
        }
        Op::HExists(k, f) => {
            let key = KEYS[*k];
            let want = model
                .hash(key)
                .map(|h| h.is_some_and(|h| h.get(&f.0).is_some()));
            assert_eq!(db.hexists(key, &f.0), want, "{ctx}");
        }
        Op::HStrLen(k, f) => {
            let key = KEYS[*k];
            let want = model
                .hash(key)
                .map(|h| h.and_then(|h| h.get(&f.0)).map_or(0, <[u8]>::len));
            assert_eq!(db.hstrlen(key, &f.0), want, "{ctx}");
        }
        Op::HKeysVals(k) => {
            let key = KEYS[*k];
            let keys = db.hgetall(key, HashPart::Fields).map(owned);
            let vals = db.hgetall(key, HashPart::Values).map(owned);
            match model.hash(key) {
                Err(e) => {
                    assert_eq!(keys, Err(e.clone()), "{ctx}");
                    assert_eq!(vals, Err(e), "{ctx}");
                }
                Ok(None) => {
                    assert_eq!(keys, Ok(Vec::new()), "{ctx}");
                    assert_eq!(vals, Ok(Vec::new()), "{ctx}");
                }
                Ok(Some(h)) => {
                    let (mut keys, mut vals) = (keys?, vals?);
                    // The three reads walk the same hash unchanged, so
                    // they agree with each other in any encoding.
                    let both = to_pairs(db.hgetall(key, HashPart::Both)?);
                    let (bk, bv): (Vec<_>, Vec<_>) = both.into_iter().unzip();
                    assert_eq!(keys, bk, "{ctx}: HKEYS against HGETALL");
                    assert_eq!(vals, bv, "{ctx}: HVALS against HGETALL");
                    let (mut mk, mut mv): (Vec<_>, Vec<_>) = h.pairs.iter().cloned().unzip();
                    if h.converted {
                        for v in [&mut keys, &mut vals, &mut mk, &mut mv] {
                            v.sort();
                        }
                    }
                    assert_eq!(keys, mk, "{ctx}: HKEYS");
                    assert_eq!(vals, mv, "{ctx}: HVALS");
                }
            }
        }
        Op::HRandField(k, raw) => {
            let key = KEYS[*k];
            let size = Cell::new(None);
            let got = db.hrandfield(key, |n| {
                size.set(Some(n));
                raw.iter().map(|r| r % n.max(1)).collect::<Vec<usize>>()
            });
            match model.hash(key) {
                Err(e) => assert_eq!(got, Err(e), "{ctx}"),
                Ok(None) => {
                    assert_eq!(got, Ok(None), "{ctx}");
                    assert_eq!(size.get(), None, "{ctx}: pick called for no key");
                }
                Ok(Some(h)) => {
                    let n = h.pairs.len();
                    assert_eq!(size.get(), Some(n), "{ctx}: the size given to pick");
                    let got = got?.ok_or("HRANDFIELD found no hash")?;
                    assert_eq!(got.len(), raw.len(), "{ctx}");
                    for (i, (f, v)) in got.iter().enumerate() {
                        let pair = (f.to_vec(), v.to_vec());
                        if h.converted {
                            assert!(h.pairs.contains(&pair), "{ctx}: picked {pair:?}");
                        } else {
                            // A listpack's positions are its insertion order.
                            assert_eq!(pair, h.pairs[raw[i] % n], "{ctx}: pick {i}");
                        }
                    }
                }
            }
        }
        Op::Del(k) => {
            let key = KEYS[*k];
            let want = usize::from(model.keys.remove(key).is_some());
            assert_eq!(db.del(&[key])?, want, "{ctx}");
        }
        Op::Set(k, v) => {
            let key = KEYS[*k];
            db.set(key, &v.0, SetOptions::default())?;
            model.keys.insert(key.to_vec(), MValue::Str(v.0.clone()));
        }
        Op::Get(k) => {
            let key = KEYS[*k];
            let want = match model.keys.get(key) {
                None => Ok(None),
                Some(MValue::Str(v)) => Ok(Some(v.clone())),
                Some(MValue::Hash(_)) => Err(Error::WrongType),
            };
            assert_eq!(db.get(key).map(|v| v.map(|v| v.to_vec())), want, "{ctx}");
        }
    }
    Ok(())
}

/// Every key's HLEN, HGETALL, EXISTS, TYPE and OBJECT ENCODING against
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
            Some(MValue::Hash(h)) => (Some(ValueType::Hash), Some(h.encoding())),
        };
        assert_eq!(db.key_type(key)?, kind, "{ctx}: TYPE");
        assert_eq!(db.encoding(key, |_| "string")?, encoding, "{ctx}: ENCODING");
        let all = db.hgetall(key, HashPart::Both);
        match value {
            None => {
                assert_eq!(db.hlen(key), Ok(0), "{ctx}: HLEN");
                assert_eq!(all, Ok(Vec::new()), "{ctx}: HGETALL");
            }
            Some(MValue::Str(_)) => {
                seen.wrong_type += 1;
                assert_eq!(db.hlen(key), Err(Error::WrongType), "{ctx}: HLEN");
                assert_eq!(all, Err(Error::WrongType), "{ctx}: HGETALL");
                assert_eq!(
                    db.hset(key, &[(b"f", b"v")]),
                    Err(Error::WrongType),
                    "{ctx}: HSET on a string"
                );
            }
            Some(MValue::Hash(h)) => {
                let n = h.pairs.len();
                assert_eq!(db.hlen(key), Ok(n), "{ctx}: HLEN");
                assert_eq!(db.get(key), Err(Error::WrongType), "{ctx}: GET on a hash");
                let all = all?;
                let pairs = borrowed_pairs(&all);
                seen.most_fields = seen.most_fields.max(n);
                if h.converted {
                    if n <= LISTPACK_ENTRIES {
                        seen.converted_small += 1;
                    }
                    let mut sorted = pairs;
                    sorted.sort_unstable();
                    assert_eq!(sorted, h.borrowed(), "{ctx}: HGETALL (as a set)");
                } else {
                    seen.most_listpack = seen.most_listpack.max(n);
                    if n >= 2 {
                        seen.ordered += 1;
                    }
                    assert_eq!(pairs, h.borrowed(), "{ctx}: HGETALL (in insertion order)");
                }
            }
        }
    }
    Ok(())
}

#[test]
fn random_hash_operations_match_a_model() -> TestResult {
    const STEPS: usize = 4000;
    let mut full_listpack = false;
    for seed in 1..=8u64 {
        let db = Db::default();
        let mut model = Model::default();
        let mut ops = Gen {
            rng: fastrand::Rng::with_seed(seed),
            long_on_big: seed % 2 == 0,
        };
        let mut seen = Seen::default();
        for step in 0..STEPS {
            let op = ops.op();
            let ctx = format!("seed {seed}, step {step}: {op:?}");
            apply(&db, &mut model, &op, &mut seen, &ctx)?;
            check_all(&db, &model, &mut seen, &ctx)?;
        }
        // The seeds reach what the test is for.
        let why = format!("seed {seed}: {seen:?}");
        assert!(seen.most_fields > LISTPACK_ENTRIES, "{why}");
        if !ops.long_on_big {
            assert!(seen.most_listpack > 400, "{why}");
        }
        full_listpack |= seen.most_listpack == LISTPACK_ENTRIES;
        assert!(seen.ordered > STEPS, "{why}");
        assert!(seen.converted_small > 0, "{why}");
        assert!(seen.not_integer > 0 && seen.overflow > 0, "{why}");
        assert!(seen.wrong_type > 0 && seen.emptied > 0, "{why}");
    }
    assert!(
        full_listpack,
        "no seed saw a listpack of exactly {LISTPACK_ENTRIES} fields"
    );
    Ok(())
}

#[test]
fn the_listpack_thresholds_are_redis_defaults() -> TestResult {
    let db = Db::default();
    let encoding = |key: &[u8]| db.encoding(key, |_| "string");

    // 512 fields stay a listpack, in order; the 513th converts.
    hset_all(&db, b"n", &numbered(LISTPACK_ENTRIES))?;
    db.hset(b"n", &[(b"f0", b"overwritten")])?;
    assert_eq!(encoding(b"n")?, Some("listpack"));
    let fields = owned(db.hgetall(b"n", HashPart::Fields)?);
    let want: Vec<Vec<u8>> = numbered(LISTPACK_ENTRIES)
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(fields, want);
    let next = format!("f{LISTPACK_ENTRIES}");
    assert_eq!(db.hincrby(b"n", next.as_bytes(), 1)?, 1);
    assert_eq!(encoding(b"n")?, Some("hashtable"));
    // Never back, however small it gets; a new hash starts small again.
    let gone: Vec<Vec<u8>> = (1..=LISTPACK_ENTRIES)
        .map(|i| format!("f{i}").into_bytes())
        .collect();
    let gone: Vec<&[u8]> = gone.iter().map(Vec::as_slice).collect();
    assert_eq!(db.hdel(b"n", &gone)?, LISTPACK_ENTRIES);
    assert_eq!(db.hlen(b"n")?, 1);
    assert_eq!(encoding(b"n")?, Some("hashtable"));
    assert_eq!(db.del(&[&b"n"[..]])?, 1);
    db.hset(b"n", &[(b"a", b"1")])?;
    assert_eq!(encoding(b"n")?, Some("listpack"));

    // 64 bytes stay a listpack; 65, in a field or a value, convert.
    let at = [b'x'; LISTPACK_VALUE];
    let over = [b'y'; LISTPACK_VALUE + 1];
    db.hset(b"v", &[(&at, &at)])?;
    assert_eq!(encoding(b"v")?, Some("listpack"));
    db.hset(b"v", &[(b"g", &over)])?;
    assert_eq!(encoding(b"v")?, Some("hashtable"));
    db.hset(b"f", &[(&over, b"1")])?;
    assert_eq!(encoding(b"f")?, Some("hashtable"));
    // HINCRBY of a long field converts, as Redis's hashTypeSet does.
    assert_eq!(db.hincrby(b"i", &over, 5)?, 5);
    assert_eq!(encoding(b"i")?, Some("hashtable"));
    // HSETNX that sets nothing converts nothing (Redis 7 checks first).
    db.hset(b"nx", &[(b"a", b"1")])?;
    assert!(!db.hsetnx(b"nx", b"a", &over)?);
    assert_eq!(encoding(b"nx")?, Some("listpack"));
    assert!(db.hsetnx(b"nx", b"b", &over)?);
    assert_eq!(encoding(b"nx")?, Some("hashtable"));
    Ok(())
}

#[test]
fn set_hash_listpack_changes_the_thresholds() -> TestResult {
    let db = Db::default();
    let encoding = |key: &[u8]| db.encoding(key, |_| "string");
    assert_eq!(
        Listpack::default(),
        Listpack {
            entries: LISTPACK_ENTRIES,
            value: LISTPACK_VALUE,
        }
    );
    db.set_hash_listpack(Listpack {
        entries: 4,
        value: 8,
    });

    // 4 fields stay a listpack, in order; the 5th converts.
    hset_all(&db, b"n", &numbered(4))?;
    assert_eq!(encoding(b"n")?, Some("listpack"));
    let fields = owned(db.hgetall(b"n", HashPart::Fields)?);
    assert_eq!(fields, [&b"f0"[..], b"f1", b"f2", b"f3"]);
    db.hset(b"n", &[(b"f4", b"4")])?;
    assert_eq!(encoding(b"n")?, Some("hashtable"));
    assert_eq!(db.hlen(b"n")?, 5);

    // 8 bytes stay a listpack; a 9-byte value converts.
    db.hset(b"v", &[(b"12345678", b"abcdefgh")])?;
    assert_eq!(encoding(b"v")?, Some("listpack"));
    db.hset(b"v", &[(b"g", b"123456789")])?;
    assert_eq!(encoding(b"v")?, Some("hashtable"));

    // Back to the defaults: a new hash holds 5 fields as a listpack; the
    // ones already converted stay hash tables.
    db.set_hash_listpack(Listpack::default());
    hset_all(&db, b"again", &numbered(5))?;
    assert_eq!(encoding(b"again")?, Some("listpack"));
    assert_eq!(db.hlen(b"again")?, 5);
    assert_eq!(encoding(b"n")?, Some("hashtable"));
    assert_eq!(encoding(b"v")?, Some("hashtable"));
    Ok(())
}

// ---------------------------------------------------------------------
// Restarts.

/// A data directory of its own, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("tandem-hashes-model-{}-{name}", std::process::id()));
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
    /// A hash's pairs sorted, or a string's value as one pair.
    sorted: Vec<(Vec<u8>, Vec<u8>)>,
    /// A listpack's pairs in HGETALL's order.
    ordered: Option<Vec<(Vec<u8>, Vec<u8>)>>,
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
            ValueType::Hash => {
                let pairs = to_pairs(db.hgetall(&key, HashPart::Both)?);
                let mut sorted = pairs.clone();
                sorted.sort();
                let ordered = (encoding == Some("listpack")).then_some(pairs);
                (sorted, ordered)
            }
            _ => {
                let value = db.get(&key)?.ok_or("a dumped key is missing")?;
                (vec![(Vec::new(), value.to_vec())], None)
            }
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

/// `after` holds what `before` did. `reshaped` names hashes that were
/// hash tables only for having grown once: they may load as listpacks,
/// as Redis loads them, so only their contents are compared.
fn assert_same(before: &State, after: &State, reshaped: &[&[u8]]) {
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
        if !reshaped.contains(&key.as_slice()) {
            assert_eq!(now.encoding, was.encoding, "{ctx}");
            assert_eq!(now.ordered, was.ordered, "{ctx}: listpack order");
        }
    }
}

fn open(dir: &Path) -> Result<(Store, tandem_engine::Recovery), Box<dyn std::error::Error>> {
    Ok(Store::open(
        dir,
        StoreOptions::default(),
        vec![Db::default()],
    )?)
}

fn hset_all(db: &Db, key: &[u8], pairs: &[(Vec<u8>, Vec<u8>)]) -> TestResult {
    for chunk in pairs.chunks(50) {
        let refs: Vec<(&[u8], &[u8])> = chunk
            .iter()
            .map(|(f, v)| (f.as_slice(), v.as_slice()))
            .collect();
        db.hset(key, &refs)?;
    }
    Ok(())
}

/// `n` fields `f0`.., each holding its number.
fn numbered(n: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    (0..n)
        .map(|i| (format!("f{i}").into_bytes(), i.to_string().into_bytes()))
        .collect()
}

#[test]
fn hashes_survive_restarts_through_the_log_and_a_snapshot() -> TestResult {
    let dir = TempDir::new("restart");
    let (store, _) = open(dir.path())?;
    let db = store.db(0).ok_or("no db 0")?;
    let far = (db.now_ms() + 3_600_000) as i64;

    // Through the log alone.
    db.hset(b"small", &[(b"a", b"1"), (b"b", b"2"), (b"c", b"3")])?;
    db.hdel(b"small", &[b"a"])?;
    db.hset(b"small", &[(b"a", b"again")])?;
    db.hincrby(b"small", b"n", 5)?;
    // Big enough to stay past 512 fields after losing half of them.
    hset_all(db, b"big", &numbered(1200))?;
    db.hset(b"long", &[(b"short", b"s"), (b"long", &[b'x'; 100])])?;
    db.hset(b"ttl-small", &[(b"x", b"1"), (b"y", b"2")])?;
    db.expire(
        b"ttl-small",
        Expiry::UnixMillis(far),
        ExpireCondition::Always,
    )?;
    hset_all(db, b"ttl-big", &numbered(600))?;
    db.expire(
        b"ttl-big",
        Expiry::UnixMillis(far + 1),
        ExpireCondition::Always,
    )?;
    hset_all(db, b"shrunk", &numbered(600))?;
    let gone: Vec<Vec<u8>> = (10..600).map(|i| format!("f{i}").into_bytes()).collect();
    db.hdel(
        b"shrunk",
        &gone.iter().map(Vec::as_slice).collect::<Vec<_>>(),
    )?;
    db.hset(b"bin\x00", &[(b"", b""), (b"\x00\xff", b"\r\n\x00")])?;
    db.hset(b"emptied", &[(b"x", b"1")])?;
    db.hdel(b"emptied", &[b"x"])?;
    db.set(b"string", b"plain", SetOptions::default())?;

    let before = state(db)?;
    let names: Vec<B> = before.keys().map(b).collect();
    assert_eq!(names.len(), 8, "{names:?}");
    assert_eq!(
        before[&b"small"[..]].ordered,
        Some(vec![
            (b"b".to_vec(), b"2".to_vec()),
            (b"c".to_vec(), b"3".to_vec()),
            (b"a".to_vec(), b"again".to_vec()),
            (b"n".to_vec(), b"5".to_vec()),
        ])
    );
    assert_eq!(before[&b"big"[..]].encoding, Some("hashtable"));
    assert_eq!(before[&b"ttl-big"[..]].encoding, Some("hashtable"));
    assert_eq!(before[&b"long"[..]].encoding, Some("hashtable"));
    assert_eq!(before[&b"shrunk"[..]].encoding, Some("hashtable"));
    assert_eq!(before[&b"ttl-small"[..]].deadline, Some(far as u64));
    store.close()?;
    drop(store);

    let (store, recovery) = open(dir.path())?;
    assert_eq!(recovery.snapshot, None);
    assert!(recovery.log_records > 0, "{recovery:?}");
    let db = store.db(0).ok_or("no db 0")?;
    assert_same(&before, &state(db)?, &[b"shrunk"]);

    // A snapshot, then more changes in the log after it.
    store.snapshot()?;
    let half: Vec<Vec<u8>> = (0..1200)
        .step_by(2)
        .map(|i| format!("f{i}").into_bytes())
        .collect();
    db.hdel(b"big", &half.iter().map(Vec::as_slice).collect::<Vec<_>>())?;
    assert_eq!(db.hincrby(b"big", b"f1", 10)?, 11);
    assert_eq!(db.hincrby(b"big", b"new", -3)?, -3);
    db.hdel(b"small", &[b"b", b"absent"])?;
    assert_eq!(db.hincrby(b"small", b"n", 10)?, 15);
    assert_eq!(db.del(&[&b"ttl-small"[..]])?, 1);
    assert_eq!(db.hdel(b"long", &[b"short", b"long"])?, 2);
    db.hset(b"ttl-big", &[(b"f0", b"changed")])?;
    db.hset(b"shrunk", &[(b"f0", b"changed")])?;
    // A listpack in the snapshot, a hash table in the log.
    db.hset(b"grown", &[(b"first", b"1")])?;
    store.snapshot()?;
    hset_all(db, b"grown", &numbered(LISTPACK_ENTRIES + 1))?;
    db.hset(b"after", &[(b"z", b"26"), (b"y", b"25")])?;

    let before = state(db)?;
    assert!(!before.contains_key(&b"ttl-small"[..]));
    assert!(!before.contains_key(&b"long"[..]));
    assert_eq!(before[&b"big"[..]].sorted.len(), 601);
    assert_eq!(before[&b"big"[..]].encoding, Some("hashtable"));
    assert_eq!(before[&b"grown"[..]].sorted.len(), LISTPACK_ENTRIES + 2);
    assert_eq!(before[&b"grown"[..]].encoding, Some("hashtable"));
    assert_eq!(before[&b"ttl-big"[..]].deadline, Some(far as u64 + 1));
    store.close()?;
    drop(store);

    let (store, recovery) = open(dir.path())?;
    assert!(recovery.snapshot.is_some(), "{recovery:?}");
    assert!(recovery.log_records > 0, "{recovery:?}");
    let db = store.db(0).ok_or("no db 0")?;
    assert_same(&before, &state(db)?, &[b"shrunk"]);
    store.close()?;
    Ok(())
}

// ---------------------------------------------------------------------
// WATCH versions.

#[test]
fn a_failed_or_empty_hash_command_keeps_the_watch_version() -> TestResult {
    let db = Db::default();
    // A listpack and a hash table.
    db.hset(b"h", &[(b"n", b"1"), (b"s", b"text")])?;
    hset_all(&db, b"t", &numbered(600))?;
    db.hset(b"t", &[(b"s", b"text")])?;
    assert_eq!(db.encoding(b"t", |_| "string")?, Some("hashtable"));
    for key in [&b"h"[..], b"t"] {
        let ctx = format!("key {:?}", b(key));
        let v0 = db.version(key)?;
        assert!(v0.is_some(), "{ctx}");

        assert_eq!(
            db.hincrby(key, b"s", 1),
            Err(Error::HashNotInteger),
            "{ctx}"
        );
        assert_eq!(db.version(key)?, v0, "{ctx}: after HINCRBY not an integer");
        assert_eq!(db.hdel(key, &[b"absent"]), Ok(0), "{ctx}");
        assert_eq!(db.version(key)?, v0, "{ctx}: after HDEL of an absent field");
        assert_eq!(
            db.hincrbyfloat(key, b"s", b"1.5"),
            Err(Error::HashNotFloat),
            "{ctx}"
        );
        assert_eq!(
            db.version(key)?,
            v0,
            "{ctx}: after HINCRBYFLOAT not a float"
        );
        assert_eq!(db.hsetnx(key, b"s", b"other"), Ok(false), "{ctx}");
        assert_eq!(
            db.version(key)?,
            v0,
            "{ctx}: after HSETNX of an existing field"
        );

        db.hset(key, &[(b"n", i64::MAX.to_string().as_bytes())])?;
        let v1 = db.version(key)?;
        assert_ne!(v1, v0, "{ctx}: after HSET");
        assert_eq!(db.hincrby(key, b"n", 1), Err(Error::Overflow), "{ctx}");
        assert_eq!(db.version(key)?, v1, "{ctx}: after HINCRBY overflowing");

        // HSET touches the key even when the value is the same, as in
        // Redis (which signals the key modified on every HSET).
        db.hset(key, &[(b"s", b"text")])?;
        let v2 = db.version(key)?;
        assert_ne!(v2, v1, "{ctx}: after HSET of the same value");
        assert_eq!(db.hincrby(key, b"n", -1)?, i64::MAX - 1, "{ctx}");
        assert_ne!(db.version(key)?, v2, "{ctx}: after a successful HINCRBY");
    }
    // A hash command refused on a string leaves the string's version.
    db.set(b"str", b"x", SetOptions::default())?;
    let v = db.version(b"str")?;
    assert_eq!(db.hset(b"str", &[(b"f", b"v")]), Err(Error::WrongType));
    assert_eq!(db.hdel(b"str", &[b"f"]), Err(Error::WrongType));
    assert_eq!(db.hincrby(b"str", b"f", 1), Err(Error::WrongType));
    assert_eq!(db.version(b"str")?, v);
    Ok(())
}
