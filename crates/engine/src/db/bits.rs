//! Bit commands on string values: SETBIT, BITFIELD's writes, BITOP, and
//! the read that GETBIT, BITCOUNT, BITPOS, BITFIELD_RO and LCS share.
//!
//! Owns when a bit command writes and what it logs and announces: as in
//! Redis 7.0, a write that creates the key or lengthens it counts as a
//! change even when no bit differs, and one that changes nothing leaves
//! the key alone (no new version, so a WATCH stays clean; nothing
//! logged; no event). The arithmetic is `crate::bitmap`'s. It must never
//! write past the length it made room for.

use super::access::{delete, live, live_slot, new_entry};
use super::strings::{self, rewrite, string_value};
use super::{Access, Db, SetOptions, Tx};
use crate::bitmap::{self, BitOp, BitStore, Field};
use crate::entry::ValueIn;
use crate::error::Result;
use crate::keyspace::Ctx;
use crate::memtable::{ShardMap, Slot};
use bytes::Bytes;
use std::collections::BTreeMap;

/// Bytes to write into a string, by index, over what it holds.
type Changes = BTreeMap<usize, u8>;

/// A string with changes laid over it, for running fields before knowing
/// whether anything changes.
struct Overlay<'a> {
    base: &'a [u8],
    changes: Changes,
}

impl Overlay<'_> {
    fn byte(&self, i: usize) -> u8 {
        self.changes
            .get(&i)
            .copied()
            .unwrap_or_else(|| self.base.get(i).copied().unwrap_or(0))
    }
}

impl BitStore for Overlay<'_> {
    fn bit(&self, offset: u64) -> bool {
        usize::try_from(offset >> 3).is_ok_and(|i| self.byte(i) & (0x80 >> (offset & 7)) != 0)
    }

    fn set_bit(&mut self, offset: u64, on: bool) {
        let Ok(i) = usize::try_from(offset >> 3) else {
            return;
        };
        let mut b = [self.byte(i)];
        bitmap::set_bit(&mut b, offset & 7, on);
        self.changes.insert(i, b[0]);
    }
}

/// The byte length a write reaching bit `last` needs.
fn bytes_for(last: u64, ctx: &Ctx) -> Result<usize> {
    usize::try_from(last >> 3)
        .ok()
        .and_then(|b| b.checked_add(1))
        .ok_or_else(|| ctx.too_large())
}

/// Writes `changes` into a string of `len` bytes (zero-filled) at `key`,
/// which holds nothing, and announces `event` if there is one.
fn create(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    len: usize,
    changes: &Changes,
    event: Option<&'static str>,
    ctx: &Ctx,
) -> Result<()> {
    let version = map.next_version();
    let mut value = vec![0u8; len];
    apply(&mut value, changes);
    let entry = new_entry(key, ValueIn::Owned(value), version, None, ctx)?;
    map.insert_new(hash, entry);
    ctx.notify_new(key);
    if let Some(event) = event {
        ctx.notify_string(event, key);
    }
    Ok(())
}

/// Makes the string in `slot` at least `len` bytes long (zero-filled) and
/// writes `changes` into it, as `version`; announces `event` if there is
/// one.
fn patch(
    mut slot: Slot<'_>,
    version: u64,
    key: &[u8],
    len: usize,
    changes: &Changes,
    event: Option<&'static str>,
    ctx: &Ctx,
) -> Result<()> {
    let new_len = slot.get().value().len().max(len);
    rewrite(&mut slot, version, new_len, ctx, |bytes| {
        apply(bytes, changes)
    })?;
    if let Some(event) = event {
        ctx.notify_string(event, key);
    }
    Ok(())
}

fn apply(bytes: &mut [u8], changes: &Changes) {
    for (&i, &b) in changes {
        if let Some(slot) = bytes.get_mut(i) {
            *slot = b;
        }
    }
}

fn setbit(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    offset: u64,
    on: bool,
    ctx: &Ctx,
) -> Result<bool> {
    let len = bytes_for(offset, ctx)?;
    ctx.check_len(len)?;
    let i = len - 1;
    let bit = offset & 7;
    let version = map.next_version();
    let Some(slot) = live_slot(map, hash, key, ctx) else {
        let mut b = [0u8];
        bitmap::set_bit(&mut b, bit, on);
        create(
            map,
            hash,
            key,
            len,
            &Changes::from([(i, b[0])]),
            Some("setbit"),
            ctx,
        )?;
        return Ok(false);
    };
    let value = string_value(slot.get())?;
    let mut b = [value.get(i).copied().unwrap_or(0)];
    let old = bitmap::get_bit(&b, bit);
    if value.len() < len || old != on {
        bitmap::set_bit(&mut b, bit, on);
        patch(
            slot,
            version,
            key,
            len,
            &Changes::from([(i, b[0])]),
            Some("setbit"),
            ctx,
        )?;
    }
    Ok(old)
}

