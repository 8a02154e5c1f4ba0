//! Damaged and crafted files: every bit flip and every truncation of a
//! small table is an error, and lengths or versions a file merely claims
//! are refused before anything is allocated for them.

use super::*;

/// A small table with several blocks, compressed and raw ones, and a
/// filter: small enough to flip every bit of.
fn small_table(compress: bool) -> (Vec<u8>, Vec<OwnedEntry>) {
    let entries: Vec<OwnedEntry> = (0..24u32)
        .map(|i| {
            entry(
                i / 10,
                format!("k{i:03}").as_bytes(),
                0,
                (i % 2 == 0).then_some(u64::from(i)),
                &[b'a' + (i % 3) as u8; 12],
            )
        })
        .collect();
    let options = BuildOptions {
        block_size: 100,
        compress,
        bloom_bits_per_key: 10,
        expected_entries: None,
    };
    let (bytes, _) = build(&entries, options, b"p");
    (bytes, entries)
}

/// Opens, scans and looks up everything; the first error, if any.
fn first_error(bytes: Vec<u8>, entries: &[OwnedEntry]) -> Option<Error> {
    let table = match open(bytes) {
        Ok(t) => t,
        Err(e) => return Some(e),
    };
    if let Err(e) = read_all(&table) {
        return Some(e);
    }
    entries.iter().find_map(|e| table.get(e.db, &e.key).err())
}

#[test]
fn every_bit_flip_is_detected() {
    for compress in [false, true] {
        let (bytes, entries) = small_table(compress);
        for bit in 0..bytes.len() * 8 {
            let mut flipped = bytes.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            let err = first_error(flipped, &entries);
            assert!(
                err.as_ref().is_some_and(Error::is_corruption),
                "bit {bit} of {}: {err:?}",
                bytes.len()
            );
        }
    }
}

#[test]
fn every_truncation_and_extension_is_detected() {
    let (bytes, entries) = small_table(true);
    for len in 0..bytes.len() {
        let err = first_error(bytes[..len].to_vec(), &entries);
        assert!(
            err.as_ref().is_some_and(Error::is_corruption),
            "cut to {len}: {err:?}"
        );
    }
    for extra in [&[0u8][..], b"TandemSS", &bytes[bytes.len() - FOOTER_LEN..]] {
        let mut longer = bytes.clone();
        longer.extend_from_slice(extra);
        assert!(first_error(longer, &entries).is_some());
    }
}

/// A file laid out by hand with valid checksums everywhere: one data block
/// given as stored bytes, and an index entry saying it holds `entries`.
fn crafted(block: &[u8], entries: u64, version: u32) -> Vec<u8> {
    let mut file = MAGIC.to_vec();
    file.extend_from_slice(block);
    let mut sealed = Vec::new();
    let mut section = |file: &mut Vec<u8>, contents: &[u8]| {
        seal(contents, false, &mut sealed).unwrap();
        let start = file.len() as u64;
        file.extend_from_slice(&sealed);
        start..file.len() as u64
    };
    let mut ix = Vec::new();
    index::put(&mut ix, 0, b"k", HEADER_LEN, block.len() as u64, entries);
    let index = section(&mut file, &ix);
    let bloom = section(&mut file, &bloom::build(&[], 0));
    let properties = section(&mut file, b"");
    let mut footer = Footer {
        index,
        bloom,
        properties,
        entries,
    }
    .encode();
    footer[60..64].copy_from_slice(&version.to_le_bytes());
    let crc = crc32c::crc32c(&footer[..64]);
    footer[64..68].copy_from_slice(&crc.to_le_bytes());
    file.extend_from_slice(&footer);
    file
}

/// A stored block: `body`, then a trailer with `flag` and `claimed`
/// length and a valid checksum.
fn stored_block(body: &[u8], flag: u8, claimed: u32) -> Vec<u8> {
    let mut block = body.to_vec();
    block.push(flag);
    block.extend_from_slice(&claimed.to_le_bytes());
    let crc = crc32c::crc32c(&block);
    block.extend_from_slice(&crc.to_le_bytes());
    block
}

#[test]
fn a_crafted_huge_block_length_is_refused_quickly() {
    // The lz4 token 0x1f: no literals, a long match, then nothing.
    let body = [0x1f, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff];
    for claimed in [1u32 << 30, u32::MAX, 512 << 20] {
        let file = crafted(&stored_block(&body, 1, claimed), 1, FORMAT_VERSION);
        let started = Instant::now();
        let table = open(file).unwrap();
        let err = read_all(&table).unwrap_err();
        assert!(
            err.to_string().contains("beyond what lz4 can expand")
                || err.to_string().contains("limit"),
            "{err}"
        );
        assert!(table.get(0, b"k").is_err());
        // Zeroing 512 MiB alone would take longer than this.
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "{:?}",
            started.elapsed()
        );
    }
    // A raw block must be exactly as long as it says.
    let file = crafted(&stored_block(b"abcde", 0, 1 << 30), 1, FORMAT_VERSION);
    assert!(read_all(&open(file).unwrap()).is_err());
    // An entry count the block cannot hold.
    let file = crafted(&stored_block(b"abcde", 0, 5), 1_000_000, FORMAT_VERSION);
    assert!(read_all(&open(file).unwrap()).is_err());
}

#[test]
fn a_crafted_valid_block_reads_back() {
    // The crafting itself is right: a real entry in it reads back.
    let mut contents = Vec::new();
    let mut block = crate::sstable::block::BlockBuilder::default();
    block.add(0, b"k", 3, None, b"v");
    contents.extend_from_slice(block.contents());
    let len = contents.len() as u32;
    let table = open(crafted(&stored_block(&contents, 0, len), 1, FORMAT_VERSION)).unwrap();
    assert_eq!(read_all(&table).unwrap(), [entry(0, b"k", 3, None, b"v")]);
}

#[test]
fn versions_are_checked_after_the_checksum() {
    let block = stored_block(&[0, 1, 0, 3, 0, b'k'], 0, 6);
    match open(crafted(&block, 1, FORMAT_VERSION + 1)) {
        Err(Error::Version {
            found, supported, ..
        }) => assert_eq!((found, supported), (FORMAT_VERSION + 1, FORMAT_VERSION)),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        open(crafted(&block, 1, 0)),
        Err(Error::Corrupt { .. })
    ));
}
