//! Pipelined writes to one key, run under one shard lock.
//!
//! Owns the choice of which requests of a pipeline run together. When a
//! connection's input holds, behind a write, more complete writes to the
//! same keys (redis-benchmark's LPUSH to one list, an application's
//! pipelined HSETs to one hash, a queue's pushes, a client's EVALSHAs of
//! one script on the same keys), they run inside one
//! atomic batch of the engine (`command::run_batch`), which locks the
//! keys' shard once for all of them. Why: with one serving thread per
//! core, writes to one hot key otherwise take its lock one request at a
//! time, the threads hand it back and forth per request, and a thread
//! descheduled while holding it stalls the other for a time slice.
//!
//! Each request is still admitted, counted and answered on its own, in
//! order; replies leave only once the whole batch has run (and been
//! logged), as for any pipeline, so a client sees nothing it could not
//! see otherwise. A batch never holds: reads (they share the lock with
//! other readers, and batching would take it for writing), blocking
//! commands, commands that reach beyond their keys (only
//! `transaction::is_atomic` ones join), a request with a key the first
//! did not name, a request behind one that woke a blocked client (that
//! client is served before the next request, as in Redis), a request a
//! pause holds back, anything inside MULTI, or more than `MOST_REQUESTS`
//! requests (a long batch would keep the shard from every other client).
//! Requests arriving one at a time (pipeline 1) never batch, and a
//! request followed by one to another key pays one comparison of a few
//! bytes for it (`next_head`).

use super::requests::{finish_request, held_by_pause};
use super::Running;
use crate::command::{self, flags, transaction, Resolved};
use crate::resp::{Form, Limits, Out, RequestParser};
use crate::session::{After, Session};
use crate::shared::Shared;
use smallvec::SmallVec;

/// Most requests one batch runs: 32 small writes hold the shard for tens
/// of microseconds, and take its lock 32 times less often.
const MOST_REQUESTS: usize = 32;

/// What a batch borrows from its connection.
pub(super) struct Parts<'a> {
    /// The unparsed input; the first request starts at 0.
    pub input: &'a [u8],
    /// The parser, holding the first request's arguments.
    pub parser: &'a mut RequestParser,
    pub out: &'a mut Out,
    pub session: &'a mut Session,
    pub last_cmd: &'a mut Option<usize>,
    pub running: &'a mut Option<Running>,
}

/// Whether a request may be part of a batch at all: an atomic write, or
/// an EVALSHA (a script's keys are declared, and it runs on the batch
/// holding them: `script::run`).
fn joins(cmd: &Resolved) -> bool {
    let write = cmd.spec.flags & flags::WRITE != 0
        && cmd.spec.flags & flags::BLOCKING == 0
        && transaction::is_atomic(cmd.index);
    write || cmd.spec.name == "evalsha"
}

/// Whether the admitted request `cmd`, parsed as `form`, may open a
/// batch.
pub(super) fn opens(cmd: &Resolved, form: Form, session: &Session) -> bool {
    form == Form::Multibulk && session.multi.is_none() && joins(cmd)
}

