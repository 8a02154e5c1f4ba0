//! Transactions: MULTI, EXEC, DISCARD, WATCH and UNWATCH.
//!
//! Owns queueing and running a transaction with Redis's rules: each
//! queued command is answered `+QUEUED`; one that cannot be queued
//! (unknown, wrong arity, `no-multi` such as SHUTDOWN, or any other
//! refusal of `command::admit`) makes EXEC fail with `-EXECABORT`; errors while
//! running are reported per command and the rest still run; a watched key
//! modified (or expired, or deleted) since WATCH makes EXEC reply null.
//!
//! Atomicity comes from the engine's atomic batch: when every queued
//! command works only on its own keys (`ATOMIC`), EXEC locks the shards of
//! all those keys, and of the watched keys, checks the watches and runs
//! the commands on the batch's `Tx`. All keys on one shard take the fast
//! path, one lock. A transaction with a command that reaches beyond its
//! keys (SCAN, FLUSHDB, SELECT, COPY ... DB, INFO, ...) runs its commands
//! one after another instead, each atomic on its own, after checking the
//! watches: taking those commands' locks inside a batch could deadlock.
//!
//! WATCH takes no lock beyond the watched keys' shards: it records what
//! the engine needs to tell whether each key changed (`KeyValue::watch`),
//! and EXEC asks it.

use super::spec::{flags::*, spec, Spec};
use super::{run_counted, Call, CmdResult, Reject, Resolved};
use crate::resp::Out;
use crate::session::{Multi, Session, Watched};
use bytes::Bytes;
use smallvec::SmallVec;
use std::sync::LazyLock;
use tandem_engine::KeyValue;

pub(super) const COMMANDS: &[Spec] = &[
    spec("multi", 1, FAST, (0, 0, 0), multi),
    spec("exec", 1, SKIP_SLOWLOG, (0, 0, 0), exec),
    spec("discard", 1, FAST, (0, 0, 0), discard),
    spec("watch", -2, FAST, (1, -1, 1), watch),
    spec("unwatch", 1, FAST, (0, 0, 0), unwatch),
];

/// Commands EXEC may run inside one atomic batch: each touches only the
/// keys at its declared positions, through `Call::kv`, or no key at all.
const ATOMIC: &[&str] = &[
    "get",
    "set",
    "setnx",
    "setex",
    "psetex",
    "getset",
    "getdel",
    "getex",
    "mget",
    "mset",
    "msetnx",
    "incr",
    "decr",
    "incrby",
    "decrby",
    "incrbyfloat",
    "append",
    "strlen",
    "getrange",
    "substr",
    "setrange",
    "setbit",
    "getbit",
    "bitcount",
    "bitpos",
    "bitop",
    "bitfield",
    "bitfield_ro",
    "lcs",
    "dump",
    "restore",
    "pfadd",
    "pfcount",
    "pfmerge",
    "geoadd",
    "geopos",
    "geodist",
    "geohash",
    "georadius_ro",
    "georadiusbymember_ro",
    "geosearch",
    "geosearchstore",
    "hset",
    "hsetnx",
    "hmset",
    "hget",
    "hmget",
    "hdel",
    "hlen",
    "hexists",
    "hstrlen",
    "hkeys",
    "hvals",
    "hgetall",
    "hincrby",
    "hincrbyfloat",
    "hrandfield",
    "hscan",
    "sadd",
    "srem",
    "scard",
    "sismember",
    "smismember",
    "smembers",
    "srandmember",
    "spop",
    "smove",
    "sinter",
    "sintercard",
    "sinterstore",
    "sunion",
    "sunionstore",
    "sdiff",
    "sdiffstore",
    "sscan",
    "lpush",
    "rpush",
    "lpushx",
    "rpushx",
    "lpop",
    "rpop",
    "llen",
    "lrange",
    "lindex",
    "lset",
    "linsert",
    "lrem",
    "ltrim",
    "lpos",
    "lmove",
    "rpoplpush",
    "lmpop",
    "blpop",
    "brpop",
    "blmove",
    "brpoplpush",
    "blmpop",
    "zadd",
    "zincrby",
    "zrem",
    "zcard",
    "zscore",
    "zmscore",
    "zrank",
    "zrevrank",
    "zcount",
    "zlexcount",
    "zrange",
    "zrevrange",
    "zrangebyscore",
    "zrevrangebyscore",
    "zrangebylex",
    "zrevrangebylex",
    "zremrangebyrank",
    "zremrangebyscore",
    "zremrangebylex",
    "zpopmin",
    "zpopmax",
    "zrandmember",
    "zscan",
    "zunion",
    "zinter",
    "zdiff",
    "zunionstore",
    "zinterstore",
    "zdiffstore",
    "zintercard",
    "zrangestore",
    "zmpop",
    "bzpopmin",
    "bzpopmax",
    "bzmpop",
    "xadd",
    "xlen",
    "xrange",
    "xrevrange",
    "xdel",
    "xtrim",
    "xsetid",
    "xread",
    "xreadgroup",
    "xack",
    "xclaim",
    "xautoclaim",
    "xpending",
    "del",
    "unlink",
    "exists",
    "touch",
    "type",
    "rename",
    "renamenx",
    "expire",
    "pexpire",
    "expireat",
    "pexpireat",
    "ttl",
    "pttl",
    "expiretime",
    "pexpiretime",
    "persist",
    "ping",
    "echo",
    "publish",
    "spublish",
];