/// BITFIELD with at least one write: every field run in order over the
/// string as it stands, the string made long enough for the farthest
/// write first (as Redis does, even if that write then fails).
fn bitfield_write(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    fields: &[Field],
    ctx: &Ctx,
) -> Result<Vec<Option<i64>>> {
    let farthest = fields.iter().filter_map(Field::last_written_bit).max();
    let len = farthest.map_or(Ok(0), |b| bytes_for(b, ctx))?;
    // Redis bounds a field's offset, not its end: a 64-bit field at the
    // last allowed offset reaches 8 bytes past the bound.
    ctx.check_len(len.saturating_sub(8))?;
    let version = map.next_version();
    let slot = live_slot(map, hash, key, ctx);
    let base = match &slot {
        Some(slot) => Some(string_value(slot.get())?),
        None => None,
    };
    let dirty = base.is_none_or(|b| b.len() < len);
    let mut overlay = Overlay {
        base: base.unwrap_or_default(),
        changes: Changes::new(),
    };
    // As Redis counts changes: a write that went through and either made
    // room or changed the field. A FAIL refused changes nothing, though
    // the room made for it stays.
    let mut changes = 0;
    let replies = fields
        .iter()
        .map(|f| {
            let out = f.run(&mut overlay);
            let wrote = f.last_written_bit().is_some() && out.reply.is_some();
            if wrote && (dirty || out.changed) {
                changes += 1;
            }
            out.reply
        })
        .collect::<Vec<_>>();
    let overlay = overlay.changes;
    if !dirty && changes == 0 {
        return Ok(replies);
    }
    let event = (changes > 0).then_some("setbit");
    match slot {
        Some(slot) => patch(slot, version, key, len, &overlay, event, ctx)?,
        None => create(map, hash, key, len, &overlay, event, ctx)?,
    }
    Ok(replies)
}

fn bitop<A: Access + ?Sized>(a: &A, op: BitOp, dst: &[u8], keys: &[&[u8]]) -> Result<usize> {
    let ctx = a.ctx();
    let mut values = Vec::with_capacity(keys.len());
    for k in keys {
        let v = a.read_key(k, |m, h| match live(m, h, k, ctx) {
            Some(e) => string_value(e).map(|_| e.value_bytes()),
            None => Ok(Bytes::new()),
        })??;
        values.push(v);
    }
    let sources: Vec<&[u8]> = values.iter().map(|v| &v[..]).collect();
    let result = bitmap::combine(op, &sources);
    if result.is_empty() {
        drop(a.write_key(dst, |m, h| delete(m, h, dst, ctx))?);
    } else {
        a.write_key(dst, |m, h| {
            strings::set(m, h, dst, &result, SetOptions::default(), ctx)
        })??;
    }
    Ok(result.len())
}

fn strings_of<A: Access + ?Sized>(a: &A, keys: &[&[u8]]) -> Result<Vec<Option<Bytes>>> {
    let ctx = a.ctx();
    let found = keys
        .iter()
        .map(|k| {
            a.read_key(k, |m, h| {
                live(m, h, k, ctx).map(|e| string_value(e).map(|_| e.value_bytes()))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    found.into_iter().map(Option::transpose).collect()
}

/// Bit operations on string values. Import it to call them on a `Db` or
/// `Tx`.
pub trait Bits: Access {
    /// `f` on the string `key` holds (counted as a read); `None` if it
    /// does not exist.
    ///
    /// Errors: `WrongType` if `key` holds another type.
    fn with_string<R>(&self, key: &[u8], f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>> {
        self.read_key(key, |m, h| match live(m, h, key, self.ctx()) {
            Some(e) => string_value(e).map(|v| Some(f(v))),
            None => Ok(None),
        })?
    }

    /// The strings `keys` hold (`None` for a missing key), every key
    /// looked up (and counted) before any is judged: LCS's read.
    ///
    /// Errors: `WrongType` if any holds another type.
    fn strings(&self, keys: &[&[u8]]) -> Result<Vec<Option<Bytes>>> {
        strings_of(self, keys)
    }

    /// SETBIT: sets the bit at `offset` (growing the string, zero-filled),
    /// returning the old bit.
    fn setbit(&self, key: &[u8], offset: u64, on: bool) -> Result<bool> {
        crate::lookups::quietly(|| {
            self.write_key(key, |m, h| setbit(m, h, key, offset, on, self.ctx()))?
        })
    }

    /// BITFIELD and BITFIELD_RO: each field's reply, in order. Without a
    /// write among `fields` nothing is created.
    fn bitfield(&self, key: &[u8], fields: &[Field]) -> Result<Vec<Option<i64>>> {
        if fields.iter().all(|f| f.last_written_bit().is_none()) {
            // Read where they lie: a GET copies nothing of the string.
            let read = |v: &[u8]| fields.iter().map(|f| Some(f.get(v))).collect();
            return Ok(self
                .with_string(key, read)?
                .unwrap_or_else(|| fields.iter().map(|f| Some(f.get(&[][..]))).collect()));
        }
        crate::lookups::quietly(|| {
            self.write_key(key, |m, h| bitfield_write(m, h, key, fields, self.ctx()))?
        })
    }

    /// BITOP: stores `op` over the sources at `dst` (replacing whatever it
    /// held, with no expiry; deleting it when the result is empty) and
    /// returns the result's length.
    fn bitop(&self, op: BitOp, dst: &[u8], keys: &[&[u8]]) -> Result<usize> {
        bitop(self, op, dst, keys)
    }
}

impl Bits for Tx<'_> {}

/// On a `Db`, BITOP runs as one batch, and LCS reads its keys as one
/// snapshot, as both are atomic in Redis.
impl Bits for Db {
    fn strings(&self, keys: &[&[u8]]) -> Result<Vec<Option<Bytes>>> {
        self.snapshot(keys, |tx| strings_of(tx, keys))
    }

    fn bitop(&self, op: BitOp, dst: &[u8], keys: &[&[u8]]) -> Result<usize> {
        let mut all = Vec::with_capacity(keys.len() + 1);
        all.push(dst);
        all.extend_from_slice(keys);
        self.settled(self.atomically(&all, |tx| bitop(tx, op, dst, keys)))
    }
}
