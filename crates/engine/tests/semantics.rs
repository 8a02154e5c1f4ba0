//! Redis semantics of each `Db` operation, on both memtables, with a clock
//! that only moves when the test moves it. Expected values follow Redis 7.

#![allow(clippy::unwrap_used)]

use std::ops::Bound;
use std::sync::Arc;
use tandem_engine::clock::ManualClock;
use tandem_engine::prelude::*;
use tandem_engine::{MemtableKind, SetOutcome};

const T0: u64 = 1_700_000_000_000;

fn dbs() -> Vec<(Db, Arc<ManualClock>)> {
    [MemtableKind::SingleLock, MemtableKind::Sharded]
        .into_iter()
        .map(|kind| {
            let clock = Arc::new(ManualClock::new(T0));
            let db = Db::new(
                Options::default()
                    .memtable(kind)
                    .shards(16)
                    .clock(clock.clone()),
            );
            (db, clock)
        })
        .collect()
}

fn set(db: &Db, k: &str, v: &str) {
    db.set(k.as_bytes(), v.as_bytes(), SetOptions::default())
        .unwrap();
}

fn get(db: &Db, k: &str) -> Option<String> {
    db.get(k.as_bytes())
        .unwrap()
        .map(|b| String::from_utf8(b.to_vec()).unwrap())
}

fn opts(condition: SetCondition, ttl: SetTtl, get: bool) -> SetOptions {
    SetOptions {
        condition,
        ttl,
        get,
    }
}

#[test]
fn set_conditions_and_get() {
    for (db, _) in dbs() {
        let nx = opts(SetCondition::IfAbsent, SetTtl::Clear, false);
        let xx = opts(SetCondition::IfPresent, SetTtl::Clear, false);
        assert!(
            !db.set(b"k", b"1", xx).unwrap().written,
            "XX on a missing key"
        );
        assert_eq!(get(&db, "k"), None);
        assert!(db.set(b"k", b"1", nx).unwrap().written);
        assert!(
            !db.set(b"k", b"2", nx).unwrap().written,
            "NX on an existing key"
        );
        assert_eq!(get(&db, "k").as_deref(), Some("1"));
        assert!(db.set(b"k", b"3", xx).unwrap().written);
        assert_eq!(get(&db, "k").as_deref(), Some("3"));

        let with_get = opts(SetCondition::Always, SetTtl::Clear, true);
        let out = db.set(b"k", b"4", with_get).unwrap();
        assert_eq!(
            out,
            SetOutcome {
                written: true,
                old: Some("3".into())
            }
        );
        let out = db.set(b"new", b"x", with_get).unwrap();
        assert_eq!(
            out,
            SetOutcome {
                written: true,
                old: None
            }
        );
        // NX GET (Redis 7): returns the old value and does not write.
        let nx_get = opts(SetCondition::IfAbsent, SetTtl::Clear, true);
        let out = db.set(b"k", b"5", nx_get).unwrap();
        assert_eq!(
            out,
            SetOutcome {
                written: false,
                old: Some("4".into())
            }
        );
        assert_eq!(get(&db, "k").as_deref(), Some("4"));
    }
}

