//! String commands: GET, SET and its variants, MGET/MSET, counters, and
//! substring commands.
//!
//! Owns reading their options, with Redis's rules for which combinations
//! are syntax errors. Multi-key writes (MSET, MSETNX) are atomic: the
//! engine runs them as one batch.

use super::args::{int, is};
use super::spec::{flags::*, spec, Spec};
use super::{Call, CmdResult, Reject};
use tandem_engine::{Expiry, SetCondition, SetOptions, SetTtl};

pub(super) const COMMANDS: &[Spec] = &[
    spec("get", 2, READONLY | FAST, (1, 1, 1), get),
    spec("set", -3, WRITE | DENYOOM, (1, 1, 1), set),
    spec("setnx", 3, WRITE | DENYOOM | FAST, (1, 1, 1), setnx),
    spec("setex", 4, WRITE | DENYOOM, (1, 1, 1), setex),
    spec("psetex", 4, WRITE | DENYOOM, (1, 1, 1), psetex),
    spec("getset", 3, WRITE | DENYOOM | FAST, (1, 1, 1), getset),
    spec("getdel", 2, WRITE | FAST, (1, 1, 1), getdel),
    spec("getex", -2, WRITE | FAST, (1, 1, 1), getex),
    spec("mget", -2, READONLY | FAST, (1, -1, 1), mget),
    spec("mset", -3, WRITE | DENYOOM, (1, -1, 2), mset),
    spec("msetnx", -3, WRITE | DENYOOM, (1, -1, 2), msetnx),
    spec("incr", 2, WRITE | DENYOOM | FAST, (1, 1, 1), incr),
    spec("decr", 2, WRITE | DENYOOM | FAST, (1, 1, 1), decr),
    spec("incrby", 3, WRITE | DENYOOM | FAST, (1, 1, 1), incrby),
    spec("decrby", 3, WRITE | DENYOOM | FAST, (1, 1, 1), decrby),
    spec(
        "incrbyfloat",
        3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        incrbyfloat,
    ),
    spec("append", 3, WRITE | DENYOOM | FAST, (1, 1, 1), append),
    spec("strlen", 2, READONLY | FAST, (1, 1, 1), strlen),
    spec("getrange", 4, READONLY, (1, 1, 1), getrange),
    spec("substr", 4, READONLY, (1, 1, 1), getrange),
    spec("setrange", 4, WRITE | DENYOOM, (1, 1, 1), setrange),
];

/// Builds an expiry from an option's number (EX seconds, PX
/// milliseconds, EXAT / PXAT Unix times).
type MakeExpiry = fn(i64) -> Expiry;

/// A key and its value, as MSET takes them.
type Pair<'a> = (&'a [u8], &'a [u8]);

fn get(c: &mut Call<'_>) -> CmdResult {
    c.kv().get_into(c.arg(1), c.out)?;
    Ok(())
}

/// SET's options from argument 3 on, as Redis's
/// `parseExtendedStringArgumentsOrReply` reads them: every word first, then
/// the expiry's number, so a syntax error anywhere wins over a bad number.
fn set_options(c: &Call<'_>) -> Result<SetOptions, Reject> {
    let mut o = SetOptions::default();
    let mut expiry: Option<(MakeExpiry, &[u8])> = None;
    let mut i = 3;
    while let Some(&a) = c.args.get(i) {
        let next = c.args.get(i + 1).copied();
        let ttl_free = o.ttl != SetTtl::Keep && expiry.is_none();
        if is(a, "nx") && o.condition != SetCondition::IfPresent {
            o.condition = SetCondition::IfAbsent;
        } else if is(a, "xx") && o.condition != SetCondition::IfAbsent {
            o.condition = SetCondition::IfPresent;
        } else if is(a, "get") {
            o.get = true;
        } else if is(a, "keepttl") && ttl_free {
            o.ttl = SetTtl::Keep;
        } else if let (Some(make), true, Some(n)) = (expiry_kind(a), ttl_free, next) {
            expiry = Some((make, n));
            i += 1;
        } else {
            return Err(Reject::Syntax);
        }
        i += 1;
    }
    if let Some((make, n)) = expiry {
        o.ttl = SetTtl::At(make(int(n)?));
    }
    Ok(o)
}

/// The expiry an EX / PX / EXAT / PXAT option gives.
fn expiry_kind(word: &[u8]) -> Option<MakeExpiry> {
    let kinds: [(&str, MakeExpiry); 4] = [
        ("ex", Expiry::Seconds),
        ("px", Expiry::Millis),
        ("exat", Expiry::UnixSeconds),
        ("pxat", Expiry::UnixMillis),
    ];
    kinds
        .iter()
        .find(|(w, _)| is(word, w))
        .map(|&(_, make)| make)
}

fn set(c: &mut Call<'_>) -> CmdResult {
    let opts = set_options(c)?;
    let outcome = c.kv().set(c.arg(1), c.arg(2), opts)?;
    if opts.get {
        c.out.bulk_or_null(outcome.old.as_deref());
    } else if outcome.written {
        c.out.ok();
    } else {
        c.out.null();
    }
    Ok(())
}

fn setnx(c: &mut Call<'_>) -> CmdResult {
    let opts = SetOptions {
        condition: SetCondition::IfAbsent,
        ..SetOptions::default()
    };
    let outcome = c.kv().set(c.arg(1), c.arg(2), opts)?;
    c.out.int(i64::from(outcome.written));
    Ok(())
}

