//! `KeyValue`: the key-value operations, with Redis semantics.
//!
//! Owns the public surface of operations on keys. It is implemented by
//! `Db`, where each call locks the one shard it needs, and by `Tx`, where an
//! atomic batch already holds the locks; the semantics live in the
//! per-command modules and are written once.
//!
//! Every method returns `Result`. On a `Db` only the documented Redis
//! errors occur; on a `Tx` a key the batch did not declare also fails with
//! `Error::KeyNotInBatch`.

use super::access::{delete, live, peek, sealed::Access};
use super::expire::{self, deadline_for_expire};
use super::types::{ExpireCondition, Expiry, SetCondition, SetOptions, SetOutcome, SetTtl};
use super::watch::Watch;
use super::{counters, keys, strings};
use crate::entry::{Entry, ValueType};
use crate::error::{Error, Result};
use bytes::Bytes;

/// Operations on keys. Import it to call them on a `Db` or `Tx`.
pub trait KeyValue: Access {
    /// GET: the value, or `None` if the key does not exist.
    fn get(&self, key: &[u8]) -> Result<Option<Bytes>> {
        self.read_key(key, |m, h| strings::get(m, h, key, self.ctx()))?
    }

    /// GET without copying: runs `f` on the value (or `None`) while the
    /// shard's read lock is held, so a server can write the value straight
    /// into its output buffer. Keep `f` short: writers to this shard wait.
    fn get_with<R>(&self, key: &[u8], f: impl FnOnce(Option<&[u8]>) -> R) -> Result<R> {
        self.read_key(key, |m, h| {
            let value = live(m, h, key, self.ctx()).map(strings::string_value);
            value.transpose().map(f)
        })?
    }

