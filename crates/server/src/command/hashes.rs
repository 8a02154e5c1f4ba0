//! Hash commands: HSET, HSETNX, HMSET, HGET, HMGET, HDEL, HLEN, HEXISTS,
//! HSTRLEN, HKEYS, HVALS, HGETALL, HINCRBY, HINCRBYFLOAT, HRANDFIELD,
//! HSCAN.
//!
//! Owns reading their arguments, in the order Redis checks them, and the
//! shape of their replies in RESP2 and RESP3 (HGETALL is a map in RESP3;
//! HRANDFIELD ... WITHVALUES an array of pairs). HRANDFIELD's choice of
//! positions follows Redis's rules for negative counts (repeats allowed)
//! and counts past the size (the whole hash). The semantics live in the
//! engine (`tandem_engine::Hashes`).
//!
//! One deliberate difference: a negative count past `MAX_REPEATED_PICKS`
//! is refused (see `pick`).

use super::args::{int, is};
use super::collection_scan::scan_collection;
use super::pick::{check_count, count_arg, picks};
use super::spec::{flags::*, spec, Spec};
use super::{Call, CmdResult, Reject};
use tandem_engine::HashPart;

pub(super) const COMMANDS: &[Spec] = &[
    spec("hset", -4, WRITE | DENYOOM | FAST, (1, 1, 1), hset),
    spec("hsetnx", 4, WRITE | DENYOOM | FAST, (1, 1, 1), hsetnx),
    spec("hmset", -4, WRITE | DENYOOM | FAST, (1, 1, 1), hmset),
    spec("hget", 3, READONLY | FAST, (1, 1, 1), hget),
    spec("hmget", -3, READONLY | FAST, (1, 1, 1), hmget),
    spec("hdel", -3, WRITE | FAST, (1, 1, 1), hdel),
    spec("hlen", 2, READONLY | FAST, (1, 1, 1), hlen),
    spec("hexists", 3, READONLY | FAST, (1, 1, 1), hexists),
    spec("hstrlen", 3, READONLY | FAST, (1, 1, 1), hstrlen),
    spec("hkeys", 2, READONLY, (1, 1, 1), hkeys),
    spec("hvals", 2, READONLY, (1, 1, 1), hvals),
    spec("hgetall", 2, READONLY, (1, 1, 1), hgetall),
    spec("hincrby", 4, WRITE | DENYOOM | FAST, (1, 1, 1), hincrby),
    spec(
        "hincrbyfloat",
        4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        hincrbyfloat,
    ),
    spec("hrandfield", -2, READONLY, (1, 1, 1), hrandfield),
    spec("hscan", -3, READONLY, (1, 1, 1), hscan),
];

/// The field-value pairs from argument 2 on; an odd count is Redis's arity
/// error.
/// A field and its value, as HSET takes them.
type Pair<'a> = (&'a [u8], &'a [u8]);

fn pairs<'a>(c: &Call<'a>) -> Result<Vec<Pair<'a>>, Reject> {
    let rest = c.args_from(2);
    if !rest.len().is_multiple_of(2) {
        return Err(Reject::Arity);
    }
    Ok(rest
        .chunks_exact(2)
        .filter_map(|p| Some((*p.first()?, *p.get(1)?)))
        .collect())
}

fn hset(c: &mut Call<'_>) -> CmdResult {
    let pairs = pairs(c)?;
    let added = c.kv().hset(c.arg(1), &pairs)?;
    c.out.count(added);
    Ok(())
}

fn hmset(c: &mut Call<'_>) -> CmdResult {
    let pairs = pairs(c)?;
    c.kv().hset(c.arg(1), &pairs)?;
    c.out.ok();
    Ok(())
}

fn hsetnx(c: &mut Call<'_>) -> CmdResult {
    let set = c.kv().hsetnx(c.arg(1), c.arg(2), c.arg(3))?;
    c.out.int(i64::from(set));
    Ok(())
}

fn hget(c: &mut Call<'_>) -> CmdResult {
    let value = c.kv().hget(c.arg(1), c.arg(2))?;
    c.out.bulk_or_null(value.as_deref());
    Ok(())
}

