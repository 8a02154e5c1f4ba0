//! Eviction's rules on the engine: each policy takes only the keys it may
//! (volatile ones never touch a key without a TTL, `noeviction` nothing),
//! across every database; an evicted key leaves with an `evicted` event,
//! counted, and logged as a delete that recovery replays; LRU and LFU keep
//! the keys that are used, and `allkeys-s3fifo` the keys used since they
//! came; OBJECT's idle time and frequency read back.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tandem_engine::evict::Policy;
use tandem_engine::prelude::*;
use tandem_engine::pubsub::NotifyFlags;
use tandem_engine::storage::backend::{Backend, SimFs};
use tandem_engine::storage::wal::SyncPolicy;
use tandem_engine::{evict_one, Background, EvictState, Store, StoreOptions};

fn ttl() -> SetOptions {
    SetOptions {
        ttl: SetTtl::At(Expiry::Seconds(3600)),
        ..SetOptions::default()
    }
}

/// Fills each database with `n` keys without a TTL (`p:`) and `n` with
/// one (`v:`).
fn fill(dbs: &[Db], n: usize) {
    for db in dbs {
        for i in 0..n {
            db.set(format!("p:{i}").as_bytes(), b"x", SetOptions::default())
                .unwrap();
            db.set(format!("v:{i}").as_bytes(), b"x", ttl()).unwrap();
        }
    }
}