#[test]
fn set_expiry_options() {
    for (db, clock) in dbs() {
        let ex = |t| opts(SetCondition::Always, SetTtl::At(t), false);
        db.set(b"a", b"v", ex(Expiry::Seconds(10))).unwrap();
        assert_eq!(db.pttl(b"a").unwrap(), 10_000);
        assert_eq!(db.ttl(b"a").unwrap(), 10);
        db.set(b"b", b"v", ex(Expiry::Millis(1500))).unwrap();
        assert_eq!(db.pttl(b"b").unwrap(), 1500);
        assert_eq!(db.ttl(b"b").unwrap(), 2, "TTL rounds to nearest second");
        db.set(b"c", b"v", ex(Expiry::UnixSeconds(1_800_000_000)))
            .unwrap();
        assert_eq!(db.expire_time(b"c").unwrap(), 1_800_000_000);
        db.set(b"d", b"v", ex(Expiry::UnixMillis(1_800_000_000_123)))
            .unwrap();
        assert_eq!(db.pexpire_time(b"d").unwrap(), 1_800_000_000_123);
        assert_eq!(db.expire_time(b"d").unwrap(), 1_800_000_000);

        // A plain SET clears the TTL; KEEPTTL keeps it.
        db.set(b"a", b"w", opts(SetCondition::Always, SetTtl::Keep, false))
            .unwrap();
        assert_eq!(db.pttl(b"a").unwrap(), 10_000);
        set(&db, "a", "x");
        assert_eq!(db.pttl(b"a").unwrap(), -1);

        // Invalid times are rejected before anything else, as in Redis.
        for bad in [
            Expiry::Seconds(0),
            Expiry::Millis(-1),
            Expiry::UnixSeconds(0),
            Expiry::Seconds(i64::MAX),
        ] {
            assert_eq!(db.set(b"k", b"v", ex(bad)), Err(Error::InvalidExpireTime));
        }
        assert_eq!(
            db.set(b"k", b"v", ex(Expiry::Millis(i64::MAX))),
            Err(Error::InvalidExpireTime)
        );
        assert_eq!(get(&db, "k"), None);

        // The key lives through its deadline's millisecond, then is gone.
        db.set(b"e", b"v", ex(Expiry::Millis(100))).unwrap();
        clock.advance(100);
        assert_eq!(get(&db, "e").as_deref(), Some("v"));
        assert_eq!(db.pttl(b"e").unwrap(), 0);
        clock.advance(1);
        assert_eq!(get(&db, "e"), None);
        assert_eq!(db.ttl(b"e").unwrap(), -2);
        assert_eq!(db.exists(&[b"e"]).unwrap(), 0);
        assert_eq!(db.key_type(b"e").unwrap(), None);
        // An expired key is absent for writes too: NX succeeds, KEEPTTL has
        // nothing to keep.
        db.set(
            b"e",
            b"v2",
            opts(SetCondition::IfAbsent, SetTtl::Keep, false),
        )
        .unwrap();
        assert_eq!(db.pttl(b"e").unwrap(), -1);
    }
}

#[test]
fn expire_family_with_conditions() {
    for (db, clock) in dbs() {
        let always = ExpireCondition::Always;
        assert!(!db.expire(b"missing", Expiry::Seconds(10), always).unwrap());
        set(&db, "k", "v");
        // NX: only without an expiry. XX: only with one.
        assert!(!db
            .expire(b"k", Expiry::Seconds(10), ExpireCondition::IfSome)
            .unwrap());
        assert!(db
            .expire(b"k", Expiry::Seconds(10), ExpireCondition::IfNone)
            .unwrap());
        assert!(!db
            .expire(b"k", Expiry::Seconds(20), ExpireCondition::IfNone)
            .unwrap());
        assert!(db
            .expire(b"k", Expiry::Seconds(20), ExpireCondition::IfSome)
            .unwrap());
        assert_eq!(db.ttl(b"k").unwrap(), 20);
        // GT: only later. LT: only earlier.
        assert!(!db
            .expire(b"k", Expiry::Seconds(5), ExpireCondition::IfLater)
            .unwrap());
        assert!(db
            .expire(b"k", Expiry::Seconds(30), ExpireCondition::IfLater)
            .unwrap());
        assert!(!db
            .expire(b"k", Expiry::Seconds(40), ExpireCondition::IfEarlier)
            .unwrap());
        assert!(db
            .expire(b"k", Expiry::Seconds(15), ExpireCondition::IfEarlier)
            .unwrap());
        assert_eq!(db.ttl(b"k").unwrap(), 15);
        // Without an expiry, GT never applies and LT always does.
        set(&db, "p", "v");
        assert!(!db
            .expire(b"p", Expiry::Seconds(100), ExpireCondition::IfLater)
            .unwrap());
        assert!(db
            .expire(b"p", Expiry::Seconds(100), ExpireCondition::IfEarlier)
            .unwrap());
        // PERSIST.
        assert!(db.persist(b"p").unwrap());
        assert!(!db.persist(b"p").unwrap());
        assert_eq!(db.ttl(b"p").unwrap(), -1);
        assert!(!db.persist(b"missing").unwrap());
        // A deadline in the past deletes the key and reports success.
        assert!(db.expire(b"p", Expiry::Seconds(-1), always).unwrap());
        assert_eq!(get(&db, "p"), None);
        set(&db, "q", "v");
        let now = i64::try_from(T0).unwrap();
        assert!(db.expire(b"q", Expiry::UnixMillis(now), always).unwrap());
        assert_eq!(get(&db, "q"), None);
        // Absolute times in the future.
        set(&db, "r", "v");
        assert!(db
            .expire(b"r", Expiry::UnixMillis(now + 5000), always)
            .unwrap());
        assert_eq!(db.pttl(b"r").unwrap(), 5000);
        clock.advance(2000);
        assert_eq!(db.pttl(b"r").unwrap(), 3000);
        // Overflow is an error, and the key is untouched.
        assert_eq!(
            db.expire(b"r", Expiry::Seconds(i64::MAX), always),
            Err(Error::InvalidExpireTime)
        );
        assert_eq!(
            db.expire(b"r", Expiry::Millis(i64::MAX), always),
            Err(Error::InvalidExpireTime)
        );
        assert_eq!(db.pttl(b"r").unwrap(), 3000);
        // TTL queries on missing and persistent keys.
        assert_eq!(db.pttl(b"missing").unwrap(), -2);
        assert_eq!(db.expire_time(b"missing").unwrap(), -2);
        set(&db, "s", "v");
        assert_eq!(db.expire_time(b"s").unwrap(), -1);
    }
}

