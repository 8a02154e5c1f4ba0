//! Set commands: SADD, SREM, SCARD, SISMEMBER, SMISMEMBER, SMEMBERS,
//! SRANDMEMBER, SPOP, SMOVE, SINTER, SINTERCARD, SINTERSTORE, SUNION,
//! SUNIONSTORE, SDIFF, SDIFFSTORE, SSCAN.
//!
//! Owns reading their arguments, in the order Redis checks them, and the
//! shape of their replies in RESP2 and RESP3 (SMEMBERS, SINTER, SUNION,
//! SDIFF and SPOP with a count answer a set in RESP3; SRANDMEMBER an
//! array, since it may repeat). Random picks follow `pick`'s rules. The
//! semantics live in the engine (`tandem_engine::Sets`).

use super::args::{int, is};
use super::collection_scan::scan_collection;
use super::pick::{count_arg, picks, MAX_REPEATED_PICKS};
use super::spec::{flags::*, spec, Spec};
use super::{Call, CmdResult, Reject};
use tandem_engine::{Bytes, SetAlgebra};

pub(super) const COMMANDS: &[Spec] = &[
    spec("sadd", -3, WRITE | DENYOOM | FAST, (1, 1, 1), sadd),
    spec("srem", -3, WRITE | FAST, (1, 1, 1), srem),
    spec("scard", 2, READONLY | FAST, (1, 1, 1), scard),
    spec("sismember", 3, READONLY | FAST, (1, 1, 1), sismember),
    spec("smismember", -3, READONLY | FAST, (1, 1, 1), smismember),
    spec("smembers", 2, READONLY, (1, 1, 1), smembers),
    spec("srandmember", -2, READONLY, (1, 1, 1), srandmember),
    spec("spop", -2, WRITE | FAST, (1, 1, 1), spop),
    spec("smove", 4, WRITE | FAST, (1, 2, 1), smove),
    spec("sinter", -2, READONLY, (1, -1, 1), sinter),
    spec(
        "sintercard",
        -3,
        READONLY | MOVABLE_KEYS,
        (0, 0, 0),
        sintercard,
    ),
    spec("sinterstore", -3, WRITE | DENYOOM, (1, -1, 1), sinterstore),
    spec("sunion", -2, READONLY, (1, -1, 1), sunion),
    spec("sunionstore", -3, WRITE | DENYOOM, (1, -1, 1), sunionstore),
    spec("sdiff", -2, READONLY, (1, -1, 1), sdiff),
    spec("sdiffstore", -3, WRITE | DENYOOM, (1, -1, 1), sdiffstore),
    spec("sscan", -3, READONLY, (1, 1, 1), sscan),
];

fn sadd(c: &mut Call<'_>) -> CmdResult {
    let n = c.kv().sadd(c.arg(1), c.args_from(2))?;
    c.out.count(n);
    Ok(())
}

fn srem(c: &mut Call<'_>) -> CmdResult {
    let n = c.kv().srem(c.arg(1), c.args_from(2))?;
    c.out.count(n);
    Ok(())
}

fn scard(c: &mut Call<'_>) -> CmdResult {
    let n = c.kv().scard(c.arg(1))?;
    c.out.count(n);
    Ok(())
}

fn sismember(c: &mut Call<'_>) -> CmdResult {
    let found = c.kv().smismember(c.arg(1), &[c.arg(2)])?;
    c.out
        .int(i64::from(found.first().copied().unwrap_or(false)));
    Ok(())
}

fn smismember(c: &mut Call<'_>) -> CmdResult {
    let found = c.kv().smismember(c.arg(1), c.args_from(2))?;
    c.out.array(found.len());
    for f in found {
        c.out.int(i64::from(f));
    }
    Ok(())
}

/// Members as a set reply (an array in RESP2).
fn reply_set(c: &mut Call<'_>, members: &[Bytes]) {
    c.out.set(members.len());
    for m in members {
        c.out.bulk(m);
    }
}

fn smembers(c: &mut Call<'_>) -> CmdResult {
    let members = c.kv().smembers(c.arg(1))?;
    reply_set(c, &members);
    Ok(())
}

