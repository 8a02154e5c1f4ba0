//! Running a command once it is admitted: in the client's database
//! (`run`), or inside one engine batch (`run_batch`, EXEC's), and
//! everything counted around each run (`run_counted`): the stats, the
//! latency histograms and the latency monitor, the slow log, MONITOR's
//! feed, the keyspace hits and misses the command made, and the keys a
//! write may have made ready for blocked clients.
//!
//! Owns that order. It must never run a command that `admit` has not
//! let through.

use super::{meta, spec, Call, Resolved, Spec, Target};
use crate::resp::Out;
use crate::session::{After, Session};
use crate::shared::Shared;
use bytes::Bytes;
use tandem_engine::Db;

/// Runs an admitted request (see `admit`) in the database the client has
/// selected now.
pub(crate) fn run(
    args: &[&[u8]],
    cmd: Resolved,
    out: &mut Out,
    session: &mut Session,
    shared: &Shared,
) {
    // The table is borrowed, not cloned: a `Db` clone would bump one
    // reference count that every core's requests share.
    let table = shared.dbs.table();
    let Some(db) = crate::databases::selected(&table, session.db) else {
        return;
    };
    let mut call = Call {
        args,
        out,
        session,
        shared,
        db,
        kv: db,
    };
    run_counted(&mut call, &cmd);
}

/// Requests running inside one atomic batch of the client's database
/// (see `run_batch`).
pub(crate) struct Batched<'a> {
    db: &'a Db,
    kv: &'a dyn Target,
    shared: &'a Shared,
}

impl Batched<'_> {
    /// Runs an admitted request on the batch, counted as `run` counts it.
    /// It must be `transaction::is_atomic` (or an EVALSHA, which runs its
    /// script on the batch: `script::run`) and its keys among the batch's.
    pub(crate) fn run(&self, args: &[&[u8]], cmd: Resolved, out: &mut Out, session: &mut Session) {
        let mut call = Call {
            args,
            out,
            session,
            shared: self.shared,
            db: self.db,
            kv: self.kv,
        };
        run_counted(&mut call, &cmd);
    }
}

/// Runs `body` inside one atomic batch over `keys` in database `db` (the
/// one the client has selected): the keys' shards stay locked until it
/// returns, as for EXEC. `None` (and `body` not run) only if there is no
/// database.
pub(crate) fn run_batch<R>(
    keys: &[&[u8]],
    db: usize,
    shared: &Shared,
    body: impl FnOnce(&Batched<'_>) -> R,
) -> Option<R> {
    let table = shared.dbs.table();
    let db = crate::databases::selected(&table, db)?;
    Some(db.atomically(keys, |tx| body(&Batched { db, kv: tx, shared })))
}

/// The keys of `args` as `spec`'s key specifications place them.
fn keys_by_spec<'a>(spec: &Spec, args: &[&'a [u8]]) -> Keys<'a> {
    let positions: Vec<usize> = meta::Described::command(spec)
        .key_specs()
        .iter()
        .filter_map(|k| k.positions(args))
        .flatten()
        .collect();
    positions
        .into_iter()
        .filter_map(|i| args.get(i).copied())
        .collect()
}

/// A request's keys: most name one to four, kept without allocating.
pub(crate) type Keys<'a> = smallvec::SmallVec<[&'a [u8]; 4]>;

/// The keys of the request `args` to `spec`'s command: by its legacy key
/// positions, or, for a command whose keys follow a count (Redis's
/// `movablekeys`), by its key specifications.
pub(crate) fn keys_of<'a>(spec: &Spec, args: &[&'a [u8]]) -> Keys<'a> {
    if spec.flags & spec::flags::MOVABLE_KEYS != 0 && crate::script::runs_script(spec.name) {
        // A script's command (EVAL's, FCALL's): what its key
        // specification says (a count at 2, keys from 3), without reading
        // it, as a pipeline's batch of EVALSHAs asks per request.
        let n = args
            .get(2)
            .and_then(|a| tandem_engine::parse_i64(a))
            .filter(|&n| n > 0)
            .and_then(|n| usize::try_from(n).ok());
        return match n.and_then(|n| args.get(3..n.checked_add(3)?)) {
            Some(keys) => keys.iter().copied().collect(),
            None => Keys::new(),
        };
    }
    if spec.flags & spec::flags::MOVABLE_KEYS != 0 {
        return keys_by_spec(spec, args);
    }
    let (first, last, step) = spec.keys;
    let len = i64::try_from(args.len()).unwrap_or(i64::MAX);
    let last = if last < 0 {
        len + i64::from(last)
    } else {
        i64::from(last)
    };
    let (first, step) = (i64::from(first), i64::from(step).max(1));
    let positions = if first <= 0 {
        0..0
    } else {
        first..last.min(len - 1) + 1
    };
    positions
        .step_by(usize::try_from(step).unwrap_or(1))
        .filter_map(|i| usize::try_from(i).ok().and_then(|i| args.get(i).copied()))
        .collect()
}

