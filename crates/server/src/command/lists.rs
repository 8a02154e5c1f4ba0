//! List commands: LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP, LLEN, LRANGE,
//! LINDEX, LSET, LINSERT, LREM, LTRIM, LPOS, LMOVE, RPOPLPUSH, LMPOP.
//!
//! Owns reading their arguments, in the order Redis checks them (options
//! before the key, so a syntax error wins over WRONGTYPE), and the shape
//! of their replies. The semantics live in the engine
//! (`tandem_engine::Lists`); the blocking forms are in `list_blocking.rs`.

use super::args::{int, is, mpop};
use super::spec::{flags::*, spec, Spec};
use super::{Call, CmdResult, Reject};
use tandem_engine::{Bytes, End, PosOptions};

pub(super) const COMMANDS: &[Spec] = &[
    spec("lpush", -3, WRITE | DENYOOM | FAST, (1, 1, 1), lpush),
    spec("rpush", -3, WRITE | DENYOOM | FAST, (1, 1, 1), rpush),
    spec("lpushx", -3, WRITE | DENYOOM | FAST, (1, 1, 1), lpushx),
    spec("rpushx", -3, WRITE | DENYOOM | FAST, (1, 1, 1), rpushx),
    spec("lpop", -2, WRITE | FAST, (1, 1, 1), lpop),
    spec("rpop", -2, WRITE | FAST, (1, 1, 1), rpop),
    spec("llen", 2, READONLY | FAST, (1, 1, 1), llen),
    spec("lrange", 4, READONLY, (1, 1, 1), lrange),
    spec("lindex", 3, READONLY, (1, 1, 1), lindex),
    spec("lset", 4, WRITE | DENYOOM, (1, 1, 1), lset),
    spec("linsert", 5, WRITE | DENYOOM, (1, 1, 1), linsert),
    spec("lrem", 4, WRITE, (1, 1, 1), lrem),
    spec("ltrim", 4, WRITE, (1, 1, 1), ltrim),
    spec("lpos", -3, READONLY, (1, 1, 1), lpos),
    spec("lmove", 5, WRITE | DENYOOM, (1, 2, 1), lmove),
    spec("rpoplpush", 3, WRITE | DENYOOM, (1, 2, 1), rpoplpush),
    spec("lmpop", -4, WRITE | MOVABLE_KEYS, (0, 0, 0), lmpop),
];

fn push(c: &mut Call<'_>, end: End, only_existing: bool) -> CmdResult {
    let n = c.kv().push(c.arg(1), end, c.args_from(2), only_existing)?;
    c.out.count(n);
    Ok(())
}

fn lpush(c: &mut Call<'_>) -> CmdResult {
    push(c, End::Left, false)
}

fn rpush(c: &mut Call<'_>) -> CmdResult {
    push(c, End::Right, false)
}

fn lpushx(c: &mut Call<'_>) -> CmdResult {
    push(c, End::Left, true)
}

fn rpushx(c: &mut Call<'_>) -> CmdResult {
    push(c, End::Right, true)
}

/// A count that must be positive (0 allowed), as Redis's
/// `getPositiveLongFromObjectOrReply` reads it.
fn positive(arg: &[u8]) -> Result<usize, Reject> {
    int(arg)
        .ok()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or(Reject::Static(
            "ERR value is out of range, must be positive",
        ))
}

fn pop(c: &mut Call<'_>, end: End) -> CmdResult {
    let count = match c.args_from(2) {
        [] => None,
        [count] => Some(positive(count)?),
        _ => return Err(Reject::Syntax),
    };
    let popped = c.kv().pop(c.arg(1), end, count.unwrap_or(1))?;
    match (popped, count) {
        (None, None) => c.out.null(),
        (None, Some(_)) => c.out.null_array(),
        (Some(p), None) => c.out.bulk_or_null(p.first().map(|b| &b[..])),
        (Some(p), Some(_)) => c.out.bulks(p.iter()),
    }
    Ok(())
}

fn lpop(c: &mut Call<'_>) -> CmdResult {
    pop(c, End::Left)
}

fn rpop(c: &mut Call<'_>) -> CmdResult {
    pop(c, End::Right)
}

fn llen(c: &mut Call<'_>) -> CmdResult {
    let n = c.kv().llen(c.arg(1))?;
    c.out.count(n);
    Ok(())
}

fn lrange(c: &mut Call<'_>) -> CmdResult {
    let (start, stop) = (int(c.arg(2))?, int(c.arg(3))?);
    let items = c.kv().lrange(c.arg(1), start, stop)?;
    c.out.bulks(items.iter());
    Ok(())
}

fn lindex(c: &mut Call<'_>) -> CmdResult {
    let index = int(c.arg(2))?;
    let item = c.kv().lindex(c.arg(1), index)?;
    c.out.bulk_or_null(item.as_deref());
    Ok(())
}

