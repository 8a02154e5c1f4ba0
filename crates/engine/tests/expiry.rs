//! Active expiry and keyspace notifications: every expiry announced exactly
//! once (under concurrent access, overwrites and forced resizes), none for
//! keys given a new life, events named and ordered as Redis 7 does, and
//! memory freed at the deadline. Lateness is checked with a generous bound
//! for correctness only; the benchmark measures it.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tandem_engine::clock::ManualClock;
use tandem_engine::prelude::*;
use tandem_engine::pubsub::{NotifyFlags, Subscriber};
use tandem_engine::Bytes;

fn flags(s: &str) -> NotifyFlags {
    NotifyFlags::parse(s.as_bytes()).unwrap()
}

fn px(ms: i64) -> SetOptions {
    SetOptions {
        ttl: SetTtl::At(Expiry::Millis(ms)),
        ..SetOptions::default()
    }
}

/// Every message `sub` gets before a fence, which proves by order, not by
/// waiting, that no event for a key due now is still to come: every due
/// key is removed first (`reap_expired` takes each shard's lock, and a
/// removal is announced under that lock, whoever made it), then the fence
/// is published on `channel`.
fn until_fence(db: &Db, sub: &Subscriber, channel: &[u8]) -> Vec<Bytes> {
    db.reap_expired();
    db.hub().publish(channel.to_vec(), &b"fence"[..]);
    let mut before = Vec::new();
    loop {
        let m = sub.recv_timeout(Duration::from_secs(10)).unwrap().unwrap();
        if &m.payload()[..] == b"fence" {
            return before;
        }
        before.push(m.payload().clone());
    }
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Everything queued for `sub` now, as (channel, payload) strings.
fn drain(sub: &Subscriber) -> Vec<(String, String)> {
    let mut out = Vec::new();
    while let Some(m) = sub.try_recv().unwrap() {
        out.push((
            String::from_utf8_lossy(m.channel()).into_owned(),
            String::from_utf8_lossy(m.payload()).into_owned(),
        ));
    }
    out
}

/// Events on `__keyevent@0__:*` as "event key" strings.
fn events(sub: &Subscriber) -> Vec<String> {
    drain(sub)
        .into_iter()
        .map(|(c, k)| format!("{} {k}", c.trim_start_matches("__keyevent@0__:")))
        .collect()
}

fn manual_db() -> (Arc<ManualClock>, Db, Subscriber) {
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let db = Db::new(Options::default().shards(4).clock(clock.clone()));
    db.hub().set_notify_flags(flags("KEAn"));
    let sub = db.hub().subscriber();
    sub.psubscribe(b"__keyevent@0__:*");
    (clock, db, sub)
}

/// A command to run, and the events Redis announced for it.
type Step = (Box<dyn Fn(&Db)>, &'static [&'static str]);

