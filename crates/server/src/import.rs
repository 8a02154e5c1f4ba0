//! `tandem server --import dump.rdb`: a Redis RDB file loaded at
//! start-up, every type with its deadline and access stamp, its function
//! libraries too, then saved in Tandem's own format.
//!
//! Owns the import's rules: only into a store that holds no key yet (so
//! a restart that keeps the flag cannot put old data over new), keys
//! whose deadline has passed are left out and a key met twice stops the
//! import (as Redis's loader does), and progress is logged every second
//! while the file is read (the keys then go in at once, in well under a
//! second for a million).
//! It runs on the loading thread, while clients get `-LOADING`. It must
//! never serve a half-imported store: any error stops the server before
//! loading ends.

use crate::rdb::{self, file};
use crate::shared::Shared;
use std::borrow::Cow;
use std::path::Path;
use std::thread::ScopedJoinHandle;
use std::time::{Duration, Instant};
use tandem_engine::{Db, Loadable, Stamp, Value};

/// How often progress is logged.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Keys read before they are built, as one batch, on a thread for each
/// half of the shards while the file's next batch is read. The built
/// keys are kept (40 bytes each beside the data) until the walk ends;
/// the batch itself, the values read but not yet built, is what this
/// bounds (docs/BENCHMARKS.md, "RDB import").
const BATCH: usize = 1 << 16;

/// What an import did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    /// Keys loaded.
    pub keys: u64,
    /// Keys left out because their deadline had passed.
    pub expired: u64,
    /// Empty collections skipped, as Redis skips them.
    pub empty: u64,
    /// Function libraries loaded.
    pub libraries: usize,
}

