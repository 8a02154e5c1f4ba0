//! Sorted set commands across keys: ZUNION, ZINTER, ZDIFF, ZUNIONSTORE,
//! ZINTERSTORE, ZDIFFSTORE, ZINTERCARD, ZRANGESTORE, ZMPOP.
//!
//! Owns reading their arguments in Redis 7.0's order (the count of keys,
//! then every key's type, then WEIGHTS, AGGREGATE, WITHSCORES or LIMIT)
//! and their replies. The semantics live in the engine
//! (`tandem_engine::ZSetAlgebra`).

use super::args::{int, is, mpop};
use super::spec::{flags::*, spec, Spec};
use super::zsets::{range_args, reply_members, reply_score, By};
use super::{Call, CmdResult, Reject};
use tandem_engine::{parse_score, Aggregate, ValueType, ZSetOp};

pub(super) const COMMANDS: &[Spec] = &[
    spec("zunion", -3, READONLY | MOVABLE_KEYS, (0, 0, 0), zunion),
    spec("zinter", -3, READONLY | MOVABLE_KEYS, (0, 0, 0), zinter),
    spec("zdiff", -3, READONLY | MOVABLE_KEYS, (0, 0, 0), zdiff),
    spec(
        "zunionstore",
        -4,
        WRITE | DENYOOM | MOVABLE_KEYS,
        (1, 1, 1),
        zunionstore,
    ),
    spec(
        "zinterstore",
        -4,
        WRITE | DENYOOM | MOVABLE_KEYS,
        (1, 1, 1),
        zinterstore,
    ),
    spec(
        "zdiffstore",
        -4,
        WRITE | DENYOOM | MOVABLE_KEYS,
        (1, 1, 1),
        zdiffstore,
    ),
    spec(
        "zintercard",
        -3,
        READONLY | MOVABLE_KEYS,
        (0, 0, 0),
        zintercard,
    ),
    spec("zrangestore", -5, WRITE | DENYOOM, (1, 2, 1), zrangestore),
    spec("zmpop", -4, WRITE | MOVABLE_KEYS, (0, 0, 0), zmpop),
];

type Args<'a> = &'a [&'a [u8]];

/// The keys after a count of them at `args[0]`, and the arguments after
/// the keys. `command` names the command in Redis's error.
fn keys_after_count<'a>(
    c: &Call<'_>,
    args: &'a [&'a [u8]],
    command: &str,
) -> Result<(Args<'a>, Args<'a>), Reject> {
    let n = int(args.first().copied().unwrap_or_default())?;
    if n < 1 {
        return Err(Reject::Owned(format!(
            "ERR at least 1 input key is needed for '{command}' command"
        )));
    }
    let rest = args.get(1..).unwrap_or_default();
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    let (keys, options) = rest.split_at_checked(n).ok_or(Reject::Syntax)?;
    // Every key's type before any option, as Redis reads them.
    for key in keys {
        // Counted as a keyspace hit or miss when read for the work.
        match tandem_engine::lookups::quietly(|| c.kv().key_type(key))? {
            None | Some(ValueType::ZSet) | Some(ValueType::Set) => {}
            Some(_) => return Err(tandem_engine::Error::WrongType.into()),
        }
    }
    Ok((keys, options))
}

/// WEIGHTS, AGGREGATE and (without a destination) WITHSCORES.
struct Options {
    weights: Vec<f64>,
    how: Aggregate,
    with_scores: bool,
}

fn options(args: &[&[u8]], nkeys: usize, op: ZSetOp, store: bool) -> Result<Options, Reject> {
    let mut o = Options {
        weights: Vec::new(),
        how: Aggregate::Sum,
        with_scores: false,
    };
    let mut at = 0;
    while let Some(word) = args.get(at) {
        let remaining = args.len() - at;
        if op != ZSetOp::Diff && remaining > nkeys && is(word, "weights") {
            o.weights = args
                .get(at + 1..at + 1 + nkeys)
                .unwrap_or_default()
                .iter()
                .map(|w| parse_score(w).ok_or(Reject::Static("ERR weight value is not a float")))
                .collect::<Result<_, _>>()?;
            at += 1 + nkeys;
        } else if op != ZSetOp::Diff && remaining >= 2 && is(word, "aggregate") {
            let how = args.get(at + 1).copied().unwrap_or_default();
            o.how = if is(how, "sum") {
                Aggregate::Sum
            } else if is(how, "min") {
                Aggregate::Min
            } else if is(how, "max") {
                Aggregate::Max
            } else {
                return Err(Reject::Syntax);
            };
            at += 2;
        } else if !store && is(word, "withscores") {
            o.with_scores = true;
            at += 1;
        } else {
            return Err(Reject::Syntax);
        }
    }
    Ok(o)
}

