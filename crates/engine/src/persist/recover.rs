//! Recovery: the durable state of a directory back into keyspaces.
//!
//! Owns start-up's reading: leftover temporary files removed, the manifest
//! read, its snapshot loaded, the log replayed from `log-start`, a torn
//! tail cut off (or refused), files that belong to no durable state
//! removed, and the log reopened when `appendonly` is on. It must never
//! skip what it cannot read: any error stops start-up, naming the file.

use super::properties::{Meta, Properties};
use super::{unix_ms, State, StoreOptions};
use crate::db::Db;
use crate::entry::ValueType;
use crate::journal::{record, Journal, Op};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tandem_storage::backend::Backend;
use tandem_storage::manifest::Manifest;
use tandem_storage::sstable::SsTable;
use tandem_storage::wal::{self, segment, TornTail, Wal};
use tandem_storage::{install, Error, Result};

/// What start-up found and loaded.
#[derive(Debug, Clone, Default)]
pub struct Recovery {
    /// The snapshot loaded, if any.
    pub snapshot: Option<PathBuf>,
    /// Keys loaded from it (expired ones are not).
    pub snapshot_keys: u64,
    /// Log records replayed.
    pub log_records: u64,
    /// Bytes read: the snapshot file and the log.
    pub bytes: u64,
    /// Keys skipped because their deadline had passed.
    pub expired: u64,
    /// Keys held when recovery ended, over all keyspaces.
    pub keys: u64,
    /// The torn record cut off the log's end, if there was one.
    pub torn: Option<TornTail>,
    /// How long it took.
    pub elapsed: Duration,
}

impl Recovery {
    /// Megabytes read per second.
    pub fn mb_per_sec(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        self.bytes as f64 / 1e6 / secs
    }
}

/// Bad data found while applying what was read, at `offset` of `path`.
fn corrupt(path: &Path, offset: u64, why: impl Into<String>) -> Error {
    Error::corrupt(path, offset, why)
}

/// What recovery read besides the keys: the numbering and the blobs.
pub(super) struct Recovered {
    pub(super) state: State,
    pub(super) numbering: Vec<u32>,
    pub(super) meta: Meta,
    pub(super) recovery: Recovery,
}

