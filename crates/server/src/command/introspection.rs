//! COMMAND: what the server says about its own commands.
//!
//! Owns COMMAND and its subcommands (COUNT, LIST, INFO, DOCS, GETKEYS,
//! GETKEYSANDFLAGS, HELP), read from the table and `meta`, and the HELP
//! reply shape other commands share. It never changes server state.

use super::args::is;
use super::meta::{self, acl, key, Described, KeySpec, Meta};
use super::spec::{flags, spec, Spec};
use super::{table, Call, CmdResult, Reject, Resolved};
use crate::resp::Out;

pub(super) const COMMANDS: &[Spec] = &[spec("command", -1, 0, (0, 0, 0), command)];

/// Writes the names of the `bits` set, from a table of names, as a set of
/// simple strings.
fn names_set(out: &mut Out, bits: u32, names: &[(u32, &str)]) {
    let set: Vec<&str> = names
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|&(_, n)| n)
        .collect();
    out.set(set.len());
    for n in set {
        out.simple(n);
    }
}

/// One key specification, as a map (an array of pairs in RESP2).
fn key_spec(out: &mut Out, k: &KeySpec) {
    out.map(if k.notes.is_some() { 4 } else { 3 });
    if let Some(notes) = k.notes {
        out.bulk(b"notes");
        out.bulk(notes.as_bytes());
    }
    out.bulk(b"flags");
    names_set(out, k.flags, key::NAMES);
    out.bulk(b"begin_search");
    out.map(2);
    out.bulk(b"type");
    if k.unknown {
        out.bulk(b"unknown");
        out.bulk(b"spec");
        out.map(0);
        out.bulk(b"find_keys");
        out.map(2);
        out.bulk(b"type");
        out.bulk(b"unknown");
        out.bulk(b"spec");
        out.map(0);
        return;
    }
    if let Some((word, startfrom)) = k.keyword {
        out.bulk(b"keyword");
        out.bulk(b"spec");
        out.map(2);
        out.bulk(b"keyword");
        out.bulk(word.as_bytes());
        out.bulk(b"startfrom");
        out.int(i64::from(startfrom));
    } else {
        out.bulk(b"index");
        out.bulk(b"spec");
        out.map(1);
        out.bulk(b"index");
        out.int(i64::from(k.index));
    }
    out.bulk(b"find_keys");
    out.map(2);
    out.bulk(b"type");
    if let Some((keynumidx, firstkey)) = k.keynum {
        out.bulk(b"keynum");
        out.bulk(b"spec");
        out.map(3);
        out.bulk(b"keynumidx");
        out.int(i64::from(keynumidx));
        out.bulk(b"firstkey");
        out.int(i64::from(firstkey));
        out.bulk(b"keystep");
        out.int(i64::from(k.keystep));
        return;
    }
    out.bulk(b"range");
    out.bulk(b"spec");
    out.map(3);
    out.bulk(b"lastkey");
    out.int(i64::from(k.lastkey));
    out.bulk(b"keystep");
    out.int(i64::from(k.keystep));
    out.bulk(b"limit");
    out.int(i64::from(k.limit));
}

/// One command's COMMAND INFO entry, in Redis 7's ten-element shape:
/// name, arity, flags, first key, last key, key step, ACL categories,
/// tips, key specifications, subcommands.
fn describe(out: &mut Out, d: &Described, subcommands: &'static [meta::Sub]) {
    out.array(10);
    out.bulk(d.name.as_bytes());
    out.int(i64::from(d.arity));
    names_set(out, d.flags, flags::NAMES);
    out.int(i64::from(d.key_range.0));
    out.int(i64::from(d.key_range.1));
    out.int(i64::from(d.key_range.2));
    names_set(out, d.acl, acl::NAMES);
    out.set(d.tips.len());
    for tip in d.tips {
        out.bulk(tip.as_bytes());
    }
    let specs = d.key_specs();
    out.set(specs.len());
    for k in &specs {
        key_spec(out, k);
    }
    if subcommands.is_empty() {
        out.set(0);
    } else {
        out.array(subcommands.len());
        for sub in subcommands {
            describe(out, &Described::sub(sub), &[]);
        }
    }
}

/// The subcommands a command lists (none without metadata).
fn subcommands_of(spec: &Spec) -> &'static [meta::Sub] {
    meta::of(spec.name).map_or(&[], |m| m.subcommands)
}

fn describe_command(out: &mut Out, spec: &Spec) {
    describe(out, &Described::command(spec), subcommands_of(spec));
}

