//! XREAD: entries past given IDs, from one or more streams, waiting for
//! them with BLOCK.
//!
//! Owns XREAD's arguments in Redis 7.0's order (options, then each key's
//! type and ID in turn, `$` read as the stream's last ID then), its
//! replies (per key its name and entries: an array of pairs in RESP2, a
//! map in RESP3), and its wait: in line on its keys (`crate::blocking`),
//! served by the first write that takes a stream's last ID past the one it
//! waits after, with that stream's entries alone, as Redis serves it.
//! Inside EXEC or a script it never waits.

use super::args::{int, is};
use super::list_blocking::{block_on, Empty};
use super::spec::{flags::*, spec, Spec};
use super::streams::{strict_id, INVALID_ID};
use super::{Call, CmdResult, Reject};
use crate::blocking::{Op, Served};
use bytes::Bytes;
use tandem_engine::{StreamEntry, StreamId, XRead};

pub(super) const COMMANDS: &[Spec] = &[spec(
    "xread",
    -4,
    READONLY | BLOCKING | MOVABLE_KEYS,
    (0, 0, 0),
    xread,
)];

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

/// XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
fn xread(c: &mut Call<'_>) -> CmdResult {
    let mut timeout: Option<u64> = None;
    let mut count = 0usize;
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
            timeout =
                Some(u64::try_from(ms).map_err(|_| Reject::Static("ERR timeout is negative"))?);
        } else if is(opt, "count") && more > 0 {
            i += 1;
            count = usize::try_from(int(c.arg(i))?.max(0)).unwrap_or(usize::MAX);
        } else if is(opt, "streams") && more > 0 {
            if !(c.args.len() - i - 1).is_multiple_of(2) {
                return Err(Reject::Static(
                    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            streams_at = Some(i + 1);
            break;
        } else if is(opt, "group") && more >= 2 {
            return Err(Reject::Static(
                "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
            ));
        } else if is(opt, "noack") {
            return Err(Reject::Static(
                "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
            ));
        } else {
            return Err(Reject::Syntax);
        }
        i += 1;
    }
    let at = streams_at.ok_or(Reject::Syntax)?;
    let rest = c.args_from(at);
    let (keys, ids) = rest.split_at(rest.len() / 2);
    let keys: &[&[u8]] = keys;
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
