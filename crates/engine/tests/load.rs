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
