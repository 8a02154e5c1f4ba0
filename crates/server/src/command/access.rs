//! What a request touches, for the ACL check and COMMAND GETKEYS: its
//! keys with how it uses each, and the channels it publishes or
//! subscribes to; and the ACL check itself, with its refusals and log.
//!
//! Owns the bridge between the command table (key specifications, and
//! the few commands whose keys only their own parsing finds: SORT's and
//! GEORADIUS's STORE, XREAD's and XREADGROUP's streams, read as the
//! commands read them, so that the key checked is the key used) and
//! `crate::acl`, which decides. It never runs a command.

use super::args::is;
use super::meta::{key, Described, KeySpec};
use super::Resolved;
use crate::acl::log::{self, Context, Reason};
use crate::acl::{self, selector, Denied, Refs};
use crate::session::Session;
use crate::shared::Shared;
use smallvec::SmallVec;
use std::sync::LazyLock;

/// What a command's requests touch, found once per command from its
/// metadata, so that a request pays no lookup by name.
struct Plan {
    /// Its key specifications, shard channels (`not_key`) left out.
    specs: Vec<KeySpec>,
    /// SORT, GEORADIUS, GEORADIUSBYMEMBER: the key, then a STORE key only
    /// their own parsing finds.
    store: bool,
    /// XREAD, XREADGROUP: keys found as their parsing finds them.
    streams: bool,
    /// TANDEM.RANGE: returns keys (and values) it does not name, so it
    /// needs read access to every key.
    every_key: bool,
    /// Its keys' flags depend on its arguments (SET).
    variable: bool,
    /// Where its channels are.
    channels: Channels,
}

/// Where a command names channels, as Redis's `getChannelsFromCommand`
/// says (the unsubscribing commands are not checked).
#[derive(Debug, Clone, Copy)]
enum Channels {
    /// Nowhere.
    None,
    /// Every argument from the first (SUBSCRIBE, SSUBSCRIBE), or every
    /// one a pattern (PSUBSCRIBE).
    All { patterns: bool },
    /// The first argument (PUBLISH, SPUBLISH).
    First,
}

/// Every command's and subcommand's plan, by stats slot.
fn plans() -> &'static [Plan] {
    static PLANS: LazyLock<Vec<Plan>> = LazyLock::new(|| {
        let plan = |name: &str, d: Described| Plan {
            specs: d
                .key_specs()
                .into_iter()
                .filter(|k| k.flags & key::NOT_KEY == 0)
                .collect(),
            store: matches!(name, "sort" | "georadius" | "georadiusbymember"),
            streams: matches!(name, "xread" | "xreadgroup"),
            every_key: name == "tandem.range",
            variable: d.keys.iter().any(|k| k.flags & key::VARIABLE_FLAGS != 0),
            channels: match name {
                "subscribe" | "ssubscribe" => Channels::All { patterns: false },
                "psubscribe" => Channels::All { patterns: true },
                "publish" | "spublish" => Channels::First,
                _ => Channels::None,
            },
        };
        let table = super::table();
        let commands = table.iter().map(|s| plan(s.name, Described::command(s)));
        let subs = table
            .iter()
            .filter_map(|s| super::meta::of(s.name))
            .flat_map(|m| {
                m.subcommands
                    .iter()
                    .map(|sub| plan(sub.full_name, Described::sub(sub)))
            });
        commands.chain(subs).collect()
    });
    &PLANS
}

/// Each key of `args` (a request to `found`) by position, with its key
/// specification flags (`meta::key`), in the order Redis lists them.
/// Shard channels, routed like keys, are left out.
pub(crate) fn key_positions(found: &Resolved, args: &[&[u8]]) -> SmallVec<[(usize, u32); 4]> {
    let mut out = SmallVec::new();
    let Some(plan) = plans().get(found.slot) else {
        return out;
    };
    if plan.store {
        out.push((1, key::RO | key::ACCESS));
        if let Some(at) = store_key(found.spec.name, args) {
            out.push((at, key::OW | key::UPDATE));
        }
        return out;
    }
    if plan.streams {
        // The flags their key specification gives (Redis's).
        let flags = plan
            .specs
            .first()
            .map_or(key::RO | key::ACCESS, |k| k.flags);
        out.extend(stream_keys(args).map(|i| (i, flags)));
        return out;
    }
    for k in &plan.specs {
        let flags = if plan.variable && k.flags & key::VARIABLE_FLAGS != 0 {
            variable_key_flags(found.spec.name, args)
        } else {
            k.flags
        };
        if let Some((first, last, step)) = k.range(args) {
            out.extend((first..=last).step_by(step).map(|i| (i, flags)));
        }
    }
    out
}