#[test]
fn counters() {
    for (db, _) in dbs() {
        assert_eq!(db.incr_by(b"n", 1).unwrap(), 1);
        assert_eq!(db.incr_by(b"n", 41).unwrap(), 42);
        assert_eq!(db.decr_by(b"n", 50).unwrap(), -8);
        assert_eq!(get(&db, "n").as_deref(), Some("-8"));
        set(&db, "big", &i64::MAX.to_string());
        assert_eq!(db.incr_by(b"big", 1), Err(Error::Overflow));
        assert_eq!(get(&db, "big"), Some(i64::MAX.to_string()), "unchanged");
        set(&db, "small", &i64::MIN.to_string());
        assert_eq!(db.decr_by(b"small", 1), Err(Error::Overflow));
        assert_eq!(db.decr_by(b"n", i64::MIN), Err(Error::DecrementOverflow));
        for bad in [
            "abc",
            " 1",
            "1 ",
            "01",
            "+1",
            "1.5",
            "",
            "99999999999999999999",
        ] {
            set(&db, "s", bad);
            assert_eq!(db.incr_by(b"s", 1), Err(Error::NotInteger), "{bad:?}");
        }
        // INCR keeps the key's TTL.
        db.set(
            b"t",
            b"10",
            SetOptions {
                ttl: SetTtl::At(Expiry::Seconds(100)),
                ..Default::default()
            },
        )
        .unwrap();
        db.incr_by(b"t", 5).unwrap();
        assert_eq!(db.ttl(b"t").unwrap(), 100);

        // INCRBYFLOAT, with Redis's long double formatting.
        set(&db, "f", "10.50");
        assert_eq!(db.incr_by_float(b"f", b"0.1").unwrap(), "10.6");
        assert_eq!(db.incr_by_float(b"f", b"-5").unwrap(), "5.6");
        set(&db, "f", "5.0e3");
        assert_eq!(db.incr_by_float(b"f", b"2.0e2").unwrap(), "5200");
        assert_eq!(db.incr_by_float(b"nf", b"1.5").unwrap(), "1.5");
        assert_eq!(db.incr_by_float(b"f", b"x"), Err(Error::NotFloat));
        set(&db, "f", "x");
        assert_eq!(db.incr_by_float(b"f", b"1"), Err(Error::NotFloat));
        set(&db, "f", "1");
        assert_eq!(db.incr_by_float(b"f", b"inf"), Err(Error::NanOrInfinity));
        assert_eq!(get(&db, "f").as_deref(), Some("1"));
    }
}

