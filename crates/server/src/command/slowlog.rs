//! SLOWLOG: GET, LEN, RESET and HELP over the server's slow log.
//!
//! Owns the command's replies, in Redis 7.0's shapes and words. What is
//! logged, and when, is `crate::slowlog`'s; this module only reads and
//! clears it.

use super::args::is;
use super::introspection::help;
use super::spec::{spec, Spec};
use super::{subcommand_syntax_error, unknown_subcommand, Call, CmdResult, Reject};

pub(super) const COMMANDS: &[Spec] = &[spec("slowlog", -2, 0, (0, 0, 0), slowlog)];

const HELP: &[&str] = &[
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
];

/// Redis's words for a count that is not an integer of -1 or more.
const BAD_COUNT: &str = "ERR count should be greater than or equal to -1";

/// Entries GET returns without a count.
const DEFAULT_COUNT: usize = 10;

fn slowlog(c: &mut Call<'_>) -> CmdResult {
    // The dispatcher has checked each listed subcommand's arity.
    let sub = c.arg(1);
    let log = &c.shared.slowlog;
    match c.args.len() {
        2 if is(sub, "help") => help(c.out, HELP),
        2 if is(sub, "reset") => {
            log.reset();
            c.out.ok();
        }
        2 if is(sub, "len") => c.out.count(log.len()),
        2 | 3 if is(sub, "get") => {
            let count = match c.args.get(2) {
                None => Some(DEFAULT_COUNT),
                Some(n) => count(n)?,
            };
            let entries = log.newest(count);
            c.out.array(entries.len());
            for e in entries {
                c.out.array(6);
                c.out.int(i64::try_from(e.id).unwrap_or(i64::MAX));
                c.out.int(e.time);
                c.out.int(i64::try_from(e.micros).unwrap_or(i64::MAX));
                c.out.bulks(e.args.iter());
                c.out.bulk(e.peer.as_bytes());
                c.out.bulk(&e.name);
            }
        }
        _ if ["get", "len", "reset", "help"].iter().any(|s| is(sub, s)) => {
            return Err(subcommand_syntax_error(sub, "slowlog"));
        }
        _ => return Err(unknown_subcommand(sub, "slowlog")),
    }
    Ok(())
}

/// GET's count: `None` for -1 (every entry).
fn count(arg: &[u8]) -> Result<Option<usize>, Reject> {
    match tandem_engine::parse_i64(arg) {
        Some(-1) => Ok(None),
        Some(n) if n >= 0 => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
        _ => Err(Reject::Static(BAD_COUNT)),
    }
}
