//! `Options`: how a keyspace is set up.
//!
//! Owns the settings fixed when a `Db` is created, with their defaults.

use crate::clock::{Clock, SystemClock};
use crate::memtable::MemtableKind;
use std::sync::Arc;

/// Redis's default `proto-max-bulk-len`: 512 MiB.
pub const DEFAULT_MAX_VALUE_BYTES: usize = 512 * 1024 * 1024;

/// The largest value size the engine accepts at all: lengths are stored
/// as 32-bit integers.
pub const MAX_VALUE_BYTES_LIMIT: usize = u32::MAX as usize;

/// Settings for a new `Db`. Build with `Options::default()` and the setters.
#[derive(Debug, Clone)]
pub struct Options {
    pub(crate) memtable: MemtableKind,
    pub(crate) shards: usize,
    pub(crate) max_value_bytes: usize,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            memtable: MemtableKind::Sharded,
            shards: default_shards(),
            max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
            clock: Arc::new(SystemClock),
        }
    }
}

/// Four shards per core, as a power of two: enough that two threads rarely
/// meet on one lock, few enough that a scan's per-shard seeks stay cheap.
fn default_shards() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores * 4).next_power_of_two().min(1024)
}

impl Options {
    /// Which memtable to use. Default: `Sharded`. `SingleLock` is the
    /// baseline with one lock, kept to compare against and to roll back to.
    pub fn memtable(mut self, kind: MemtableKind) -> Self {
        self.memtable = kind;
        self
    }

    /// The number of shards for `Sharded` (ignored by `SingleLock`).
    /// Default: four per core, rounded up to a power of two. Clamped to
    /// 1..=1024.
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = shards.clamp(1, 1024);
        self
    }

    /// The largest key or value, in bytes, a write may produce. Default
    /// 512 MiB, Redis's `proto-max-bulk-len`. Clamped to 4 GiB - 1.
    pub fn max_value_bytes(mut self, bytes: usize) -> Self {
        self.max_value_bytes = bytes.min(MAX_VALUE_BYTES_LIMIT);
        self
    }

    /// The clock that defines "now" for expiry. Default: the system clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}
