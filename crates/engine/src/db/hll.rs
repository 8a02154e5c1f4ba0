//! HyperLogLog commands on string values: PFADD, PFCOUNT, PFMERGE and
//! PFDEBUG's writes, with Redis 7.0's rules for when a value changes.
//!
//! Owns reading a key's HyperLogLog under its shard's lock, changing a
//! copy with `crate::hll` (a valid one is at most 12 KiB; a string a
//! client stored may be longer, and is refused or copied whole), and
//! writing it back only when a byte differs, all or nothing (Redis
//! leaves a corrupt sparse value half-edited when PFADD fails on it): PFADD that raises no register leaves the key
//! alone (no version, nothing logged, no event); PFCOUNT stores the
//! cardinality it computed in the header's cache, as Redis does, which
//! WATCH sees but no event announces. It must never write a value that
//! `hll::check` refused.

use super::access::{live, live_slot, new_entry};
use super::strings::string_value;
use super::{Access, Db, Tx};
use crate::entry::{Patch, ValueIn};
use crate::error::{Error, Result};
use crate::hll::{self, Corrupt, REGISTERS};
use crate::keyspace::Ctx;
use crate::memtable::Slot;

impl From<Corrupt> for Error {
    fn from(_: Corrupt) -> Self {
        Error::CorruptHll
    }
}

/// A string checked to be a HyperLogLog, copied out.
fn hll_of(value: &[u8]) -> Result<Vec<u8>> {
    hll::check(value).map_err(|_| Error::NotHll)?;
    Ok(value.to_vec())
}

/// Replaces the value in `slot` with `value`, as `version`, its deadline
/// kept.
fn store(slot: &mut Slot<'_>, value: Vec<u8>, version: u64, ctx: &Ctx) -> Result<()> {
    slot.apply(Patch {
        value: Some(ValueIn::Owned(value)),
        expiry: None,
        version,
    })
    .map_err(|_| ctx.too_large())
}

/// What PFDEBUG asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PfDebug {
    /// GETREG: every register (the value made dense first).
    GetReg,
    /// DECODE: a sparse value's runs.
    Decode,
    /// ENCODING: dense or sparse.
    Encoding,
    /// TODENSE: makes it dense; whether it was sparse.
    ToDense,
}

/// What PFDEBUG answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PfDebugReply {
    /// GETREG's registers.
    Registers(Vec<u8>),
    /// DECODE's text; `None` if the value is dense.
    Decoded(Option<String>),
    /// ENCODING: whether sparse.
    Sparse(bool),
    /// TODENSE: whether it converted.
    Converted(bool),
}

/// The HyperLogLog commands, on a `Db` or inside an atomic batch.
pub trait HyperLogLogs: Access {
    /// PFADD: adds `elements` to the HyperLogLog at `key`, creating it;
    /// whether a register changed (or the key was made).
    ///
    /// Errors: `WrongType` for another type, `NotHll` for a string that
    /// is not one, `CorruptHll` for a broken sparse one.
    fn pfadd(&self, key: &[u8], elements: &[&[u8]], sparse_max: usize) -> Result<bool> {
        let ctx = self.ctx();
        crate::lookups::quietly(|| {
            self.write_key(key, |m, h| {
                let version = m.next_version();
                let Some(mut slot) = live_slot(m, h, key, ctx) else {
                    let mut v = hll::new_sparse();
                    for e in elements {
                        hll::add(&mut v, e, sparse_max)?;
                    }
                    // A PFADD that changed anything (here: made the key)
                    // marks the cache stale, as Redis's does.
                    hll::invalidate(&mut v);
                    let entry = new_entry(key, ValueIn::Owned(v), version, None, ctx)?;
                    m.insert_new(h, entry);
                    ctx.notify_new(key);
                    ctx.notify_string("pfadd", key);
                    return Ok(true);
                };
                let mut v = hll_of(string_value(slot.get())?)?;
                let mut changed = false;
                for e in elements {
                    changed |= hll::add(&mut v, e, sparse_max)?;
                }
                if changed {
                    hll::invalidate(&mut v);
                    store(&mut slot, v, version, ctx)?;
                    ctx.notify_string("pfadd", key);
                }
                Ok(changed)
            })?
        })
    }

    /// PFCOUNT of one key: its cached cardinality, or one computed and
    /// then cached in the value (as Redis caches it).
    fn pfcount_one(&self, key: &[u8]) -> Result<u64> {
        let ctx = self.ctx();
        let cached = self.read_key(key, |m, h| match live(m, h, key, ctx) {
            None => Ok::<_, Error>(Some(0)),
            Some(e) => {
                let v = string_value(e)?;
                hll::check(v).map_err(|_| Error::NotHll)?;
                Ok(hll::cached(v))
            }
        })??;
        if let Some(card) = cached {
            return Ok(card);
        }
        crate::lookups::quietly(|| {
            self.write_key(key, |m, h| {
                let version = m.next_version();
                let Some(mut slot) = live_slot(m, h, key, ctx) else {
                    return Ok(0);
                };
                let mut v = hll_of(string_value(slot.get())?)?;
                if let Some(card) = hll::cached(&v) {
                    return Ok(card);
                }
                let card = hll::count(&v)?;
                hll::set_cached(&mut v, card);
                store(&mut slot, v, version, ctx)?;
                Ok(card)
            })?
        })
    }