fn lset(c: &mut Call<'_>) -> CmdResult {
    let index = int(c.arg(2))?;
    c.kv().lset(c.arg(1), index, c.arg(3))?;
    c.out.ok();
    Ok(())
}

fn linsert(c: &mut Call<'_>) -> CmdResult {
    let before = match c.arg(2) {
        w if is(w, "before") => true,
        w if is(w, "after") => false,
        _ => return Err(Reject::Syntax),
    };
    let n = c.kv().linsert(c.arg(1), before, c.arg(3), c.arg(4))?;
    c.out.int(n);
    Ok(())
}

fn lrem(c: &mut Call<'_>) -> CmdResult {
    let count = int(c.arg(2))?;
    let n = c.kv().lrem(c.arg(1), count, c.arg(3))?;
    c.out.count(n);
    Ok(())
}

fn ltrim(c: &mut Call<'_>) -> CmdResult {
    let (start, stop) = (int(c.arg(2))?, int(c.arg(3))?);
    c.kv().ltrim(c.arg(1), start, stop)?;
    c.out.ok();
    Ok(())
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len].
fn lpos(c: &mut Call<'_>) -> CmdResult {
    let mut opts = PosOptions {
        rank: 1,
        count: None,
        maxlen: 0,
    };
    let mut words = c.args_from(3).iter();
    while let Some(word) = words.next() {
        let value = *words.next().ok_or(Reject::Syntax)?;
        if is(word, "rank") {
            opts.rank = int(value)?;
            if opts.rank == 0 {
                return Err(Reject::Static(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                ));
            }
        } else if is(word, "count") {
            let n = int(value)?;
            let n =
                usize::try_from(n).map_err(|_| Reject::Static("ERR COUNT can't be negative"))?;
            opts.count = Some(n);
        } else if is(word, "maxlen") {
            let n = int(value)?;
            opts.maxlen =
                usize::try_from(n).map_err(|_| Reject::Static("ERR MAXLEN can't be negative"))?;
        } else {
            return Err(Reject::Syntax);
        }
    }
    let found = c.kv().lpos(c.arg(1), c.arg(2), opts)?;
    match (found, opts.count) {
        (found, Some(_)) => {
            let found = found.unwrap_or_default();
            c.out.array(found.len());
            for p in found {
                c.out.count(p);
            }
        }
        (Some(found), None) => match found.first() {
            Some(&p) => c.out.count(p),
            None => c.out.null(),
        },
        (None, None) => c.out.null(),
    }
    Ok(())
}

pub(super) fn end_arg(arg: &[u8]) -> Result<End, Reject> {
    if is(arg, "left") {
        Ok(End::Left)
    } else if is(arg, "right") {
        Ok(End::Right)
    } else {
        Err(Reject::Syntax)
    }
}

fn lmove(c: &mut Call<'_>) -> CmdResult {
    let (from, to) = (end_arg(c.arg(3))?, end_arg(c.arg(4))?);
    let moved = c.kv().lmove(c.arg(1), c.arg(2), from, to)?;
    c.out.bulk_or_null(moved.as_deref());
    Ok(())
}

fn rpoplpush(c: &mut Call<'_>) -> CmdResult {
    let moved = c.kv().lmove(c.arg(1), c.arg(2), End::Right, End::Left)?;
    c.out.bulk_or_null(moved.as_deref());
    Ok(())
}

/// What LMPOP and BLMPOP take after their count of keys: the keys, the
/// end, and how many to pop.
pub(super) struct Mpop<'a> {
    pub keys: &'a [&'a [u8]],
    pub end: End,
    pub count: usize,
}

/// Reads `numkeys key [key ...] LEFT|RIGHT [COUNT count]` as Redis does
/// (see `args::mpop`).
pub(super) fn mpop_args<'a>(numkeys: &[u8], rest: &'a [&'a [u8]]) -> Result<Mpop<'a>, Reject> {
    let (keys, right, count) = mpop(numkeys, rest, ["left", "right"])?;
    let end = if right { End::Right } else { End::Left };
    Ok(Mpop { keys, end, count })
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count].
fn lmpop(c: &mut Call<'_>) -> CmdResult {
    let Mpop { keys, end, count } = mpop_args(c.arg(1), c.args_from(2))?;
    match c.kv().lmpop(keys, end, count)? {
        None => c.out.null_array(),
        Some((key, popped)) => reply_key_and_items(c, &key, &popped),
    }
    Ok(())
}

fn reply_key_and_items(c: &mut Call<'_>, key: &[u8], items: &[Bytes]) {
    c.out.array(2);
    c.out.bulk(key);
    c.out.bulks(items.iter());
}
