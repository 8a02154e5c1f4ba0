//! An import's bulk load (`Db::loadable`, `Db::load`): every key goes in
//! once, readable and with its deadline, whatever the keyspace is doing
//! (empty shards, shards already holding keys, a resize half done), and a
//! key given twice is found.

#![allow(clippy::unwrap_used)]

use tandem_engine::prelude::*;
use tandem_engine::{Loadable, Value};

fn db(shards: usize) -> Db {
    Db::new(
        Options::default()
            .shards(shards)
            .migration_assist(0)
            .migration_share(1.0),
    )
}

fn built(db: &Db, keys: impl Iterator<Item = u32>) -> Vec<Loadable> {
    keys.map(|i| {
        let key = format!("key:{i}");
        let deadline = (i % 10 == 0).then_some(4_000_000_000_000 + u64::from(i));
        db.loadable(
            key.as_bytes(),
            Value::string(format!("v{i}").into_bytes()),
            deadline,
            None,
        )
        .unwrap()
    })
    .collect()
}

fn check(db: &Db, n: u32) {
    assert_eq!(db.dbsize(), n as usize);
    for i in (0..n).step_by(7) {
        let key = format!("key:{i}");
        assert_eq!(
            db.get(key.as_bytes()).unwrap().as_deref(),
            Some(format!("v{i}").as_bytes())
        );
        let want = if i % 10 == 0 {
            4_000_000_000_000 + i64::from(i)
        } else {
            -1
        };
        assert_eq!(db.pexpire_time(key.as_bytes()).unwrap(), want, "{key}");
    }
}

#[test]
fn every_key_goes_in_into_empty_shards() {
    for shards in [1, 2, 16] {
        let db = db(shards);
        let keys = built(&db, (0..20_000).rev());
        assert_eq!(db.load(keys).unwrap(), None);
        check(&db, 20_000);
    }
}

#[test]
fn shards_already_holding_keys_take_them_one_by_one() {
    let db = db(4);
    assert_eq!(db.load(built(&db, 0..5_000)).unwrap(), None);
    assert_eq!(db.load(built(&db, 5_000..12_000)).unwrap(), None);
    check(&db, 12_000);
    let again = db.load(built(&db, 11_999..12_000)).unwrap();
    assert_eq!(again.as_deref(), Some(&b"key:11999"[..]));
}

#[test]
fn a_key_given_twice_is_found() {
    let db = db(8);
    let mut keys = built(&db, 0..3_000);
    keys.extend(built(&db, 1_234..1_235));
    assert_eq!(db.load(keys).unwrap().as_deref(), Some(&b"key:1234"[..]));
}

#[test]
fn a_resize_half_done_still_takes_every_key() {
    let db = db(2);
    assert_eq!(db.load(built(&db, 0..3_000)).unwrap(), None);
    assert!(db.begin_resize(8));
    db.migrate_step(100);
    assert_eq!(db.load(built(&db, 3_000..9_000)).unwrap(), None);
    // The first keys are still being moved: a repeat of one is found.
    let again = db.load(built(&db, 2_999..3_000)).unwrap();
    assert_eq!(again.as_deref(), Some(&b"key:2999"[..]));
    while db.migrate_step(1_000) {}
    check(&db, 9_000);
}

#[test]
fn a_filled_shard_keeps_its_counts_and_announces_its_deadlines() {
    let db = db(4);
    assert_eq!(db.load(built(&db, 0..5_000)).unwrap(), None);
    let stats = db.stats();
    assert_eq!(stats.keys, 5_000);
    assert_eq!(stats.volatile_keys, 500);
    assert!(stats.avg_ttl_ms > 0);

    // Keys due in a moment go without anyone touching them: the shards'
    // deadline hints woke the reaper.
    let reaped = Db::new(Options::default().shards(4));
    // Far enough ahead that a slow machine still counts them first.
    let due = reaped.now_ms() + 1_500;
    let keys = (0..2_000u32)
        .map(|i| {
            let key = format!("due:{i}");
            reaped
                .loadable(
                    key.as_bytes(),
                    Value::string(b"v".to_vec()),
                    Some(due),
                    None,
                )
                .unwrap()
        })
        .collect();
    assert_eq!(reaped.load(keys).unwrap(), None);
    if reaped.now_ms() < due {
        assert_eq!(reaped.dbsize(), 2_000);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while reaped.dbsize() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the reaper never came"
        );
        std::thread::yield_now();
    }
}

/// The keys `db` holds, in key order, read whole.
fn keys(db: &Db) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    db.dump(|e| {
        out.push(e.key.to_vec());
        Ok::<_, ()>(())
    })
    .unwrap();
    out
}

#[test]
fn a_load_during_resizes_puts_each_key_in_once() {
    for round in 0..20u32 {
        let db = std::sync::Arc::new(db(2));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let resizer = {
            let (db, stop) = (db.clone(), stop.clone());
            std::thread::spawn(move || {
                let targets = [4, 8, 3, 16, 2, 5];
                let mut t = round as usize;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    t += 1;
                    if db.begin_resize(targets[t % targets.len()]) {
                        while db.migrate_step(300) {}
                    }
                }
            })
        };
        let loaded = db.load(built(&db, 0..30_000)).unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        resizer.join().unwrap();
        while db.migrate_step(10_000) {}
        assert_eq!(loaded, None, "round {round}");
        let got = keys(&db);
        assert_eq!(got.len(), 30_000, "round {round}");
        assert!(
            got.windows(2).all(|w| w[0] < w[1]),
            "round {round}: a key twice"
        );
        check(&db, 30_000);
    }
}

#[test]
fn two_loads_at_once_into_shared_shards() {
    for shards in [1, 3] {
        let db = db(shards);
        let (a, b) = (built(&db, 0..20_000), built(&db, 20_000..40_000));
        let (ra, rb) = std::thread::scope(|s| {
            let ta = s.spawn(|| db.load(a).unwrap());
            let tb = s.spawn(|| db.load(b).unwrap());
            (ta.join().unwrap(), tb.join().unwrap())
        });
        assert_eq!((ra, rb), (None, None));
        assert_eq!(keys(&db).len(), 40_000);
        check(&db, 40_000);
    }
}

#[test]
fn a_key_built_for_another_database_is_routed_again() {
    let (home, other) = (db(8), db(8));
    let keys = built(&other, 0..3_000);
    assert_eq!(home.load(keys).unwrap(), None);
    check(&home, 3_000);
    assert_eq!(other.dbsize(), 0);
}
