//! Running the requests a connection has read, one after another.
//!
//! Owns the request loop (`Connection::execute_all`): parse each complete
//! request in the input, admit it, hold it back under a pause, queue it
//! inside MULTI, run it (with the requests behind it, when they may share
//! one lock: `batch`), serve the clients its write woke, and finish it
//! (CLIENT REPLY, CLIENT LIST's `cmd`). Never reads or writes the socket,
//! and never waits: it returns what the connection must do next.

use super::{batch, Connection, Running};
use crate::command::{self, transaction};
use crate::resp::{Form, Limits, Out};
use crate::script;
use crate::session::{After, ReplyMode, Session};
use crate::shared::Shared;
use bytes::{Buf, BytesMut};
use smallvec::SmallVec;
use std::ops::Range;

/// CLIENT REPLY: drops the reply just written (from `before` on) unless
/// replies are on, keeping what the request wrote as pushes (`pushes`:
/// subscription confirmations, even inside EXEC), which are not replies,
/// as in Redis 7.0, in RESP2 as in RESP3; the mode moves on all the same.
/// Published messages never pass here: they are written between requests.
#[inline]
fn apply_reply_mode(
    mode: &mut ReplyMode,
    out: &mut BytesMut,
    before: usize,
    pushes: &mut Vec<Range<usize>>,
) {
    let drop_reply = match *mode {
        ReplyMode::On => false,
        ReplyMode::Off => true,
        ReplyMode::SkipNext => {
            *mode = ReplyMode::SkipThis;
            true
        }
        ReplyMode::SkipThis => {
            *mode = ReplyMode::On;
            true
        }
    };
    if drop_reply {
        let kept: Vec<u8> = pushes
            .iter()
            .filter(|r| r.start >= before)
            .filter_map(|r| out.get(r.clone()))
            .flatten()
            .copied()
            .collect();
        out.truncate(before);
        out.extend_from_slice(&kept);
    }
    pushes.clear();
}

/// What ends every request, batched or not: CLIENT LIST's `cmd`, the
/// panic log's request cleared, and CLIENT REPLY applied to the reply
/// written from `before` on.
#[inline]
pub(super) fn finish_request(
    session: &mut Session,
    out: &mut Out,
    before: usize,
    last_cmd: &mut Option<usize>,
    running: &mut Option<Running>,
    cmd: Option<usize>,
) {
    *last_cmd = cmd;
    *running = None;
    apply_reply_mode(
        &mut session.reply,
        &mut out.buf,
        before,
        &mut session.pushes,
    );
}

/// Whether CLIENT PAUSE holds this admitted request back: as Redis
/// does, under a WRITE pause a write, a command that may replicate
/// (PUBLISH), or an EXEC whose queue holds one, even when it would only be
/// queued; under an ALL pause, every request.
pub(super) fn held_by_pause(
    cmd: &command::Resolved,
    args: &[&[u8]],
    session: &Session,
    shared: &Shared,
) -> bool {
    // The pause's one atomic load first: the rest is paid only while a
    // pause is on. Unlike Redis, CLIENT is never held back, so that
    // CLIENT UNPAUSE can always lift a pause.
    let spec = cmd.spec;
    if !shared.pause.blocks(true) || spec.name == "client" {
        return false;
    }
    // The subcommand's flags too (FUNCTION LOAD writes), and scripts:
    // EVAL, EVALSHA and FCALL may write (Redis's `may_replicate`) unless
    // their script declared `no-writes`.
    let mut writes = cmd.flags() & (command::flags::WRITE | command::flags::MAY_REPLICATE) != 0
        && !crate::script::declares_no_writes(args, shared);
    if spec.name == "exec" {
        writes |= session.multi.as_ref().is_some_and(|m| m.writes);
    }
    shared.pause.blocks(writes)
}

