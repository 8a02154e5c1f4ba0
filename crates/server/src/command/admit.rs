//! Admission: the checks a known command passes before it runs or is
//! queued inside MULTI, in the order Redis 7.0's `processCommand` makes
//! them, so that a request failing two checks gets Redis's error.
//!
//! Owns the refusals that come from a command's flags and the client's
//! state: arity, protected commands (`enable-debug-command`), NOAUTH,
//! `no-multi` inside MULTI, the user's permissions (`-NOPERM`, logged:
//! `access`), `-OOM` over the memory bound, `-MISCONF` for
//! writes (and PING) while data cannot be persisted, the RESP2 subscribed
//! context, `-LOADING`, and `-BUSY` while a script runs past
//! `busy-reply-threshold` (only `allow_busy` commands run then, WATCH
//! excepted: it reads its key's shard, which the script may hold). It
//! never runs a handler, and it never changes
//! the session (the caller counts the refusal and dooms the
//! transaction). One check acts as well as decides, as Redis's does:
//! over `maxmemory`, it evicts keys before any command (`eviction`).
//!
//! Flags COMMAND reports that decide nothing yet, and where their checks
//! will go, in Redis's order:
//! - `write`: `-MISCONF` is checked; beside it, once there are replicas,
//!   `-READONLY` and `-NOREPLICAS`. `write` (and the unreported
//!   `MAY_REPLICATE`) also decide what CLIENT PAUSE WRITE holds back, in
//!   the connection.
//! - `stale`: after the subscribed-context check, once Tandem can be a
//!   replica with stale data (`-MASTERDOWN`).
//! - `noscript`: in the scripting call path (`script::call`), not here.
//! - `blocking`: no command Tandem serves blocks; a blocking command
//!   inside MULTI will run without blocking, in its handler.
//! - `fast`, `admin`, `pubsub` (as a flag), `skip_slowlog`: ACL categories
//!   and the slow log, not admission.

use super::spec::flags;
use super::Resolved;
use crate::config::Allowed;
use crate::eviction::{Outcome, OOM};
use crate::resp::Protocol;
use crate::session::Session;
use crate::shared::Shared;
use std::net::SocketAddr;

/// Redis 7.0's refusal of DEBUG while `enable-debug-command` forbids it.
pub const DEBUG_NOT_ALLOWED: &str = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

/// Redis's refusal of a command without the `loading` flag while the
/// dataset loads.
pub const LOADING: &str = "LOADING Redis is loading the dataset in memory";

/// Redis's refusal of a `no-multi` command inside MULTI.
pub const NOT_IN_MULTI: &str = "ERR Command not allowed inside a transaction";

/// Why `cmd`, a request of `argc` arguments, may not run (or be queued)
/// now; `None` when it may.
pub(crate) fn refusal(
    cmd: &Resolved,
    args: &[&[u8]],
    session: &Session,
    protocol: Protocol,
    shared: &Shared,
) -> Option<String> {
    if let Some(msg) = cmd.arity_error(args.len()) {
        return Some(msg);
    }
    // A subcommand's own flags, as Redis looks them up (`c->cmd`).
    let flags = cmd.flags();
    let name = cmd.sub.map_or(cmd.spec.name, |sub| sub.full_name);
    if flags & flags::PROTECTED != 0 && !allowed(shared.config.load().enable_debug_command, session)
    {
        // Redis words it for DEBUG; PFDEBUG and PFSELFTEST, which Tandem
        // also keeps behind the switch, are named the same way.
        return Some(DEBUG_NOT_ALLOWED.replacen("DEBUG", &name.to_uppercase(), 1));
    }
    if !session.authenticated && flags & flags::NO_AUTH == 0 && shared.acl.auth_required() {
        return Some("NOAUTH Authentication required.".to_string());
    }
    if session.multi.is_some() && flags & flags::NO_MULTI != 0 {
        return Some(NOT_IN_MULTI.to_string());
    }
    if let Some(msg) = super::access::refusal(cmd, args, session, shared) {
        return Some(msg);
    }
    if let Some(msg) = out_of_memory(cmd.spec.name, flags, session, shared) {
        return Some(msg.to_string());
    }
    // Redis refuses PING too while it cannot persist (a health check
    // should see the problem).
    if flags & flags::WRITE != 0 || cmd.spec.name == "ping" {
        if let Some(msg) = shared.persistence.refusal(&shared.config.load()) {
            return Some(msg);
        }
    }
    // RESP3 clients may run anything while subscribed.
    if protocol == Protocol::Resp2
        && session.subscribed()
        && !super::pubsub::allowed_while_subscribed(cmd.spec.name)
    {
        return Some(format!(
            "ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
        ));
    }
    if flags & flags::LOADING == 0 && shared.persistence.loading() {
        return Some(LOADING.to_string());
    }
    // While a script is busy only what Redis allows runs (one atomic load
    // otherwise). WATCH is allowed there but not here: it reads its key's
    // shard, which the script may hold.
    if shared.scripts.busy.any() && (flags & flags::ALLOW_BUSY == 0 || cmd.spec.name == "watch") {
        return Some(shared.scripts.busy.reply().to_string());
    }
    None
}

