//! What consumer groups do to a stream: XGROUP's changes, XREADGROUP's
//! deliveries (new entries, or a consumer's history), XACK, XCLAIM and
//! XAUTOCLAIM, and the group's read counter and lag.
//!
//! Owns Redis 7.0's rules for each, step for step (`t_stream.c`): a
//! delivery past the group's last ID moves it and counts the read when
//! the count can be kept exact (no tombstone ahead), else estimates it;
//! an entry delivered again moves to its new consumer with a count of 1;
//! a claim of an entry no longer in the stream drops it from the PEL.
//! Each change is reported to `edit` as a state (a group's position, a
//! consumer seen, an entry pending or not). It must never leave a pending entry
//! outside its consumer's share (`group`).

use super::group::{Group, Pending};
use super::{Stream, StreamEntry, StreamId, StreamMeta};
use crate::collection::edit;
use bytes::Bytes;

/// What XREADGROUP's history or a claim hands back for one pending ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// The entry.
    Entry(StreamEntry),
    /// Pending, but gone from the stream (deleted or trimmed).
    Missing(StreamId),
}

/// XCLAIM's options, as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimOptions {
    /// Only entries idle at least this long (ms; 0: any).
    pub min_idle: i64,
    /// The delivery time to set: `now` less IDLE, or TIME; now when not
    /// given, or when it is negative or in the future.
    pub delivery: Option<DeliveryTime>,
    /// RETRYCOUNT, if given.
    pub retry_count: Option<u64>,
    /// FORCE: make pending what is not.
    pub force: bool,
    /// JUSTID: IDs only, and the delivery count left alone.
    pub just_id: bool,
    /// LASTID: the group's last ID at least this.
    pub last_id: Option<StreamId>,
}

/// XCLAIM's IDLE or TIME.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryTime {
    /// IDLE: this long before now (ms).
    Idle(i64),
    /// TIME: at this Unix time (ms).
    At(i64),
}

/// XAUTOCLAIM's arguments, as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoClaim {
    /// The first pending ID looked at.
    pub start: StreamId,
    /// The most entries claimed (deleted ones count too).
    pub count: usize,
    /// Only entries idle at least this long (ms; 0: any).
    pub min_idle: i64,
    /// JUSTID: IDs only, and the delivery count left alone.
    pub just_id: bool,
}

/// What XAUTOCLAIM did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoClaimed {
    /// Where the next call should start (0-0: the PEL is done).
    pub next: StreamId,
    /// The entries claimed (IDs alone with JUSTID).
    pub claimed: Vec<Delivered>,
    /// Pending IDs no longer in the stream, dropped from the PEL.
    pub deleted: Vec<StreamId>,
}

/// Redis's `streamRangeHasTombstones`: whether an XDEL may have left a
/// hole from `start` on (the caller checked `start` is below the last
/// ID).
fn has_tombstones(meta: &StreamMeta, len: u64, start: StreamId) -> bool {
    if len == 0 || meta.max_deleted.is_zero() {
        return false;
    }
    if meta.first_id > meta.max_deleted {
        return false;
    }
    start <= meta.max_deleted
}

/// Redis's `streamEstimateDistanceFromFirstEverEntry`: `id`'s read
/// counter, when it can be known.
fn estimate(meta: &StreamMeta, len: u64, id: StreamId) -> Option<u64> {
    if meta.entries_added == 0 {
        return Some(0);
    }
    if len == 0 && id <= meta.last_id {
        return Some(meta.entries_added);
    }
    if id == meta.last_id {
        return Some(meta.entries_added);
    }
    if id > meta.last_id {
        return None;
    }
    if meta.max_deleted.is_zero() || meta.max_deleted < meta.first_id {
        if id < meta.first_id {
            return Some(meta.entries_added.wrapping_sub(len));
        }
        if id == meta.first_id {
            return Some(meta.entries_added.wrapping_sub(len).wrapping_add(1));
        }
    }
    None
}

fn note_group(name: &[u8], g: &Group) {
    edit::stream_group(name, g.last_id, g.entries_read);
}

impl Stream {
    /// The consumer groups, by name.
    pub fn groups(&self) -> &std::collections::BTreeMap<Bytes, Group> {
        &self.groups
    }

    /// Group `name`.
    pub fn group(&self, name: &[u8]) -> Option<&Group> {
        self.groups.get(name)
    }

