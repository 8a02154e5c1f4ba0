//! Any bytes as a snapshot file: open it, read every entry, check each
//! entry's payload as its tag's value encoding (`Db::check_stored`, as
//! recovery and `tandem check` do), and look up a few keys. Whatever the
//! bytes, each step must end in entries or an error: never a panic, a
//! hang, or heap out of proportion to the input.
//!
//! cargo-fuzz builds with `cfg(fuzzing)`, under which the reader skips its
//! checksums (see `crates/storage/src/sstable/mod.rs`), so mutated inputs
//! reach the decompressor, the index and the entry decoder instead of
//! stopping at the first crc32c. Seeds are small valid tables.
#![no_main]

use std::io;
use tandem_engine::Db;
use tandem_storage::backend::StorageFile;
use tandem_storage::sstable::{OwnedEntry, SsTable};

/// Most heap one input may take per byte. A block's contents may be up to
/// 255 times its stored bytes (lz4's bound, which the reader enforces):
/// once for the index, filter and properties, which are kept, and once
/// more for the block being read; the rest is copies of the input.
const HEAP_PER_BYTE: usize = 600;
const HEAP_FIXED: usize = 64 << 10;

/// Entries kept from a scan, to look up again.
const PROBES: usize = 8;

/// The input as a read-only file.
struct Input(Vec<u8>);

impl StorageFile for Input {
    fn write_at(&self, _: u64, _: &[u8]) -> io::Result<()> {
        Err(io::ErrorKind::PermissionDenied.into())
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let start = usize::try_from(offset).map_or(self.0.len(), |o| o.min(self.0.len()));
        let rest = self.0.get(start..).unwrap_or_default();
        let n = buf.len().min(rest.len());
        buf[..n].copy_from_slice(&rest[..n]);
        Ok(n)
    }

    fn len(&self) -> io::Result<u64> {
        Ok(self.0.len() as u64)
    }

    fn set_len(&self, _: u64) -> io::Result<()> {
        Err(io::ErrorKind::PermissionDenied.into())
    }

    fn sync(&self) -> io::Result<()> {
        Ok(())
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let ((), peak) = tandem_fuzz::heap_peak(|| check(data));
    let bound = HEAP_PER_BYTE * data.len() + HEAP_FIXED;
    assert!(
        peak <= bound,
        "{peak} bytes of heap for {} bytes of input",
        data.len()
    );
});

fn check(data: &[u8]) {
    let Ok(table) = SsTable::open(Box::new(Input(data.to_vec())), "fuzz.sst".into()) else {
        return;
    };
    let mut probes: Vec<OwnedEntry> = Vec::new();
    let mut seen = 0u64;
    let mut entries = table.iter();
    let complete = loop {
        match entries.next_entry() {
            Ok(Some(entry)) => {
                seen += 1;
                check_value(entry.tag, entry.payload);
                if probes.len() < PROBES {
                    probes.push(entry.into_owned());
                }
            }
            Ok(None) => break true,
            Err(_) => {
                assert!(
                    entries.next_entry().is_err(),
                    "an iterator's error is sticky"
                );
                break false;
            }
        }
    };
    drop(entries);
    if complete {
        assert_eq!(seen, table.len(), "a full scan yields the footer's count");
    }
    for entry in &probes {
        let found = table.get(entry.db, &entry.key);
        // A table that scanned cleanly is sorted and matches its index,
        // so a lookup finds what the scan did, unless the filter (not
        // checked against the keys) says no.
        if complete && table.may_contain(entry.db, &entry.key) {
            assert_eq!(
                found.ok().flatten().as_ref(),
                Some(entry),
                "get agrees with the scan"
            );
        }
        let mut absent = entry.key.clone();
        absent.push(0);
        let _ = table.get(entry.db, &absent);
    }
    let _ = table.get(u32::MAX, b"");
}

/// Checks a payload as recovery decodes it: any bytes under any tag end
/// in its type or a reason, and a type is the tag's own.
fn check_value(tag: u8, payload: &[u8]) {
    if let Ok(kind) = Db::check_stored(tag, payload) {
        assert_eq!(kind.tag(), tag, "a value checks as its own tag's type");
    }
}
