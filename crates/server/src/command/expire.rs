//! Expiry commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with NX, XX,
//! GT, LT), TTL, PTTL, EXPIRETIME, PEXPIRETIME and PERSIST.

use super::args::{int, is, text};
use super::spec::{flags::*, spec, Spec};
use super::{Call, CmdResult, Reject};
use tandem_engine::{ExpireCondition, Expiry};

pub(super) const COMMANDS: &[Spec] = &[
    spec("expire", -3, WRITE | FAST, (1, 1, 1), expire),
    spec("pexpire", -3, WRITE | FAST, (1, 1, 1), pexpire),
    spec("expireat", -3, WRITE | FAST, (1, 1, 1), expireat),
    spec("pexpireat", -3, WRITE | FAST, (1, 1, 1), pexpireat),
    spec("ttl", 2, READONLY | FAST, (1, 1, 1), ttl),
    spec("pttl", 2, READONLY | FAST, (1, 1, 1), pttl),
    spec("expiretime", 2, READONLY | FAST, (1, 1, 1), expiretime),
    spec("pexpiretime", 2, READONLY | FAST, (1, 1, 1), pexpiretime),
    spec("persist", 2, WRITE | FAST, (1, 1, 1), persist),
];

/// The NX / XX / GT / LT flags, with Redis 7's compatibility errors.
fn condition(flags: &[&[u8]]) -> Result<ExpireCondition, Reject> {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for f in flags {
        if is(f, "nx") {
            nx = true;
        } else if is(f, "xx") {
            xx = true;
        } else if is(f, "gt") {
            gt = true;
        } else if is(f, "lt") {
            lt = true;
        } else {
            return Err(Reject::Owned(format!("ERR Unsupported option {}", text(f))));
        }
    }
    if nx && (xx || gt || lt) {
        return Err(Reject::Static(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(Reject::Static(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    // NX excludes the others, and so do GT and LT each other; XX needs an
    // expiry, which GT needs anyway (no expiry is infinitely late).
    Ok(match (nx, xx, gt, lt) {
        (true, ..) => ExpireCondition::IfNone,
        (_, _, true, _) => ExpireCondition::IfLater,
        (_, true, _, true) => ExpireCondition::IfSomeEarlier,
        (_, _, _, true) => ExpireCondition::IfEarlier,
        (_, true, ..) => ExpireCondition::IfSome,
        _ => ExpireCondition::Always,
    })
}

fn expire_generic(c: &mut Call<'_>, make: fn(i64) -> Expiry) -> CmdResult {
    // The flags first, then the number, as Redis checks them.
    let cond = condition(c.args_from(3))?;
    let n = int(c.arg(2))?;
    let done = c.kv().expire(c.arg(1), make(n), cond)?;
    c.out.int(i64::from(done));
    Ok(())
}

fn expire(c: &mut Call<'_>) -> CmdResult {
    expire_generic(c, Expiry::Seconds)
}

fn pexpire(c: &mut Call<'_>) -> CmdResult {
    expire_generic(c, Expiry::Millis)
}

fn expireat(c: &mut Call<'_>) -> CmdResult {
    expire_generic(c, Expiry::UnixSeconds)
}

fn pexpireat(c: &mut Call<'_>) -> CmdResult {
    expire_generic(c, Expiry::UnixMillis)
}

fn ttl(c: &mut Call<'_>) -> CmdResult {
    let n = c.kv().ttl(c.arg(1))?;
    c.out.int(n);
    Ok(())
}

fn pttl(c: &mut Call<'_>) -> CmdResult {
    let n = c.kv().pttl(c.arg(1))?;
    c.out.int(n);
    Ok(())
}

fn expiretime(c: &mut Call<'_>) -> CmdResult {
    let n = c.kv().expire_time(c.arg(1))?;
    c.out.int(n);
    Ok(())
}

fn pexpiretime(c: &mut Call<'_>) -> CmdResult {
    let n = c.kv().pexpire_time(c.arg(1))?;
    c.out.int(n);
    Ok(())
}

fn persist(c: &mut Call<'_>) -> CmdResult {
    let done = c.kv().persist(c.arg(1))?;
    c.out.int(i64::from(done));
    Ok(())
}
