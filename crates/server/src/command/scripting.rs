//! EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (LOAD, EXISTS, FLUSH,
//! KILL, HELP): Redis 7.0's scripting commands.
//!
//! Owns their arguments and replies. Running a script is
//! `crate::script`'s; this module never touches the interpreter.

use super::args::is;
use super::introspection::help;
use super::spec::{flags::*, spec, Spec};
use super::{unknown_subcommand, Call, CmdResult, Reject};
use crate::script::busy::Kill;
use crate::script::{self, Source};

pub(super) const COMMANDS: &[Spec] = &[
    spec(
        "eval",
        -3,
        NOSCRIPT | MAY_REPLICATE | MOVABLE_KEYS,
        (0, 0, 0),
        eval,
    ),
    spec(
        "evalsha",
        -3,
        NOSCRIPT | MAY_REPLICATE | MOVABLE_KEYS,
        (0, 0, 0),
        evalsha,
    ),
    spec(
        "eval_ro",
        -3,
        READONLY | NOSCRIPT | MOVABLE_KEYS,
        (0, 0, 0),
        eval_ro,
    ),
    spec(
        "evalsha_ro",
        -3,
        READONLY | NOSCRIPT | MOVABLE_KEYS,
        (0, 0, 0),
        evalsha_ro,
    ),
    spec("script", -2, 0, (0, 0, 0), script_command),
];

const HELP: &[&str] = &[
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Prints this help.",
];

pub(super) const UNKILLABLE: &str =
    "UNKILLABLE Sorry the script already executed write commands against the \
     dataset. You can either wait the script termination or kill the server in a hard way using \
     the SHUTDOWN NOSAVE command.";

fn eval(c: &mut Call<'_>) -> CmdResult {
    generic(c, false, false)
}

fn evalsha(c: &mut Call<'_>) -> CmdResult {
    generic(c, true, false)
}

fn eval_ro(c: &mut Call<'_>) -> CmdResult {
    generic(c, false, true)
}

fn evalsha_ro(c: &mut Call<'_>) -> CmdResult {
    generic(c, true, true)
}

/// A script's keys and its other arguments.
type KeysAndArgs<'a> = (&'a [&'a [u8]], &'a [&'a [u8]]);

/// The keys and arguments after `numkeys` (argument `count_at`), with
/// Redis's errors for a bad count (`not_a_count` for one that is not a
/// number: EVAL's and FCALL's differ).
pub(super) fn split_keys<'a>(
    args: &'a [&'a [u8]],
    count_at: usize,
    not_a_count: Reject,
) -> Result<KeysAndArgs<'a>, Reject> {
    let n = args
        .get(count_at)
        .and_then(|a| tandem_engine::parse_i64(a))
        .ok_or(not_a_count)?;
    let rest = args.get(count_at + 1..).unwrap_or_default();
    if n < 0 {
        return Err(Reject::Static("ERR Number of keys can't be negative"));
    }
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    if n > rest.len() {
        return Err(Reject::Static(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    Ok(rest.split_at(n))
}

fn generic(c: &mut Call<'_>, by_sha: bool, read_only_command: bool) -> CmdResult {
    let body = c.arg(1);
    let (keys, argv) = split_keys(c.args, 2, Reject::NotInteger)?;
    let source = if by_sha {
        Source::Sha(body)
    } else {
        Source::Body(body)
    };
    script::run(c, source, keys, argv, read_only_command)
}

fn script_command(c: &mut Call<'_>) -> CmdResult {
    let sub = c.arg(1);
    let argc = c.args.len();
    if argc == 2 && is(sub, "help") {
        help(c.out, HELP);
    } else if argc >= 2 && is(sub, "flush") {
        match c.args.get(2) {
            None => {}
            Some(mode) if argc == 3 && (is(mode, "sync") || is(mode, "async")) => {}
            Some(_) => {
                return Err(Reject::Static(
                    "ERR SCRIPT FLUSH only support SYNC|ASYNC option",
                ))
            }
        }
        c.shared.scripts.flush();
        c.out.ok();
    } else if argc >= 2 && is(sub, "exists") {
        let shas = c.args_from(2);
        c.out.array(shas.len());
        for sha in shas {
            c.out.int(i64::from(c.shared.scripts.contains(sha)));
        }
    } else if argc == 3 && is(sub, "load") {
        let script = script::load(&c.shared.scripts, c.arg(2))?;
        c.out.bulk(&script.sha);
    } else if argc == 2 && is(sub, "kill") {
        match c.shared.scripts.busy.kill(true) {
            Kill::Killed => c.out.ok(),
            Kill::NotBusy => {
                return Err(Reject::Static("NOTBUSY No scripts in execution right now."))
            }
            Kill::Unkillable => return Err(Reject::Static(UNKILLABLE)),
            Kill::OtherKind(busy) => return Err(Reject::Static(busy)),
        }
    } else {
        return Err(unknown_subcommand(sub, "script"));
    }
    Ok(())
}
