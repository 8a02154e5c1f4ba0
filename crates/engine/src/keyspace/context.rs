//! `Ctx`: what a keyspace's operations need besides a shard.
//!
//! Owns the keyspace's clock, its key and value size limit, where its
//! keyspace events go, and the count of expired keys. It must never reach
//! a shard or take a lock: it is read under shard locks, by requests, the
//! reaper and the migrator alike.

use crate::clock::Clock;
use crate::collection::stream::StreamNodeLimit;
use crate::collection::{ChunkLimit, Limits, Listpack};
use crate::error::{Error, Result};
use crate::journal::Journal;
use crate::pubsub::{Notifier, NotifyFlags};
use arc_swap::ArcSwapOption;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// What operations need besides the shard: the clock, the limits, and
/// where events go.
pub struct Ctx {
    pub(crate) clock: Arc<dyn Clock>,
    /// The key and value size limit; changeable at run time
    /// (`Db::set_max_value_bytes`).
    pub(crate) max_value: AtomicUsize,
    /// Redis's `hash-max-listpack-entries` and `-value`; changeable at run
    /// time (`Db::set_hash_listpack`).
    pub(crate) hash_listpack: [AtomicUsize; 2],
    /// Redis's `set-max-intset-entries`; changeable at run time
    /// (`Db::set_set_intset_entries`).
    pub(crate) set_intset: AtomicUsize,
    /// Redis's `list-max-listpack-size`; changeable at run time
    /// (`Db::set_limits`).
    pub(crate) list_chunk: std::sync::atomic::AtomicI64,
    /// Redis's `zset-max-listpack-entries` and `-value`; changeable at run
    /// time (`Db::set_limits`).
    pub(crate) zset_listpack: [AtomicUsize; 2],
    /// Redis's `stream-node-max-bytes` and `-entries`; changeable at run
    /// time (`Db::set_limits`).
    pub(crate) stream_node: [AtomicUsize; 2],
    pub(crate) notifier: Notifier,
    /// Keys that expired (Redis's `expired_keys`).
    pub(crate) expired: AtomicU64,
    /// Keys evicted to stay under a memory bound (Redis's `evicted_keys`).
    pub(crate) evicted: AtomicU64,
    /// How lookups stamp keys' access words (LRU or LFU).
    pub(crate) access: crate::evict::access::AccessRules,
    /// New keys on probation, under `allkeys-s3fifo`.
    pub(crate) probation: crate::evict::probation::Probation,
    /// The keyspace's id in change records and snapshots: fixed for its
    /// life, unlike its number, which SWAPDB changes.
    pub(crate) id: u32,
    /// Where changes are logged, when they are.
    pub(crate) journal: ArcSwapOption<Journal>,
}

impl Ctx {
    pub(crate) fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Publishes keyspace event `event` of class `class` on `key`, if such
    /// events are switched on. Called under the key's shard lock, so the
    /// events of one key are published in the order they happen.
    pub(crate) fn notify(&self, class: u32, event: &'static str, key: &[u8]) {
        if class == NotifyFlags::EXPIRED {
            self.expired.fetch_add(1, Ordering::Relaxed);
        } else if class == NotifyFlags::EVICTED {
            self.evicted.fetch_add(1, Ordering::Relaxed);
        }
        self.notifier.notify(class, event, key);
    }

    /// A key was created: Redis's `new` event.
    pub(crate) fn notify_new(&self, key: &[u8]) {
        self.notify(NotifyFlags::NEW, "new", key);
    }

    /// A generic-command event (`del`, `expire`, `persist`, `rename_*`).
    pub(crate) fn notify_generic(&self, event: &'static str, key: &[u8]) {
        self.notify(NotifyFlags::GENERIC, event, key);
    }

    /// A string-command event (`set`, `append`, `incrby`, ...).
    pub(crate) fn notify_string(&self, event: &'static str, key: &[u8]) {
        self.notify(NotifyFlags::STRING, event, key);
    }

    /// A hash-command event (`hset`, `hdel`, `hincrby`, ...).
    pub(crate) fn notify_hash(&self, event: &'static str, key: &[u8]) {
        self.notify(NotifyFlags::HASH, event, key);
    }

    /// When a small hash becomes a table, as set now.
    pub(crate) fn hash_listpack(&self) -> Listpack {
        Listpack {
            entries: self.hash_listpack[0].load(Ordering::Relaxed),
            value: self.hash_listpack[1].load(Ordering::Relaxed),
        }
    }

    /// Every type's thresholds between compact and big encodings, as set
    /// now.
    pub(crate) fn limits(&self) -> Limits {
        Limits {
            hash: self.hash_listpack(),
            set_intset_entries: self.set_intset_entries(),
            list_chunk: self.list_chunk(),
            zset: self.zset_listpack(),
            stream_node: self.stream_node(),
        }
    }

    /// Where a stream's node ends, as set now.
    pub(crate) fn stream_node(&self) -> StreamNodeLimit {
        StreamNodeLimit {
            bytes: self.stream_node[0].load(Ordering::Relaxed),
            entries: self.stream_node[1].load(Ordering::Relaxed),
        }
    }

    /// A stream-command event (`xadd`, `xdel`, `xtrim`, ...).
    pub(crate) fn notify_stream(&self, event: &'static str, key: &[u8]) {
        self.notify(NotifyFlags::STREAM, event, key);
    }

    /// When a small sorted set becomes big, as set now.
    pub(crate) fn zset_listpack(&self) -> Listpack {
        Listpack {
            entries: self.zset_listpack[0].load(Ordering::Relaxed),
            value: self.zset_listpack[1].load(Ordering::Relaxed),
        }
    }

    /// A sorted-set event (`zadd`, `zincr`, `zrem`, ...).
    pub(crate) fn notify_zset(&self, event: &'static str, key: &[u8]) {
        self.notify(NotifyFlags::ZSET, event, key);
    }

    /// How full a list's chunk gets, as set now.
    pub(crate) fn list_chunk(&self) -> ChunkLimit {
        ChunkLimit(self.list_chunk.load(Ordering::Relaxed))
    }

    /// A list-command event (`lpush`, `rpop`, `linsert`, ...).
    pub(crate) fn notify_list(&self, event: &'static str, key: &[u8]) {
        self.notify(NotifyFlags::LIST, event, key);
    }

    /// When an intset becomes a table, as set now.
    pub(crate) fn set_intset_entries(&self) -> usize {
        self.set_intset.load(Ordering::Relaxed)
    }

    /// A set-command event (`sadd`, `srem`, `spop`, ...).
    pub(crate) fn notify_set(&self, event: &'static str, key: &[u8]) {
        self.notify(NotifyFlags::SET, event, key);
    }

    /// The error for a key or value over the size limit.
    pub(crate) fn too_large(&self) -> Error {
        Error::ValueTooLarge {
            limit: self.max_value.load(Ordering::Relaxed),
        }
    }

    /// Checks a key or value length against the size limit.
    pub(crate) fn check_len(&self, len: usize) -> Result<()> {
        if len > self.max_value.load(Ordering::Relaxed) {
            return Err(self.too_large());
        }
        Ok(())
    }
}
