//! `Stream`: an append-only log of entries, each an ID and field-value
//! pairs, as Redis 7.0's stream type holds them.
//!
//! Owns the entries (runs of them in `Node`s, keyed by their first ID,
//! split where Redis splits its listpacks), the stream's counters (length,
//! last ID, first ID, largest deleted ID, entries ever added), reading
//! ranges either way, deleting (tombstones, as Redis keeps them, a node
//! going once its last live entry does), and trimming by length or by
//! ID, exact or approximate, step for step as `streamTrim` does. It
//! counts its changes (`seq`: a logged change applies only to the stream
//! at the count it names) and reports them to `edit` as states where it
//! can, so a replay under other node limits reaches the same entries. It
//! must never look at keys, locks or clients.

mod group;
mod groups;
mod id;
mod node;
mod parts;
mod replay;

pub use group::{Consumer, Group, Pending};
pub use groups::{AutoClaim, AutoClaimed, ClaimOptions, Delivered, DeliveryTime};
pub use id::{IdArg, StreamId};
pub use parts::{EntryParts, NodeParts, StreamBuilder};

use super::edit;
use bytes::Bytes;
use node::{Node, DELETED};
use std::collections::BTreeMap;

/// Where a stream's node ends: Redis's `stream-node-max-bytes` (of its
/// listpack) and `stream-node-max-entries` (0: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamNodeLimit {
    /// Most listpack bytes in a node.
    pub bytes: usize,
    /// Most entries in a node, deleted ones included.
    pub entries: usize,
}

impl Default for StreamNodeLimit {
    fn default() -> Self {
        Self {
            bytes: 4096,
            entries: 100,
        }
    }
}

/// Redis's `STREAM_LISTPACK_MAX_SIZE`: the most a node may hold, and the
/// most an entry's fields and values may add up to.
pub const MAX_NODE_BYTES: usize = 1 << 30;

/// One entry, read out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    /// Its ID.
    pub id: StreamId,
    /// Its fields and values, interleaved.
    pub pairs: Vec<Bytes>,
}

/// How a stream is trimmed (XADD's and XTRIM's options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrimTo {
    /// At most this many entries.
    MaxLen(u64),
    /// No entry below this ID.
    MinId(StreamId),
}

/// A trim: what to keep, whether whole nodes only (`~`), and the most
/// entries it may remove (0: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trim {
    /// What to keep.
    pub to: TrimTo,
    /// Only whole nodes (`~`).
    pub approx: bool,
    /// The most entries removed (LIMIT); 0 for no limit.
    pub limit: u64,
}

/// The counters a stream keeps besides its entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamMeta {
    /// The last ID given out (XADD's floor).
    pub last_id: StreamId,
    /// The first live entry's ID, as Redis records it (0-0 when empty).
    pub first_id: StreamId,
    /// The largest ID deleted (XDEL's, not trimming's).
    pub max_deleted: StreamId,
    /// Entries ever added.
    pub entries_added: u64,
}

/// A stream (see the module header).
#[derive(Debug, Clone, Default)]
pub struct Stream {
    nodes: BTreeMap<StreamId, Node>,
    len: u64,
    meta: StreamMeta,
    /// Heap bytes held by the nodes.
    bytes: usize,
    /// The consumer groups, by name.
    groups: BTreeMap<Bytes, Group>,
    /// Changes made in place so far: a logged change names the count it
    /// was made at, and replay applies it only to the stream at that
    /// count (as a list's, `List::seq`), so a record older than a
    /// snapshot's copy is skipped rather than applied over it.
    seq: u64,
}

/// Equal when they hold the same: the heap bytes counted are left out
/// (a copy read back has no spare capacity).
impl PartialEq for Stream {
    fn eq(&self, other: &Self) -> bool {
        self.nodes == other.nodes
            && self.len == other.len
            && self.meta == other.meta
            && self.groups == other.groups
            && self.seq == other.seq
    }
}

impl Stream {
    /// Live entries.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Changes made in place so far (see the field).
    pub(crate) fn seq(&self) -> u64 {
        self.seq
    }

    /// Counts one more change made in place.
    pub(crate) fn count_change(&mut self) {
        self.seq = self.seq.wrapping_add(1);
    }