fn srandmember(c: &mut Call<'_>) -> CmdResult {
    let mut rng = fastrand::Rng::new();
    let key = c.arg(1);
    let count = match c.args_from(2) {
        [] => {
            let picked = c
                .kv()
                .srandmember(key, &mut |size| picks(1, size, &mut rng))?;
            let member = picked.as_ref().and_then(|p| p.first());
            c.out.bulk_or_null(member.map(|m| &m[..]));
            return Ok(());
        }
        [count] => count_arg(count)?,
        _ => return Err(Reject::Syntax),
    };
    if count < -MAX_REPEATED_PICKS {
        return Err(Reject::Static("ERR value is out of range"));
    }
    let picked = c
        .kv()
        .srandmember(key, &mut |size| picks(count, size, &mut rng))?
        .unwrap_or_default();
    c.out.bulks(picked.iter());
    Ok(())
}

fn spop(c: &mut Call<'_>) -> CmdResult {
    let mut rng = fastrand::Rng::new();
    let key = c.arg(1);
    let count = match c.args_from(2) {
        [] => {
            let popped = c.kv().spop(key, &mut |size| picks(1, size, &mut rng))?;
            let member = popped.as_ref().and_then(|p| p.first());
            c.out.bulk_or_null(member.map(|m| &m[..]));
            return Ok(());
        }
        [count] => int(count).ok().filter(|n| *n >= 0).ok_or(Reject::Static(
            "ERR value is out of range, must be positive",
        ))?,
        _ => return Err(Reject::Syntax),
    };
    // A count of 0 still checks the key's type first, as Redis does.
    let popped = c
        .kv()
        .spop(key, &mut |size| picks(count, size, &mut rng))?
        .unwrap_or_default();
    reply_set(c, &popped);
    Ok(())
}

fn smove(c: &mut Call<'_>) -> CmdResult {
    let moved = c.kv().smove(c.arg(1), c.arg(2), c.arg(3))?;
    c.out.int(i64::from(moved));
    Ok(())
}

fn combine(c: &mut Call<'_>, op: SetAlgebra) -> CmdResult {
    let members = c.kv().combine(op, c.args_from(1))?;
    reply_set(c, &members);
    Ok(())
}

fn combine_store(c: &mut Call<'_>, op: SetAlgebra) -> CmdResult {
    let n = c.kv().combine_store(op, c.arg(1), c.args_from(2))?;
    c.out.count(n);
    Ok(())
}

fn sinter(c: &mut Call<'_>) -> CmdResult {
    combine(c, SetAlgebra::Inter)
}

fn sunion(c: &mut Call<'_>) -> CmdResult {
    combine(c, SetAlgebra::Union)
}

fn sdiff(c: &mut Call<'_>) -> CmdResult {
    combine(c, SetAlgebra::Diff)
}

fn sinterstore(c: &mut Call<'_>) -> CmdResult {
    combine_store(c, SetAlgebra::Inter)
}

fn sunionstore(c: &mut Call<'_>) -> CmdResult {
    combine_store(c, SetAlgebra::Union)
}

fn sdiffstore(c: &mut Call<'_>) -> CmdResult {
    combine_store(c, SetAlgebra::Diff)
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit], checked as Redis does:
/// numkeys, then that the keys fit, then the options (a later LIMIT
/// wins).
fn sintercard(c: &mut Call<'_>) -> CmdResult {
    let numkeys = int(c.arg(1))
        .ok()
        .filter(|n| *n > 0)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or(Reject::Static("ERR numkeys should be greater than 0"))?;
    let rest = c.args_from(2);
    if numkeys > rest.len() {
        return Err(Reject::Static(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    let (keys, options) = rest.split_at(numkeys);
    let mut limit = 0;
    let mut words = options.iter();
    while let Some(word) = words.next() {
        match words.next() {
            Some(value) if is(word, "limit") => {
                limit = int(value)
                    .ok()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or(Reject::Static("ERR LIMIT can't be negative"))?;
            }
            _ => return Err(Reject::Syntax),
        }
    }
    let n = c.kv().sintercard(keys, limit)?;
    c.out.count(n);
    Ok(())
}

/// SSCAN key cursor [MATCH pattern] [COUNT count], in HSCAN's order of
/// checks: the cursor, then the key (a missing one answers an empty step
/// whatever the options), then the options.
fn sscan(c: &mut Call<'_>) -> CmdResult {
    scan_collection(
        c,
        |kv, key| kv.scard(key),
        |kv, key, cursor, count| kv.sscan(key, cursor, count),
        |m| m,
        1,
        |out, m| out.bulk(m),
    )
}
