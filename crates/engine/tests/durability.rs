//! The durable store: what was acknowledged survives a close, a kill and a
//! power cut; snapshots taken while writes go on are exact; SWAPDB, FLUSH,
//! TTLs and every database survive.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tandem_engine::prelude::*;
use tandem_engine::storage::backend::{Backend, SimFs};
use tandem_engine::storage::wal::SyncPolicy;
use tandem_engine::{Store, StoreOptions};

/// Every live key of `db` with its value and deadline.
type State = BTreeMap<Vec<u8>, (Vec<u8>, Option<u64>)>;

fn state(db: &Db) -> State {
    let mut out = State::new();
    db.dump::<()>(|e| {
        out.insert(e.key.to_vec(), (e.value.to_vec(), e.deadline));
        Ok(())
    })
    .unwrap();
    out
}

fn states(store: &Store) -> Vec<State> {
    store.dbs().iter().map(state).collect()
}

fn open(dir: &Path, options: &StoreOptions, n: usize) -> Store {
    Store::open(dir, options.clone(), common::dbs(n, 4))
        .unwrap()
        .0
}

fn sim(fs: &SimFs) -> StoreOptions {
    StoreOptions {
        fs: Arc::new(fs.clone()) as Arc<dyn Backend>,
        sync: SyncPolicy::Always,
        ..StoreOptions::default()
    }
}

fn dir() -> PathBuf {
    PathBuf::from("/data")
}

fn far() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
        + 3_600_000
}

/// A mix of every kind of change, in three databases.
fn workload(store: &Store) {
    let a = store.db(0).unwrap();
    let b = store.db(1).unwrap();
    a.set(b"plain", b"v1", SetOptions::default()).unwrap();
    a.set(b"plain", b"v2", SetOptions::default()).unwrap();
    a.set(b"bin\x00key", b"\x00\xff\x01", SetOptions::default())
        .unwrap();
    a.incr_by(b"counter", 41).unwrap();
    a.incr_by(b"counter", 1).unwrap();
    a.incr_by_float(b"float", b"0.1").unwrap();
    a.incr_by_float(b"float", b"0.2").unwrap();
    a.append(b"log", b"hello ").unwrap();
    a.append(b"log", b"world").unwrap();
    a.set(b"ttl", b"x", SetOptions::default()).unwrap();
    a.expire(
        b"ttl",
        Expiry::UnixMillis(far() as i64),
        ExpireCondition::Always,
    )
    .unwrap();
    a.set(b"gone", b"x", SetOptions::default()).unwrap();
    a.del(&[b"gone"]).unwrap();
    a.mset(&[(b"m1", b"1"), (b"m2", b"2")]).unwrap();
    a.rename(b"m1", b"m1-renamed").unwrap();
    a.set(b"big", &vec![7u8; 100_000], SetOptions::default())
        .unwrap();
    a.append(b"big", b"tail").unwrap();
    a.set_range(b"plain", 1, b"XYZ").unwrap();
    b.set(b"in-b", b"b", SetOptions::default()).unwrap();
    a.move_to(b"m2", b).unwrap();
    let c = store.db(2).unwrap();
    c.set(b"flushed", b"x", SetOptions::default()).unwrap();
    c.flush();
    c.set(b"after-flush", b"y", SetOptions::default()).unwrap();
}

#[test]
fn every_kind_of_change_survives_a_clean_close() {
    let fs = SimFs::new();
    let options = sim(&fs);
    let store = open(&dir(), &options, 3);
    workload(&store);
    let before = states(&store);
    store.close().unwrap();
    drop(store);
    let (store, recovery) = Store::open(&dir(), options, common::dbs(3, 4)).unwrap();
    assert_eq!(states(&store), before);
    assert!(recovery.log_records > 10);
    assert_eq!(recovery.snapshot, None);
}

#[test]
fn under_always_a_power_cut_loses_nothing_acknowledged() {
    for seed in 0..20 {
        let fs = SimFs::new();
        let options = sim(&fs);
        let store = open(&dir(), &options, 3);
        workload(&store);
        let before = states(&store);
        // No close: the power goes while the store runs.
        let after = fs.crash(seed);
        let (store2, _) = Store::open(&dir(), sim(&after), common::dbs(3, 4)).unwrap();
        assert_eq!(states(&store2), before, "seed {seed}");
        drop(store);
    }
}

#[test]
fn under_everysec_a_killed_process_loses_nothing_acknowledged() {
    let fs = SimFs::new();
    let options = StoreOptions {
        sync: SyncPolicy::EverySec,
        ..sim(&fs)
    };
    let store = open(&dir(), &options, 3);
    workload(&store);
    let before = states(&store);
    let after = fs.kill();
    let (store2, _) = Store::open(
        &dir(),
        StoreOptions {
            fs: Arc::new(after),
            ..options
        },
        common::dbs(3, 4),
    )
    .unwrap();
    assert_eq!(states(&store2), before);
    drop(store);
}

