//! Server commands: COMMAND and SHUTDOWN.
//!
//! Owns what the server says about its commands, and stopping it.

use super::args::is;
use super::spec::{flags, flags::*, spec, Spec};
use super::{table, unknown_subcommand, Call, CmdResult, Reject};
use crate::session::After;

pub(super) const COMMANDS: &[Spec] = &[
    spec("command", -1, 0, (0, 0, 0), command),
    spec("shutdown", -1, ADMIN, (0, 0, 0), shutdown),
];

/// One command's COMMAND INFO entry, in Redis 7's ten-element shape.
fn describe(c: &mut Call<'_>, s: &Spec) {
    let out = &mut *c.out;
    out.array(10);
    out.bulk(s.name.as_bytes());
    out.int(i64::from(s.arity));
    let names: Vec<&str> = flags::NAMES
        .iter()
        .filter(|(bit, _)| s.flags & bit != 0)
        .map(|&(_, n)| n)
        .collect();
    out.set(names.len());
    for n in names {
        out.simple(n);
    }
    out.int(i64::from(s.keys.0));
    out.int(i64::from(s.keys.1));
    out.int(i64::from(s.keys.2));
    // ACL categories, tips, key specifications, subcommands: none yet.
    for _ in 0..4 {
        out.set(0);
    }
}

fn command(c: &mut Call<'_>) -> CmdResult {
    let Some(&sub) = c.args.get(1) else {
        let all = table();
        c.out.array(all.len());
        for s in all {
            describe(c, s);
        }
        return Ok(());
    };
    let arity = |name: &str| {
        Reject::Owned(format!(
            "ERR wrong number of arguments for 'command|{name}' command"
        ))
    };
    if is(sub, "count") {
        if c.args.len() != 2 {
            return Err(arity("count"));
        }
        c.out.count(table().len());
    } else if is(sub, "list") {
        // FILTERBY is not supported: any argument is refused.
        if c.args.len() != 2 {
            return Err(Reject::Syntax);
        }
        c.out.array(table().len());
        for s in table() {
            c.out.bulk(s.name.as_bytes());
        }
    } else if is(sub, "info") {
        let names = &c.args[2..];
        if names.is_empty() {
            // Redis 7.0: COMMAND INFO with no names describes them all.
            c.out.array(table().len());
            for s in table() {
                describe(c, s);
            }
            return Ok(());
        }
        c.out.array(names.len());
        for &name in names {
            match super::lookup(name) {
                Some(s) => describe(c, s),
                // A null bulk in RESP2, as Redis replies.
                None => c.out.null(),
            }
        }
    } else {
        return Err(unknown_subcommand(sub, "command"));
    }
    Ok(())
}

fn shutdown(c: &mut Call<'_>) -> CmdResult {
    // Redis 7.0's rules: NOSAVE and SAVE exclude each other, and ABORT
    // stands alone.
    let (mut nosave, mut save, mut abort) = (false, false, false);
    for &a in &c.args[1..] {
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