/// Evicts if memory is over the bound; then, if it is still over and
/// nothing could be evicted, Redis's `-OOM` for a command that may grow
/// memory (`denyoom`, or EXEC of a transaction holding one), and for
/// anything but EXEC, DISCARD, QUIT and RESET inside MULTI (queueing
/// takes memory too).
fn out_of_memory(
    name: &str,
    flags: u32,
    session: &Session,
    shared: &Shared,
) -> Option<&'static str> {
    // No eviction while a script is busy, as in Redis: it could wait for
    // the script's shard locks; the command is refused with -BUSY after.
    if shared.config.load().eviction.maxmemory == 0 || shared.scripts.busy.any() {
        return None;
    }
    // Timed only while the latency monitor is on (Redis's
    // `eviction-cycle` event: a request's eviction that took long).
    let monitor = &shared.latency.monitor;
    let started = (monitor.threshold() != 0).then(std::time::Instant::now);
    let outcome = shared.eviction.perform(&shared.config, &shared.dbs);
    // An attempt that found memory under the bound takes microseconds:
    // only evicting can reach a threshold of milliseconds.
    if let Some(started) = started {
        let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        monitor.observe("eviction-cycle", ms);
    }
    if outcome != Outcome::Stuck {
        return None;
    }
    let denyoom = flags & flags::DENYOOM != 0
        || (name == "exec" && session.multi.as_ref().is_some_and(|m| m.denyoom));
    let queued = session.multi.is_some() && !matches!(name, "exec" | "discard" | "quit" | "reset");
    (denyoom || queued).then_some(OOM)
}

/// Whether `session` may run a protected command under `setting`.
fn allowed(setting: Allowed, session: &Session) -> bool {
    match setting {
        Allowed::Yes => true,
        Allowed::No => false,
        Allowed::Local => is_local(&session.peer),
    }
}

/// Whether a client's address (`ip:port`, or `unix`) is local: the Unix
/// socket, or the loopback interface (Redis's `islocalClient`).
fn is_local(peer: &str) -> bool {
    if peer == "unix" {
        return true;
    }
    peer.parse::<SocketAddr>().is_ok_and(|a| match a.ip() {
        std::net::IpAddr::V4(v4) => v4.is_loopback(),
        std::net::IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_means_loopback_or_the_unix_socket() {
        assert!(is_local("unix"));
        assert!(is_local("127.0.0.1:5000"));
        assert!(is_local("[::1]:5000"));
        assert!(is_local("[::ffff:127.0.0.1]:5000"));
        assert!(!is_local("10.0.0.1:5000"));
        assert!(!is_local("[2001:db8::1]:5000"));
        assert!(!is_local(""));
    }
}