/// Imports the RDB file at `path` into the server's databases, then
/// saves a snapshot. Errors say what was wrong and where.
pub fn run(shared: &Shared, path: &Path) -> Result<Imported, String> {
    let started = Instant::now();
    let shown = path.display().to_string();
    let store = shared.persistence.store().ok_or("the store is not open")?;
    let dbs: Vec<Db> = (0..shared.dbs.len()).map(|i| shared.dbs.get(i)).collect();
    let held: usize = dbs.iter().map(Db::dbsize).sum();
    if held > 0 {
        return Err(format!(
            "refusing to import {shown}: the store in {} already holds {held} keys \
             (import into an empty data directory, or start without --import)",
            store.dir().display()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    tracing::info!("importing {shown} ({} bytes)", bytes.len());
    let limits = dbs.first().map(Db::value_limits).unwrap_or_default();
    // Until every key is in: the keyspaces stay empty while the file is
    // read, then take all their keys at once.
    let holds: Vec<_> = dbs.iter().map(Db::hold_resizes).collect();
    let (walked, mut imported, functions) = std::thread::scope(|scope| {
        let mut loader = Loader {
            dbs: &dbs,
            scope,
            building: Vec::new(),
            built: [Vec::new(), Vec::new()],
            in_flight: 0,
            now: dbs.first().map_or(0, Db::now_ms),
            total: bytes.len(),
            imported: Imported::default(),
            batch: Vec::with_capacity(BATCH),
            functions: Vec::new(),
            next_report: Instant::now() + PROGRESS_EVERY,
            checked: 0,
            name: &shown,
        };
        let walked = file::walk(&bytes, limits, &mut loader);
        // The batch in flight is waited for whatever the walk found; the
        // last one is built, and all go in, only if the walk finished.
        let flushed = match walked {
            Ok(_) => loader.flush().and_then(|()| loader.wait()),
            Err(_) => loader.wait(),
        };
        let walked = walked.map_err(|e| format!("{shown}: {e}"))?;
        flushed.map_err(|e| format!("{shown}: {e}"))?;
        loader.load().map_err(|e| format!("{shown}: {e}"))?;
        Ok::<_, String>((walked, loader.imported, loader.functions))
    })?;
    drop(holds);
    drop(bytes);
    imported.empty = walked.empty;
    if !functions.is_empty() {
        let payload = rdb::seal(functions);
        imported.libraries = crate::command::import_libraries(shared, &payload)
            .map_err(|e| format!("{shown}: the function libraries do not load: {e}"))?;
    }
    if !walked.checksum_checked {
        tracing::warn!("{shown} has no checksum (saved with rdbchecksum no): not checked");
    }
    let loaded_in = started.elapsed();
    store
        .snapshot_on_two_threads()
        .map_err(|e| format!("imported {shown}, but could not save it: {e}"))?;
    tracing::info!(
        "imported {shown} (RDB version {}): {} keys, {} already expired and left out, \
         {} empty skipped, {} function libraries, in {:.2} s; saved in {:.2} s",
        walked.version,
        imported.keys,
        imported.expired,
        imported.empty,
        imported.libraries,
        loaded_in.as_secs_f64(),
        (started.elapsed() - loaded_in).as_secs_f64(),
    );
    Ok(imported)
}

/// A key waiting in the batch.
struct Pending<'f> {
    db: usize,
    name: Cow<'f, [u8]>,
    value: Value,
    deadline: Option<u64>,
    stamp: Option<Stamp>,
}

/// The walk's sink: keys built a batch at a time and kept, put in when
/// the walk ends; libraries kept for the end.
struct Loader<'s, 'e, 'f> {
    dbs: &'e [Db],
    scope: &'s std::thread::Scope<'s, 'e>,
    /// The batch being built, a thread for each half of the shards, and
    /// how many keys it holds.
    building: Vec<ScopedJoinHandle<'s, Result<Built, String>>>,
    /// Each half's keys built so far (taken while its thread runs).
    built: [Built; 2],
    in_flight: u64,
    now: u64,
    total: usize,
    imported: Imported,
    batch: Vec<Pending<'f>>,
    /// The libraries' records, as FUNCTION RESTORE's payload body.
    functions: Vec<u8>,
    next_report: Instant,
    /// Keys since the clock was last read.
    checked: u32,
    name: &'e str,
}

impl<'s, 'e, 'f: 'e> Loader<'s, 'e, 'f> {
    /// Hands the batch to two threads, each building the keys of its half
    /// of the shards, after the batch before it is built; the walk reads
    /// on meanwhile.
    fn flush(&mut self) -> Result<(), String> {
        self.wait()?;
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        self.in_flight = batch.len() as u64;
        let dbs = self.dbs;
        let mut halves: [Vec<Pending<'f>>; 2] = [
            Vec::with_capacity(BATCH / 2 + BATCH / 16),
            Vec::with_capacity(BATCH / 2 + BATCH / 16),
        ];
        for p in batch {
            let half = dbs.get(p.db).map_or(0, |d| d.part_of(&p.name, 2));
            if let Some(h) = halves.get_mut(half) {
                h.push(p);
            }
        }
        for (half, built) in halves.into_iter().zip(&mut self.built) {
            let built = std::mem::take(built);
            self.building
                .push(self.scope.spawn(move || build(dbs, half, built)));
        }
        Ok(())
    }

    /// Waits for the batch in flight; its error, if it had one.
    fn wait(&mut self) -> Result<(), String> {
        let mut result = Ok(());
        for (handle, slot) in self.building.drain(..).zip(&mut self.built) {
            match joined(handle) {
                Ok(built) => *slot = built,
                Err(e) => result = result.and(Err(e)),
            }
        }
        result?;
        self.imported.keys += std::mem::take(&mut self.in_flight);
        Ok(())
    }

    /// Puts every key built in, each half of the shards on its own thread.
    fn load(&mut self) -> Result<(), String> {
        let dbs = self.dbs;
        let loading: Vec<_> = std::mem::take(&mut self.built)
            .into_iter()
            .map(|built| self.scope.spawn(move || load(dbs, built)))
            .collect();
        let mut result = Ok(());
        for handle in loading {
            result = result.and(joined(handle));
        }
        result
    }
}

