//! Resizes forced back to back while threads work a small hot key set.
//! Each test checks invariants a broken handoff would violate: counters
//! that lose increments, deleted keys that come back, stale or invented
//! reads, atomic batches seen half-applied, scans that miss or repeat keys.
//! Bounded by operation and resize counts, not time.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use tandem_engine::prelude::*;
use tandem_engine::{parse_i64, ResizeReason, ResizeState};

/// Shard counts the resizer cycles through: growth, shrinking, and counts
/// that are not powers of two (forced resizes may ask for any).
const TARGETS: [usize; 12] = [2, 4, 8, 16, 8, 3, 1, 32, 5, 2, 64, 1];

/// Each thread's generator is seeded, so failures reproduce.
fn seeded(seed: u64) -> fastrand::Rng {
    fastrand::Rng::with_seed(seed)
}

fn fixed_db() -> Db {
    // A fixed shard count: only the test's own resizes happen, and requests
    // do not help migrate, so a test sees each half-migrated state it sets
    // up. Unpaced, so that `resize` goes as fast as it can.
    Db::new(
        Options::default()
            .shards(1)
            .migration_assist(0)
            .migration_share(1.0),
    )
}

/// Keeps forcing resizes, in small migration steps so that workers spend
/// much of their time against a half-migrated keyspace, until `stop`.
/// `finished` counts the resizes done so far.
fn resizer(db: Db, stop: Arc<AtomicBool>, finished: Arc<AtomicUsize>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut rng = seeded(0x5eed);
        let mut i = 0;
        while !stop.load(Ordering::SeqCst) {
            if db.begin_resize(TARGETS[i % TARGETS.len()]) {
                while db.migrate_step(1 + rng.usize(..16)) {
                    if rng.usize(..4) == 0 {
                        thread::yield_now();
                    }
                }
                finished.fetch_add(1, Ordering::SeqCst);
            }
            i += 1;
        }
    })
}

#[test]
fn hot_keys_survive_back_to_back_resizes() {
    hot_keys_survive(fixed_db());
}

/// The same with requests taking migration steps too, between the
/// resizer's: each request after an unpaced step tries the next one.
#[test]
fn hot_keys_survive_resizes_that_requests_help_along() {
    hot_keys_survive(Db::new(
        Options::default()
            .shards(1)
            .migration_assist(3)
            .migration_share(1.0),
    ));
}

