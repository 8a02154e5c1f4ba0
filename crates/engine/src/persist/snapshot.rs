//! Taking a snapshot: every keyspace read into an SSTable while writes go
//! on, made exact by the log (see `persist`, "Why a snapshot taken while
//! writes go on is exact"), installed through the manifest.
//!
//! Owns the order of a snapshot's steps, which the crash-window rules of
//! `persist` fix, and the removal of files it made obsolete. It must never
//! install a snapshot whose log tail is not durable, nor one taken while
//! the log lost records.

use super::pipe;
use super::properties::Properties;
use super::{unix_ms, unix_secs, Inner};
use crate::db::DumpStats;
use crate::journal::Journal;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tandem_storage::manifest::Manifest;
use tandem_storage::sstable::{BuildOptions, SsTableBuilder};
use tandem_storage::wal::segment;
use tandem_storage::{install, Error, Result};

/// What a snapshot wrote.
#[derive(Debug, Clone)]
pub struct SnapshotInfo {
    /// The snapshot file.
    pub path: PathBuf,
    /// Entries written.
    pub keys: u64,
    /// The file's size in bytes.
    pub bytes: u64,
    /// The log position it starts replay from.
    pub log_start: u64,
    /// How long it took, from start to installed.
    pub elapsed: Duration,
    /// Big collections copied a step at a time, and the steps they took
    /// (`Db::dump`).
    pub stepped: DumpStats,
}

/// The stem and extension (with its dot) of a snapshot file name.
fn split(pattern: &str) -> (&str, &str) {
    match pattern.rfind('.') {
        Some(dot) if dot > 0 => pattern.split_at(dot),
        _ => (pattern, ""),
    }
}

/// The file name, after `pattern`, of the snapshot starting replay at
/// `lsn`.
fn name(pattern: &str, lsn: u64) -> String {
    let (stem, ext) = split(pattern);
    format!("{stem}.{lsn:020}{ext}")
}