    /// Sets the change count, read off disk.
    pub(crate) fn set_seq(&mut self, seq: u64) {
        self.seq = seq;
    }

    /// Whether no live entry is left (the stream itself stays).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The counters.
    pub fn meta(&self) -> StreamMeta {
        self.meta
    }

    /// How many nodes hold the entries (XINFO's `radix-tree-keys`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// How many nodes Redis's radix tree would have for the same node
    /// keys (XINFO's `radix-tree-nodes`): a trie of the 16-byte keys with
    /// each chain of single-child, non-key nodes compressed into one, as
    /// `rax` keeps it.
    pub fn radix_tree_nodes(&self) -> usize {
        let keys: Vec<[u8; 16]> = self.nodes.keys().map(|k| k.to_be_bytes()).collect();
        radix_nodes(&keys)
    }

    /// Heap bytes held, approximately.
    pub(crate) fn footprint(&self) -> usize {
        let groups: usize = self
            .groups
            .iter()
            .map(|(name, g)| name.len() + g.footprint())
            .sum();
        self.bytes + self.nodes.len() * 48 + groups
    }

    /// The ID the next XADD gets from `arg` (`None`: `*`, from the clock
    /// at `now_ms`), or `None` when it is not above the last ID.
    pub fn next_id(&self, arg: Option<IdArg>, now_ms: u64) -> Option<StreamId> {
        let last = self.meta.last_id;
        let id = match arg {
            Some(IdArg::Id(id)) => id,
            Some(IdArg::AutoSeq(ms)) if ms == last.ms => last.next().filter(|n| n.ms == ms)?,
            Some(IdArg::AutoSeq(ms)) => StreamId::new(ms, 0),
            None if now_ms > last.ms => StreamId::new(now_ms, 0),
            None => last.next()?,
        };
        (id > last).then_some(id)
    }

    /// Appends entry `id` (above the last ID: see `next_id`) with
    /// `pairs`, field, value, ...; a new node when the tail one is full
    /// as Redis judges it.
    pub fn append(&mut self, id: StreamId, pairs: &[&[u8]], limit: StreamNodeLimit) {
        edit::stream_add(id, pairs);
        self.push(id, pairs, limit);
        self.meta.last_id = id;
        self.meta.entries_added = self.meta.entries_added.wrapping_add(1);
        if self.len == 1 {
            self.meta.first_id = id;
        }
        edit::stream_meta(&self.meta);
    }

    fn push(&mut self, id: StreamId, pairs: &[&[u8]], limit: StreamNodeLimit) {
        let sum: usize = pairs.iter().map(|p| p.len()).sum();
        let max_bytes = match limit.bytes {
            0 => MAX_NODE_BYTES,
            b => b.min(MAX_NODE_BYTES),
        };
        let tail = self.nodes.last_entry();
        if let Some(mut tail) = tail {
            let node = tail.get_mut();
            let full = node.lp_bytes() + sum >= max_bytes
                || (limit.entries > 0 && node.entries() >= limit.entries);
            if !full {
                let before = node.footprint();
                node.push(id, pairs);
                self.bytes = self.bytes - before + node.footprint();
                self.len += 1;
                return;
            }
            let before = node.footprint();
            node.seal();
            self.bytes = self.bytes - before + node.footprint();
        }
        let node = Node::new(id, pairs);
        self.bytes += node.footprint();
        self.nodes.insert(id, node);
        self.len += 1;
    }

    /// The last live entry's ID (`streamLastValidID`).
    pub fn last_live_id(&self) -> Option<StreamId> {
        // The last node with a live entry: its last entry, read in place,
        // when that one is live, else a walk of it (no entry copied).
        let node = self.nodes.values().rev().find(|n| n.live > 0)?;
        if let Some(id) = node.last_if_live() {
            return Some(id);
        }
        node.iter()
            .filter(|e| e.flags & DELETED == 0)
            .last()
            .map(|e| e.id)
    }

    /// The first live entry's ID.
    fn first_live_id(&self) -> Option<StreamId> {
        self.nodes
            .values()
            .flat_map(Node::iter)
            .find(|e| e.flags & DELETED == 0)
            .map(|e| e.id)
    }