fn hot_keys_survive(db: Db) {
    const WORKERS: usize = 6;
    const OPS: usize = 12_000;
    const COUNTERS: usize = 4;
    const REGISTERS: usize = 4;
    const DOOMED: usize = 64;
    // Per (writer, register): the last sequence fully written, and the
    // highest one started.
    let written: Arc<Vec<AtomicU64>> = Arc::new(
        (0..WORKERS * REGISTERS)
            .map(|_| AtomicU64::new(0))
            .collect(),
    );
    let started: Arc<Vec<AtomicU64>> = Arc::new(
        (0..WORKERS * REGISTERS)
            .map(|_| AtomicU64::new(0))
            .collect(),
    );
    // Per (writer, doomed key): ALIVE, then DELETING once its delete
    // starts, then DELETED (never to be seen again) once it returned.
    const ALIVE: u8 = 0;
    const DELETING: u8 = 1;
    const DELETED: u8 = 2;
    let deleted: Arc<Vec<AtomicU8>> = Arc::new(
        (0..WORKERS * DOOMED)
            .map(|_| AtomicU8::new(ALIVE))
            .collect(),
    );
    for w in 0..WORKERS {
        for d in 0..DOOMED {
            db.set(
                format!("doomed:{w}:{d}").as_bytes(),
                b"alive",
                SetOptions::default(),
            )
            .unwrap();
        }
    }
    for a in 0..8 {
        db.set(
            format!("acct:{a}").as_bytes(),
            b"100",
            SetOptions::default(),
        )
        .unwrap();
    }
    let increments = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicUsize::new(0));
    let resizer = resizer(db.clone(), stop.clone(), finished.clone());
    let barrier = Arc::new(Barrier::new(WORKERS));
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (db, written, started, deleted, increments, barrier, finished) = (
                db.clone(),
                written.clone(),
                started.clone(),
                deleted.clone(),
                increments.clone(),
                barrier.clone(),
                finished.clone(),
            );
            thread::spawn(move || {
                let mut rng = seeded(w as u64 * 7919 + 1);
                let mut seq = 0u64;
                let mut next_doomed = 0;
                barrier.wait();
                // At least OPS operations, and on until 20 resizes overlapped.
                let mut n = 0;
                while n < OPS || finished.load(Ordering::SeqCst) < 20 {
                    n += 1;
                    match rng.usize(..7) {
                        0 => {
                            db.incr_by(format!("counter:{}", rng.usize(..COUNTERS)).as_bytes(), 1)
                                .unwrap();
                            increments.fetch_add(1, Ordering::SeqCst);
                        }
                        1 => {
                            // Write my own register with the next sequence.
                            let r = rng.usize(..REGISTERS);
                            seq += 1;
                            started[w * REGISTERS + r].store(seq, Ordering::SeqCst);
                            db.set(
                                format!("reg:{w}:{r}").as_bytes(),
                                seq.to_string().as_bytes(),
                                SetOptions::default(),
                            )
                            .unwrap();
                            written[w * REGISTERS + r].store(seq, Ordering::SeqCst);
                        }
                        2 => {
                            // Read someone's register: never older than what
                            // was written before the read began, never a
                            // value nobody started writing.
                            let (o, r) = (rng.usize(..WORKERS), rng.usize(..REGISTERS));
                            let floor = written[o * REGISTERS + r].load(Ordering::SeqCst);
                            let got = db.get(format!("reg:{o}:{r}").as_bytes()).unwrap();
                            let ceiling = started[o * REGISTERS + r].load(Ordering::SeqCst);
                            let value = got.map_or(0, |v| parse_i64(&v).unwrap() as u64);
                            assert!(value >= floor, "stale read: {value} < {floor}");
                            assert!(
                                value <= ceiling,
                                "read a value never written: {value} > {ceiling}"
                            );
                        }
                        3 if next_doomed < DOOMED => {
                            let key = format!("doomed:{w}:{next_doomed}");
                            let state = &deleted[w * DOOMED + next_doomed];
                            // A plain SET first may shadow a copy still in
                            // the frozen memtable; the delete must take both.
                            if rng.usize(..2) == 0 {
                                db.set(key.as_bytes(), b"alive", SetOptions::default())
                                    .unwrap();
                            }
                            state.store(DELETING, Ordering::SeqCst);
                            if rng.usize(..2) == 0 {
                                assert_eq!(
                                    db.del(&[key.as_str()]).unwrap(),
                                    1,
                                    "{key} vanished before its delete"
                                );
                            } else {
                                assert_eq!(
                                    db.get_del(key.as_bytes()).unwrap().as_deref(),
                                    Some(&b"alive"[..]),
                                    "{key} vanished before its delete"
                                );
                            }
                            state.store(DELETED, Ordering::SeqCst);
                            next_doomed += 1;
                        }
                        4 => {
                            let (o, d) = (rng.usize(..WORKERS), rng.usize(..DOOMED));
                            let state = &deleted[o * DOOMED + d];
                            let before = state.load(Ordering::SeqCst);
                            let got = db.get(format!("doomed:{o}:{d}").as_bytes()).unwrap();
                            if before == DELETED {
                                assert_eq!(got, None, "doomed:{o}:{d} came back");
                            } else if state.load(Ordering::SeqCst) == ALIVE {
                                // No delete had started when the read ended.
                                assert_eq!(
                                    got.as_deref(),
                                    Some(&b"alive"[..]),
                                    "doomed:{o}:{d} lost"
                                );
                            }
                        }
                        5 => {
                            // Atomic transfer between two accounts.
                            let (a, b) = (
                                format!("acct:{}", rng.usize(..8)),
                                format!("acct:{}", rng.usize(..8)),
                            );
                            db.atomically(&[a.as_str(), b.as_str()], |tx| {
                                tx.decr_by(a.as_bytes(), 3).unwrap();
                                tx.incr_by(b.as_bytes(), 3).unwrap();
                            });
                        }
                        _ => {
                            // Every consistent view of the accounts sums to
                            // the start, read as a snapshot or in a batch.
                            let keys: Vec<String> = (0..8).map(|a| format!("acct:{a}")).collect();
                            let values = if n % 2 == 0 {
                                db.mget(&keys).unwrap()
                            } else {
                                db.atomically(&keys, |tx| tx.mget(&keys).unwrap())
                            };
                            let sum: i64 = values
                                .iter()
                                .map(|v| parse_i64(v.as_ref().unwrap()).unwrap())
                                .sum();
                            assert_eq!(sum, 800, "a transfer was seen half-applied");
                        }
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    resizer.join().unwrap();
    let resizes = finished.load(Ordering::SeqCst);
    while db.migrate_step(1000) {}
    let total: i64 = (0..COUNTERS)
        .map(|c| {
            parse_i64(
                &db.get(format!("counter:{c}").as_bytes())
                    .unwrap()
                    .unwrap_or_default(),
            )
            .unwrap_or(0)
        })
        .sum();
    assert_eq!(
        total as usize,
        increments.load(Ordering::SeqCst),
        "increments lost"
    );
    assert!(
        resizes >= 20,
        "only {resizes} resizes overlapped the workload"
    );
    assert_eq!(db.resize_state(), ResizeState::Idle);
    eprintln!("hot_keys_survive_back_to_back_resizes: {resizes} resizes");
}

#[test]
fn scans_during_resizes_see_every_stable_key_once_in_order() {
    let db = fixed_db();
    let stable: BTreeSet<Vec<u8>> = (0..3000)
        .map(|i| format!("s:{i:05}").into_bytes())
        .collect();
    for k in &stable {
        db.set(k, b"v", SetOptions::default()).unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicUsize::new(0));
    let resizer = resizer(db.clone(), stop.clone(), finished.clone());
    let churn = {
        let db = db.clone();
        thread::spawn(move || {
            let mut rng = seeded(99);
            for n in 0..20_000 {
                let k = format!("s:{:05}x", rng.usize(..3000));
                if n % 2 == 0 {
                    db.set(k.as_bytes(), b"c", SetOptions::default()).unwrap();
                } else {
                    db.del(&[k.as_str()]).unwrap();
                }
            }
        })
    };
    // Scan until at least 30 rounds ran and 20 resizes overlapped them.
    let mut round = 0;
    while round < 30 || finished.load(Ordering::SeqCst) < 20 {
        round += 1;
        let keys: Vec<Vec<u8>> = if round % 3 == 0 {
            db.range_iter(Bound::Unbounded, Bound::Unbounded)
                .map(|(k, _)| k.to_vec())
                .collect()
        } else if round % 3 == 1 {
            let mut out = Vec::new();
            let mut start: Option<Vec<u8>> = None;
            loop {
                let b = start.as_deref().map_or(Bound::Unbounded, Bound::Included);
                let page = db.range(b, Bound::Unbounded, 97);
                out.extend(page.iter().map(|(k, _)| k.to_vec()));
                match page.next_start() {
                    Some(n) => start = Some(n.to_vec()),
                    None => break,
                }
            }
            out
        } else {
            let mut out = Vec::new();
            let mut cursor = 0;
            loop {
                let page = db
                    .scan(
                        cursor,
                        ScanOptions {
                            count: 50,
                            ..Default::default()
                        },
                    )
                    .unwrap();
                out.extend(page.keys.iter().map(|k| k.to_vec()));
                cursor = page.cursor;
                if cursor == 0 {
                    break;
                }
            }
            out
        };
        assert!(
            keys.windows(2).all(|w| w[0] < w[1]),
            "round {round}: out of order or repeated"
        );
        let seen = keys.iter().filter(|k| stable.contains(*k)).count();
        assert_eq!(seen, stable.len(), "round {round}: missed a stable key");
    }
    churn.join().unwrap();
    stop.store(true, Ordering::SeqCst);
    resizer.join().unwrap();
}

/// The suite's bulk of forced resizes: 10,000 of them, each migrating a
/// few hundred keys, while two threads keep reading and writing. After
/// every one, nothing is lost.
#[test]
fn ten_thousand_resizes_lose_nothing() {
    let db = fixed_db();
    for i in 0..300 {
        db.set(
            format!("k{i}").as_bytes(),
            i.to_string().as_bytes(),
            SetOptions::default(),
        )
        .unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..2)
        .map(|t| {
            let (db, stop) = (db.clone(), stop.clone());
            thread::spawn(move || {
                let mut rng = seeded(t + 5);
                while !stop.load(Ordering::SeqCst) {
                    let i = rng.usize(..300);
                    // Each key's value is its index: a lost or crossed
                    // entry would show.
                    let got = db.get(format!("k{i}").as_bytes()).unwrap();
                    assert_eq!(got.as_deref(), Some(i.to_string().as_bytes()));
                    db.set(
                        format!("k{i}").as_bytes(),
                        i.to_string().as_bytes(),
                        SetOptions::default(),
                    )
                    .unwrap();
                }
            })
        })
        .collect();
    let mut done = 0;
    let mut i = 0;
    while done < 10_000 {
        if db.resize(TARGETS[i % TARGETS.len()]).is_some() {
            done += 1;
        }
        i += 1;
    }
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(db.dbsize(), 300);
    let stats = db.stats();
    assert_eq!(stats.resizes, 10_000);
    assert_eq!(stats.resize, ResizeState::Idle);
    let events = db.resize_events();
    assert_eq!(events.len(), 64, "the log keeps the last 64 resizes");
    assert!(events.iter().all(|e| e.keys_moved + e.keys_purged <= 300));
}

#[test]
fn ttls_move_with_entries_and_expired_ones_are_purged() {
    use std::sync::Arc as StdArc;
    use tandem_engine::clock::ManualClock;
    let clock = StdArc::new(ManualClock::new(1_000_000));
    let db = Db::new(Options::default().shards(2).clock(clock.clone()));
    for i in 0..100 {
        let ttl = if i % 2 == 0 { 10 } else { 10_000 };
        let opts = SetOptions {
            ttl: SetTtl::At(Expiry::Millis(ttl)),
            ..Default::default()
        };
        db.set(format!("t{i}").as_bytes(), b"v", opts).unwrap();
    }
    clock.advance(100);
    let event = db.resize(8).unwrap();
    assert_eq!((event.from, event.to), (2, 8));
    assert_eq!(
        event.keys_purged, 50,
        "expired entries are dropped, not moved"
    );
    assert_eq!(event.keys_moved, 50);
    assert_eq!(db.dbsize(), 50);
    for i in (1..100).step_by(2) {
        let pttl = db.pttl(format!("t{i}").as_bytes()).unwrap();
        assert_eq!(pttl, 9_900, "the deadline moved with the entry");
    }
}

#[test]
fn a_busy_keyspace_grows_and_an_idle_one_shrinks_on_its_own() {
    use std::time::{Duration, Instant};
    use tandem_engine::ResizePolicy;
    let policy = ResizePolicy {
        grow_keys_per_shard: 1_000,
        shrink_keys_per_shard: 100,
        cooldown: Duration::from_millis(20),
        interval: Duration::from_millis(10),
        ..ResizePolicy::default()
    };
    let db = Db::new(Options::default().resize_policy(policy));
    assert_eq!(db.shard_count(), 1);
    for i in 0..20_000 {
        db.set(format!("g{i}").as_bytes(), b"v", SetOptions::default())
            .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    // The shard count changes when a resize begins, its event comes when
    // it ends: growth may take one step (the keys went in fast).
    let grown = || {
        db.shard_count() >= 16
            && db
                .resize_events()
                .iter()
                .any(|e| e.reason == ResizeReason::Growth)
    };
    while !grown() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    assert!(grown(), "grew only to {}", db.shard_count());
    db.flush();
    while db.shard_count() > 1 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(db.shard_count(), 1, "an empty keyspace shrinks back");
    assert!(db
        .resize_events()
        .iter()
        .any(|e| e.reason == ResizeReason::Shrink));
}

/// A blind SET shadows the frozen copy; a later write that is not blind
/// must remove that stale copy, or a delete would be undone.
#[test]
fn a_shadowed_copy_never_comes_back() {
    for op in 0..4 {
        let db = fixed_db();
        db.set(b"k", b"old", SetOptions::default()).unwrap();
        db.set(b"other", b"x", SetOptions::default()).unwrap();
        assert!(db.begin_resize(4));
        db.set(b"k", b"new", SetOptions::default()).unwrap();
        match op {
            0 => assert_eq!(db.get_del(b"k").unwrap().as_deref(), Some(&b"new"[..])),
            1 => assert_eq!(db.del(&["k"]).unwrap(), 1),
            2 => {
                db.atomically(&["k"], |tx| tx.del(&["k"]).unwrap());
            }
            _ => {
                assert!(db
                    .expire(b"k", Expiry::Seconds(-1), ExpireCondition::Always)
                    .unwrap());
            }
        }
        assert_eq!(
            db.get(b"k").unwrap(),
            None,
            "op {op}: the stale copy is visible"
        );
        while db.migrate_step(1) {}
        assert_eq!(
            db.get(b"k").unwrap(),
            None,
            "op {op}: migration resurrected the key"
        );
        assert_eq!(db.dbsize(), 1);
    }
}

/// The reaper removing the copy that shadows a frozen one must take the
/// frozen copy with it: otherwise the migrator moves the stale value back
/// in after the newer one expired. Also, a blind SET over a frozen copy
/// that has already expired must announce that expiry, first.
#[test]
fn reaping_a_shadowing_copy_takes_the_shadowed_one_along() {
    use tandem_engine::clock::ManualClock;
    use tandem_engine::pubsub::NotifyFlags;
    let clock = Arc::new(ManualClock::new(1_000_000));
    let db = Db::new(
        Options::default()
            .shards(1)
            .migration_assist(0)
            .clock(clock.clone()),
    );
    db.hub()
        .set_notify_flags(NotifyFlags::parse(b"KEA").unwrap());
    let sub = db.hub().subscriber();
    sub.psubscribe(b"__keyspace@0__:*");
    let px = |ms| SetOptions {
        ttl: SetTtl::At(Expiry::Millis(ms)),
        ..Default::default()
    };
    db.set(b"k", b"old", px(10_000)).unwrap();
    db.set(b"gone", b"old", px(5)).unwrap();
    assert!(db.begin_resize(2));
    // Blind: k's frozen shard holds nothing expired yet.
    db.set(b"k", b"new", px(5)).unwrap();
    clock.advance(10);
    // Not blind any more: "gone" expired in the frozen shard.
    db.set(b"gone", b"new", SetOptions::default()).unwrap();
    assert_eq!(db.reap_expired(), 1, "the newer k expired");
    while db.migrate_step(100) {}
    assert_eq!(db.get(b"k").unwrap(), None, "the stale k came back");
    assert_eq!(db.get(b"gone").unwrap().as_deref(), Some(&b"new"[..]));
    let mut events = Vec::new();
    while let Some(m) = sub.try_recv().unwrap() {
        let key = String::from_utf8_lossy(&m.channel()[15..]).into_owned();
        events.push(format!("{key} {}", String::from_utf8_lossy(m.payload())));
    }
    let want = [
        "k set",
        "k expire",
        "gone set",
        "gone expire",
        "k set",
        "k expire",
        "gone expired",
        "gone set",
        "k expired",
    ];
    assert_eq!(events, want);
}

/// Requests assist a migration only when a paced step is due: at a share
/// of 1%, each step (one entry here) is followed by a pause 99 times as
/// long, in which many requests pass without moving anything.
#[test]
fn requests_take_paced_steps_not_one_each() {
    let db = Db::new(
        Options::default()
            .shards(1)
            .migration_assist(1)
            .migration_share(0.01),
    );
    for i in 0..1_000 {
        db.set(format!("p{i}").as_bytes(), b"v", SetOptions::default())
            .unwrap();
    }
    assert!(db.begin_resize(2));
    let done = || match db.resize_state() {
        ResizeState::Migrating { done, .. } => done,
        ResizeState::Idle => usize::MAX,
    };
    let mut requests = 0;
    while done() < 20 {
        assert_eq!(db.get(b"p0").unwrap().as_deref(), Some(&b"v"[..]));
        requests += 1;
    }
    // Unpaced, 20 requests would have moved 20 entries.
    assert!(requests >= 200, "{requests} requests moved 20 entries");
    while db.migrate_step(64) {}
    assert_eq!(db.dbsize(), 1_000);
}

/// WATCH's check-and-set (watch, read, then write in a batch only if the
/// key is unchanged) across resizes: a watch that passed for a key written
/// since would let two clients both add to the value they read, and the
/// total would fall behind the successful writes. Resizes move keys to
/// other memtables, whose write counts have nothing to do with the ones
/// the watches recorded.
#[test]
fn watched_check_and_set_loses_no_update_across_resizes() {
    const KEYS: usize = 4;
    const ATTEMPTS: usize = 3_000;
    let db = fixed_db();
    for i in 0..KEYS {
        db.set(format!("cas{i}").as_bytes(), b"0", SetOptions::default())
            .unwrap();
    }
    // Keys around them, so that migrations take many steps.
    for i in 0..2_000 {
        db.set(format!("filler{i}").as_bytes(), b"x", SetOptions::default())
            .unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicUsize::new(0));
    let resizes = resizer(db.clone(), stop.clone(), finished.clone());
    let workers: Vec<_> = (0..4)
        .map(|t| {
            let db = db.clone();
            thread::spawn(move || {
                let mut rng = seeded(t + 40);
                let mut won = 0u64;
                for _ in 0..ATTEMPTS {
                    let key = format!("cas{}", rng.usize(..KEYS)).into_bytes();
                    let seen = db.watch(&key).unwrap();
                    let value = parse_i64(&db.get(&key).unwrap().unwrap()).unwrap();
                    let wrote = db.atomically(&[&key], |tx| {
                        if !tx.unchanged(&key, &seen)? {
                            return Ok::<_, tandem_engine::Error>(false);
                        }
                        let next = (value + 1).to_string();
                        tx.set(&key, next.as_bytes(), SetOptions::default())?;
                        Ok(true)
                    });
                    if wrote.unwrap() {
                        won += 1;
                    }
                }
                won
            })
        })
        .collect();
    let won: u64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
    stop.store(true, Ordering::SeqCst);
    resizes.join().unwrap();
    let total: i64 = (0..KEYS)
        .map(|i| parse_i64(&db.get(format!("cas{i}").as_bytes()).unwrap().unwrap()).unwrap())
        .sum();
    assert_eq!(total, won as i64, "every successful write added one");
    assert!(won > 0, "some writes went through");
    assert!(finished.load(Ordering::SeqCst) > 0, "resizes ran meanwhile");
}

/// A key's version keeps 32 bits of its shard's write count, and a new
/// memtable counts from zero: after a resize, the first write to a key in
/// its new shard can leave the very bits the key had before it. A watch
/// must still see the write.
#[test]
fn a_write_after_a_resize_that_repeats_the_old_version_bits_fails_the_watch() {
    let db = fixed_db();
    db.set(b"k", b"before", SetOptions::default()).unwrap();
    let before = db.version(b"k").unwrap();
    let seen = db.watch(b"k").unwrap();
    assert!(db.unchanged(b"k", &seen).unwrap(), "nothing happened yet");
    db.resize(2).unwrap();
    db.set(b"k", b"after", SetOptions::default()).unwrap();
    assert_eq!(db.version(b"k").unwrap(), before, "the same bits again");
    assert!(!db.unchanged(b"k", &seen).unwrap());
    // Watched after the resize, untouched: it holds.
    let seen = db.watch(b"k").unwrap();
    db.set(b"other", b"x", SetOptions::default()).unwrap();
    assert!(db.unchanged(b"k", &seen).unwrap());
}
