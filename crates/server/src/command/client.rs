//! CLIENT: the connection's own name, id and reply mode, and the other
//! clients (LIST, INFO, KILL, PAUSE, UNPAUSE).
//!
//! Owns the subcommands' replies. The registry they read is
//! `crate::registry`; pausing is `crate::pause`.

use super::args::{int, is};
use super::spec::{spec, Spec};
use super::{unknown_subcommand, Call, CmdResult, Reject};
use crate::blocking::Unblocked;
use crate::registry::ClientEntry;
use crate::session::ReplyMode;
use std::sync::atomic::Ordering;
use std::time::Duration;

pub(super) const COMMANDS: &[Spec] = &[spec("client", -2, 0, (0, 0, 0), client)];

/// A client name must be printable and without spaces.
pub(super) fn valid_name(name: &[u8]) -> bool {
    name.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

/// Too many arguments for a subcommand, in Redis's words
/// (`addReplySubcommandSyntaxError`, naming it as typed).
fn arity(sub: &[u8]) -> Reject {
    let sub = String::from_utf8_lossy(sub.get(..128).unwrap_or(sub)).into_owned();
    Reject::Owned(format!(
        "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try CLIENT HELP."
    ))
}

fn client(c: &mut Call<'_>) -> CmdResult {
    let sub = c.arg(1);
    let n = c.args.len();
    if is(sub, "id") {
        c.out.int(i64::try_from(c.session.id).unwrap_or(i64::MAX));
    } else if is(sub, "setname") {
        let name = c.arg(2);
        if !valid_name(name) {
            return Err(Reject::Static(
                "ERR Client names cannot contain spaces, newlines or special characters.",
            ));
        }
        c.session.name = (!name.is_empty()).then(|| bytes::Bytes::copy_from_slice(name));
        c.out.ok();
    } else if is(sub, "getname") {
        c.out.bulk_or_null(c.session.name.as_deref());
    } else if is(sub, "list") {
        list(c)?;
    } else if is(sub, "info") {
        let shown = c.session.shown(c.out.resp_version());
        c.session.entry.publish(shown);
        let mut line = c.session.entry.line(command_name, c.session.running);
        line.push('\n');
        c.out.verbatim_text(line.as_bytes());
    } else if is(sub, "kill") {
        kill(c)?;
    } else if is(sub, "reply") {
        let mode = c.arg(2);
        // OFF and SKIP answer nothing, not even OK (the connection drops
        // this command's reply).
        c.session.reply = if is(mode, "on") {
            c.out.ok();
            ReplyMode::On
        } else if is(mode, "off") {
            ReplyMode::Off
        } else if is(mode, "skip") {
            ReplyMode::SkipNext
        } else {
            return Err(Reject::Syntax);
        };
    } else if is(sub, "no-evict") {
        let on = if is(c.arg(2), "on") {
            true
        } else if is(c.arg(2), "off") {
            false
        } else {
            return Err(Reject::Syntax);
        };
        c.session.entry.no_evict.store(on, Ordering::Relaxed);
        c.out.ok();
    } else if is(sub, "pause") {
        if !(3..=4).contains(&n) {
            return Err(arity(sub));
        }
        // The mode is read before the timeout, as Redis reads them.
        let all = match c.args.get(3) {
            None => true,
            Some(m) if is(m, "all") => true,
            Some(m) if is(m, "write") => false,
            Some(_) => return Err(Reject::Static("ERR CLIENT PAUSE mode must be WRITE or ALL")),
        };
        let ms = int(c.arg(2))
            .map_err(|_| Reject::Static("ERR timeout is not an integer or out of range"))?;
        let ms = u64::try_from(ms).map_err(|_| Reject::Static("ERR timeout is negative"))?;
        c.shared.pause.pause(Duration::from_millis(ms), all);
        c.out.ok();
    } else if is(sub, "unpause") {
        c.shared.pause.unpause();
        c.out.ok();
    } else if is(sub, "unblock") {
        if !(3..=4).contains(&n) {
            return Err(arity(sub));
        }
        // The reason is read before the id, as Redis reads them.
        let how = match c.args_from(3) {
            [] => Unblocked::Timeout,
            [w] if is(w, "timeout") => Unblocked::Timeout,
            [w] if is(w, "error") => Unblocked::Error,
            _ => {
                return Err(Reject::Static(
                    "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
                ))
            }
        };
        let id = super::args::int(c.arg(2))?;
        let done = u64::try_from(id).is_ok_and(|id| c.shared.blocking.unblock(id, how));
        c.out.int(i64::from(done));
    } else if is(sub, "tracking")
        || is(sub, "caching")
        || is(sub, "getredir")
        || is(sub, "trackinginfo")
    {
        return Err(Reject::Static(
            "ERR client-side caching (CLIENT TRACKING) is not supported by Tandem yet",
        ));
    } else if is(sub, "help") {
        // Redis 7.0's text, without the client-side caching entries
        // (CACHING, GETREDIR, TRACKING, TRACKINGINFO), which Tandem refuses.
        let lines = [
            "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
            "HELP",
            "    Prints this help.",
        ];
        c.out.array(lines.len());
        for l in lines {
            c.out.simple(l);
        }
    } else {
        return Err(unknown_subcommand(sub, "client"));
    }
    Ok(())
}

/// The client types CLIENT LIST and KILL filter on. No replica or master
/// ever connects to Tandem, so those types match nobody.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    Pubsub,
    Nobody,
}