/// Runs the admitted request `args` (`first_len` bytes of input, its
/// reply written from `before` on) together with the requests behind it
/// that may join it, and finishes each; `head` is its head, which
/// `next_head` found the next request to share. Returns the input bytes
/// they all took, or `None`, having run nothing, when none may join it:
/// the caller then runs it alone.
///
/// Kept out of line: the connection's loop, which every request runs,
/// stays as small as it was, and only a request whose successor shares
/// its head comes here.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub(super) fn run(
    p: Parts<'_>,
    head: &[u8],
    args: &[&[u8]],
    cmd: Resolved,
    first_len: usize,
    before: usize,
    shared: &Shared,
    limits: Limits,
) -> Option<usize> {
    // A container's subcommand is its second argument, which the head
    // does not cover; no write that batches is one.
    if cmd.sub.is_some() {
        return None;
    }
    // A script decides whether memory is over the bound before it takes
    // its keys (`script::run`); under a batch's locks it could not evict,
    // and would run as if under the bound. So with a bound set, EVALSHAs
    // run one at a time.
    if cmd.spec.name == "evalsha" && shared.config.load().eviction.maxmemory != 0 {
        return None;
    }
    let keys = command::keys_of(cmd.spec, args);
    let Parts {
        input,
        parser,
        out,
        session,
        last_cmd,
        running,
    } = p;
    joining(
        input, first_len, parser, limits, &cmd, &keys, session, shared,
    )?;
    let batch_start = before;
    // The batch holds its keys' shard lock: no eviction may run inside
    // it (see `eviction`).
    command::run_batch(&keys, session.db, shared, |batch| {
        crate::eviction::holding_locks(|| {
            batch.run(args, cmd, out, session);
            finish_request(session, out, before, last_cmd, running, Some(cmd.slot));
            let mut consumed = first_len;
            for _ in 1..MOST_REQUESTS {
                if !session.ready.is_empty()
                    || session.after != After::Continue
                    || !same_head(input, consumed, head)
                {
                    break;
                }
                let Some(len) = joining(
                    input, consumed, parser, limits, &cmd, &keys, session, shared,
                ) else {
                    break;
                };
                let rest = input.get(consumed..).unwrap_or_default();
                let next: SmallVec<[&[u8]; 8]> = parser
                    .ranges
                    .iter()
                    .map(|r| rest.get(r.clone()).unwrap_or_default())
                    .collect();
                let before = out.buf.len();
                // A panic drops the replies of the whole batch: none of its
                // writes may be acknowledged before the batch is logged.
                *running = Some(Running {
                    cmd: Some(cmd.index),
                    replied: batch_start,
                });
                if let Some(cmd) = command::admit(&next, Some(cmd), out, session, shared) {
                    batch.run(&next, cmd, out, session);
                }
                finish_request(session, out, before, last_cmd, running, Some(cmd.slot));
                consumed += len;
            }
            consumed
        })
    })
}

/// The first request in `input` up to the end of its first key (its
/// arguments are in `parser`), if the request at `first_len` starts with
/// the same bytes: the same argument count, the same command name spelled
/// the same way, the same first key. Equal bytes are enough, since each
/// part is preceded by its length. One comparison of a few dozen bytes:
/// at pipeline 1, or in a pipeline of writes to different keys (SET over
/// a keyspace), this is all a request pays.
#[inline]
pub(super) fn next_head<'i>(
    input: &'i [u8],
    first_len: usize,
    parser: &RequestParser,
    cmd: &Resolved,
) -> Option<&'i [u8]> {
    // An EVALSHA's first key is its fourth argument (after the SHA-1 and
    // the count): the head covers it, so that EVALSHAs of one script on
    // other keys (a pipeline over a keyspace) cost a comparison, not a
    // parse.
    let last = if cmd.spec.name == "evalsha" { 3 } else { 1 };
    let head = input.get(..parser.ranges.get(last)?.end)?;
    same_head(input, first_len, head).then_some(head)
}

/// Whether the request at `at` in `input` starts with `head`.
#[inline]
fn same_head(input: &[u8], at: usize, head: &[u8]) -> bool {
    input
        .get(at..)
        .and_then(|rest| rest.get(..head.len()))
        .is_some_and(|h| h == head)
}

/// Parses the request at `at` in `input`, which `same_head` found to be
/// another `cmd` with the batch's first key, and says whether it may join
/// the batch over `keys`: all its keys among them, and no pause holding
/// it back. If so, returns its length; its arguments are in `parser`.
/// One that may not is left unconsumed, for the connection's own loop to
/// parse again and run (or to wait for the rest of: the parser's state
/// for a request cut short is relative to `at`, where the connection's
/// buffer will start).
#[allow(clippy::too_many_arguments)]
fn joining(
    input: &[u8],
    at: usize,
    parser: &mut RequestParser,
    limits: Limits,
    cmd: &Resolved,
    keys: &[&[u8]],
    session: &Session,
    shared: &Shared,
) -> Option<usize> {
    let rest = input.get(at..).unwrap_or_default();
    let parsed = parser.parse(rest, limits).ok()??;
    // The head matched: the first key is the batch's, so a command with
    // one key needs no more looking.
    let (first, last, _) = cmd.spec.keys;
    let one_key = first == 1 && last == 1 && cmd.spec.flags & flags::MOVABLE_KEYS == 0;
    let keys_fit = one_key || {
        let args: SmallVec<[&[u8]; 8]> = parser
            .ranges
            .iter()
            .map(|r| rest.get(r.clone()).unwrap_or_default())
            .collect();
        command::keys_of(cmd.spec, &args)
            .iter()
            .all(|k| keys.contains(k))
    };
    (keys_fit && !held_by_pause(cmd, &[], session, shared)).then_some(parsed.consumed)
}
