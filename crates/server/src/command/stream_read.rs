//! XREAD and XREADGROUP: entries past given IDs, from one or more
//! streams, waiting for them with BLOCK; XREADGROUP delivers them to a
//! consumer of a group, or reads a consumer's history.
//!
//! Owns their arguments in Redis 7.0's order (options, then each key's
//! type, group and ID in turn, `$` read as the stream's last ID then),
//! their replies (per key its name and entries: an array of pairs in
//! RESP2, a map in RESP3), and their wait: in line on their keys
//! (`crate::blocking`), served by the first write that takes a stream's
//! last ID past the one waited after (a group's last ID, for
//! XREADGROUP), with that stream's entries alone, as Redis serves them.
//! Inside EXEC or a script they never wait.

use super::args::{int, is};
use super::list_blocking::{block_on, Empty};
use super::spec::{flags::*, spec, Spec};
use super::streams::{strict_id, INVALID_ID};
use super::{Call, CmdResult, Reject};
use crate::blocking::{Op, Served};
use bytes::Bytes;
use tandem_engine::{
    Delivered, Error as EngineError, GroupOp, GroupOutcome, StreamEntry, StreamId, XRead,
};

pub(super) const COMMANDS: &[Spec] = &[
    spec(
        "xread",
        -4,
        READONLY | BLOCKING | MOVABLE_KEYS,
        (0, 0, 0),
        xread,
    ),
    spec(
        "xreadgroup",
        -7,
        WRITE | BLOCKING | MOVABLE_KEYS,
        (0, 0, 0),
        xreadgroup,
    ),
];

/// What a blocked reader gets when no COUNT was given: Redis's
/// `XREAD_BLOCKED_DEFAULT_COUNT`.
const BLOCKED_COUNT: usize = 1000;

/// Writes what XREAD read: per key, its name and its entries.
pub(super) fn reply_read(c: &mut Call<'_>, read: &[(Bytes, Vec<StreamEntry>)]) {
    let resp3 = c.out.resp_version() >= 3;
    if resp3 {
        c.out.map(read.len());
    } else {
        c.out.array(read.len());
    }
    for (key, entries) in read {
        if !resp3 {
            c.out.array(2);
        }
        c.out.bulk(key);
        super::streams::reply_entries(c, entries);
    }
}

/// Writes what XREADGROUP read: per key, its name and what it delivered
/// (an entry gone from the stream as its ID and a null).
pub(super) fn reply_delivered(c: &mut Call<'_>, read: &[(Bytes, Vec<Delivered>)]) {
    let resp3 = c.out.resp_version() >= 3;
    if resp3 {
        c.out.map(read.len());
    } else {
        c.out.array(read.len());
    }
    for (key, delivered) in read {
        if !resp3 {
            c.out.array(2);
        }
        c.out.bulk(key);
        super::streams::reply_delivered(c, delivered);
    }
}

/// XREAD's and XREADGROUP's options, as read.
struct ReadArgs<'a> {
    timeout: Option<u64>,
    count: usize,
    group: Option<(&'a [u8], &'a [u8])>,
    noack: bool,
    keys: &'a [&'a [u8]],
    ids: &'a [&'a [u8]],
}