fn set_with_ttl(c: &mut Call<'_>, make: MakeExpiry) -> CmdResult {
    let ttl = SetTtl::At(make(int(c.arg(2))?));
    let opts = SetOptions {
        ttl,
        ..SetOptions::default()
    };
    c.kv().set(c.arg(1), c.arg(3), opts)?;
    c.out.ok();
    Ok(())
}

fn setex(c: &mut Call<'_>) -> CmdResult {
    set_with_ttl(c, Expiry::Seconds)
}

fn psetex(c: &mut Call<'_>) -> CmdResult {
    set_with_ttl(c, Expiry::Millis)
}

fn getset(c: &mut Call<'_>) -> CmdResult {
    let opts = SetOptions {
        get: true,
        ..SetOptions::default()
    };
    let outcome = c.kv().set(c.arg(1), c.arg(2), opts)?;
    c.out.bulk_or_null(outcome.old.as_deref());
    Ok(())
}

fn getdel(c: &mut Call<'_>) -> CmdResult {
    let old = c.kv().get_del(c.arg(1))?;
    c.out.bulk_or_null(old.as_deref());
    Ok(())
}

fn getex(c: &mut Call<'_>) -> CmdResult {
    let mut ttl = SetTtl::Keep;
    let mut expiry: Option<(MakeExpiry, &[u8])> = None;
    let mut i = 2;
    while let Some(&a) = c.args.get(i) {
        let next = c.args.get(i + 1).copied();
        let unset = ttl == SetTtl::Keep && expiry.is_none();
        if is(a, "persist") && unset {
            ttl = SetTtl::Clear;
        } else if let (Some(make), true, Some(n)) = (expiry_kind(a), unset, next) {
            expiry = Some((make, n));
            i += 1;
        } else {
            return Err(Reject::Syntax);
        }
        i += 1;
    }
    // As in SET, the number is read once the words are known good.
    if let Some((make, n)) = expiry {
        ttl = SetTtl::At(make(int(n)?));
    }
    let value = c.kv().get_ex(c.arg(1), ttl)?;
    c.out.bulk_or_null(value.as_deref());
    Ok(())
}

fn mget(c: &mut Call<'_>) -> CmdResult {
    let values = c.kv().mget(c.args_from(1))?;
    c.out.array(values.len());
    for v in &values {
        c.out.bulk_or_null(v.as_deref());
    }
    Ok(())
}

/// MSET's key-value pairs, or the arity error for an odd count.
fn pairs<'a>(c: &Call<'a>) -> Result<Vec<Pair<'a>>, Reject> {
    let rest = c.args_from(1);
    if !rest.len().is_multiple_of(2) {
        return Err(Reject::Arity);
    }
    Ok(rest
        .chunks_exact(2)
        .filter_map(|p| match *p {
            [k, v] => Some((k, v)),
            _ => None,
        })
        .collect())
}

fn mset(c: &mut Call<'_>) -> CmdResult {
    let pairs = pairs(c)?;
    c.kv().mset(&pairs)?;
    c.out.ok();
    Ok(())
}

fn msetnx(c: &mut Call<'_>) -> CmdResult {
    let pairs = pairs(c)?;
    let done = c.kv().msetnx(&pairs)?;
    c.out.int(i64::from(done));
    Ok(())
}

fn add(c: &mut Call<'_>, delta: i64) -> CmdResult {
    let n = c.kv().incr_by(c.arg(1), delta)?;
    c.out.int(n);
    Ok(())
}

fn incr(c: &mut Call<'_>) -> CmdResult {
    add(c, 1)
}

fn decr(c: &mut Call<'_>) -> CmdResult {
    add(c, -1)
}

fn incrby(c: &mut Call<'_>) -> CmdResult {
    let delta = int(c.arg(2))?;
    add(c, delta)
}

fn decrby(c: &mut Call<'_>) -> CmdResult {
    let delta = int(c.arg(2))?;
    let n = c.kv().decr_by(c.arg(1), delta)?;
    c.out.int(n);
    Ok(())
}

fn incrbyfloat(c: &mut Call<'_>) -> CmdResult {
    let text = c.kv().incr_by_float(c.arg(1), c.arg(2))?;
    c.out.bulk(&text);
    Ok(())
}

fn append(c: &mut Call<'_>) -> CmdResult {
    let len = c.kv().append(c.arg(1), c.arg(2))?;
    c.out.count(len);
    Ok(())
}

fn strlen(c: &mut Call<'_>) -> CmdResult {
    let len = c.kv().strlen(c.arg(1))?;
    c.out.count(len);
    Ok(())
}

fn getrange(c: &mut Call<'_>) -> CmdResult {
    let (start, end) = (int(c.arg(2))?, int(c.arg(3))?);
    let part = c.kv().get_range(c.arg(1), start, end)?;
    c.out.bulk(&part);
    Ok(())
}

fn setrange(c: &mut Call<'_>) -> CmdResult {
    let offset = int(c.arg(2))?;
    let offset =
        usize::try_from(offset).map_err(|_| Reject::Static("ERR offset is out of range"))?;
    let len = c.kv().set_range(c.arg(1), offset, c.arg(3))?;
    c.out.count(len);
    Ok(())
}
