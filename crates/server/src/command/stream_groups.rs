//! Consumer group commands: XGROUP (CREATE, SETID, DESTROY,
//! CREATECONSUMER, DELCONSUMER, HELP), XACK, XCLAIM, XAUTOCLAIM and
//! XPENDING.
//!
//! Owns their arguments and replies in Redis 7.0's words and order: each
//! command's key, type and group are checked where Redis checks them
//! (before or after its IDs are read), so the same bad request gets the
//! same error. What a group does is the engine's
//! (`tandem_engine::StreamGroups`).

use super::args::{int, is};
use super::introspection::help;
use super::spec::{spec, Spec};
use super::streams::{reply_delivered, strict_id, INVALID_ID};
use super::{subcommand_syntax_error, Call, CmdResult, Reject};
use tandem_engine::{
    AutoClaim, ClaimOptions, Delivered, DeliveryTime, Error as EngineError, GroupOp, GroupOutcome,
    StreamId,
};

pub(super) const COMMANDS: &[Spec] = &[
    spec("xgroup", -2, 0, (0, 0, 0), xgroup),
    spec(
        "xack",
        -4,
        super::spec::flags::WRITE | super::spec::flags::FAST,
        (1, 1, 1),
        xack,
    ),
    spec(
        "xclaim",
        -6,
        super::spec::flags::WRITE | super::spec::flags::FAST,
        (1, 1, 1),
        xclaim,
    ),
    spec(
        "xautoclaim",
        -6,
        super::spec::flags::WRITE | super::spec::flags::FAST,
        (1, 1, 1),
        xautoclaim,
    ),
    spec(
        "xpending",
        -3,
        super::spec::flags::READONLY,
        (1, 1, 1),
        xpending,
    ),
];

const XGROUP_HELP: &[&str] = &[
    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    "HELP",
    "    Prints this help.",
];

fn text(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// The NOGROUP refusal of XPENDING, XCLAIM and XAUTOCLAIM.
fn no_key_or_group(key: &[u8], group: &[u8]) -> Reject {
    Reject::Owned(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        text(key),
        text(group)
    ))
}

/// Whether `key` holds a stream, and whether it has `group`; WRONGTYPE
/// for another type. `quiet`: not counted as a read of the key (XGROUP
/// looks its key up for writing).
fn probe(c: &Call<'_>, key: &[u8], group: &[u8], quiet: bool) -> Result<(bool, bool), Reject> {
    let mut has_group = false;
    let mut look = || {
        c.kv()
            .xinspect(key, &mut |s| has_group = s.group(group).is_some())
    };
    let exists = if quiet {
        tandem_engine::lookups::quietly(look)?
    } else {
        look()?
    };
    Ok((exists, has_group))
}

/// XGROUP's ENTRIESREAD: a count, or -1 for unknown.
fn entries_read(arg: &[u8]) -> Result<Option<u64>, Reject> {
    match int(arg)? {
        -1 => Ok(None),
        n => u64::try_from(n)
            .map(Some)
            .map_err(|_| Reject::Static("ERR value for ENTRIESREAD must be positive or -1")),
    }
}

