//! DEBUG: commands for operators and tests.
//!
//! Owns DEBUG SLEEP (pause the serving thread, as Redis pauses its one
//! thread), DEBUG RELOAD (save, empty the databases, load them back from
//! disk, as Redis does) and DEBUG RESIZE (Tandem's own: resize a
//! database's shards now). Both block the thread that serves the client until done, and with
//! it every connection that thread serves; connections on other serving
//! threads carry on, where Redis would stop entirely. As in Redis 7,
//! DEBUG is off unless `enable-debug-command` allows it: it is marked
//! `PROTECTED`, and `command::admit` refuses it before this module runs.

use super::args::{int, is};
use super::introspection::help;
use super::spec::{flags::*, spec, Spec};
use super::{subcommand_syntax_error, Call, CmdResult, Reject};
use std::time::Duration;
use tandem_engine::MAX_SHARDS;

pub(super) const COMMANDS: &[Spec] = &[spec("debug", -2, ADMIN | PROTECTED, (0, 0, 0), debug)];

const HELP: &[&str] = &[
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed. Here it stops the",
    "    serving thread of this connection, and the connections it serves.",
    "RELOAD [option ...]",
    "    Save the dataset on disk, empty the databases and load them back from",
    "    disk. Options: NOSAVE (do not save first), NOFLUSH (do not empty the",
    "    databases first), MERGE (loaded keys replace existing ones: always so).",
    "RESIZE <dbid> <shards>",
    "    Resize database <dbid> to <shards> shards now, and reply once the",
    "    keys have moved. The resize policy may resize it again later.",
    "HELP",
    "    Prints this help.",
];

fn debug(c: &mut Call<'_>) -> CmdResult {
    let sub = c.arg(1);
    match c.args.len() {
        2 if is(sub, "help") => help(c.out, HELP),
        3 if is(sub, "sleep") => {
            // As Redis's `strtod`: what is not a number sleeps 0 seconds.
            let secs = std::str::from_utf8(c.arg(2))
                .ok()
                .and_then(|s| s.trim().parse::<f64>().ok())
                .unwrap_or(0.0);
            if let Ok(pause) = Duration::try_from_secs_f64(secs) {
                // Blocks this serving thread on purpose: see the module.
                std::thread::sleep(pause);
            }
            c.out.ok();
        }
        _ if is(sub, "reload") => {
            let (mut save, mut flush) = (true, true);
            for &option in c.args_from(2) {
                if is(option, "nosave") {
                    save = false;
                } else if is(option, "noflush") {
                    flush = false;
                } else if is(option, "merge") {
                    // Loaded keys always replace what is there.
                } else {
                    return Err(Reject::Static(
                        "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
                    ));
                }
            }
            // Redis stops serving while it reloads; here the other serving
            // threads go on, and a write they make between the log's close
            // and the reload is neither logged nor kept: a debugging
            // command, for a quiet server.
            let store = c
                .shared
                .persistence
                .store()
                .ok_or(Reject::Static(super::admit::LOADING))?;
            store.reload(save, flush).map_err(|e| {
                tracing::error!("DEBUG RELOAD failed: {e}");
                Reject::Static("ERR Error trying to load the RDB dump, check server logs.")
            })?;
            c.shared.dbs.renumber(&store.numbering());
            super::function::recover(c.shared).map_err(|e| {
                tracing::error!("DEBUG RELOAD: the function libraries do not load: {e}");
                Reject::Static("ERR Error trying to load the RDB dump, check server logs.")
            })?;
            c.out.ok();
        }
        4 if is(sub, "resize") => {
            let index = usize::try_from(int(c.arg(2))?)
                .ok()
                .filter(|&i| i < c.shared.dbs.len())
                .ok_or(Reject::Static("ERR DB index is out of range"))?;
            let shards = usize::try_from(int(c.arg(3))?)
                .ok()
                .filter(|n| (1..=MAX_SHARDS).contains(n))
                .ok_or_else(|| {
                    Reject::Owned(format!(
                        "ERR shard count must be between 1 and {MAX_SHARDS}"
                    ))
                })?;
            let db = c.shared.dbs.get(index);
            if db.memtable_kind() == tandem_engine::MemtableKind::SingleLock {
                return Err(Reject::Static(
                    "ERR the database's memtable is single-lock: it has no shards to resize",
                ));
            }
            // Waits for any running resize, then migrates (paced as the
            // resizer's are). Nothing to do if the count is already right.
            db.resize(shards);
            c.out.ok();
        }
        // Test-only (the `fault-injection` feature, never in a release
        // build), so not in HELP: make a background thread panic, to see
        // what its death does to INFO, the log and writes.
        #[cfg(feature = "fault-injection")]
        3 if is(sub, "panic-thread") => {
            let worker = tandem_engine::Worker::ALL
                .into_iter()
                .find(|w| is(c.arg(2), w.as_str()))
                .ok_or(Reject::Static("ERR no such background thread"))?;
            c.shared.dbs.background().inject_panic(worker);
            c.out.ok();
        }
        _ => return Err(subcommand_syntax_error(sub, "debug")),
    }
    Ok(())
}
