//! Collections in the durable store: a change in place is logged as its
//! edits, not the whole collection, and replaying those edits over a
//! snapshot taken while writers run (some keys read before a change,
//! some after, some deleted and made again) ends exactly where the
//! writers left off: every element, every deadline, every list's change
//! count.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tandem_engine::prelude::*;
use tandem_engine::storage::backend::{Backend, SimFs};
use tandem_engine::storage::wal::SyncPolicy;
use tandem_engine::{Background, Store, StoreOptions, ValueType, ZAddFlags};

/// A value as a reader sees it: a hash's fields, a set's and a sorted
/// set's members sorted (their order in a table means nothing; a sorted
/// set's order follows from its scores), a list in order with its change
/// count.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    String(Vec<u8>),
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    Set(Vec<Vec<u8>>),
    List(Vec<Vec<u8>>, u64),
    ZSet(Vec<(Vec<u8>, u64)>),
}

type State = BTreeMap<Vec<u8>, (Value, Option<u64>)>;

struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn varint(&mut self) -> u64 {
        let mut v = 0u64;
        for i in 0.. {
            let b = self.0[0];
            self.0 = &self.0[1..];
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                break;
            }
        }
        v
    }

    fn bytes(&mut self) -> Vec<u8> {
        let n = self.varint() as usize;
        let (b, rest) = self.0.split_at(n);
        self.0 = rest;
        b.to_vec()
    }
}

fn value(kind: ValueType, raw: &[u8]) -> Value {
    let mut r = Bytes(raw);
    match kind {
        ValueType::String => Value::String(raw.to_vec()),
        ValueType::Hash => {
            let n = r.varint();
            let mut v: Vec<_> = (0..n).map(|_| (r.bytes(), r.bytes())).collect();
            v.sort();
            Value::Hash(v)
        }
        ValueType::Set => {
            let n = r.varint();
            let mut v: Vec<_> = (0..n).map(|_| r.bytes()).collect();
            v.sort();
            Value::Set(v)
        }
        ValueType::List => {
            let n = r.varint();
            let v = (0..n).map(|_| r.bytes()).collect();
            let seq = if r.0.is_empty() { 0 } else { r.varint() };
            Value::List(v, seq)
        }
        ValueType::ZSet => {
            let n = r.varint();
            // Sorted by member: a big sorted set copied in steps is
            // written in its table's order (the loader sorts it).
            let mut v: Vec<_> = (0..n)
                .map(|_| {
                    let m = r.bytes();
                    let (s, rest) = r.0.split_at(8);
                    r.0 = rest;
                    (m, u64::from_le_bytes(s.try_into().unwrap()))
                })
                .collect();
            v.sort();
            Value::ZSet(v)
        }
        other => panic!("no such type in this test: {other:?}"),
    }
}

fn state(db: &Db) -> State {
    let mut out = State::new();
    db.dump::<()>(|e| {
        out.insert(e.key.to_vec(), (value(e.kind, e.value), e.deadline));
        Ok(())
    })
    .unwrap();
    out
}

fn db() -> Db {
    Db::new(Options::default().shards(4).background(Background::new()))
}

fn dir() -> PathBuf {
    PathBuf::from("/data")
}

fn open(dir: &Path, options: &StoreOptions) -> Store {
    Store::open(dir, options.clone(), vec![db()]).unwrap().0
}

/// The store on what `fs` kept after a kill -9 (the page cache: every
/// write, nothing lost that was written).
fn killed_and_reopened(fs: &SimFs, options: StoreOptions) -> Store {
    let options = StoreOptions {
        fs: Arc::new(fs.kill()),
        ..options
    };
    Store::open(&dir(), options, vec![db()]).unwrap().0
}

fn options(fs: &SimFs, appendonly: bool) -> StoreOptions {
    StoreOptions {
        fs: Arc::new(fs.clone()) as Arc<dyn Backend>,
        appendonly,
        sync: SyncPolicy::No,
        ..StoreOptions::default()
    }
}

/// xorshift: the writers' choices, reproducible per thread.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

const KEYS: u64 = 40;