impl Connection {
    /// Runs every complete request in the input buffer, appending replies.
    pub(super) fn execute_all(&mut self, shared: &Shared, limits: Limits) -> After {
        loop {
            let parsed = match self.parser.parse(&self.input, limits) {
                Ok(Some(p)) => p,
                Ok(None) => return After::Continue,
                Err(e) => {
                    tracing::debug!(peer = %self.session.peer, "protocol error: {}", e.0);
                    let msg = format!("ERR Protocol error: {}", e.0);
                    self.out.error(&msg);
                    shared.stats.error(msg.as_bytes());
                    return After::Close;
                }
            };
            // An inline request's arguments are taken out of the parser
            // (and given back below), so that the arguments borrow only
            // the input and a batch may parse on behind them.
            let inline = std::mem::take(&mut self.parser.inline);
            let args: SmallVec<[&[u8]; 8]> = match parsed.form {
                Form::Multibulk => self
                    .parser
                    .ranges
                    .iter()
                    .map(|r| self.input.get(r.clone()).unwrap_or_default())
                    .collect(),
                Form::Inline => inline.iter().map(Vec::as_slice).collect(),
                Form::Empty => SmallVec::new(),
            };
            // One lookup serves admission, the pause check, dispatch and
            // CLIENT LIST's `cmd`.
            let cmd = command::Resolved::find(&args);
            // A script runs on a stack of its own; the request stays in
            // the input for the turn's rest, run there.
            if let Some(c) = cmd {
                if !script::stack::on_stack() && script::needs_stack(c.spec.name, &self.session) {
                    drop(args);
                    self.parser.inline = inline;
                    return After::OnStack;
                }
            }
            let before = self.out.buf.len();
            // What a panic in this request reports, and where its partial
            // reply starts (see `contained`).
            self.running = Some(Running {
                cmd: cmd.map(|c| c.index),
                replied: before,
            });
            // Refusals come first, as in Redis: a refused request is
            // answered at once, even while clients are paused.
            let admitted = if self.session.blocked.is_some() && cmd.is_some() {
                // A blocking command run again once its wait ended: it was
                // admitted when it blocked, and Redis serves a woken client
                // without checking it again (an element may be waiting for
                // it). Only a client whose user is gone runs nothing.
                cmd.filter(|_| self.session.refresh_user(&shared.acl))
            } else {
                command::admit(&args, cmd, &mut self.out, &mut self.session, shared)
            };
            let mut consumed = parsed.consumed;
            let mut finished = false;
            if let Some(cmd) = admitted {
                if held_by_pause(&cmd, &args, &self.session, shared) {
                    self.running = None;
                    drop(args);
                    self.parser.inline = inline;
                    return After::Paused;
                }
                let head = batch::opens(&cmd, parsed.form, &self.session)
                    .then(|| batch::next_head(&self.input, consumed, &self.parser, &cmd))
                    .flatten();
                let batched = head.and_then(|head| {
                    let parts = batch::Parts {
                        input: &self.input,
                        parser: &mut self.parser,
                        out: &mut self.out,
                        session: &mut self.session,
                        last_cmd: &mut self.last_cmd,
                        running: &mut self.running,
                    };
                    batch::run(parts, head, &args, cmd, consumed, before, shared, limits)
                });
                if let Some(all) = batched {
                    consumed = all;
                    finished = true;
                } else if transaction::queue(&args, cmd, &mut self.out, &mut self.session, shared) {
                    // Queueing is no command's time (`Session::turn_clock`).
                    self.session.turn_clock = None;
                } else {
                    command::run(&args, cmd, &mut self.out, &mut self.session, shared);
                }
                // Clients blocked on the keys it wrote are served now,
                // before its reply and its next request: work for other
                // clients, no command's time of this one.
                if !self.session.ready.is_empty() {
                    shared
                        .blocking
                        .serve(&shared.dbs, self.session.ready.drain(..));
                    self.session.turn_clock = None;
                }
            } else {
                // A refusal is no command's time either.
                self.session.turn_clock = None;
            }
            if !finished {
                // CLIENT LIST's `cmd`: NULL after an unknown command or
                // subcommand, as in Redis; an empty line changes nothing.
                let shown = if args.is_empty() {
                    self.last_cmd
                } else {
                    cmd.filter(|c| !c.unlisted_subcommand(&args))
                        .map(|c| c.slot)
                };
                finish_request(
                    &mut self.session,
                    &mut self.out,
                    before,
                    &mut self.last_cmd,
                    &mut self.running,
                    shown,
                );
            }
            drop(args);
            self.parser.inline = inline;
            if self.session.after == After::Blocked {
                // The blocking command stays at the front of the input,
                // to run again when the wait ends.
                self.session.after = After::Continue;
                return After::Blocked;
            }
            self.input.advance(consumed);
            if self.session.after != After::Continue {
                return self.session.after;
            }
        }
    }
}