#[test]
fn append_strlen_getrange_setrange() {
    for (db, _) in dbs() {
        assert_eq!(db.append(b"s", b"Hello").unwrap(), 5);
        assert_eq!(db.append(b"s", b" World").unwrap(), 11);
        assert_eq!(get(&db, "s").as_deref(), Some("Hello World"));
        assert_eq!(db.strlen(b"s").unwrap(), 11);
        assert_eq!(db.strlen(b"missing").unwrap(), 0);
        // APPEND of nothing to a missing key creates it (unlike SETRANGE).
        assert_eq!(db.append(b"empty", b"").unwrap(), 0);
        assert_eq!(db.exists(&[b"empty"]).unwrap(), 1);

        set(&db, "r", "This is a string");
        let range = |s, e| String::from_utf8(db.get_range(b"r", s, e).unwrap().to_vec()).unwrap();
        assert_eq!(range(0, 3), "This");
        assert_eq!(range(-3, -1), "ing");
        assert_eq!(range(0, -1), "This is a string");
        assert_eq!(range(10, 100), "string");
        assert_eq!(range(5, 3), "");
        assert!(db.get_range(b"missing", 0, -1).unwrap().is_empty());

        set(&db, "w", "Hello World");
        assert_eq!(db.set_range(b"w", 6, b"Redis").unwrap(), 11);
        assert_eq!(get(&db, "w").as_deref(), Some("Hello Redis"));
        assert_eq!(db.set_range(b"pad", 5, b"x").unwrap(), 6);
        assert_eq!(db.get(b"pad").unwrap().unwrap(), &b"\0\0\0\0\0x"[..]);
        assert_eq!(db.set_range(b"none", 3, b"").unwrap(), 0);
        assert_eq!(
            db.exists(&[b"none"]).unwrap(),
            0,
            "SETRANGE of nothing creates nothing"
        );
        assert_eq!(db.set_range(b"w", 100, b"").unwrap(), 11);
    }
}

#[test]
fn large_values_grow_in_place_and_read_back() {
    for (db, _) in dbs() {
        let chunk = vec![b'x'; 10_000];
        let mut expect = Vec::new();
        for i in 0..50u8 {
            let mut c = chunk.clone();
            c[0] = i;
            db.append(b"big", &c).unwrap();
            expect.extend_from_slice(&c);
        }
        assert_eq!(db.get(b"big").unwrap().unwrap(), &expect[..]);
        db.set_range(b"big", 3, b"abc").unwrap();
        expect[3..6].copy_from_slice(b"abc");
        assert_eq!(db.get(b"big").unwrap().unwrap(), &expect[..]);
        // A reader holding the old value keeps seeing it.
        let before = db.get(b"big").unwrap().unwrap();
        db.append(b"big", b"tail").unwrap();
        assert_eq!(before, &expect[..]);
        assert_eq!(db.strlen(b"big").unwrap(), expect.len() + 4);
        assert_eq!(&db.get_range(b"big", -4, -1).unwrap()[..], b"tail");
    }
}

#[test]
fn keyspace_operations() {
    for (db, clock) in dbs() {
        for i in 0..100 {
            set(&db, &format!("k{i}"), "v");
        }
        assert_eq!(db.dbsize(), 100);
        assert_eq!(db.del(&["k1", "k2", "k2", "nope"]).unwrap(), 2);
        assert_eq!(db.exists(&[b"k3", b"k3", b"k1"]).unwrap(), 2);
        assert_eq!(
            db.key_type(b"k3").unwrap(),
            Some(tandem_engine::ValueType::String)
        );
        assert_eq!(db.key_type(b"k3").unwrap().unwrap().as_str(), "string");
        assert_eq!(db.get_del(b"k3").unwrap().as_deref(), Some(&b"v"[..]));
        assert_eq!(db.get_del(b"k3").unwrap(), None);
        // DBSIZE counts expired keys until they are removed, as Redis.
        db.expire(b"k4", Expiry::Millis(1), ExpireCondition::Always)
            .unwrap();
        clock.advance(5);
        assert_eq!(db.dbsize(), 97);
        assert_eq!(
            db.del(&[b"k4"]).unwrap(),
            0,
            "an expired key is not deleted, it is gone"
        );
        assert_eq!(db.dbsize(), 96);
        db.flush();
        assert_eq!(db.dbsize(), 0);
        assert_eq!(get(&db, "k5"), None);
        let stats = db.stats();
        assert_eq!(stats.keys, 0);
    }
}

