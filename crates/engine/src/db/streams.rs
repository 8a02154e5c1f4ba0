//! Stream commands on one key: XADD, XLEN, XRANGE and XREVRANGE, XDEL,
//! XTRIM, XSETID, and the reads XREAD makes.
//!
//! Owns their Redis 7.0 semantics over `collection::Stream`: WRONGTYPE
//! for a key of another type, a stream created by XADD (unless
//! NOMKSTREAM) and never deleted when it empties, the order of XADD's
//! checks, and Redis's keyspace events (`new`, then `xadd`, then `xtrim`
//! when XADD's trim removed something; `xdel`, `xtrim`, `xsetid`). It
//! must never free a stream under the shard lock.

use super::access::sealed::Access;
use super::collection;
use super::{Db, Tx};
use crate::collection::stream::{IdArg, StreamEntry, StreamId, StreamMeta, Trim, MAX_NODE_BYTES};
use crate::collection::{Collection, Stream};
use crate::error::{Error, Result};
use crate::keyspace::Ctx;
use crate::memtable::ShardMap;

fn read<'m>(map: &'m ShardMap, hash: u64, key: &[u8], ctx: &Ctx) -> Result<Option<&'m Stream>> {
    collection::read(map, hash, key, ctx, Collection::as_stream)
}

/// Runs `f` on the stream at `key`, creating an empty one first when
/// `create`. `None` when the key is absent and not created.
fn update<R>(
    map: &mut ShardMap,
    hash: u64,
    key: &[u8],
    create: bool,
    ctx: &Ctx,
    f: impl FnOnce(&mut Stream) -> Result<(R, bool)>,
) -> Result<Option<R>> {
    let create = create.then(|| Collection::Stream(Box::default()));
    let (r, removed) =
        collection::update(map, hash, key, ctx, create, |c| match c.as_stream_mut() {
            Some(s) => f(s),
            None => Err(Error::WrongType),
        })?;
    // A stream is never removed for being empty.
    debug_assert!(removed.is_none());
    Ok(r)
}

/// What XADD adds, and how it trims after.
#[derive(Debug, Clone, Copy)]
pub struct XAdd<'a> {
    /// The ID asked for; `None` for `*`.
    pub id: Option<IdArg>,
    /// Fields and values, interleaved (a non-empty, even count).
    pub pairs: &'a [&'a [u8]],
    /// NOMKSTREAM: do not create the stream.
    pub no_mkstream: bool,
    /// MAXLEN or MINID, if given.
    pub trim: Option<Trim>,
}

/// What an XADD did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XAdded {
    /// The new entry's ID.
    pub id: StreamId,
    /// The stream after it (and after its trim): for the trim arguments
    /// Redis rewrites when it propagates an approximate trim.
    pub len: u64,
}

/// What XREAD finds at one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XRead {
    /// The key does not exist.
    Absent,
    /// A stream with nothing past the ID asked.
    Nothing,
    /// Entries past the ID asked (possibly none, when a blocked reader is
    /// served after a trim took what was added).
    Entries(Vec<StreamEntry>),
}

/// The stream commands, on a `Db` or inside an atomic batch.
pub trait Streams: Access {
    /// XADD. `Ok(None)`: NOMKSTREAM and no stream.
    ///
    /// Errors: `WrongType`; `StreamExhausted` once the last ID is the
    /// largest; `StreamIdTooSmall` for an ID not above the last;
    /// `StreamElementsTooLarge` past `MAX_NODE_BYTES`.
    fn xadd(&self, key: &[u8], add: &XAdd<'_>) -> Result<Option<XAdded>> {
        let ctx = self.ctx();
        let sum: usize = add.pairs.iter().map(|p| p.len()).sum();
        for p in add.pairs {
            ctx.check_len(p.len())?;
        }
        self.write_key(key, |m, h| {
            let limit = ctx.stream_node();
            let now = ctx.now();
            let added = update(m, h, key, !add.no_mkstream, ctx, |s| {
                if s.meta().last_id == StreamId::MAX {
                    return Err(Error::StreamExhausted);
                }
                let last = s.meta().last_id;
                if add.id == Some(IdArg::AutoSeq(last.ms)) && last.seq == u64::MAX {
                    // Redis fails this one without setting `errno`, so it
                    // answers with its other XADD error.
                    return Err(Error::StreamElementsTooLarge);
                }
                let id = s.next_id(add.id, now).ok_or(Error::StreamIdTooSmall)?;
                if sum > MAX_NODE_BYTES {
                    return Err(Error::StreamElementsTooLarge);
                }
                s.append(id, add.pairs, limit);
                let trimmed = add.trim.is_some_and(|t| s.trim(t) > 0);
                Ok(((XAdded { id, len: s.len() }, trimmed), true))
            })?;
            // After the `new` event `update` sent for a stream it made.
            Ok(added.map(|(added, trimmed)| {
                ctx.notify_stream("xadd", key);
                if trimmed {
                    ctx.notify_stream("xtrim", key);
                }
                added
            }))
        })?
    }

