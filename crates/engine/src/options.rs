//! `Options`: how a keyspace is set up.
//!
//! Owns the settings fixed when a `Db` is created, with their defaults.

use crate::background::Background;
use crate::clock::{Clock, SystemClock};
use crate::keyspace::ResizePolicy;
use crate::memtable::{MemtableKind, MAX_SHARDS};
use crate::pubsub::Hub;
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
    pub(crate) resize: Option<ResizePolicy>,
    pub(crate) migration_assist: usize,
    pub(crate) migration_share: f64,
    pub(crate) max_value_bytes: usize,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) hub: Option<Hub>,
    pub(crate) db_index: u32,
    pub(crate) background: Option<Background>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            memtable: MemtableKind::Sharded,
            shards: ResizePolicy::default().min_shards,
            resize: Some(ResizePolicy::default()),
            migration_assist: 16,
            migration_share: 0.2,
            max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
            clock: Arc::new(SystemClock),
            hub: None,
            db_index: 0,
            background: None,
        }
    }
}

impl Options {
    /// Which memtable to use. Default: `Sharded`. `SingleLock` is the
    /// baseline with one lock, kept to compare against and to roll back to.
    pub fn memtable(mut self, kind: MemtableKind) -> Self {
        self.memtable = kind;
        self
    }

    /// A fixed number of shards for `Sharded` (ignored by `SingleLock`):
    /// the keyspace does not resize itself. Clamped to 1..=1024. Without
    /// this, the keyspace starts at `min_shards` and resizes by its policy.
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = shards.clamp(1, MAX_SHARDS);
        self.resize = None;
        self
    }

    /// Resize the shard count automatically by `policy`, starting at its
    /// `min_shards`. This is the default, with `ResizePolicy::default()`.
    pub fn resize_policy(mut self, policy: ResizePolicy) -> Self {
        let min = policy.min_shards.clamp(1, MAX_SHARDS);
        let policy = ResizePolicy {
            min_shards: min,
            max_shards: policy.max_shards.clamp(min, MAX_SHARDS),
            ..policy
        };
        self.shards = min;
        self.resize = Some(policy);
        self
    }

    /// How many entries a request moves when it finds a migration step
    /// due (default 16). Under heavy load the resizer thread waits long for
    /// a CPU; requests taking steps keep a migration going at its pace. 0
    /// leaves migration to the resizer and to `Db::migrate_step`.
    pub fn migration_assist(mut self, entries: usize) -> Self {
        self.migration_assist = entries;
        self
    }

    /// The share of time a migration may spend moving entries (default
    /// 0.2; clamped to 0.01..=1, where 1 is as fast as it can go). While it
    /// moves a batch, requests to those shards wait, and on a busy machine
    /// it takes CPU from them: throughput during a resize stays at about
    /// `1 - share` of normal or better, and a resize takes about `1 / share`
    /// times its bare work. Explicit `Db::migrate_step` calls are not paced.
    pub fn migration_share(mut self, share: f64) -> Self {
        self.migration_share = if share.is_nan() {
            1.0
        } else {
            share.clamp(0.01, 1.0)
        };
        self
    }

    /// The largest key or value, in bytes, a write may produce. Default
    /// 512 MiB, Redis's `proto-max-bulk-len`. Clamped to 4 GiB - 1.
    pub fn max_value_bytes(mut self, bytes: usize) -> Self {
        self.max_value_bytes = bytes.min(MAX_VALUE_BYTES_LIMIT);
        self
    }

    /// The clock that defines "now" for expiry. Default: the system clock.
    /// A clock that does not follow real time (`Clock::real_time_until_past`
    /// returns `None`, as `ManualClock`'s does) gets no reaper thread:
    /// expired keys are then removed when touched, or by `Db::reap_expired`.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The pub/sub hub this keyspace publishes its keyspace notifications
    /// to (`Db::hub` returns it). Default: a hub of its own. Databases that
    /// share a hub share subscribers and `notify-keyspace-events`.
    pub fn hub(mut self, hub: Hub) -> Self {
        self.hub = Some(hub);
        self
    }

    /// The database number in keyspace notification channels
    /// (`__keyspace@<db>__:`). Default 0.
    pub fn db_index(mut self, index: u32) -> Self {
        self.db_index = index;
        self
    }

    /// The background threads (reaper, resizer) that serve this keyspace.
    /// Default: two of its own. Keyspaces that share one share its two
    /// threads, however many there are (a server's databases do), and
    /// all refuse writes if one of them dies. Their clocks must agree on
    /// real time: the reaper compares their deadlines directly.
    pub fn background(mut self, background: Background) -> Self {
        self.background = Some(background);
        self
    }
}