    /// PFCOUNT of several keys: the cardinality of their union (missing
    /// keys count as empty); nothing is cached.
    fn pfcount_union(&self, keys: &[&[u8]]) -> Result<u64> {
        let mut max = Box::new([0u8; REGISTERS]);
        for key in keys {
            merge_key(self, key, &mut max)?;
        }
        Ok(hll::count_registers(&max))
    }

    /// PFMERGE: the union of `dst` and `sources` stored at `dst` (dense if
    /// any input was), created if missing.
    fn pfmerge(&self, dst: &[u8], sources: &[&[u8]], sparse_max: usize) -> Result<()> {
        let ctx = self.ctx();
        let mut max = Box::new([0u8; REGISTERS]);
        let mut dense = false;
        for key in std::iter::once(&dst).chain(sources) {
            dense |= merge_key(self, key, &mut max)?;
        }
        crate::lookups::quietly(|| {
            self.write_key(dst, |m, h| {
                let version = m.next_version();
                let slot = live_slot(m, h, dst, ctx);
                let mut v = match &slot {
                    Some(s) => hll_of(string_value(s.get())?)?,
                    None => hll::new_sparse(),
                };
                if dense {
                    v = hll::to_dense(&v)?;
                }
                hll::set_registers(&mut v, &max, sparse_max)?;
                match slot {
                    Some(mut slot) => store(&mut slot, v, version, ctx)?,
                    None => {
                        let entry = new_entry(dst, ValueIn::Owned(v), version, None, ctx)?;
                        m.insert_new(h, entry);
                        ctx.notify_new(dst);
                    }
                }
                ctx.notify_string("pfadd", dst);
                Ok(())
            })?
        })
    }

    /// PFDEBUG on `key`: `None` if it does not exist. GETREG and TODENSE
    /// make a sparse value dense, a change WATCH sees (Redis's does not).
    fn pfdebug(&self, key: &[u8], what: PfDebug) -> Result<Option<PfDebugReply>> {
        let ctx = self.ctx();
        crate::lookups::quietly(|| {
            self.write_key(key, |m, h| {
                let version = m.next_version();
                let Some(mut slot) = live_slot(m, h, key, ctx) else {
                    return Ok(None);
                };
                let v = hll_of(string_value(slot.get())?)?;
                let sparse = hll::is_sparse(&v);
                let reply = match what {
                    PfDebug::Encoding => PfDebugReply::Sparse(sparse),
                    PfDebug::Decode => PfDebugReply::Decoded(match sparse {
                        true => Some(hll::decode(&v)?),
                        false => None,
                    }),
                    PfDebug::GetReg | PfDebug::ToDense => {
                        let registers = hll::registers(&v)?;
                        if sparse {
                            store(&mut slot, hll::to_dense(&v)?, version, ctx)?;
                        }
                        match what {
                            PfDebug::GetReg => PfDebugReply::Registers(registers),
                            _ => PfDebugReply::Converted(sparse),
                        }
                    }
                };
                Ok(Some(reply))
            })?
        })
    }
}

/// Raises `max` to `key`'s registers (a missing key adds nothing);
/// whether its value is dense.
fn merge_key<A: Access + ?Sized>(a: &A, key: &[u8], max: &mut [u8; REGISTERS]) -> Result<bool> {
    a.read_key(key, |m, h| match live(m, h, key, a.ctx()) {
        None => Ok(false),
        Some(e) => {
            let v = string_value(e)?;
            hll::check(v).map_err(|_| Error::NotHll)?;
            hll::merge_into(max, v)?;
            Ok(!hll::is_sparse(v))
        }
    })?
}

impl HyperLogLogs for Tx<'_> {}

/// On a `Db`, PFCOUNT over several keys reads them as one snapshot and
/// PFMERGE runs as one batch, as both are atomic in Redis.
impl HyperLogLogs for Db {
    fn pfcount_union(&self, keys: &[&[u8]]) -> Result<u64> {
        self.snapshot(keys, |tx| tx.pfcount_union(keys))
    }

    fn pfmerge(&self, dst: &[u8], sources: &[&[u8]], sparse_max: usize) -> Result<()> {
        let mut all = Vec::with_capacity(sources.len() + 1);
        all.push(dst);
        all.extend_from_slice(sources);
        self.settled(self.atomically(&all, |tx| tx.pfmerge(dst, sources, sparse_max)))
    }
}
