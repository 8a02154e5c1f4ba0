//! Generic key commands that move a key: RENAME and RENAMENX.
//!
//! Owns their Redis semantics and events. The source and destination may
//! sit on different shards; on a `Db` both are locked by one atomic batch
//! (`KeyValue for Db`), so no one sees the key in both places or in
//! neither.

use super::access::{live, sealed::Access, take_live};
use crate::error::{Error, Result};

/// RENAME (`nx` false) or RENAMENX (`nx` true). Returns whether it renamed.
pub(crate) fn rename<A: Access + ?Sized>(a: &A, src: &[u8], dst: &[u8], nx: bool) -> Result<bool> {
    // A write's lookups: no keyspace hits or misses, as in Redis.
    crate::lookups::quietly(|| rename_quietly(a, src, dst, nx))
}

fn rename_quietly<A: Access + ?Sized>(a: &A, src: &[u8], dst: &[u8], nx: bool) -> Result<bool> {
    let ctx = a.ctx();
    if src == dst {
        // Redis answers without changing anything or announcing events.
        let exists = a.read_key(src, |m, h| live(m, h, src, ctx).is_some())?;
        return if exists {
            Ok(!nx)
        } else {
            Err(Error::NoSuchKey)
        };
    }
    ctx.check_len(dst.len())?;
    if !a.read_key(src, |m, h| live(m, h, src, ctx).is_some())? {
        // An expired source is removed and announced, as Redis's lookup
        // does, before the error.
        a.write_key(src, |m, h| drop(take_live(m, h, src, ctx)))?;
        return Err(Error::NoSuchKey);
    }
    if nx && a.read_key(dst, |m, h| live(m, h, dst, ctx).is_some())? {
        return Ok(false);
    }
    // The source leaves its shard and comes back under the new key; a
    // collection moves by its pointer. Both keys are locked (an atomic
    // batch on a `Db`), so nobody sees it in neither place.
    let taken = a.write_key(src, |m, h| take_live(m, h, src, ctx))?;
    let Some(taken) = taken else {
        return Err(Error::NoSuchKey);
    };
    let new = match taken.into_key(dst) {
        Ok(new) => new,
        Err(back) => {
            a.write_key(src, |m, h| m.insert_new(h, back))?;
            return Err(ctx.too_large());
        }
    };
    let replaced = a.write_key(dst, |m, h| {
        // An expired destination is removed and announced; a live one is
        // replaced without a `del` event, as in Redis.
        let replaced = take_live(m, h, dst, ctx);
        let mut new = new;
        new.set_version(m.next_version());
        m.insert_new(h, new);
        ctx.notify_new(dst);
        replaced
    })?;
    drop(replaced);
    ctx.notify_generic("rename_from", src);
    ctx.notify_generic("rename_to", dst);
    Ok(true)
}
