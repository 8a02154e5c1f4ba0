//! What the durable store needs of a `Db`: reading every entry out for a
//! snapshot, and putting entries back during recovery.
//!
//! Owns `dump` (a streaming, ordered read of every live entry with its
//! deadline and type) and `restore`, `restore_edits`, `restore_deadline`
//! and `restore_del` (recovery's blind writes). It must never publish keyspace events or check a key's
//! previous state: recovery replays effects, and a client never saw these
//! as commands.

use super::access::{new_entry, peek, sealed::Access};
use super::Db;
use crate::collection::stepped::{Encoded, Step, Stepped};
use crate::collection::{codec, edit, Collection, Limits};
use crate::entry::{Patch, ValueIn, ValueType};
use crate::error::{Error, Result};
use crate::scan::{MergeCursor, ValueAt};
use std::ops::Bound;

/// One entry read by `Db::dump`, borrowed until the next.
#[derive(Debug, Clone, Copy)]
pub struct DumpEntry<'a> {
    /// The key.
    pub key: &'a [u8],
    /// The value's type.
    pub kind: ValueType,
    /// The value's encoding for its type (a string's bytes; a collection's
    /// `collection::codec` encoding).
    pub value: &'a [u8],
    /// The absolute deadline, Unix ms.
    pub deadline: Option<u64>,
}

/// What `Db::dump` did besides reading entries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DumpStats {
    /// Big collections copied a step at a time.
    pub stepped_values: u64,
    /// The steps (shard lock acquisitions) those copies took.
    pub steps: u64,
}

