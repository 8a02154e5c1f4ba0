//! XINFO: STREAM (and STREAM FULL), GROUPS, CONSUMERS and HELP.
//!
//! Owns the replies' shapes and field names in Redis 7.0's order (maps,
//! flattened to arrays in RESP2). The facts are the stream's, read under
//! one read lock (`StreamGroups::xinspect`): `radix-tree-keys` is the
//! count of Tandem's nodes, which end where Redis's listpacks end, and
//! `radix-tree-nodes` what Redis's radix tree would hold for them.

use super::args::{int, is};
use super::introspection::help;
use super::spec::{spec, Spec};
use super::{subcommand_syntax_error, Call, CmdResult, Reject};
use crate::resp::Out;
use tandem_engine::{Group, Stream, StreamEntry, StreamId};

pub(super) const COMMANDS: &[Spec] = &[spec("xinfo", -2, 0, (0, 0, 0), xinfo)];

const XINFO_HELP: &[&str] = &[
    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    "HELP",
    "    Prints this help.",
];

fn id(out: &mut Out, id: StreamId) {
    out.bulk(id.to_string().as_bytes());
}

fn entry(out: &mut Out, e: &StreamEntry) {
    out.array(2);
    id(out, e.id);
    out.bulks(e.pairs.iter());
}