fn hmget(c: &mut Call<'_>) -> CmdResult {
    let values = c.kv().hmget(c.arg(1), c.args_from(2))?;
    c.out.array(values.len());
    for v in &values {
        c.out.bulk_or_null(v.as_deref());
    }
    Ok(())
}

fn hdel(c: &mut Call<'_>) -> CmdResult {
    let n = c.kv().hdel(c.arg(1), c.args_from(2))?;
    c.out.count(n);
    Ok(())
}

fn hlen(c: &mut Call<'_>) -> CmdResult {
    let n = c.kv().hlen(c.arg(1))?;
    c.out.count(n);
    Ok(())
}

fn hexists(c: &mut Call<'_>) -> CmdResult {
    let found = c.kv().hexists(c.arg(1), c.arg(2))?;
    c.out.int(i64::from(found));
    Ok(())
}

fn hstrlen(c: &mut Call<'_>) -> CmdResult {
    let n = c.kv().hstrlen(c.arg(1), c.arg(2))?;
    c.out.count(n);
    Ok(())
}

fn hkeys(c: &mut Call<'_>) -> CmdResult {
    let fields = c.kv().hgetall(c.arg(1), HashPart::Fields)?;
    c.out.bulks(fields.iter());
    Ok(())
}

fn hvals(c: &mut Call<'_>) -> CmdResult {
    let values = c.kv().hgetall(c.arg(1), HashPart::Values)?;
    c.out.bulks(values.iter());
    Ok(())
}

fn hgetall(c: &mut Call<'_>) -> CmdResult {
    let flat = c.kv().hgetall(c.arg(1), HashPart::Both)?;
    c.out.map(flat.len() / 2);
    for item in &flat {
        c.out.bulk(item);
    }
    Ok(())
}

fn hincrby(c: &mut Call<'_>) -> CmdResult {
    let delta = int(c.arg(3))?;
    let n = c.kv().hincrby(c.arg(1), c.arg(2), delta)?;
    c.out.int(n);
    Ok(())
}

fn hincrbyfloat(c: &mut Call<'_>) -> CmdResult {
    let text = c.kv().hincrbyfloat(c.arg(1), c.arg(2), c.arg(3))?;
    c.out.bulk(&text);
    Ok(())
}

fn hrandfield(c: &mut Call<'_>) -> CmdResult {
    let mut rng = fastrand::Rng::new();
    if c.args_from(2).is_empty() {
        let picked = c
            .kv()
            .hrandfield(c.arg(1), &mut |size| picks(1, size, &mut rng))?;
        let field = picked.as_ref().and_then(|p| p.first()).map(|(f, _)| &f[..]);
        c.out.bulk_or_null(field);
        return Ok(());
    }
    let count = count_arg(c.arg(2))?;
    let withvalues = match c.args_from(3) {
        [] => false,
        [word] if is(word, "withvalues") => true,
        _ => return Err(Reject::Syntax),
    };
    check_count(count, withvalues)?;
    let picked = c
        .kv()
        .hrandfield(c.arg(1), &mut |size| picks(count, size, &mut rng))?
        .unwrap_or_default();
    let resp3 = c.out.resp_version() == 3;
    // RESP2 flattens the pairs; RESP3 answers an array of pairs.
    let flat = withvalues && !resp3;
    c.out
        .array(if flat { picked.len() * 2 } else { picked.len() });
    for (field, value) in &picked {
        if withvalues {
            if resp3 {
                c.out.array(2);
            }
            c.out.bulk(field);
            c.out.bulk(value);
        } else {
            c.out.bulk(field);
        }
    }
    Ok(())
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]. As in Redis, the
/// cursor is checked first, then the key (a missing one answers an empty
/// step whatever the options), then the options; MATCH filters what the
/// step found, so a step may come back empty with a cursor to go on.
fn hscan(c: &mut Call<'_>) -> CmdResult {
    scan_collection(
        c,
        |kv, key| kv.hlen(key),
        |kv, key, cursor, count| kv.hscan(key, cursor, count),
        |(f, _)| f,
        2,
        |out, (f, v)| {
            out.bulk(f);
            out.bulk(v);
        },
    )
}