/// Recovers `dbs` from `dir`; returns the store's state, the numbering, the
/// blobs and what was done.
pub(super) fn run(dir: &Path, options: &StoreOptions, dbs: &[Db]) -> Result<Recovered> {
    let started = Instant::now();
    let fs = options.fs.as_ref();
    fs.create_dir_all(dir)
        .map_err(|e| Error::io("create directory", dir, e))?;
    remove_temporaries(fs, dir)?;
    let mut recovery = Recovery::default();
    let mut numbering: Vec<u32> = (0..dbs.len() as u32).collect();
    let mut meta = Meta::new();
    let manifest = Manifest::load(fs, dir)?;
    let mut next_lsn = 0;
    if let Some(m) = &manifest {
        if let Some(name) = &m.snapshot {
            let path = dir.join(name);
            (numbering, meta) = load_snapshot(fs, &path, dbs, &mut recovery)?;
            recovery.snapshot = Some(path);
        }
        let now = dbs.first().map_or_else(unix_ms, Db::now_ms);
        let mut lapsed = Vec::new();
        let replay = wal::read(
            fs,
            dir,
            m.log_start,
            m.log_end,
            options.load_truncated,
            |lsn, payload| {
                apply(
                    payload,
                    dbs,
                    &mut numbering,
                    &mut meta,
                    now,
                    &mut recovery,
                    &mut lapsed,
                )
                .map_err(|why| corrupt(&dir.join("log"), lsn, why))
            },
        )?;
        // Keys a DEADLINE gave a past deadline, unless a later record
        // changed it (PERSIST after EXPIRE), expired while down.
        for (id, key) in lapsed {
            if let Some(db) = dbs.get(id as usize) {
                let gone = db
                    .restore_del_expired(&key, now)
                    .map_err(|e| corrupt(&dir.join("log"), 0, format!("change refused: {e}")))?;
                if gone {
                    recovery.expired += 1;
                }
            }
        }
        recovery.log_records = replay.records;
        recovery.bytes += replay.bytes;
        if let Some(torn) = &replay.torn {
            tracing::warn!(
                "the log ends in an incomplete record ({} bytes at byte {} of {}), a write cut short by a crash: cutting it off (aof-load-truncated yes)",
                torn.bytes,
                torn.offset,
                torn.path.display()
            );
            torn.cut(fs)?;
        }
        recovery.torn = replay.torn;
        next_lsn = replay.end.max(m.log_end.unwrap_or(0));
        remove_unreachable(fs, dir, m, next_lsn)?;
    }
    // No manifest: the empty state, a log from 0 to 0.
    let mut manifest = manifest.unwrap_or(Manifest {
        snapshot: None,
        log_start: next_lsn,
        log_end: Some(next_lsn),
    });
    let journal = if options.appendonly {
        let wal = Wal::create(options.fs.clone(), dir, next_lsn, &options.wal_options())?;
        if manifest.log_end.is_some() {
            // The log goes on from where the durable state ends, in the
            // segment just created (rule 1 of `tandem_storage`: it is
            // durable before the manifest names it).
            manifest.log_end = None;
            manifest.install(fs, dir)?;
        }
        Some(Arc::new(Journal::new(
            Arc::new(wal),
            options.settle_each_write,
        )))
    } else {
        if manifest.log_end.is_none() {
            // The log stops here: a later log (a snapshot's) must not be
            // read as its continuation unless a manifest says so.
            manifest.log_end = Some(next_lsn);
            manifest.install(fs, dir)?;
        }
        None
    };
    recovery.keys = dbs.iter().map(|db| db.dbsize() as u64).sum();
    recovery.elapsed = started.elapsed();
    if recovery.snapshot.is_some() || recovery.log_records > 0 {
        tracing::info!(
            "loaded {} keys in {:.3} s ({:.1} MB/s): {} from the snapshot, {} log records",
            recovery.keys,
            recovery.elapsed.as_secs_f64(),
            recovery.mb_per_sec(),
            recovery.snapshot_keys,
            recovery.log_records
        );
    }
    let state = State {
        options: options.clone(),
        journal,
        next_lsn,
        manifest,
    };
    Ok(Recovered {
        state,
        numbering,
        meta,
        recovery,
    })
}

/// Removes files an install left half done (their names end in `.tmp`):
/// nothing durable refers to them.
fn remove_temporaries(fs: &dyn Backend, dir: &Path) -> Result<()> {
    let names = fs.list(dir).map_err(|e| Error::io("list", dir, e))?;
    for name in names.iter().filter(|n| install::is_temp(n)) {
        let path = dir.join(name);
        fs.remove(&path)
            .map_err(|e| Error::io("remove", &path, e))?;
    }
    Ok(())
}

/// Removes log segments no durable state reads: those wholly before
/// `log-start`, and those at or past a recorded `log-end` (from a log
/// whose snapshot never finished).
fn remove_unreachable(fs: &dyn Backend, dir: &Path, m: &Manifest, end: u64) -> Result<()> {
    let starts = segment::list(fs, dir)?;
    for (i, &start) in starts.iter().enumerate() {
        let next = starts.get(i + 1).copied();
        let before = next.is_some_and(|n| n <= m.log_start);
        let after = m.log_end.is_some() && start >= end && start != m.log_start;
        if before || after {
            let path = dir.join(segment::name(start));
            fs.remove(&path)
                .map_err(|e| Error::io("remove", &path, e))?;
        }
    }
    Ok(())
}