fn int_or_null(out: &mut Out, n: Option<i64>) {
    match n {
        Some(n) => out.int(n),
        None => out.null(),
    }
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// XINFO STREAM's fields before the entries.
fn stream_head(out: &mut Out, s: &Stream, full: bool) {
    out.map(if full { 9 } else { 10 });
    let meta = s.meta();
    out.bulk(b"length");
    out.int(i64::try_from(s.len()).unwrap_or(i64::MAX));
    out.bulk(b"radix-tree-keys");
    out.int(count(s.node_count()));
    out.bulk(b"radix-tree-nodes");
    out.int(count(s.radix_tree_nodes()));
    out.bulk(b"last-generated-id");
    id(out, meta.last_id);
    out.bulk(b"max-deleted-entry-id");
    id(out, meta.max_deleted);
    out.bulk(b"entries-added");
    out.int(i64::try_from(meta.entries_added).unwrap_or(i64::MAX));
    out.bulk(b"recorded-first-entry-id");
    id(out, meta.first_id);
}

/// XINFO STREAM FULL's groups, each with its PEL and consumers, at most
/// `limit` pending entries each (0: all).
fn full_groups(out: &mut Out, s: &Stream, limit: usize) {
    out.array(s.groups().len());
    for (name, g) in s.groups() {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        id(out, g.last_id);
        out.bulk(b"entries-read");
        int_or_null(out, g.entries_read.map(|n| n as i64));
        out.bulk(b"lag");
        int_or_null(out, s.lag(g));
        out.bulk(b"pel-count");
        out.int(count(g.pel().len()));
        out.bulk(b"pending");
        let shown = if limit == 0 { usize::MAX } else { limit };
        out.array(g.pel().len().min(shown));
        for (pid, p) in g.pel().iter().take(shown) {
            out.array(4);
            id(out, *pid);
            out.bulk(&p.consumer);
            out.int(p.delivery_time);
            out.int(i64::try_from(p.delivery_count).unwrap_or(i64::MAX));
        }
        out.bulk(b"consumers");
        out.array(g.consumers().len());
        for (cname, cs) in g.consumers() {
            out.map(4);
            out.bulk(b"name");
            out.bulk(cname);
            out.bulk(b"seen-time");
            out.int(cs.seen_time);
            out.bulk(b"pel-count");
            out.int(count(cs.pending()));
            out.bulk(b"pending");
            out.array(cs.pending().min(shown));
            for pid in cs.pending_ids().take(shown) {
                let p = g.pel().get(&pid);
                out.array(3);
                id(out, pid);
                out.int(p.map_or(0, |p| p.delivery_time));
                out.int(p.map_or(0, |p| i64::try_from(p.delivery_count).unwrap_or(i64::MAX)));
            }
        }
    }
}

/// XINFO GROUPS' map for one group.
fn group_info(out: &mut Out, s: &Stream, name: &[u8], g: &Group) {
    out.map(6);
    out.bulk(b"name");
    out.bulk(name);
    out.bulk(b"consumers");
    out.int(count(g.consumers().len()));
    out.bulk(b"pending");
    out.int(count(g.pel().len()));
    out.bulk(b"last-delivered-id");
    id(out, g.last_id);
    out.bulk(b"entries-read");
    int_or_null(out, g.entries_read.map(|n| n as i64));
    out.bulk(b"lag");
    int_or_null(out, s.lag(g));
}

fn xinfo(c: &mut Call<'_>) -> CmdResult {
    let sub = c.arg(1);
    let argc = c.args.len();
    let known = ["stream", "groups", "consumers", "help"];
    if !known.iter().any(|k| is(sub, k)) {
        return Err(super::unknown_subcommand(sub, "xinfo"));
    }
    if is(sub, "help") {
        if argc != 2 {
            return Err(subcommand_syntax_error(sub, "xinfo"));
        }
        help(c.out, XINFO_HELP);
        return Ok(());
    }
    if argc < 3 {
        return Err(subcommand_syntax_error(sub, "xinfo"));
    }
    let key = c.arg(2);
    // STREAM's options are read once the key is found, as Redis reads
    // them.
    let full: Option<Result<Option<&[u8]>, ()>> = match c.args_from(3) {
        [] => None,
        [word] if is(word, "full") => Some(Ok(None)),
        [word, cw, n] if is(word, "full") && is(cw, "count") => Some(Ok(Some(n))),
        _ => Some(Err(())),
    };
    let now = i64::try_from(c.db().now_ms()).unwrap_or(i64::MAX);
    let group = c.arg(3);
    let kv = c.kv();
    let mut result: Result<(), Reject> = Ok(());
    let out = &mut *c.out;
    let exists = kv.xinspect(key, &mut |s| {
        result = (|| {
            if is(sub, "consumers") && argc == 4 {
                let Some(g) = s.group(group) else {
                    return Err(Reject::Owned(format!(
                        "NOGROUP No such consumer group '{}' for key name '{}'",
                        String::from_utf8_lossy(group),
                        String::from_utf8_lossy(key)
                    )));
                };
                out.array(g.consumers().len());
                for (name, cs) in g.consumers() {
                    out.map(3);
                    out.bulk(b"name");
                    out.bulk(name);
                    out.bulk(b"pending");
                    out.int(count(cs.pending()));
                    out.bulk(b"idle");
                    out.int(now.saturating_sub(cs.seen_time).max(0));
                }
                Ok(())
            } else if is(sub, "groups") && argc == 3 {
                out.array(s.groups().len());
                for (name, g) in s.groups() {
                    group_info(out, s, name, g);
                }
                Ok(())
            } else if is(sub, "stream") {
                stream_info(out, s, full, sub)
            } else {
                Err(subcommand_syntax_error(sub, "xinfo"))
            }
        })();
    })?;
    if !exists {
        return Err(Reject::Static("ERR no such key"));
    }
    result
}

/// XINFO STREAM key [FULL [COUNT count]].
fn stream_info(
    out: &mut Out,
    s: &Stream,
    full: Option<Result<Option<&[u8]>, ()>>,
    sub: &[u8],
) -> Result<(), Reject> {
    let limit = match full {
        None => None,
        Some(Err(())) => return Err(subcommand_syntax_error(sub, "xinfo")),
        // FULL shows 10 of each by default, so as not to block the
        // server; a negative COUNT means the default, 0 all.
        Some(Ok(None)) => Some(10),
        Some(Ok(Some(n))) => {
            let n = int(n)?;
            Some(if n < 0 {
                10
            } else {
                usize::try_from(n).unwrap_or(usize::MAX)
            })
        }
    };
    stream_head(out, s, limit.is_some());
    match limit {
        None => {
            out.bulk(b"groups");
            out.int(count(s.groups().len()));
            out.bulk(b"first-entry");
            match s.range(StreamId::MIN, StreamId::MAX, 1, false).first() {
                Some(e) => entry(out, e),
                None => out.null(),
            }
            out.bulk(b"last-entry");
            match s.range(StreamId::MIN, StreamId::MAX, 1, true).first() {
                Some(e) => entry(out, e),
                None => out.null(),
            }
        }
        Some(limit) => {
            out.bulk(b"entries");
            let entries = s.range(StreamId::MIN, StreamId::MAX, limit, false);
            out.array(entries.len());
            for e in &entries {
                entry(out, e);
            }
            out.bulk(b"groups");
            full_groups(out, s, limit);
        }
    }
    Ok(())
}
