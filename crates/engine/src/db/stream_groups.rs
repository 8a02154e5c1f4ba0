//! Consumer group commands on one key: XGROUP's subcommands,
//! XREADGROUP's reads, XACK, XCLAIM and XAUTOCLAIM, as one entry point
//! (`xgroup`) taking what to do; and reading a stream whole for XPENDING
//! and XINFO (`xinspect`).
//!
//! Owns their Redis 7.0 key rules over `collection::Stream`'s groups:
//! which need the key (and which may create it: XGROUP CREATE MKSTREAM),
//! which need the group (`NoGroup`), when XREADGROUP with `>` reads at
//! all (a live entry past the group's last ID, or for a served waiter
//! the stream's last ID past it), and the keyspace events (`new`, then
//! `xgroup-create`; `xgroup-setid`, `-destroy`, `-delconsumer`, and
//! `xgroup-createconsumer` whenever a consumer is made, by name or by a
//! read or claim). It must never free a stream under the shard lock.

use super::access::sealed::Access;
use super::access::{live, live_slot};
use super::{Db, Tx};
use crate::collection::stream::{
    AutoClaim, AutoClaimed, ClaimOptions, Delivered, StreamEntry, StreamId,
};
use crate::collection::{Collection, Stream};
use crate::error::{Error, Result};

/// A consumer group command, as read.
#[derive(Debug, Clone)]
#[allow(missing_docs)] // The fields are the commands' arguments of those names.
pub enum GroupOp<'a> {
    /// XGROUP CREATE (`$` as `None`), making the stream with MKSTREAM.
    Create {
        group: &'a [u8],
        id: Option<StreamId>,
        mkstream: bool,
        entries_read: Option<u64>,
    },
    /// XGROUP SETID (`$` as `None`).
    SetId {
        group: &'a [u8],
        id: Option<StreamId>,
        entries_read: Option<u64>,
    },
    /// XGROUP DESTROY.
    Destroy { group: &'a [u8] },
    /// XGROUP CREATECONSUMER.
    CreateConsumer { group: &'a [u8], consumer: &'a [u8] },
    /// XGROUP DELCONSUMER.
    DelConsumer { group: &'a [u8], consumer: &'a [u8] },
    /// XREADGROUP at one key: new entries (`after` None, `>`) or the
    /// consumer's history after `after`. `blocked`: a waiter served by a
    /// write, which reads once the stream's last ID passed the group's.
    Read {
        group: &'a [u8],
        consumer: &'a [u8],
        after: Option<StreamId>,
        count: usize,
        noack: bool,
        blocked: bool,
    },
    /// XACK.
    Ack {
        group: &'a [u8],
        ids: &'a [StreamId],
    },
    /// XCLAIM.
    Claim {
        group: &'a [u8],
        consumer: &'a [u8],
        ids: &'a [StreamId],
        opts: ClaimOptions,
    },
    /// XAUTOCLAIM.
    AutoClaim {
        group: &'a [u8],
        consumer: &'a [u8],
        args: AutoClaim,
    },
}

/// What a consumer group command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupOutcome {
    /// CREATE, SETID: done. CREATE of a group already there: `false`.
    Done(bool),
    /// DESTROY, CREATECONSUMER, DELCONSUMER, XACK: the count.
    Count(u64),
    /// XREADGROUP `>`: the entries (`None`: nothing to read now).
    New(Option<Vec<StreamEntry>>),
    /// XREADGROUP with an ID, XCLAIM: what was delivered.
    Delivered(Vec<Delivered>),
    /// XAUTOCLAIM.
    AutoClaimed(AutoClaimed),
}

impl GroupOp<'_> {
    fn group(&self) -> &[u8] {
        match self {
            GroupOp::Create { group, .. }
            | GroupOp::SetId { group, .. }
            | GroupOp::Destroy { group }
            | GroupOp::CreateConsumer { group, .. }
            | GroupOp::DelConsumer { group, .. }
            | GroupOp::Read { group, .. }
            | GroupOp::Ack { group, .. }
            | GroupOp::Claim { group, .. }
            | GroupOp::AutoClaim { group, .. } => group,
        }
    }

    /// Whether Redis looks the key up for reading (counted as a hit or a
    /// miss) rather than for writing.
    fn reads(&self) -> bool {
        // XACK, XCLAIM and XAUTOCLAIM read the key too, but their callers
        // look it up first (`xinspect`), for Redis's order of errors.
        matches!(self, GroupOp::Read { .. })
    }
}

/// What a command announces: a consumer made, and its own event.
#[derive(Default)]
struct Events {
    created: bool,
    event: Option<&'static str>,
}