    /// Whether live entry `id` is here.
    pub fn contains(&self, id: StreamId) -> bool {
        self.range(id, id, 1, false).len() == 1
    }

    /// A group's lag (Redis's `streamReplyWithCGLag`): entries not yet
    /// delivered to it, when that can be known.
    pub fn lag(&self, g: &Group) -> Option<i64> {
        let added = self.meta.entries_added;
        if added == 0 {
            return Some(0);
        }
        let read = match g.entries_read {
            Some(n) if !has_tombstones(&self.meta, self.len, g.last_id) => Some(n),
            _ => estimate(&self.meta, self.len, g.last_id),
        };
        read.map(|n| (added as i64).wrapping_sub(n as i64))
    }

    /// XGROUP CREATE: whether the group is new.
    pub fn create_group(
        &mut self,
        name: &[u8],
        last_id: StreamId,
        entries_read: Option<u64>,
    ) -> bool {
        if self.groups.contains_key(name) {
            return false;
        }
        let g = Group::new(last_id, entries_read);
        note_group(name, &g);
        self.groups.insert(Bytes::copy_from_slice(name), g);
        true
    }

    /// XGROUP SETID: whether the group exists.
    pub fn set_group_id(
        &mut self,
        name: &[u8],
        last_id: StreamId,
        entries_read: Option<u64>,
    ) -> bool {
        let Some(g) = self.groups.get_mut(name) else {
            return false;
        };
        g.last_id = last_id;
        g.entries_read = entries_read;
        note_group(name, g);
        true
    }

    /// XGROUP DESTROY: whether the group was there.
    pub fn destroy_group(&mut self, name: &[u8]) -> bool {
        let gone = self.groups.remove(name).is_some();
        if gone {
            edit::stream_group_del(name);
        }
        gone
    }

    /// XGROUP CREATECONSUMER: whether the consumer is new; `None` without
    /// the group.
    pub fn create_consumer(&mut self, group: &[u8], name: &[u8], now: i64) -> Option<bool> {
        let g = self.groups.get_mut(group)?;
        let created = g.add_consumer(name, now);
        if created {
            edit::stream_consumer(group, name, now);
        }
        Some(created)
    }

    /// XGROUP DELCONSUMER: how many entries the consumer had pending
    /// (`Some(0)` if it was not there); `None` without the group.
    pub fn delete_consumer(&mut self, group: &[u8], name: &[u8]) -> Option<Option<usize>> {
        let g = self.groups.get_mut(group)?;
        let had = g.remove_consumer(name);
        if had.is_some() {
            edit::stream_consumer_del(group, name);
        }
        Some(had)
    }

    /// Looks consumer `name` up, seen now, or creates it; whether it was
    /// created. The group must exist.
    fn touch_consumer(&mut self, group: &[u8], name: &[u8], now: i64) -> bool {
        let Some(g) = self.groups.get_mut(group) else {
            return false;
        };
        let created = match g.consumers.get_mut(name) {
            Some(c) => {
                c.seen_time = now;
                false
            }
            None => g.add_consumer(name, now),
        };
        edit::stream_consumer(group, name, now);
        created
    }

    /// XREADGROUP with `>`: entries past the group's last ID, at most
    /// `count` (0: all), delivered to `consumer` (pending unless
    /// `noack`). Returns them and whether the consumer was created;
    /// `None` without the group.
    pub fn read_new(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        count: usize,
        noack: bool,
        now: i64,
    ) -> Option<(Vec<StreamEntry>, bool)> {
        let after = self.groups.get(group)?.last_id;
        let created = self.touch_consumer(group, consumer, now);
        let entries = match after.next() {
            Some(start) => self.range(start, StreamId::MAX, count, false),
            None => Vec::new(),
        };
        let (meta, len) = (self.meta, self.len);
        let g = self.groups.get_mut(group)?;
        let mut moved = false;
        for e in &entries {
            if e.id > g.last_id {
                match g.entries_read {
                    Some(n) if !has_tombstones(&meta, len, e.id) => {
                        g.entries_read = Some(n.wrapping_add(1))
                    }
                    _ if meta.entries_added != 0 => g.entries_read = estimate(&meta, len, e.id),
                    _ => {}
                }
                g.last_id = e.id;
                moved = true;
            }
            if !noack {
                let p = Pending {
                    consumer: Bytes::copy_from_slice(consumer),
                    delivery_time: now,
                    delivery_count: 1,
                };
                edit::stream_pending(group, e.id, &p);
                g.set_pending(e.id, p);
            }
        }
        if moved {
            note_group(group, g);
        }
        Some((entries, created))
    }