/// Waits until the access clock (the coarse clock LRU words are stamped
/// from) reads `ms` past what it reads now: the wait is on the clock the
/// code reads, which may lag the thread's sleep by a tick.
fn let_access_clock_pass(ms: u64) {
    use tandem_engine::evict::access::clock_ms;
    let from = clock_ms();
    while clock_ms() < from + ms {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Evicts until the policy has nothing more to take; how many went.
fn evict_all(dbs: &[Db], policy: Policy) -> usize {
    let mut state = EvictState::default();
    let mut n = 0;
    while let Some(e) = evict_one(dbs, policy, 5, &mut state).unwrap() {
        assert!(e.bytes > 0);
        n += 1;
        assert!(n <= 10_000, "{policy:?} never stops");
    }
    n
}

fn keys(db: &Db) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    db.dump::<()>(|e| {
        out.insert(String::from_utf8_lossy(e.key).into_owned());
        Ok(())
    })
    .unwrap();
    out
}

#[test]
fn volatile_policies_take_only_keys_with_a_ttl_and_noeviction_nothing() {
    for policy in Policy::ALL {
        let dbs = common::dbs(3, 4);
        fill(&dbs, 200);
        let evicted = evict_all(&dbs, policy);
        let left: Vec<BTreeSet<String>> = dbs.iter().map(keys).collect();
        match policy {
            Policy::NoEviction => assert_eq!(evicted, 0),
            p if p.volatile_only() => {
                assert_eq!(evicted, 600, "{p:?}: every key with a TTL, in every db");
                for db in &left {
                    assert_eq!(db.len(), 200, "{p:?}");
                    assert!(db.iter().all(|k| k.starts_with("p:")), "{p:?}");
                }
            }
            p => {
                assert_eq!(evicted, 1200, "{p:?}: everything, in every db");
                assert!(left.iter().all(BTreeSet::is_empty), "{p:?}");
            }
        }
        let counted: u64 = dbs.iter().map(Db::evicted_keys).sum();
        assert_eq!(counted, evicted as u64, "{policy:?}");
    }
}

#[test]
fn an_evicted_key_sends_evicted_and_nothing_else() {
    let dbs = common::dbs(1, 4);
    dbs[0]
        .hub()
        .set_notify_flags(NotifyFlags::parse(b"KEA").unwrap());
    dbs[0].set(b"k", b"v", SetOptions::default()).unwrap();
    let sub = dbs[0].hub().subscriber();
    sub.psubscribe(b"__key*");
    assert_eq!(evict_all(&dbs, Policy::AllKeysRandom), 1);
    let mut got = Vec::new();
    while got.len() < 2 {
        let m = sub.recv_timeout(Duration::from_secs(10)).unwrap().unwrap();
        got.push((m.channel().to_vec(), m.payload().to_vec()));
    }
    assert_eq!(
        got,
        vec![
            (b"__keyspace@0__:k".to_vec(), b"evicted".to_vec()),
            (b"__keyevent@0__:evicted".to_vec(), b"k".to_vec()),
        ]
    );
    assert!(sub.try_recv().unwrap().is_none(), "no del, no expired");
    assert_eq!(dbs[0].stats().expired_keys, 0);
}

#[test]
fn lru_keeps_the_keys_used_since_the_others() {
    let dbs = common::dbs(1, 4);
    let db = &dbs[0];
    for i in 0..2_000 {
        db.set(format!("k{i:04}").as_bytes(), b"x", SetOptions::default())
            .unwrap();
    }
    // LRU time moves in 4 ms ticks: the hot keys' last use must be later.
    let_access_clock_pass(30);
    let hot: Vec<String> = (0..2_000).step_by(10).map(|i| format!("k{i:04}")).collect();
    for k in &hot {
        db.get(k.as_bytes()).unwrap();
    }
    let mut state = EvictState::default();
    for _ in 0..1_000 {
        evict_one(&dbs, Policy::AllKeysLru, 5, &mut state)
            .unwrap()
            .unwrap();
    }
    let left = keys(db);
    let kept = hot.iter().filter(|k| left.contains(*k)).count();
    // Sampled LRU with a pool evicts the idlest of what it sampled; a hot
    // key goes only if a whole round's sample was hot and the pool empty.
    assert!(kept >= 195, "{kept} of 200 recently used keys kept");
    assert!(db.idle_ms(b"k0000").unwrap().unwrap() < 30);
}

#[test]
fn lfu_keeps_the_keys_used_often() {
    let dbs = common::dbs(1, 4);
    let db = &dbs[0];
    db.set_access_rules(Policy::AllKeysLfu, 10, 1);
    for i in 0..2_000 {
        db.set(format!("k{i:04}").as_bytes(), b"x", SetOptions::default())
            .unwrap();
    }
    let hot: Vec<String> = (0..2_000).step_by(10).map(|i| format!("k{i:04}")).collect();
    for _ in 0..20 {
        for k in &hot {
            db.get(k.as_bytes()).unwrap();
        }
    }
    assert!(db.frequency(b"k0000").unwrap().unwrap() > 5);
    assert_eq!(db.frequency(b"k0001").unwrap(), Some(5), "LFU_INIT_VAL");
    let mut state = EvictState::default();
    for _ in 0..1_000 {
        evict_one(&dbs, Policy::AllKeysLfu, 5, &mut state)
            .unwrap()
            .unwrap();
    }
    let left = keys(db);
    let kept = hot.iter().filter(|k| left.contains(*k)).count();
    assert!(kept >= 195, "{kept} of 200 frequently used keys kept");
}

#[test]
fn s3fifo_evicts_keys_never_used_again_before_keys_used_since_they_came() {
    let dbs = common::dbs(1, 4);
    let db = &dbs[0];
    // No decay, so that a minute turning mid-test cannot level the used
    // keys' counters with the others'.
    db.set_access_rules(Policy::AllKeysS3Fifo, 10, 0);
    // Older keys, each read once after it came; then a scan's worth of
    // newer keys nobody reads again.
    for i in 0..1_000 {
        let k = format!("used:{i:04}");
        db.set(k.as_bytes(), b"x", SetOptions::default()).unwrap();
        db.get(k.as_bytes()).unwrap();
    }
    for i in 0..1_000 {
        db.set(
            format!("once:{i:04}").as_bytes(),
            b"x",
            SetOptions::default(),
        )
        .unwrap();
    }
    assert_eq!(db.on_probation(), 2_000);
    let mut state = EvictState::default();
    // The first ~15 evictions pass over 64 used keys each and fall back
    // to LFU, whose sample of 5 is all used keys one time in 32 (the
    // test failed that way now and then): 20 keys make that one in a
    // million.
    for _ in 0..800 {
        evict_one(&dbs, Policy::AllKeysS3Fifo, 20, &mut state)
            .unwrap()
            .unwrap();
    }
    let left = keys(db);
    let used = left.iter().filter(|k| k.starts_with("used:")).count();
    assert_eq!(used, 1_000, "LFU would have taken some of these");
    // Most of the first 800 one-off keys went, in the order they came
    // (while probation passes over used keys, at most 64 per eviction,
    // LFU picks one of the others).
    let oldest_gone = (0..800)
        .filter(|i| !left.contains(&format!("once:{i:04}")))
        .count();
    assert!(oldest_gone >= 760, "{oldest_gone} of the oldest 800 gone");
    // Passed over keys left probation: what is left is about its share
    // (10% of the 2,000 keys last counted), plus the few keys LFU took
    // while probation was passing over used ones (still queued, gone).
    let queued = db.on_probation();
    assert!((200..=230).contains(&queued), "{queued}");
}

#[test]
fn s3fifo_lets_a_key_evicted_from_probation_skip_it_when_it_comes_back() {
    let dbs = common::dbs(1, 4);
    let db = &dbs[0];
    db.set_access_rules(Policy::AllKeysS3Fifo, 10, 1);
    for i in 0..100 {
        db.set(format!("k{i:03}").as_bytes(), b"x", SetOptions::default())
            .unwrap();
    }
    let mut state = EvictState::default();
    evict_one(&dbs, Policy::AllKeysS3Fifo, 5, &mut state)
        .unwrap()
        .unwrap();
    assert_eq!(db.get(b"k000").unwrap(), None, "the oldest went first");
    let queued = db.on_probation();
    db.set(b"k000", b"x", SetOptions::default()).unwrap();
    assert_eq!(db.on_probation(), queued, "back from the ghost");
    assert_eq!(
        db.frequency(b"k000").unwrap(),
        Some(6),
        "counted as used once"
    );
    db.set(b"new", b"x", SetOptions::default()).unwrap();
    assert_eq!(db.on_probation(), queued + 1);
    assert_eq!(db.frequency(b"new").unwrap(), Some(5));
    // Another policy turns probation off and forgets it.
    db.set_access_rules(Policy::AllKeysLfu, 10, 1);
    assert_eq!(db.on_probation(), 0);
    db.set(b"later", b"x", SetOptions::default()).unwrap();
    assert_eq!(db.on_probation(), 0);
}

#[test]
fn volatile_ttl_takes_the_soonest_deadlines_first() {
    let dbs = common::dbs(1, 4);
    let db = &dbs[0];
    for i in 0..1_000u64 {
        let opts = SetOptions {
            ttl: SetTtl::At(Expiry::Seconds(1_000 + i as i64)),
            ..SetOptions::default()
        };
        db.set(format!("k{i:04}").as_bytes(), b"x", opts).unwrap();
    }
    let mut state = EvictState::default();
    for _ in 0..500 {
        evict_one(&dbs, Policy::VolatileTtl, 5, &mut state)
            .unwrap()
            .unwrap();
    }
    let left = keys(db);
    let late = left.iter().filter(|k| k.as_str() >= "k0500").count();
    assert!(
        late >= 400,
        "{late} of the 500 keys left are the later half"
    );
}

#[test]
fn reads_that_do_not_count_as_a_use_leave_the_idle_time_alone() {
    let dbs = common::dbs(1, 4);
    let db = &dbs[0];
    db.set(b"k", b"v", SetOptions::default()).unwrap();
    // 44 ms on the access clock after the stamp: at least 10 whole ticks,
    // whatever the stamp's place in its tick.
    let_access_clock_pass(44);
    // TYPE, EXISTS, TTL, OBJECT ENCODING and MEMORY USAGE do not touch.
    db.key_type(b"k").unwrap();
    db.exists(&[b"k"]).unwrap();
    db.pttl(b"k").unwrap();
    db.memory_usage(b"k").unwrap();
    assert!(db.idle_ms(b"k").unwrap().unwrap() >= 36);
    db.get(b"k").unwrap();
    assert!(db.idle_ms(b"k").unwrap().unwrap() < 36);
    assert_eq!(db.idle_ms(b"missing").unwrap(), None);
}

#[test]
fn an_evicted_key_stays_gone_after_recovery() {
    let fs = SimFs::new();
    let options = StoreOptions {
        fs: Arc::new(fs.clone()) as Arc<dyn Backend>,
        sync: SyncPolicy::Always,
        ..StoreOptions::default()
    };
    let dir = PathBuf::from("/data");
    let store = Store::open(&dir, options.clone(), common::dbs(2, 4))
        .unwrap()
        .0;
    fill(store.dbs(), 50);
    assert_eq!(evict_all(store.dbs(), Policy::VolatileRandom), 100);
    let before: Vec<BTreeSet<String>> = store.dbs().iter().map(keys).collect();
    drop(store);
    let (store, _) = Store::open(&dir, options, common::dbs(2, 4)).unwrap();
    let after: Vec<BTreeSet<String>> = store.dbs().iter().map(keys).collect();
    assert_eq!(after, before);
    assert!(after.iter().all(|db| db.len() == 50));
}

/// Writers create keys while evictors take them, in two databases of a
/// keyspace that resizes itself as it grows and shrinks: every key
/// written is either still there or was evicted exactly once (one
/// `evicted` event, counted once), never lost and never both; keys with
/// a TTL and without are taken by volatile and allkeys evictors alike
/// only as their policies allow.
#[test]
fn concurrent_writes_and_evictions_lose_and_double_nothing() {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicBool, Ordering};
    const WRITERS: usize = 3;
    const PER_WRITER: usize = 20_000;
    let background = Background::new();
    let hub = tandem_engine::pubsub::Hub::default();
    hub.set_notify_flags(NotifyFlags::parse(b"Ee").unwrap());
    let dbs: Vec<Db> = (0..2)
        .map(|i| {
            let options = Options::default().db_index(i).hub(hub.clone());
            let db = Db::new(options.background(background.clone()));
            // New keys go on probation, which the s3fifo evictor takes
            // from while the others sample.
            db.set_access_rules(Policy::AllKeysS3Fifo, 10, 1);
            db
        })
        .collect();
    let sub = hub.subscriber();
    sub.psubscribe(b"__keyevent@*__:evicted");
    // Events are read as they come: a subscriber that falls behind is cut
    // off.
    let (tx, events_rx) = std::sync::mpsc::channel();
    let collector = std::thread::spawn(move || {
        // Ends when the test drops its receiver, after the last event.
        loop {
            match sub.recv_timeout(Duration::from_millis(100)) {
                Ok(Some(m)) => {
                    if tx.send(m.payload().to_vec()).is_err() {
                        return;
                    }
                }
                Ok(None) => {
                    if tx.send(Vec::new()).is_err() {
                        return;
                    }
                }
                Err(cut) => panic!("the subscriber was cut off: {cut:?}"),
            }
        }
    });
    let done = std::sync::Arc::new(AtomicBool::new(false));
    let dbs = std::sync::Arc::new(dbs);
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let dbs = dbs.clone();
            std::thread::spawn(move || {
                for i in 0..PER_WRITER {
                    let db = &dbs[i % 2];
                    let key = format!("w{w}:{i}");
                    // Every third key has a TTL, far away.
                    let opts = if i % 3 == 0 {
                        ttl()
                    } else {
                        SetOptions::default()
                    };
                    db.set(key.as_bytes(), b"v", opts).unwrap();
                }
            })
        })
        .collect();
    let evictors: Vec<_> = [
        Policy::AllKeysLru,
        Policy::VolatileTtl,
        Policy::AllKeysRandom,
        Policy::AllKeysS3Fifo,
    ]
    .into_iter()
    .map(|policy| {
        let (dbs, done) = (dbs.clone(), done.clone());
        std::thread::spawn(move || {
            let mut state = EvictState::default();
            let mut taken = Vec::new();
            while !done.load(Ordering::Relaxed) {
                if let Some(e) = evict_one(&dbs, policy, 5, &mut state).unwrap() {
                    taken.push(e.db);
                }
            }
            (policy, taken.len())
        })
    })
    .collect();
    for w in writers {
        w.join().unwrap();
    }
    done.store(true, Ordering::Relaxed);
    let taken: usize = evictors.into_iter().map(|e| e.join().unwrap().1).sum();
    // Every eviction announced its key once.
    let mut events: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut quiet = 0;
    // Events come until every eviction has its own, then 200 ms of quiet
    // (the collector's empty beats) shows there are no more.
    while events.values().sum::<usize>() < taken || quiet < 2 {
        let key = events_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("an event per eviction");
        if key.is_empty() {
            quiet += 1;
            continue;
        }
        quiet = 0;
        *events.entry(key).or_default() += 1;
    }
    drop(events_rx);
    collector.join().unwrap();
    assert_eq!(
        events.values().sum::<usize>(),
        taken,
        "an event per eviction"
    );
    assert!(events.values().all(|&n| n == 1), "a key evicted twice");
    let counted: u64 = dbs.iter().map(Db::evicted_keys).sum();
    assert_eq!(counted, taken as u64);
    // Written = present + evicted, key by key.
    let present: Vec<BTreeSet<String>> = dbs.iter().map(keys).collect();
    for w in 0..WRITERS {
        for i in 0..PER_WRITER {
            let key = format!("w{w}:{i}");
            let here = present[i % 2].contains(&key);
            let gone = events.contains_key(key.as_bytes());
            assert!(here ^ gone, "{key}: present {here}, evicted {gone}");
        }
    }
    assert!(taken > 1_000, "the evictors ran alongside ({taken})");
}