#[test]
fn versions_only_grow() {
    for (db, _) in dbs() {
        set(&db, "k", "1");
        let v1 = db.version(b"k").unwrap().unwrap();
        set(&db, "k", "2");
        let v2 = db.version(b"k").unwrap().unwrap();
        db.expire(b"k", Expiry::Seconds(5), ExpireCondition::Always)
            .unwrap();
        let v3 = db.version(b"k").unwrap().unwrap();
        db.del(&[b"k"]).unwrap();
        assert_eq!(db.version(b"k").unwrap(), None);
        set(&db, "k", "1");
        let v4 = db.version(b"k").unwrap().unwrap();
        assert!(v1 < v2 && v2 < v3 && v3 < v4, "{v1} {v2} {v3} {v4}");
    }
}

#[test]
fn multi_key_operations() {
    for (db, _) in dbs() {
        db.mset(&[("a", "1"), ("b", "2")]).unwrap();
        assert_eq!(
            db.mget(&["a", "b", "c"]).unwrap(),
            vec![Some("1".into()), Some("2".into()), None]
        );
        assert!(!db.msetnx(&[("c", "3"), ("a", "9")]).unwrap());
        assert_eq!(
            get(&db, "c"),
            None,
            "MSETNX writes nothing if any key exists"
        );
        assert!(db.msetnx(&[("c", "3"), ("d", "4")]).unwrap());
        assert_eq!(get(&db, "d").as_deref(), Some("4"));
    }
}

#[test]
fn atomic_batches_count_their_path() {
    let db = Db::new(Options::default().shards(64));
    // Find two keys on different shards and two on the same one.
    let keys: Vec<String> = (0..1000).map(|i| format!("key{i}")).collect();
    let shard_count = |ks: &[&str]| db.atomically(ks, |tx| tx.locked_shards());
    let a = keys[0].as_str();
    let same = keys
        .iter()
        .find(|k| *k != a && shard_count(&[a, k]) == 1)
        .unwrap();
    let other = keys.iter().find(|k| shard_count(&[a, k]) == 2).unwrap();
    let before = db.stats();
    db.atomically(&[a, same.as_str()], |tx| {
        tx.set(a.as_bytes(), b"1", SetOptions::default()).unwrap();
        tx.set(same.as_bytes(), b"1", SetOptions::default())
            .unwrap();
    });
    db.atomically(&[a, other.as_str()], |tx| {
        tx.incr_by(a.as_bytes(), 1).unwrap();
        tx.incr_by(other.as_bytes(), 1).unwrap();
    });
    let after = db.stats();
    assert_eq!(after.fast_path_batches - before.fast_path_batches, 1);
    assert_eq!(after.multi_shard_batches - before.multi_shard_batches, 1);
    assert_eq!(get(&db, a).as_deref(), Some("2"));
    // A key outside the declared set is refused, not silently unlocked.
    let err = db.atomically(&[a], |tx| {
        tx.set(other.as_bytes(), b"x", SetOptions::default())
    });
    assert_eq!(err, Err(Error::KeyNotInBatch));
}

#[test]
fn ordered_range_pages_and_prefixes() {
    for (db, clock) in dbs() {
        for i in 0..300 {
            set(&db, &format!("user:{i:04}"), &i.to_string());
        }
        set(&db, "other", "x");
        db.expire(b"user:0005", Expiry::Millis(1), ExpireCondition::Always)
            .unwrap();
        clock.advance(2);
        // Page through [user:0000, user:0100) ten at a time.
        let mut start = b"user:0000".to_vec();
        let mut seen = Vec::new();
        loop {
            let page = db.range(Bound::Included(&start), Bound::Excluded(b"user:0100"), 10);
            assert!(page.len() <= 10);
            seen.extend(page.iter().map(|(k, _)| k.to_vec()));
            match page.next_start() {
                Some(n) => start = n.to_vec(),
                None => break,
            }
        }
        let want: Vec<String> = (0..100)
            .filter(|&i| i != 5)
            .map(|i| format!("user:{i:04}"))
            .collect();
        let seen: Vec<String> = seen
            .iter()
            .map(|k| String::from_utf8(k.to_vec()).unwrap())
            .collect();
        assert_eq!(seen, want);
        // Values come with their keys.
        let page = db.range(Bound::Included(b"user:0042"), Bound::Unbounded, 1);
        assert_eq!(page.get(0).unwrap().1, b"42");
        assert_eq!(page.next_start(), Some(&b"user:0043"[..]));
        // Prefix scans.
        assert_eq!(db.scan_prefix(b"user:02").count(), 100);
        assert_eq!(db.scan_prefix(b"oth").count(), 1);
        assert_eq!(db.scan_prefix(b"").count(), 300);
        // Empty and inverted ranges.
        assert!(db
            .range(Bound::Included(b"b"), Bound::Excluded(b"a"), 10)
            .is_empty());
        assert!(db
            .range(Bound::Excluded(b"a"), Bound::Excluded(b"a"), 10)
            .is_empty());
    }
}