/// Where SORT's or GEORADIUS's STORE (or STOREDIST) key is, if given,
/// read as the commands themselves read their options (the last one
/// wins), so that the key checked is the key written.
fn store_key(name: &str, args: &[&[u8]]) -> Option<usize> {
    let mut found = None;
    if name == "sort" {
        // `command/sort.rs`'s `options`: LIMIT takes two, BY, GET and
        // STORE one; a word without its arguments ends the parse (SORT
        // then refuses the request).
        let mut i = 2;
        while let Some(arg) = args.get(i) {
            let left = args.len() - i - 1;
            if is(arg, "limit") && left >= 2 {
                i += 2;
            } else if is(arg, "store") && left >= 1 {
                found = Some(i + 1);
                i += 1;
            } else if (is(arg, "by") || is(arg, "get")) && left >= 1 {
                i += 1;
            }
            i += 1;
        }
    } else {
        let mut i = 5;
        while let Some(arg) = args.get(i) {
            if (is(arg, "store") || is(arg, "storedist")) && i + 1 < args.len() {
                found = Some(i + 1);
                i += 1;
            }
            i += 1;
        }
    }
    found
}

/// XREAD's and XREADGROUP's keys, found as `command/stream_read.rs`
/// reads the options (GROUP takes two words, COUNT and BLOCK one), not by
/// searching for the word STREAMS, which a group or consumer may be
/// named: the first half of what follows STREAMS.
fn stream_keys(args: &[&[u8]]) -> std::ops::Range<usize> {
    let mut i = 1;
    while let Some(opt) = args.get(i) {
        let more = args.len() - i - 1;
        if (is(opt, "block") || is(opt, "count")) && more > 0 {
            i += 1;
        } else if is(opt, "group") && more >= 2 {
            i += 2;
        } else if is(opt, "streams") && more > 0 {
            let first = i + 1;
            return first..first + (args.len() - first) / 2;
        } else if !is(opt, "noack") {
            break;
        }
        i += 1;
    }
    0..0
}

/// The key flags of a command whose flags depend on its arguments, as
/// Redis's own key-finding function for it says: SET reads the old value
/// with GET, BITFIELD only reads with GETs alone.
fn variable_key_flags(name: &str, args: &[&[u8]]) -> u32 {
    match name {
        "set" if args.iter().skip(3).any(|a| is(a, "get")) => key::RW | key::ACCESS | key::UPDATE,
        "set" => key::OW | key::UPDATE,
        "bitfield" if bitfield_reads_only(args) => key::RO | key::ACCESS,
        _ => key::RW | key::ACCESS | key::UPDATE,
    }
}

/// Whether a BITFIELD request only reads (GET and OVERFLOW alone), as
/// Redis's `bitfieldGetKeys` reads it: anything it does not know, a
/// syntax error included, counts as a write.
fn bitfield_reads_only(args: &[&[u8]]) -> bool {
    let mut i = 2;
    while let Some(arg) = args.get(i) {
        let left = args.len() - i - 1;
        if is(arg, "get") && left >= 2 {
            i += 3;
        } else if is(arg, "overflow") && left >= 1 {
            i += 2;
        } else {
            return false;
        }
    }
    true
}

/// The access a key's flags ask of a key pattern: reading when the
/// command returns its data, writing when it inserts, deletes or updates
/// (Redis's `ACLSelectorCheckKey`).
fn perms(flags: u32) -> u8 {
    let mut p = 0;
    if flags & key::ACCESS != 0 {
        p |= selector::READ;
    }
    if flags & (key::INSERT | key::DELETE | key::UPDATE) != 0 {
        p |= selector::WRITE;
    }
    p
}

/// What the ACL check looks at in a request: its keys and channels.
pub(crate) fn refs(found: &Resolved, args: &[&[u8]]) -> Refs {
    let keys = key_positions(found, args)
        .into_iter()
        .map(|(at, flags)| (at, perms(flags)))
        .collect();
    let channels = match plans()
        .get(found.slot)
        .map_or(Channels::None, |p| p.channels)
    {
        Channels::None => SmallVec::new(),
        Channels::All { patterns } => (1..args.len()).map(|at| (at, patterns)).collect(),
        Channels::First if args.len() > 1 => SmallVec::from_slice(&[(1, false)]),
        Channels::First => SmallVec::new(),
    };
    let every_key = plans()
        .get(found.slot)
        .is_some_and(|p| p.every_key)
        .then_some(selector::READ);
    Refs {
        keys,
        channels,
        every_key,
    }
}

/// The ACL's decision on `args` for `session`'s user (one flag read for
/// a user who may run anything).
pub(crate) fn check(found: &Resolved, args: &[&[u8]], session: &Session) -> Result<(), Denied> {
    if session.unrestricted {
        return Ok(());
    }
    let catalog = crate::command::acl_catalog();
    acl::check(&session.user, catalog, found.slot, args, &refs(found, args))
}

/// Whether `session`'s user may run `args` and read any key (Redis's
/// `ACLUserCheckCmdWithUnrestrictedKeyAccess`): SORT's BY and GET
/// patterns name keys only the data knows.
pub(crate) fn every_key_readable(args: &[&[u8]], session: &Session) -> bool {
    if session.unrestricted {
        return true;
    }
    let Some(found) = Resolved::find(args) else {
        return false;
    };
    let catalog = crate::command::acl_catalog();
    let refs = refs(&found, args);
    acl::check::allows_every_key(
        &session.user,
        catalog,
        found.slot,
        args,
        &refs,
        selector::READ,
    )
}

