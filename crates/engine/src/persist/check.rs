//! Checking a data directory (`tandem check`, Redis's redis-check-aof and
//! redis-check-rdb in one): every byte the durable state is made of, read
//! and verified without loading it into a keyspace.
//!
//! Owns the walk over the durable state and its report: the manifest, every
//! entry of its snapshot (each block's checksum, the key order and entry
//! counts, through the SSTable reader) and the snapshot's properties, then
//! every log record from `log-start` (to `log-end`) with every op decoded.
//! It refuses what recovery would refuse (an unknown value type, an entry
//! of a database the snapshot does not number) and nothing that recovery
//! takes for granted from the configuration (how many databases there are).
//! It must never change a file other than cutting a torn log tail, and that
//! only when asked: recovery removes leftovers and rewrites the manifest,
//! a check leaves them for it.

use super::properties::Properties;
use crate::journal::{record, Op};
use crate::Db;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use tandem_storage::backend::Backend;
use tandem_storage::manifest::Manifest;
use tandem_storage::sstable::SsTable;
use tandem_storage::wal::{self, segment, TornTail, FRAME_HEADER};
use tandem_storage::{Error, Result};

/// What a check of a data directory found; its `Display` is a short report
/// for an operator.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    /// The directory checked.
    pub dir: PathBuf,
    /// Its manifest; `None` when it has none, so it holds no data.
    pub manifest: Option<Manifest>,
    /// The snapshot file, if the manifest names one.
    pub snapshot: Option<PathBuf>,
    /// The snapshot file's size in bytes.
    pub snapshot_bytes: u64,
    /// Entries in the snapshot, expired ones included (a check has no
    /// clock to judge them by).
    pub snapshot_entries: u64,
    /// The snapshot's entries per database id.
    pub entries_per_db: BTreeMap<u32, u64>,
    /// How many databases the snapshot numbers (SWAPDB's state).
    pub databases: usize,
    /// Log records read.
    pub records: u64,
    /// Ops in those records (a MULTI or a multi-key command logs several
    /// in one record).
    pub ops: u64,
    /// Bytes of log records read, framing included.
    pub log_bytes: u64,
    /// Log segments read.
    pub segments: usize,
    /// The incomplete record the log ends in, if it does.
    pub torn: Option<TornTail>,
    /// Whether the torn tail was cut off (only when asked to fix).
    pub cut: bool,
}

impl CheckReport {
    /// Whether the files hold a state recovery loads as it is: no torn
    /// tail, or one that was cut off. (Corruption is an `Err`, never a
    /// report.)
    pub fn is_sound(&self) -> bool {
        self.torn.is_none() || self.cut
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(m) = &self.manifest else {
            return writeln!(f, "no data in {}: it has no manifest", self.dir.display());
        };
        writeln!(f, "checked {}", self.dir.display())?;
        let end = m.log_end.map(|e| format!(" to {e}")).unwrap_or_default();
        match &self.snapshot {
            Some(path) => {
                let per_db: Vec<String> = self
                    .entries_per_db
                    .iter()
                    .map(|(db, n)| format!("db {db}: {n}"))
                    .collect();
                writeln!(
                    f,
                    "snapshot {}: {}, {} ({}), {}: ok",
                    path.display(),
                    count(self.snapshot_bytes, "byte"),
                    count(self.snapshot_entries, "key"),
                    if per_db.is_empty() {
                        "none".to_owned()
                    } else {
                        per_db.join(", ")
                    },
                    count(self.databases as u64, "database")
                )?;
            }
            None => writeln!(f, "snapshot: none")?,
        }
        writeln!(
            f,
            "log from position {}{end}: {}, {}, {} in {}: ok",
            m.log_start,
            count(self.records, "record"),
            count(self.ops, "op"),
            count(self.log_bytes, "byte"),
            count(self.segments as u64, "segment")
        )?;
        match &self.torn {
            None => writeln!(f, "the files are sound"),
            Some(t) => writeln!(
                f,
                "torn tail: {} from byte {} of {}, a write cut short by a crash: {}",
                count(t.bytes, "byte"),
                t.offset,
                t.path.display(),
                if self.cut {
                    "cut off; the files are sound"
                } else {
                    "left in place"
                }
            ),
        }
    }
}