/// Reads XREAD's (or, with `group`, XREADGROUP's) options as Redis's
/// `xreadCommand` reads them.
fn read_args<'a>(c: &Call<'a>, group: bool) -> Result<ReadArgs<'a>, Reject> {
    let mut out = ReadArgs {
        timeout: None,
        count: 0,
        group: None,
        noack: false,
        keys: &[],
        ids: &[],
    };
    let mut streams_at = None;
    let mut i = 1;
    while i < c.args.len() {
        let more = c.args.len() - i - 1;
        let opt = c.arg(i);
        if is(opt, "block") && more > 0 {
            if crate::script::in_script() {
                return Err(Reject::Owned(format!(
                    "ERR {} command is not allowed with BLOCK option from scripts",
                    String::from_utf8_lossy(c.arg(0))
                )));
            }
            i += 1;
            let ms = tandem_engine::parse_i64(c.arg(i)).ok_or(Reject::Static(
                "ERR timeout is not an integer or out of range",
            ))?;
            out.timeout =
                Some(u64::try_from(ms).map_err(|_| Reject::Static("ERR timeout is negative"))?);
        } else if is(opt, "count") && more > 0 {
            i += 1;
            out.count = usize::try_from(int(c.arg(i))?.max(0)).unwrap_or(usize::MAX);
        } else if is(opt, "streams") && more > 0 {
            if !(c.args.len() - i - 1).is_multiple_of(2) {
                return Err(Reject::Static(
                    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            streams_at = Some(i + 1);
            break;
        } else if is(opt, "group") && more >= 2 {
            if !group {
                return Err(Reject::Static(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            out.group = Some((c.arg(i + 1), c.arg(i + 2)));
            i += 2;
        } else if is(opt, "noack") {
            if !group {
                return Err(Reject::Static(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            out.noack = true;
        } else {
            return Err(Reject::Syntax);
        }
        i += 1;
    }
    let at = streams_at.ok_or(Reject::Syntax)?;
    if group && out.group.is_none() {
        return Err(Reject::Static("ERR Missing GROUP option for XREADGROUP"));
    }
    let rest = c.args_from(at);
    let (keys, ids) = rest.split_at(rest.len() / 2);
    out.keys = keys;
    out.ids = ids;
    Ok(out)
}

/// XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
fn xread(c: &mut Call<'_>) -> CmdResult {
    let ReadArgs {
        timeout,
        count,
        keys,
        ids,
        ..
    } = read_args(c, false)?;
    // Run again after a wait: the wait's outcome answers, not a new read.
    if c.session.blocked.is_some() {
        let op = Op::XRead {
            after: Vec::new(),
            count,
        };
        return block_on(c, keys, timeout.unwrap_or(0), Empty::Array, op, |_| {
            Ok(None)
        });
    }
    let mut after = Vec::with_capacity(keys.len());
    for (key, id) in keys.iter().zip(ids) {
        let meta = c.kv().xmeta(key)?;
        let id = match *id {
            b"$" => meta.map_or(StreamId::MIN, |(m, _, _)| m.last_id),
            b">" => {
                return Err(Reject::Static(
                    "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
                ))
            }
            id => strict_id(id).map_err(|_| INVALID_ID)?,
        };
        after.push(id);
    }
    let read_now = |c: &mut Call<'_>| -> Result<Option<Served>, Reject> {
        let mut read = Vec::new();
        for (key, &id) in keys.iter().zip(&after) {
            if let XRead::Entries(entries) = c.kv().xread(key, id, count, false)? {
                read.push((Bytes::copy_from_slice(key), entries));
            }
        }
        Ok((!read.is_empty()).then_some(Served::Streams(read)))
    };
    let Some(timeout) = timeout else {
        match read_now(c)? {
            Some(Served::Streams(read)) => reply_read(c, &read),
            _ => c.out.null_array(),
        }
        return Ok(());
    };
    let op = Op::XRead {
        after: keys
            .iter()
            .zip(&after)
            .map(|(k, &id)| (Bytes::copy_from_slice(k), id))
            .collect(),
        count: if count == 0 { BLOCKED_COUNT } else { count },
    };
    block_on(c, keys, timeout, Empty::Array, op, read_now)
}

/// The NOGROUP refusal of XREADGROUP, naming the key and group.
fn no_group(key: &[u8], group: &[u8]) -> Reject {
    Reject::Owned(format!(
        "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

/// XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds]
/// [NOACK] STREAMS key [key ...] id [id ...]
fn xreadgroup(c: &mut Call<'_>) -> CmdResult {
    let args = read_args(c, true)?;
    let Some((group, consumer)) = args.group else {
        return Err(Reject::Syntax);
    };
    let (keys, count, noack) = (args.keys, args.count, args.noack);
    let blocked_op = || Op::XReadGroup {
        group: Bytes::copy_from_slice(group),
        consumer: Bytes::copy_from_slice(consumer),
        count: if count == 0 { BLOCKED_COUNT } else { count },
        noack,
    };
    if c.session.blocked.is_some() {
        return block_on(
            c,
            keys,
            args.timeout.unwrap_or(0),
            Empty::Array,
            blocked_op(),
            |_| Ok(None),
        );
    }
    // Each key's type, group and ID, in turn: `None` for `>`.
    let mut after = Vec::with_capacity(keys.len());
    for (key, id) in keys.iter().zip(args.ids) {
        let mut has_group = false;
        if !c
            .kv()
            .xinspect(key, &mut |s| has_group = s.group(group).is_some())?
            || !has_group
        {
            return Err(no_group(key, group));
        }
        after.push(match *id {
            b"$" => {
                return Err(Reject::Static(
                    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
                ))
            }
            b">" => None,
            // The largest ID is how Redis marks `>`.
            id => Some(strict_id(id).map_err(|_| INVALID_ID)?).filter(|&id| id != StreamId::MAX),
        });
    }
    let read_now = |c: &mut Call<'_>| -> Result<Option<Served>, Reject> {
        let mut read = Vec::new();
        for (key, &after) in keys.iter().zip(&after) {
            let op = GroupOp::Read {
                group,
                consumer,
                after,
                count,
                noack,
                blocked: false,
            };
            let got = match c.kv().xgroup(key, &op) {
                Ok(got) => got,
                Err(EngineError::NoGroup | EngineError::NoStreamKey) => continue,
                Err(e) => return Err(e.into()),
            };
            match got {
                GroupOutcome::New(Some(entries)) => read.push((
                    Bytes::copy_from_slice(key),
                    entries.into_iter().map(Delivered::Entry).collect(),
                )),
                GroupOutcome::Delivered(history) => {
                    read.push((Bytes::copy_from_slice(key), history))
                }
                _ => {}
            }
        }
        Ok((!read.is_empty()).then_some(Served::Delivered(read)))
    };
    let Some(timeout) = args.timeout else {
        match read_now(c)? {
            Some(Served::Delivered(read)) => reply_delivered(c, &read),
            _ => c.out.null_array(),
        }
        return Ok(());
    };
    block_on(c, keys, timeout, Empty::Array, blocked_op(), read_now)
}
