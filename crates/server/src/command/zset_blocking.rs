//! The blocking sorted set commands: BZPOPMIN, BZPOPMAX, BZMPOP.
//!
//! Owns their arguments and first attempt; the waiting is the list
//! commands' (`list_blocking::block_on`, `crate::blocking`), with a
//! sorted set pop as what the client waits for. Replies: BZPOPMIN's key,
//! member and score; BZMPOP's as ZMPOP's; the null array on timeout.

use super::list_blocking::{block_on, timeout_ms, Empty};
use super::spec::{flags::*, spec, Spec};
use super::zset_algebra::{mpop_args, Mpop};
use super::{Call, CmdResult};
use crate::blocking::{Op, Served};
use tandem_engine::Bytes;

pub(super) const COMMANDS: &[Spec] = &[
    spec(
        "bzpopmin",
        -3,
        WRITE | FAST | BLOCKING,
        (1, -2, 1),
        bzpopmin,
    ),
    spec(
        "bzpopmax",
        -3,
        WRITE | FAST | BLOCKING,
        (1, -2, 1),
        bzpopmax,
    ),
    spec(
        "bzmpop",
        -5,
        WRITE | BLOCKING | MOVABLE_KEYS,
        (0, 0, 0),
        bzmpop,
    ),
];

/// BZPOPMIN / BZPOPMAX key [key ...] timeout.
fn pop_first(c: &mut Call<'_>, max: bool) -> CmdResult {
    let n = c.args.len();
    let timeout = timeout_ms(c.arg(n - 1))?;
    let keys = c.args.get(1..n - 1).unwrap_or_default();
    let op = Op::ZPop {
        max,
        count: 1,
        many: false,
    };
    block_on(c, keys, timeout, Empty::Array, op, |c| {
        Ok(c.kv().zmpop(keys, max, 1)?.and_then(|(key, mut items)| {
            let (member, score) = items.pop()?;
            Some(Served::Scored(key, member, score))
        }))
    })
}

fn bzpopmin(c: &mut Call<'_>) -> CmdResult {
    pop_first(c, false)
}

fn bzpopmax(c: &mut Call<'_>) -> CmdResult {
    pop_first(c, true)
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count].
fn bzmpop(c: &mut Call<'_>) -> CmdResult {
    let timeout = timeout_ms(c.arg(1))?;
    let Mpop { keys, max, count } = mpop_args(c.arg(2), c.args_from(3))?;
    let op = Op::ZPop {
        max,
        count,
        many: true,
    };
    block_on(c, keys, timeout, Empty::Array, op, |c| {
        let popped = c.kv().zmpop(keys, max, count)?;
        Ok(popped.map(|(key, items): (Bytes, _)| Served::ScoredMany(key, items)))
    })
}