fn combine(c: &mut Call<'_>, op: ZSetOp, name: &str) -> CmdResult {
    let (keys, rest) = keys_after_count(c, c.args_from(1), name)?;
    let o = options(rest, keys.len(), op, false)?;
    let items = c.kv().zcombine(op, keys, &o.weights, o.how)?;
    reply_members(c, &items, o.with_scores);
    Ok(())
}

fn zunion(c: &mut Call<'_>) -> CmdResult {
    combine(c, ZSetOp::Union, "zunion")
}

fn zinter(c: &mut Call<'_>) -> CmdResult {
    combine(c, ZSetOp::Inter, "zinter")
}

fn zdiff(c: &mut Call<'_>) -> CmdResult {
    combine(c, ZSetOp::Diff, "zdiff")
}

fn combine_store(c: &mut Call<'_>, op: ZSetOp, name: &str) -> CmdResult {
    let (keys, rest) = keys_after_count(c, c.args_from(2), name)?;
    let o = options(rest, keys.len(), op, true)?;
    let n = c
        .kv()
        .zcombine_store(op, c.arg(1), keys, &o.weights, o.how)?;
    c.out.count(n);
    Ok(())
}

fn zunionstore(c: &mut Call<'_>) -> CmdResult {
    combine_store(c, ZSetOp::Union, "zunionstore")
}

fn zinterstore(c: &mut Call<'_>) -> CmdResult {
    combine_store(c, ZSetOp::Inter, "zinterstore")
}

fn zdiffstore(c: &mut Call<'_>) -> CmdResult {
    combine_store(c, ZSetOp::Diff, "zdiffstore")
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit].
fn zintercard(c: &mut Call<'_>) -> CmdResult {
    let (keys, rest) = keys_after_count(c, c.args_from(1), "zintercard")?;
    let limit = match rest {
        [] => 0,
        [word, value] if is(word, "limit") => int(value)
            .ok()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or(Reject::Static("ERR LIMIT can't be negative"))?,
        _ => return Err(Reject::Syntax),
    };
    let n = c.kv().zintercard(keys, limit)?;
    c.out.count(n);
    Ok(())
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count].
fn zrangestore(c: &mut Call<'_>) -> CmdResult {
    let (range, _) = range_args(c.args_from(3), By::Rank, false, true, true)?;
    let n = c.kv().zrangestore(c.arg(1), c.arg(2), &range)?;
    c.out.count(n);
    Ok(())
}

/// What ZMPOP and BZMPOP take after their count of keys.
pub(super) struct Mpop<'a> {
    pub keys: &'a [&'a [u8]],
    pub max: bool,
    pub count: usize,
}

/// Reads `numkeys key [key ...] MIN|MAX [COUNT count]` as Redis does
/// (see `args::mpop`).
pub(super) fn mpop_args<'a>(numkeys: &[u8], rest: &'a [&'a [u8]]) -> Result<Mpop<'a>, Reject> {
    let (keys, max, count) = mpop(numkeys, rest, ["min", "max"])?;
    Ok(Mpop { keys, max, count })
}

/// ZMPOP's and BZMPOP's reply: the key, and its members popped, each a
/// pair with its score (in RESP2 too).
pub(super) fn reply_mpop(c: &mut Call<'_>, key: &[u8], items: &[(tandem_engine::Bytes, f64)]) {
    c.out.array(2);
    c.out.bulk(key);
    c.out.array(items.len());
    for (m, s) in items {
        c.out.array(2);
        c.out.bulk(m);
        reply_score(c, *s);
    }
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count].
fn zmpop(c: &mut Call<'_>) -> CmdResult {
    let Mpop { keys, max, count } = mpop_args(c.arg(1), c.args_from(2))?;
    match c.kv().zmpop(keys, max, count)? {
        None => c.out.null_array(),
        Some((key, items)) => reply_mpop(c, &key, &items),
    }
    Ok(())
}
