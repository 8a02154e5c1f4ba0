//! `Target`: where a handler's per-key operations go, a `Db` or an atomic
//! batch's `Tx`.
//!
//! Owns the object-safe face of the engine's `KeyValue` trait (whose
//! generic methods a `dyn` cannot call), so one handler serves both a
//! plain request, on the selected `Db`, and a command inside EXEC, on the
//! `Tx` that holds every key of the transaction locked. Only what the
//! handlers use is here.

use crate::resp::Out;
use tandem_engine::bitmap::{BitOp, Field};
use tandem_engine::{
    Aggregate, Bits, Bytes, Dumps, End, ExpireCondition, Expiry, FieldValue, GroupOp, GroupOutcome,
    HashPart, Hashes, HyperLogLogs, KeyValue, Lists, PfDebug, PfDebugReply, Picks, PosOptions,
    Restore, Restored, Result, SetAlgebra, SetOptions, SetOutcome, SetTtl, Sets, Stream,
    StreamEntry, StreamGroups, StreamId, StreamMeta, Streams, Trim, Value, ValueType, Visit, Watch,
    XAdd, XAdded, XRead, ZAddFlags, ZAdded, ZPopped, ZRange, ZRangeBy, ZSetAlgebra, ZSetOp, ZSets,
};

/// The per-key operations handlers use, on a `Db` or a `Tx`.
#[allow(missing_docs)] // Each mirrors the `KeyValue` method of its name.
pub trait Target {
    /// GET, written straight into `out` (a bulk string or the null).
    fn get_into(&self, key: &[u8], out: &mut Out) -> Result<()>;
    fn set(&self, key: &[u8], value: &[u8], opts: SetOptions) -> Result<SetOutcome>;
    fn get_del(&self, key: &[u8]) -> Result<Option<Bytes>>;
    fn get_ex(&self, key: &[u8], ttl: SetTtl) -> Result<Option<Bytes>>;
    fn mget(&self, keys: &[&[u8]]) -> Result<Vec<Option<Bytes>>>;
    fn mset(&self, pairs: &[(&[u8], &[u8])]) -> Result<()>;
    fn msetnx(&self, pairs: &[(&[u8], &[u8])]) -> Result<bool>;
    fn incr_by(&self, key: &[u8], delta: i64) -> Result<i64>;
    fn decr_by(&self, key: &[u8], delta: i64) -> Result<i64>;
    fn incr_by_float(&self, key: &[u8], increment: &[u8]) -> Result<Bytes>;
    fn append(&self, key: &[u8], tail: &[u8]) -> Result<usize>;
    fn strlen(&self, key: &[u8]) -> Result<usize>;
    fn get_range(&self, key: &[u8], start: i64, end: i64) -> Result<Bytes>;
    fn set_range(&self, key: &[u8], offset: usize, value: &[u8]) -> Result<usize>;
    fn del(&self, keys: &[&[u8]]) -> Result<usize>;
    fn exists(&self, keys: &[&[u8]]) -> Result<usize>;
    fn key_type(&self, key: &[u8]) -> Result<Option<ValueType>>;
    fn rename(&self, src: &[u8], dst: &[u8]) -> Result<()>;
    fn rename_nx(&self, src: &[u8], dst: &[u8]) -> Result<bool>;
    fn expire(&self, key: &[u8], expiry: Expiry, cond: ExpireCondition) -> Result<bool>;
    fn persist(&self, key: &[u8]) -> Result<bool>;
    fn ttl(&self, key: &[u8]) -> Result<i64>;
    fn pttl(&self, key: &[u8]) -> Result<i64>;
    fn expire_time(&self, key: &[u8]) -> Result<i64>;
    fn pexpire_time(&self, key: &[u8]) -> Result<i64>;
    /// WATCH: what `KeyValue::unchanged` compares the key with at EXEC.
    fn watch(&self, key: &[u8]) -> Result<Watch>;
    fn hset(&self, key: &[u8], pairs: &[(&[u8], &[u8])]) -> Result<usize>;
    fn hsetnx(&self, key: &[u8], field: &[u8], value: &[u8]) -> Result<bool>;
    fn hdel(&self, key: &[u8], fields: &[&[u8]]) -> Result<usize>;
    fn hincrby(&self, key: &[u8], field: &[u8], delta: i64) -> Result<i64>;
    fn hincrbyfloat(&self, key: &[u8], field: &[u8], increment: &[u8]) -> Result<Bytes>;
    fn hget(&self, key: &[u8], field: &[u8]) -> Result<Option<Bytes>>;
    fn hmget(&self, key: &[u8], fields: &[&[u8]]) -> Result<Vec<Option<Bytes>>>;
    fn hlen(&self, key: &[u8]) -> Result<usize>;
    fn hexists(&self, key: &[u8], field: &[u8]) -> Result<bool>;
    fn hstrlen(&self, key: &[u8], field: &[u8]) -> Result<usize>;
    fn hgetall(&self, key: &[u8], part: HashPart) -> Result<Vec<Bytes>>;
    fn hscan(&self, key: &[u8], cursor: u64, count: usize) -> Result<(u64, Vec<FieldValue>)>;
    /// HRANDFIELD: the pairs `pick` chooses, given the hash's size; `None`
    /// if the key does not exist.
    fn hrandfield(
        &self,
        key: &[u8],
        pick: &mut dyn FnMut(usize) -> Picks,
    ) -> Result<Option<Vec<(Bytes, Bytes)>>>;
    fn sadd(&self, key: &[u8], members: &[&[u8]]) -> Result<usize>;
    fn srem(&self, key: &[u8], members: &[&[u8]]) -> Result<usize>;
    fn scard(&self, key: &[u8]) -> Result<usize>;
    fn smismember(&self, key: &[u8], members: &[&[u8]]) -> Result<Vec<bool>>;
    fn smembers(&self, key: &[u8]) -> Result<Vec<Bytes>>;
    /// SRANDMEMBER: the members `pick` chooses, given the set's size;
    /// `None` if the key does not exist.
    fn srandmember(
        &self,
        key: &[u8],
        pick: &mut dyn FnMut(usize) -> Picks,
    ) -> Result<Option<Vec<Bytes>>>;
    /// SPOP: as `srandmember`, removing what it picks.
    fn spop(&self, key: &[u8], pick: &mut dyn FnMut(usize) -> Picks) -> Result<Option<Vec<Bytes>>>;
    fn sscan(&self, key: &[u8], cursor: u64, count: usize) -> Result<(u64, Vec<Bytes>)>;
    fn combine(&self, op: SetAlgebra, keys: &[&[u8]]) -> Result<Vec<Bytes>>;
    fn sintercard(&self, keys: &[&[u8]], limit: usize) -> Result<usize>;
    fn combine_store(&self, op: SetAlgebra, dst: &[u8], keys: &[&[u8]]) -> Result<usize>;
    fn smove(&self, src: &[u8], dst: &[u8], member: &[u8]) -> Result<bool>;
    /// `f` on the string `key` holds; whether it exists.
    fn read_string(&self, key: &[u8], f: &mut dyn FnMut(&[u8])) -> Result<bool>;
    fn strings(&self, keys: &[&[u8]]) -> Result<Vec<Option<Bytes>>>;
    fn setbit(&self, key: &[u8], offset: u64, on: bool) -> Result<bool>;
    /// DUMP's read: the value handed to `v`, and `Some(deadline)`.
    fn dump_value(&self, key: &[u8], v: &mut dyn Visit) -> Result<Option<Option<u64>>>;
    fn restore_value(&self, key: &[u8], value: Value, how: Restore) -> Result<Restored>;
    fn pfadd(&self, key: &[u8], elements: &[&[u8]], sparse_max: usize) -> Result<bool>;
    fn pfcount_one(&self, key: &[u8]) -> Result<u64>;
    fn pfcount_union(&self, keys: &[&[u8]]) -> Result<u64>;
    fn pfmerge(&self, dst: &[u8], sources: &[&[u8]], sparse_max: usize) -> Result<()>;
    fn pfdebug(&self, key: &[u8], what: PfDebug) -> Result<Option<PfDebugReply>>;
    fn bitfield(&self, key: &[u8], fields: &[Field]) -> Result<Vec<Option<i64>>>;
    fn bitop(&self, op: BitOp, dst: &[u8], keys: &[&[u8]]) -> Result<usize>;
    fn push(&self, key: &[u8], end: End, values: &[&[u8]], only_existing: bool) -> Result<usize>;
    fn pop(&self, key: &[u8], end: End, count: usize) -> Result<Option<Vec<Bytes>>>;
    fn llen(&self, key: &[u8]) -> Result<usize>;
    fn lindex(&self, key: &[u8], index: i64) -> Result<Option<Bytes>>;
    fn lrange(&self, key: &[u8], start: i64, stop: i64) -> Result<Vec<Bytes>>;
    fn lset(&self, key: &[u8], index: i64, value: &[u8]) -> Result<()>;
    fn linsert(&self, key: &[u8], before: bool, pivot: &[u8], value: &[u8]) -> Result<i64>;
    fn lrem(&self, key: &[u8], count: i64, value: &[u8]) -> Result<usize>;
    fn ltrim(&self, key: &[u8], start: i64, stop: i64) -> Result<()>;
    fn lpos(&self, key: &[u8], value: &[u8], opts: PosOptions) -> Result<Option<Vec<usize>>>;
    fn lmove(&self, src: &[u8], dst: &[u8], from: End, to: End) -> Result<Option<Bytes>>;
    fn lmpop(&self, keys: &[&[u8]], end: End, count: usize) -> Result<Option<(Bytes, Vec<Bytes>)>>;
    fn lstore(&self, key: &[u8], items: &[Bytes]) -> Result<usize>;
    fn zadd(
        &self,
        key: &[u8],
        flags: ZAddFlags,
        incr: bool,
        pairs: &[(f64, &[u8])],
    ) -> Result<ZAdded>;
    fn zincrby(&self, key: &[u8], by: f64, member: &[u8]) -> Result<f64>;
    fn zrem(&self, key: &[u8], members: &[&[u8]]) -> Result<usize>;
    fn zcard(&self, key: &[u8]) -> Result<usize>;
    fn zmscore(&self, key: &[u8], members: &[&[u8]]) -> Result<Vec<Option<f64>>>;
    fn zscore_ranges(
        &self,
        key: &[u8],
        ranges: &[(f64, f64)],
        f: &mut dyn FnMut(&[u8], f64) -> bool,
    ) -> Result<bool>;
    fn zstore(&self, dst: &[u8], pairs: &[(f64, &[u8])], event: &'static str) -> Result<usize>;
    fn zrank(&self, key: &[u8], member: &[u8], rev: bool) -> Result<Option<usize>>;
    fn zcount(&self, key: &[u8], by: &ZRangeBy) -> Result<usize>;
    fn zrange(&self, key: &[u8], range: &ZRange) -> Result<Vec<(Bytes, f64)>>;
    fn zremrange(&self, key: &[u8], by: &ZRangeBy) -> Result<usize>;
    fn zpop(&self, key: &[u8], max: bool, count: usize) -> Result<Vec<(Bytes, f64)>>;
    /// ZRANDMEMBER: the members `pick` chooses, given the set's size;
    /// `None` if the key does not exist.
    fn zrandmember(
        &self,
        key: &[u8],
        pick: &mut dyn FnMut(usize) -> Picks,
    ) -> Result<Option<Vec<(Bytes, f64)>>>;
    fn zscan(&self, key: &[u8], cursor: u64, count: usize) -> Result<(u64, Vec<(Bytes, f64)>)>;
    fn zcombine(
        &self,
        op: ZSetOp,
        keys: &[&[u8]],
        weights: &[f64],
        how: Aggregate,
    ) -> Result<Vec<(Bytes, f64)>>;
    fn zcombine_store(
        &self,
        op: ZSetOp,
        dst: &[u8],
        keys: &[&[u8]],
        weights: &[f64],
        how: Aggregate,
    ) -> Result<usize>;
    fn zintercard(&self, keys: &[&[u8]], limit: usize) -> Result<usize>;
    fn zrangestore(&self, dst: &[u8], src: &[u8], range: &ZRange) -> Result<usize>;
    fn zmpop(&self, keys: &[&[u8]], max: bool, count: usize) -> Result<Option<ZPopped>>;
    fn xadd(&self, key: &[u8], add: &XAdd<'_>) -> Result<Option<XAdded>>;
    fn xlen(&self, key: &[u8]) -> Result<u64>;
    fn xrange(
        &self,
        key: &[u8],
        start: StreamId,
        end: StreamId,
        count: Option<usize>,
        rev: bool,
    ) -> Result<Option<Vec<StreamEntry>>>;
    fn xmeta(&self, key: &[u8]) -> Result<Option<(StreamMeta, Option<StreamId>, u64)>>;
    fn xread(&self, key: &[u8], after: StreamId, count: usize, blocked: bool) -> Result<XRead>;
    fn xdel(&self, key: &[u8], ids: &[StreamId]) -> Result<u64>;
    fn xtrim(&self, key: &[u8], trim: Trim) -> Result<u64>;
    fn xsetid(
        &self,
        key: &[u8],
        last_id: StreamId,
        entries_added: Option<u64>,
        max_deleted: StreamId,
    ) -> Result<()>;
    fn xgroup(&self, key: &[u8], op: &GroupOp<'_>) -> Result<GroupOutcome>;
    fn xinspect(&self, key: &[u8], f: &mut dyn FnMut(&Stream)) -> Result<bool>;
}

impl<T> Target for T
where
    T: KeyValue
        + Hashes
        + Sets
        + Lists
        + ZSets
        + ZSetAlgebra
        + Bits
        + Dumps
        + HyperLogLogs
        + Streams
        + StreamGroups,
{
    fn get_into(&self, key: &[u8], out: &mut Out) -> Result<()> {
        // The value goes straight from the shard into the reply buffer.
        self.get_with(key, |v| out.bulk_or_null(v))
    }
    fn set(&self, key: &[u8], value: &[u8], opts: SetOptions) -> Result<SetOutcome> {
        KeyValue::set(self, key, value, opts)
    }
    fn get_del(&self, key: &[u8]) -> Result<Option<Bytes>> {
        KeyValue::get_del(self, key)
    }
    fn get_ex(&self, key: &[u8], ttl: SetTtl) -> Result<Option<Bytes>> {
        KeyValue::get_ex(self, key, ttl)
    }
    fn mget(&self, keys: &[&[u8]]) -> Result<Vec<Option<Bytes>>> {
        KeyValue::mget(self, keys)
    }
    fn mset(&self, pairs: &[(&[u8], &[u8])]) -> Result<()> {
        KeyValue::mset(self, pairs)
    }
    fn msetnx(&self, pairs: &[(&[u8], &[u8])]) -> Result<bool> {
        KeyValue::msetnx(self, pairs)
    }
    fn incr_by(&self, key: &[u8], delta: i64) -> Result<i64> {
        KeyValue::incr_by(self, key, delta)
    }
    fn decr_by(&self, key: &[u8], delta: i64) -> Result<i64> {
        KeyValue::decr_by(self, key, delta)
    }
    fn incr_by_float(&self, key: &[u8], increment: &[u8]) -> Result<Bytes> {
        KeyValue::incr_by_float(self, key, increment)
    }
    fn append(&self, key: &[u8], tail: &[u8]) -> Result<usize> {
        KeyValue::append(self, key, tail)
    }
    fn strlen(&self, key: &[u8]) -> Result<usize> {
        KeyValue::strlen(self, key)
    }
    fn get_range(&self, key: &[u8], start: i64, end: i64) -> Result<Bytes> {
        KeyValue::get_range(self, key, start, end)
    }
    fn set_range(&self, key: &[u8], offset: usize, value: &[u8]) -> Result<usize> {
        KeyValue::set_range(self, key, offset, value)
    }
    fn del(&self, keys: &[&[u8]]) -> Result<usize> {
        KeyValue::del(self, keys)
    }
    fn exists(&self, keys: &[&[u8]]) -> Result<usize> {
        KeyValue::exists(self, keys)
    }
    fn key_type(&self, key: &[u8]) -> Result<Option<ValueType>> {
        KeyValue::key_type(self, key)
    }
    fn rename(&self, src: &[u8], dst: &[u8]) -> Result<()> {
        KeyValue::rename(self, src, dst)
    }
    fn rename_nx(&self, src: &[u8], dst: &[u8]) -> Result<bool> {
        KeyValue::rename_nx(self, src, dst)
    }
    fn expire(&self, key: &[u8], expiry: Expiry, cond: ExpireCondition) -> Result<bool> {
        KeyValue::expire(self, key, expiry, cond)
    }
    fn persist(&self, key: &[u8]) -> Result<bool> {
        KeyValue::persist(self, key)
    }
    fn ttl(&self, key: &[u8]) -> Result<i64> {
        KeyValue::ttl(self, key)
    }
    fn pttl(&self, key: &[u8]) -> Result<i64> {
        KeyValue::pttl(self, key)
    }
    fn expire_time(&self, key: &[u8]) -> Result<i64> {
        KeyValue::expire_time(self, key)
    }
    fn pexpire_time(&self, key: &[u8]) -> Result<i64> {
        KeyValue::pexpire_time(self, key)
    }
    fn watch(&self, key: &[u8]) -> Result<Watch> {
        KeyValue::watch(self, key)
    }
    fn hset(&self, key: &[u8], pairs: &[(&[u8], &[u8])]) -> Result<usize> {
        Hashes::hset(self, key, pairs)
    }
    fn hsetnx(&self, key: &[u8], field: &[u8], value: &[u8]) -> Result<bool> {
        Hashes::hsetnx(self, key, field, value)
    }
    fn hdel(&self, key: &[u8], fields: &[&[u8]]) -> Result<usize> {
        Hashes::hdel(self, key, fields)
    }
    fn hincrby(&self, key: &[u8], field: &[u8], delta: i64) -> Result<i64> {
        Hashes::hincrby(self, key, field, delta)
    }
    fn hincrbyfloat(&self, key: &[u8], field: &[u8], increment: &[u8]) -> Result<Bytes> {
        Hashes::hincrbyfloat(self, key, field, increment)
    }
    fn hget(&self, key: &[u8], field: &[u8]) -> Result<Option<Bytes>> {
        Hashes::hget(self, key, field)
    }
    fn hmget(&self, key: &[u8], fields: &[&[u8]]) -> Result<Vec<Option<Bytes>>> {
        Hashes::hmget(self, key, fields)
    }
    fn hlen(&self, key: &[u8]) -> Result<usize> {
        Hashes::hlen(self, key)
    }
    fn hexists(&self, key: &[u8], field: &[u8]) -> Result<bool> {
        Hashes::hexists(self, key, field)
    }
    fn hstrlen(&self, key: &[u8], field: &[u8]) -> Result<usize> {
        Hashes::hstrlen(self, key, field)
    }
    fn hgetall(&self, key: &[u8], part: HashPart) -> Result<Vec<Bytes>> {
        Hashes::hgetall(self, key, part)
    }
    fn hscan(&self, key: &[u8], cursor: u64, count: usize) -> Result<(u64, Vec<FieldValue>)> {
        Hashes::hscan(self, key, cursor, count)
    }
    fn hrandfield(
        &self,
        key: &[u8],
        pick: &mut dyn FnMut(usize) -> Picks,
    ) -> Result<Option<Vec<(Bytes, Bytes)>>> {
        Hashes::hrandfield(self, key, pick)
    }
    fn sadd(&self, key: &[u8], members: &[&[u8]]) -> Result<usize> {
        Sets::sadd(self, key, members)
    }
    fn srem(&self, key: &[u8], members: &[&[u8]]) -> Result<usize> {
        Sets::srem(self, key, members)
    }
    fn scard(&self, key: &[u8]) -> Result<usize> {
        Sets::scard(self, key)
    }
    fn smismember(&self, key: &[u8], members: &[&[u8]]) -> Result<Vec<bool>> {
        Sets::smismember(self, key, members)
    }
    fn smembers(&self, key: &[u8]) -> Result<Vec<Bytes>> {
        Sets::smembers(self, key)
    }
    fn srandmember(
        &self,
        key: &[u8],
        pick: &mut dyn FnMut(usize) -> Picks,
    ) -> Result<Option<Vec<Bytes>>> {
        Sets::srandmember(self, key, pick)
    }
    fn spop(&self, key: &[u8], pick: &mut dyn FnMut(usize) -> Picks) -> Result<Option<Vec<Bytes>>> {
        Sets::spop(self, key, pick)
    }
    fn sscan(&self, key: &[u8], cursor: u64, count: usize) -> Result<(u64, Vec<Bytes>)> {
        Sets::sscan(self, key, cursor, count)
    }
    fn combine(&self, op: SetAlgebra, keys: &[&[u8]]) -> Result<Vec<Bytes>> {
        Sets::combine(self, op, keys)
    }
    fn sintercard(&self, keys: &[&[u8]], limit: usize) -> Result<usize> {
        Sets::sintercard(self, keys, limit)
    }
    fn combine_store(&self, op: SetAlgebra, dst: &[u8], keys: &[&[u8]]) -> Result<usize> {
        Sets::combine_store(self, op, dst, keys)
    }
    fn smove(&self, src: &[u8], dst: &[u8], member: &[u8]) -> Result<bool> {
        Sets::smove(self, src, dst, member)
    }
    fn read_string(&self, key: &[u8], f: &mut dyn FnMut(&[u8])) -> Result<bool> {
        Ok(self.with_string(key, f)?.is_some())
    }
    fn strings(&self, keys: &[&[u8]]) -> Result<Vec<Option<Bytes>>> {
        Bits::strings(self, keys)
    }
    fn setbit(&self, key: &[u8], offset: u64, on: bool) -> Result<bool> {
        Bits::setbit(self, key, offset, on)
    }
    fn dump_value(&self, key: &[u8], v: &mut dyn Visit) -> Result<Option<Option<u64>>> {
        Dumps::dump_value(self, key, v)
    }
    fn restore_value(&self, key: &[u8], value: Value, how: Restore) -> Result<Restored> {
        Dumps::restore_value(self, key, value, how)
    }
    fn pfadd(&self, key: &[u8], elements: &[&[u8]], sparse_max: usize) -> Result<bool> {
        HyperLogLogs::pfadd(self, key, elements, sparse_max)
    }
    fn pfcount_one(&self, key: &[u8]) -> Result<u64> {
        HyperLogLogs::pfcount_one(self, key)
    }
    fn pfcount_union(&self, keys: &[&[u8]]) -> Result<u64> {
        HyperLogLogs::pfcount_union(self, keys)
    }
    fn pfmerge(&self, dst: &[u8], sources: &[&[u8]], sparse_max: usize) -> Result<()> {
        HyperLogLogs::pfmerge(self, dst, sources, sparse_max)
    }
    fn pfdebug(&self, key: &[u8], what: PfDebug) -> Result<Option<PfDebugReply>> {
        HyperLogLogs::pfdebug(self, key, what)
    }
    fn bitfield(&self, key: &[u8], fields: &[Field]) -> Result<Vec<Option<i64>>> {
        Bits::bitfield(self, key, fields)
    }
    fn bitop(&self, op: BitOp, dst: &[u8], keys: &[&[u8]]) -> Result<usize> {
        Bits::bitop(self, op, dst, keys)
    }
    fn push(&self, key: &[u8], end: End, values: &[&[u8]], only_existing: bool) -> Result<usize> {
        Lists::push(self, key, end, values, only_existing)
    }
    fn pop(&self, key: &[u8], end: End, count: usize) -> Result<Option<Vec<Bytes>>> {
        Lists::pop(self, key, end, count)
    }
    fn llen(&self, key: &[u8]) -> Result<usize> {
        Lists::llen(self, key)
    }
    fn lindex(&self, key: &[u8], index: i64) -> Result<Option<Bytes>> {
        Lists::lindex(self, key, index)
    }
    fn lrange(&self, key: &[u8], start: i64, stop: i64) -> Result<Vec<Bytes>> {
        Lists::lrange(self, key, start, stop)
    }
    fn lset(&self, key: &[u8], index: i64, value: &[u8]) -> Result<()> {
        Lists::lset(self, key, index, value)
    }
    fn linsert(&self, key: &[u8], before: bool, pivot: &[u8], value: &[u8]) -> Result<i64> {
        Lists::linsert(self, key, before, pivot, value)
    }
    fn lrem(&self, key: &[u8], count: i64, value: &[u8]) -> Result<usize> {
        Lists::lrem(self, key, count, value)
    }
    fn ltrim(&self, key: &[u8], start: i64, stop: i64) -> Result<()> {
        Lists::ltrim(self, key, start, stop)
    }
    fn lpos(&self, key: &[u8], value: &[u8], opts: PosOptions) -> Result<Option<Vec<usize>>> {
        Lists::lpos(self, key, value, opts)
    }
    fn lmove(&self, src: &[u8], dst: &[u8], from: End, to: End) -> Result<Option<Bytes>> {
        Lists::lmove(self, src, dst, from, to)
    }
    fn lmpop(&self, keys: &[&[u8]], end: End, count: usize) -> Result<Option<(Bytes, Vec<Bytes>)>> {
        Lists::lmpop(self, keys, end, count)
    }
    fn lstore(&self, key: &[u8], items: &[Bytes]) -> Result<usize> {
        Lists::lstore(self, key, items)
    }
    fn zadd(
        &self,
        key: &[u8],
        flags: ZAddFlags,
        incr: bool,
        pairs: &[(f64, &[u8])],
    ) -> Result<ZAdded> {
        ZSets::zadd(self, key, flags, incr, pairs)
    }
    fn zincrby(&self, key: &[u8], by: f64, member: &[u8]) -> Result<f64> {
        ZSets::zincrby(self, key, by, member)
    }
    fn zrem(&self, key: &[u8], members: &[&[u8]]) -> Result<usize> {
        ZSets::zrem(self, key, members)
    }
    fn zcard(&self, key: &[u8]) -> Result<usize> {
        ZSets::zcard(self, key)
    }
    fn zscore_ranges(
        &self,
        key: &[u8],
        ranges: &[(f64, f64)],
        f: &mut dyn FnMut(&[u8], f64) -> bool,
    ) -> Result<bool> {
        ZSets::zscore_ranges(self, key, ranges, f)
    }
    fn zstore(&self, dst: &[u8], pairs: &[(f64, &[u8])], event: &'static str) -> Result<usize> {
        ZSetAlgebra::zstore(self, dst, pairs, event)
    }
    fn zmscore(&self, key: &[u8], members: &[&[u8]]) -> Result<Vec<Option<f64>>> {
        ZSets::zmscore(self, key, members)
    }
    fn zrank(&self, key: &[u8], member: &[u8], rev: bool) -> Result<Option<usize>> {
        ZSets::zrank(self, key, member, rev)
    }
    fn zcount(&self, key: &[u8], by: &ZRangeBy) -> Result<usize> {
        ZSets::zcount(self, key, by)
    }
    fn zrange(&self, key: &[u8], range: &ZRange) -> Result<Vec<(Bytes, f64)>> {
        ZSets::zrange(self, key, range)
    }
    fn zremrange(&self, key: &[u8], by: &ZRangeBy) -> Result<usize> {
        ZSets::zremrange(self, key, by)
    }
    fn zpop(&self, key: &[u8], max: bool, count: usize) -> Result<Vec<(Bytes, f64)>> {
        ZSets::zpop(self, key, max, count)
    }
    fn zrandmember(
        &self,
        key: &[u8],
        pick: &mut dyn FnMut(usize) -> Picks,
    ) -> Result<Option<Vec<(Bytes, f64)>>> {
        ZSets::zrandmember(self, key, pick)
    }
    fn zscan(&self, key: &[u8], cursor: u64, count: usize) -> Result<(u64, Vec<(Bytes, f64)>)> {
        ZSets::zscan(self, key, cursor, count)
    }
    fn zcombine(
        &self,
        op: ZSetOp,
        keys: &[&[u8]],
        weights: &[f64],
        how: Aggregate,
    ) -> Result<Vec<(Bytes, f64)>> {
        ZSetAlgebra::zcombine(self, op, keys, weights, how)
    }
    fn zcombine_store(
        &self,
        op: ZSetOp,
        dst: &[u8],
        keys: &[&[u8]],
        weights: &[f64],
        how: Aggregate,
    ) -> Result<usize> {
        ZSetAlgebra::zcombine_store(self, op, dst, keys, weights, how)
    }
    fn zintercard(&self, keys: &[&[u8]], limit: usize) -> Result<usize> {
        ZSetAlgebra::zintercard(self, keys, limit)
    }
    fn zrangestore(&self, dst: &[u8], src: &[u8], range: &ZRange) -> Result<usize> {
        ZSetAlgebra::zrangestore(self, dst, src, range)
    }
    fn zmpop(&self, keys: &[&[u8]], max: bool, count: usize) -> Result<Option<ZPopped>> {
        ZSetAlgebra::zmpop(self, keys, max, count)
    }
    fn xadd(&self, key: &[u8], add: &XAdd<'_>) -> Result<Option<XAdded>> {
        Streams::xadd(self, key, add)
    }
    fn xlen(&self, key: &[u8]) -> Result<u64> {
        Streams::xlen(self, key)
    }
    fn xrange(
        &self,
        key: &[u8],
        start: StreamId,
        end: StreamId,
        count: Option<usize>,
        rev: bool,
    ) -> Result<Option<Vec<StreamEntry>>> {
        Streams::xrange(self, key, start, end, count, rev)
    }
    fn xmeta(&self, key: &[u8]) -> Result<Option<(StreamMeta, Option<StreamId>, u64)>> {
        Streams::xmeta(self, key)
    }
    fn xread(&self, key: &[u8], after: StreamId, count: usize, blocked: bool) -> Result<XRead> {
        Streams::xread(self, key, after, count, blocked)
    }
    fn xdel(&self, key: &[u8], ids: &[StreamId]) -> Result<u64> {
        Streams::xdel(self, key, ids)
    }
    fn xtrim(&self, key: &[u8], trim: Trim) -> Result<u64> {
        Streams::xtrim(self, key, trim)
    }
    fn xsetid(
        &self,
        key: &[u8],
        last_id: StreamId,
        entries_added: Option<u64>,
        max_deleted: StreamId,
    ) -> Result<()> {
        Streams::xsetid(self, key, last_id, entries_added, max_deleted)
    }
    fn xgroup(&self, key: &[u8], op: &GroupOp<'_>) -> Result<GroupOutcome> {
        StreamGroups::xgroup(self, key, op)
    }
    fn xinspect(&self, key: &[u8], f: &mut dyn FnMut(&Stream)) -> Result<bool> {
        StreamGroups::xinspect(self, key, f)
    }
}
