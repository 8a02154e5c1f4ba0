//! Stream commands on one key: XADD, XLEN, XRANGE, XREVRANGE, XDEL,
//! XTRIM, XSETID.
//!
//! Owns their arguments, read in Redis 7.0's order with its error texts
//! (`streamParseAddOrTrimArgsOrReply`, the ID forms of
//! `streamGenericParseIDOrReply`), and their replies: an entry is a
//! two-element array, its ID and its fields and values. The stream
//! itself, and when it changes, are the engine's (`tandem_engine::Streams`).

use super::args::{int, is};
use super::spec::{flags::*, spec, Spec};
use super::{Call, CmdResult, Reject};
use tandem_engine::{Delivered, IdArg, StreamEntry, StreamId, Trim, TrimTo, XAdd};

pub(super) const COMMANDS: &[Spec] = &[
    spec("xadd", -5, WRITE | DENYOOM | FAST, (1, 1, 1), xadd),
    spec("xlen", 2, READONLY | FAST, (1, 1, 1), xlen),
    spec("xrange", -4, READONLY, (1, 1, 1), xrange),
    spec("xrevrange", -4, READONLY, (1, 1, 1), xrevrange),
    spec("xdel", -3, WRITE | FAST, (1, 1, 1), xdel),
    spec("xtrim", -4, WRITE, (1, 1, 1), xtrim),
    spec("xsetid", -3, WRITE | DENYOOM | FAST, (1, 1, 1), xsetid),
];

/// Redis's reply to an ID argument it cannot read.
pub(super) const INVALID_ID: Reject =
    Reject::Static("ERR Invalid stream ID specified as stream command argument");

/// A strict ID (no `-` or `+`), the sequence 0 when left out.
pub(super) fn strict_id(arg: &[u8]) -> Result<StreamId, Reject> {
    StreamId::parse(arg, 0, true).ok_or(INVALID_ID)
}

/// Writes `id` as a bulk string, `<ms>-<seq>`, without allocating.
pub(super) fn bulk_id(c: &mut Call<'_>, id: StreamId) {
    let mut ms = itoa::Buffer::new();
    let mut seq = itoa::Buffer::new();
    let (ms, seq) = (ms.format(id.ms).as_bytes(), seq.format(id.seq).as_bytes());
    let mut text = [0u8; 41];
    let len = ms.len() + 1 + seq.len();
    for (slot, b) in text.iter_mut().zip(ms.iter().chain(b"-").chain(seq)) {
        *slot = *b;
    }
    c.out.bulk(text.get(..len).unwrap_or_default());
}

/// Writes entries as Redis replies with them.
pub(super) fn reply_entries(c: &mut Call<'_>, entries: &[StreamEntry]) {
    c.out.array(entries.len());
    for e in entries {
        c.out.array(2);
        bulk_id(c, e.id);
        c.out.bulks(e.pairs.iter());
    }
}

/// Writes entries delivered by a group: an entry gone from the stream as
/// its ID and a null, as Redis replies with a consumer's history.
pub(super) fn reply_delivered(c: &mut Call<'_>, delivered: &[Delivered]) {
    c.out.array(delivered.len());
    for d in delivered {
        c.out.array(2);
        match d {
            Delivered::Entry(e) => {
                bulk_id(c, e.id);
                c.out.bulks(e.pairs.iter());
            }
            Delivered::Missing(id) => {
                c.out.bulk(id.to_string().as_bytes());
                c.out.null_array();
            }
        }
    }
}

/// XADD's and XTRIM's options, as read.
struct AddOrTrim {
    /// Where XADD's ID is (past the end for XTRIM).
    id_at: usize,
    id: Option<IdArg>,
    no_mkstream: bool,
    trim: Option<Trim>,
}

