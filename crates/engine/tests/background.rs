//! The background threads a group of keyspaces shares: one reaper and one
//! resizer however many keyspaces, expiry on time in every one of them,
//! threads that end with the last handle, and a dead thread that is seen
//! (its state, and writes refused while reads go on).
//!
//! The tests count threads by name in `/proc/self/task`, so they take one
//! lock: no other test in this binary starts background threads meanwhile.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tandem_engine::prelude::*;
use tandem_engine::pubsub::{Hub, NotifyFlags};
use tandem_engine::{Background, Worker, WorkerState};

const TIMEOUT: Duration = Duration::from_secs(10);

fn exclusive() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Polls until `reapers` reapers and `resizers` resizers run, or fails.
fn wait_for_threads(reapers: usize, resizers: usize) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let now = (
            tandem_engine::process::threads_named("tandem-reaper"),
            tandem_engine::process::threads_named("tandem-resizer"),
        );
        if now == (reapers, resizers) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "(reapers, resizers) is {now:?}, not {:?}",
            (reapers, resizers)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn px(ms: i64) -> SetOptions {
    SetOptions {
        ttl: SetTtl::At(Expiry::Millis(ms)),
        ..SetOptions::default()
    }
}

fn sixteen_on(background: &Background, hub: &Hub) -> Vec<Db> {
    (0..16)
        .map(|i| {
            Db::new(
                Options::default()
                    .hub(hub.clone())
                    .db_index(i)
                    .background(background.clone()),
            )
        })
        .collect()
}

#[test]
fn sixteen_databases_share_one_reaper_and_one_resizer() {
    let _one = exclusive();
    wait_for_threads(0, 0);
    let hub = Hub::default();
    hub.set_notify_flags(NotifyFlags::parse(b"Ex").unwrap());
    let sub = hub.subscriber();
    sub.psubscribe(b"__keyevent@*__:expired");
    let background = Background::new();
    let dbs = sixteen_on(&background, &hub);
    wait_for_threads(1, 1);
    assert_eq!(background.state(Worker::Reaper), WorkerState::Running);
    assert_eq!(background.state(Worker::Resizer), WorkerState::Running);

    // Every database's keys expire at their deadline, each announced once.
    for (i, db) in dbs.iter().enumerate() {
        db.set(b"k", b"v", px(20 + i as i64)).unwrap();
        db.set(b"stays", b"v", px(3_600_000)).unwrap();
    }
    let mut seen = HashSet::new();
    while seen.len() < dbs.len() {
        let m = sub
            .recv_timeout(TIMEOUT)
            .unwrap()
            .expect("an expired event");
        let channel = String::from_utf8_lossy(m.channel()).into_owned();
        assert!(seen.insert(channel.clone()), "{channel} announced twice");
    }
    for (i, db) in dbs.iter().enumerate() {
        assert_eq!(db.dbsize(), 1, "db {i}");
        let lateness = db.stats().expiry_lateness;
        assert_eq!(lateness.reaped, 1, "db {i}");
        // Generous: shared test machines; the benchmark measures.
        assert!(lateness.max_ms < 2_000, "db {i}: {lateness:?}");
    }
    assert_eq!(sub.recv_timeout(Duration::from_millis(50)).unwrap(), None);

    // The threads end with the last handle, not the last database: a
    // database that joins after all others went is still served.
    drop(dbs);
    let late = Db::new(Options::default().background(background.clone()));
    late.set(b"k", b"v", px(20)).unwrap();
    let deadline = Instant::now() + TIMEOUT;
    while late.dbsize() > 0 {
        assert!(Instant::now() < deadline, "the late database's key stays");
        std::thread::sleep(Duration::from_millis(5));
    }
    wait_for_threads(1, 1);
    drop((late, background));
    wait_for_threads(0, 0);

    // Databases on their own each have their own two threads.
    let own: Vec<Db> = (0..4).map(|_| Db::default()).collect();
    wait_for_threads(4, 4);
    drop(own);
    wait_for_threads(0, 0);
}

#[test]
fn threads_start_only_when_a_keyspace_needs_them() {
    let _one = exclusive();
    wait_for_threads(0, 0);
    let background = Background::new();
    let manual = tandem_engine::clock::ManualClock::new(1_000);
    let fixed = Db::new(
        Options::default()
            .shards(4)
            .clock(std::sync::Arc::new(manual))
            .background(background.clone()),
    );
    assert_eq!(background.state(Worker::Reaper), WorkerState::NotStarted);
    assert_eq!(background.state(Worker::Resizer), WorkerState::NotStarted);
    wait_for_threads(0, 0);
    // A keyspace on the system clock with a fixed shard count: a reaper.
    let timed = Db::new(Options::default().shards(2).background(background.clone()));
    wait_for_threads(1, 0);
    assert_eq!(background.state(Worker::Resizer), WorkerState::NotStarted);
    drop((fixed, timed, background));
    wait_for_threads(0, 0);
}