/// One random change to one of `KEYS` keys of each type: every command
/// family that changes a collection in place, deletes that make a key
/// anew (so a stale record meets a newer collection), and deadlines
/// set and cleared.
fn change(db: &Db, rng: &mut Rng, far: u64) {
    let k = rng.below(KEYS);
    let e = format!("e{}", rng.below(300));
    let e = e.as_bytes();
    let end = if rng.below(2) == 0 {
        End::Left
    } else {
        End::Right
    };
    match rng.below(24) {
        0..=3 => {
            let key = format!("list{k}");
            db.push(key.as_bytes(), end, &[e, b"x"], false).unwrap();
        }
        4 | 5 => drop(db.pop(format!("list{k}").as_bytes(), end, 1).unwrap()),
        6 => drop(db.lset(format!("list{k}").as_bytes(), rng.below(8) as i64, e)),
        7 => drop(db.linsert(format!("list{k}").as_bytes(), true, b"x", e)),
        8 => drop(db.lrem(format!("list{k}").as_bytes(), -1, b"x")),
        9 => drop(db.ltrim(format!("list{k}").as_bytes(), 1, 60)),
        10 | 11 => {
            let v = format!("{}", rng.below(1000));
            db.hset(format!("hash{k}").as_bytes(), &[(e, v.as_bytes())])
                .unwrap();
        }
        12 => {
            db.hdel(format!("hash{k}").as_bytes(), &[e]).unwrap();
        }
        13 => drop(db.hincrby(format!("hash{k}").as_bytes(), b"n", 1)),
        14 | 15 => {
            db.sadd(format!("set{k}").as_bytes(), &[e]).unwrap();
        }
        16 => {
            db.srem(format!("set{k}").as_bytes(), &[e]).unwrap();
        }
        17 => {
            let pairs = [(rng.below(50) as f64 - 10.5, e)];
            let key = format!("zset{k}");
            db.zadd(key.as_bytes(), ZAddFlags::default(), false, &pairs)
                .unwrap();
        }
        18 => drop(db.zincrby(format!("zset{k}").as_bytes(), 1.5, e)),
        19 => drop(db.zpop(format!("zset{k}").as_bytes(), false, 1).unwrap()),
        20 => {
            let kind = ["list", "hash", "set", "zset"][rng.below(4) as usize];
            db.del(&[format!("{kind}{k}").as_bytes()]).unwrap();
        }
        21 => {
            let kind = ["list", "hash", "set", "zset"][rng.below(4) as usize];
            let key = format!("{kind}{k}");
            let at = Expiry::UnixMillis((far + rng.below(1000)) as i64);
            db.expire(key.as_bytes(), at, ExpireCondition::Always)
                .unwrap();
        }
        22 => {
            let kind = ["list", "hash", "set", "zset"][rng.below(4) as usize];
            db.persist(format!("{kind}{k}").as_bytes()).unwrap();
        }
        _ => {
            let key = format!("list{k}");
            drop(db.lmove(key.as_bytes(), key.as_bytes(), End::Left, End::Right));
        }
    }
}

fn far() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
        + 3_600_000
}

/// Stops the `writers`, takes one more snapshot if the log is off (else
/// what they wrote since the last one is not kept), kills and reopens the
/// store, and checks it replays to exactly what the writers left: that
/// state, returned.
fn stop_and_replay(
    store: Store,
    db: &Db,
    fs: &SimFs,
    options: StoreOptions,
    stop: &AtomicBool,
    writers: Vec<std::thread::JoinHandle<()>>,
) -> State {
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    let appendonly = options.appendonly;
    if !appendonly {
        store.snapshot().unwrap();
    }
    let now = state(db);
    store.close().unwrap();
    let again = killed_and_reopened(fs, options);
    let replayed = state(again.db(0).unwrap());
    for (key, v) in &now {
        // Not assert_eq!: a big value's debug print runs to megabytes.
        assert!(
            replayed.get(key) == Some(v),
            "{} (appendonly {appendonly})",
            String::from_utf8_lossy(key)
        );
    }
    assert_eq!(replayed.len(), now.len());
    now
}

