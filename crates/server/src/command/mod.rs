//! Commands: the table of what the server understands, and dispatch.
//!
//! Owns the one path every request takes: find the command (names are
//! case-insensitive), admit it (arity, protected commands, the client's
//! authentication, MULTI and subscribed-state rules: `admit`), run its
//! handler, and turn a refusal into Redis's exact error line. Each
//! command's semantics live in the module for its group (`session`,
//! `strings`, `keys`, `expire`, `range`, `introspection`, `server`, ...);
//! the engine does the work, so handlers only read arguments and shape
//! replies.

pub(crate) mod access;
mod acl;
mod admit;
pub(crate) mod args;
mod bits;
pub(crate) mod error;
mod spec;
mod target;

mod client;
mod collection_scan;
mod config;
mod debug;
mod dump;
mod expire;
#[cfg(feature = "fault-injection")]
mod fault;
mod function;
mod geo;
mod geo_search;
mod hashes;
mod hll;
pub(crate) mod info;
mod introspection;
mod keys;
mod latency;
mod lcs;
mod list_blocking;
mod lists;
mod memory;
pub(crate) mod meta;
mod monitor;
mod object;
mod pick;
pub(crate) mod pubsub;
mod range;
mod run;
mod scripting;
mod server;
mod session;
pub(crate) use session::REDIS_VERSION;
mod sets;
mod slowlog;
mod sort;
mod stream_groups;
mod stream_info;
mod stream_read;
mod streams;
mod strings;
pub(crate) mod transaction;
mod zset_algebra;
mod zset_blocking;
mod zsets;

pub(crate) use acl::load_at_startup as load_users;
pub use error::{CmdResult, Reject};
pub(crate) use function::{import_libraries, recover as restore_functions};
pub(crate) use run::{keys_of, run, run_batch, run_counted, Keys};
pub use spec::{flags, Spec};
pub use target::Target;

use crate::resp::Out;
use crate::session::Session;
use crate::shared::Shared;
use crate::stats::Slot;
use std::collections::HashMap;
use std::sync::LazyLock;
use tandem_engine::Db;

/// Everything a handler may use: its arguments (the name first), the
/// reply buffer, the client's session and the server's shared state.
pub struct Call<'a> {
    /// The request, the command's name first.
    pub args: &'a [&'a [u8]],
    /// Where the reply goes.
    pub out: &'a mut Out,
    /// The client's state.
    pub session: &'a mut Session,
    /// The server's state.
    pub shared: &'a Shared,
    /// The database the client has selected, as the request began.
    db: &'a Db,
    /// Where per-key operations go: `db`, or inside EXEC the batch that
    /// holds the transaction's keys locked.
    kv: &'a dyn Target,
}

impl<'a> Call<'a> {
    /// A call of `args` in `db`, its per-key operations on `kv` (the
    /// database, or a batch of it): for commands run from inside a script.
    pub(crate) fn new(
        args: &'a [&'a [u8]],
        out: &'a mut Out,
        session: &'a mut Session,
        shared: &'a Shared,
        db: &'a Db,
        kv: &'a dyn Target,
    ) -> Self {
        Call {
            args,
            out,
            session,
            shared,
            db,
            kv,
        }
    }

    /// The database the client had selected when the request began, for
    /// operations beyond single keys (SCAN, FLUSHDB, ...).
    pub fn db(&self) -> &'a Db {
        self.db
    }

    /// The batch this request runs in, when it runs in one (a pipeline's
    /// batch, `connection/batch.rs`): its keys' shards are held already,
    /// and a script runs on it rather than taking them again.
    pub(crate) fn batch(&self) -> Option<&'a dyn Target> {
        let kv: *const dyn Target = self.kv;
        let db: *const Db = self.db;
        (kv.cast::<()>() != db.cast::<()>()).then_some(self.kv)
    }

    /// Where per-key operations go (see `Target`).
    pub fn kv(&self) -> &'a dyn Target {
        self.kv
    }

    /// Argument `i` (0 is the command's name); arity checks guarantee the
    /// ones a handler reads by position, and this is empty otherwise.
    pub fn arg(&self, i: usize) -> &'a [u8] {
        self.args.get(i).copied().unwrap_or_default()
    }

    /// The arguments from `i` on, for variadic commands; empty past the
    /// end, so a wrong arity in the table cannot make a handler panic.
    pub fn args_from(&self, i: usize) -> &'a [&'a [u8]] {
        self.args.get(i..).unwrap_or_default()
    }
}

