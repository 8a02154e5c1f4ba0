//! A stream's parts as other formats carry them: its nodes with their
//! master fields and every entry (tombstones included, each with its
//! flags), and a stream built back from such parts.
//!
//! Owns the translation between `Stream`'s own layout and a neutral
//! description of it, so DUMP and an RDB import (in the server) write and
//! read Redis's listpacks without the engine knowing that format. Building
//! must check everything a description could get wrong (order, counts,
//! a node's first entry, the groups' agreement) and never trust a count
//! it was handed: it is read from bytes another program wrote.

use super::group::Group;
use super::node::{Node, DELETED, SAME_FIELDS};
use super::{Stream, StreamId, StreamMeta};
use crate::collection::codec::BadValue;
use bytes::Bytes;
use std::collections::BTreeMap;

/// One entry of a node, as described.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryParts<'a> {
    /// Its ID.
    pub id: StreamId,
    /// Whether it is a tombstone.
    pub deleted: bool,
    /// Whether its fields are the node's master fields (stored without
    /// them).
    pub same_fields: bool,
    /// Its fields and values, interleaved.
    pub pairs: Vec<&'a [u8]>,
}

/// One node, as described.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeParts<'a> {
    /// Its first ID, the key it is kept under.
    pub first: StreamId,
    /// Its master fields.
    pub master: Vec<&'a [u8]>,
    /// Live entries it claims to hold.
    pub live: usize,
    /// Tombstones it claims to hold.
    pub deleted: usize,
    /// Its entries, in order.
    pub entries: Vec<EntryParts<'a>>,
}

fn bad(why: &'static str) -> BadValue {
    BadValue(why)
}

impl Stream {
    /// The nodes, described, in order.
    pub fn node_parts(&self) -> impl Iterator<Item = NodeParts<'_>> {
        self.nodes.values().map(|n| NodeParts {
            first: n.first(),
            master: n.master_fields(),
            live: n.live,
            deleted: n.deleted,
            entries: n
                .iter()
                .map(|e| EntryParts {
                    id: e.id,
                    deleted: e.flags & DELETED != 0,
                    same_fields: e.flags & SAME_FIELDS != 0,
                    pairs: n.pair_refs(&e),
                })
                .collect(),
        })
    }

    /// A stream from a description: its counters, its length, its nodes
    /// and its groups (see `StreamBuilder`).
    pub fn from_parts(
        meta: StreamMeta,
        len: u64,
        nodes: Vec<NodeParts<'_>>,
        groups: BTreeMap<Bytes, Group>,
    ) -> Result<Stream, BadValue> {
        let mut b = StreamBuilder::default();
        for n in nodes {
            b.add_node(n)?;
        }
        b.finish(meta, len, groups)
    }
}

/// A stream built node by node from descriptions, so that a reader
/// holds one node's description at a time. Refused: nodes out of order or
/// empty, a node's first entry not its key, live entries not ascending (a
/// tombstone may be out of order, as Redis allows after XSETID below it),
/// an entry saying it has the master fields when it has not, a node's
/// counts or the length disagreeing with its entries, a live entry past
/// the last ID, a group's pending entries and consumers disagreeing.
#[derive(Debug, Default)]
pub struct StreamBuilder {
    s: Stream,
    prev_live: Option<StreamId>,
    prev_key: Option<StreamId>,
}

impl StreamBuilder {
    /// Adds the next node.
    pub fn add_node(&mut self, parts: NodeParts<'_>) -> Result<(), BadValue> {
        let first = parts.entries.first().ok_or(bad("an empty stream node"))?;
        if first.id != parts.first {
            return Err(bad("a node's first entry is not its key"));
        }
        if self.prev_key.is_some_and(|k| parts.first <= k) {
            return Err(bad("stream nodes out of order"));
        }
        self.prev_key = Some(parts.first);
        let mut node = Node::with_master(parts.first, &parts.master);
        for e in &parts.entries {
            if !e.deleted && self.prev_live.is_some_and(|p| e.id <= p) {
                return Err(bad("stream entries out of order"));
            }
            if e.pairs.len() % 2 != 0 {
                return Err(bad("a field without its value"));
            }
            if !node.push_as(e.id, &e.pairs, e.same_fields) {
                return Err(bad("an entry's fields are not its node's master fields"));
            }
            if e.deleted {
                node.delete_last();
            } else {
                self.prev_live = Some(e.id);
            }
        }
        if node.live != parts.live || node.deleted != parts.deleted {
            return Err(bad("a stream node's counts disagree with its entries"));
        }
        self.s.len += node.live as u64;
        node.seal();
        self.s.bytes += node.footprint();
        self.s.nodes.insert(parts.first, node);
        Ok(())
    }

    /// The stream, with its counters, claimed length and groups.
    pub fn finish(
        self,
        meta: StreamMeta,
        len: u64,
        groups: BTreeMap<Bytes, Group>,
    ) -> Result<Stream, BadValue> {
        if !groups.values().all(Group::check) {
            return Err(bad(
                "a consumer group's pending entries and consumers disagree",
            ));
        }
        if self.s.len != len {
            return Err(bad("a stream's length disagrees with its entries"));
        }
        if self.prev_live.is_some_and(|last| last > meta.last_id) {
            return Err(bad("a stream entry past its last ID"));
        }
        Ok(Stream {
            meta,
            groups,
            ..self.s
        })
    }
}