/// Whether the command at `index` in `table()` is one of `ATOMIC`: one
/// lookup in a table built once, since a pipeline asks for every request.
pub(crate) fn is_atomic(index: usize) -> bool {
    static BY_INDEX: LazyLock<Vec<bool>> = LazyLock::new(|| {
        super::table()
            .iter()
            // The test-only TANDEM.PANIC touches no key: it may run inside
            // a batch (EXEC's, a script's), where a panic is contained too.
            .map(|s| {
                ATOMIC.contains(&s.name)
                    || (cfg!(feature = "fault-injection") && s.name == "tandem.panic")
            })
            .collect()
    });
    BY_INDEX.get(index).copied().unwrap_or(false)
}

/// Commands that run at once even inside MULTI, as in Redis.
fn runs_now(name: &str) -> bool {
    matches!(
        name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// Inside MULTI, queues an admitted request (see `command::admit`, which
/// has already refused what cannot be queued and doomed the transaction)
/// and answers `+QUEUED`; returns whether it did (otherwise the caller
/// runs the request now).
pub(crate) fn queue(
    args: &[&[u8]],
    cmd: Resolved,
    out: &mut Out,
    session: &mut Session,
    shared: &crate::shared::Shared,
) -> bool {
    let Some(multi) = session.multi.as_mut() else {
        return false;
    };
    if runs_now(cmd.spec.name) {
        return false;
    }
    multi.writes |= cmd.flags() & (WRITE | MAY_REPLICATE) != 0
        && !crate::script::declares_no_writes(args, shared);
    multi.denyoom |= cmd.flags() & super::flags::DENYOOM != 0;
    multi.scripts |= crate::script::runs_script(cmd.spec.name);
    // As Redis: a doomed transaction keeps no more requests, but still
    // answers each one.
    if !multi.failed {
        multi
            .queue
            .push(args.iter().map(|a| Bytes::copy_from_slice(a)).collect());
    }
    out.simple("QUEUED");
    true
}

fn multi(c: &mut Call<'_>) -> CmdResult {
    if c.session.multi.is_some() {
        return Err(Reject::Static("ERR MULTI calls can not be nested"));
    }
    c.session.multi = Some(Multi::default());
    c.out.ok();
    Ok(())
}

fn discard(c: &mut Call<'_>) -> CmdResult {
    if c.session.multi.take().is_none() {
        return Err(Reject::Static("ERR DISCARD without MULTI"));
    }
    c.session.watched.clear();
    c.out.ok();
    Ok(())
}

fn watch(c: &mut Call<'_>) -> CmdResult {
    if c.session.multi.is_some() {
        return Err(Reject::Static("ERR WATCH inside MULTI is not allowed"));
    }
    let db = c.session.db;
    for &key in c.args_from(1) {
        let seen = c.session.watched.iter().any(|w| w.db == db && w.key == key);
        if !seen {
            let seen = c.kv().watch(key)?;
            c.session.watched.push(Watched {
                db,
                key: Bytes::copy_from_slice(key),
                seen,
            });
        }
    }
    c.out.ok();
    Ok(())
}

fn unwatch(c: &mut Call<'_>) -> CmdResult {
    c.session.watched.clear();
    c.out.ok();
    Ok(())
}

/// The keys at a command's declared positions.
fn keys_of<'a>(spec: &Spec, args: &'a [Bytes]) -> super::Keys<'a> {
    let args: SmallVec<[&[u8]; 8]> = args.iter().map(|a| &a[..]).collect();
    super::keys_of(spec, &args)
}