    /// Live entries from `start` to `end` inclusive, at most `count` (0:
    /// all), in order or (`rev`) from `end` down.
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        count: usize,
        rev: bool,
    ) -> Vec<StreamEntry> {
        let mut out = Vec::new();
        if start > end {
            return out;
        }
        let full = |out: &Vec<StreamEntry>| count > 0 && out.len() >= count;
        if rev {
            for node in self.nodes.range(..=end).rev().map(|(_, n)| n) {
                if node.last() < start {
                    break;
                }
                let mut shared = node::Shared::default();
                for e in node.iter_rev() {
                    // A tombstone may be out of order (XSETID below it,
                    // then XADD): like Redis, only live entries end a range.
                    if e.flags & DELETED != 0 {
                        continue;
                    }
                    if e.id < start {
                        return out;
                    }
                    if e.id <= end {
                        out.push(StreamEntry {
                            id: e.id,
                            pairs: node.pairs(&e, &mut shared),
                        });
                        if full(&out) {
                            return out;
                        }
                    }
                }
            }
            return out;
        }
        let from = self
            .nodes
            .range(..=start)
            .next_back()
            .map_or(StreamId::MIN, |(k, _)| *k);
        for node in self.nodes.range(from..).map(|(_, n)| n) {
            if node.first() > end {
                break;
            }
            if node.last() < start {
                continue;
            }
            let mut shared = node::Shared::default();
            for e in node.iter() {
                if e.flags & DELETED != 0 {
                    continue;
                }
                if e.id > end {
                    return out;
                }
                if e.id >= start {
                    out.push(StreamEntry {
                        id: e.id,
                        pairs: node.pairs(&e, &mut shared),
                    });
                    if full(&out) {
                        return out;
                    }
                }
            }
        }
        out
    }

    /// The node that may hold `id`: the last one keyed at or below it,
    /// else the first (as Redis's iterator seeks).
    fn node_key(&self, id: StreamId) -> Option<StreamId> {
        self.nodes
            .range(..=id)
            .next_back()
            .or_else(|| self.nodes.iter().next())
            .map(|(k, _)| *k)
    }

    /// Deletes live entry `id` (XDEL); whether it was there. Its node goes
    /// with its last live entry, as Redis's does.
    pub fn delete(&mut self, id: StreamId) -> bool {
        if !self.remove_entry(id) {
            return false;
        }
        edit::stream_del(id);
        if id == self.meta.first_id {
            self.meta.first_id = self.first_live_id().unwrap_or_default();
        }
        if id > self.meta.max_deleted {
            self.meta.max_deleted = id;
        }
        if self.len == 0 {
            self.meta.first_id = StreamId::MIN;
        }
        edit::stream_meta(&self.meta);
        true
    }

    fn remove_entry(&mut self, id: StreamId) -> bool {
        let Some(key) = self.node_key(id) else {
            return false;
        };
        let Some(node) = self.nodes.get_mut(&key) else {
            return false;
        };
        let Some(at) = node.find_live(id).map(|e| e.at) else {
            return false;
        };
        self.len -= 1;
        if node.live == 1 {
            self.bytes -= node.footprint();
            self.nodes.remove(&key);
        } else {
            node.mark_deleted(at);
        }
        true
    }

    /// Trims as `trim` says, step for step as Redis's `streamTrim`;
    /// how many entries went.
    pub fn trim(&mut self, trim: Trim) -> u64 {
        let mut removed = 0u64;
        let keys: Vec<StreamId> = self.nodes.keys().copied().collect();
        for key in keys {
            if let TrimTo::MaxLen(max) = trim.to {
                if self.len <= max {
                    break;
                }
            }
            let Some(node) = self.nodes.get_mut(&key) else {
                continue;
            };
            let live = node.live as u64;
            if trim.limit > 0 && removed + live > trim.limit {
                break;
            }
            let whole = match trim.to {
                TrimTo::MaxLen(max) => self.len - live >= max,
                TrimTo::MinId(min) => node.last() < min,
            };
            if whole {
                edit::stream_drop(key, node.last());
                self.bytes -= node.footprint();
                self.nodes.remove(&key);
                self.len -= live;
                removed += live;
                continue;
            }
            if trim.approx {
                break;
            }
            let mut marks = Vec::new();
            let mut len = self.len;
            for e in node.iter() {
                let stop = match trim.to {
                    TrimTo::MaxLen(max) => len <= max,
                    TrimTo::MinId(min) => e.id >= min,
                };
                if stop {
                    break;
                }
                if e.flags & DELETED == 0 {
                    marks.push((e.at, e.id));
                    len -= 1;
                }
            }
            for &(at, id) in &marks {
                node.mark_deleted(at);
                edit::stream_mark(id);
            }
            self.len = len;
            removed += marks.len() as u64;
            break;
        }
        if self.len == 0 {
            self.meta.first_id = StreamId::MIN;
        } else if removed > 0 {
            self.meta.first_id = self.first_live_id().unwrap_or_default();
        }
        if removed > 0 {
            edit::stream_meta(&self.meta);
        }
        removed
    }

    /// Sets the counters (XSETID, after its checks).
    pub fn set_meta(&mut self, meta: StreamMeta) {
        self.meta = meta;
        edit::stream_meta(&self.meta);
    }

    /// The first node's first ID, deleted or not (what Redis's
    /// `streamGetEdgeID(s,1,0)` finds): an approximate trim's rewritten
    /// MINID.
    pub fn first_entry_id(&self) -> Option<StreamId> {
        self.nodes.keys().next().copied()
    }

    /// The nodes, first ID and buffer each, for the snapshot encoding.
    pub(crate) fn raw_nodes(&self) -> impl Iterator<Item = (StreamId, &[u8])> {
        self.nodes.iter().map(|(k, n)| (*k, n.raw()))
    }

    /// A stream from its encoded parts, each node checked, and each
    /// group's PEL checked against its consumers.
    pub(crate) fn from_raw(
        meta: StreamMeta,
        nodes: impl IntoIterator<Item = (StreamId, Vec<u8>)>,
        groups: BTreeMap<Bytes, Group>,
    ) -> Result<Self, super::codec::BadValue> {
        if !groups.values().all(Group::check) {
            return Err(super::codec::BadValue(
                "a consumer group's pending entries and consumers disagree",
            ));
        }
        let mut s = Stream {
            meta,
            groups,
            ..Stream::default()
        };
        let mut prev_live = None;
        let mut prev_key = None;
        for (first, data) in nodes {
            if prev_key.is_some_and(|k| first <= k) {
                return Err(super::codec::BadValue("stream nodes out of order"));
            }
            prev_key = Some(first);
            let node = Node::check(first, data, &mut prev_live)?;
            s.len += node.live as u64;
            s.bytes += node.footprint();
            s.nodes.insert(first, node);
        }
        if prev_live.is_some_and(|last| last > meta.last_id) {
            return Err(super::codec::BadValue("a stream entry past its last ID"));
        }
        Ok(s)
    }
}