#[test]
fn a_snapshot_replaces_the_log_and_the_state_survives() {
    let fs = SimFs::new();
    let options = sim(&fs);
    let store = open(&dir(), &options, 3);
    workload(&store);
    let info = store.snapshot().unwrap();
    assert!(info.keys >= 10);
    store
        .db(0)
        .unwrap()
        .set(b"after-snapshot", b"1", SetOptions::default())
        .unwrap();
    let before = states(&store);
    let after = fs.crash(7);
    let (store2, recovery) = Store::open(&dir(), sim(&after), common::dbs(3, 4)).unwrap();
    assert_eq!(states(&store2), before);
    assert_eq!(recovery.snapshot, Some(info.path));
    assert_eq!(recovery.log_records, 1);
    drop(store);
}

#[test]
fn swapdb_survives_and_a_snapshot_records_the_numbering() {
    let fs = SimFs::new();
    let options = sim(&fs);
    let store = open(&dir(), &options, 3);
    store
        .db(0)
        .unwrap()
        .set(b"k", b"zero", SetOptions::default())
        .unwrap();
    store
        .db(2)
        .unwrap()
        .set(b"k", b"two", SetOptions::default())
        .unwrap();
    assert!(store.swap(0, 2, || {}));
    assert_eq!(store.numbering(), vec![2, 1, 0]);
    let (s2, _) = Store::open(&dir(), sim(&fs.crash(1)), common::dbs(3, 4)).unwrap();
    assert_eq!(s2.numbering(), vec![2, 1, 0]);
    assert_eq!(s2.db(2).unwrap().get(b"k").unwrap().unwrap(), "two");
    store.snapshot().unwrap();
    assert!(store.swap(1, 2, || {}));
    let (s3, _) = Store::open(&dir(), sim(&fs.crash(2)), common::dbs(3, 4)).unwrap();
    assert_eq!(s3.numbering(), vec![2, 0, 1]);
    drop(store);
}

#[test]
fn named_blobs_survive_through_the_log_and_through_snapshots() {
    let fs = SimFs::new();
    let options = sim(&fs);
    let store = open(&dir(), &options, 1);
    assert!(!store.set_meta("bad name", Some(b"x")));
    assert!(store.set_meta("functions", Some(b"\xf5one\n")));
    assert!(store.set_meta("other", Some(b"gone soon")));
    // Logged (synced under `always`): a power cut keeps them.
    let (s2, _) = Store::open(&dir(), sim(&fs.crash(1)), common::dbs(1, 4)).unwrap();
    assert_eq!(s2.meta("functions").as_deref(), Some(&b"\xf5one\n"[..]));
    assert_eq!(s2.meta("other").as_deref(), Some(&b"gone soon"[..]));
    drop(s2);
    // A snapshot holds them; the log after it changes and removes them.
    store.snapshot().unwrap();
    let (s3, _) = Store::open(&dir(), sim(&fs.crash(2)), common::dbs(1, 4)).unwrap();
    assert_eq!(s3.meta("other").as_deref(), Some(&b"gone soon"[..]));
    drop(s3);
    assert!(store.set_meta("functions", Some(b"two")));
    assert!(store.set_meta("other", None));
    let (s4, _) = Store::open(&dir(), sim(&fs.crash(3)), common::dbs(1, 4)).unwrap();
    assert_eq!(s4.meta("functions").as_deref(), Some(&b"two"[..]));
    assert_eq!(s4.meta("other"), None);
    drop(s4);
    // And the next snapshot has the last values alone.
    store.snapshot().unwrap();
    drop(store);
    let (s5, recovery) = Store::open(&dir(), sim(&fs.crash(4)), common::dbs(1, 4)).unwrap();
    assert_eq!(recovery.log_records, 0);
    assert_eq!(s5.meta("functions").as_deref(), Some(&b"two"[..]));
    assert_eq!(s5.meta("other"), None);
}

#[test]
fn keys_that_expired_while_down_are_gone() {
    let fs = SimFs::new();
    let options = sim(&fs);
    let store = open(&dir(), &options, 1);
    let db = store.db(0).unwrap();
    let soon = db.now_ms() + 50;
    db.set(b"short", b"x", SetOptions::default()).unwrap();
    db.expire(
        b"short",
        Expiry::UnixMillis(soon as i64),
        ExpireCondition::Always,
    )
    .unwrap();
    db.set(b"long", b"y", SetOptions::default()).unwrap();
    db.expire(
        b"long",
        Expiry::UnixMillis(far() as i64),
        ExpireCondition::Always,
    )
    .unwrap();
    store.snapshot().unwrap();
    db.set(b"short2", b"x", SetOptions::default()).unwrap();
    db.expire(
        b"short2",
        Expiry::UnixMillis(soon as i64),
        ExpireCondition::Always,
    )
    .unwrap();
    store.close().unwrap();
    while db.now_ms() <= soon + 1 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let (s2, recovery) = Store::open(&dir(), options, common::dbs(1, 4)).unwrap();
    let got = state(s2.db(0).unwrap());
    assert_eq!(
        got.keys().cloned().collect::<Vec<_>>(),
        vec![b"long".to_vec()]
    );
    assert_eq!(got[b"long".as_slice()].1, Some(far_rounded(&got)));
    assert!(recovery.expired >= 2);
    drop(store);
}

