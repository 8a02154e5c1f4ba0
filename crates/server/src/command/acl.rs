//! ACL: users and their permissions (SETUSER, GETUSER, DELUSER, USERS,
//! LIST, WHOAMI, CAT, GENPASS, DRYRUN, LOG, SAVE, LOAD, HELP).
//!
//! Owns the command's replies, in Redis 7.0's shapes and words, and what
//! a change does to live connections, as Redis does it: a deleted user's
//! clients are closed (all but `default`'s on ACL LOAD), and a user's
//! subscribers are told to check their channels when its channel rules
//! narrow. The rules themselves are `crate::acl`'s; this module never
//! decides a permission itself, nor touches a connection but through the
//! registry (its kill token, its ACL wake-up).

use super::args::{int, is};
use super::spec::{spec, Spec};
use super::{access, Call, CmdResult, Reject, Resolved};
use crate::acl::{self, describe, file, Denied};
use crate::session::After;
use crate::shared::Shared;

pub(super) const COMMANDS: &[Spec] = &[spec("acl", -2, 0, (0, 0, 0), acl)];

/// ACL HELP's lines.
const HELP: &[&str] = &[
    "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
    "HELP",
    "    Prints this help.",
];

/// ACL GENPASS's largest size, in bits.
const GENPASS_MAX_BITS: i64 = 4096;

fn acl(c: &mut Call<'_>) -> CmdResult {
    let sub = c.arg(1);
    let n = c.args.len();
    if is(sub, "setuser") && n >= 3 {
        setuser(c)
    } else if is(sub, "deluser") && n >= 3 {
        deluser(c)
    } else if is(sub, "getuser") && n == 3 {
        getuser(c);
        Ok(())
    } else if (is(sub, "list") || is(sub, "users")) && n == 2 {
        let catalog = c.shared.acl.catalog();
        let users = c.shared.acl.users();
        c.out.array(users.len());
        for u in &users {
            if is(sub, "users") {
                c.out.bulk(&u.name);
            } else {
                let mut line = b"user ".to_vec();
                line.extend_from_slice(&u.name);
                line.push(b' ');
                line.extend_from_slice(&describe::user(u, catalog));
                c.out.bulk(&line);
            }
        }
        Ok(())
    } else if is(sub, "whoami") && n == 2 {
        c.out.bulk(&c.session.user.name);
        Ok(())
    } else if (is(sub, "load") || is(sub, "save")) && c.shared.config.load().aclfile.is_none() {
        Err(Reject::Static("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."))
    } else if is(sub, "load") && n == 2 {
        load(c)
    } else if is(sub, "save") && n == 2 {
        save(c)
    } else if is(sub, "cat") && (n == 2 || n == 3) {
        cat(c)
    } else if is(sub, "genpass") && (n == 2 || n == 3) {
        genpass(c)
    } else if is(sub, "log") && (n == 2 || n == 3) {
        log(c)
    } else if is(sub, "dryrun") && n >= 4 {
        dryrun(c)
    } else if is(sub, "help") && n == 2 {
        super::introspection::help(c.out, HELP);
        Ok(())
    } else if super::meta::of("acl").is_some_and(|m| super::meta::subcommand(m, sub).is_some()) {
        Err(super::subcommand_syntax_error(sub, "acl"))
    } else {
        Err(super::unknown_subcommand(sub, "acl"))
    }
}

fn setuser(c: &mut Call<'_>) -> CmdResult {
    let name = c.arg(2);
    if !acl::user::valid_name(name) {
        return Err(Reject::Static(
            "ERR Usernames can't contain spaces or null characters",
        ));
    }
    let changed = c
        .shared
        .acl
        .set_user(name, c.args_from(3))
        .map_err(|e| Reject::Owned(format!("ERR {e}")))?;
    if changed.channels_narrowed() {
        // Each subscriber of this user checks its channels and closes if
        // one is no longer allowed (Redis's `ACLKillPubsubClientsIfNeeded`).
        for entry in c.shared.registry.all() {
            if entry.is_user(name) {
                entry.acl_check.notify_one();
            }
        }
    }
    c.out.ok();
    Ok(())
}

/// Closes the connections running as a user in `names` (this one after
/// its reply), as Redis does when a user is deleted.
fn close_clients_of(c: &mut Call<'_>, gone: impl Fn(&[u8]) -> bool) {
    for entry in c.shared.registry.all() {
        if !gone(&entry.user()) {
            continue;
        }
        if entry.id == c.session.id {
            c.session.after = After::Close;
        } else {
            entry.kill.cancel();
        }
    }
    // A client that took its user between the change and the cancelling
    // takes it again before its next command, and sees it is closing.
    c.shared.acl.touch();
}