/// `n` and the noun, plural unless `n` is 1.
fn count(n: u64, noun: &str) -> String {
    let s = if n == 1 { "" } else { "s" };
    format!("{n} {noun}{s}")
}

/// Checks the data directory `dir` on `fs`; when `fix`, cuts off a torn
/// log tail. Corruption is the `Err`, naming the file and the offset; a
/// directory that cannot be listed is an I/O error, and one with no
/// manifest holds no data (a report saying so). Run it on a directory no
/// server is writing: a record being written looks like a torn tail.
pub fn check(dir: &Path, fs: &dyn Backend, fix: bool) -> Result<CheckReport> {
    // A mistyped directory must not pass for an empty one.
    fs.list(dir).map_err(|e| Error::io("list", dir, e))?;
    let mut report = CheckReport {
        dir: dir.to_owned(),
        manifest: Manifest::load(fs, dir)?,
        ..CheckReport::default()
    };
    let Some(m) = report.manifest.clone() else {
        return Ok(report);
    };
    if let Some(name) = &m.snapshot {
        let path = dir.join(name);
        check_snapshot(fs, &path, &mut report)?;
        report.snapshot = Some(path);
    }
    // Listed before the read, to name the segment a bad record is in.
    let starts = segment::list(fs, dir)?;
    let mut ops = 0;
    let replay = wal::read(fs, dir, m.log_start, m.log_end, true, |lsn, payload| {
        // `lsn` is the position just past the record: its frame starts
        // before its header and payload.
        let start = lsn.saturating_sub((FRAME_HEADER + payload.len()) as u64);
        check_record(payload, &mut ops).map_err(|why| {
            let seg = starts.iter().rev().find(|&&s| s <= start).copied();
            let (path, offset) = match seg {
                Some(s) => (dir.join(segment::name(s)), segment::HEADER + (start - s)),
                None => (dir.to_owned(), 0),
            };
            Error::corrupt(path, offset, format!("{why} (log position {start})"))
        })
    })?;
    report.records = replay.records;
    report.ops = ops;
    report.log_bytes = replay.bytes;
    report.segments = replay.segments;
    if let (Some(torn), true) = (&replay.torn, fix) {
        torn.cut(fs)?;
        report.cut = true;
    }
    report.torn = replay.torn;
    Ok(report)
}

/// Reads every entry of the snapshot at `path` into the report's counts.
fn check_snapshot(fs: &dyn Backend, path: &Path, report: &mut CheckReport) -> Result<()> {
    let file = fs.open(path).map_err(|e| match e.kind() {
        // The manifest names it, so the durable state lacks a piece.
        std::io::ErrorKind::NotFound => {
            Error::corrupt(path, 0, "the manifest's snapshot is missing")
        }
        _ => Error::io("open", path, e),
    })?;
    report.snapshot_bytes = file.len().map_err(|e| Error::io("stat", path, e))?;
    let table = SsTable::open(file, path.to_owned())?;
    let props =
        Properties::decode(table.properties()).map_err(|why| Error::corrupt(path, 0, why))?;
    report.databases = props.numbering.len();
    let mut entries = table.iter();
    while let Some(e) = entries.next_entry()? {
        if let Err(why) = Db::check_stored(e.tag, e.payload) {
            return Err(Error::corrupt(path, 0, why));
        }
        *report.entries_per_db.entry(e.db).or_default() += 1;
        report.snapshot_entries += 1;
    }
    // Checked once at the end, not per entry: a snapshot's entries are
    // sorted by database, so the map has a key per database, not per entry.
    if let Some(db) = report
        .entries_per_db
        .keys()
        .find(|db| !props.numbering.contains(db))
    {
        return Err(Error::corrupt(
            path,
            0,
            format!("entries of database id {db}, which the snapshot does not number"),
        ));
    }
    Ok(())
}