/// See `Stream::radix_tree_nodes`; `keys` sorted and distinct.
fn radix_nodes(keys: &[[u8; 16]]) -> usize {
    const LEN: usize = 16;
    let Some(first) = keys.first() else {
        // An empty tree still has its head.
        return 1;
    };
    let mut total = LEN + 1;
    let mut absorbed = 0;
    // Children of each node on the current path, by depth.
    let mut children = [1usize; LEN + 1];
    children[LEN] = 0;
    let mut prev = first;
    // Counts the nodes below depth `down_to` on the path as they close;
    // `joined`: the parent at `down_to` is about to gain a child.
    let mut close = |children: &[usize; LEN + 1], down_to: usize, joined: bool| {
        for d in (down_to + 1..LEN).rev() {
            let parent = if d - 1 == down_to && joined {
                2
            } else {
                children.get(d - 1).copied().unwrap_or(0)
            };
            if parent == 1 && children.get(d).copied() == Some(1) {
                absorbed += 1;
            }
        }
    };
    for k in keys.iter().skip(1) {
        let lcp = prev
            .iter()
            .zip(k)
            .take_while(|(a, b)| a == b)
            .count()
            .min(LEN - 1);
        close(&children, lcp, true);
        if let Some(c) = children.get_mut(lcp) {
            *c += 1;
        }
        for c in children.iter_mut().skip(lcp + 1).take(LEN - lcp - 1) {
            *c = 1;
        }
        children[LEN] = 0;
        total += LEN - lcp;
        prev = k;
    }
    close(&children, 0, false);
    total - absorbed
}

#[cfg(test)]
mod tests;