    /// XREADGROUP with an ID: `consumer`'s pending entries after `after`,
    /// at most `count` (0: all), each delivered again (its time now, its
    /// count up by one) or reported missing. Returns them and whether the
    /// consumer was created; `None` without the group.
    pub fn read_history(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        after: StreamId,
        count: usize,
        now: i64,
    ) -> Option<(Vec<Delivered>, bool)> {
        self.groups.get(group)?;
        let created = self.touch_consumer(group, consumer, now);
        // Redis's `streamIncrID` past the largest ID wraps to 0-0.
        let start = after.next().unwrap_or(StreamId::MIN);
        let ids: Vec<StreamId> = self
            .groups
            .get(group)?
            .consumers
            .get(consumer)
            .map(|c| {
                let wanted = c.pel.range(start..);
                match count {
                    0 => wanted.copied().collect(),
                    n => wanted.take(n).copied().collect(),
                }
            })
            .unwrap_or_default();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            match self.range(id, id, 1, false).pop() {
                Some(e) => {
                    out.push(Delivered::Entry(e));
                    let g = self.groups.get_mut(group)?;
                    if let Some(p) = g.pel.get_mut(&id) {
                        p.delivery_time = now;
                        p.delivery_count = p.delivery_count.wrapping_add(1);
                        edit::stream_pending(group, id, p);
                    }
                }
                None => out.push(Delivered::Missing(id)),
            }
        }
        Some((out, created))
    }

    /// XACK: how many of `ids` were pending; 0 without the group.
    pub fn ack(&mut self, group: &[u8], ids: &[StreamId]) -> u64 {
        let Some(g) = self.groups.get_mut(group) else {
            return 0;
        };
        let mut n = 0;
        for &id in ids {
            if g.remove_pending(id) {
                edit::stream_pending_del(group, id);
                n += 1;
            }
        }
        n
    }

    /// XCLAIM: `ids` given to `consumer` as `opts` says. Returns what was
    /// claimed and whether the consumer was created; `None` without the
    /// group.
    pub fn claim(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        ids: &[StreamId],
        opts: ClaimOptions,
        now: i64,
    ) -> Option<(Vec<Delivered>, bool)> {
        let delivery_time = match opts.delivery {
            None => now,
            Some(DeliveryTime::Idle(idle)) => now.wrapping_sub(idle),
            Some(DeliveryTime::At(at)) => at,
        };
        let delivery_time = if delivery_time < 0 || delivery_time > now {
            now
        } else {
            delivery_time
        };
        let g = self.groups.get_mut(group)?;
        if let Some(last) = opts.last_id.filter(|&l| l > g.last_id) {
            g.last_id = last;
            note_group(group, g);
        }
        let mut out = Vec::new();
        let mut touched: Option<bool> = None;
        for &id in ids {
            let exists = self.contains(id);
            let g = self.groups.get_mut(group)?;
            if !exists {
                if g.remove_pending(id) {
                    edit::stream_pending_del(group, id);
                }
                continue;
            }
            // A forced entry is new: created now, delivered once, and
            // claimed whatever the idle time asked.
            let mut count = match g.pel.get(&id) {
                Some(p) => {
                    if opts.min_idle > 0 && now.saturating_sub(p.delivery_time) < opts.min_idle {
                        continue;
                    }
                    p.delivery_count
                }
                None if opts.force => 1,
                None => continue,
            };
            if touched.is_none() {
                touched = Some(self.touch_consumer(group, consumer, now));
            }
            count = match opts.retry_count {
                Some(n) => n,
                None if !opts.just_id => count.wrapping_add(1),
                None => count,
            };
            let p = Pending {
                consumer: Bytes::copy_from_slice(consumer),
                delivery_time,
                delivery_count: count,
            };
            edit::stream_pending(group, id, &p);
            self.groups.get_mut(group)?.set_pending(id, p);
            out.push(if opts.just_id {
                Delivered::Missing(id)
            } else {
                Delivered::Entry(self.range(id, id, 1, false).pop()?)
            });
        }
        Some((out, touched.unwrap_or(false)))
    }

    /// XAUTOCLAIM: pending entries from `start` idle at least `min_idle`
    /// given to `consumer`, at most `count`, looking at no more than ten
    /// times that many. Returns what was done and whether the consumer
    /// was created; `None` without the group.
    pub fn autoclaim(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        args: AutoClaim,
        now: i64,
    ) -> Option<(AutoClaimed, bool)> {
        let AutoClaim {
            start,
            count,
            min_idle,
            just_id,
        } = args;
        self.groups.get(group)?;
        let mut attempts = count.saturating_mul(10);
        let mut count = count;
        let mut claimed = Vec::new();
        let mut deleted = Vec::new();
        let mut touched: Option<bool> = None;
        let mut at = start;
        let mut next = None;
        loop {
            // Redis's `attempts-- && count && raxNext(&ri)`.
            let more = attempts > 0;
            attempts = attempts.saturating_sub(1);
            if !more || count == 0 {
                next = self
                    .groups
                    .get(group)?
                    .pel
                    .range(at..)
                    .next()
                    .map(|(id, _)| *id);
                break;
            }
            let Some((id, p)) = self
                .groups
                .get(group)?
                .pel
                .range(at..)
                .next()
                .map(|(id, p)| (*id, p.clone()))
            else {
                break;
            };
            at = id.next().unwrap_or(StreamId::MAX);
            if !self.contains(id) {
                self.groups.get_mut(group)?.remove_pending(id);
                edit::stream_pending_del(group, id);
                deleted.push(id);
                count -= 1;
                if id == StreamId::MAX {
                    break;
                }
                continue;
            }
            if min_idle > 0 && now.saturating_sub(p.delivery_time) < min_idle {
                if id == StreamId::MAX {
                    break;
                }
                continue;
            }
            if touched.is_none() {
                touched = Some(self.touch_consumer(group, consumer, now));
            }
            let p = Pending {
                consumer: Bytes::copy_from_slice(consumer),
                delivery_time: now,
                delivery_count: if just_id {
                    p.delivery_count
                } else {
                    p.delivery_count.wrapping_add(1)
                },
            };
            edit::stream_pending(group, id, &p);
            self.groups.get_mut(group)?.set_pending(id, p);
            claimed.push(if just_id {
                Delivered::Missing(id)
            } else {
                Delivered::Entry(self.range(id, id, 1, false).pop()?)
            });
            count -= 1;
            if id == StreamId::MAX {
                break;
            }
        }
        let auto = AutoClaimed {
            next: next.unwrap_or(StreamId::MIN),
            claimed,
            deleted,
        };
        Some((auto, touched.unwrap_or(false)))
    }

    /// Each group's read counter estimated from its last ID, as Redis
    /// fills in groups loaded from a version 1 RDB stream, which has none.
    pub fn with_estimated_reads(mut self) -> Self {
        let (meta, len) = (self.meta, self.len);
        for g in self.groups.values_mut() {
            g.entries_read = estimate(&meta, len, g.last_id);
        }
        self
    }

    /// Replays a group's position (created if missing).
    pub(crate) fn replay_group(
        &mut self,
        name: &[u8],
        last_id: StreamId,
        entries_read: Option<u64>,
    ) {
        let g = self.groups.entry(Bytes::copy_from_slice(name)).or_default();
        g.last_id = last_id;
        g.entries_read = entries_read;
    }

    /// Replays a group destroyed.
    pub(crate) fn replay_group_del(&mut self, name: &[u8]) {
        self.groups.remove(name);
    }

    /// Replays a consumer seen (created if missing).
    pub(crate) fn replay_consumer(&mut self, group: &[u8], name: &[u8], seen: i64) {
        if let Some(g) = self.groups.get_mut(group) {
            g.add_consumer(name, seen);
            if let Some(c) = g.consumers.get_mut(name) {
                c.seen_time = seen;
            }
        }
    }

    /// Replays a consumer deleted.
    pub(crate) fn replay_consumer_del(&mut self, group: &[u8], name: &[u8]) {
        if let Some(g) = self.groups.get_mut(group) {
            g.remove_consumer(name);
        }
    }

    /// Replays an entry pending (its consumer created if missing).
    pub(crate) fn replay_pending(&mut self, group: &[u8], id: StreamId, p: Pending) {
        if let Some(g) = self.groups.get_mut(group) {
            g.add_consumer(&p.consumer, p.delivery_time);
            g.set_pending(id, p);
        }
    }

    /// Replays an entry no longer pending.
    pub(crate) fn replay_pending_del(&mut self, group: &[u8], id: StreamId) {
        if let Some(g) = self.groups.get_mut(group) {
            g.remove_pending(id);
        }
    }
}
