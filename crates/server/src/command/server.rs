//! Server commands: SHUTDOWN, TIME, and the persistence commands SAVE,
//! BGSAVE, BGREWRITEAOF and LASTSAVE.
//!
//! Owns stopping the server (saving first when Redis would) and the
//! replies of the persistence commands; the jobs themselves are
//! `persistence`'s. It never touches the keyspace.

use super::args::is;
use super::spec::{flags::*, spec, Spec};
use super::{Call, CmdResult, Reject};
use crate::persistence::{Job, Started};
use crate::session::After;
use std::time::{SystemTime, UNIX_EPOCH};

pub(super) const COMMANDS: &[Spec] = &[
    spec("shutdown", -1, ADMIN | NO_MULTI, (0, 0, 0), shutdown),
    spec("time", 1, FAST, (0, 0, 0), time),
    spec("lastsave", 1, FAST, (0, 0, 0), lastsave),
    spec("save", 1, ADMIN | NO_MULTI, (0, 0, 0), save),
    spec("bgsave", -1, ADMIN, (0, 0, 0), bgsave),
    spec("bgrewriteaof", 1, ADMIN, (0, 0, 0), bgrewriteaof),
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
    // While a script is busy only SHUTDOWN NOSAVE goes on, and the
    // script stops without its writes reaching the log.
    let busy = &c.shared.scripts.busy;
    if busy.any() {
        if !nosave {
            return Err(Reject::Static(busy.reply()));
        }
        busy.abort_all();
        c.shared.persistence.skip_save();
        c.session.after = After::Shutdown;
        return Ok(());
    }
    // Redis saves when asked, or when save rules are set and NOSAVE is
    // not given; then the log is synced. If that fails the server stays
    // up. On success Redis closes the connection without a reply.
    let save = save || (!nosave && c.shared.config.load().save.any());
    let changes = c.shared.stats.changes();
    if c.shared.persistence.shutdown(save, changes).is_err() {
        return Err(Reject::Static("ERR Errors trying to SHUTDOWN. Check logs."));
    }
    c.session.after = After::Shutdown;
    Ok(())
}

/// SAVE: a snapshot now; the client waits for it.
fn save(c: &mut Call<'_>) -> CmdResult {
    let changes = c.shared.stats.changes();
    c.shared.persistence.save(changes).map_err(Reject::Owned)?;
    c.out.ok();
    Ok(())
}

/// BGSAVE [SCHEDULE]: a snapshot on a thread of its own.
fn bgsave(c: &mut Call<'_>) -> CmdResult {
    let schedule = match c.args_from(1) {
        [] => false,
        [a] if is(a, "schedule") => true,
        _ => return Err(Reject::Syntax),
    };
    let changes = c.shared.stats.changes();
    match c
        .shared
        .persistence
        .background(Job::Save, schedule, changes)
        .map_err(Reject::Owned)?
    {
        Started::Now => c.out.simple("Background saving started"),
        Started::Scheduled => c.out.simple("Background saving scheduled"),
    }
    Ok(())
}

/// BGREWRITEAOF: compacts the log into a new snapshot, in the background.
fn bgrewriteaof(c: &mut Call<'_>) -> CmdResult {
    let changes = c.shared.stats.changes();
    match c
        .shared
        .persistence
        .background(Job::Rewrite, false, changes)
        .map_err(Reject::Owned)?
    {
        Started::Now => c
            .out
            .simple("Background append only file rewriting started"),
        Started::Scheduled => c
            .out
            .simple("Background append only file rewriting scheduled"),
    }
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

/// LASTSAVE: the Unix time of the last successful snapshot, or of the
/// start when there has been none, as Redis reports.
fn lastsave(c: &mut Call<'_>) -> CmdResult {
    let at = c.shared.persistence.last_save();
    c.out.int(i64::try_from(at).unwrap_or(i64::MAX));
    Ok(())
}