/// Adds a refusal to the ACL log: the command's name, or the key or
/// channel refused, with the client as CLIENT LIST shows it.
pub(crate) fn log_denied(
    shared: &Shared,
    session: &Session,
    found: &Resolved,
    args: &[&[u8]],
    denied: Denied,
    context: Context,
) {
    let (reason, object) = match denied {
        Denied::Command => (Reason::Command, full_name(found).as_bytes().to_vec()),
        Denied::Key(at) => (
            Reason::Key,
            args.get(at).copied().unwrap_or_default().to_vec(),
        ),
        Denied::Channel(at) => (
            Reason::Channel,
            args.get(at).copied().unwrap_or_default().to_vec(),
        ),
    };
    log_entry(
        shared,
        session,
        reason,
        context,
        object,
        session.user.name.clone(),
    );
}

/// Adds an entry to the ACL log.
pub(crate) fn log_entry(
    shared: &Shared,
    session: &Session,
    reason: Reason,
    context: Context,
    object: Vec<u8>,
    username: Vec<u8>,
) {
    let entry = log::Entry {
        count: 1,
        reason,
        context,
        object,
        username,
        ctime: log::now_ms(),
        client_info: session
            .entry
            .line(super::client::command_name, session.running),
    };
    let max = usize::try_from(shared.config.load().acllog_max_len).unwrap_or(usize::MAX);
    shared.acl.log.lock().add(entry, max);
}

/// `name` or `container|name`, as Redis names a command in refusals.
pub(crate) fn full_name(found: &Resolved) -> &'static str {
    found.sub.map_or(found.spec.name, |s| s.full_name)
}

/// The refusal of a client's own request (or one queued in MULTI) by
/// the ACL, logged, in Redis 7.0's words; `None` when it may run.
pub(crate) fn refusal(
    found: &Resolved,
    args: &[&[u8]],
    session: &Session,
    shared: &Shared,
) -> Option<String> {
    let denied = check(found, args, session).err()?;
    let context = if session.multi.is_some() {
        Context::Multi
    } else {
        Context::Toplevel
    };
    log_denied(shared, session, found, args, denied, context);
    Some(match denied {
        Denied::Command => format!(
            "NOPERM this user has no permissions to run the '{}' command",
            full_name(found)
        ),
        Denied::Key(_) => {
            "NOPERM this user has no permissions to access one of the keys used as arguments".into()
        }
        Denied::Channel(_) => {
            "NOPERM this user has no permissions to access one of the channels used as arguments"
                .into()
        }
    })
}

/// Redis's words for a denial inside a script (`scriptVerifyACL` with
/// `getAclErrorMessage`).
pub(crate) fn script_message(denied: Denied) -> &'static str {
    match denied {
        Denied::Command => "The user executing the script can't run this command or subcommand",
        Denied::Key(_) => "The user executing the script can't access at least one of the keys mentioned in the command arguments",
        Denied::Channel(_) => {
            "The user executing the script can't publish to the channel mentioned in the command"
        }
    }
}

/// Redis's reason for refusing a queued command at EXEC, when the rules
/// changed after it was queued.
pub(crate) fn exec_message(denied: Denied) -> String {
    let reason = match denied {
        Denied::Command => "no permission to execute the command or subcommand",
        Denied::Key(_) => "no permission to touch the specified keys",
        Denied::Channel(_) => "no permission to access one of the channels used as arguments",
    };
    format!("NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {reason}")
}

/// At EXEC, before each queued command runs: refuses it (with Redis's
/// error as its reply, logged) if the rules changed since it was queued
/// and no longer allow it. Returns whether it was refused.
pub(crate) fn refused_at_exec(
    found: &Resolved,
    args: &[&[u8]],
    out: &mut crate::resp::Out,
    session: &Session,
    shared: &Shared,
) -> bool {
    let Err(denied) = check(found, args, session) else {
        return false;
    };
    log_denied(shared, session, found, args, denied, Context::Multi);
    let msg = exec_message(denied);
    out.error(&msg);
    shared.stats.error(msg.as_bytes());
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stats_slot_has_its_plan() {
        assert_eq!(plans().len(), super::super::stat_names().len());
        let set = Resolved::find(&[b"set", b"k", b"v"]).map(|f| f.slot);
        assert_eq!(
            set.and_then(|s| plans().get(s)).map(|p| p.specs.len()),
            Some(1)
        );
        let sub = Resolved::find(&[b"psubscribe", b"a*"]).map(|f| f.slot);
        let channels = sub.and_then(|s| plans().get(s)).map(|p| p.channels);
        assert!(matches!(channels, Some(Channels::All { patterns: true })));
        let get = Resolved::find(&[b"config", b"get", b"x"]);
        let keys = get.map(|f| key_positions(&f, &[b"config", b"get", b"x"]).len());
        assert_eq!(keys, Some(0));
    }
}