fn client_type(t: &[u8]) -> Result<ClientType, Reject> {
    if is(t, "normal") {
        Ok(ClientType::Normal)
    } else if is(t, "pubsub") {
        Ok(ClientType::Pubsub)
    } else if is(t, "master") || is(t, "replica") || is(t, "slave") {
        Ok(ClientType::Nobody)
    } else {
        Err(Reject::Owned(format!(
            "ERR Unknown client type '{}'",
            String::from_utf8_lossy(t)
        )))
    }
}

fn of_type(entry: &ClientEntry, t: ClientType) -> bool {
    match t {
        ClientType::Normal => !entry.is_pubsub(),
        ClientType::Pubsub => entry.is_pubsub(),
        ClientType::Nobody => false,
    }
}

/// CLIENT LIST, read as Redis 7.0 reads it: `TYPE t` or `ID id...`, one
/// filter. Ids are listed in the order given, each time given; an id no
/// client has (0 and negative ones too) lists nothing.
fn list(c: &mut Call<'_>) -> CmdResult {
    let n = c.args.len();
    let mut only = None;
    let mut ids: Option<Vec<i64>> = None;
    match c.args.get(2) {
        None => {}
        Some(opt) if n == 4 && is(opt, "type") => only = Some(client_type(c.arg(3))?),
        Some(opt) if n > 3 && is(opt, "id") => {
            let given = c.args_from(3).iter().map(|a| int(a).ok());
            let given: Option<Vec<i64>> = given.collect();
            ids = Some(given.ok_or(Reject::Static("ERR Invalid client ID"))?);
        }
        Some(_) => return Err(Reject::Syntax),
    }
    let shown = c.session.shown(c.out.resp_version());
    c.session.entry.publish(shown);
    let all = c.shared.registry.all();
    let line = |entry: &ClientEntry| {
        let running = (entry.id == c.session.id).then_some(c.session.running);
        let mut line = entry.line(command_name, running.flatten());
        line.push('\n');
        line
    };
    let text: String = match ids {
        Some(ids) => ids
            .iter()
            .filter_map(|&id| all.iter().find(|e| i64::try_from(e.id) == Ok(id)))
            .map(|e| line(e))
            .collect(),
        None => all
            .iter()
            .filter(|e| only.is_none_or(|t| of_type(e, t)))
            .map(|e| line(e))
            .collect(),
    };
    c.out.verbatim_text(text.as_bytes());
    Ok(())
}

/// One CLIENT KILL condition.
type Filter = Box<dyn Fn(&ClientEntry) -> bool>;

fn kill(c: &mut Call<'_>) -> CmdResult {
    let clients = c.shared.registry.all();
    // The old form: CLIENT KILL ip:port, one client, OK or an error.
    if c.args.len() == 3 {
        let addr = c.arg(2);
        let Some(entry) = clients.iter().find(|e| e.addr.as_bytes() == addr) else {
            return Err(Reject::Static("ERR No such client"));
        };
        entry.kill.cancel();
        c.out.ok();
        return Ok(());
    }
    let mut filters: Vec<Filter> = Vec::new();
    let mut skip_me = true;
    let mut i = 2;
    while i < c.args.len() {
        let (opt, value) = (c.arg(i), c.args.get(i + 1).copied().ok_or(Reject::Syntax)?);
        if is(opt, "id") {
            let id = int(value)
                .ok()
                .and_then(|n| u64::try_from(n).ok())
                .filter(|&n| n > 0)
                .ok_or(Reject::Static("ERR client-id should be greater than 0"))?;
            filters.push(Box::new(move |e: &ClientEntry| e.id == id));
        } else if is(opt, "addr") {
            let addr = value.to_vec();
            filters.push(Box::new(move |e: &ClientEntry| e.addr.as_bytes() == addr));
        } else if is(opt, "laddr") {
            let addr = value.to_vec();
            filters.push(Box::new(move |e: &ClientEntry| e.laddr.as_bytes() == addr));
        } else if is(opt, "user") {
            if c.shared.acl.user(value).is_none() {
                return Err(Reject::Owned(format!(
                    "ERR No such user '{}'",
                    String::from_utf8_lossy(value)
                )));
            }
            let name = value.to_vec();
            filters.push(Box::new(move |e: &ClientEntry| e.is_user(&name)));
        } else if is(opt, "type") {
            let t = client_type(value)?;
            filters.push(Box::new(move |e: &ClientEntry| of_type(e, t)));
        } else if is(opt, "skipme") {
            skip_me = if is(value, "yes") {
                true
            } else if is(value, "no") {
                false
            } else {
                return Err(Reject::Syntax);
            };
        } else {
            return Err(Reject::Syntax);
        }
        i += 2;
    }
    let me = c.session.id;
    let mut killed = 0;
    for entry in clients.iter().filter(|e| !(skip_me && e.id == me)) {
        if filters.iter().all(|f| f(entry)) {
            entry.kill.cancel();
            killed += 1;
        }
    }
    c.out.count(killed);
    Ok(())
}

/// The CLIENT subcommands its handler refuses in its own words although
/// COMMAND does not list them (client-side caching).
const REFUSED: [&str; 3] = ["caching", "getredir", "trackinginfo"];

/// Whether `command`'s handler answers subcommand `sub`, unlisted.
pub(crate) fn answers_unlisted(command: &str, sub: &[u8]) -> bool {
    command == "client" && REFUSED.iter().any(|r| is(sub, r))
}

/// The name of the command or subcommand at stats slot `slot`
/// (`client|list`), for CLIENT LIST's `cmd` (the registry stores only
/// the slot).
pub(crate) fn command_name(slot: usize) -> Option<&'static str> {
    super::stat_names().get(slot).copied()
}
