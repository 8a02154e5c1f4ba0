//! Replaying a stream's logged edits (`collection::edit`): each the
//! state one change left, applied to the stream at the change count its
//! record names.
//!
//! Owns how each edit lands when the stream's nodes were built under
//! other limits than the original's (a restart with other
//! `stream-node-max-*`): a trim's dropped node by its first and last IDs,
//! whichever nodes hold them now. It must never panic or put entries out
//! of order, whatever a stale record asks.

use super::node::DELETED;
use super::{Stream, StreamId, StreamMeta, StreamNodeLimit};

impl Stream {
    /// Replays a logged edit: an entry added. The record applies to this
    /// stream at its change count, so the entry is above the last ID; one
    /// that is not (a stale record meeting a stream made again since) is
    /// skipped rather than put out of order.
    pub(crate) fn replay_add(&mut self, id: StreamId, pairs: &[&[u8]], limit: StreamNodeLimit) {
        if id > self.meta.last_id {
            self.push(id, pairs, limit);
        }
    }

    /// Replays a logged XDEL.
    pub(crate) fn replay_del(&mut self, id: StreamId) {
        self.remove_entry(id);
    }

    /// Replays a trim's tombstone: `id` marked deleted, its node kept.
    pub(crate) fn replay_mark(&mut self, id: StreamId) {
        let Some(key) = self.node_key(id) else { return };
        let Some(node) = self.nodes.get_mut(&key) else {
            return;
        };
        if let Some(at) = node.find_live(id).map(|e| e.at) {
            node.mark_deleted(at);
            self.len -= 1;
        }
    }

    /// Replays a trim's whole node going: every entry from `first` to
    /// `last` removed, whichever nodes hold them now (a replay may have
    /// built them with other boundaries: other limits, or entries added
    /// again over a snapshot that had them gone).
    pub(crate) fn replay_drop(&mut self, first: StreamId, last: StreamId) {
        let keys: Vec<StreamId> = self
            .nodes
            .range(..=last)
            .filter(|(_, n)| n.last() >= first)
            .map(|(k, _)| *k)
            .collect();
        for key in keys {
            let Some(node) = self.nodes.get_mut(&key) else {
                continue;
            };
            if node.first() >= first && node.last() <= last {
                self.bytes -= node.footprint();
                self.len -= node.live as u64;
                self.nodes.remove(&key);
                continue;
            }
            let marks: Vec<usize> = node
                .iter()
                .filter(|e| e.id >= first && e.id <= last && e.flags & DELETED == 0)
                .map(|e| e.at)
                .collect();
            for at in &marks {
                node.mark_deleted(*at);
            }
            self.len -= marks.len() as u64;
            if node.live == 0 && node.last() <= last {
                self.bytes -= node.footprint();
                self.nodes.remove(&key);
            }
        }
    }

    /// Replays the counters.
    pub(crate) fn replay_meta(&mut self, meta: StreamMeta) {
        self.meta = meta;
    }
}
