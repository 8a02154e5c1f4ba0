//! Sorted set commands: ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE,
//! ZRANK, ZREVRANK, ZCOUNT, ZLEXCOUNT, ZRANGE (BYSCORE, BYLEX, REV,
//! LIMIT, WITHSCORES) and its older forms ZREVRANGE, ZRANGEBYSCORE,
//! ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX, the ZREMRANGEBY*
//! commands, ZPOPMIN, ZPOPMAX, ZRANDMEMBER and ZSCAN.
//!
//! Owns reading their arguments in the order Redis 7.0 checks them
//! (options, then scores and ranges, then the key: a syntax error wins
//! over WRONGTYPE), score and lex range syntax, and the shape of their
//! replies (scores as Redis 7.0 prints them; with WITHSCORES, pairs in
//! RESP3). The semantics live in the engine (`tandem_engine::ZSets`).

use super::args::{int, is};
use super::collection_scan::scan_collection;
use super::pick::{check_count, count_arg, picks};
use super::spec::{flags::*, spec, Spec};
use super::{Call, CmdResult, Reject};
use tandem_engine::{
    format_score, parse_score, parse_score_lenient, Bytes, LexBound, ScoreBound, ZAddFlags, ZAdded,
    ZRange, ZRangeBy,
};

pub(super) const COMMANDS: &[Spec] = &[
    spec("zadd", -4, WRITE | DENYOOM | FAST, (1, 1, 1), zadd),
    spec("zincrby", 4, WRITE | DENYOOM | FAST, (1, 1, 1), zincrby),
    spec("zrem", -3, WRITE | FAST, (1, 1, 1), zrem),
    spec("zcard", 2, READONLY | FAST, (1, 1, 1), zcard),
    spec("zscore", 3, READONLY | FAST, (1, 1, 1), zscore),
    spec("zmscore", -3, READONLY | FAST, (1, 1, 1), zmscore),
    spec("zrank", 3, READONLY | FAST, (1, 1, 1), zrank),
    spec("zrevrank", 3, READONLY | FAST, (1, 1, 1), zrevrank),
    spec("zcount", 4, READONLY | FAST, (1, 1, 1), zcount),
    spec("zlexcount", 4, READONLY | FAST, (1, 1, 1), zlexcount),
    spec("zrange", -4, READONLY, (1, 1, 1), zrange),
    spec("zrevrange", -4, READONLY, (1, 1, 1), zrevrange),
    spec("zrangebyscore", -4, READONLY, (1, 1, 1), zrangebyscore),
    spec(
        "zrevrangebyscore",
        -4,
        READONLY,
        (1, 1, 1),
        zrevrangebyscore,
    ),
    spec("zrangebylex", -4, READONLY, (1, 1, 1), zrangebylex),
    spec("zrevrangebylex", -4, READONLY, (1, 1, 1), zrevrangebylex),
    spec("zremrangebyrank", 4, WRITE, (1, 1, 1), zremrangebyrank),
    spec("zremrangebyscore", 4, WRITE, (1, 1, 1), zremrangebyscore),
    spec("zremrangebylex", 4, WRITE, (1, 1, 1), zremrangebylex),
    spec("zpopmin", -2, WRITE | FAST, (1, 1, 1), zpopmin),
    spec("zpopmax", -2, WRITE | FAST, (1, 1, 1), zpopmax),
    spec("zrandmember", -2, READONLY, (1, 1, 1), zrandmember),
    spec("zscan", -3, READONLY, (1, 1, 1), zscan),
];

const NOT_FLOAT: Reject = Reject::Static("ERR value is not a valid float");
const BAD_SCORE_RANGE: Reject = Reject::Static("ERR min or max is not a float");
const BAD_LEX_RANGE: Reject = Reject::Static("ERR min or max not valid string range item");

fn score(arg: &[u8]) -> Result<f64, Reject> {
    parse_score(arg).ok_or(NOT_FLOAT)
}

/// A score range's end as `zslParseRange` reads it: `(x` exclusive.
fn score_bound(arg: &[u8]) -> Result<ScoreBound, Reject> {
    match arg.split_first() {
        Some((b'(', rest)) => Ok(ScoreBound {
            value: parse_score_lenient(rest).ok_or(BAD_SCORE_RANGE)?,
            exclusive: true,
        }),
        _ => Ok(ScoreBound {
            value: parse_score(arg).ok_or(BAD_SCORE_RANGE)?,
            exclusive: false,
        }),
    }
}