/// A command or subcommand (`container|sub`) named in COMMAND INFO or
/// DOCS.
enum Named {
    Command(&'static Spec, Option<&'static Meta>),
    Sub(&'static meta::Sub),
}

fn find_named(name: &[u8]) -> Option<Named> {
    match name.iter().position(|&b| b == b'|') {
        None => {
            let spec = super::lookup(name)?;
            Some(Named::Command(spec, meta::of(spec.name)))
        }
        Some(bar) => {
            let spec = super::lookup(name.get(..bar)?)?;
            let m = meta::of(spec.name)?;
            meta::subcommand(m, name.get(bar + 1..)?).map(Named::Sub)
        }
    }
}

/// A command's (or subcommand's) COMMAND DOCS map.
fn docs(out: &mut Out, group: &str, m: DocFields<'_>, subs: &'static [meta::Sub]) {
    let deprecated = m.deprecated;
    let doc_flags = usize::from(deprecated.is_some() || m.syscmd);
    let fields =
        4 + doc_flags + 2 * usize::from(deprecated.is_some()) + usize::from(!subs.is_empty());
    out.map(fields);
    for (k, v) in [
        ("summary", m.summary),
        ("since", m.since),
        ("group", group),
        ("complexity", m.complexity),
    ] {
        out.bulk(k.as_bytes());
        out.bulk(v.as_bytes());
    }
    if doc_flags > 0 {
        out.bulk(b"doc_flags");
        out.set(1);
        out.simple(if m.syscmd { "syscmd" } else { "deprecated" });
    }
    if let Some((since, by)) = deprecated {
        out.bulk(b"deprecated_since");
        out.bulk(since.as_bytes());
        out.bulk(b"replaced_by");
        out.bulk(by.as_bytes());
    }
    if !subs.is_empty() {
        out.bulk(b"subcommands");
        out.map(subs.len());
        for sub in subs {
            out.bulk(sub.full_name.as_bytes());
            docs(out, group, DocFields::of_sub(sub), &[]);
        }
    }
}

/// The documentation fields of a command or subcommand.
struct DocFields<'a> {
    summary: &'a str,
    since: &'a str,
    complexity: &'a str,
    deprecated: Option<(&'a str, &'a str)>,
    syscmd: bool,
}

impl DocFields<'static> {
    fn of(m: &'static Meta) -> Self {
        DocFields {
            summary: m.summary,
            since: m.since,
            complexity: m.complexity,
            deprecated: m.deprecated,
            syscmd: m.syscmd,
        }
    }

    fn of_sub(s: &'static meta::Sub) -> Self {
        DocFields {
            summary: s.summary,
            since: s.since,
            complexity: s.complexity,
            deprecated: None,
            syscmd: false,
        }
    }

    /// What a command without metadata gets: nothing to say.
    fn none() -> Self {
        DocFields {
            summary: "",
            since: "",
            complexity: "",
            deprecated: None,
            syscmd: false,
        }
    }
}

fn docs_named(out: &mut Out, named: &Named) {
    match named {
        Named::Command(spec, Some(m)) => {
            out.bulk(spec.name.as_bytes());
            docs(out, m.group, DocFields::of(m), m.subcommands);
        }
        Named::Command(spec, None) => {
            out.bulk(spec.name.as_bytes());
            docs(out, "generic", DocFields::none(), &[]);
        }
        Named::Sub(sub) => {
            out.bulk(sub.full_name.as_bytes());
            let container = sub.full_name.split('|').next().unwrap_or_default();
            let group = meta::of(container).map_or("generic", |m| m.group);
            docs(out, group, DocFields::of_sub(sub), &[]);
        }
    }
}

