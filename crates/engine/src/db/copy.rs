//! COPY and MOVE: a key's value and deadline copied, or moved, to another
//! key or to another `Db`.
//!
//! Owns their Redis semantics and events. Both ends are locked together:
//! within one `Db` by one atomic batch, across two `Db`s by one batch on
//! each, always taken in the same order (by the keyspaces' addresses), so
//! that two transfers in opposite directions cannot deadlock.

use super::access::{live, live_slot, sealed::Access, take_live};
use super::{Db, Tx};
use crate::error::{Error, Result};
use std::sync::Arc;

/// What a transfer does with the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transfer {
    /// COPY: the source stays; `replace` lets it overwrite a live `dst`.
    Copy { replace: bool },
    /// MOVE: the source goes, and a live `dst` blocks it.
    Move,
}

/// Copies or moves the live entry at `src` in `from` to `dst` in `to`.
/// Returns whether it did; nothing changes when it did not.
fn transfer<A: Access + ?Sized, B: Access + ?Sized>(
    from: &A,
    to: &B,
    src: &[u8],
    dst: &[u8],
    kind: Transfer,
) -> Result<bool> {
    let (fc, tc) = (from.ctx(), to.ctx());
    tc.check_len(dst.len())?;
    // COPY's source is a read lookup in Redis (a keyspace hit or miss),
    // MOVE's a write's; a destination is never counted.
    let read_src = || from.read_key(src, |m, h| live(m, h, src, fc).map(|e| e.with_key(dst)));
    let built = match kind {
        Transfer::Copy { .. } => read_src(),
        _ => crate::lookups::quietly(read_src),
    }?;
    let new = match built {
        Some(Some(new)) => new,
        Some(None) => return Err(tc.too_large()),
        None => {
            // An expired source is removed and announced, as Redis's lookup
            // does.
            from.write_key(src, |m, h| drop(live_slot(m, h, src, fc)))?;
            return Ok(false);
        }
    };
    let replace = kind == Transfer::Copy { replace: true };
    if !replace
        && crate::lookups::quietly(|| to.read_key(dst, |m, h| live(m, h, dst, tc).is_some()))?
    {
        return Ok(false);
    }
    let replaced = to.write_key(dst, |m, h| {
        // A replaced destination goes without a `del` event, as in Redis.
        let replaced = take_live(m, h, dst, tc);
        let mut new = new;
        new.set_version(m.next_version());
        m.insert_new(h, new);
        tc.notify_new(dst);
        replaced
    })?;
    drop(replaced);
    match kind {
        Transfer::Copy { .. } => tc.notify_generic("copy_to", dst),
        Transfer::Move => {
            let old = from.write_key(src, |m, h| take_live(m, h, src, fc))?;
            drop(old);
            fc.notify_generic("move_from", src);
            tc.notify_generic("move_to", dst);
        }
    }
    Ok(true)
}

impl Db {
    /// COPY `src` to `dst` in this keyspace, with its deadline. Returns
    /// whether it copied: not when `src` is missing, nor when `dst` exists
    /// and `replace` is false. Atomic.
    ///
    /// Errors: `SameObject` when `src` and `dst` are the same key,
    /// `ValueTooLarge` for an oversized `dst`.
    pub fn copy(&self, src: &[u8], dst: &[u8], replace: bool) -> Result<bool> {
        if src == dst {
            return Err(Error::SameObject);
        }
        let kind = Transfer::Copy { replace };
        self.settled(self.atomically(&[src, dst], |tx| transfer(tx, tx, src, dst, kind)))
    }

    /// COPY `src` to `dst` in another keyspace `to` (Redis's `COPY ... DB`).
    /// Both keys are locked together, so no one sees half of it.
    ///
    /// Errors: as `copy`; `SameObject` if `to` is this keyspace and the
    /// keys are equal.
    pub fn copy_to(&self, src: &[u8], to: &Db, dst: &[u8], replace: bool) -> Result<bool> {
        if Arc::ptr_eq(&self.ks, &to.ks) {
            return self.copy(src, dst, replace);
        }
        let kind = Transfer::Copy { replace };
        self.settled(self.across(src, to, dst, |a, b| transfer(a, b, src, dst, kind)))
    }

    /// MOVE `key` to keyspace `to`, with its deadline. Returns whether it
    /// moved: not when the key is missing here or exists there.
    ///
    /// Errors: `SameObject` if `to` is this keyspace.
    pub fn move_to(&self, key: &[u8], to: &Db) -> Result<bool> {
        if Arc::ptr_eq(&self.ks, &to.ks) {
            return Err(Error::SameObject);
        }
        self.settled(self.across(key, to, key, |a, b| {
            transfer(a, b, key, key, Transfer::Move)
        }))
    }

    /// Runs `f` with `here` locked in this keyspace and `there` in `other`.
    /// The two batches are always taken in address order: a transfer the
    /// other way round takes them in the same order, so neither can wait
    /// for the other.
    fn across<R>(
        &self,
        here: &[u8],
        other: &Db,
        there: &[u8],
        f: impl FnOnce(&Tx<'_>, &Tx<'_>) -> R,
    ) -> R {
        if Arc::as_ptr(&self.ks) < Arc::as_ptr(&other.ks) {
            self.atomically(&[here], |a| other.atomically(&[there], |b| f(a, b)))
        } else {
            other.atomically(&[there], |b| self.atomically(&[here], |a| f(a, b)))
        }
    }
}