/// A lex range's end: `-`, `+`, `[member` or `(member`.
fn lex_bound(arg: &[u8]) -> Result<LexBound, Reject> {
    match arg.split_first() {
        Some((b'-', [])) => Ok(LexBound::Least),
        Some((b'+', [])) => Ok(LexBound::Greatest),
        Some((b'[', rest)) => Ok(LexBound::Inclusive(Bytes::copy_from_slice(rest))),
        Some((b'(', rest)) => Ok(LexBound::Exclusive(Bytes::copy_from_slice(rest))),
        _ => Err(BAD_LEX_RANGE),
    }
}

pub(super) fn reply_score(c: &mut Call<'_>, v: f64) {
    c.out.double_text(format_score(v).as_bytes());
}

/// Members, with their scores when asked: flat in RESP2, pairs in RESP3.
pub(super) fn reply_members(c: &mut Call<'_>, items: &[(Bytes, f64)], with_scores: bool) {
    if !with_scores {
        c.out.array(items.len());
        for (m, _) in items {
            c.out.bulk(m);
        }
        return;
    }
    let pairs = c.out.resp_version() >= 3;
    c.out
        .array(if pairs { items.len() } else { items.len() * 2 });
    for (m, s) in items {
        if pairs {
            c.out.array(2);
        }
        c.out.bulk(m);
        reply_score(c, *s);
    }
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...].
fn zadd(c: &mut Call<'_>) -> CmdResult {
    let mut flags = ZAddFlags::default();
    let mut incr = false;
    let mut at = 2;
    while let Some(word) = c.args.get(at) {
        if is(word, "nx") {
            flags.nx = true;
        } else if is(word, "xx") {
            flags.xx = true;
        } else if is(word, "gt") {
            flags.gt = true;
        } else if is(word, "lt") {
            flags.lt = true;
        } else if is(word, "ch") {
            flags.ch = true;
        } else if is(word, "incr") {
            incr = true;
        } else {
            break;
        }
        at += 1;
    }
    let rest = c.args_from(at);
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return Err(Reject::Syntax);
    }
    if flags.nx && flags.xx {
        return Err(Reject::Static(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if (flags.nx && (flags.gt || flags.lt)) || (flags.gt && flags.lt) {
        return Err(Reject::Static(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if incr && rest.len() > 2 {
        return Err(Reject::Static(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    let pairs = rest
        .chunks_exact(2)
        .map(|p| match p {
            [s, m] => Ok((score(s)?, *m)),
            _ => Err(Reject::Syntax),
        })
        .collect::<Result<Vec<(f64, &[u8])>, Reject>>()?;
    match c.kv().zadd(c.arg(1), flags, incr, &pairs)? {
        ZAdded::Count(n) => c.out.count(n),
        ZAdded::Score(Some(s)) => reply_score(c, s),
        ZAdded::Score(None) => c.out.null(),
    }
    Ok(())
}

fn zincrby(c: &mut Call<'_>) -> CmdResult {
    let by = score(c.arg(2))?;
    let s = c.kv().zincrby(c.arg(1), by, c.arg(3))?;
    reply_score(c, s);
    Ok(())
}

fn zrem(c: &mut Call<'_>) -> CmdResult {
    let n = c.kv().zrem(c.arg(1), c.args_from(2))?;
    c.out.count(n);
    Ok(())
}

fn zcard(c: &mut Call<'_>) -> CmdResult {
    let n = c.kv().zcard(c.arg(1))?;
    c.out.count(n);
    Ok(())
}

fn zscore(c: &mut Call<'_>) -> CmdResult {
    match c
        .kv()
        .zmscore(c.arg(1), &[c.arg(2)])?
        .first()
        .copied()
        .flatten()
    {
        Some(s) => reply_score(c, s),
        None => c.out.null(),
    }
    Ok(())
}

fn zmscore(c: &mut Call<'_>) -> CmdResult {
    let scores = c.kv().zmscore(c.arg(1), c.args_from(2))?;
    c.out.array(scores.len());
    for s in scores {
        match s {
            Some(s) => reply_score(c, s),
            None => c.out.null(),
        }
    }
    Ok(())
}

fn rank(c: &mut Call<'_>, rev: bool) -> CmdResult {
    match c.kv().zrank(c.arg(1), c.arg(2), rev)? {
        Some(r) => c.out.count(r),
        None => c.out.null(),
    }
    Ok(())
}

fn zrank(c: &mut Call<'_>) -> CmdResult {
    rank(c, false)
}

fn zrevrank(c: &mut Call<'_>) -> CmdResult {
    rank(c, true)
}

fn zcount(c: &mut Call<'_>) -> CmdResult {
    let by = ZRangeBy::Score(score_bound(c.arg(2))?, score_bound(c.arg(3))?);
    let n = c.kv().zcount(c.arg(1), &by)?;
    c.out.count(n);
    Ok(())
}

fn zlexcount(c: &mut Call<'_>) -> CmdResult {
    let by = ZRangeBy::Lex(lex_bound(c.arg(2))?, lex_bound(c.arg(3))?);
    let n = c.kv().zcount(c.arg(1), &by)?;
    c.out.count(n);
    Ok(())
}

/// How a range's two arguments read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum By {
    Rank,
    Score,
    Lex,
}

/// The ZRANGE family's arguments, as Redis 7.0's `zrangeGenericCommand`
/// reads them: `args` is `min max [options]`; `by` and `rev` are preset
/// by the older forms, chosen by options for ZRANGE and ZRANGESTORE
/// (`open`); ZRANGESTORE (`store`) takes no WITHSCORES. The range, and
/// whether WITHSCORES was given.
pub(super) fn range_args(
    args: &[&[u8]],
    mut by: By,
    mut rev: bool,
    open: bool,
    store: bool,
) -> Result<(ZRange, bool), Reject> {
    let arg = |i: usize| args.get(i).copied().unwrap_or_default();
    let mut with_scores = false;
    let mut limit = None;
    let mut chosen_by = false;
    let mut chosen_rev = false;
    let mut at = 2;
    while let Some(word) = args.get(at) {
        let left = args.len() - at - 1;
        if !store && is(word, "withscores") {
            with_scores = true;
        } else if is(word, "limit") && left >= 2 {
            let offset = int(arg(at + 1))?;
            let count = int(arg(at + 2))?;
            limit = Some((offset, count));
            at += 2;
        } else if open && !chosen_by && is(word, "byscore") {
            by = By::Score;
            chosen_by = true;
        } else if open && !chosen_by && is(word, "bylex") {
            by = By::Lex;
            chosen_by = true;
        } else if open && !chosen_rev && is(word, "rev") {
            rev = true;
            chosen_rev = true;
        } else {
            return Err(Reject::Syntax);
        }
        at += 1;
    }
    // As Redis, LIMIT with a count of -1 (all) passes with ranks.
    if limit.is_some_and(|(_, count)| count != -1) && by == By::Rank {
        return Err(Reject::Static(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if with_scores && by == By::Lex {
        return Err(Reject::Static(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    // Read backwards, a score or lex range is given max first.
    let (min, max) = if rev && by != By::Rank {
        (arg(1), arg(0))
    } else {
        (arg(0), arg(1))
    };
    let by = match by {
        By::Rank => ZRangeBy::Rank(int(min)?, int(max)?),
        By::Score => ZRangeBy::Score(score_bound(min)?, score_bound(max)?),
        By::Lex => ZRangeBy::Lex(lex_bound(min)?, lex_bound(max)?),
    };
    Ok((ZRange { by, rev, limit }, with_scores))
}

fn range_command(c: &mut Call<'_>, by: By, rev: bool, open: bool) -> CmdResult {
    let (range, with_scores) = range_args(c.args_from(2), by, rev, open, false)?;
    let items = c.kv().zrange(c.arg(1), &range)?;
    reply_members(c, &items, with_scores);
    Ok(())
}

fn zrange(c: &mut Call<'_>) -> CmdResult {
    range_command(c, By::Rank, false, true)
}

fn zrevrange(c: &mut Call<'_>) -> CmdResult {
    range_command(c, By::Rank, true, false)
}

fn zrangebyscore(c: &mut Call<'_>) -> CmdResult {
    range_command(c, By::Score, false, false)
}

fn zrevrangebyscore(c: &mut Call<'_>) -> CmdResult {
    range_command(c, By::Score, true, false)
}

fn zrangebylex(c: &mut Call<'_>) -> CmdResult {
    range_command(c, By::Lex, false, false)
}

fn zrevrangebylex(c: &mut Call<'_>) -> CmdResult {
    range_command(c, By::Lex, true, false)
}

fn remove_range(c: &mut Call<'_>, by: ZRangeBy) -> CmdResult {
    let n = c.kv().zremrange(c.arg(1), &by)?;
    c.out.count(n);
    Ok(())
}

fn zremrangebyrank(c: &mut Call<'_>) -> CmdResult {
    let by = ZRangeBy::Rank(int(c.arg(2))?, int(c.arg(3))?);
    remove_range(c, by)
}

fn zremrangebyscore(c: &mut Call<'_>) -> CmdResult {
    let by = ZRangeBy::Score(score_bound(c.arg(2))?, score_bound(c.arg(3))?);
    remove_range(c, by)
}

fn zremrangebylex(c: &mut Call<'_>) -> CmdResult {
    let by = ZRangeBy::Lex(lex_bound(c.arg(2))?, lex_bound(c.arg(3))?);
    remove_range(c, by)
}

/// ZPOPMIN / ZPOPMAX key [count].
fn pop(c: &mut Call<'_>, max: bool) -> CmdResult {
    let count = match c.args.len() {
        2 => None,
        3 => Some(
            int(c.arg(2))
                .ok()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or(Reject::Static(
                    "ERR value is out of range, must be positive",
                ))?,
        ),
        _ => return Err(Reject::Syntax),
    };
    let items = c.kv().zpop(c.arg(1), max, count.unwrap_or(1))?;
    match count {
        // Without a count, one member and its score, flat in any protocol.
        None => {
            c.out.array(items.len() * 2);
            for (m, s) in &items {
                c.out.bulk(m);
                reply_score(c, *s);
            }
        }
        Some(_) => reply_members(c, &items, true),
    }
    Ok(())
}

fn zpopmin(c: &mut Call<'_>) -> CmdResult {
    pop(c, false)
}

fn zpopmax(c: &mut Call<'_>) -> CmdResult {
    pop(c, true)
}

/// ZRANDMEMBER key [count [WITHSCORES]], with HRANDFIELD's rules for the
/// count (see `pick`).
fn zrandmember(c: &mut Call<'_>) -> CmdResult {
    let mut rng = fastrand::Rng::new();
    if c.args_from(2).is_empty() {
        let picked = c
            .kv()
            .zrandmember(c.arg(1), &mut |size| picks(1, size, &mut rng))?;
        let member = picked.as_ref().and_then(|p| p.first()).map(|(m, _)| &m[..]);
        c.out.bulk_or_null(member);
        return Ok(());
    }
    let count = count_arg(c.arg(2))?;
    let with_scores = match c.args_from(3) {
        [] => false,
        [word] if is(word, "withscores") => true,
        _ => return Err(Reject::Syntax),
    };
    check_count(count, with_scores)?;
    let picked = c
        .kv()
        .zrandmember(c.arg(1), &mut |size| picks(count, size, &mut rng))?
        .unwrap_or_default();
    reply_members(c, &picked, with_scores);
    Ok(())
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count]: flat member, score
/// pairs, as Redis answers in either protocol.
fn zscan(c: &mut Call<'_>) -> CmdResult {
    scan_collection(
        c,
        |kv, key| kv.zcard(key),
        |kv, key, cursor, count| kv.zscan(key, cursor, count),
        |(m, _)| m,
        2,
        |out, (m, s)| {
            out.bulk(m);
            out.bulk(format_score(*s).as_bytes());
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_ends_read_as_redis_reads_them() {
        let b = |v, exclusive| ScoreBound {
            value: v,
            exclusive,
        };
        assert_eq!(score_bound(b"1.5"), Ok(b(1.5, false)));
        assert_eq!(score_bound(b"(1.5"), Ok(b(1.5, true)));
        assert_eq!(score_bound(b"-inf"), Ok(b(f64::NEG_INFINITY, false)));
        assert_eq!(score_bound(b"("), Ok(b(0.0, true)));
        assert!(score_bound(b"x").is_err());
        assert!(score_bound(b"[1").is_err());
        assert!(score_bound(b"(nan").is_err());
        assert_eq!(lex_bound(b"-"), Ok(LexBound::Least));
        assert_eq!(lex_bound(b"+"), Ok(LexBound::Greatest));
        assert_eq!(
            lex_bound(b"[a"),
            Ok(LexBound::Inclusive(Bytes::from_static(b"a")))
        );
        assert_eq!(lex_bound(b"("), Ok(LexBound::Exclusive(Bytes::new())));
        assert!(lex_bound(b"a").is_err());
        assert!(lex_bound(b"").is_err());
        assert!(lex_bound(b"-a").is_err());
    }
}
