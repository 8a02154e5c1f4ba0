//! What a scrape reads from the server, read in one place: `gather` runs
//! at normal priority and only reads; `collect` then writes the text from
//! it, at idle priority (`render_thread`).
//!
//! Owns the reading. Why apart from the writing: reading takes every
//! shard's read lock in turn (and jemalloc's statistics lock), and a lock
//! must never be held by a thread at idle priority, which a busy machine
//! may not run again for a long time while writers wait for the lock.
//! The writing, ~50,000 lines for 16 databases of 1,024 shards, holds no
//! lock and may wait.

use crate::latency::Snapshot;
use crate::shared::Shared;
use crate::stats::Totals;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use tandem_engine::process::CpuTicks;
use tandem_engine::storage::backend::sync_timing::{SyncReport, SYNCS};

/// One database's numbers: its index (as a label), its statistics and
/// the keys evicted from it.
pub(crate) struct DbNumbers {
    pub index: String,
    pub stats: tandem_engine::Stats,
    pub evicted: u64,
}

/// Everything a scrape reports, read at one moment (each part in turn).
pub(crate) struct Gathered {
    pub uptime_secs: f64,
    pub clients: u64,
    pub maxclients: u32,
    pub blocked: u64,
    pub channels: u64,
    pub patterns: u64,
    pub cpu: Option<CpuTicks>,
    pub used: u64,
    pub peak: u64,
    pub rss: u64,
    pub maxmemory: u64,
    pub totals: Totals,
    pub latencies: Vec<Snapshot>,
    pub dbs: Vec<DbNumbers>,
    /// INFO persistence's fields.
    pub persistence: HashMap<String, String>,
    pub syncs: SyncReport,
}

/// Reads what a scrape reports.
pub(crate) fn gather(shared: &Shared) -> Gathered {
    let config = shared.config.load();
    let memory = &shared.eviction.memory;
    let used = memory
        .allocator()
        .map_or_else(|| memory.refresh(), |a| a.allocated);
    let mut persistence = HashMap::new();
    shared
        .persistence
        .info(shared.stats.changes(), |name, value| {
            persistence.insert(name.to_string(), value);
        });
    Gathered {
        uptime_secs: shared.started.elapsed().as_secs_f64(),
        clients: shared.clients.load(Ordering::Relaxed) as u64,
        maxclients: config.maxclients,
        blocked: shared.blocking.blocked_clients() as u64,
        channels: shared.hub.channels(None).len() as u64,
        patterns: shared.hub.numpat() as u64,
        cpu: CpuTicks::now(),
        used,
        peak: memory.peak().max(used),
        rss: tandem_engine::process::rss_bytes().unwrap_or(0),
        maxmemory: config.eviction.maxmemory,
        totals: shared.stats.totals(),
        latencies: shared.stats.latencies(),
        dbs: shared
            .dbs
            .all()
            .iter()
            .enumerate()
            .map(|(i, db)| DbNumbers {
                index: i.to_string(),
                stats: db.stats(),
                evicted: db.evicted_keys(),
            })
            .collect(),
        persistence,
        syncs: SYNCS.read(),
    }
}
