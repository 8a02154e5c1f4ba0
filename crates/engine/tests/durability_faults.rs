//! Recovery against faults: over many seeds, random changes to a durable
//! store (`appendfsync always`) while the simulated disk fails a write or
//! a sync, tears a write or fills up, then a power cut. What recovery
//! finds must be exactly what was acknowledged; the one change whose call
//! failed may be there or not, whole or not at all. A flipped bit in a
//! durable file stops recovery with an error naming it.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use tandem_engine::prelude::*;
use tandem_engine::storage::backend::{Backend, SimFs};
use tandem_engine::storage::manifest::Manifest;
use tandem_engine::storage::wal::{segment, SyncPolicy};
use tandem_engine::{Store, StoreOptions};

type State = BTreeMap<Vec<u8>, (Vec<u8>, Option<u64>)>;

/// Every database's state, by number (SWAPDB applied).
fn states(store: &Store) -> Vec<State> {
    store
        .numbering()
        .iter()
        .map(|&id| {
            let mut out = State::new();
            store
                .db(id)
                .unwrap()
                .dump::<()>(|e| {
                    out.insert(e.key.to_vec(), (e.value.to_vec(), e.deadline));
                    Ok(())
                })
                .unwrap();
            out
        })
        .collect()
}

fn options(fs: &SimFs) -> StoreOptions {
    StoreOptions {
        fs: Arc::new(fs.clone()) as Arc<dyn Backend>,
        sync: SyncPolicy::Always,
        // Small segments, so rotation happens under faults too.
        segment_bytes: 2048,
        ..StoreOptions::default()
    }
}

const DBS: usize = 2;

fn far() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    now + 3_600_000
}

/// One random change by number `db`; returns whether it was acknowledged.
fn change(store: &Store, rng: &mut fastrand::Rng) -> bool {
    let numbering = store.numbering();
    let db = store.db(numbering[rng.usize(..DBS)]).unwrap();
    let key = format!("k{}", rng.u8(..12)).into_bytes();
    let other = format!("k{}", rng.u8(..12)).into_bytes();
    let value = vec![rng.u8(..); rng.usize(..300)];
    let ok = match rng.u8(..10) {
        0 => db.del(&[&key]).is_ok(),
        1 => !matches!(db.incr_by(&key, 3), Err(Error::LogFailed(_))),
        2 => db.append(&key, &value).is_ok(),
        3 => db
            .expire(&key, Expiry::UnixMillis(far()), ExpireCondition::Always)
            .is_ok(),
        4 => !matches!(db.rename(&key, &other), Err(Error::LogFailed(_))),
        5 => db.mset(&[(&key, &value), (&other, &value)]).is_ok(),
        6 if rng.u8(..4) == 0 => {
            db.flush();
            db.take_unsettled().is_none()
        }
        7 if rng.u8(..3) == 0 => store.swap(0, 1, || {}),
        _ => db.set(&key, &value, SetOptions::default()).is_ok(),
    };
    let failed = store.journal().is_some_and(|j| j.wal().has_failed());
    ok && !failed
}

/// Which fault the seed injects.
fn inject(fs: &SimFs, rng: &mut fastrand::Rng) -> &'static str {
    let n = rng.u64(1..60);
    match rng.u8(..6) {
        0 => "none",
        1 => {
            fs.fail_write(n);
            "fail write"
        }
        2 => {
            fs.fail_sync(n);
            "fail sync"
        }
        3 => {
            fs.tear_write(n, rng.usize(..64));
            "tear write"
        }
        4 => {
            fs.disk_full_after(rng.u64(100..20_000));
            "disk full"
        }
        _ => {
            fs.fail_sync_dir(rng.u64(1..4));
            "fail directory sync"
        }
    }
}