/// Every command, in the order COMMAND lists them.
pub fn table() -> &'static [Spec] {
    static TABLE: LazyLock<Vec<Spec>> = LazyLock::new(|| {
        [
            session::COMMANDS,
            strings::COMMANDS,
            bits::COMMANDS,
            lcs::COMMANDS,
            hll::COMMANDS,
            geo::COMMANDS,
            geo_search::COMMANDS,
            hashes::COMMANDS,
            sets::COMMANDS,
            lists::COMMANDS,
            list_blocking::COMMANDS,
            zsets::COMMANDS,
            zset_algebra::COMMANDS,
            zset_blocking::COMMANDS,
            streams::COMMANDS,
            stream_read::COMMANDS,
            stream_groups::COMMANDS,
            stream_info::COMMANDS,
            sort::COMMANDS,
            scripting::COMMANDS,
            function::COMMANDS,
            keys::COMMANDS,
            dump::COMMANDS,
            expire::COMMANDS,
            range::COMMANDS,
            pubsub::COMMANDS,
            acl::COMMANDS,
            transaction::COMMANDS,
            client::COMMANDS,
            config::COMMANDS,
            introspection::COMMANDS,
            server::COMMANDS,
            info::COMMANDS,
            object::COMMANDS,
            memory::COMMANDS,
            monitor::COMMANDS,
            slowlog::COMMANDS,
            latency::COMMANDS,
            debug::COMMANDS,
            #[cfg(feature = "fault-injection")]
            fault::COMMANDS,
        ]
        .concat()
    });
    &TABLE
}

/// Longest command name looked up; longer names are unknown.
const MAX_NAME: usize = 32;

/// The command named `name`, in any case.
pub fn lookup(name: &[u8]) -> Option<&'static Spec> {
    lookup_index(name).and_then(|i| table().get(i))
}

/// The index in `table()` of the command named `name`, in any case.
pub fn lookup_index(name: &[u8]) -> Option<usize> {
    // foldhash, not SipHash: the names are ours, not a client's, so there
    // is nothing to defend against, and this runs on every request.
    static INDEX: LazyLock<HashMap<&'static [u8], usize, foldhash::fast::FixedState>> =
        LazyLock::new(|| {
            table()
                .iter()
                .enumerate()
                .map(|(i, s)| (s.name.as_bytes(), i))
                .collect()
        });
    if name.len() > MAX_NAME {
        return None;
    }
    let mut lower = [0u8; MAX_NAME];
    let lower = lower.get_mut(..name.len())?;
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    INDEX.get(&*lower).copied()
}

/// For each command of `table()`, by index: its metadata and its first
/// subcommand's stats slot, if it is a container.
fn containers() -> &'static [Option<(&'static meta::Meta, Slot)>] {
    static CONTAINERS: LazyLock<Vec<Option<(&'static meta::Meta, Slot)>>> = LazyLock::new(|| {
        let mut next = table().len();
        table()
            .iter()
            .map(|s| {
                let m = meta::of(s.name).filter(|m| !m.subcommands.is_empty())?;
                let first = next;
                next += m.subcommands.len();
                Some((m, first))
            })
            .collect()
    });
    &CONTAINERS
}

/// The names INFO commandstats gives the stats slots: every command of
/// `table()` in order, then every listed subcommand (`container|sub`).
pub fn stat_names() -> &'static [&'static str] {
    static NAMES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
        let subs = containers()
            .iter()
            .flatten()
            .flat_map(|(m, _)| m.subcommands.iter().map(|s| s.full_name));
        names().chain(subs).collect()
    });
    &NAMES
}