fn exec(c: &mut Call<'_>) -> CmdResult {
    let Some(multi) = c.session.multi.take() else {
        return Err(Reject::Static("ERR EXEC without MULTI"));
    };
    let watched = std::mem::take(&mut c.session.watched);
    if multi.failed {
        // An EXECABORT is EXEC's own error reply, counted by `execute`.
        return Err(Reject::Static(
            "EXECABORT Transaction discarded because of previous errors.",
        ));
    }
    let found: Vec<Resolved> = multi
        .queue
        .iter()
        .filter_map(|args| {
            let args: SmallVec<[&[u8]; 8]> = args.iter().map(|a| &a[..]).collect();
            Resolved::find(&args)
        })
        .collect();
    let atomic = found.len() == multi.queue.len() && found.iter().all(|r| is_atomic(r.index));
    let exec_db = c.session.db;
    // Watched keys of other databases are checked first, on their own.
    for w in watched.iter().filter(|w| w.db != exec_db || !atomic) {
        if !c.shared.dbs.get(w.db).unchanged(&w.key, &w.seen)? {
            c.out.null_array();
            return Ok(());
        }
    }
    if !atomic {
        // Each in the database selected when it runs (a queued SELECT
        // moves the rest); checked when queued, so not admitted again.
        c.out.array(multi.queue.len());
        c.session.in_exec = true;
        // The watches' checks are EXEC's time, not its first command's.
        c.session.turn_clock = None;
        for args in &multi.queue {
            let args: SmallVec<[&[u8]; 8]> = args.iter().map(|a| &a[..]).collect();
            match Resolved::find(&args) {
                Some(cmd)
                    if super::access::refused_at_exec(&cmd, &args, c.out, c.session, c.shared) => {}
                Some(cmd) => super::run(&args, cmd, c.out, c.session, c.shared),
                None => super::execute(&args, c.out, c.session, c.shared),
            }
        }
        c.session.in_exec = false;
        return Ok(());
    }
    let mut keys: Vec<&[u8]> = Vec::new();
    for (cmd, args) in found.iter().zip(&multi.queue) {
        keys.extend(keys_of(cmd.spec, args));
    }
    let mine: Vec<&Watched> = watched.iter().filter(|w| w.db == exec_db).collect();
    keys.extend(mine.iter().map(|w| &w.key[..]));
    let db = c.db();
    c.session.in_exec = true;
    let (out, session, shared) = (&mut *c.out, &mut *c.session, c.shared);
    db.atomically(&keys, |tx| {
        for w in &mine {
            if !tx.unchanged(&w.key, &w.seen).unwrap_or(false) {
                out.null_array();
                return;
            }
        }
        out.array(multi.queue.len());
        // Taking the locks and checking the watches are EXEC's time, not
        // its first command's.
        session.turn_clock = None;
        for (cmd, args) in found.iter().zip(&multi.queue) {
            let args: SmallVec<[&[u8]; 8]> = args.iter().map(|a| &a[..]).collect();
            if super::access::refused_at_exec(cmd, &args, out, session, shared) {
                continue;
            }
            let mut call = Call {
                args: &args,
                out: &mut *out,
                session: &mut *session,
                shared,
                db,
                kv: tx,
            };
            run_counted(&mut call, cmd);
        }
    });
    c.session.in_exec = false;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::lookup;

    #[test]
    fn key_positions_follow_the_spec() {
        let args = |line: &str| -> Vec<Bytes> {
            line.split(' ')
                .map(|w| Bytes::copy_from_slice(w.as_bytes()))
                .collect()
        };
        let keys = |line: &str| -> Vec<Vec<u8>> {
            let a = args(line);
            let spec = lookup(&a[0]).copied();
            spec.map(|s| keys_of(&s, &a).into_iter().map(<[u8]>::to_vec).collect())
                .unwrap_or_default()
        };
        assert_eq!(keys("set k v"), vec![b"k".to_vec()]);
        assert_eq!(keys("mset a 1 b 2"), vec![b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(keys("del a b c").len(), 3);
        assert_eq!(keys("rename a b"), vec![b"a".to_vec(), b"b".to_vec()]);
        assert!(keys("ping").is_empty());
        assert_eq!(
            keys("sintercard 2 a b limit 1"),
            vec![b"a".to_vec(), b"b".to_vec()]
        );
        assert!(keys("sintercard 3 a b").is_empty(), "refused when it runs");
        assert_eq!(keys("sunionstore d a b").len(), 3);
    }

    #[test]
    fn atomic_commands_exist_and_name_their_keys() {
        for name in ATOMIC {
            let spec = lookup(name.as_bytes());
            assert!(spec.is_some(), "{name} is not a command");
        }
        let by_index = crate::command::table()
            .iter()
            .enumerate()
            .filter(|&(i, _)| is_atomic(i))
            .count();
        // Test builds add TANDEM.PANIC (see `is_atomic`).
        let hook = usize::from(cfg!(feature = "fault-injection"));
        assert_eq!(by_index, ATOMIC.len() + hook);
    }
}