#[test]
fn recovery_after_faults_and_a_power_cut_holds_what_was_acknowledged() {
    let dir = Path::new("/data");
    let mut faulted = 0;
    for seed in 0..300u64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let fs = SimFs::new();
        let (store, _) = Store::open(dir, options(&fs), common::dbs(DBS, 2)).unwrap();
        let fault = inject(&fs, &mut rng);
        // The state before the change that failed, and after it (in
        // memory): recovery must find one of the two.
        let mut before = states(&store);
        let mut outcome = None;
        for step in 0..80 {
            if rng.u8(..15) == 0 {
                // A snapshot may fail under the fault; it then changes
                // nothing durable.
                let _ = store.snapshot();
            }
            let prior = states(&store);
            if !change(&store, &mut rng) {
                outcome = Some((step, prior, states(&store)));
                break;
            }
            before = states(&store);
        }
        if let Some((step, prior, after)) = outcome.take() {
            faulted += 1;
            // Writes stay refused until a snapshot holds everything.
            let db = store.db(0).unwrap();
            assert!(
                matches!(
                    db.set(b"refused", b"x", SetOptions::default()),
                    Err(Error::LogFailed(_))
                ),
                "seed {seed} ({fault}): a write after the failure was accepted"
            );
            if rng.bool() {
                fs.clear_faults();
                store.snapshot().unwrap();
                db.set(b"resumed", b"y", SetOptions::default()).unwrap();
                before = states(&store);
            } else {
                let recovered = recover(dir, &fs, seed);
                assert!(
                    recovered == prior || recovered == after,
                    "seed {seed} ({fault}, failed at step {step}): recovered state is neither the one before the failed change nor the one after"
                );
                continue;
            }
        }
        let recovered = recover(dir, &fs, seed);
        assert_eq!(recovered, before, "seed {seed} ({fault})");
    }
    // The faults must actually have been met, or this test tests nothing.
    assert!(faulted > 50, "only {faulted} seeds met their fault");
}

fn recover(dir: &Path, fs: &SimFs, seed: u64) -> Vec<State> {
    let after = fs.crash(seed);
    match Store::open(dir, options(&after), common::dbs(DBS, 2)) {
        Ok((store, _)) => states(&store),
        Err(e) => panic!("seed {seed}: recovery failed: {e}"),
    }
}

#[test]
fn a_flipped_bit_in_a_durable_file_stops_recovery_naming_it() {
    let dir = Path::new("/data");
    let fs = SimFs::new();
    let (store, _) = Store::open(dir, options(&fs), common::dbs(DBS, 2)).unwrap();
    let db = store.db(0).unwrap();
    for i in 0..50u32 {
        db.set(
            format!("key{i}").as_bytes(),
            &[i as u8; 40],
            SetOptions::default(),
        )
        .unwrap();
    }
    store.snapshot().unwrap();
    for i in 0..50u32 {
        db.set(
            format!("more{i}").as_bytes(),
            &[i as u8; 40],
            SetOptions::default(),
        )
        .unwrap();
    }
    store.close().unwrap();
    let names = fs.list(dir).unwrap();
    let manifest = Manifest::load(&fs, dir).unwrap().unwrap();
    let mut checked = 0;
    for name in names
        .iter()
        .filter(|n| n.ends_with(".tdb") || n.ends_with(".wal"))
    {
        let path = dir.join(name);
        let len = fs.read_file(&path).unwrap().len() as u64;
        // Bytes recovery reads: all of the snapshot; of the log, each
        // segment's header and what lies at or after `log-start`.
        let from = match segment::parse_name(name) {
            Some(start) if start + (len - segment::HEADER) <= manifest.log_start => continue,
            Some(start) if start < manifest.log_start => {
                segment::HEADER + (manifest.log_start - start)
            }
            _ => 0,
        };
        // Every 7th byte, one bit each.
        for offset in (0..len)
            .step_by(7)
            .filter(|&o| o >= from || o < segment::HEADER)
        {
            let copy = fs.kill();
            copy.flip_bit(&path, offset, (offset % 8) as u8).unwrap();
            match Store::open(dir, options(&copy), common::dbs(DBS, 2)) {
                Err(e) => {
                    assert!(
                        e.is_corruption(),
                        "{name} byte {offset}: not corruption: {e}"
                    );
                    assert!(
                        e.to_string().contains(name.as_str()) || e.to_string().contains("/data"),
                        "{e}"
                    );
                    checked += 1;
                }
                Ok((s, recovery)) => {
                    // Only a flip in the log's last record may pass, as a
                    // torn tail cut off: nothing else may load.
                    assert!(
                        name.ends_with(".wal") && recovery.torn.is_some(),
                        "{name} byte {offset}: a flipped bit went unnoticed"
                    );
                    drop(s);
                }
            }
        }
    }
    assert!(checked > 100);
}
