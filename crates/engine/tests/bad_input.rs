//! Bad and edge-case input: empty keys (Redis allows them), sizes at and
//! over the limit, integer overflow, offsets that would overflow, and
//! binary data. Nothing may panic, and a refused write changes nothing.

#![allow(clippy::unwrap_used)]

use std::ops::Bound;
use tandem_engine::prelude::*;

const LIMIT: usize = 8192 + 100;

fn db() -> Db {
    Db::new(Options::default().max_value_bytes(LIMIT))
}

fn too_large() -> Error {
    Error::ValueTooLarge { limit: LIMIT }
}

#[test]
fn the_empty_key_is_a_key() {
    let db = db();
    db.set(b"", b"empty", SetOptions::default()).unwrap();
    assert_eq!(db.get(b"").unwrap().as_deref(), Some(&b"empty"[..]));
    assert_eq!(db.exists(&[b""]).unwrap(), 1);
    assert_eq!(db.incr_by(b"", 1), Err(Error::NotInteger));
    assert_eq!(db.append(b"", b"!").unwrap(), 6);
    let first = db.range(Bound::Unbounded, Bound::Unbounded, 1);
    assert_eq!(first.get(0).unwrap().0, b"", "the empty key sorts first");
    assert_eq!(db.del(&[b""]).unwrap(), 1);
    assert_eq!(db.get(b"").unwrap(), None);
}

#[test]
fn values_at_the_limit_are_accepted_and_over_it_refused() {
    let db = db();
    let at = vec![b'a'; LIMIT];
    db.set(b"k", &at, SetOptions::default()).unwrap();
    assert_eq!(db.strlen(b"k").unwrap(), LIMIT);
    let over = vec![b'b'; LIMIT + 1];
    assert_eq!(db.set(b"k", &over, SetOptions::default()), Err(too_large()));
    assert_eq!(
        db.get(b"k").unwrap().unwrap(),
        &at[..],
        "a refused SET changes nothing"
    );
    assert_eq!(db.append(b"k", b"x"), Err(too_large()));
    assert_eq!(db.strlen(b"k").unwrap(), LIMIT);
    assert_eq!(db.set_range(b"k", LIMIT, b"x"), Err(too_large()));
    assert_eq!(db.set_range(b"k", LIMIT - 1, b"z").unwrap(), LIMIT);
    assert_eq!(db.set_range(b"new", LIMIT, b"x"), Err(too_large()));
    assert_eq!(db.set_range(b"new", usize::MAX, b"x"), Err(too_large()));
    assert_eq!(db.exists(&[b"new"]).unwrap(), 0);
    // Keys are bounded by the same limit, whichever write creates them.
    assert_eq!(db.set(&over, b"v", SetOptions::default()), Err(too_large()));
    assert_eq!(db.append(&over, b"v"), Err(too_large()));
    assert_eq!(db.incr_by(&over, 1), Err(too_large()));
    assert_eq!(db.incr_by_float(&over, b"1.5"), Err(too_large()));
    assert_eq!(db.set_range(&over, 0, b"x"), Err(too_large()));
    assert_eq!(db.exists(&[&over]).unwrap(), 0);
    db.set(&at, b"v", SetOptions::default()).unwrap();
}

#[test]
fn integer_overflow_and_parsing_never_panic() {
    let db = db();
    for (start, delta) in [
        (i64::MAX, 1),
        (i64::MIN, -1),
        (i64::MAX, i64::MAX),
        (i64::MIN, i64::MIN),
    ] {
        db.set(b"n", start.to_string().as_bytes(), SetOptions::default())
            .unwrap();
        assert_eq!(db.incr_by(b"n", delta), Err(Error::Overflow));
    }
    db.set(b"n", b"0", SetOptions::default()).unwrap();
    assert_eq!(db.decr_by(b"n", i64::MIN), Err(Error::DecrementOverflow));
    assert_eq!(db.incr_by(b"n", i64::MIN).unwrap(), i64::MIN);
    assert_eq!(
        db.get_range(b"n", i64::MIN, i64::MAX).unwrap(),
        i64::MIN.to_string()
    );
    assert_eq!(db.get_range(b"n", i64::MAX, i64::MIN).unwrap(), "");
    for e in [
        Expiry::Seconds(i64::MIN),
        Expiry::UnixSeconds(i64::MAX),
        Expiry::Millis(i64::MAX),
    ] {
        assert_eq!(
            db.expire(b"n", e, ExpireCondition::Always),
            Err(Error::InvalidExpireTime)
        );
    }
    // Very negative but not overflowing: the deadline has passed.
    assert!(db
        .expire(b"n", Expiry::UnixMillis(i64::MIN), ExpireCondition::Always)
        .unwrap());
    assert_eq!(db.exists(&[b"n"]).unwrap(), 0);
}

#[test]
fn binary_keys_and_values_round_trip() {
    let db = db();
    let key: Vec<u8> = (0..=255u8).collect();
    let value: Vec<u8> = (0..=255u8).rev().cycle().take(5000).collect();
    db.set(&key, &value, SetOptions::default()).unwrap();
    assert_eq!(db.get(&key).unwrap().unwrap(), &value[..]);
    assert_eq!(db.incr_by_float(&key, b"1"), Err(Error::NotFloat));
    db.set(b"\xff\xfe", b"\x00\x01", SetOptions::default())
        .unwrap();
    assert_eq!(db.append(b"\xff\xfe", b"\x80").unwrap(), 3);
    assert_eq!(db.get(b"\xff\xfe").unwrap().unwrap(), &b"\x00\x01\x80"[..]);
    let page = db.range(Bound::Included(b"\xff"), Bound::Unbounded, 10);
    assert_eq!(page.len(), 1);
    assert_eq!(
        db.incr_by(b"\xc3\x28", 1).unwrap(),
        1,
        "invalid UTF-8 is just bytes"
    );
    assert_eq!(db.incr_by_float(b"f", b"\xff"), Err(Error::NotFloat));
    assert_eq!(
        db.incr_by_float(b"f", b"1\x00junk").unwrap(),
        "1",
        "Redis stops at NUL too"
    );
}

#[test]
fn scan_with_hostile_patterns_and_counts() {
    let db = db();
    for i in 0..100 {
        db.set(format!("k{i}").as_bytes(), b"v", SetOptions::default())
            .unwrap();
    }
    let page = db
        .scan(
            0,
            ScanOptions {
                count: usize::MAX,
                pattern: Some(b"[[[[\\"),
                value_type: None,
            },
        )
        .unwrap();
    assert_eq!((page.cursor, page.keys.len()), (0, 0));
    let page = db
        .scan(
            0,
            ScanOptions {
                count: 0,
                ..Default::default()
            },
        )
        .unwrap();
    assert!(page.keys.len() <= 1, "COUNT 0 still makes progress");
    assert_ne!(page.cursor, 0);
}