    /// OBJECT ENCODING: Redis's name for how the value is stored, `None`
    /// if the key does not exist; `string` names a string's encoding.
    fn encoding(
        &self,
        key: &[u8],
        string: impl FnOnce(&[u8]) -> &'static str,
    ) -> Result<Option<&'static str>> {
        self.read_key(key, |m, h| {
            super::access::peek_counted(m, h, key, self.ctx()).map(|e| match e.collection() {
                Some(c) => c.encoding(),
                None => string(e.value()),
            })
        })
    }

    /// SET with Redis 7's options (NX, XX, GET, EX, PX, EXAT, PXAT, KEEPTTL).
    ///
    /// Errors: `InvalidExpireTime` for a non-positive or overflowing expiry
    /// (checked first, as Redis does), `ValueTooLarge`.
    fn set(&self, key: &[u8], value: &[u8], opts: SetOptions) -> Result<SetOutcome> {
        let op = |m: &mut _, h| strings::set(m, h, key, value, opts, self.ctx());
        // A SET that neither reads the old value (GET), nor depends on the
        // key existing (NX, XX), nor keeps its TTL replaces whatever was
        // there: it may skip any older copy.
        let blind = !opts.get && opts.condition == SetCondition::Always && opts.ttl != SetTtl::Keep;
        if blind {
            self.write_key_blind(key, op)?
        } else {
            self.write_key(key, op)?
        }
    }

    /// GETDEL: removes the key, returning its value.
    fn get_del(&self, key: &[u8]) -> Result<Option<Bytes>> {
        let removed = self.write_key(key, |m, h| strings::get_del(m, h, key, self.ctx()))??;
        Ok(removed.as_ref().map(Entry::value_bytes))
    }

    /// GETEX: the value, with the key's expiry changed as `ttl` says:
    /// `Keep` leaves it, `Clear` removes it (PERSIST), `At` sets it, and a
    /// deadline already past deletes the key (after reading it), as in
    /// Redis.
    ///
    /// Errors: `InvalidExpireTime` for a non-positive or overflowing time
    /// (checked first, as Redis does).
    fn get_ex(&self, key: &[u8], ttl: SetTtl) -> Result<Option<Bytes>> {
        let when = match ttl {
            SetTtl::At(e) => Some(expire::deadline_for_set(e, self.ctx())?),
            SetTtl::Keep | SetTtl::Clear => None,
        };
        self.write_key(key, |m, h| expire::get_ex(m, h, key, when, ttl, self.ctx()))?
    }

    /// DEL: removes the keys, returning how many existed.
    fn del<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<usize> {
        let mut n = 0;
        for key in keys {
            let key = key.as_ref();
            let removed = self.write_key(key, |m, h| delete(m, h, key, self.ctx()))?;
            n += usize::from(removed.is_some());
        }
        Ok(n)
    }

    /// EXISTS: how many of the keys exist (a repeated key counts each time).
    fn exists<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<usize> {
        let mut n = 0;
        for key in keys {
            let key = key.as_ref();
            let found = self.read_key(key, |m, h| {
                super::access::peek_counted(m, h, key, self.ctx()).is_some()
            })?;
            n += usize::from(found);
        }
        Ok(n)
    }

    /// MGET: the values of the keys, `None` for each missing one.
    fn mget<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<Vec<Option<Bytes>>> {
        keys.iter()
            .map(|k| {
                let k = k.as_ref();
                self.read_key(k, |m, h| strings::get_or_none(m, h, k, self.ctx()))
            })
            .collect()
    }

    /// MSET: sets every pair, removing any expiry.
    fn mset<K: AsRef<[u8]>, V: AsRef<[u8]>>(&self, pairs: &[(K, V)]) -> Result<()> {
        for (k, v) in pairs {
            self.set(k.as_ref(), v.as_ref(), SetOptions::default())?;
        }
        Ok(())
    }

    /// MSETNX: sets every pair only if none of the keys exists.
    fn msetnx<K: AsRef<[u8]>, V: AsRef<[u8]>>(&self, pairs: &[(K, V)]) -> Result<bool> {
        for (k, _) in pairs {
            if self.exists(&[k.as_ref()])? > 0 {
                return Ok(false);
            }
        }
        self.mset(pairs)?;
        Ok(true)
    }

    /// RENAME: moves `src`'s value and expiry to `dst`, replacing whatever
    /// `dst` held. On a `Db` this is atomic.
    ///
    /// Errors: `NoSuchKey` if `src` does not exist.
    fn rename(&self, src: &[u8], dst: &[u8]) -> Result<()> {
        keys::rename(self, src, dst, false).map(|_| ())
    }

    /// RENAMENX: like `rename`, but only if `dst` does not exist; returns
    /// whether it renamed.
    ///
    /// Errors: `NoSuchKey` if `src` does not exist.
    fn rename_nx(&self, src: &[u8], dst: &[u8]) -> Result<bool> {
        keys::rename(self, src, dst, true)
    }

    /// INCRBY (and INCR, DECR): adds `delta` to the integer stored at the
    /// key (0 if missing) and returns the result.
    ///
    /// Errors: `NotInteger` if the value is not an integer in Redis's
    /// syntax, `Overflow` if the result leaves `i64`.
    fn incr_by(&self, key: &[u8], delta: i64) -> Result<i64> {
        self.write_key(key, |m, h| counters::incr_by(m, h, key, delta, self.ctx()))?
    }

    /// DECRBY: subtracts `delta`.
    ///
    /// Errors: as `incr_by`, and `DecrementOverflow` for `i64::MIN`, which
    /// cannot be negated (checked before the key is read, as in Redis).
    fn decr_by(&self, key: &[u8], delta: i64) -> Result<i64> {
        let negated = delta.checked_neg().ok_or(Error::DecrementOverflow)?;
        self.incr_by(key, negated)
    }

    /// INCRBYFLOAT: adds the decimal `increment` (Redis's float syntax) and
    /// returns the new value's text, computed and formatted as Redis does.
    ///
    /// Errors: `NotFloat`, `NanOrInfinity`.
    fn incr_by_float(&self, key: &[u8], increment: &[u8]) -> Result<Bytes> {
        self.write_key(key, |m, h| {
            counters::incr_by_float(m, h, key, increment, self.ctx())
        })?
    }

    /// APPEND: appends to the value (creating the key) and returns the new
    /// length.
    fn append(&self, key: &[u8], tail: &[u8]) -> Result<usize> {
        self.write_key(key, |m, h| strings::append(m, h, key, tail, self.ctx()))?
    }

    /// STRLEN: the value's length, 0 if missing.
    fn strlen(&self, key: &[u8]) -> Result<usize> {
        self.read_key(key, |m, h| strings::strlen(m, h, key, self.ctx()))?
    }

    /// GETRANGE: the bytes from `start` to `end` inclusive; negative
    /// indexes count from the end.
    fn get_range(&self, key: &[u8], start: i64, end: i64) -> Result<Bytes> {
        self.read_key(key, |m, h| {
            strings::get_range(m, h, key, start, end, self.ctx())
        })?
    }

    /// SETRANGE: overwrites from `offset`, zero-padding, and returns the
    /// new length. An empty `value` changes nothing (and creates nothing).
    fn set_range(&self, key: &[u8], offset: usize, value: &[u8]) -> Result<usize> {
        self.write_key(key, |m, h| {
            strings::set_range(m, h, key, offset, value, self.ctx())
        })?
    }

    /// EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT with NX, XX, GT or LT.
    /// Returns whether the expiry was set. A deadline already past deletes
    /// the key (and returns true), as in Redis.
    ///
    /// Errors: `InvalidExpireTime` when converting the time overflows.
    fn expire(&self, key: &[u8], expiry: Expiry, cond: ExpireCondition) -> Result<bool> {
        let when = deadline_for_expire(expiry, self.ctx())?;
        self.write_key(key, |m, h| {
            expire::expire(m, h, key, when, cond, self.ctx())
        })
    }

    /// PERSIST: removes the expiry; returns whether there was one.
    fn persist(&self, key: &[u8]) -> Result<bool> {
        self.write_key(key, |m, h| expire::persist(m, h, key, self.ctx()))
    }

    /// TTL in seconds (rounded), -1 without expiry, -2 if missing.
    fn ttl(&self, key: &[u8]) -> Result<i64> {
        let d = self.read_key(key, |m, h| expire::deadline(m, h, key, self.ctx()))?;
        Ok(expire::ttl(d, self.ctx()))
    }

    /// PTTL in milliseconds, -1 without expiry, -2 if missing.
    fn pttl(&self, key: &[u8]) -> Result<i64> {
        let d = self.read_key(key, |m, h| expire::deadline(m, h, key, self.ctx()))?;
        Ok(expire::pttl(d, self.ctx()))
    }

    /// EXPIRETIME: the deadline as a Unix time in seconds, -1, or -2.
    fn expire_time(&self, key: &[u8]) -> Result<i64> {
        Ok(match self.pexpire_time(key)? {
            t if t < 0 => t,
            t => t / 1000,
        })
    }

    /// PEXPIRETIME: the deadline as a Unix time in milliseconds, -1, or -2.
    fn pexpire_time(&self, key: &[u8]) -> Result<i64> {
        let d = self.read_key(key, |m, h| expire::deadline(m, h, key, self.ctx()))?;
        Ok(expire::expire_time_ms(d))
    }

    /// TYPE: the value's type, `None` if the key does not exist.
    fn key_type(&self, key: &[u8]) -> Result<Option<ValueType>> {
        self.read_key(key, |m, h| {
            super::access::peek_counted(m, h, key, self.ctx()).map(Entry::value_type)
        })
    }

    /// The entry's version, `None` if the key does not exist: the low 32
    /// bits of its shard's write count when the key was last written.
    /// Every write changes it, unless it lands 2^32 writes of the shard
    /// later; to tell whether a key changed, use `watch` and `unchanged`.
    fn version(&self, key: &[u8]) -> Result<Option<u32>> {
        self.read_key(key, |m, h| peek(m, h, key, self.ctx()).map(Entry::version))
    }

    /// WATCH: what `unchanged` compares the key with later.
    fn watch(&self, key: &[u8]) -> Result<Watch> {
        self.read_key_with_active(key, |m, active, h| {
            let live = peek(m, h, key, self.ctx()).is_some();
            Watch::record(m.get(h, key), live, active)
        })
    }

    /// Whether `key` is as `watch` saw it: never true if it was written,
    /// deleted or expired since; false, now and then, for a key that was
    /// not (after a resize, for one), which costs a WATCH client a retry.
    fn unchanged(&self, key: &[u8], watch: &Watch) -> Result<bool> {
        self.read_key_with_active(key, |m, active, h| {
            let live = peek(m, h, key, self.ctx()).is_some();
            watch.holds(m.get(h, key), live, active)
        })
    }
}
