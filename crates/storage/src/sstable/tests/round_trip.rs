//! Round trips: entries in, the same entries out, by scan and by lookup,
//! under every option; the builder's refusals; and what a table costs.

use super::*;

/// Entries with the cases prefix compression and framing could get wrong:
/// several databases, an empty key, keys that are prefixes of the next,
/// the same key in two databases (all of it shared, nothing after it),
/// empty payloads, deadlines at both ends, and values bigger than a block.
fn tricky_entries() -> Vec<OwnedEntry> {
    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let random: Vec<u8> = (0..70_000).map(|_| fastrand::u8(..)).collect();
    let mut entries = vec![
        entry(0, b"", 0, None, b""),
        entry(0, b"a", 0, Some(0), b"1"),
        entry(0, b"ab", 1, Some(u64::MAX), b""),
        entry(0, b"abc", 2, None, &big),
        entry(0, b"abd", 255, Some(1_700_000_000_000), b"x"),
        entry(0, b"b\x00", 0, None, &random),
        entry(0, b"b\x00\xff", 0, None, b"y"),
        entry(1, b"b\x00\xff", 0, None, b"same key, next db"),
        entry(1, b"c", 0, None, b""),
    ];
    for i in 0..500u32 {
        let key = format!("key:{i:012}");
        let deadline = (i % 3 == 0).then_some(u64::from(i) * 1000);
        entries.push(entry(
            2,
            key.as_bytes(),
            (i % 5) as u8,
            deadline,
            &vec![b'v'; (i % 97) as usize],
        ));
    }
    entries.push(entry(u32::MAX, &[0xff; 40], 9, None, b"last"));
    entries
}

#[test]
fn tricky_entries_round_trip_under_every_option() {
    let entries = tricky_entries();
    for block_size in [0, 64, 4096, 16 << 10, 1 << 20] {
        for compress in [false, true] {
            for (bloom_bits_per_key, expected_entries) in [
                (0, None),
                (10, None),
                (10, Some(entries.len() as u64)),
                (10, Some(1)),
            ] {
                let options = BuildOptions {
                    block_size,
                    compress,
                    bloom_bits_per_key,
                    expected_entries,
                };
                let (bytes, stats) = build(&entries, options, b"props");
                assert_eq!(stats.entries, entries.len() as u64);
                if block_size <= 16 << 10 {
                    assert!(stats.blocks >= 3, "the big values are blocks of their own");
                }
                check_table(bytes, &entries, b"props");
            }
        }
    }
}

#[test]
fn compression_shrinks_compressible_tables() {
    let entries = tricky_entries();
    let (plain, _) = build(
        &entries,
        BuildOptions {
            compress: false,
            ..BuildOptions::default()
        },
        b"",
    );
    let (packed, stats) = build(&entries, BuildOptions::default(), b"");
    assert!(
        packed.len() < plain.len() * 3 / 4,
        "{} vs {}",
        packed.len(),
        plain.len()
    );
    assert!(stats.raw_data_bytes > packed.len() as u64);
}

#[test]
fn an_empty_table_round_trips() {
    for options in [
        BuildOptions::default(),
        BuildOptions {
            bloom_bits_per_key: 0,
            ..BuildOptions::default()
        },
    ] {
        let (bytes, stats) = build(&[], options, b"");
        assert_eq!((stats.entries, stats.blocks), (0, 0));
        let table = open(bytes.clone()).unwrap();
        assert!(table.is_empty());
        assert_eq!(table.get(0, b"").unwrap(), None);
        check_table(bytes, &[], b"");
    }
}

