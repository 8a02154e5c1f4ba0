//! Property test: random operations on a `Db` and on a plain `BTreeMap`
//! model must give the same results, on both memtables and any shard count,
//! while a manual clock moves so that keys expire mid-sequence.
//!
//! The model implements each command's semantics directly and naively; it
//! shares no code with the engine except `parse_i64` (tested on its own).

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;
use tandem_engine::clock::ManualClock;
use tandem_engine::prelude::*;
use tandem_engine::{parse_i64, MemtableKind, SetOutcome};

const T0: u64 = 1_000_000;

/// Key → (value, deadline in ms).
#[derive(Default, Debug)]
struct Model {
    map: BTreeMap<Vec<u8>, (Vec<u8>, Option<u64>)>,
    now: u64,
}

impl Model {
    fn live(&self, k: &[u8]) -> Option<&(Vec<u8>, Option<u64>)> {
        self.map
            .get(k)
            .filter(|(_, d)| d.is_none_or(|d| self.now <= d))
    }

    fn purge(&mut self, k: &[u8]) {
        if self.map.contains_key(k) && self.live(k).is_none() {
            self.map.remove(k);
        }
    }

    fn live_keys(&self) -> Vec<Vec<u8>> {
        self.map
            .keys()
            .filter(|k| self.live(k).is_some())
            .cloned()
            .collect()
    }
}

#[derive(Debug, Clone)]
enum Op {
    Set {
        k: usize,
        v: Vec<u8>,
        cond: u8,
        ttl: Option<i64>,
        keep: bool,
        get: bool,
    },
    Get(usize),
    GetDel(usize),
    Del(Vec<usize>),
    Exists(Vec<usize>),
    Incr(usize, i64),
    Append(usize, Vec<u8>),
    SetRange(usize, usize, Vec<u8>),
    GetRange(usize, i64, i64),
    Expire(usize, i64, u8),
    Persist(usize),
    Pttl(usize),
    Advance(u64),
    Range(usize, usize, usize),
    ScanAll(usize),
    MSet(Vec<(usize, Vec<u8>)>),
    MSetNx(Vec<(usize, Vec<u8>)>),
    MGet(Vec<usize>),
    Flush,
    /// Start a resize to this many shards (nothing if one is running).
    BeginResize(usize),
    /// Move up to this many entries of the running resize.
    Migrate(usize),
}

/// Few keys, so operations collide; several share their first 8 bytes, so
/// the scan merge must break ties on the full key.
const KEYS: [&[u8]; 13] = [
    b"",
    b"a",
    b"ab",
    b"b",
    b"k1",
    b"k10",
    b"k2",
    b"\xff\x00",
    b"\x00",
    b"zz",
    b"session:0001",
    b"session:0002",
    b"session:00010",
];

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => prop::collection::vec(any::<u8>(), 0..12),
        2 => (0i64..1000).prop_map(|n| n.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 4090..4200),
    ]
}

/// TTLs in ms: mostly tiny, so clock steps hit deadlines exactly.
fn ttl() -> impl Strategy<Value = i64> {
    prop_oneof![1i64..5, 1i64..3000]
}

fn op() -> impl Strategy<Value = Op> {
    op_over(KEYS.len(), 2)
}

/// Operations on the first `keys` keys, with `resizes` the weight of resize
/// steps; few keys and many resizes make a key's copies meet often.
fn op_over(keys: usize, resizes: u32) -> impl Strategy<Value = Op> {
    let key = move || 0..keys;
    prop_oneof![
        4 => (key(), value(), 0u8..3, prop::option::of(ttl()), any::<bool>(), any::<bool>())
            .prop_map(|(k, v, cond, ttl, keep, get)| Op::Set { k, v, cond, ttl, keep, get }),
        3 => key().prop_map(Op::Get),
        1 => key().prop_map(Op::GetDel),
        1 => prop::collection::vec(key(), 1..4).prop_map(Op::Del),
        1 => prop::collection::vec(key(), 1..4).prop_map(Op::Exists),
        2 => (key(), -5i64..5).prop_map(|(k, d)| Op::Incr(k, d)),
        2 => (key(), prop::collection::vec(any::<u8>(), 0..6)).prop_map(|(k, v)| Op::Append(k, v)),
        1 => (key(), 0usize..20, prop::collection::vec(any::<u8>(), 0..5))
            .prop_map(|(k, o, v)| Op::SetRange(k, o, v)),
        1 => (key(), -8i64..8, -8i64..8).prop_map(|(k, s, e)| Op::GetRange(k, s, e)),
        2 => (key(), prop_oneof![-3i64..6, -500i64..3000], 0u8..6).prop_map(|(k, t, c)| Op::Expire(k, t, c)),
        1 => key().prop_map(Op::Persist),
        1 => key().prop_map(Op::Pttl),
        // Small steps land exactly on deadlines; large ones expire many keys.
        2 => prop_oneof![0u64..3, 0u64..2000].prop_map(Op::Advance),
        2 => (key(), key(), 0usize..5).prop_map(|(a, b, l)| Op::Range(a, b, l)),
        1 => (1usize..6).prop_map(Op::ScanAll),
        1 => prop::collection::vec((key(), value()), 1..4).prop_map(Op::MSet),
        1 => prop::collection::vec((key(), value()), 1..4).prop_map(Op::MSetNx),
        1 => prop::collection::vec(key(), 1..4).prop_map(Op::MGet),
        1 => Just(Op::Flush),
        // Resizes are invisible to the model: every other operation must
        // give the same result on a half-migrated keyspace.
        resizes => (1usize..40).prop_map(Op::BeginResize),
        resizes => (1usize..8).prop_map(Op::Migrate),
    ]
}