/// Reads `args` (the whole request) from position 2 as Redis reads XADD's
/// (`xadd`) or XTRIM's options.
fn add_or_trim(c: &Call<'_>, xadd: bool) -> Result<AddOrTrim, Reject> {
    let args = c.args;
    let argc = args.len();
    let mut to: Option<TrimTo> = None;
    let mut approx = false;
    let mut limit: i64 = 0;
    let mut limit_given = false;
    let mut out = AddOrTrim {
        id_at: argc,
        id: None,
        no_mkstream: false,
        trim: None,
    };
    let mut i = 2;
    while i < argc {
        let more = argc - 1 - i;
        let opt = c.arg(i);
        if xadd && opt == b"*" {
            out.id_at = i;
            break;
        } else if (is(opt, "maxlen") || is(opt, "minid")) && more > 0 {
            if to.is_some() {
                return Err(Reject::Static(
                    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
                ));
            }
            approx = false;
            let next = c.arg(i + 1);
            if more >= 2 && next == b"~" {
                approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            let value = c.arg(i + 1);
            to = Some(if is(opt, "maxlen") {
                let n = int(value)?;
                let n = u64::try_from(n)
                    .map_err(|_| Reject::Static("ERR The MAXLEN argument must be >= 0."))?;
                TrimTo::MaxLen(n)
            } else {
                TrimTo::MinId(strict_id(value)?)
            });
            i += 1;
        } else if is(opt, "limit") && more > 0 {
            limit = int(c.arg(i + 1))?;
            if limit < 0 {
                return Err(Reject::Static("ERR The LIMIT argument must be >= 0."));
            }
            limit_given = true;
            i += 1;
        } else if xadd && is(opt, "nomkstream") {
            out.no_mkstream = true;
        } else if xadd {
            out.id = Some(StreamId::parse_arg(opt, 0, true, true).ok_or(INVALID_ID)?);
            out.id_at = i;
            break;
        } else {
            return Err(Reject::Syntax);
        }
        i += 1;
    }
    if limit != 0 && to.is_none() {
        return Err(Reject::Static(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && to.is_none() {
        return Err(Reject::Static(
            "ERR syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    let limit = if limit_given {
        if !approx {
            return Err(Reject::Static(
                "ERR syntax error, LIMIT cannot be used without the special ~ option",
            ));
        }
        limit.unsigned_abs()
    } else if approx {
        // At most 100 nodes' worth, as Redis bounds an approximate trim.
        let entries = c.shared.config.load().stream_node_max_entries;
        match entries.saturating_mul(100) {
            0 => 10_000,
            n => n.min(1_000_000),
        }
    } else {
        0
    };
    out.trim = to.map(|to| Trim { to, approx, limit });
    Ok(out)
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]]
/// *|id field value [field value ...]
fn xadd(c: &mut Call<'_>) -> CmdResult {
    let parsed = add_or_trim(c, true)?;
    let pairs = c.args.get(parsed.id_at + 1..).unwrap_or_default();
    if pairs.len() < 2 || pairs.len() % 2 == 1 {
        return Err(Reject::Arity);
    }
    if parsed.id == Some(IdArg::Id(StreamId::MIN)) {
        return Err(Reject::Static(
            "ERR The ID specified in XADD must be greater than 0-0",
        ));
    }
    let add = XAdd {
        id: parsed.id,
        pairs,
        no_mkstream: parsed.no_mkstream,
        trim: parsed.trim,
    };
    match c.kv().xadd(c.arg(1), &add)? {
        Some(added) => {
            c.shared.blocking.note_appended(c.session.db, c.arg(1));
            bulk_id(c, added.id);
        }
        None => c.out.null(),
    }
    Ok(())
}

fn xlen(c: &mut Call<'_>) -> CmdResult {
    let n = c.kv().xlen(c.arg(1))?;
    c.out.int(i64::try_from(n).unwrap_or(i64::MAX));
    Ok(())
}

/// A range bound: `(` before it excludes it (then read strictly).
pub(super) fn bound(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), Reject> {
    match arg.split_first() {
        Some((b'(', rest)) if arg.len() > 1 => Ok((
            StreamId::parse(rest, missing_seq, true).ok_or(INVALID_ID)?,
            true,
        )),
        _ => Ok((
            StreamId::parse(arg, missing_seq, false).ok_or(INVALID_ID)?,
            false,
        )),
    }
}

/// XRANGE key start end [COUNT n], XREVRANGE key end start [COUNT n].
fn range(c: &mut Call<'_>, rev: bool) -> CmdResult {
    let (start_arg, end_arg) = if rev {
        (c.arg(3), c.arg(2))
    } else {
        (c.arg(2), c.arg(3))
    };
    let (mut start, start_ex) = bound(start_arg, 0)?;
    if start_ex {
        start = start
            .next()
            .ok_or(Reject::Static("ERR invalid start ID for the interval"))?;
    }
    let (mut end, end_ex) = bound(end_arg, u64::MAX)?;
    if end_ex {
        end = end
            .prev()
            .ok_or(Reject::Static("ERR invalid end ID for the interval"))?;
    }
    let mut count: Option<usize> = None;
    let mut options = c.args_from(4).iter();
    while let Some(word) = options.next() {
        match options.next() {
            Some(n) if is(word, "count") => {
                count = Some(usize::try_from(int(n)?.max(0)).unwrap_or(usize::MAX));
            }
            _ => return Err(Reject::Syntax),
        }
    }
    match c.kv().xrange(c.arg(1), start, end, count, rev)? {
        None => c.out.array(0),
        Some(_) if count == Some(0) => c.out.null_array(),
        Some(entries) => reply_entries(c, &entries),
    }
    Ok(())
}

fn xrange(c: &mut Call<'_>) -> CmdResult {
    range(c, false)
}

fn xrevrange(c: &mut Call<'_>) -> CmdResult {
    range(c, true)
}

/// XDEL key id [id ...]: a missing key answers 0 before its IDs are read.
fn xdel(c: &mut Call<'_>) -> CmdResult {
    let key = c.arg(1);
    let ids: Result<Vec<StreamId>, Reject> = c.args_from(2).iter().map(|a| strict_id(a)).collect();
    let ids = match ids {
        Ok(ids) => ids,
        Err(e) => {
            return match c.kv().xmeta(key)? {
                None => {
                    c.out.int(0);
                    Ok(())
                }
                Some(_) => Err(e),
            };
        }
    };
    let n = c.kv().xdel(key, &ids)?;
    c.out.int(i64::try_from(n).unwrap_or(i64::MAX));
    Ok(())
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count].
fn xtrim(c: &mut Call<'_>) -> CmdResult {
    let parsed = add_or_trim(c, false)?;
    let trim = parsed.trim.ok_or(Reject::Syntax)?;
    let n = c.kv().xtrim(c.arg(1), trim)?;
    c.out.int(i64::try_from(n).unwrap_or(i64::MAX));
    Ok(())
}

/// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID id].
fn xsetid(c: &mut Call<'_>) -> CmdResult {
    let id = strict_id(c.arg(2))?;
    let mut entries_added = None;
    let mut max_deleted = StreamId::MIN;
    let mut options = c.args_from(3).iter();
    while let Some(word) = options.next() {
        let value = options.next();
        match value {
            Some(n) if is(word, "entriesadded") => {
                let n = int(n)?;
                entries_added = Some(
                    u64::try_from(n)
                        .map_err(|_| Reject::Static("ERR entries_added must be positive"))?,
                );
            }
            Some(v) if is(word, "maxdeletedid") => {
                max_deleted = strict_id(v)?;
                if id < max_deleted {
                    return Err(Reject::Static(
                        "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                    ));
                }
            }
            _ => return Err(Reject::Syntax),
        }
    }
    c.kv().xsetid(c.arg(1), id, entries_added, max_deleted)?;
    c.out.ok();
    Ok(())
}
