//! The write-ahead log on the real file system: order, group commit,
//! segments, torn tails and corruption.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]

use std::path::PathBuf;
use std::sync::Arc;
use tandem_storage::backend::{Backend, StdFs};
use tandem_storage::wal::{self, segment, SyncPolicy, Wal, WalOptions};
use tandem_storage::Error;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tandem-wal-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn fs() -> Arc<dyn Backend> {
    Arc::new(StdFs)
}

fn read_all(dir: &std::path::Path, from: u64) -> (Vec<(u64, Vec<u8>)>, wal::Replay) {
    let mut got = Vec::new();
    let replay = wal::read(&StdFs, dir, from, None, false, |lsn, p| {
        got.push((lsn, p.to_vec()));
        Ok(())
    })
    .unwrap();
    (got, replay)
}

#[test]
fn records_from_many_threads_come_back_in_append_order() {
    let dir = temp_dir("order");
    let opts = WalOptions {
        policy: SyncPolicy::EverySec,
        segment_bytes: 4096,
    };
    let log = Arc::new(Wal::create(fs(), &dir, 0, &opts).unwrap());
    let threads: Vec<_> = (0..4u8)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut last = 0;
                for i in 0..500u32 {
                    let mut rec = vec![t];
                    rec.extend_from_slice(&i.to_le_bytes());
                    last = log.append(&rec).unwrap();
                    if i % 7 == 0 {
                        log.write_out(last).unwrap();
                        assert!(log.written() >= last);
                    }
                }
                last
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    log.close().unwrap();
    let (got, replay) = read_all(&dir, 0);
    assert_eq!(got.len(), 2000);
    assert!(replay.segments > 1, "4 KiB segments must have rotated");
    assert_eq!(replay.torn, None);
    let mut next = [0u32; 4];
    let mut prev_lsn = 0;
    for (lsn, rec) in &got {
        assert!(*lsn > prev_lsn);
        prev_lsn = *lsn;
        let t = rec[0] as usize;
        let i = u32::from_le_bytes(rec[1..5].try_into().unwrap());
        assert_eq!(i, next[t], "thread {t}'s records out of order");
        next[t] += 1;
    }
    // Reading from a position in the middle yields exactly the rest.
    let (mid_lsn, _) = got[999];
    let (rest, _) = read_all(&dir, mid_lsn);
    assert_eq!(rest, got[1000..].to_vec());
}