fn far_rounded(got: &State) -> u64 {
    got[b"long".as_slice()].1.unwrap()
}

#[test]
fn without_appendonly_only_snapshots_persist() {
    let fs = SimFs::new();
    let options = StoreOptions {
        appendonly: false,
        ..sim(&fs)
    };
    let store = open(&dir(), &options, 2);
    workload_small(&store);
    let saved = states(&store);
    store.snapshot().unwrap();
    store
        .db(0)
        .unwrap()
        .set(b"unsaved", b"1", SetOptions::default())
        .unwrap();
    let (s2, _) = Store::open(
        &dir(),
        StoreOptions {
            fs: Arc::new(fs.crash(3)),
            ..options.clone()
        },
        common::dbs(2, 4),
    )
    .unwrap();
    assert_eq!(states(&s2), saved);
    // A second snapshot replaces the first and its log.
    store.snapshot().unwrap();
    let saved2 = states(&store);
    let (s3, _) = Store::open(
        &dir(),
        StoreOptions {
            fs: Arc::new(fs.crash(4)),
            ..options
        },
        common::dbs(2, 4),
    )
    .unwrap();
    assert_eq!(states(&s3), saved2);
    drop(store);
}

fn workload_small(store: &Store) {
    let a = store.db(0).unwrap();
    for i in 0..100u32 {
        a.set(
            format!("k{i}").as_bytes(),
            &i.to_le_bytes(),
            SetOptions::default(),
        )
        .unwrap();
    }
    store
        .db(1)
        .unwrap()
        .set(b"other", b"db", SetOptions::default())
        .unwrap();
}

#[test]
fn a_snapshot_taken_while_writers_run_is_exact() {
    for appendonly in [true, false] {
        let fs = SimFs::new();
        let options = StoreOptions {
            appendonly,
            sync: SyncPolicy::No,
            ..sim(&fs)
        };
        let store = open(&dir(), &options, 1);
        let db = store.db(0).unwrap().clone();
        for i in 0..50_000u32 {
            db.set(format!("k{i:05}").as_bytes(), b"0", SetOptions::default())
                .unwrap();
        }
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writers: Vec<_> = (0..2u32)
            .map(|t| {
                let db = db.clone();
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut i = 0u32;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let k = format!("k{:05}", (i.wrapping_mul(7919) + t * 13) % 60_000);
                        match i % 5 {
                            0 => drop(db.del(&[k.as_bytes()]).unwrap()),
                            1 => drop(db.incr_by(k.as_bytes(), 1)),
                            _ => drop(
                                db.set(
                                    k.as_bytes(),
                                    format!("{t}-{i}").as_bytes(),
                                    SetOptions::default(),
                                )
                                .unwrap(),
                            ),
                        }
                        i += 1;
                    }
                })
            })
            .collect();
        for _ in 0..3 {
            store.snapshot().unwrap();
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for w in writers {
            w.join().unwrap();
        }
        if appendonly {
            // Everything is logged: the state now is the durable one.
            let now = states(&store);
            store.close().unwrap();
            let (s2, _) = Store::open(
                &dir(),
                StoreOptions {
                    fs: Arc::new(fs.kill()),
                    ..options
                },
                common::dbs(1, 4),
            )
            .unwrap();
            assert_eq!(states(&s2), now);
        } else {
            // Without writers, a snapshot saves exactly the state.
            let now = states(&store);
            store.snapshot().unwrap();
            let (s2, _) = Store::open(
                &dir(),
                StoreOptions {
                    fs: Arc::new(fs.crash(9)),
                    ..options
                },
                common::dbs(1, 4),
            )
            .unwrap();
            assert_eq!(states(&s2), now);
        }
        drop(store);
    }
}

#[test]
fn a_batch_cut_back_to_a_mark_logs_only_what_came_before_it() {
    let fs = SimFs::new();
    let options = sim(&fs);
    let store = open(&dir(), &options, 1);
    let db = store.db(0).unwrap();
    db.atomically(&["before", "after"], |tx| {
        tx.set(b"before", b"1", SetOptions::default()).unwrap();
        let mark = tandem_engine::journal::mark().expect("a scope is open");
        tx.set(b"after", b"2", SetOptions::default()).unwrap();
        tandem_engine::journal::discard_since(mark);
    });
    // In memory both changes stand; the log has the first alone.
    assert_eq!(db.get(b"after").unwrap().unwrap(), "2");
    let (s2, _) = Store::open(&dir(), sim(&fs.crash(1)), common::dbs(1, 4)).unwrap();
    let d2 = s2.db(0).unwrap();
    assert_eq!(d2.get(b"before").unwrap().unwrap(), "1");
    assert!(d2.get(b"after").unwrap().is_none());
    drop(store);
}