/// Each stats slot's command flags (`spec::flags`), in `stat_names`
/// order: a command's own and its metadata's, or a subcommand's with its
/// container's.
pub fn stat_flags() -> &'static [u32] {
    static FLAGS: LazyLock<Vec<u32>> = LazyLock::new(|| {
        let commands = table()
            .iter()
            .map(|s| s.flags | meta::of(s.name).map_or(0, |m| m.flags));
        let subs = table()
            .iter()
            .zip(containers())
            .filter_map(|(s, c)| c.map(|(m, _)| (s, m)))
            .flat_map(|(s, m)| m.subcommands.iter().map(move |sub| sub.flags | s.flags));
        commands.chain(subs).collect()
    });
    &FLAGS
}

/// The commands as ACL rules name them: one id per stats slot (every
/// command, then every listed subcommand), with its categories.
pub(crate) fn acl_catalog() -> &'static crate::acl::Catalog {
    static CATALOG: LazyLock<crate::acl::Catalog> = LazyLock::new(|| {
        use crate::acl::catalog::Entry;
        let mut entries: Vec<Entry> = table()
            .iter()
            .map(|s| {
                let d = meta::Described::command(s);
                Entry {
                    name: s.name,
                    categories: d.acl,
                    parent: None,
                    children: Vec::new(),
                    no_auth: d.flags & flags::NO_AUTH != 0,
                }
            })
            .collect();
        for (i, (s, c)) in table().iter().zip(containers()).enumerate() {
            let Some((m, first)) = c else { continue };
            for (j, sub) in m.subcommands.iter().enumerate() {
                let d = meta::Described::sub(sub);
                entries.push(Entry {
                    name: sub.full_name,
                    categories: d.acl,
                    parent: Some(i),
                    children: Vec::new(),
                    no_auth: (d.flags | s.flags) & flags::NO_AUTH != 0,
                });
                if let Some(parent) = entries.get_mut(i) {
                    parent.children.push(first + j);
                }
            }
        }
        crate::acl::Catalog::new(entries)
    });
    &CATALOG
}

/// The command flags (`spec::flags`) a stats slot's command carries.
pub use spec::flags as spec_flags;

/// A request's command, found: the command, the subcommand when it is a
/// container with a listed one, and where its statistics go.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resolved {
    /// The command.
    pub spec: &'static Spec,
    /// Its index in `table()`.
    pub index: usize,
    /// The subcommand, if the command is a container and it is listed.
    pub sub: Option<&'static meta::Sub>,
    /// The stats slot: the subcommand's, or else the command's.
    pub slot: Slot,
}

impl Resolved {
    /// Finds the command of request `args`; `None` if it is unknown. An
    /// unlisted subcommand resolves to the container, whose handler
    /// replies to it.
    pub fn find(args: &[&[u8]]) -> Option<Resolved> {
        let index = lookup_index(args.first()?)?;
        let spec = table().get(index)?;
        let mut found = Resolved {
            spec,
            index,
            sub: None,
            slot: index,
        };
        if let (Some(Some((m, first))), Some(name)) = (containers().get(index), args.get(1)) {
            if let Some(i) = m
                .subcommands
                .iter()
                .position(|s| s.name().as_bytes().eq_ignore_ascii_case(name))
            {
                found.sub = m.subcommands.get(i);
                found.slot = first + i;
            }
        }
        Some(found)
    }

    /// Whether `args` name a subcommand its container does not list:
    /// Redis answers "unknown subcommand" before any other check (arity,
    /// authentication, ACL), and names no command in CLIENT LIST. The
    /// client-side caching subcommands CLIENT answers itself are left to
    /// it (it refuses them with its own words).
    pub fn unlisted_subcommand(&self, args: &[&[u8]]) -> bool {
        self.sub.is_none()
            && matches!(containers().get(self.index), Some(Some(_)))
            && args
                .get(1)
                .is_some_and(|sub| !client::answers_unlisted(self.spec.name, sub))
    }