/// Polls until `worker` is dead and returns why.
fn wait_for_death(background: &Background, worker: Worker) -> String {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let WorkerState::Dead { cause } = background.state(worker) {
            return cause;
        }
        assert!(Instant::now() < deadline, "{worker:?} still alive");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn check_writes_refused_reads_served(dbs: &[Db], thread: &str) {
    let expected = format!(
        "background thread '{thread}' died (panicked: injected fault (fault-injection)); writes are refused"
    );
    for db in dbs {
        let err = db.set(b"new", b"v", SetOptions::default()).unwrap_err();
        assert_eq!(err.to_string(), expected);
        assert!(matches!(err, Error::BackgroundDied { .. }));
        assert_eq!(db.incr_by(b"n", 1).unwrap_err(), err);
        assert_eq!(db.del(&[b"k"]).unwrap_err(), err);
        assert_eq!(db.mset(&[("a", "1"), ("b", "2")]).unwrap_err(), err);
        // A batch is refused whole, at its first write.
        let batch = db.atomically(&["a", "k"], |tx| {
            assert_eq!(tx.get(b"k")?.as_deref(), Some(&b"v"[..]));
            tx.set(b"a", b"1", SetOptions::default())
        });
        assert_eq!(batch.unwrap_err(), err);
        // Reads go on, also in the first database, whose shard lock the
        // thread held when it panicked (`fault_point`).
        assert_eq!(db.get(b"k").unwrap().as_deref(), Some(&b"v"[..]));
        assert_eq!(db.get(b"a").unwrap(), None);
        assert_eq!(db.dbsize(), 1);
    }
}

#[test]
fn a_dead_reaper_is_seen_and_refuses_writes() {
    let _one = exclusive();
    wait_for_threads(0, 0);
    let background = Background::new();
    let dbs = sixteen_on(&background, &Hub::default());
    for db in &dbs {
        db.set(b"k", b"v", SetOptions::default()).unwrap();
    }
    wait_for_threads(1, 1);
    background.inject_panic(Worker::Reaper);
    let cause = wait_for_death(&background, Worker::Reaper);
    assert_eq!(cause, "panicked: injected fault (fault-injection)");
    assert!(background.is_poisoned());
    assert_eq!(background.state(Worker::Resizer), WorkerState::Running);
    wait_for_threads(0, 1);
    check_writes_refused_reads_served(&dbs, "tandem-reaper");
    // A keyspace that joins later is refused too: the threads it would
    // run on are the dead ones.
    let other = Db::new(Options::default().background(background.clone()));
    assert!(other.set(b"x", b"v", px(1)).is_err());
    drop((dbs, other, background));
    wait_for_threads(0, 0);
}

#[test]
fn a_dead_resizer_is_seen_and_refuses_writes() {
    let _one = exclusive();
    wait_for_threads(0, 0);
    let db = Db::default();
    db.set(b"k", b"v", SetOptions::default()).unwrap();
    wait_for_threads(1, 1);
    db.background().inject_panic(Worker::Resizer);
    wait_for_death(db.background(), Worker::Resizer);
    wait_for_threads(1, 0);
    assert_eq!(db.background().state(Worker::Reaper), WorkerState::Running);
    check_writes_refused_reads_served(std::slice::from_ref(&db), "tandem-resizer");
    drop(db);
    wait_for_threads(0, 0);
}

#[test]
fn one_resizer_sizes_each_keyspace_by_its_own_load() {
    let _one = exclusive();
    let policy = tandem_engine::ResizePolicy {
        grow_keys_per_shard: 1_000,
        shrink_keys_per_shard: 100,
        interval: Duration::from_millis(10),
        // Sized by the keys present only, so the counts below are exact
        // however fast the keys went in.
        lookahead: Duration::ZERO,
        ..tandem_engine::ResizePolicy::default()
    };
    let background = Background::new();
    let dbs: Vec<Db> = (0..3)
        .map(|_| {
            Db::new(
                Options::default()
                    .resize_policy(policy)
                    .background(background.clone()),
            )
        })
        .collect();
    // Doubling while more than 1,000 keys per shard: 20,000 keys settle
    // at 32 shards, 3,000 at 4, none at 1.
    for (db, keys) in dbs.iter().zip([20_000, 3_000]) {
        for i in 0..keys {
            db.set(format!("k{i}").as_bytes(), b"v", SetOptions::default())
                .unwrap();
        }
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let counts = || dbs.iter().map(Db::shard_count).collect::<Vec<_>>();
    while counts() != [32, 4, 1] {
        assert!(Instant::now() < deadline, "shards: {:?}", counts());
        std::thread::sleep(Duration::from_millis(10));
    }
    wait_for_threads(1, 1);
}
