//! The blocking list commands: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP.
//!
//! Owns their arguments (the timeout read as Redis reads it: seconds,
//! fractional allowed, 0 for ever) and their replies. A command tries at
//! once; when nothing is there it waits in line on its keys
//! (`crate::blocking`), which may serve it straight away, and otherwise
//! leaves itself at the front of the input: the connection runs it again
//! when a write served it, the deadline passed, or CLIENT UNBLOCK ended
//! the wait, and this time it answers with what the wait brought. Inside
//! EXEC they never wait, as in Redis. The popping itself is the engine's
//! (`tandem_engine::Lists`). The waiting (`block_on`), the timeout and
//! the replies of a served wait are shared with the blocking sorted set
//! pops (`zset_blocking.rs`).

use super::lists::{end_arg, mpop_args, Mpop};
use super::spec::{flags::*, spec, Spec};
use super::{Call, CmdResult, Reject};
use crate::blocking::{Blocked, Op, Outcome, Served, Unblocked};
use crate::session::After;
use tandem_engine::{seconds_to_ms, End};

pub(super) const COMMANDS: &[Spec] = &[
    spec("blpop", -3, WRITE | BLOCKING, (1, -2, 1), blpop),
    spec("brpop", -3, WRITE | BLOCKING, (1, -2, 1), brpop),
    spec("blmove", 6, WRITE | DENYOOM | BLOCKING, (1, 2, 1), blmove),
    spec(
        "brpoplpush",
        4,
        WRITE | DENYOOM | BLOCKING,
        (1, 2, 1),
        brpoplpush,
    ),
    spec(
        "blmpop",
        -5,
        WRITE | BLOCKING | MOVABLE_KEYS,
        (0, 0, 0),
        blmpop,
    ),
];

/// The timeout in milliseconds (0: for ever), as Redis 7.0's
/// `getTimeoutFromObjectOrReply` reads seconds (see `seconds_to_ms`).
pub(super) fn timeout_ms(arg: &[u8]) -> Result<u64, Reject> {
    let ms =
        seconds_to_ms(arg).ok_or(Reject::Static("ERR timeout is not a float or out of range"))?;
    u64::try_from(ms).map_err(|_| Reject::Static("ERR timeout is negative"))
}

/// The null a blocking command answers when its wait ends empty.
#[derive(Clone, Copy)]
pub(super) enum Empty {
    Array,
    Bulk,
}

fn reply(c: &mut Call<'_>, served: Served) {
    match served {
        Served::One(key, item) => {
            c.out.array(2);
            c.out.bulk(&key);
            c.out.bulk(&item);
        }
        Served::Many(key, items) => {
            c.out.array(2);
            c.out.bulk(&key);
            c.out.bulks(items.iter());
        }
        Served::Moved(item) => c.out.bulk(&item),
        Served::Scored(key, member, score) => {
            c.out.array(3);
            c.out.bulk(&key);
            c.out.bulk(&member);
            super::zsets::reply_score(c, score);
        }
        Served::ScoredMany(key, items) => super::zset_algebra::reply_mpop(c, &key, &items),
        Served::Streams(read) => super::stream_read::reply_read(c, &read),
        Served::Delivered(read) => super::stream_read::reply_delivered(c, &read),
        // Answered as the command's error by `block_on`.
        Served::Failed(line) => c.out.error(line),
    }
}