/// Loads every entry of the snapshot at `path` into `dbs`; returns the
/// numbering and the blobs it recorded.
fn load_snapshot(
    fs: &dyn Backend,
    path: &Path,
    dbs: &[Db],
    recovery: &mut Recovery,
) -> Result<(Vec<u32>, Meta)> {
    let file = fs.open(path).map_err(|e| Error::io("open", path, e))?;
    recovery.bytes += file.len().map_err(|e| Error::io("stat", path, e))?;
    let table = SsTable::open(file, path.to_owned())?;
    let props = Properties::decode(table.properties()).map_err(|why| corrupt(path, 0, why))?;
    let mut numbering = props.numbering;
    if numbering.iter().any(|&id| id as usize >= dbs.len()) {
        return Err(corrupt(
            path,
            0,
            format!(
                "the snapshot has {} databases, and only {} are configured (`databases`)",
                numbering.len(),
                dbs.len()
            ),
        ));
    }
    // Databases added to the configuration since keep their own ids.
    for id in 0..dbs.len() as u32 {
        if !numbering.contains(&id) {
            numbering.push(id);
        }
    }
    let now = dbs.first().map_or_else(unix_ms, Db::now_ms);
    let mut entries = table.iter();
    while let Some(e) = entries.next_entry()? {
        let Some(db) = dbs.get(e.db as usize) else {
            return Err(corrupt(
                path,
                0,
                format!("entry of unknown database id {}", e.db),
            ));
        };
        let Some(kind) = ValueType::from_tag(e.tag) else {
            return Err(corrupt(path, 0, format!("unknown value type {}", e.tag)));
        };
        if e.deadline.is_some_and(|d| d < now) {
            recovery.expired += 1;
            continue;
        }
        db.restore(e.key, kind, e.payload, e.deadline)
            .map_err(|err| corrupt(path, 0, format!("entry refused: {err}")))?;
        recovery.snapshot_keys += 1;
    }
    Ok((numbering, props.meta))
}

/// Applies one log record.
fn apply(
    payload: &[u8],
    dbs: &[Db],
    numbering: &mut [u32],
    meta: &mut Meta,
    now: u64,
    recovery: &mut Recovery,
    lapsed: &mut Vec<(u32, Vec<u8>)>,
) -> Result<(), String> {
    let db = |id: u32| {
        dbs.get(id as usize)
            .ok_or_else(|| format!("change to unknown database id {id}"))
    };
    for op in record::decode(payload).map_err(|e| e.to_string())? {
        match op.map_err(|e| e.to_string())? {
            Op::Put {
                db: id,
                key,
                tag,
                deadline,
                value,
            } => {
                let Some(kind) = ValueType::from_tag(tag) else {
                    return Err(format!("unknown value type {tag}"));
                };
                let db = db(id)?;
                // An expired value leaves the key absent, whatever it held.
                let done = if deadline.is_some_and(|d| d < now) {
                    recovery.expired += 1;
                    db.restore_del(key)
                } else {
                    db.restore(key, kind, value, deadline)
                };
                done.map_err(|e| format!("change refused: {e}"))?;
            }
            Op::Edit {
                db: id,
                key,
                tag,
                seq,
                edits,
            } => {
                let Some(kind) = ValueType::from_tag(tag) else {
                    return Err(format!("unknown value type {tag}"));
                };
                db(id)?
                    .restore_edits(key, kind, seq, edits)
                    .map_err(|e| format!("change refused: {e}"))?;
            }
            Op::Deadline {
                db: id,
                key,
                deadline,
            } => {
                db(id)?
                    .restore_deadline(key, deadline)
                    .map_err(|e| format!("change refused: {e}"))?;
                if deadline.is_some_and(|d| d < now) {
                    lapsed.push((id, key.to_vec()));
                }
            }
            Op::Del { db: id, key } => db(id)?
                .restore_del(key)
                .map_err(|e| format!("change refused: {e}"))?,
            Op::FlushDb(id) => db(id)?.flush(),
            Op::FlushAll => dbs.iter().for_each(Db::flush),
            Op::SwapDb(a, b) => {
                let (a, b) = (a as usize, b as usize);
                if a >= numbering.len() || b >= numbering.len() {
                    return Err(format!("SWAPDB of unknown database number {a} or {b}"));
                }
                numbering.swap(a, b);
            }
            Op::Meta { name, value } => {
                let name = std::str::from_utf8(name)
                    .ok()
                    .filter(|n| super::properties::valid_meta_name(n))
                    .ok_or("bad blob name")?;
                match value {
                    Some(value) => meta.insert(name.to_owned(), value.to_vec()),
                    None => meta.remove(name),
                };
            }
        }
    }
    Ok(())
}