    /// The flags admission checks: the subcommand's and its container's,
    /// or the command's with those only its metadata carries (`loading`,
    /// `stale`, ...: see `spec::flags`).
    pub fn flags(&self) -> u32 {
        match self.sub {
            Some(sub) => sub.flags | self.spec.flags,
            None => {
                static META_FLAGS: LazyLock<Vec<u32>> = LazyLock::new(|| {
                    table()
                        .iter()
                        .map(|s| meta::of(s.name).map_or(0, |m| m.flags))
                        .collect()
                });
                self.spec.flags | META_FLAGS.get(self.index).copied().unwrap_or(0)
            }
        }
    }

    /// Redis's refusal of a request of `argc` arguments by its arity, if
    /// any: the subcommand's arity when there is one.
    pub fn arity_error(&self, argc: usize) -> Option<String> {
        let (arity, name) = match self.sub {
            Some(sub) => (sub.arity, sub.full_name),
            None => (self.spec.arity, self.spec.name),
        };
        let argc = i64::try_from(argc).unwrap_or(i64::MAX);
        let arity = i64::from(arity);
        ((arity > 0 && argc != arity) || argc < -arity).then(|| Reject::Arity.message(name))
    }
}

/// The names of every command the server supports, lowercase.
pub fn names() -> impl Iterator<Item = &'static str> {
    table().iter().map(|s| s.name)
}

/// Runs one request and writes its reply (or error) to `out`, counting
/// it in the server's statistics as Redis does: a refusal before running
/// (arity, authentication, ...: see `admit`) is a rejected call, an error
/// reply from the handler a failed call, and every error reply is counted
/// by its code. An unknown command counts only as an error. It never
/// queues: inside MULTI, the connection calls `admit`, then
/// `transaction::queue`, then `run`.
pub fn execute(args: &[&[u8]], out: &mut Out, session: &mut Session, shared: &Shared) {
    if let Some(cmd) = admit(args, Resolved::find(args), out, session, shared) {
        run(args, cmd, out, session, shared);
    }
}

/// Checks a request before it runs or is queued (`cmd` is
/// `Resolved::find(args)`, so that a request costs one lookup). A refused
/// request is answered here with Redis's error and counted; inside MULTI
/// it dooms the transaction, as Redis's `rejectCommand` does, so that EXEC
/// answers `-EXECABORT`. Returns the command when it may go on.
pub(crate) fn admit(
    args: &[&[u8]],
    cmd: Option<Resolved>,
    out: &mut Out,
    session: &mut Session,
    shared: &Shared,
) -> Option<Resolved> {
    if args.is_empty() {
        return None;
    }
    // Its user deleted, or its client closed by an ACL change: nothing
    // more of its input runs (`Session::refresh_user`).
    if !session.refresh_user(&shared.acl) {
        return None;
    }
    let Some(cmd) = cmd else {
        let msg = unknown_command(args);
        out.error_bytes(&msg);
        shared.stats.error(&msg);
        doom_transaction(session);
        return None;
    };
    if cmd.unlisted_subcommand(args) {
        let sub = args.get(1).copied().unwrap_or_default();
        let msg = unknown_subcommand_text(sub, cmd.spec.name);
        out.error_bytes(msg.as_bytes());
        shared.stats.error(msg.as_bytes());
        doom_transaction(session);
        return None;
    }
    session.running = Some(cmd.slot);
    let Some(mut msg) = admit::refusal(&cmd, args, session, out.protocol, shared) else {
        return Some(cmd);
    };
    if cmd.spec.name == "exec" {
        // As Redis's `execCommandAbort`: a refused EXEC discards the
        // transaction and the watches, in MULTI or not, and says why.
        session.multi = None;
        session.watched.clear();
        let why = msg.strip_prefix("ERR ").unwrap_or(&msg);
        msg = format!("EXECABORT Transaction discarded because of: {why}");
    }
    out.error(&msg);
    shared.stats.reject(cmd.slot);
    shared.stats.error(msg.as_bytes());
    doom_transaction(session);
    None
}

/// Makes the transaction being queued, if any, fail at EXEC.
fn doom_transaction(session: &mut Session) {
    if let Some(multi) = session.multi.as_mut() {
        multi.failed = true;
    }
}

