//! Tandem's engine: an in-memory keyspace with Redis semantics, spread over
//! independently locked shards, embeddable in any Rust program.
//!
//! ```
//! use tandem_engine::prelude::*;
//!
//! let db = Db::default();
//! db.set(b"greeting", b"hello", SetOptions::default())?;
//! assert_eq!(db.get(b"greeting")?.as_deref(), Some(&b"hello"[..]));
//! assert_eq!(db.incr_by(b"visits", 1)?, 1);
//! db.expire(b"greeting", Expiry::Seconds(60), ExpireCondition::Always)?;
//!
//! // Several keys, atomically: one lock when they share a shard.
//! db.mset(&[("a", "10"), ("b", "0")])?;
//! db.atomically(&["a", "b"], |tx| {
//!     tx.decr_by(b"a", 5)?;
//!     tx.incr_by(b"b", 5)
//! })?;
//! assert_eq!(db.get(b"b")?.as_deref(), Some(&b"5"[..]));
//! # Ok::<(), tandem_engine::Error>(())
//! ```
//!
//! Layout (see `docs/ARCHITECTURE.md`), top to bottom; a module uses only
//! modules below it:
//! - `db`: the `Db` facade, per-command semantics, atomic batches, scans.
//! - `standalone`: the public `Memtable` trait, `SingleLock`, `Sharded`.
//! - `options`: how a `Db` is set up.
//! - `background`: the reaper and resizer threads a group of keyspaces
//!   shares, and their health (a dead one refuses writes).
//! - `expiry`: the reaper, removing keys at their deadline.
//! - `keyspace`: the keyspace and its context, resizing (freeze, serve,
//!   drain), its policy and the resizer's loop, and the access protocol.
//! - `pubsub`: channels, patterns and keyspace notifications.
//! - `scan`: the streaming k-way merge, SCAN cursors, glob patterns.
//! - `memtable`: shards, locks, the shard map, layouts, deadline hints.
//! - `evict`: the eviction policies, the access word (LRU/LFU) and the
//!   pool of candidates.
//! - `entry`: the compact per-key block.
//! - `bitmap`: bits of a string value (BITCOUNT, BITPOS, BITFIELD, BITOP).
//! - `collection`: hashes (lists, sets and sorted sets to come) and their
//!   encoding for the log and snapshots.
//! - `numeric`: Redis's integer and float rules; `clock`; `error`.
//! - `process`: what /proc says about this process (memory, CPU time),
//!   for INFO, the benchmarks and tests.

#![deny(clippy::indexing_slicing)]

mod background;
pub mod bitmap;
pub mod clock;
mod collection;
mod db;
mod entry;
mod error;
pub mod evict;
mod expiry;
pub mod geo;
pub mod hll;
pub mod journal;
mod keyspace;
pub mod lookups;
pub mod memtable;
mod numeric;
mod options;
mod persist;
pub mod process;
pub mod pubsub;
mod scan;
mod standalone;

pub use background::{Background, Worker, WorkerState};
pub use bytes::Bytes;
pub use collection::build::{visit_value, BuildError, Builder, Value, Visit};
pub use collection::free::{
    drained as lazyfree_drained, pending as lazyfree_pending,
    pending_bytes as lazyfree_pending_bytes,
};
pub use collection::stream::{
    AutoClaim, AutoClaimed, ClaimOptions, Consumer, Delivered, DeliveryTime, EntryParts, Group,
    IdArg, NodeParts, Pending, StreamBuilder, StreamEntry, StreamId, StreamMeta, StreamNodeLimit,
    Trim, TrimTo, MAX_NODE_BYTES,
};
pub use collection::{ChunkLimit, End, Limits, Listpack, Picks, Stream};
pub use db::{
    evict_one, Aggregate, Bits, Db, DumpEntry, DumpStats, Dumps, EvictState, Evicted,
    ExpireCondition, Expiry, FieldValue, GroupOp, GroupOutcome, HashPart, Hashes, HyperLogLogs,
    KeyValue, LexBound, Lists, Loadable, PfDebug, PfDebugReply, PosOptions, ResizeHold, Restore,
    Restored, ScanOptions, ScanPage, ScoreBound, SetAlgebra, SetCondition, SetOptions, SetOutcome,
    SetTtl, Sets, ShardStats, Stamp, Stats, StreamGroups, Streams, Tx, Watch, XAdd, XAdded, XRead,
    ZAddFlags, ZAdded, ZPopped, ZRange, ZRangeBy, ZSetAlgebra, ZSetOp, ZSets,
};
pub use entry::{Entry, ValueType};
pub use error::{Error, Result};
pub use keyspace::policy::{decide, Load, Resize, ResizePolicy, ResizeReason};
pub use keyspace::{LatenessSummary, ResizeEvent, ResizeState};
pub use memtable::{MemtableKind, ShardCounters, MAX_SHARDS, WAIT_BOUNDS_NS, WAIT_BUCKETS};
pub use numeric::{
    format_score, parse_i64, parse_score, parse_score_lenient, parse_sort_score, seconds_to_ms,
};
pub use options::{Options, DEFAULT_MAX_VALUE_BYTES};
pub use persist::{check, CheckReport, Recovery, SnapshotInfo, Store, StoreOptions};
pub use scan::{glob_match, RangeIter, RangePage};
pub use standalone::{Memtable, Sharded, SingleLock};
/// The storage layer the store is built on: its errors, sync policies and
/// file-system seam (`backend::SimFs` for fault tests).
pub use tandem_storage as storage;

/// Everything needed to use a `Db`: `use tandem_engine::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Db, End, Error, ExpireCondition, Expiry, HashPart, Hashes, KeyValue, Lists, Options,
        ScanOptions, SetAlgebra, SetCondition, SetOptions, SetTtl, Sets, ZSetAlgebra, ZSets,
    };
}