fn deluser(c: &mut Call<'_>) -> CmdResult {
    let removed = c
        .shared
        .acl
        .del_users(c.args_from(2))
        .map_err(Reject::Static)?;
    close_clients_of(c, |u| removed.iter().any(|r| r == u));
    c.out.count(removed.len());
    Ok(())
}

fn getuser(c: &mut Call<'_>) {
    let Some(u) = c.shared.acl.user(c.arg(2)) else {
        c.out.null();
        return;
    };
    let catalog = c.shared.acl.catalog();
    let out = &mut *c.out;
    out.map(6);
    out.bulk(b"flags");
    let flags = u.flag_names();
    out.set(flags.len());
    for f in flags {
        out.bulk(f.as_bytes());
    }
    out.bulk(b"passwords");
    out.array(u.passwords().len());
    for h in u.passwords() {
        out.bulk(acl::user::hex(h).as_bytes());
    }
    selector_fields(out, u.root(), catalog);
    out.bulk(b"selectors");
    out.array(u.more().len());
    for s in u.more() {
        out.map(3);
        selector_fields(out, s, catalog);
    }
}

/// A selector's `commands`, `keys` and `channels` fields.
fn selector_fields(
    out: &mut crate::resp::Out,
    s: &acl::selector::Selector,
    catalog: &acl::Catalog,
) {
    out.bulk(b"commands");
    out.bulk(&describe::command_rules(s, catalog));
    out.bulk(b"keys");
    out.bulk(&describe::keys_field(s));
    out.bulk(b"channels");
    out.bulk(&describe::channels_field(s));
}

fn load(c: &mut Call<'_>) -> CmdResult {
    let path = c.shared.config.load().aclfile.clone().unwrap_or_default();
    let text = std::fs::read(&path).map_err(|e| {
        Reject::Owned(format!(
            "ERR Error loading ACLs, opening file '{}': {}",
            path.display(),
            file::os_error_text(&e)
        ))
    })?;
    let acl = &c.shared.acl;
    let users = file::parse_bytes(
        &text,
        &path.display().to_string(),
        acl.catalog(),
        acl.pubsub_default(),
    )
    .map_err(|e| Reject::Owned(format!("ERR {e}")))?;
    c.shared.acl.replace_all(users);
    // Every user but `default` was replaced: their clients are closed.
    close_clients_of(c, |u| u != b"default");
    c.out.ok();
    Ok(())
}

fn save(c: &mut Call<'_>) -> CmdResult {
    let path = c.shared.config.load().aclfile.clone().unwrap_or_default();
    let text = file::render(&c.shared.acl.users(), c.shared.acl.catalog());
    if let Err(e) = file::write_atomically(&path, &text) {
        tracing::warn!("Writing ACL file for ACL SAVE ({}): {e}", path.display());
        return Err(Reject::Static("ERR There was an error trying to save the ACLs. Please check the server logs for more information"));
    }
    c.out.ok();
    Ok(())
}

fn cat(c: &mut Call<'_>) -> CmdResult {
    let Some(&name) = c.args.get(2) else {
        let names = acl::category::NAMES
            .iter()
            .map(|(_, n)| n.trim_start_matches('@'));
        c.out.bulks(names);
        return Ok(());
    };
    let Some(bit) = acl::category::by_name(name) else {
        let shown = String::from_utf8_lossy(name.get(..128).unwrap_or(name)).into_owned();
        return Err(Reject::Owned(format!("ERR Unknown category '{shown}'")));
    };
    let names: Vec<&str> = c
        .shared
        .acl
        .catalog()
        .iter()
        .filter(|(_, e)| e.categories & bit != 0)
        .map(|(_, e)| e.name)
        .collect();
    c.out.bulks(names.iter());
    Ok(())
}

fn genpass(c: &mut Call<'_>) -> CmdResult {
    let bits = match c.args.get(2) {
        Some(b) => int(b)?,
        None => 256,
    };
    if bits <= 0 || bits > GENPASS_MAX_BITS {
        return Err(Reject::Owned(format!("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to {GENPASS_MAX_BITS}")));
    }
    let chars = usize::try_from((bits + 3) / 4).unwrap_or(0);
    let mut random = vec![0u8; chars.div_ceil(2)];
    getrandom::fill(&mut random)
        .map_err(|_| Reject::Static("ERR Cannot read the system's random source"))?;
    let mut hex = acl::user::hex_bytes(&random);
    hex.truncate(chars);
    c.out.bulk(hex.as_bytes());
    Ok(())
}

