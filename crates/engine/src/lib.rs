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
//! Layout (see `docs/ARCHITECTURE.md`):
//! - `db`: the `Db` facade, per-command semantics, atomic batches, scans.
//! - `keyspace`: the layout of memtables, resizing (freeze, serve, drain),
//!   its policy and background thread, and the access protocol.
//! - `memtable`: the `Memtable` trait, shards, locks, and the shard map.
//! - `entry`: the compact per-key block.
//! - `scan`: the streaming k-way merge, SCAN cursors, glob patterns.
//! - `numeric`: Redis's integer and float rules.
//! - `clock`, `options`, `error`.
//! - `process`: what /proc says about this process (memory, CPU time),
//!   for INFO, the benchmarks and tests.

pub mod clock;
mod db;
mod entry;
mod error;
mod expiry;
mod keyspace;
pub mod memtable;
mod numeric;
mod options;
pub mod process;
pub mod pubsub;
mod scan;

pub use bytes::Bytes;
pub use db::{
    Db, ExpireCondition, Expiry, KeyValue, ScanOptions, ScanPage, SetCondition, SetOptions,
    SetOutcome, SetTtl, ShardStats, Stats, Tx,
};
pub use entry::{Entry, ValueType};
pub use error::{Error, Result};
pub use expiry::LatenessSummary;
pub use keyspace::policy::{decide, Load, Resize, ResizePolicy, ResizeReason};
pub use keyspace::{ResizeEvent, ResizeState};
pub use memtable::{Memtable, MemtableKind, Sharded, SingleLock};
pub use numeric::parse_i64;
pub use options::{Options, DEFAULT_MAX_VALUE_BYTES, MAX_SHARDS};
pub use scan::{glob_match, RangeIter, RangePage};

/// Everything needed to use a `Db`: `use tandem_engine::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Db, Error, ExpireCondition, Expiry, KeyValue, Options, ScanOptions, SetCondition,
        SetOptions, SetTtl,
    };
}