impl Db {
    /// Calls `f` with every live entry, in key order. Entries are copied out
    /// in bounded batches under each shard's read lock, and a big hash, set
    /// or sorted set a step at a time (`collection::stepped`), so no lock
    /// is held while `f` runs, nor for a whole big value, and writers go on
    /// meanwhile: an entry changed during the dump may be seen before or
    /// after the change, a stepped one partly (a snapshot makes that exact
    /// with the log; see `persist`). Stops at `f`'s first error.
    pub fn dump<E>(
        &self,
        mut f: impl FnMut(DumpEntry<'_>) -> Result<(), E>,
    ) -> Result<DumpStats, E> {
        let now = Some(self.now_ms());
        let mut cursor = MergeCursor::new(
            self.keyspace().layouts(),
            Bound::Unbounded,
            Bound::Unbounded,
            now,
            None,
            true,
        )
        .stepping_big_collections();
        let mut stats = DumpStats::default();
        // The copy the entry lends its value from, until the next entry.
        let mut held: Option<Encoded>;
        while let Some(hit) = cursor.next_hit() {
            let key = cursor.bytes(hit.buf, hit.key.clone());
            let value = match &hit.value {
                ValueAt::Buf(r) => cursor.bytes(hit.buf, r.clone()),
                ValueAt::Shared(b) => &b[..],
                ValueAt::Stepped => {
                    let (copy, steps) = self.copy_in_steps(key, hit.kind.tag());
                    stats.stepped_values += 1;
                    stats.steps += steps;
                    held = copy;
                    match &held {
                        Some(copy) => copy.as_slice(),
                        // Gone or replaced since: the log has it.
                        None => continue,
                    }
                }
            };
            f(DumpEntry {
                key,
                kind: hit.kind,
                value,
                deadline: hit.expiry,
            })?;
        }
        Ok(stats)
    }

    /// Copies the big collection of type `tag` at `key` in steps, the
    /// shard's read lock taken for each; `None` if the key went or came to
    /// hold another value meanwhile. With the steps taken.
    fn copy_in_steps(&self, key: &[u8], tag: u8) -> (Option<Encoded>, u64) {
        let mut copy = Stepped::new(tag);
        loop {
            copy.make_room();
            let step = self.read_key(key, |m, h| {
                copy.step(peek(m, h, key, self.ctx()).and_then(|e| e.collection()))
            });
            match step {
                Ok(Step::More) => {}
                Ok(Step::Done) => {
                    let steps = copy.steps();
                    return (copy.finish(), steps);
                }
                Ok(Step::Changed) | Err(_) => return (None, copy.steps()),
            }
        }
    }

    /// Sets `key` to `value` (of type `kind`, in its stored encoding) with
    /// `deadline`, whatever it held, without events: recovery's PUT.
    /// `BadStoredValue` if a collection's bytes do not decode.
    pub fn restore(
        &self,
        key: &[u8],
        kind: ValueType,
        value: &[u8],
        deadline: Option<u64>,
    ) -> Result<()> {
        let value = match codec::decode(kind.tag(), value, self.ctx().limits()) {
            Ok(Some(c)) => ValueIn::Object(Box::new(c)),
            Ok(None) => ValueIn::Slice(value),
            Err(why) => return Err(Error::BadStoredValue(why.to_string())),
        };
        self.write_key_blind(key, |map, hash| {
            let version = map.next_version();
            let entry = new_entry(key, value, version, deadline, self.ctx())?;
            drop(map.upsert(hash, entry));
            Ok(())
        })?
    }

    /// Whether `value` is a valid stored value of type `tag`: says what is
    /// wrong if not (`tandem check`, recovery).
    pub fn check_stored(tag: u8, value: &[u8]) -> std::result::Result<ValueType, String> {
        let kind = ValueType::from_tag(tag).ok_or_else(|| format!("unknown value type {tag}"))?;
        codec::decode(tag, value, Limits::default())
            .map_err(|why| format!("bad {} value: {why}", kind.as_str()))?;
        Ok(kind)
    }

    /// Applies `edits` (a change in place, `collection::edit`) to the
    /// collection of type `kind` at `key`, without events: recovery's
    /// EDIT. Nothing happens unless the key holds a collection of that
    /// type at change count `seq`: a record older than the state replayed
    /// onto (a snapshot read after it) is skipped, or, if the key was
    /// deleted and made again since, changes it harmlessly until a later
    /// record puts it back. A collection left empty is removed.
    /// `BadStoredValue` if the edits do not decode.
    pub fn restore_edits(&self, key: &[u8], kind: ValueType, seq: u64, edits: &[u8]) -> Result<()> {
        let tag = kind.tag();
        edit::check(tag, edits).map_err(|why| Error::BadStoredValue(why.to_string()))?;
        let limits = self.ctx().limits();
        self.write_key_blind(key, |map, hash| {
            let version = map.next_version();
            let Some(mut slot) = map.slot(hash, key) else {
                return Ok(());
            };
            let applied = slot.with_collection(version, |c| {
                if c.tag() != tag || c.seq() != seq {
                    return Ok(((), false));
                }
                edit::apply(c, edits, limits).map(|()| ((), true))
            });
            if let Some(Err(why)) = applied {
                return Err(Error::BadStoredValue(why.to_string()));
            }
            if slot.get().collection().is_some_and(Collection::is_empty) {
                drop(slot.remove());
            }
            Ok(())
        })?
    }

    /// Sets `key`'s deadline if the key is present, without events:
    /// recovery's DEADLINE. A past deadline leaves the key for expiry to
    /// take (a later record may clear it, as PERSIST after an EXPIRE).
    pub fn restore_deadline(&self, key: &[u8], deadline: Option<u64>) -> Result<()> {
        self.write_key_blind(key, |map, hash| {
            let version = map.next_version();
            let Some(mut slot) = map.slot(hash, key) else {
                return Ok(());
            };
            slot.apply(Patch {
                value: None,
                expiry: Some(deadline),
                version,
            })
            .map_err(|_| Error::BadStoredValue("a deadline that does not fit".into()))
        })?
    }

    /// Removes `key` if its deadline is before `now`, without events;
    /// whether it did: the end of recovery, for keys a DEADLINE record
    /// left expired.
    pub fn restore_del_expired(&self, key: &[u8], now: u64) -> Result<bool> {
        self.write_key_blind(key, |map, hash| {
            let Some(slot) = map.slot(hash, key) else {
                return false;
            };
            let lapsed = slot.get().expiry().is_some_and(|d| d < now);
            if lapsed {
                drop(slot.remove());
            }
            lapsed
        })
    }

    /// Whether `edits` are valid edits of a collection of type `tag`: says
    /// what is wrong if not (`tandem check`, the log's fuzzer).
    pub fn check_edits(tag: u8, edits: &[u8]) -> std::result::Result<(), String> {
        let kind = ValueType::from_tag(tag).ok_or_else(|| format!("unknown value type {tag}"))?;
        edit::check(tag, edits).map_err(|why| format!("bad {} edits: {why}", kind.as_str()))
    }

    /// Removes `key` if present, without events: recovery's DEL.
    pub fn restore_del(&self, key: &[u8]) -> Result<()> {
        self.write_key(key, |map, hash| drop(map.remove(hash, key)))
    }
}