/// Runs `op` on stream `s`, noting in `ev` what to announce.
fn run(
    s: &mut Stream,
    op: &GroupOp<'_>,
    now: i64,
    ev: &mut Events,
) -> Result<(GroupOutcome, bool)> {
    let created = &mut ev.created;
    let group = op.group();
    if !matches!(
        op,
        GroupOp::Create { .. } | GroupOp::Destroy { .. } | GroupOp::Ack { .. }
    ) && s.group(group).is_none()
    {
        return Err(Error::NoGroup);
    }
    Ok(match *op {
        GroupOp::Create {
            id, entries_read, ..
        } => {
            let id = id.unwrap_or(s.meta().last_id);
            let made = s.create_group(group, id, entries_read);
            if made {
                ev.event = Some("xgroup-create");
            }
            (GroupOutcome::Done(made), made)
        }
        GroupOp::SetId {
            id, entries_read, ..
        } => {
            let id = id.unwrap_or(s.meta().last_id);
            s.set_group_id(group, id, entries_read);
            ev.event = Some("xgroup-setid");
            (GroupOutcome::Done(true), true)
        }
        GroupOp::Destroy { .. } => {
            let gone = s.destroy_group(group);
            if gone {
                ev.event = Some("xgroup-destroy");
            }
            (GroupOutcome::Count(u64::from(gone)), gone)
        }
        GroupOp::CreateConsumer { consumer, .. } => {
            let made = s.create_consumer(group, consumer, now) == Some(true);
            *created = made;
            (GroupOutcome::Count(u64::from(made)), made)
        }
        GroupOp::DelConsumer { consumer, .. } => {
            let had = s.delete_consumer(group, consumer).flatten();
            if had.is_some() {
                ev.event = Some("xgroup-delconsumer");
            }
            (GroupOutcome::Count(had.unwrap_or(0) as u64), had.is_some())
        }
        GroupOp::Read {
            consumer,
            after: None,
            count,
            noack,
            blocked,
            ..
        } => {
            let last = s.group(group).map_or(StreamId::MAX, |g| g.last_id);
            let ready = if blocked {
                s.meta().last_id > last
            } else {
                !s.is_empty() && s.last_live_id().is_some_and(|top| top > last)
            };
            if !ready {
                return Ok((GroupOutcome::New(None), false));
            }
            let (entries, made) = s
                .read_new(group, consumer, count, noack, now)
                .ok_or(Error::NoGroup)?;
            *created = made;
            (GroupOutcome::New(Some(entries)), true)
        }
        GroupOp::Read {
            consumer,
            after: Some(after),
            count,
            ..
        } => {
            let (read, made) = s
                .read_history(group, consumer, after, count, now)
                .ok_or(Error::NoGroup)?;
            *created = made;
            (GroupOutcome::Delivered(read), true)
        }
        GroupOp::Ack { ids, .. } => {
            let n = s.ack(group, ids);
            (GroupOutcome::Count(n), n > 0)
        }
        GroupOp::Claim {
            consumer,
            ids,
            opts,
            ..
        } => {
            let (got, made) = s
                .claim(group, consumer, ids, opts, now)
                .ok_or(Error::NoGroup)?;
            *created = made;
            (GroupOutcome::Delivered(got), true)
        }
        GroupOp::AutoClaim { consumer, args, .. } => {
            let (auto, made) = s
                .autoclaim(group, consumer, args, now)
                .ok_or(Error::NoGroup)?;
            *created = made;
            (GroupOutcome::AutoClaimed(auto), true)
        }
    })
}

/// The consumer group commands, on a `Db` or inside an atomic batch.
pub trait StreamGroups: Access {
    /// Runs `op` on the stream at `key`.
    ///
    /// Errors: `WrongType`; `NoStreamKey` for a missing key (XGROUP
    /// without MKSTREAM, XREADGROUP, XCLAIM, XAUTOCLAIM; XACK answers 0);
    /// `NoGroup` for a missing group where it must exist.
    fn xgroup(&self, key: &[u8], op: &GroupOp<'_>) -> Result<GroupOutcome> {
        let ctx = self.ctx();
        let now = i64::try_from(ctx.now()).unwrap_or(i64::MAX);
        self.write_key(key, |m, h| {
            let version = m.next_version();
            let exists = live_slot(m, h, key, ctx).is_some();
            if op.reads() {
                crate::lookups::record(exists);
            }
            let mut ev = Events::default();
            let made_stream = if !exists {
                match op {
                    GroupOp::Create { mkstream: true, .. } => true,
                    GroupOp::Ack { .. } => return Ok(GroupOutcome::Count(0)),
                    _ => return Err(Error::NoStreamKey),
                }
            } else {
                false
            };
            let outcome = if made_stream {
                let mut s = Stream::default();
                let (outcome, _) = run(&mut s, op, now, &mut ev)?;
                let entry = super::access::new_entry(
                    key,
                    crate::entry::ValueIn::Object(Box::new(Collection::Stream(Box::new(s)))),
                    version,
                    None,
                    ctx,
                )?;
                m.insert_new(h, entry);
                ctx.notify_new(key);
                outcome
            } else {
                let Some(mut slot) = live_slot(m, h, key, ctx) else {
                    return Err(Error::NoStreamKey);
                };
                slot.with_collection(version, |c| match c.as_stream_mut() {
                    Some(s) => run(s, op, now, &mut ev),
                    None => Err(Error::WrongType),
                })
                .ok_or(Error::WrongType)??
            };
            if ev.created {
                ctx.notify_stream("xgroup-createconsumer", key);
            }
            if let Some(event) = ev.event {
                ctx.notify_stream(event, key);
            }
            Ok(outcome)
        })?
    }

    /// Hands the stream at `key` to `f` under the read lock (XPENDING,
    /// XINFO); false if the key does not exist.
    ///
    /// Errors: `WrongType`.
    fn xinspect(&self, key: &[u8], f: &mut dyn FnMut(&Stream)) -> Result<bool> {
        let ctx = self.ctx();
        self.read_key(key, |m, h| match live(m, h, key, ctx) {
            None => Ok(false),
            Some(e) => match e.collection().and_then(Collection::as_stream) {
                Some(s) => {
                    f(s);
                    Ok(true)
                }
                None => Err(Error::WrongType),
            },
        })?
    }
}

impl StreamGroups for Tx<'_> {}

impl StreamGroups for Db {}