/// Runs `spec`'s handler on an admitted request and writes its error if
/// it fails, counting the call (and any error) in the stats under
/// `slot`: what `execute` does once a request passes its checks, and what
/// EXEC does for each command it runs inside one batch.
pub(crate) fn run_counted(call: &mut Call<'_>, cmd: &Resolved) {
    let (spec, slot) = (cmd.spec, cmd.slot);
    let stats = &call.shared.stats;
    // Timed one time in 16 for the stats. While the slow log is on (by
    // default, as in Redis) every command is timed too, but from where
    // the connection's previous command ended (`Session::turn_clock`):
    // one clock read per command. That time also holds the parsing of
    // this request, tens of nanoseconds, which the stats' own reads
    // leave out.
    let sampled = stats.should_time(slot).then(crate::ticks::now);
    let logging = call.shared.slowlog.enabled();
    // Latency tracking (on by default, as in Redis) and the latency
    // monitor read the same chained time as the slow log.
    let timing = logging || call.shared.latency.timing();
    let chained = if timing {
        sampled
            .or(call.session.turn_clock)
            .or_else(|| Some(crate::ticks::now()))
    } else {
        // A reading left from before timing was turned off must not be
        // the start of a command after it is turned on again.
        call.session.turn_clock = None;
        None
    };
    let result = (spec.handler)(call);
    // A command that waits has not run yet: it is logged, fed to MONITOR
    // and counted when it runs again to answer.
    let blocked = call.session.after == After::Blocked;
    let end = (sampled.is_some() || timing).then(crate::ticks::now);
    let took = sampled.zip(end).map(|(s, e)| crate::ticks::between(s, e));
    let mut tracked = None;
    if let (Some(start), Some(end)) = (chained, end) {
        call.session.turn_clock = Some(end);
        // Logged with the time of the run that answers, as Redis logs a
        // blocked command once unblocked.
        if logging
            && spec.flags & spec::flags::SKIP_SLOWLOG == 0
            && !blocked
            && call.shared.slowlog.may_log(start, end)
        {
            let session = &call.session;
            call.shared.slowlog.record(
                crate::ticks::between(start, end),
                call.args,
                &session.peer,
                session.name.as_deref(),
            );
        }
        if !blocked {
            tracked = track_latency(call.shared, cmd, start, end);
        }
    }
    // MONITOR's feed, after the command ran, as Redis 7 feeds it.
    // Administrative commands are not shown.
    if !blocked && call.shared.monitors.active() && cmd.flags() & spec::flags::ADMIN == 0 {
        call.shared
            .monitors
            .feed(call.session.db, &call.session.peer, call.args);
    }
    match result {
        Ok(()) => {
            if blocked {
                // It has written nothing yet (see above).
                return;
            }
            stats.call(slot, took, false, tracked, tandem_engine::lookups::take());
            // A container's subcommand (XGROUP CREATE) writes by its own flags.
            if cmd.flags() & spec::flags::WRITE != 0 {
                stats.changed();
                // A write may have given a blocked client what it waits
                // for: its keys are served after the request (after EXEC
                // as a whole), before the reply. One atomic load when no
                // one is blocked.
                if call.shared.blocking.any() {
                    let db = call.session.db;
                    for key in keys_of(spec, call.args) {
                        call.session.ready.push((db, Bytes::copy_from_slice(key)));
                    }
                }
            }
        }
        Err(reject) => {
            let msg = reject.message(spec.name);
            call.out.error(&msg);
            stats.call(slot, took, true, tracked, tandem_engine::lookups::take());
            stats.error(msg.as_bytes());
        }
    }
}

/// Feeds a command that ran from `start` to `end` (`ticks` readings) to
/// the latency monitor, as Redis does (`fast-command` for a command
/// flagged fast, `command` otherwise, EXEC excepted as the slow log
/// excepts it); its duration in nanoseconds if it goes in its histogram.
fn track_latency(shared: &Shared, cmd: &Resolved, start: u64, end: u64) -> Option<u64> {
    let latency = &shared.latency;
    if latency.monitor.threshold() != 0 && cmd.spec.flags & spec::flags::SKIP_SLOWLOG == 0 {
        let ms = u64::try_from(crate::ticks::between(start, end).as_millis()).unwrap_or(u64::MAX);
        let fast = cmd.flags() & spec::flags::FAST != 0;
        let event = if fast { "fast-command" } else { "command" };
        latency.monitor.observe(event, ms);
    }
    latency
        .tracking()
        .then(|| crate::ticks::nanos_between(start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scripts_keys_are_what_its_key_specification_says() {
        for name in [
            "eval",
            "evalsha",
            "eval_ro",
            "evalsha_ro",
            "fcall",
            "fcall_ro",
        ] {
            let Some(spec) = crate::command::lookup(name.as_bytes()) else {
                panic!("{name} is a command");
            };
            for args in [
                &[&b"x"[..], b"s", b"2", b"a", b"b", b"c"][..],
                &[b"x", b"s", b"0", b"a"],
                &[b"x", b"s", b"3", b"a", b"b"],
                &[b"x", b"s", b"-1", b"a"],
                &[b"x", b"s", b"one", b"a"],
                &[b"x", b"s"],
                &[b"x", b"s", b"1", b"k"],
                &[b"x", b"s", b"99999999999999999999", b"k"],
            ] {
                assert_eq!(
                    keys_of(spec, args),
                    keys_by_spec(spec, args),
                    "{name} {args:?}"
                );
            }
        }
    }
}