#[test]
fn scan_returns_every_key_once_with_match() {
    for (db, _) in dbs() {
        for i in 0..500 {
            set(&db, &format!("k:{i}"), "v");
        }
        set(&db, "", "empty key");
        let mut cursor = 0;
        let mut seen = std::collections::BTreeSet::new();
        let mut calls = 0;
        loop {
            let page = db
                .scan(
                    cursor,
                    ScanOptions {
                        count: 7,
                        ..Default::default()
                    },
                )
                .unwrap();
            assert!(page.keys.len() <= 7);
            for k in page.keys {
                assert!(seen.insert(k), "duplicate");
            }
            calls += 1;
            cursor = page.cursor;
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 501);
        assert!(calls >= 501 / 7);
        // MATCH filters after examining; a lone * matches the empty key too.
        let all = |pattern: &[u8]| {
            let mut cursor = 0;
            let mut n = 0;
            loop {
                let page = db
                    .scan(
                        cursor,
                        ScanOptions {
                            count: 50,
                            pattern: Some(pattern),
                            value_type: None,
                        },
                    )
                    .unwrap();
                n += page.keys.len();
                cursor = page.cursor;
                if cursor == 0 {
                    return n;
                }
            }
        };
        assert_eq!(all(b"*"), 501);
        assert_eq!(all(b"k:1?"), 10);
        assert_eq!(all(b"k:4*"), 111);
        assert_eq!(
            db.scan(12_345_678, ScanOptions::default()),
            Err(Error::InvalidCursor)
        );
    }
}

#[test]
fn memtable_trait_has_no_expiry_semantics() {
    use tandem_engine::{Entry, Memtable, Sharded, SingleLock};
    let tables: [Box<dyn Memtable>; 2] = [Box::new(SingleLock::new()), Box::new(Sharded::new(4))];
    for m in tables {
        m.insert(Entry::new(b"k", b"v", Some(1)).unwrap());
        let raw = m.get(b"k").unwrap();
        assert_eq!(
            raw.value(),
            b"v",
            "a memtable returns entries past their deadline"
        );
        assert!(raw.is_expired(2));
    }
}

#[test]
fn expire_xx_lt_needs_an_existing_expiry() {
    // Redis's EXPIRE ... XX LT: XX fails on a key without an expiry,
    // though LT alone counts no expiry as infinitely late.
    for (db, _clock) in dbs() {
        let cond = ExpireCondition::IfSomeEarlier;
        set(&db, "k", "v");
        assert!(!db.expire(b"k", Expiry::Seconds(200), cond).unwrap());
        assert!(!db.expire(b"k", Expiry::Seconds(-1), cond).unwrap());
        assert_eq!(db.ttl(b"k").unwrap(), -1);
        assert!(db
            .expire(b"k", Expiry::Seconds(100), ExpireCondition::Always)
            .unwrap());
        assert!(!db.expire(b"k", Expiry::Seconds(150), cond).unwrap());
        assert_eq!(db.ttl(b"k").unwrap(), 100);
        assert!(db.expire(b"k", Expiry::Seconds(50), cond).unwrap());
        assert_eq!(db.ttl(b"k").unwrap(), 50);
        assert!(!db.expire(b"missing", Expiry::Seconds(50), cond).unwrap());
    }
}
