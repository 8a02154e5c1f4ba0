//! Server commands: SHUTDOWN, TIME and LASTSAVE.
//!
//! Owns stopping the server and what it says of its clock and its saves.
//! It never touches the keyspace.

use super::args::is;
use super::spec::{flags::*, spec, Spec};
use super::{Call, CmdResult, Reject};
use crate::session::After;
use std::time::{SystemTime, UNIX_EPOCH};

pub(super) const COMMANDS: &[Spec] = &[
    spec("shutdown", -1, ADMIN | NO_MULTI, (0, 0, 0), shutdown),
    spec("time", 1, FAST, (0, 0, 0), time),
    spec("lastsave", 1, FAST, (0, 0, 0), lastsave),
];

fn shutdown(c: &mut Call<'_>) -> CmdResult {
    // Redis 7.0's rules: NOSAVE and SAVE exclude each other, and ABORT
    // stands alone.
    let (mut nosave, mut save, mut abort) = (false, false, false);
    for &a in c.args_from(1) {
        if is(a, "nosave") {
            nosave = true;
        } else if is(a, "save") {
            save = true;
        } else if is(a, "abort") {
            abort = true;
        } else if !(is(a, "now") || is(a, "force")) {
            return Err(Reject::Syntax);
        }
    }
    if (nosave && save) || (abort && c.args.len() > 2) {
        return Err(Reject::Syntax);
    }
    if abort {
        return Err(Reject::Static("ERR No shutdown in progress."));
    }
    // Nothing to save: there is no persistence yet. On success Redis
    // closes the connection without a reply.
    c.session.after = After::Shutdown;
    Ok(())
}

/// TIME: the server's clock as Unix seconds and microseconds, two bulk
/// strings.
fn time(c: &mut Call<'_>) -> CmdResult {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut digits = itoa::Buffer::new();
    c.out.array(2);
    c.out.bulk(digits.format(now.as_secs()).as_bytes());
    c.out.bulk(digits.format(now.subsec_micros()).as_bytes());
    Ok(())
}

/// LASTSAVE: the Unix time of the last save. Nothing is saved yet, so
/// this is when the server started, as Redis reports before its first
/// save.
fn lastsave(c: &mut Call<'_>) -> CmdResult {
    let started = c.shared.stats.started_unix();
    c.out
        .int(i64::try_from(started.as_secs()).unwrap_or(i64::MAX));
    Ok(())
}
