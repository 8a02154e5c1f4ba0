//! Concurrency stress tests. Each checks an invariant that a race would
//! break, not merely that nothing crashed. Each is bounded by operation
//! counts (not time), and runs on both memtables.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use tandem_engine::prelude::*;
use tandem_engine::MemtableKind;

const THREADS: usize = 8;

fn dbs() -> Vec<Db> {
    vec![
        Db::new(Options::default().memtable(MemtableKind::SingleLock)),
        Db::new(Options::default().memtable(MemtableKind::Sharded).shards(8)),
        Db::new(
            Options::default()
                .memtable(MemtableKind::Sharded)
                .shards(64),
        ),
    ]
}

/// Each thread's generator is seeded, so failures reproduce.
fn seeded(seed: u64) -> fastrand::Rng {
    fastrand::Rng::with_seed(seed)
}

fn run<F: Fn(usize) + Send + Sync + 'static>(threads: usize, f: F) {
    let f = Arc::new(f);
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (f, barrier) = (f.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                f(t)
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn concurrent_incr_loses_no_update() {
    for db in dbs() {
        const KEYS: usize = 16;
        const PER_THREAD: usize = 20_000;
        let d = db.clone();
        run(THREADS, move |t| {
            let mut rng = seeded(t as u64 + 1);
            for _ in 0..PER_THREAD {
                let k = format!("counter:{}", rng.usize(..KEYS));
                d.incr_by(k.as_bytes(), 1).unwrap();
            }
        });
        let total: i64 = (0..KEYS)
            .map(|k| {
                let v = db
                    .get(format!("counter:{k}").as_bytes())
                    .unwrap()
                    .unwrap_or_default();
                tandem_engine::parse_i64(&v).unwrap_or(0)
            })
            .sum();
        assert_eq!(total, (THREADS * PER_THREAD) as i64);
    }
}

#[test]
fn atomic_transfers_are_never_seen_half_done() {
    for db in dbs() {
        const ACCOUNTS: usize = 12;
        const START: i64 = 1000;
        let keys: Vec<String> = (0..ACCOUNTS).map(|i| format!("acct:{i}")).collect();
        for k in &keys {
            db.set(
                k.as_bytes(),
                START.to_string().as_bytes(),
                SetOptions::default(),
            )
            .unwrap();
        }
        let done = Arc::new(AtomicBool::new(false));
        let writers = THREADS / 2;
        let (d, ks, stop) = (db.clone(), keys.clone(), done.clone());
        run(THREADS, move |t| {
            let mut rng = seeded(t as u64 + 7);
            if t < writers {
                for _ in 0..10_000 {
                    let (a, b) = (rng.usize(..ACCOUNTS), rng.usize(..ACCOUNTS));
                    let amount = rng.usize(..50) as i64;
                    let pair = [ks[a].as_str(), ks[b].as_str()];
                    d.atomically(&pair, |tx| {
                        tx.decr_by(pair[0].as_bytes(), amount).unwrap();
                        tx.incr_by(pair[1].as_bytes(), amount).unwrap();
                    });
                }
                if t == 0 {
                    stop.store(true, Ordering::SeqCst);
                }
            } else {
                // Readers: every consistent view of all accounts sums to
                // the starting total, whichever way it is read.
                let mut checks = 0;
                while !stop.load(Ordering::SeqCst) || checks < 100 {
                    let values = if checks % 2 == 0 {
                        d.mget(&ks).unwrap()
                    } else {
                        d.atomically(&ks, |tx| tx.mget(&ks).unwrap())
                    };
                    let sum: i64 = values
                        .iter()
                        .map(|v| tandem_engine::parse_i64(v.as_ref().unwrap()).unwrap())
                        .sum();
                    assert_eq!(
                        sum,
                        START * ACCOUNTS as i64,
                        "a reader saw a half-applied transfer"
                    );
                    checks += 1;
                }
            }
        });
    }
}

#[test]
fn paired_writes_are_seen_together() {
    for db in dbs() {
        // Pairs of keys always written together with the same value.
        let pairs: Vec<[String; 2]> = (0..8)
            .map(|i| [format!("left:{i}"), format!("right:{i}")])
            .collect();
        let (d, ps) = (db.clone(), pairs.clone());
        run(THREADS, move |t| {
            let mut rng = seeded(t as u64 + 99);
            for n in 0..5_000u64 {
                let p = &ps[rng.usize(..ps.len())];
                if t % 2 == 0 {
                    let v = (n * 100 + t as u64).to_string();
                    d.mset(&[(p[0].as_str(), v.as_str()), (p[1].as_str(), v.as_str())])
                        .unwrap();
                } else if n % 3 == 0 {
                    d.del(&[p[0].as_str(), p[1].as_str()]).unwrap();
                } else {
                    let got = d.mget(&[p[0].as_str(), p[1].as_str()]).unwrap();
                    assert_eq!(got[0], got[1], "MSET/DEL seen half-applied");
                }
            }
        });
    }
}

#[test]
fn scans_under_churn_see_every_stable_key_once_and_in_order() {
    for db in dbs() {
        // Stable keys are never touched while scans run; churn keys are
        // inserted and deleted around them.
        let stable: BTreeSet<Vec<u8>> = (0..2000)
            .map(|i| format!("s:{i:05}").into_bytes())
            .collect();
        for k in &stable {
            db.set(k, b"stable", SetOptions::default()).unwrap();
        }
        let done = Arc::new(AtomicBool::new(false));
        let (d, st, stop) = (db.clone(), stable.clone(), done.clone());
        run(4, move |t| {
            let mut rng = seeded(t as u64 + 3);
            match t {
                0 | 1 => {
                    for n in 0..20_000 {
                        let k = format!("s:{:05}x{}", rng.usize(..2000), n % 7);
                        if n % 2 == 0 {
                            d.set(k.as_bytes(), b"churn", SetOptions::default())
                                .unwrap();
                        } else {
                            d.del(&[k.as_str()]).unwrap();
                        }
                    }
                    stop.store(true, Ordering::SeqCst);
                }
                2 => {
                    let mut rounds = 0;
                    while !stop.load(Ordering::SeqCst) || rounds < 3 {
                        let keys: Vec<Vec<u8>> = d
                            .range_iter(Bound::Unbounded, Bound::Unbounded)
                            .map(|(k, _)| k.to_vec())
                            .collect();
                        assert!(
                            keys.windows(2).all(|w| w[0] < w[1]),
                            "range out of order or repeated"
                        );
                        let seen: BTreeSet<&Vec<u8>> =
                            keys.iter().filter(|k| st.contains(*k)).collect();
                        assert_eq!(seen.len(), st.len(), "range missed a stable key");
                        rounds += 1;
                    }
                }
                _ => {
                    let mut rounds = 0;
                    while !stop.load(Ordering::SeqCst) || rounds < 3 {
                        let mut cursor = 0;
                        let mut seen = BTreeSet::new();
                        loop {
                            let page = d
                                .scan(
                                    cursor,
                                    ScanOptions {
                                        count: 97,
                                        ..Default::default()
                                    },
                                )
                                .unwrap();
                            for k in page.keys {
                                assert!(seen.insert(k.to_vec()), "SCAN returned a key twice");
                            }
                            cursor = page.cursor;
                            if cursor == 0 {
                                break;
                            }
                        }
                        assert!(
                            st.iter().all(|k| seen.contains(k)),
                            "SCAN missed a stable key"
                        );
                        rounds += 1;
                    }
                }
            }
        });
    }
}

#[test]
fn reads_only_return_values_that_were_written() {
    for db in dbs() {
        // Each writer writes values tagged with its id and a sequence number
        // that only grows; readers must never see a value nobody wrote, nor
        // a writer's sequence go backwards on one key.
        const KEYS: usize = 8;
        let d = db.clone();
        run(THREADS, move |t| {
            let mut rng = seeded(t as u64 + 11);
            let mut last_seen = vec![vec![0u64; THREADS]; KEYS];
            for seq in 1..=10_000u64 {
                let k = rng.usize(..KEYS);
                let key = format!("rw:{k}");
                if t % 2 == 0 {
                    let v = format!("{t}:{seq}:{}", "x".repeat(rng.usize(..200)));
                    d.set(key.as_bytes(), v.as_bytes(), SetOptions::default())
                        .unwrap();
                } else if let Some(v) = d.get(key.as_bytes()).unwrap() {
                    let s = std::str::from_utf8(&v).unwrap();
                    let mut parts = s.splitn(3, ':');
                    let w: usize = parts.next().unwrap().parse().unwrap();
                    let n: u64 = parts.next().unwrap().parse().unwrap();
                    assert!(
                        w.is_multiple_of(2) && w < THREADS && n <= 10_000,
                        "value nobody wrote: {s}"
                    );
                    assert!(
                        parts.next().unwrap().bytes().all(|b| b == b'x'),
                        "torn value: {s}"
                    );
                    assert!(
                        n >= last_seen[k][w],
                        "writer {w}'s writes to key {k} went backwards"
                    );
                    last_seen[k][w] = n;
                }
            }
        });
    }
}

#[test]
fn flush_during_writes_leaves_a_consistent_keyspace() {
    for db in dbs() {
        let d = db.clone();
        run(4, move |t| {
            for n in 0..5_000 {
                if t == 0 && n % 500 == 0 {
                    d.flush();
                } else {
                    let k = format!("f:{t}:{}", n % 100);
                    d.set(k.as_bytes(), b"v", SetOptions::default()).unwrap();
                }
            }
        });
        let scanned = db.range_iter(Bound::Unbounded, Bound::Unbounded).count();
        assert_eq!(scanned, db.dbsize());
        assert_eq!(db.stats().keys, scanned);
    }
}