/// Redis's reply to an unknown command: its name and the start of its
/// arguments, each quoted, cut at about 128 bytes. Bytes, not text: the
/// client's bytes are echoed as they came, as Redis does.
pub(crate) fn unknown_command(args: &[&[u8]]) -> Vec<u8> {
    let name = args.first().copied().unwrap_or_default();
    let mut listed: Vec<u8> = Vec::new();
    for arg in args.iter().skip(1) {
        if listed.len() >= 128 {
            break;
        }
        let room = 128 - listed.len();
        listed.push(b'\'');
        listed.extend_from_slice(arg.get(..room).unwrap_or(arg));
        listed.extend_from_slice(b"' ");
    }
    let mut msg = b"ERR unknown command '".to_vec();
    msg.extend_from_slice(name.get(..128).unwrap_or(name));
    msg.extend_from_slice(b"', with args beginning with: ");
    msg.extend_from_slice(&listed);
    msg
}

/// Redis's reply to a subcommand of `command` it does not know, or one
/// given the wrong number of arguments, where the command checks both at
/// once (Redis's `addReplySubcommandSyntaxError`).
pub fn subcommand_syntax_error(sub: &[u8], command: &str) -> Reject {
    let sub = String::from_utf8_lossy(sub.get(..128).unwrap_or(sub)).into_owned();
    Reject::Owned(format!(
        "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {} HELP.",
        command.to_ascii_uppercase()
    ))
}

/// Redis's reply to an unknown subcommand of `command`.
pub fn unknown_subcommand(sub: &[u8], command: &str) -> Reject {
    Reject::Owned(unknown_subcommand_text(sub, command))
}

/// Redis's "unknown subcommand" line.
fn unknown_subcommand_text(sub: &[u8], command: &str) -> String {
    let sub = String::from_utf8_lossy(sub.get(..128).unwrap_or(sub)).into_owned();
    format!(
        "ERR unknown subcommand '{sub}'. Try {} HELP.",
        command.to_ascii_uppercase()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_lowercase_and_found_in_any_case() {
        let mut seen = std::collections::HashSet::new();
        for spec in table() {
            assert!(seen.insert(spec.name), "{} twice", spec.name);
            assert_eq!(spec.name, spec.name.to_ascii_lowercase());
            assert!(spec.name.len() <= MAX_NAME);
            let upper = spec.name.to_ascii_uppercase();
            assert_eq!(lookup(upper.as_bytes()).map(|s| s.name), Some(spec.name));
        }
        assert!(lookup(b"nosuchcommand").is_none());
    }

    #[test]
    fn unknown_command_text_matches_redis() {
        assert_eq!(
            unknown_command(&[b"foo", b"a", b"b"]),
            b"ERR unknown command 'foo', with args beginning with: 'a' 'b' ".to_vec()
        );
        assert_eq!(
            unknown_command(&[b"foo\xff"]),
            b"ERR unknown command 'foo\xff', with args beginning with: ".to_vec()
        );
    }

    /// Every handler, called with fewer arguments than its arity allows
    /// (as a wrong table entry would let through), returns instead of
    /// panicking: handlers read arguments only through `Call::arg` and
    /// `Call::args_from`. It panicked on `c.args[1]` before those.
    #[test]
    fn handlers_survive_missing_arguments() {
        let shared = Shared::new(crate::Config::default(), acl_catalog());
        // The fault hook (built into test builds) panics by design.
        for spec in table().iter().filter(|s| s.name != "tandem.panic") {
            for argc in 1..=3 {
                let mut args: Vec<&[u8]> = vec![spec.name.as_bytes()];
                args.resize(argc, b"x");
                let entry = shared.registry.register(
                    shared.next_client_id(),
                    "test".into(),
                    "test".into(),
                    shared.shutdown.child_token(),
                );
                let mut session = Session::new(entry, &shared.acl);
                let mut out = Out::default();
                let db = &shared.dbs.table()[0];
                let mut call = Call {
                    args: &args,
                    out: &mut out,
                    session: &mut session,
                    shared: &shared,
                    db,
                    kv: db,
                };
                let Some(cmd) = Resolved::find(&args) else {
                    panic!("{} is in the table", spec.name);
                };
                // The property is that this returns: a panic fails the test.
                run_counted(&mut call, &cmd);
            }
        }
    }
}
