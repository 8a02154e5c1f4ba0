//! Tests of whole tables, and the helpers they share: `round_trip` (what
//! goes in comes out, under every option; the builder's refusals; the
//! checked-in version 1 file; size per entry) and `damage` (every bit flip,
//! every truncation, crafted lengths and versions).
//!
//! Tables are built in `MemFile`, a `Vec<u8>` behind a mutex, so a test
//! can flip and cut the bytes it wrote.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod damage;
mod round_trip;

use super::bloom;
use super::footer::{Footer, FOOTER_LEN};
use super::frame::seal;
use super::{
    index, BuildOptions, OwnedEntry, SsTable, SsTableBuilder, TableStats, FORMAT_VERSION,
    HEADER_LEN, MAGIC,
};
use crate::backend::{Backend, StdFs, StorageFile};
use crate::Error;
use parking_lot::Mutex;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// An in-memory file; clones share the bytes. Writes fail once
/// `writes_left` reaches zero.
#[derive(Clone, Default)]
struct MemFile {
    bytes: Arc<Mutex<Vec<u8>>>,
    writes_left: Arc<Mutex<Option<usize>>>,
}

impl MemFile {
    fn with(bytes: Vec<u8>) -> Self {
        MemFile {
            bytes: Arc::new(Mutex::new(bytes)),
            ..MemFile::default()
        }
    }
}

impl StorageFile for MemFile {
    fn write_at(&self, offset: u64, buf: &[u8]) -> io::Result<()> {
        if let Some(left) = self.writes_left.lock().as_mut() {
            if *left == 0 {
                return Err(io::Error::other("disk full"));
            }
            *left -= 1;
        }
        let mut bytes = self.bytes.lock();
        let end = offset as usize + buf.len();
        if bytes.len() < end {
            bytes.resize(end, 0);
        }
        bytes[offset as usize..end].copy_from_slice(buf);
        Ok(())
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let bytes = self.bytes.lock();
        let start = (offset as usize).min(bytes.len());
        let n = buf.len().min(bytes.len() - start);
        buf[..n].copy_from_slice(&bytes[start..start + n]);
        Ok(n)
    }

    fn len(&self) -> io::Result<u64> {
        Ok(self.bytes.lock().len() as u64)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.bytes.lock().resize(len as usize, 0);
        Ok(())
    }

    fn sync(&self) -> io::Result<()> {
        Ok(())
    }
}

fn entry(db: u32, key: &[u8], tag: u8, deadline: Option<u64>, payload: &[u8]) -> OwnedEntry {
    OwnedEntry {
        db,
        key: key.to_vec(),
        tag,
        deadline,
        payload: payload.to_vec(),
    }
}

fn build(
    entries: &[OwnedEntry],
    options: BuildOptions,
    properties: &[u8],
) -> (Vec<u8>, TableStats) {
    let file = MemFile::default();
    let mut builder = SsTableBuilder::new(Box::new(file.clone()), "t.sst".into(), options);
    for e in entries {
        builder
            .add(e.db, &e.key, e.tag, e.deadline, &e.payload)
            .unwrap();
    }
    let stats = builder.finish(properties).unwrap();
    let bytes = file.bytes.lock().clone();
    assert_eq!(stats.bytes, bytes.len() as u64);
    (bytes, stats)
}

fn open(bytes: Vec<u8>) -> crate::Result<SsTable> {
    SsTable::open(Box::new(MemFile::with(bytes)), "t.sst".into())
}

/// Every entry through the lending `next_entry`.
fn read_all(table: &SsTable) -> crate::Result<Vec<OwnedEntry>> {
    let mut it = table.iter();
    let mut out = Vec::new();
    while let Some(e) = it.next_entry()? {
        out.push(e.into_owned());
    }
    Ok(out)
}

/// Checks that `bytes` reads back as exactly `entries`, by scan and by
/// lookup, and that keys next to each one are absent.
fn check_table(bytes: Vec<u8>, entries: &[OwnedEntry], properties: &[u8]) {
    let table = open(bytes).unwrap();
    assert_eq!(table.len(), entries.len() as u64);
    assert_eq!(table.properties(), properties);
    assert_eq!(read_all(&table).unwrap(), entries);
    let owned: Vec<OwnedEntry> = table.iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(owned, entries);
    for e in entries {
        assert!(table.may_contain(e.db, &e.key));
        assert_eq!(table.get(e.db, &e.key).unwrap().as_ref(), Some(e));
        let mut after = e.key.clone();
        after.push(0);
        if !entries.iter().any(|o| o.db == e.db && o.key == after) {
            assert_eq!(table.get(e.db, &after).unwrap(), None);
        }
        if !entries
            .iter()
            .any(|o| o.db == e.db.wrapping_add(1) && o.key == e.key)
        {
            assert_eq!(table.get(e.db.wrapping_add(1), &e.key).unwrap(), None);
        }
    }
}