fn xgroup(c: &mut Call<'_>) -> CmdResult {
    let sub = c.arg(1);
    let argc = c.args.len();
    if argc == 2 && is(sub, "help") {
        help(c.out, XGROUP_HELP);
        return Ok(());
    }
    let known = [
        "create",
        "setid",
        "destroy",
        "createconsumer",
        "delconsumer",
        "help",
    ];
    if !known.iter().any(|k| is(sub, k)) {
        return Err(super::unknown_subcommand(sub, "xgroup"));
    }
    if argc < 4 {
        return Err(subcommand_syntax_error(sub, "xgroup"));
    }
    let (create, setid) = (is(sub, "create"), is(sub, "setid"));
    let mut mkstream = false;
    let mut read: Option<u64> = None;
    let mut i = 5;
    while i < argc {
        if create && is(c.arg(i), "mkstream") {
            mkstream = true;
            i += 1;
        } else if (create || setid) && is(c.arg(i), "entriesread") && i + 1 < argc {
            read = entries_read(c.arg(i + 1))?;
            i += 2;
        } else {
            return Err(subcommand_syntax_error(sub, "xgroup"));
        }
    }
    let (key, group) = (c.arg(2), c.arg(3));
    let (exists, has_group) = probe(c, key, group, true)?;
    let nogroup = || {
        Reject::Owned(format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            text(group),
            text(key)
        ))
    };
    let no_key = Reject::Static(
        "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
    );
    if !mkstream {
        if !exists {
            return Err(no_key);
        }
        let needs_group = setid || is(sub, "createconsumer") || is(sub, "delconsumer");
        if !has_group && needs_group {
            return Err(nogroup());
        }
    }
    let op = if create && (5..=8).contains(&argc) {
        let id = match c.arg(4) {
            b"$" => None,
            id => Some(strict_id(id)?),
        };
        GroupOp::Create {
            group,
            id,
            mkstream,
            entries_read: read,
        }
    } else if setid && (argc == 5 || argc == 7) {
        let id = match c.arg(4) {
            b"$" => None,
            id => Some(StreamId::parse(id, 0, false).ok_or(INVALID_ID)?),
        };
        GroupOp::SetId {
            group,
            id,
            entries_read: read,
        }
    } else if is(sub, "destroy") && argc == 4 {
        GroupOp::Destroy { group }
    } else if is(sub, "createconsumer") && argc == 5 {
        GroupOp::CreateConsumer {
            group,
            consumer: c.arg(4),
        }
    } else if is(sub, "delconsumer") && argc == 5 {
        GroupOp::DelConsumer {
            group,
            consumer: c.arg(4),
        }
    } else {
        return Err(subcommand_syntax_error(sub, "xgroup"));
    };
    let outcome = match c.kv().xgroup(key, &op) {
        Ok(outcome) => outcome,
        Err(EngineError::NoGroup) => return Err(nogroup()),
        Err(EngineError::NoStreamKey) => return Err(no_key),
        Err(e) => return Err(e.into()),
    };
    match outcome {
        GroupOutcome::Done(true) => c.out.ok(),
        GroupOutcome::Done(false) => {
            return Err(Reject::Static(
                "BUSYGROUP Consumer Group name already exists",
            ))
        }
        GroupOutcome::Count(n) => {
            // A group gone ends its blocked readers' waits (with NOGROUP).
            if matches!(op, GroupOp::Destroy { .. }) && n > 0 && c.shared.blocking.any() {
                let db = c.session.db;
                c.session
                    .ready
                    .push((db, bytes::Bytes::copy_from_slice(key)));
            }
            c.out.int(i64::try_from(n).unwrap_or(i64::MAX));
        }
        _ => c.out.ok(),
    }
    Ok(())
}

/// XACK key group id [id ...]: 0 for a missing key or group, before the
/// IDs are read.
fn xack(c: &mut Call<'_>) -> CmdResult {
    let (key, group) = (c.arg(1), c.arg(2));
    let (exists, has_group) = probe(c, key, group, false)?;
    if !exists || !has_group {
        c.out.int(0);
        return Ok(());
    }
    let ids = c
        .args_from(3)
        .iter()
        .map(|a| strict_id(a))
        .collect::<Result<Vec<_>, _>>()?;
    match c.kv().xgroup(key, &GroupOp::Ack { group, ids: &ids })? {
        GroupOutcome::Count(n) => c.out.int(i64::try_from(n).unwrap_or(i64::MAX)),
        _ => c.out.int(0),
    }
    Ok(())
}

/// A count of milliseconds, or `msg`.
fn ms_arg(arg: &[u8], msg: &'static str) -> Result<i64, Reject> {
    tandem_engine::parse_i64(arg).ok_or(Reject::Static(msg))
}