/// Tries `attempt`; if it found nothing, waits on `keys` for `op` until
/// `timeout` (see the module header).
pub(super) fn block_on(
    c: &mut Call<'_>,
    keys: &[&[u8]],
    timeout: u64,
    empty: Empty,
    op: Op,
    attempt: impl Fn(&mut Call<'_>) -> Result<Option<Served>, Reject>,
) -> CmdResult {
    let ended = match &c.session.blocked {
        // Run again: answer with how the wait ended.
        Some(blocked) => match blocked.ended() {
            Err(()) => {
                c.session.after = After::Blocked;
                return Ok(());
            }
            // Ended by its deadline, with nothing served: a timeout.
            Ok(ended) => ended.or(Some(Outcome::Unblocked(Unblocked::Timeout))),
        },
        None => {
            if let Some(served) = attempt(c)? {
                reply(c, served);
                return Ok(());
            }
            if c.session.in_exec {
                None
            } else {
                // A deadline past what the clock can hold is for ever.
                let deadline = (timeout > 0)
                    .then(|| {
                        tokio::time::Instant::now()
                            .checked_add(std::time::Duration::from_millis(timeout))
                    })
                    .flatten();
                let (id, db) = (c.session.id, c.session.db);
                let blocking = &c.shared.blocking;
                let blocked = Blocked::new(blocking, id, db, keys, op, deadline);
                // An element that arrived between the attempt and the
                // registration is served now: no write will come for it.
                blocking.serve_registered(
                    &c.shared.dbs,
                    keys.iter().map(|k| (db, bytes::Bytes::copy_from_slice(k))),
                );
                match blocked.waiter.outcome() {
                    Some(outcome) => Some(outcome),
                    None => {
                        c.session.blocked = Some(blocked);
                        c.session.after = After::Blocked;
                        return Ok(());
                    }
                }
            }
        }
    };
    c.session.blocked = None;
    match ended {
        Some(Outcome::Served(got, lsn)) => {
            // Served on another client's thread: this reply waits for
            // that thread's record too.
            tandem_engine::journal::note_thread_lsn(lsn);
            match got? {
                // Counted as the command's error, as Redis counts it.
                Served::Failed(line) => return Err(Reject::Static(line)),
                got => reply(c, got),
            }
        }
        Some(Outcome::Unblocked(Unblocked::Error)) => {
            return Err(Reject::Static(
                "UNBLOCKED client unblocked via CLIENT UNBLOCK",
            ));
        }
        // A wait that timed out is a null array whatever the command
        // (Redis's `replyToBlockedClientTimedOut`); one that could not
        // start (inside EXEC) is the command's own empty reply.
        Some(Outcome::Unblocked(Unblocked::Timeout)) => c.out.null_array(),
        None => match empty {
            Empty::Array => c.out.null_array(),
            Empty::Bulk => c.out.null(),
        },
    }
    Ok(())
}

fn pop_first(c: &mut Call<'_>, end: End) -> CmdResult {
    let n = c.args.len();
    let timeout = timeout_ms(c.arg(n - 1))?;
    let keys = c.args.get(1..n - 1).unwrap_or_default();
    let op = Op::Pop {
        end,
        count: 1,
        many: false,
    };
    block_on(c, keys, timeout, Empty::Array, op, |c| {
        let popped = c.kv().lmpop(keys, end, 1)?;
        Ok(popped.and_then(|(key, items)| {
            let item = items.into_iter().next()?;
            Some(Served::One(key, item))
        }))
    })
}

fn blpop(c: &mut Call<'_>) -> CmdResult {
    pop_first(c, End::Left)
}

fn brpop(c: &mut Call<'_>) -> CmdResult {
    pop_first(c, End::Right)
}

fn move_blocking(c: &mut Call<'_>, from: End, to: End, timeout: u64) -> CmdResult {
    let (src, dst) = (c.arg(1), c.arg(2));
    let op = Op::Move {
        dst: bytes::Bytes::copy_from_slice(dst),
        from,
        to,
    };
    block_on(c, &[src], timeout, Empty::Bulk, op, |c| {
        Ok(c.kv().lmove(src, dst, from, to)?.map(Served::Moved))
    })
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout.
fn blmove(c: &mut Call<'_>) -> CmdResult {
    let (from, to) = (end_arg(c.arg(3))?, end_arg(c.arg(4))?);
    let timeout = timeout_ms(c.arg(5))?;
    move_blocking(c, from, to, timeout)
}

fn brpoplpush(c: &mut Call<'_>) -> CmdResult {
    let timeout = timeout_ms(c.arg(3))?;
    move_blocking(c, End::Right, End::Left, timeout)
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count].
fn blmpop(c: &mut Call<'_>) -> CmdResult {
    let timeout = timeout_ms(c.arg(1))?;
    let Mpop { keys, end, count } = mpop_args(c.arg(2), c.args_from(3))?;
    let op = Op::Pop {
        end,
        count,
        many: true,
    };
    block_on(c, keys, timeout, Empty::Array, op, |c| {
        let popped = c.kv().lmpop(keys, end, count)?;
        Ok(popped.map(|(key, items)| Served::Many(key, items)))
    })
}

#[cfg(test)]
mod tests {
    use super::timeout_ms;

    #[test]
    fn timeouts_read_as_redis_reads_them() {
        assert_eq!(timeout_ms(b"0"), Ok(0));
        assert_eq!(timeout_ms(b"1.5"), Ok(1500));
        assert_eq!(timeout_ms(b"0.01"), Ok(10));
        assert!(timeout_ms(b"-1").is_err());
        assert!(timeout_ms(b"abc").is_err());
        assert!(timeout_ms(b"").is_err());
        assert!(timeout_ms(b"inf").is_err());
        assert!(timeout_ms(b"1e300").is_err());
    }
}