#[test]
fn snapshots_taken_while_collections_change_replay_exactly() {
    for appendonly in [true, false] {
        let fs = SimFs::new();
        let options = options(&fs, appendonly);
        let store = open(&dir(), &options);
        let db = store.db(0).unwrap().clone();
        let far = far();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            change(&db, &mut rng, far);
        }
        // Keys a snapshot reads first (in key order), so that it reads the
        // collections after the writers changed them, with those changes
        // also in the log it replays.
        for chunk in 0..100u32 {
            let pairs: Vec<(Vec<u8>, Vec<u8>)> = (0..2_000u32)
                .map(|i| {
                    (
                        format!("a{chunk:03}{i:05}").into_bytes(),
                        b"filler".to_vec(),
                    )
                })
                .collect();
            let refs: Vec<(&[u8], &[u8])> = pairs.iter().map(|(k, v)| (&k[..], &v[..])).collect();
            db.mset(&refs).unwrap();
        }
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..2u64)
            .map(|t| {
                let db = db.clone();
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ (t + 1));
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) || n < 20_000 {
                        change(&db, &mut rng, far);
                        n += 1;
                    }
                })
            })
            .collect();
        for _ in 0..4 {
            store.snapshot().unwrap();
        }
        let now = stop_and_replay(store, &db, &fs, options, &stop, writers);
        assert!(now.len() > 100, "the workload keeps keys: {}", now.len());
    }
}

#[test]
fn a_change_to_a_big_collection_logs_what_changed_not_the_collection() {
    let fs = SimFs::new();
    let options = options(&fs, true);
    let store = open(&dir(), &options);
    let db = store.db(0).unwrap();
    let wal = store.journal().unwrap().wal().clone();
    let element = [b'v'; 64];
    for _ in 0..1_000 {
        let batch: Vec<&[u8]> = vec![&element[..]; 100];
        db.push(b"queue", End::Right, &batch, false).unwrap();
    }
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = (0..100_000)
        .map(|i| (format!("f{i}").into_bytes(), element.to_vec()))
        .collect();
    for chunk in pairs.chunks(1_000) {
        let refs: Vec<(&[u8], &[u8])> = chunk.iter().map(|(f, v)| (&f[..], &v[..])).collect();
        db.hset(b"hash", &refs).unwrap();
    }
    // Filling logs each batch once: about the data, not its square.
    assert!(wal.next_lsn() < 40 << 20, "{}", wal.next_lsn());
    let before = wal.next_lsn();
    for i in 0..1_000u32 {
        db.push(b"queue", End::Left, &[&i.to_le_bytes()], false)
            .unwrap();
        db.pop(b"queue", End::Right, 1).unwrap();
        db.hset(b"hash", &[(b"f1", &i.to_le_bytes())]).unwrap();
        db.expire(
            b"hash",
            Expiry::UnixMillis(far() as i64),
            ExpireCondition::Always,
        )
        .unwrap();
    }
    // 4,000 changes to two collections of 6+ MB each: bytes per change,
    // not megabytes.
    let logged = wal.next_lsn() - before;
    assert!(logged < 4_000 * 100, "{logged} bytes for 4,000 changes");
    let now = state(db);
    store.close().unwrap();
    let again = killed_and_reopened(&fs, options);
    assert_eq!(state(again.db(0).unwrap()), now);
}

#[test]
fn a_deadline_that_passed_while_down_expires_unless_a_later_record_cleared_it() {
    use tandem_engine::clock::ManualClock;
    let fs = SimFs::new();
    let options = options(&fs, true);
    let clock = Arc::new(ManualClock::new(1_000_000));
    let with_clock = || Db::new(Options::default().shards(4).clock(clock.clone()));
    let (store, _) = Store::open(&dir(), options.clone(), vec![with_clock()]).unwrap();
    let db = store.db(0).unwrap();
    for key in [&b"kept"[..], b"expired", b"string"] {
        if key == b"string" {
            db.set(key, b"v", SetOptions::default()).unwrap();
        } else {
            db.sadd(key, &[b"m"]).unwrap();
        }
        db.expire(key, Expiry::UnixMillis(1_000_100), ExpireCondition::Always)
            .unwrap();
    }
    db.persist(b"kept").unwrap();
    db.expire(
        b"kept",
        Expiry::UnixMillis(9_000_000),
        ExpireCondition::Always,
    )
    .unwrap();
    store.close().unwrap();
    clock.set(2_000_000);
    let (again, recovery) = Store::open(
        &dir(),
        StoreOptions {
            fs: Arc::new(fs.kill()),
            ..options
        },
        vec![with_clock()],
    )
    .unwrap();
    let got = state(again.db(0).unwrap());
    assert_eq!(got.keys().collect::<Vec<_>>(), [&b"kept".to_vec()]);
    assert_eq!(got[&b"kept".to_vec()].1, Some(9_000_000));
    assert_eq!(recovery.expired, 2);
    assert_eq!(recovery.keys, 1);
}