#[test]
fn a_table_round_trips_through_the_real_file_system() {
    let dir = std::env::temp_dir().join(format!(
        "tandem-sstable-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    StdFs.create_dir_all(&dir).unwrap();
    let path = dir.join("snapshot.sst");
    let entries = tricky_entries();
    let mut builder = SsTableBuilder::new(
        StdFs.create(&path).unwrap(),
        path.clone(),
        BuildOptions::default(),
    );
    for e in &entries {
        builder
            .add(e.db, &e.key, e.tag, e.deadline, &e.payload)
            .unwrap();
    }
    builder.finish(b"on disk").unwrap();
    let table = SsTable::open(StdFs.open(&path).unwrap(), path.clone()).unwrap();
    assert_eq!(table.properties(), b"on disk");
    assert_eq!(read_all(&table).unwrap(), entries);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn out_of_order_and_duplicate_adds_are_refused() {
    let file = MemFile::default();
    let mut builder = SsTableBuilder::new(
        Box::new(file.clone()),
        "t.sst".into(),
        BuildOptions::default(),
    );
    builder.add(1, b"m", 0, None, b"").unwrap();
    for (db, key) in [(1, &b"m"[..]), (1, b"a"), (1, b""), (0, b"z")] {
        match builder.add(db, key, 0, None, b"") {
            Err(Error::Io { source, .. }) => assert_eq!(source.kind(), io::ErrorKind::InvalidInput),
            other => panic!("({db}, {key:?}) after (1, m): {other:?}"),
        }
    }
    // A refused add writes nothing; the builder goes on.
    builder.add(1, b"ma", 0, None, b"").unwrap();
    builder.add(2, b"", 0, None, b"").unwrap();
    builder.finish(b"").unwrap();
    let bytes = file.bytes.lock().clone();
    check_table(
        bytes,
        &[
            entry(1, b"m", 0, None, b""),
            entry(1, b"ma", 0, None, b""),
            entry(2, b"", 0, None, b""),
        ],
        b"",
    );
}

#[test]
fn a_failed_write_poisons_the_builder() {
    let file = MemFile::default();
    *file.writes_left.lock() = Some(1);
    let options = BuildOptions {
        block_size: 16,
        ..BuildOptions::default()
    };
    let mut builder = SsTableBuilder::new(Box::new(file.clone()), "t.sst".into(), options);
    let mut results = (0..10u8).map(|i| builder.add(0, &[i], 0, None, &[i; 16]));
    assert!(results.by_ref().take_while(Result::is_ok).count() >= 1);
    assert!(matches!(
        builder.add(1, b"", 0, None, b""),
        Err(Error::Poisoned(_))
    ));
    assert!(matches!(builder.finish(b""), Err(Error::Poisoned(_))));
}

/// Redis-like keys ("key:000000000001") with 64-byte values; prints the
/// file size per entry (run with `--nocapture` to see it) and holds it to
/// what the format promises: about 16 bytes over the raw data for
/// incompressible values, and a fraction of it for repetitive ones.
#[test]
fn snapshot_size_per_entry() {
    let n = 100_000u64;
    for (name, value) in [("random", None), ("repeated 'x'", Some(vec![b'x'; 64]))] {
        let file = MemFile::default();
        let mut builder = SsTableBuilder::new(
            Box::new(file.clone()),
            "t.sst".into(),
            BuildOptions::default(),
        );
        for i in 0..n {
            let payload = value
                .clone()
                .unwrap_or_else(|| (0..64).map(|_| fastrand::u8(..)).collect());
            builder
                .add(0, format!("key:{i:012}").as_bytes(), 0, None, &payload)
                .unwrap();
        }
        let stats = builder.finish(b"").unwrap();
        let per_entry = stats.bytes as f64 / n as f64;
        println!(
            "{name}: {per_entry:.2} bytes per entry ({} blocks, {} bytes)",
            stats.blocks, stats.bytes
        );
        let bound = if value.is_none() { 80.0 + 16.0 } else { 30.0 };
        assert!(per_entry < bound, "{name}: {per_entry}");
    }
}

fn entries_strategy() -> impl Strategy<Value = Vec<OwnedEntry>> {
    let key = prop::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), any::<u8>()], 0..12);
    let value = (
        any::<u8>(),
        prop::option::of(any::<u64>()),
        prop::collection::vec(any::<u8>(), 0..200),
    );
    prop::collection::btree_map((0u32..4, key), value, 0..150).prop_map(|map: BTreeMap<_, _>| {
        map.into_iter()
            .map(|((db, key), (tag, deadline, payload))| OwnedEntry {
                db,
                key,
                tag,
                deadline,
                payload,
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_tables_round_trip(
        entries in entries_strategy(),
        block_size in 0usize..600,
        compress in any::<bool>(),
        bloom_bits_per_key in 0usize..16,
        properties in prop::collection::vec(any::<u8>(), 0..64),
        sized in any::<bool>(),
    ) {
        let expected_entries = sized.then_some(entries.len() as u64);
        let options = BuildOptions { block_size, compress, bloom_bits_per_key, expected_entries };
        let (bytes, _) = build(&entries, options, &properties);
        check_table(bytes, &entries, &properties);
    }
}

#[test]
fn tables_are_shareable_across_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<SsTable>();
}

/// The table the fuzzer's first seed holds, built the same way every
/// time: a few entries over two databases, with and without deadlines,
/// in blocks small enough that there are several, compressed where that
/// pays.
fn seed_table() -> (Vec<u8>, Vec<OwnedEntry>) {
    let entries: Vec<OwnedEntry> = (0..12u32)
        .map(|i| {
            let payload = if i % 4 == 3 {
                vec![b'x'; 40]
            } else {
                format!("value {i}").into_bytes()
            };
            entry(
                i / 8,
                format!("key:{i:04}").as_bytes(),
                (i % 3) as u8,
                (i % 2 == 1).then_some(1_700_000_000_000 + u64::from(i)),
                &payload,
            )
        })
        .collect();
    let options = BuildOptions {
        block_size: 96,
        compress: true,
        bloom_bits_per_key: 10,
        expected_entries: None,
    };
    (build(&entries, options, b"lsn=42").0, entries)
}

/// The fuzzer's seed is a version 1 table checked in, so it also pins the
/// format: a change that alters what the builder writes, or stops the
/// reader reading it, fails here. (If the change is meant, bump the
/// format version, keep reading the old one, and add a seed.)
#[test]
fn the_checked_in_version_1_table_still_reads_and_is_still_what_we_write() {
    let (bytes, entries) = seed_table();
    let seed = include_bytes!("../../../../../fuzz/corpus/snapshot/seed-1");
    check_table(seed.to_vec(), &entries, b"lsn=42");
    assert_eq!(bytes, seed);
}