/// The event sequence redis-server 7.0.15 produced for the same commands
/// (recorded on this machine with `notify-keyspace-events KEAn`).
#[test]
fn events_are_named_and_ordered_as_redis_does() {
    let (clock, db, sub) = manual_db();
    let steps: Vec<Step> = vec![
        (
            Box::new(|db| drop(db.set(b"a", b"1", px(100_000)))),
            &["new a", "set a", "expire a"],
        ),
        (
            Box::new(|db| drop(db.set(b"a", b"2", SetOptions::default()))),
            &["set a"],
        ),
        (
            Box::new(|db| db.rename(b"a", b"b").unwrap()),
            &["new b", "rename_from a", "rename_to b"],
        ),
        (
            Box::new(|db| drop(db.set(b"c", b"1", SetOptions::default()))),
            &["new c", "set c"],
        ),
        (
            Box::new(|db| db.rename(b"b", b"c").unwrap()),
            &["new c", "rename_from b", "rename_to c"],
        ),
        (
            Box::new(|db| drop(db.set(b"p", b"1", px(1)))),
            &["new p", "set p", "expire p"],
        ),
        (
            Box::new(|db| drop(db.set(b"p", b"2", SetOptions::default()))),
            &["expired p", "new p", "set p"],
        ),
        (
            Box::new(|db| {
                db.expire(b"p", Expiry::Seconds(-1), ExpireCondition::Always)
                    .unwrap();
            }),
            &["del p"],
        ),
        (
            Box::new(|db| drop(db.incr_by(b"n", 1))),
            &["new n", "incrby n"],
        ),
        (
            Box::new(|db| drop(db.append(b"s", b"x"))),
            &["new s", "append s"],
        ),
        (
            Box::new(|db| drop(db.set_range(b"s", 5, b"y"))),
            &["setrange s"],
        ),
        (
            Box::new(|db| drop(db.incr_by_float(b"f", b"1.5"))),
            &["new f", "incrbyfloat f"],
        ),
        (
            Box::new(|db| db.mset(&[("m1", "1"), ("m2", "2")]).unwrap()),
            &["new m1", "set m1", "new m2", "set m2"],
        ),
        (Box::new(|db| drop(db.get_del(b"m1"))), &["del m1"]),
        (
            Box::new(|db| drop(db.set(b"e", b"1", px(10_000)))),
            &["new e", "set e", "expire e"],
        ),
        (Box::new(|db| drop(db.persist(b"e"))), &["persist e"]),
        (Box::new(|db| drop(db.decr_by(b"n", 3))), &["incrby n"]),
        (
            Box::new(|db| drop(db.set(b"x", b"1", SetOptions::default()))),
            &["new x", "set x"],
        ),
        (
            Box::new(|db| assert!(db.rename_nx(b"x", b"y").unwrap())),
            &["new y", "rename_from x", "rename_to y"],
        ),
        (
            Box::new(|db| {
                let set = db
                    .expire(b"y", Expiry::Seconds(100), ExpireCondition::IfLater)
                    .unwrap();
                assert!(!set);
            }),
            &[],
        ),
        (Box::new(|db| drop(db.set_range(b"zz", 0, b""))), &[]),
        (
            Box::new(|db| assert_eq!(db.del(&["nope"]).unwrap(), 0)),
            &[],
        ),
    ];
    for (i, (step, want)) in steps.iter().enumerate() {
        step(&db);
        if i == 5 {
            clock.advance(10);
        }
        assert_eq!(events(&sub), *want, "step {i}");
    }
}

#[test]
fn keyspace_channels_carry_the_event_name_and_use_the_db_number() {
    let clock = Arc::new(ManualClock::new(1_000));
    let db = Db::new(Options::default().db_index(3).clock(clock.clone()));
    db.hub().set_notify_flags(flags("Kg$"));
    let sub = db.hub().subscriber();
    sub.psubscribe(b"__key*");
    db.set(b"k", b"v", px(5)).unwrap();
    db.del(&["k"]).unwrap();
    assert_eq!(
        drain(&sub),
        [
            ("__keyspace@3__:k".into(), "set".into()),
            ("__keyspace@3__:k".into(), "expire".into()),
            ("__keyspace@3__:k".into(), "del".into()),
        ]
    );
    // Without `x`, expiries are not announced; without K or E, nothing is.
    db.set(b"k", b"v", px(5)).unwrap();
    drain(&sub);
    clock.advance(10);
    assert_eq!(db.reap_expired(), 1);
    assert!(drain(&sub).is_empty());
    db.hub().set_notify_flags(flags("g$x"));
    db.set(b"k", b"v", px(5)).unwrap();
    assert!(drain(&sub).is_empty());
}

#[test]
fn reaping_on_request_removes_and_announces_each_expired_key_once() {
    let (clock, db, sub) = manual_db();
    for i in 0..1000 {
        db.set(format!("k{i}").as_bytes(), b"v", px(10 + i % 50))
            .unwrap();
    }
    db.set(b"forever", b"v", SetOptions::default()).unwrap();
    drain(&sub);
    clock.advance(30);
    // Keys alive during their deadline's millisecond stay.
    let first = db.reap_expired();
    let due_by_30 = (0..1000).filter(|i| 10 + i % 50 < 30).count();
    assert_eq!(first, due_by_30);
    clock.advance(100);
    assert_eq!(first + db.reap_expired(), 1000);
    assert_eq!(db.reap_expired(), 0);
    assert_eq!(db.dbsize(), 1, "memory is reclaimed, not just hidden");
    let ev = events(&sub);
    assert_eq!(ev.len(), 1000);
    assert!(ev.iter().all(|e| e.starts_with("expired k")));
    assert_eq!(db.stats().expired_keys, 1000);
}

