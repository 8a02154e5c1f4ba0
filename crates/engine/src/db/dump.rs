//! DUMP and RESTORE: a key's whole value read out item by item, and a
//! value built outside (`collection::build`) put back as a key. An
//! import's loading is `load`.
//!
//! Owns RESTORE's rules as Redis 7.0 keeps them: a live key refuses it
//! unless it replaces; a deadline already past leaves no key (and
//! deletes the replaced one, announced as `del`); a new key is announced
//! as `new` and `restore`, stamped with the idle time or frequency asked
//! for. It must never look at another store's format: the server reads
//! and writes that.

use super::access::{live, live_slot, new_entry, sealed::Access, take_live};
use super::{Db, Tx};
use crate::collection::build::{self, Kind, Value, Visit};
use crate::entry::{Entry, ValueIn};
use crate::error::Result;

/// How RESTORE puts a value back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Restore {
    /// REPLACE: a live key is replaced rather than refused.
    pub replace: bool,
    /// The absolute deadline, Unix ms (`None`: no expiry).
    pub deadline: Option<u64>,
    /// IDLETIME or FREQ.
    pub access: Option<Stamp>,
}

/// What RESTORE's IDLETIME and FREQ ask for (Redis's
/// `objectSetLRUOrLFU`): each counts only under its own kind of policy,
/// and is ignored under the other, as in Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// IDLETIME: seconds since the key was last used (LRU).
    IdleSeconds(u64),
    /// FREQ: the key's LFU counter.
    Frequency(u8),
}

/// What a RESTORE did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restored {
    /// The key is live and REPLACE was not given: nothing changed.
    Busy,
    /// The key holds the value.
    Created,
    /// The deadline had passed: no key was made; `deleted` if a replaced
    /// key went.
    Expired {
        /// A live key was replaced, so it is gone.
        deleted: bool,
    },
}

/// DUMP and RESTORE, on a `Db` or inside an atomic batch.
pub trait Dumps: Access {
    /// DUMP's read: hands `key`'s value to `v` (counted as a read) and
    /// returns `Some(deadline)`, or `None` if the key does not exist.
    fn dump_value(&self, key: &[u8], v: &mut dyn Visit) -> Result<Option<Option<u64>>> {
        self.read_key(key, |m, h| {
            live(m, h, key, self.ctx()).map(|e| {
                visit_entry(e, v);
                e.expiry()
            })
        })
    }

    /// RESTORE: puts `value` at `key` by `how`'s rules.
    fn restore_value(&self, key: &[u8], value: Value, how: Restore) -> Result<Restored> {
        let ctx = self.ctx();
        let (restored, replaced) = crate::lookups::quietly(|| {
            self.write_key(key, |m, h| {
                let live = live_slot(m, h, key, ctx).is_some();
                if live && !how.replace {
                    return Ok::<_, crate::Error>((Restored::Busy, None));
                }
                if how.deadline.is_some_and(|t| t <= ctx.now()) {
                    let replaced = take_live(m, h, key, ctx);
                    if replaced.is_some() {
                        ctx.notify_generic("del", key);
                    }
                    let deleted = replaced.is_some();
                    return Ok((Restored::Expired { deleted }, replaced));
                }
                // Built before anything changes: a value refused here
                // leaves the key as it was.
                let version = m.next_version();
                let entry = new_entry(key, value_in(value), version, how.deadline, ctx)?;
                if let Some(stamp) = how.access {
                    ctx.access.stamp_restored(&entry, stamp);
                }
                let replaced = m.upsert(h, entry);
                ctx.notify_new(key);
                ctx.notify_generic("restore", key);
                Ok((Restored::Created, replaced))
            })?
        })?;
        // A replaced value is freed here, after the shard's lock.
        drop(replaced);
        Ok(restored)
    }
}

impl Dumps for Tx<'_> {}
impl Dumps for Db {}

impl Db {
    /// The thresholds a value built for this keyspace follows, as set
    /// now (`Builder::new`).
    pub fn value_limits(&self) -> crate::collection::Limits {
        self.ctx().limits()
    }
}

/// The entry's value as `Value`'s maker gave it.
pub(super) fn value_in(value: Value) -> ValueIn<'static> {
    match value.0 {
        Kind::String(s) => ValueIn::Owned(s),
        Kind::Collection(c) => ValueIn::Object(c),
    }
}

/// Hands `e`'s value to `v`.
fn visit_entry(e: &Entry, v: &mut dyn Visit) {
    match e.collection() {
        Some(c) => build::visit(c, v),
        None => {
            let s = e.value();
            v.begin(crate::entry::ValueType::String, s.len());
            v.string(s);
        }
    }
}