    /// XLEN: 0 for a missing key.
    fn xlen(&self, key: &[u8]) -> Result<u64> {
        self.read_key(key, |m, h| {
            Ok(read(m, h, key, self.ctx())?.map_or(0, Stream::len))
        })?
    }

    /// XRANGE (`rev`: XREVRANGE) from `start` to `end` inclusive, at most
    /// `count` entries (`None`: all). `None` for a missing key.
    fn xrange(
        &self,
        key: &[u8],
        start: StreamId,
        end: StreamId,
        count: Option<usize>,
        rev: bool,
    ) -> Result<Option<Vec<StreamEntry>>> {
        self.read_key(key, |m, h| {
            Ok(read(m, h, key, self.ctx())?.map(|s| match count {
                Some(0) => Vec::new(),
                n => s.range(start, end, n.unwrap_or(0), rev),
            }))
        })?
    }

    /// The stream's counters, and its last live entry's ID; `None` for a
    /// missing key. (XREAD's `$`, XSETID's checks.)
    fn xmeta(&self, key: &[u8]) -> Result<Option<(StreamMeta, Option<StreamId>, u64)>> {
        self.read_key(key, |m, h| {
            Ok(read(m, h, key, self.ctx())?.map(|s| (s.meta(), s.last_live_id(), s.len())))
        })?
    }

    /// XREAD at one key: entries after `after`, at most `count` (0: all).
    /// A reader asking now is served when a live entry is past `after`;
    /// a blocked one (`blocked`) when the last ID is, as Redis serves each.
    fn xread(&self, key: &[u8], after: StreamId, count: usize, blocked: bool) -> Result<XRead> {
        self.read_key(key, |m, h| {
            let Some(s) = read(m, h, key, self.ctx())? else {
                return Ok(XRead::Absent);
            };
            let past = if blocked {
                s.meta().last_id > after
            } else {
                s.last_live_id().is_some_and(|id| id > after)
            };
            Ok(match after.next() {
                Some(start) if past => XRead::Entries(s.range(start, StreamId::MAX, count, false)),
                _ => XRead::Nothing,
            })
        })?
    }

    /// XDEL: how many of `ids` were there and went.
    fn xdel(&self, key: &[u8], ids: &[StreamId]) -> Result<u64> {
        let ctx = self.ctx();
        self.write_key(key, |m, h| {
            let n = update(m, h, key, false, ctx, |s| {
                let n = ids.iter().filter(|&&id| s.delete(id)).count() as u64;
                Ok((n, n > 0))
            })?
            .unwrap_or(0);
            if n > 0 {
                ctx.notify_stream("xdel", key);
            }
            Ok(n)
        })?
    }

    /// XTRIM: how many entries went.
    fn xtrim(&self, key: &[u8], trim: Trim) -> Result<u64> {
        let ctx = self.ctx();
        self.write_key(key, |m, h| {
            let n = update(m, h, key, false, ctx, |s| {
                let n = s.trim(trim);
                Ok((n, n > 0))
            })?
            .unwrap_or(0);
            if n > 0 {
                ctx.notify_stream("xtrim", key);
            }
            Ok(n)
        })?
    }

    /// XSETID: the last ID, and optionally the entries ever added and the
    /// largest deleted ID (kept when 0-0, as Redis keeps it).
    ///
    /// Errors: `NoSuchKey`, `WrongType`, `XSetIdTooSmall` below the last
    /// live entry, `XSetIdEntriesAdded` below the length.
    fn xsetid(
        &self,
        key: &[u8],
        last_id: StreamId,
        entries_added: Option<u64>,
        max_deleted: StreamId,
    ) -> Result<()> {
        let ctx = self.ctx();
        self.write_key(key, |m, h| {
            update(m, h, key, false, ctx, |s| {
                if !s.is_empty() {
                    if s.last_live_id().is_some_and(|top| last_id < top) {
                        return Err(Error::XSetIdTooSmall);
                    }
                    if entries_added.is_some_and(|n| n < s.len()) {
                        return Err(Error::XSetIdEntriesAdded);
                    }
                }
                let mut meta = s.meta();
                meta.last_id = last_id;
                if let Some(n) = entries_added {
                    meta.entries_added = n;
                }
                if !max_deleted.is_zero() {
                    meta.max_deleted = max_deleted;
                }
                s.set_meta(meta);
                Ok(((), true))
            })?
            .ok_or(Error::NoSuchKey)?;
            ctx.notify_stream("xsetid", key);
            Ok(())
        })?
    }
}

impl Streams for Tx<'_> {}

impl Streams for Db {}