/// Writes claimed entries, or IDs alone.
fn reply_claimed(c: &mut Call<'_>, claimed: &[Delivered], just_id: bool) {
    if !just_id {
        reply_delivered(c, claimed);
        return;
    }
    c.out.array(claimed.len());
    for d in claimed {
        let id = match d {
            Delivered::Entry(e) => e.id,
            Delivered::Missing(id) => *id,
        };
        c.out.bulk(id.to_string().as_bytes());
    }
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms]
/// [TIME unix-ms] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]
fn xclaim(c: &mut Call<'_>) -> CmdResult {
    let (key, group, consumer) = (c.arg(1), c.arg(2), c.arg(3));
    let (exists, has_group) = probe(c, key, group, false)?;
    if !exists || !has_group {
        return Err(no_key_or_group(key, group));
    }
    let min_idle = ms_arg(c.arg(4), "ERR Invalid min-idle-time argument for XCLAIM")?.max(0);
    let rest = c.args_from(5);
    let ids: Vec<StreamId> = rest
        .iter()
        .map_while(|a| StreamId::parse(a, 0, true))
        .collect();
    let mut opts = ClaimOptions {
        min_idle,
        delivery: None,
        retry_count: None,
        force: false,
        just_id: false,
        last_id: None,
    };
    let mut options = rest.get(ids.len()..).unwrap_or_default().iter();
    while let Some(opt) = options.next() {
        let more = options.len() > 0;
        if is(opt, "force") {
            opts.force = true;
        } else if is(opt, "justid") {
            opts.just_id = true;
        } else if is(opt, "idle") && more {
            let v = options.next().copied().unwrap_or_default();
            let idle = ms_arg(v, "ERR Invalid IDLE option argument for XCLAIM")?;
            opts.delivery = Some(DeliveryTime::Idle(idle));
        } else if is(opt, "time") && more {
            let v = options.next().copied().unwrap_or_default();
            let at = ms_arg(v, "ERR Invalid TIME option argument for XCLAIM")?;
            opts.delivery = Some(DeliveryTime::At(at));
        } else if is(opt, "retrycount") && more {
            let v = options.next().copied().unwrap_or_default();
            let n = ms_arg(v, "ERR Invalid RETRYCOUNT option argument for XCLAIM")?;
            opts.retry_count = u64::try_from(n).ok();
        } else if is(opt, "lastid") && more {
            let v = options.next().copied().unwrap_or_default();
            opts.last_id = Some(strict_id(v)?);
        } else {
            return Err(Reject::Owned(format!(
                "ERR Unrecognized XCLAIM option '{}'",
                text(opt)
            )));
        }
    }
    let op = GroupOp::Claim {
        group,
        consumer,
        ids: &ids,
        opts,
    };
    match c.kv().xgroup(key, &op) {
        Ok(GroupOutcome::Delivered(got)) => reply_claimed(c, &got, opts.just_id),
        Ok(_) => c.out.array(0),
        Err(EngineError::NoGroup | EngineError::NoStreamKey) => {
            return Err(no_key_or_group(key, group))
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count]
/// [JUSTID]
fn xautoclaim(c: &mut Call<'_>) -> CmdResult {
    let (key, group, consumer) = (c.arg(1), c.arg(2), c.arg(3));
    let min_idle = ms_arg(
        c.arg(4),
        "ERR Invalid min-idle-time argument for XAUTOCLAIM",
    )?
    .max(0);
    let (mut start, exclusive) = super::streams::bound(c.arg(5), 0)?;
    if exclusive {
        start = start
            .next()
            .ok_or(Reject::Static("ERR invalid start ID for the interval"))?;
    }
    let mut count = 100usize;
    let mut just_id = false;
    let mut options = c.args_from(6).iter();
    while let Some(opt) = options.next() {
        if is(opt, "count") && options.len() > 0 {
            let v = options.next().copied().unwrap_or_default();
            // Redis's bound keeps COUNT times its ten attempts in range.
            let most = i64::MAX / 16;
            count = tandem_engine::parse_i64(v)
                .filter(|n| (1..=most).contains(n))
                .and_then(|n| usize::try_from(n).ok())
                .ok_or(Reject::Static("ERR COUNT must be > 0"))?;
        } else if is(opt, "justid") {
            just_id = true;
        } else {
            return Err(Reject::Syntax);
        }
    }
    let (exists, has_group) = probe(c, key, group, false)?;
    if !exists || !has_group {
        return Err(no_key_or_group(key, group));
    }
    let op = GroupOp::AutoClaim {
        group,
        consumer,
        args: AutoClaim {
            start,
            count,
            min_idle,
            just_id,
        },
    };
    let auto = match c.kv().xgroup(key, &op) {
        Ok(GroupOutcome::AutoClaimed(auto)) => auto,
        Ok(_) | Err(EngineError::NoGroup | EngineError::NoStreamKey) => {
            return Err(no_key_or_group(key, group))
        }
        Err(e) => return Err(e.into()),
    };
    c.out.array(3);
    c.out.bulk(auto.next.to_string().as_bytes());
    reply_claimed(c, &auto.claimed, just_id);
    c.out.array(auto.deleted.len());
    for id in &auto.deleted {
        c.out.bulk(id.to_string().as_bytes());
    }
    Ok(())
}

/// XPENDING's summary: how many are pending, the first and last IDs,
/// and each consumer with entries pending and how many.
type Summary = (
    usize,
    Option<(StreamId, StreamId)>,
    Vec<(bytes::Bytes, usize)>,
);

/// One XPENDING row, extended form.
struct Row {
    id: StreamId,
    consumer: bytes::Bytes,
    idle: i64,
    count: u64,
}

/// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
fn xpending(c: &mut Call<'_>) -> CmdResult {
    let argc = c.args.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(Reject::Syntax);
    }
    let (key, group) = (c.arg(1), c.arg(2));
    let mut range = None;
    if argc >= 6 {
        let mut at = 3;
        let mut min_idle = 0;
        if is(c.arg(3), "idle") {
            min_idle = int(c.arg(4))?;
            if argc < 8 {
                return Err(Reject::Syntax);
            }
            at += 2;
        }
        let count = usize::try_from(int(c.arg(at + 2))?.max(0)).unwrap_or(usize::MAX);
        let (mut start, start_ex) = super::streams::bound(c.arg(at), 0)?;
        if start_ex {
            start = start
                .next()
                .ok_or(Reject::Static("ERR invalid start ID for the interval"))?;
        }
        let (mut end, end_ex) = super::streams::bound(c.arg(at + 1), u64::MAX)?;
        if end_ex {
            end = end
                .prev()
                .ok_or(Reject::Static("ERR invalid end ID for the interval"))?;
        }
        let consumer = c.args.get(at + 3).copied();
        range = Some((min_idle, start, end, count, consumer));
    }
    let now = i64::try_from(c.db().now_ms()).unwrap_or(i64::MAX);
    let mut found_group = false;
    let mut summary: Option<Summary> = None;
    let mut rows: Option<Vec<Row>> = None;
    let exists = c.kv().xinspect(key, &mut |s| {
        let Some(g) = s.group(group) else { return };
        found_group = true;
        match range {
            None => {
                let first = g.pel().keys().next().copied();
                let last = g.pel().keys().next_back().copied();
                let consumers = g
                    .consumers()
                    .iter()
                    .filter(|(_, cs)| cs.pending() > 0)
                    .map(|(name, cs)| (name.clone(), cs.pending()))
                    .collect();
                summary = Some((g.pel().len(), first.zip(last), consumers));
            }
            Some((min_idle, start, end, count, consumer)) => {
                let ids: Vec<StreamId> = match consumer {
                    Some(name) => match g.consumer(name) {
                        Some(cs) => cs.pending_ids().filter(|id| *id >= start).collect(),
                        None => Vec::new(),
                    },
                    None => g.pel().range(start..).map(|(id, _)| *id).collect(),
                };
                let mut out = Vec::new();
                for id in ids {
                    if out.len() >= count || id > end {
                        break;
                    }
                    let Some(p) = g.pel().get(&id) else { continue };
                    let idle = now.saturating_sub(p.delivery_time);
                    if min_idle != 0 && idle < min_idle {
                        continue;
                    }
                    out.push(Row {
                        id,
                        consumer: p.consumer.clone(),
                        idle: idle.max(0),
                        count: p.delivery_count,
                    });
                }
                rows = Some(out);
            }
        }
    })?;
    if !exists || !found_group {
        return Err(no_key_or_group(key, group));
    }
    if let Some((n, edges, consumers)) = summary {
        c.out.array(4);
        c.out.int(i64::try_from(n).unwrap_or(i64::MAX));
        match edges {
            None => {
                c.out.null();
                c.out.null();
                c.out.null_array();
            }
            Some((first, last)) => {
                c.out.bulk(first.to_string().as_bytes());
                c.out.bulk(last.to_string().as_bytes());
                c.out.array(consumers.len());
                for (name, n) in consumers {
                    c.out.array(2);
                    c.out.bulk(&name);
                    c.out.bulk(n.to_string().as_bytes());
                }
            }
        }
        return Ok(());
    }
    let rows = rows.unwrap_or_default();
    c.out.array(rows.len());
    for r in rows {
        c.out.array(4);
        c.out.bulk(r.id.to_string().as_bytes());
        c.out.bulk(&r.consumer);
        c.out.int(r.idle);
        c.out.int(i64::try_from(r.count).unwrap_or(i64::MAX));
    }
    Ok(())
}