/// Decodes every op of one change record, counting them; says what is
/// wrong with a bad one.
fn check_record(payload: &[u8], ops: &mut u64) -> Result<(), String> {
    for op in record::decode(payload).map_err(|e| e.to_string())? {
        match op.map_err(|e| e.to_string())? {
            Op::Put { tag, value, .. } => drop(Db::check_stored(tag, value)?),
            Op::Edit { tag, edits, .. } => Db::check_edits(tag, edits)?,
            _ => {}
        }
        *ops += 1;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::{Db, KeyValue, Options, SetOptions, Store, StoreOptions};
    use std::sync::Arc;
    use tandem_storage::backend::SimFs;
    use tandem_storage::wal::{Wal, WalOptions};

    fn dir() -> PathBuf {
        PathBuf::from("/data/appendonlydir")
    }

    /// A store on `sim` with 20 keys in db 0 and 5 in db 2 in a snapshot,
    /// then 3 changes in the log after it; closed.
    fn fill(sim: &SimFs) {
        let dbs = (0..3)
            .map(|i| Db::new(Options::default().db_index(i)))
            .collect();
        let options = StoreOptions {
            fs: Arc::new(sim.clone()),
            ..Default::default()
        };
        let (store, _) = Store::open(&dir(), options, dbs).unwrap();
        let (a, c) = (store.db(0).unwrap(), store.db(2).unwrap());
        for i in 0..20 {
            a.set(format!("k{i}").as_bytes(), b"v", SetOptions::default())
                .unwrap();
        }
        for i in 0..5 {
            c.set(format!("c{i}").as_bytes(), b"v", SetOptions::default())
                .unwrap();
        }
        store.snapshot().unwrap();
        a.set(b"after", b"1", SetOptions::default()).unwrap();
        a.set(b"after", b"2", SetOptions::default()).unwrap();
        a.del(&[b"k0"]).unwrap();
        store.close().unwrap();
    }

    fn last_segment(sim: &SimFs) -> PathBuf {
        let last = *segment::list(sim, &dir()).unwrap().last().unwrap();
        dir().join(segment::name(last))
    }

    #[test]
    fn a_sound_directory_reports_its_counts() {
        let sim = SimFs::new();
        fill(&sim);
        let report = check(&dir(), &sim, false).unwrap();
        assert_eq!(report.snapshot_entries, 25);
        assert_eq!(report.entries_per_db, BTreeMap::from([(0, 20), (2, 5)]));
        assert_eq!(report.databases, 3);
        assert_eq!((report.records, report.ops, report.segments), (3, 3, 1));
        assert!(report.log_bytes > 0);
        assert!(report.is_sound() && report.torn.is_none() && !report.cut);
        let text = report.to_string();
        assert!(text.contains("25 keys (db 0: 20, db 2: 5)"), "{text}");
        assert!(text.contains("3 records, 3 ops"), "{text}");
        assert!(text.contains("sound"), "{text}");
    }

    #[test]
    fn a_directory_without_a_manifest_holds_no_data_and_a_missing_one_is_an_error() {
        let sim = SimFs::new();
        sim.create_dir_all(&dir()).unwrap();
        let report = check(&dir(), &sim, false).unwrap();
        assert!(report.manifest.is_none() && report.is_sound());
        assert!(report.to_string().contains("no data"));
        let err = check(Path::new("/elsewhere"), &sim, false).unwrap_err();
        assert!(!err.is_corruption(), "{err}");
    }

    #[test]
    fn a_torn_tail_is_reported_and_cut_only_with_fix() {
        let sim = SimFs::new();
        fill(&sim);
        let path = last_segment(&sim);
        let len = sim.read_file(&path).unwrap().len() as u64;
        sim.open(&path).unwrap().set_len(len - 3).unwrap();
        let sim = sim.kill();

        let report = check(&dir(), &sim, false).unwrap();
        let torn = report.torn.clone().unwrap();
        assert_eq!(torn.path, path);
        assert!(!report.is_sound() && !report.cut);
        assert_eq!(report.records, 2);
        assert!(report.to_string().contains("left in place"));
        // Without `fix`, nothing changed.
        assert_eq!(sim.read_file(&path).unwrap().len() as u64, len - 3);

        let report = check(&dir(), &sim, true).unwrap();
        assert!(report.cut && report.is_sound());
        assert!(report.to_string().contains("cut off"));
        assert_eq!(sim.read_file(&path).unwrap().len() as u64, torn.offset);

        let again = check(&dir(), &sim, false).unwrap();
        assert!(again.torn.is_none() && again.is_sound());
        assert_eq!((again.records, again.snapshot_entries), (2, 25));
    }

    #[test]
    fn a_flipped_bit_in_the_snapshot_is_corruption_naming_it() {
        let sim = SimFs::new();
        fill(&sim);
        let snapshot = check(&dir(), &sim, false).unwrap().snapshot.unwrap();
        // Byte 20 is inside the first data block, past the 8-byte magic.
        sim.flip_bit(&snapshot, 20, 3).unwrap();
        let err = check(&dir(), &sim, false).unwrap_err();
        assert!(err.is_corruption(), "{err}");
        assert!(
            err.to_string().contains(&snapshot.display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn a_bad_change_record_is_corruption_naming_the_segment_and_position() {
        // A record whose frame is sound but whose payload is not a change
        // record: only decoding it finds the fault. It goes in a segment
        // of its own, where the log goes on after the store closed it.
        let sim = SimFs::new();
        fill(&sim);
        let report = check(&dir(), &sim, false).unwrap();
        let end = report.manifest.unwrap().log_start + report.log_bytes;
        let wal = Wal::create(Arc::new(sim.clone()), &dir(), end, &WalOptions::default()).unwrap();
        wal.append(&[9, 1, 2]).unwrap();
        wal.close().unwrap();
        let err = check(&dir(), &sim, false).unwrap_err();
        match &err {
            Error::Corrupt { path, offset, .. } => {
                assert_eq!(path, &dir().join(segment::name(end)));
                assert_eq!(*offset, segment::HEADER);
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
        let text = err.to_string();
        assert!(text.contains("unknown record format"), "{text}");
        assert!(text.contains(&format!("log position {end}")), "{text}");
    }

    #[test]
    fn edits_and_deadlines_in_the_log_are_checked() {
        use crate::{ExpireCondition, Expiry, Hashes, Lists};
        let sim = SimFs::new();
        fill(&sim);
        let options = StoreOptions {
            fs: Arc::new(sim.clone()),
            ..Default::default()
        };
        let dbs = (0..3)
            .map(|i| Db::new(Options::default().db_index(i)))
            .collect();
        let (store, _) = Store::open(&dir(), options, dbs).unwrap();
        let a = store.db(0).unwrap();
        a.hset(b"h", &[(b"f", b"1")]).unwrap();
        a.hset(b"h", &[(b"g", b"2")]).unwrap();
        a.push(b"l", crate::End::Right, &[b"x"], false).unwrap();
        a.push(b"l", crate::End::Left, &[b"y"], false).unwrap();
        let far = Expiry::UnixMillis(i64::MAX / 2);
        a.expire(b"h", far, ExpireCondition::Always).unwrap();
        store.close().unwrap();
        drop(store);
        let report = check(&dir(), &sim, false).unwrap();
        assert!(report.is_sound(), "{report}");
        // 3 from `fill`, then 2 PUTs, 2 EDITs and a DEADLINE.
        assert_eq!(report.ops, 8, "{report}");

        // An EDIT whose edits are not its type's is corruption.
        let end = report.manifest.unwrap().log_start + report.log_bytes;
        let wal = Wal::create(Arc::new(sim.clone()), &dir(), end, &WalOptions::default()).unwrap();
        let mut bad = Vec::new();
        record::start(&mut bad);
        let op = Op::Edit {
            db: 0,
            key: b"h",
            tag: 1,
            seq: 0,
            edits: &[7, 1, 1, b'z'],
        };
        record::encode(&op, &mut bad);
        wal.append(&bad).unwrap();
        wal.close().unwrap();
        let text = check(&dir(), &sim, false).unwrap_err().to_string();
        assert!(
            text.contains("bad hash edits: edit of another type"),
            "{text}"
        );
    }
}
