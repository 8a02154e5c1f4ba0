//! `tandem server --import dump.rdb`: a Redis RDB file loaded at
//! start-up, every type with its deadline and access stamp, its function
//! libraries too, then saved in Tandem's own format.
//!
//! Owns the import's rules: only into a store that holds no key yet (so
//! a restart that keeps the flag cannot put old data over new), keys
//! whose deadline has passed are left out and a key met twice stops the
//! import (as Redis's loader does), and progress is logged every second.
//! It runs on the loading thread, while clients get `-LOADING`. It must
//! never serve a half-imported store: any error stops the server before
//! loading ends.

use crate::rdb::{self, file};
use crate::shared::Shared;
use std::path::Path;
use std::time::{Duration, Instant};
use tandem_engine::Db;

/// How often progress is logged.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

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
    let shown = path.display();
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
    let mut loader = Loader {
        dbs: &dbs,
        now: dbs.first().map_or(0, Db::now_ms),
        total: bytes.len(),
        imported: Imported::default(),
        functions: Vec::new(),
        next_report: Instant::now() + PROGRESS_EVERY,
        checked: 0,
        name: &shown.to_string(),
    };
    let walked = file::walk(&bytes, limits, &mut loader).map_err(|e| format!("{shown}: {e}"))?;
    drop(bytes);
    let mut imported = loader.imported;
    imported.empty = walked.empty;
    if !loader.functions.is_empty() {
        let payload = rdb::seal(std::mem::take(&mut loader.functions));
        imported.libraries = crate::command::import_libraries(shared, &payload)
            .map_err(|e| format!("{shown}: the function libraries do not load: {e}"))?;
    }
    if !walked.checksum_checked {
        tracing::warn!("{shown} has no checksum (saved with rdbchecksum no): not checked");
    }
    let loaded_in = started.elapsed();
    store
        .snapshot()
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

/// The walk's sink: keys into the databases, libraries kept for the end.
struct Loader<'a> {
    dbs: &'a [Db],
    now: u64,
    total: usize,
    imported: Imported,
    /// The libraries' records, as FUNCTION RESTORE's payload body.
    functions: Vec<u8>,
    next_report: Instant,
    /// Keys since the clock was last read.
    checked: u32,
    name: &'a str,
}

impl file::Sink for Loader<'_> {
    fn aux(&mut self, key: &[u8], value: &[u8]) {
        if key == b"redis-ver" {
            tracing::info!(
                "{} was written by Redis {}",
                self.name,
                String::from_utf8_lossy(value)
            );
        }
    }

    fn resize(&mut self, _db: u64, _keys: u64, _volatile: u64) {}

    fn key(&mut self, key: file::Key<'_>) -> Result<(), String> {
        let db = usize::try_from(key.db)
            .ok()
            .and_then(|i| self.dbs.get(i))
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
        let again = db
            .load_value(key.name, key.value, key.deadline, key.stamp)
            .map_err(|e| format!("key '{}': {e}", String::from_utf8_lossy(key.name)))?;
        if again {
            return Err(format!(
                "key '{}' appears twice in database {}",
                String::from_utf8_lossy(key.name),
                key.db
            ));
        }
        self.imported.keys += 1;
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
                "importing {}: {} keys, {share:.0}% of the file",
                self.name,
                self.imported.keys
            );
        }
    }
}
