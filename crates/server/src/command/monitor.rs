//! MONITOR: the client is sent every command the server runs from then
//! on, one line each.
//!
//! Owns the command and its reply; the feed itself (format, which
//! commands, the queue) is `crate::monitor`'s, and `run_counted` feeds it.

use super::spec::{flags::*, spec, Spec};
use super::{Call, CmdResult, Reject};

pub(super) const COMMANDS: &[Spec] = &[spec("monitor", 1, ADMIN, (0, 0, 0), monitor)];

fn monitor(c: &mut Call<'_>) -> CmdResult {
    // Inside EXEC a reply per command is owed (Redis's words: such a
    // client may not block).
    if c.session.in_exec {
        return Err(Reject::Static(
            "ERR MONITOR isn't allowed for DENY BLOCKING client",
        ));
    }
    // A client already monitoring gets no reply at all, as from Redis
    // (which ignores the command for a client in that mode).
    if c.session.monitor.is_none() {
        c.session.monitor = Some(c.shared.monitors.start());
        c.out.ok();
    }
    Ok(())
}