/// What an import thread returned, a panic as an error.
fn joined<T>(handle: ScopedJoinHandle<'_, Result<T, String>>) -> Result<T, String> {
    handle
        .join()
        .unwrap_or_else(|_| Err("an import thread panicked".into()))
}

/// Keys built for the databases, by database index.
type Built = Vec<Vec<Loadable>>;

/// Builds a batch's keys, each for its database, onto `built`. Takes no
/// lock: the keys go in at the end (`load`).
fn build(dbs: &[Db], batch: Vec<Pending<'_>>, mut built: Built) -> Result<Built, String> {
    if built.len() < dbs.len() {
        built.resize_with(dbs.len(), Vec::new);
    }
    for p in batch {
        let db = dbs.get(p.db).ok_or("a database that went")?;
        let key = db
            .loadable(&p.name, p.value, p.deadline, p.stamp)
            .map_err(|e| format!("key '{}': {e}", String::from_utf8_lossy(&p.name)))?;
        if let Some(list) = built.get_mut(p.db) {
            list.push(key);
        }
    }
    Ok(built)
}

/// Puts built keys in. A key met twice is an error, as in Redis.
fn load(dbs: &[Db], built: Built) -> Result<(), String> {
    for (i, keys) in built.into_iter().enumerate() {
        if keys.is_empty() {
            continue;
        }
        let db = dbs.get(i).ok_or("a database that went")?;
        if let Some(twice) = db.load(keys).map_err(|e| e.to_string())? {
            return Err(twice_error(&twice, i));
        }
    }
    Ok(())
}

fn twice_error(name: &[u8], db: usize) -> String {
    format!(
        "key '{}' appears twice in database {db}",
        String::from_utf8_lossy(name)
    )
}

impl<'s, 'e, 'f: 'e> file::Sink<'f> for Loader<'s, 'e, 'f> {
    fn aux(&mut self, key: &[u8], value: &[u8]) {
        if key == b"redis-ver" {
            tracing::info!(
                "{} was written by Redis {}",
                self.name,
                String::from_utf8_lossy(value)
            );
        }
    }

    fn resize(&mut self, db: u64, keys: u64, _volatile: u64) {
        let db = usize::try_from(db).ok().and_then(|i| self.dbs.get(i));
        if let (Some(db), Ok(keys)) = (db, usize::try_from(keys)) {
            db.presize(keys);
        }
    }

    fn key(&mut self, key: file::Key<'f>) -> Result<(), String> {
        let db = usize::try_from(key.db)
            .ok()
            .filter(|&i| i < self.dbs.len())
            .ok_or_else(|| {
                format!(
                    "a key in database {}, past this server's {} (raise `databases`)",
                    key.db,
                    self.dbs.len()
                )
            })?;
        if key.deadline.is_some_and(|t| t < self.now) {
            self.imported.expired += 1;
            return Ok(());
        }
        self.batch.push(Pending {
            db,
            name: key.name,
            value: key.value,
            deadline: key.deadline,
            stamp: key.stamp,
        });
        if self.batch.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn empty(&mut self, db: u64, key: &[u8]) {
        if self.imported.empty < 10 {
            tracing::warn!(
                "skipping an empty key in database {db}: '{}'",
                String::from_utf8_lossy(key)
            );
        }
        self.imported.empty += 1;
    }

    fn function(&mut self, record: &[u8]) -> Result<(), String> {
        self.functions.extend_from_slice(record);
        Ok(())
    }

    fn progress(&mut self, at: usize) {
        // The clock is read once in 1,024 keys.
        self.checked += 1;
        if self.checked < 1024 {
            return;
        }
        self.checked = 0;
        let now = Instant::now();
        if now >= self.next_report {
            self.next_report = now + PROGRESS_EVERY;
            let share = at as f64 * 100.0 / self.total.max(1) as f64;
            tracing::info!(
                "importing {}: {} keys read, {share:.0}% of the file",
                self.name,
                self.imported.keys + self.batch.len() as u64
            );
        }
    }
}