#[test]
fn under_always_concurrent_writers_share_syncs() {
    let dir = temp_dir("always");
    let opts = WalOptions {
        policy: SyncPolicy::Always,
        ..WalOptions::default()
    };
    let log = Arc::new(Wal::create(fs(), &dir, 0, &opts).unwrap());
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let log = log.clone();
            std::thread::spawn(move || {
                for i in 0..50u32 {
                    let lsn = log.append(&i.to_le_bytes()).unwrap();
                    log.wait_synced(lsn).unwrap();
                    assert!(log.durable() >= lsn);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let stats = log.stats();
    assert_eq!(stats.records, 400);
    assert!(stats.syncs >= 1 && stats.syncs <= 400);
    log.close().unwrap();
    assert_eq!(read_all(&dir, 0).0.len(), 400);
}

#[test]
fn a_torn_last_record_is_cut_only_when_allowed() {
    let dir = temp_dir("torn");
    let log = Wal::create(fs(), &dir, 0, &WalOptions::default()).unwrap();
    let mut ends = Vec::new();
    for i in 0..10u32 {
        ends.push(log.append(&[i as u8; 100]).unwrap());
    }
    log.close().unwrap();
    let path = dir.join(segment::name(0));
    let full = std::fs::metadata(&path).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(full - 30).unwrap();
    match wal::read(&StdFs, &dir, 0, None, false, |_, _| Ok(())) {
        Err(Error::Truncated { offset, .. }) => assert_eq!(offset, segment::HEADER + ends[8]),
        other => panic!("expected Truncated, got {other:?}"),
    }
    let mut n = 0;
    let replay = wal::read(&StdFs, &dir, 0, None, true, |_, _| {
        n += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!(n, 9);
    assert_eq!(replay.end, ends[8]);
    let torn = replay.torn.unwrap();
    torn.cut(&StdFs).unwrap();
    let (got, replay) = read_all(&dir, 0);
    assert_eq!(got.len(), 9);
    assert_eq!(replay.torn, None);
}

#[test]
fn zeros_after_the_last_record_are_a_torn_tail_but_garbage_is_corruption() {
    let dir = temp_dir("zeros");
    let log = Wal::create(fs(), &dir, 0, &WalOptions::default()).unwrap();
    for i in 0..5u8 {
        log.append(&[i; 40]).unwrap();
    }
    log.close().unwrap();
    let path = dir.join(segment::name(0));
    let len = std::fs::metadata(&path).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(len + 4096).unwrap();
    let replay = wal::read(&StdFs, &dir, 0, None, true, |_, _| Ok(())).unwrap();
    assert_eq!(replay.records, 5);
    assert_eq!(replay.torn.unwrap().offset, len);
    use std::os::unix::fs::FileExt;
    file.write_all_at(b"junk", len + 1000).unwrap();
    match wal::read(&StdFs, &dir, 0, None, true, |_, _| Ok(())) {
        Err(Error::Corrupt { offset, .. }) => assert_eq!(offset, len),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn a_bad_record_before_the_end_stops_the_read_naming_file_and_offset() {
    let dir = temp_dir("corrupt");
    let log = Wal::create(fs(), &dir, 0, &WalOptions::default()).unwrap();
    let first = log.append(b"first record").unwrap();
    log.append(b"second record").unwrap();
    log.append(b"third record").unwrap();
    log.close().unwrap();
    let path = dir.join(segment::name(0));
    let mut bytes = std::fs::read(&path).unwrap();
    let at = (segment::HEADER + first) as usize + 10;
    bytes[at] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    let mut seen = 0;
    match wal::read(&StdFs, &dir, 0, None, true, |_, _| {
        seen += 1;
        Ok(())
    }) {
        Err(Error::Corrupt {
            path: p, offset, ..
        }) => {
            assert_eq!(p, path);
            assert_eq!(offset, segment::HEADER + first);
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert_eq!(seen, 1);
}

#[test]
fn a_missing_segment_is_a_gap_not_a_shorter_log() {
    let dir = temp_dir("gap");
    let opts = WalOptions {
        policy: SyncPolicy::No,
        segment_bytes: 256,
    };
    let log = Wal::create(fs(), &dir, 0, &opts).unwrap();
    for i in 0..100u8 {
        let lsn = log.append(&[i; 50]).unwrap();
        log.write_out(lsn).unwrap();
    }
    log.close().unwrap();
    let starts = segment::list(&StdFs, &dir).unwrap();
    assert!(starts.len() > 3);
    std::fs::remove_file(dir.join(segment::name(starts[2]))).unwrap();
    assert!(matches!(
        wal::read(&StdFs, &dir, 0, None, true, |_, _| Ok(())),
        Err(Error::Corrupt { .. })
    ));
}

#[test]
fn a_closed_log_refuses_appends() {
    let dir = temp_dir("closed");
    let log = Wal::create(fs(), &dir, 7, &WalOptions::default()).unwrap();
    log.append(b"x").unwrap();
    log.close().unwrap();
    assert!(matches!(log.append(b"y"), Err(Error::Closed)));
    let (got, replay) = read_all(&dir, 7);
    assert_eq!(got.len(), 1);
    assert_eq!(replay.end, 7 + 9);
}

/// Regression (found by the `wal` fuzz target): a segment named with a
/// position near `u64::MAX` made the reader's position overflow, a panic
/// in debug builds and a silent wrap in release ones.
#[test]
fn a_position_past_u64_max_is_corruption_not_a_wrap() {
    use tandem_storage::backend::SimFs;
    let fs = SimFs::new();
    let dir = std::path::Path::new("/log");
    fs.create_dir_all(dir).unwrap();
    let start = u64::MAX - 3;
    let file = fs.create(&dir.join(segment::name(start))).unwrap();
    let mut bytes = segment::header(start).to_vec();
    let payload = b"x";
    let len = (payload.len() as u32).to_le_bytes();
    bytes.extend_from_slice(&len);
    bytes.extend_from_slice(&crc32c::crc32c_append(crc32c::crc32c(&len), payload).to_le_bytes());
    bytes.extend_from_slice(payload);
    file.write_at(0, &bytes).unwrap();
    match wal::read(&fs, dir, start, None, true, |_, _| Ok(())) {
        Err(Error::Corrupt { reason, .. }) => assert!(reason.contains("overflows"), "{reason}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let near = Wal::create(
        Arc::new(fs.clone()),
        std::path::Path::new("/near"),
        u64::MAX - 10,
        &WalOptions::default(),
    )
    .unwrap();
    assert!(near.append(b"too far").is_err());
}