/// The oracle for one key: what the engine's own replies, or the clock,
/// say happened.
#[derive(Default)]
struct KeyLog {
    /// The current incarnation's deadline, while no reply showed it gone.
    deadline: Option<u64>,
    /// Expiries proved (an incarnation with a deadline found missing, or
    /// overwritten blindly after its deadline), plus, at the end, those
    /// still pending.
    expected: u64,
    /// Blind overwrites within the deadline's millisecond: the key may or
    /// may not have expired first.
    maybe: u64,
}

impl KeyLog {
    /// A reply showed whether the incarnation was still there.
    fn replied(&mut self, was_there: bool) {
        if self.deadline.is_some() && !was_there {
            self.expected += 1;
        }
    }
}

/// Threads own disjoint keys and give them short TTLs, overwrite them, take
/// TTLs away, extend them and delete them, while the keyspace is resized
/// back and forth. Replies tell whether the previous incarnation was still
/// alive; for blind overwrites (plain SETs, which skip the frozen memtable
/// during a resize) the clock around the call does. So the number of
/// expiries of every key is known (to within a millisecond's ambiguity for
/// blind overwrites), and each must have produced exactly one `expired`
/// event.
#[test]
fn every_expiry_is_announced_exactly_once_under_churn_and_resizes() {
    const THREADS: usize = 4;
    const KEYS: usize = 2_000;
    const ROUNDS: usize = 20_000;
    let db = Db::new(
        Options::default()
            .shards(2)
            .migration_assist(4)
            .migration_share(1.0),
    );
    db.hub().set_notify_flags(flags("Ex"));
    let sub = db.hub().subscriber();
    sub.subscribe(b"__keyevent@0__:expired");
    let stop = Arc::new(AtomicBool::new(false));
    let resizer = {
        let (db, stop) = (db.clone(), stop.clone());
        thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                db.resize([1, 4, 8, 3, 16, 2][n % 6]);
                n += 1;
            }
            n
        })
    };
    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (db, start) = (db.clone(), start.clone());
            thread::spawn(move || {
                let mut logs: Vec<KeyLog> = (0..KEYS).map(|_| KeyLog::default()).collect();
                let mut rng = fastrand::Rng::with_seed(0x2545_f491_4f6c_dd1d_u64 ^ (t as u64 + 1));
                let mut rnd = |n: u64| rng.u64(..n);
                start.wait();
                for round in 0..ROUNDS {
                    let k = rnd(KEYS as u64) as usize;
                    let key = format!("t{t}:k{k}");
                    let log = &mut logs[k];
                    let deadline = unix_ms() + 1 + rnd(40);
                    let pxat = SetTtl::At(Expiry::UnixMillis(deadline as i64));
                    match rnd(8) {
                        0 | 1 => {
                            let opts = SetOptions {
                                get: true,
                                ttl: pxat,
                                ..SetOptions::default()
                            };
                            let old = db.set(key.as_bytes(), b"v", opts).unwrap().old;
                            log.replied(old.is_some());
                            log.deadline = Some(deadline);
                        }
                        2 => {
                            let opts = SetOptions {
                                get: true,
                                ..SetOptions::default()
                            };
                            let old = db.set(key.as_bytes(), b"v", opts).unwrap().old;
                            log.replied(old.is_some());
                            log.deadline = None;
                        }
                        3 => {
                            // PERSIST: true only if it was alive with a TTL.
                            let had = db.persist(key.as_bytes()).unwrap();
                            log.replied(had);
                            log.deadline = None;
                        }
                        6 | 7 => {
                            // A blind SET, with or without a new deadline.
                            let ttl = if rnd(2) == 0 { pxat } else { SetTtl::Clear };
                            let opts = SetOptions {
                                ttl,
                                ..SetOptions::default()
                            };
                            let before = unix_ms();
                            db.set(key.as_bytes(), b"v", opts).unwrap();
                            let after = unix_ms();
                            if let Some(d) = log.deadline {
                                if before > d {
                                    log.expected += 1;
                                } else if after > d {
                                    log.maybe += 1;
                                }
                            }
                            log.deadline = (ttl == pxat).then_some(deadline);
                        }
                        4 => {
                            // Extend by a lot: alive then, it will not
                            // expire during the test.
                            let set = db
                                .expire(
                                    key.as_bytes(),
                                    Expiry::Seconds(3_600),
                                    ExpireCondition::Always,
                                )
                                .unwrap();
                            log.replied(set);
                            log.deadline = None;
                        }
                        _ => {
                            let old = db.get_del(key.as_bytes()).unwrap();
                            log.replied(old.is_some());
                            log.deadline = None;
                        }
                    }
                    // Pauses let some deadlines pass before the key's next
                    // touch, some not.
                    if round % 100 == 0 {
                        thread::sleep(Duration::from_millis(1));
                    }
                }
                logs.into_iter()
                    .enumerate()
                    .map(|(k, l)| (format!("t{t}:k{k}"), l))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut expected: HashMap<String, (u64, u64)> = HashMap::new();
    let joined: Vec<_> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    let writes_done = unix_ms();
    for logs in joined {
        for (key, log) in logs {
            // Still volatile at the end: its deadline is at most 40 ms away
            // and nothing will touch it, so it must expire once more.
            let pending = u64::from(log.deadline.is_some());
            expected.insert(key, (log.expected + pending, log.maybe));
        }
    }
    stop.store(true, Ordering::Relaxed);
    let resizes = resizer.join().unwrap();
    assert!(resizes > 0);
    // Let every short deadline pass and the reaper announce it.
    let mut got: HashMap<String, u64> = HashMap::new();
    let want_total: u64 = expected.values().map(|(n, _)| n).sum();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut total = 0;
    while total < want_total && Instant::now() < deadline {
        if let Some(m) = sub.recv_timeout(Duration::from_millis(50)).unwrap() {
            *got.entry(String::from_utf8_lossy(m.payload()).into_owned())
                .or_default() += 1;
            total += 1;
        }
    }
    // Every deadline set was at most 41 ms after its write, and the last
    // write is done: once past that, every key still volatile is due, so
    // the fence below follows every event this test can cause.
    let last_deadline = writes_done + 41;
    while unix_ms() <= last_deadline {
        thread::sleep(Duration::from_millis(1));
    }
    // Anything extra shows up before the fence.
    for payload in until_fence(&db, &sub, b"__keyevent@0__:expired") {
        *got.entry(String::from_utf8_lossy(&payload).into_owned())
            .or_default() += 1;
    }
    assert!(
        want_total > 1_000,
        "the test exercised expiry ({want_total})"
    );
    for (key, &(n, maybe)) in &expected {
        let g = got.get(key).copied().unwrap_or(0);
        assert!(
            (n..=n + maybe).contains(&g),
            "{g} expired events for {key}, expected {n} (+{maybe} maybe)"
        );
    }
    assert!(got.keys().all(|k| expected.contains_key(k)));
}

#[test]
fn no_event_for_a_key_whose_ttl_was_removed_or_extended() {
    let db = Db::new(Options::default().shards(4));
    db.hub().set_notify_flags(flags("Ex"));
    let sub = db.hub().subscriber();
    sub.subscribe(b"__keyevent@0__:expired");
    for i in 0..100 {
        let k = format!("k{i}");
        db.set(k.as_bytes(), b"v", px(30)).unwrap();
        match i % 4 {
            0 => assert!(db.persist(k.as_bytes()).unwrap()),
            1 => assert!(db
                .expire(k.as_bytes(), Expiry::Seconds(100), ExpireCondition::Always)
                .unwrap()),
            2 => drop(db.set(k.as_bytes(), b"w", SetOptions::default())),
            _ => drop(db.set(k.as_bytes(), b"w", px(100_000))),
        }
    }
    db.set(b"control", b"v", px(30)).unwrap();
    let m = sub.recv_timeout(Duration::from_secs(5)).unwrap().unwrap();
    assert_eq!(&m.payload()[..], b"control");
    assert_eq!(
        until_fence(&db, &sub, b"__keyevent@0__:expired"),
        Vec::<Bytes>::new()
    );
    assert_eq!(db.dbsize(), 100);
}

/// Correctness only: every event arrives, none absurdly late. The bound
/// is generous because test machines are shared; the benchmark measures.
#[test]
fn events_arrive_near_their_deadlines() {
    let db = Db::default();
    db.hub().set_notify_flags(flags("Ex"));
    let sub = db.hub().subscriber();
    sub.subscribe(b"__keyevent@0__:expired");
    // Long-lived keys the reaper must not trip over.
    for i in 0..50_000 {
        db.set(format!("bg{i}").as_bytes(), b"v", px(3_600_000))
            .unwrap();
    }
    let base = unix_ms() + 50;
    let mut deadlines = HashMap::new();
    for i in 0..200u64 {
        let at = base + i * 2;
        let key = format!("probe{i}");
        let opts = SetOptions {
            ttl: SetTtl::At(Expiry::UnixMillis(at as i64)),
            ..SetOptions::default()
        };
        db.set(key.as_bytes(), b"v", opts).unwrap();
        deadlines.insert(key, at);
    }
    let mut worst = 0;
    for _ in 0..200 {
        let m = sub.recv_timeout(Duration::from_secs(10)).unwrap().unwrap();
        let arrived = unix_ms();
        let key = String::from_utf8_lossy(m.payload()).into_owned();
        let at = deadlines.remove(&key).unwrap();
        assert!(arrived > at, "announced before its deadline passed");
        worst = worst.max(arrived - at);
    }
    assert!(deadlines.is_empty());
    assert!(worst < 2_000, "an event came {worst} ms late");
}

/// A million-key-scale expiry in one millisecond: all announced once, and
/// a writer keeps getting through while the reaper works (it never holds a
/// shard for the whole batch).
#[test]
fn a_mass_expiry_does_not_shut_out_writers() {
    const N: usize = 200_000;
    let db = Db::new(Options::default().shards(2));
    db.hub().set_notify_flags(flags("Ex"));
    let sub = db.hub().subscriber();
    sub.subscribe(b"__keyevent@0__:expired");
    let at = (unix_ms() + 1_500) as i64;
    for i in 0..N {
        let opts = SetOptions {
            ttl: SetTtl::At(Expiry::UnixMillis(at)),
            ..SetOptions::default()
        };
        db.set(format!("k{i:07}").as_bytes(), b"v", opts).unwrap();
    }
    let writes = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, writes, stop) = (db.clone(), writes.clone(), stop.clone());
        thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                db.set(
                    format!("w{}", i % 1000).as_bytes(),
                    b"v",
                    SetOptions::default(),
                )
                .unwrap();
                writes.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        })
    };
    let first = sub.recv_timeout(Duration::from_secs(20)).unwrap();
    assert!(first.is_some());
    let writes_at_first = writes.load(Ordering::Relaxed);
    let mut seen = 1;
    let mut keys = std::collections::HashSet::new();
    keys.insert(first.unwrap().payload().clone());
    while seen < N {
        let m = sub.recv_timeout(Duration::from_secs(20)).unwrap().unwrap();
        keys.insert(m.payload().clone());
        seen += 1;
    }
    let writes_during = writes.load(Ordering::Relaxed) - writes_at_first;
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert_eq!(keys.len(), N, "each key announced once");
    assert_eq!(
        until_fence(&db, &sub, b"__keyevent@0__:expired"),
        Vec::<Bytes>::new()
    );
    assert!(writes_during > 0, "the writer was shut out during reaping");
    assert_eq!(db.dbsize(), 1000);
    let _: Option<Bytes> = None;
}