/// Whether `name` is a snapshot named after `pattern`.
fn is_snapshot(pattern: &str, name: &str) -> bool {
    let (stem, ext) = split(pattern);
    name.strip_prefix(stem)
        .and_then(|rest| rest.strip_prefix('.'))
        .and_then(|rest| rest.strip_suffix(ext))
        .is_some_and(|digits| digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// Takes a snapshot. `journal` is the log `appendonly` keeps, or `None`
/// to log to a new one only while the snapshot is taken; `two_threads`
/// reads on a thread of its own (`pipe`). The caller holds
/// `snapshotting`.
pub(super) fn take_locked(
    inner: &Inner,
    journal: Option<Arc<Journal>>,
    two_threads: bool,
) -> Result<SnapshotInfo> {
    let started = Instant::now();
    let (journal, temporary) = match journal {
        Some(journal) => (journal, false),
        None => (inner.open_log()?, true),
    };
    let written = write(inner, &journal, two_threads);
    let (path, stats, lsn, failed, stepped) = match written {
        Ok(w) => w,
        Err(e) => {
            if temporary {
                // Its segments lie past the manifest's `log-end`: no
                // durable state reads them, and recovery removes them.
                let _ = inner.close_log(&journal);
            }
            return Err(e);
        }
    };
    let fs = inner.fs.as_ref();
    let wal = journal.wal();
    let pattern = inner.state.lock().options.snapshot_name.clone();
    let manifest = if temporary {
        let end = inner.close_log(&journal)?;
        Manifest {
            snapshot: Some(name(&pattern, lsn)),
            log_start: lsn,
            log_end: Some(end),
        }
    } else if failed {
        // Rule 5: the log failed before the snapshot began, so no write
        // was accepted while it ran, and it holds everything.
        Manifest {
            snapshot: Some(name(&pattern, lsn)),
            log_start: wal.reopen()?,
            log_end: None,
        }
    } else {
        // Rule 3: the changes made while reading are durable first.
        wal.sync_now()?;
        Manifest {
            snapshot: Some(name(&pattern, lsn)),
            log_start: lsn,
            log_end: None,
        }
    };
    manifest.install(fs, &inner.dir)?;
    if failed && !temporary {
        wal.resume();
        tracing::info!("a snapshot holds every change: the log accepts writes again");
    }
    inner.state.lock().manifest = manifest.clone();
    inner.last_save.store(unix_secs(), Ordering::Relaxed);
    remove_obsolete(inner, &manifest)?;
    Ok(SnapshotInfo {
        path,
        keys: stats.0,
        bytes: stats.1,
        log_start: lsn,
        elapsed: started.elapsed(),
        stepped,
    })
}

/// What `write` made: the file's path, (entries, bytes), its start
/// position, whether the log had failed before it began, and the stepped
/// copies.
type Written = (PathBuf, (u64, u64), u64, bool, DumpStats);

/// Writes the snapshot file and installs it under its name (rule 2).
fn write(inner: &Inner, journal: &Journal, two_threads: bool) -> Result<Written> {
    let fs = inner.fs.as_ref();
    let wal = journal.wal();
    let pattern = inner.state.lock().options.snapshot_name.clone();
    let failed = wal.has_failed();
    // The blobs are read under the numbering's lock too: `set_meta` logs
    // and changes them under it, so a change is either in them or in the
    // log from `lsn` on.
    let (numbering, meta, lsn) = {
        let numbering = inner.numbering.lock();
        (numbering.clone(), inner.meta.lock().clone(), wal.next_lsn())
    };
    let (staged, file) = install::stage(fs, &inner.dir, &name(&pattern, lsn))?;
    // Sized from the key count now, so the filter is built as entries
    // arrive rather than from 8 bytes kept per key.
    let expected: u64 = inner.dbs.iter().map(|db| db.dbsize() as u64).sum();
    let options = BuildOptions {
        expected_entries: Some(expected),
        ..BuildOptions::default()
    };
    let mut builder = SsTableBuilder::new(file, staged.path.clone(), options);
    let mut add =
        |db, key: &[u8], tag, deadline, value: &[u8]| builder.add(db, key, tag, deadline, value);
    let read = if two_threads {
        pipe::read_into(&inner.dbs, &staged.path, &mut add)
    } else {
        pipe::inline(&inner.dbs, &mut add)
    };
    let stepped = read.as_ref().copied().unwrap_or_default();
    let props = Properties {
        log_start: lsn,
        numbering,
        created_ms: unix_ms(),
        meta,
    };
    let finished = read.and_then(|_| builder.finish(&props.encode()));
    let stats = match finished {
        Ok(stats) => stats,
        Err(e) => {
            staged.abandon(fs);
            return Err(e);
        }
    };
    // A log that failed while the snapshot read lost changes the read may
    // have missed: this snapshot is not exact. The next one will be.
    if wal.has_failed() && !failed {
        staged.abandon(fs);
        return Err(Error::Poisoned(wal.failure().unwrap_or_default()));
    }
    let path = staged.commit_synced(fs)?;
    Ok((path, (stats.entries, stats.bytes), lsn, failed, stepped))
}

/// Removes the snapshots and log segments the installed `manifest` no
/// longer needs (rule 4). A failure here leaves extra files, never lost
/// data, and is logged.
fn remove_obsolete(inner: &Inner, manifest: &Manifest) -> Result<()> {
    let fs = inner.fs.as_ref();
    let dir = &inner.dir;
    let pattern = inner.state.lock().options.snapshot_name.clone();
    let names = fs.list(dir).map_err(|e| Error::io("list", dir, e))?;
    for name in names {
        if is_snapshot(&pattern, &name) && manifest.snapshot.as_deref() != Some(name.as_str()) {
            let path = dir.join(&name);
            if let Err(e) = fs.remove(&path) {
                tracing::warn!("could not remove the old snapshot {}: {e}", path.display());
            }
        }
    }
    let starts = segment::list(fs, dir)?;
    for (i, &start) in starts.iter().enumerate() {
        if starts
            .get(i + 1)
            .is_some_and(|&next| next <= manifest.log_start)
        {
            let path = dir.join(segment::name(start));
            if let Err(e) = fs.remove(&path) {
                tracing::warn!(
                    "could not remove the old log segment {}: {e}",
                    path.display()
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_names_carry_their_position_before_the_extension() {
        assert_eq!(name("dump.tdb", 42), "dump.00000000000000000042.tdb");
        assert_eq!(name("snap", 1), "snap.00000000000000000001");
        assert!(is_snapshot("dump.tdb", &name("dump.tdb", 7)));
        assert!(!is_snapshot("dump.tdb", "dump.tdb"));
        assert!(!is_snapshot("dump.tdb", "other.00000000000000000042.tdb"));
        assert!(!is_snapshot("dump.tdb", "dump.0000000000000000004x.tdb"));
    }
}