/// The keys of the full command `args` and their key specification's
/// flags, or Redis's refusal.
fn keys_of<'a>(args: &[&'a [u8]]) -> Result<Vec<(&'a [u8], u32)>, Reject> {
    let invalid = Reject::Static("ERR Invalid command specified");
    let found = Resolved::find(args).ok_or(invalid.clone())?;
    // A container whose subcommand is not listed: no such command.
    if found.sub.is_none() && !subcommands_of(found.spec).is_empty() {
        return Err(invalid);
    }
    if found.arity_error(args.len()).is_some() {
        return Err(Reject::Static(
            "ERR Invalid number of arguments specified for command",
        ));
    }
    let keys: Vec<(&'a [u8], u32)> = super::access::key_positions(&found, args)
        .into_iter()
        .filter_map(|(at, flags)| args.get(at).map(|&k| (k, flags)))
        .collect();
    if keys.is_empty() {
        return Err(Reject::Static("ERR The command has no key arguments"));
    }
    Ok(keys)
}

/// COMMAND HELP's lines.
const HELP: &[&str] = &[
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all commands.",
    "COUNT",
    "    Return the total number of commands in this server.",
    "LIST [FILTERBY (MODULE <module-name>|ACLCAT <category>|PATTERN <pattern>)]",
    "    Return a list of all commands in this server, optionally filtered.",
    "INFO [<command-name> ...]",
    "    Return details about multiple commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full command.",
    "HELP",
    "    Prints this help.",
];

/// Writes help lines as Redis does: an array of simple strings.
pub(super) fn help(out: &mut Out, lines: &[&str]) {
    out.array(lines.len());
    for l in lines {
        out.simple(l);
    }
}

fn command(c: &mut Call<'_>) -> CmdResult {
    // The dispatcher has checked each listed subcommand's arity.
    let Some(&sub) = c.args.get(1) else {
        let all = table();
        c.out.array(all.len());
        for s in all {
            describe_command(c.out, s);
        }
        return Ok(());
    };
    if is(sub, "count") {
        c.out.count(table().len());
    } else if is(sub, "list") {
        command_list(c)?;
    } else if is(sub, "info") {
        let names = c.args_from(2);
        if names.is_empty() {
            // Redis 7.0: COMMAND INFO with no names describes them all.
            c.out.array(table().len());
            for s in table() {
                describe_command(c.out, s);
            }
            return Ok(());
        }
        c.out.array(names.len());
        for &name in names {
            match find_named(name) {
                Some(Named::Command(s, _)) => describe_command(c.out, s),
                Some(Named::Sub(sub)) => describe(c.out, &Described::sub(sub), &[]),
                // A null bulk in RESP2, as Redis replies.
                None => c.out.null(),
            }
        }
    } else if is(sub, "docs") {
        let found: Vec<Named> = if c.args.len() == 2 {
            table()
                .iter()
                .map(|s| Named::Command(s, meta::of(s.name)))
                .collect()
        } else {
            c.args_from(2)
                .iter()
                .filter_map(|n| find_named(n))
                .collect()
        };
        c.out.map(found.len());
        for named in &found {
            docs_named(c.out, named);
        }
    } else if is(sub, "getkeys") || is(sub, "getkeysandflags") {
        let with_flags = is(sub, "getkeysandflags");
        let keys = keys_of(c.args_from(2))?;
        c.out.array(keys.len());
        for (k, flags) in keys {
            if with_flags {
                c.out.array(2);
                c.out.bulk(k);
                names_set(c.out, flags, key::NAMES);
            } else {
                c.out.bulk(k);
            }
        }
    } else if is(sub, "help") {
        help(c.out, HELP);
    } else {
        return Err(super::unknown_subcommand(sub, "command"));
    }
    Ok(())
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN glob]:
/// every command and subcommand name, as Redis 7 lists them.
fn command_list(c: &mut Call<'_>) -> CmdResult {
    let filter = match c.args_from(2) {
        [] => None,
        [by, kind, value] if is(by, "filterby") => Some((*kind, *value)),
        _ => return Err(Reject::Syntax),
    };
    let mut all: Vec<Described> = Vec::new();
    for s in table() {
        all.push(Described::command(s));
        all.extend(subcommands_of(s).iter().map(Described::sub));
    }
    let keep = |d: &Described| -> Result<bool, Reject> {
        let Some((kind, value)) = filter else {
            return Ok(true);
        };
        if is(kind, "module") {
            // No modules: nothing belongs to one.
            Ok(false)
        } else if is(kind, "aclcat") {
            let category = acl::NAMES.iter().find(|(_, n)| {
                n.trim_start_matches('@')
                    .as_bytes()
                    .eq_ignore_ascii_case(value)
            });
            Ok(category.is_some_and(|(bit, _)| d.acl & bit != 0))
        } else if is(kind, "pattern") {
            let pattern = value.to_ascii_lowercase();
            Ok(tandem_engine::glob_match(&pattern, d.name.as_bytes()))
        } else {
            Err(Reject::Syntax)
        }
    };
    let mut names = Vec::new();
    for d in &all {
        if keep(d)? {
            names.push(d.name);
        }
    }
    c.out.bulks(names.iter());
    Ok(())
}