fn cond(c: u8) -> SetCondition {
    match c {
        0 => SetCondition::Always,
        1 => SetCondition::IfAbsent,
        _ => SetCondition::IfPresent,
    }
}

fn expire_cond(c: u8) -> ExpireCondition {
    match c {
        0 => ExpireCondition::Always,
        1 => ExpireCondition::IfNone,
        2 => ExpireCondition::IfSome,
        3 => ExpireCondition::IfLater,
        4 => ExpireCondition::IfEarlier,
        _ => ExpireCondition::IfSomeEarlier,
    }
}

fn check(kind: MemtableKind, shards: usize, ops: Vec<Op>) {
    let clock = Arc::new(ManualClock::new(T0));
    let db = Db::new(
        Options::default()
            .memtable(kind)
            .shards(shards)
            // Requests must not finish a resize on their own, or the
            // half-migrated states the ops set up would not last.
            .migration_assist(0)
            .clock(clock.clone()),
    );
    let mut m = Model {
        now: T0,
        ..Default::default()
    };
    let b = |o: Option<&(Vec<u8>, Option<u64>)>| o.map(|(v, _)| v.clone());
    for op in ops {
        match op {
            Op::Set {
                k,
                v,
                cond: c,
                ttl,
                keep,
                get,
            } => {
                let key = KEYS[k];
                let ttl_opt = match (ttl, keep) {
                    (Some(ms), _) => SetTtl::At(Expiry::Millis(ms)),
                    (None, true) => SetTtl::Keep,
                    (None, false) => SetTtl::Clear,
                };
                let got = db
                    .set(
                        key,
                        &v,
                        SetOptions {
                            condition: cond(c),
                            ttl: ttl_opt,
                            get,
                        },
                    )
                    .unwrap();
                m.purge(key);
                let old = b(m.live(key));
                let exists = old.is_some();
                let write = match cond(c) {
                    SetCondition::Always => true,
                    SetCondition::IfAbsent => !exists,
                    SetCondition::IfPresent => exists,
                };
                if write {
                    let deadline = match (ttl, keep) {
                        (Some(ms), _) => Some(m.now + ms as u64),
                        (None, true) => m.live(key).and_then(|(_, d)| *d),
                        (None, false) => None,
                    };
                    m.map.insert(key.to_vec(), (v, deadline));
                }
                let want = SetOutcome {
                    written: write,
                    old: if get { old.map(Into::into) } else { None },
                };
                assert_eq!(got, want);
            }
            Op::Get(k) => assert_eq!(
                db.get(KEYS[k]).unwrap().map(|b| b.to_vec()),
                b(m.live(KEYS[k]))
            ),
            Op::GetDel(k) => {
                let want = b(m.live(KEYS[k]));
                m.map.remove(KEYS[k]);
                assert_eq!(db.get_del(KEYS[k]).unwrap().map(|b| b.to_vec()), want);
            }
            Op::Del(ks) => {
                let keys: Vec<&[u8]> = ks.iter().map(|&k| KEYS[k]).collect();
                let mut want = 0;
                for k in &keys {
                    if m.live(k).is_some() {
                        want += 1;
                    }
                    m.map.remove(*k);
                }
                assert_eq!(db.del(&keys).unwrap(), want);
            }
            Op::Exists(ks) => {
                let keys: Vec<&[u8]> = ks.iter().map(|&k| KEYS[k]).collect();
                let want = keys.iter().filter(|k| m.live(k).is_some()).count();
                assert_eq!(db.exists(&keys).unwrap(), want);
            }
            Op::Incr(k, d) => {
                let key = KEYS[k];
                m.purge(key);
                let want = match m.live(key) {
                    None => Ok(d),
                    Some((v, _)) => match parse_i64(v) {
                        None => Err(Error::NotInteger),
                        Some(n) => n.checked_add(d).ok_or(Error::Overflow),
                    },
                };
                if let Ok(n) = want {
                    let deadline = m.live(key).and_then(|(_, d)| *d);
                    m.map
                        .insert(key.to_vec(), (n.to_string().into_bytes(), deadline));
                }
                assert_eq!(db.incr_by(key, d), want);
            }
            Op::Append(k, tail) => {
                let key = KEYS[k];
                m.purge(key);
                let (mut v, d) = m.live(key).cloned().unwrap_or_default();
                v.extend_from_slice(&tail);
                let len = v.len();
                m.map.insert(key.to_vec(), (v, d));
                assert_eq!(db.append(key, &tail).unwrap(), len);
            }
            Op::SetRange(k, off, patch) => {
                let key = KEYS[k];
                m.purge(key);
                let want = match m.live(key).cloned() {
                    None if patch.is_empty() => 0,
                    Some((v, _)) if patch.is_empty() => v.len(),
                    cur => {
                        let (mut v, d) = cur.unwrap_or_default();
                        if v.len() < off + patch.len() {
                            v.resize(off + patch.len(), 0);
                        }
                        v[off..off + patch.len()].copy_from_slice(&patch);
                        let len = v.len();
                        m.map.insert(key.to_vec(), (v, d));
                        len
                    }
                };
                assert_eq!(db.set_range(key, off, &patch).unwrap(), want);
            }
            Op::GetRange(k, s, e) => {
                let v = b(m.live(KEYS[k])).unwrap_or_default();
                let len = v.len() as i64;
                let norm = |i: i64| if i < 0 { (len + i).max(0) } else { i };
                let (s2, e2) = (norm(s), norm(e).min(len - 1));
                let want = if (s < 0 && e < 0 && s > e) || len == 0 || s2 > e2 {
                    Vec::new()
                } else {
                    v[s2 as usize..=e2 as usize].to_vec()
                };
                assert_eq!(db.get_range(KEYS[k], s, e).unwrap().to_vec(), want);
            }
            Op::Expire(k, ms, c) => {
                let key = KEYS[k];
                m.purge(key);
                let when = m.now as i64 + ms;
                let want = match m.live(key) {
                    None => false,
                    Some((_, cur)) => {
                        let ok = match expire_cond(c) {
                            ExpireCondition::Always => true,
                            ExpireCondition::IfNone => cur.is_none(),
                            ExpireCondition::IfSome => cur.is_some(),
                            ExpireCondition::IfLater => cur.is_some_and(|c| when > c as i64),
                            ExpireCondition::IfEarlier => cur.is_none_or(|c| when < c as i64),
                            ExpireCondition::IfSomeEarlier => cur.is_some_and(|c| when < c as i64),
                        };
                        if ok && when <= m.now as i64 {
                            m.map.remove(key);
                        } else if ok {
                            m.map.get_mut(key).unwrap().1 = Some(when as u64);
                        }
                        ok
                    }
                };
                assert_eq!(
                    db.expire(key, Expiry::Millis(ms), expire_cond(c)).unwrap(),
                    want
                );
            }
            Op::Persist(k) => {
                let key = KEYS[k];
                m.purge(key);
                let want = match m.map.get_mut(key) {
                    Some((_, d)) if d.is_some() => {
                        *d = None;
                        true
                    }
                    _ => false,
                };
                assert_eq!(db.persist(key).unwrap(), want);
            }
            Op::Pttl(k) => {
                let want = match m.live(KEYS[k]) {
                    None => -2,
                    Some((_, None)) => -1,
                    Some((_, Some(d))) => (d - m.now) as i64,
                };
                assert_eq!(db.pttl(KEYS[k]).unwrap(), want);
            }
            Op::Advance(ms) => {
                clock.advance(ms);
                m.now += ms;
            }
            Op::Range(a, z, limit) => {
                let (start, end) = (KEYS[a], KEYS[z]);
                let live = m.live_keys();
                let matching: Vec<&Vec<u8>> = live
                    .iter()
                    .filter(|k| k.as_slice() >= start && k.as_slice() < end)
                    .collect();
                let page = db.range(Bound::Included(start), Bound::Excluded(end), limit);
                let got: Vec<Vec<u8>> = page.iter().map(|(k, _)| k.to_vec()).collect();
                let want: Vec<Vec<u8>> = matching.iter().take(limit).map(|k| k.to_vec()).collect();
                assert_eq!(got, want);
                for (k, v) in page.iter() {
                    assert_eq!(Some(v.to_vec()), b(m.live(k)));
                }
                assert_eq!(
                    page.next_start().map(<[u8]>::to_vec),
                    matching.get(limit).map(|k| k.to_vec())
                );
            }
            Op::ScanAll(count) => {
                let mut cursor = 0;
                let mut got = Vec::new();
                loop {
                    let page = db
                        .scan(
                            cursor,
                            ScanOptions {
                                count,
                                ..Default::default()
                            },
                        )
                        .unwrap();
                    got.extend(page.keys.iter().map(|k| k.to_vec()));
                    cursor = page.cursor;
                    if cursor == 0 {
                        break;
                    }
                }
                got.sort();
                assert_eq!(got, m.live_keys());
            }
            Op::MSet(pairs) => {
                let pairs: Vec<(&[u8], Vec<u8>)> =
                    pairs.into_iter().map(|(k, v)| (KEYS[k], v)).collect();
                for (k, v) in &pairs {
                    m.map.insert(k.to_vec(), (v.clone(), None));
                }
                db.mset(&pairs).unwrap();
            }
            Op::MSetNx(pairs) => {
                let pairs: Vec<(&[u8], Vec<u8>)> =
                    pairs.into_iter().map(|(k, v)| (KEYS[k], v)).collect();
                let any = pairs.iter().any(|(k, _)| m.live(k).is_some());
                if !any {
                    for (k, v) in &pairs {
                        m.map.insert(k.to_vec(), (v.clone(), None));
                    }
                }
                assert_eq!(db.msetnx(&pairs).unwrap(), !any);
            }
            Op::MGet(ks) => {
                let keys: Vec<&[u8]> = ks.iter().map(|&k| KEYS[k]).collect();
                let want: Vec<Option<Vec<u8>>> = keys.iter().map(|k| b(m.live(k))).collect();
                let got: Vec<Option<Vec<u8>>> = db
                    .mget(&keys)
                    .unwrap()
                    .into_iter()
                    .map(|o| o.map(|b| b.to_vec()))
                    .collect();
                assert_eq!(got, want);
            }
            Op::Flush => {
                m.map.clear();
                db.flush();
            }
            Op::BeginResize(shards) => {
                db.begin_resize(shards);
            }
            Op::Migrate(n) => {
                db.migrate_step(n);
            }
        }
    }
    // Finishing any resize changes nothing either. DBSIZE counts expired
    // keys not yet removed, and a migration removes the ones it meets, so
    // it lies between the live count and the model's stored count.
    while db.migrate_step(3) {}
    let size = db.dbsize();
    assert!(
        m.live_keys().len() <= size && size <= m.map.len(),
        "dbsize {size}"
    );
    // Finally the whole keyspace agrees, in order.
    let all: Vec<Vec<u8>> = db
        .range_iter(Bound::Unbounded, Bound::Unbounded)
        .map(|(k, _)| k.to_vec())
        .collect();
    assert_eq!(all, m.live_keys());
    // The stats' running tallies agree too, once everything due is gone.
    db.reap_expired();
    let stats = db.stats();
    let live = m.live_keys();
    let volatile = live
        .iter()
        .filter(|k| m.live(k).is_some_and(|(_, d)| d.is_some()))
        .count();
    assert_eq!((stats.keys, stats.volatile_keys), (live.len(), volatile));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn sharded_matches_model(shards in 1usize..40, ops in prop::collection::vec(op(), 1..120)) {
        check(MemtableKind::Sharded, shards, ops);
    }

    #[test]
    fn single_lock_matches_model(ops in prop::collection::vec(op(), 1..120)) {
        check(MemtableKind::SingleLock, 1, ops);
    }
}

proptest! {
    // Cheap cases, and the sequences that matter (a key written during a
    // resize, then read or changed) are rare: many cases.
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    #[test]
    fn resizing_matches_model(ops in prop::collection::vec(op_over(3, 8), 1..60)) {
        check(MemtableKind::Sharded, 1, ops);
    }
}