fn log(c: &mut Call<'_>) -> CmdResult {
    let mut count: usize = 10;
    if let Some(&arg) = c.args.get(2) {
        if is(arg, "reset") {
            c.shared.acl.log.lock().clear();
            c.out.ok();
            return Ok(());
        }
        count = usize::try_from(int(arg)?.max(0)).unwrap_or(usize::MAX);
    }
    let now = acl::log::now_ms();
    let log = c.shared.acl.log.lock();
    let entries: Vec<_> = log.newest(count).cloned().collect();
    drop(log);
    let out = &mut *c.out;
    out.array(entries.len());
    for e in &entries {
        out.map(7);
        out.bulk(b"count");
        out.int(i64::try_from(e.count).unwrap_or(i64::MAX));
        out.bulk(b"reason");
        out.bulk(e.reason.name().as_bytes());
        out.bulk(b"context");
        out.bulk(e.context.name().as_bytes());
        out.bulk(b"object");
        out.bulk(&e.object);
        out.bulk(b"username");
        out.bulk(&e.username);
        out.bulk(b"age-seconds");
        // Milliseconds to seconds, as a C double would print them.
        #[allow(clippy::cast_precision_loss)]
        let age = (now - e.ctime) as f64 / 1000.0;
        out.double_text(tandem_engine::format_score(age).as_bytes());
        out.bulk(b"client-info");
        out.bulk(e.client_info.as_bytes());
    }
    Ok(())
}

fn dryrun(c: &mut Call<'_>) -> CmdResult {
    let name = c.arg(2);
    let Some(user) = c.shared.acl.user(name) else {
        return Err(Reject::Owned(format!(
            "ERR User '{}' not found",
            String::from_utf8_lossy(name)
        )));
    };
    let args = c.args_from(3);
    // As Redis's `lookupCommand`: a container alone is the container (and
    // fails its arity below); with an unknown subcommand, nothing.
    let found = Resolved::find(args).filter(|f| {
        f.sub.is_some()
            || args.len() == 1
            || super::meta::of(f.spec.name).is_none_or(|m| m.subcommands.is_empty())
    });
    let Some(found) = found else {
        return Err(Reject::Owned(format!(
            "ERR Command '{}' not found",
            String::from_utf8_lossy(c.arg(3))
        )));
    };
    if found.arity_error(args.len()).is_some() {
        return Err(Reject::Owned(format!(
            "ERR wrong number of arguments for '{}' command",
            access::full_name(&found)
        )));
    }
    let refs = access::refs(&found, args);
    match acl::check(&user, c.shared.acl.catalog(), found.slot, args, &refs) {
        Ok(()) => c.out.ok(),
        Err(denied) => {
            let text = match denied {
                Denied::Command => format!(
                    "This user has no permissions to run the '{}' command",
                    access::full_name(&found)
                ),
                Denied::Key(at) => format!(
                    "This user has no permissions to access the '{}' key",
                    String::from_utf8_lossy(args.get(at).copied().unwrap_or_default())
                ),
                Denied::Channel(at) => format!(
                    "This user has no permissions to access the '{}' channel",
                    String::from_utf8_lossy(args.get(at).copied().unwrap_or_default())
                ),
            };
            c.out.bulk(text.as_bytes());
        }
    }
    Ok(())
}

/// Loads the users `tandem.toml` (or `--user`) and the ACL file give, at
/// start-up: Redis refuses both at once, and any error stops the start.
pub(crate) fn load_at_startup(shared: &Shared) -> Result<(), String> {
    let config = shared.config.load();
    let catalog = shared.acl.catalog();
    if config.aclfile.is_some() && !config.users.is_empty() {
        return Err("Configuring Tandem with users defined in the configuration and at the same time an ACL file path is invalid. Define either an ACL file or users in the configuration, not both.".into());
    }
    if let Some(path) = &config.aclfile {
        let text = std::fs::read(path).map_err(|e| {
            format!(
                "Error loading ACLs, opening file '{}': {}",
                path.display(),
                file::os_error_text(&e)
            )
        })?;
        let users = file::parse_bytes(
            &text,
            &path.display().to_string(),
            catalog,
            shared.acl.pubsub_default(),
        )?;
        shared.acl.replace_all(users);
    } else if !config.users.is_empty() {
        // As Redis's `ACLLoadConfiguredUsers`: the `default` user is reset
        // before its rules (so it is `sanitize-payload`, as `reset` makes
        // it); other users start new.
        let lines: String = config
            .users
            .iter()
            .map(|u| {
                match u
                    .trim_start()
                    .split_once(char::is_whitespace)
                    .unwrap_or((u.trim(), ""))
                {
                    ("default", rules) => format!("user default reset {}\n", rules.trim()),
                    _ => format!("user {u}\n"),
                }
            })
            .collect();
        let users = file::parse(
            &lines,
            "configuration",
            catalog,
            shared.acl.pubsub_default(),
        )?;
        // As in Redis, `requirepass` still sets the default user's
        // password when the configuration does not define that user.
        let has_default = users.contains_key(&b"default"[..]);
        shared.acl.replace_all(users);
        if !has_default {
            shared
                .acl
                .set_default_password(config.requirepass.as_deref().map(str::as_bytes));
        }
    }
    Ok(())
}