/// Big keys: each type's table encoding, and a list (copied whole).
const BIG: usize = 20_000;

/// Fills `hash{k}`, `set{k}`, `zset{k}` and `list{k}` with `BIG` elements
/// each, tagged `round` (so a key made again holds other elements).
fn fill_big(db: &Db, k: u64, round: u64) {
    let names: Vec<Vec<u8>> = (0..BIG)
        .map(|i| format!("r{round}-e{i}").into_bytes())
        .collect();
    let refs: Vec<&[u8]> = names.iter().map(|n| &n[..]).collect();
    for chunk in refs.chunks(1_000) {
        let pairs: Vec<(&[u8], &[u8])> = chunk.iter().map(|n| (*n, *n)).collect();
        db.hset(format!("hash{k}").as_bytes(), &pairs).unwrap();
        db.sadd(format!("set{k}").as_bytes(), chunk).unwrap();
        let scored: Vec<(f64, &[u8])> = chunk.iter().map(|n| (n.len() as f64, *n)).collect();
        db.zadd(
            format!("zset{k}").as_bytes(),
            ZAddFlags::default(),
            false,
            &scored,
        )
        .unwrap();
        db.push(format!("list{k}").as_bytes(), End::Right, chunk, false)
            .unwrap();
    }
}

/// One random change to one of three big keys of each type: elements
/// set, removed and re-added (some behind a copy's cursor, some ahead),
/// and now and then a key deleted and made again (a new table, whose
/// order a copy in progress must not follow).
fn change_big(db: &Db, rng: &mut Rng, round: &mut u64) {
    let k = rng.below(3);
    let e = format!("r0-e{}", rng.below(BIG as u64 + 2_000));
    let e = e.as_bytes();
    match rng.below(400) {
        0 => {
            let kind = ["hash", "set", "zset"][rng.below(3) as usize];
            db.del(&[format!("{kind}{k}").as_bytes()]).unwrap();
            *round += 1;
            fill_big(db, k, *round);
        }
        1..=60 => {
            db.hset(format!("hash{k}").as_bytes(), &[(e, b"changed")])
                .unwrap();
        }
        61..=120 => drop(db.hdel(format!("hash{k}").as_bytes(), &[e]).unwrap()),
        121..=180 => drop(db.sadd(format!("set{k}").as_bytes(), &[e]).unwrap()),
        181..=240 => drop(db.srem(format!("set{k}").as_bytes(), &[e]).unwrap()),
        241..=300 => {
            let pairs = [(rng.below(50) as f64, e)];
            db.zadd(
                format!("zset{k}").as_bytes(),
                ZAddFlags::default(),
                false,
                &pairs,
            )
            .unwrap();
        }
        301..=360 => drop(db.zrem(format!("zset{k}").as_bytes(), &[e]).unwrap()),
        _ => {
            let key = format!("list{k}");
            db.push(key.as_bytes(), End::Left, &[e], false).unwrap();
            db.pop(key.as_bytes(), End::Right, 1).unwrap();
        }
    }
}

#[test]
fn big_collections_copied_in_steps_while_they_change_replay_exactly() {
    for appendonly in [true, false] {
        let fs = SimFs::new();
        let options = options(&fs, appendonly);
        let store = open(&dir(), &options);
        let db = store.db(0).unwrap().clone();
        for k in 0..3 {
            fill_big(&db, k, 0);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..2u64)
            .map(|t| {
                let db = db.clone();
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ (t + 1));
                    let mut round = 1_000 * (t + 1);
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) || n < 20_000 {
                        change_big(&db, &mut rng, &mut round);
                        n += 1;
                    }
                })
            })
            .collect();
        for _ in 0..4 {
            let info = store.snapshot().unwrap();
            // Twelve big values (fewer if one was being made again as the
            // snapshot read it): each hash, set and sorted set in at least
            // BIG / 4,096 steps, each list in one.
            let stepped = info.stepped;
            assert!(
                (10..=12).contains(&stepped.stepped_values) && stepped.steps >= 30,
                "{stepped:?}"
            );
        }
        stop_and_replay(store, &db, &fs, options, &stop, writers);
    }
}
