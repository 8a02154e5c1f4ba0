//! A stream's consumer groups: each group's last delivered ID and read
//! counter, its pending entries list (PEL: entries delivered and not yet
//! acknowledged, each with its consumer, last delivery time and delivery
//! count), and its consumers (each with its last seen time and its own
//! share of the PEL).
//!
//! Owns the groups' data and keeping the group's PEL and its consumers'
//! shares in agreement: an entry pending is in exactly one consumer's
//! share, the one its `Pending` names. It must never let them disagree,
//! not even for a change replayed from the log or a snapshot read off
//! disk (`check`). Groups and consumers are kept in byte order of their
//! names, as Redis's radix trees list them.

use super::id::StreamId;
use bytes::Bytes;
use std::collections::{BTreeMap, BTreeSet};

/// One pending entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Its consumer.
    pub consumer: Bytes,
    /// When it was last delivered (Unix ms).
    pub delivery_time: i64,
    /// How many times it was delivered.
    pub delivery_count: u64,
}

/// A consumer of a group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Consumer {
    /// When it last read or claimed (Unix ms).
    pub seen_time: i64,
    /// Its pending entries.
    pub(super) pel: BTreeSet<StreamId>,
}

impl Consumer {
    /// How many entries it has pending.
    pub fn pending(&self) -> usize {
        self.pel.len()
    }

    /// Its pending entries' IDs, in order.
    pub fn pending_ids(&self) -> impl DoubleEndedIterator<Item = StreamId> + '_ {
        self.pel.iter().copied()
    }
}

/// A consumer group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Group {
    /// The last ID delivered to the group.
    pub last_id: StreamId,
    /// Entries the group has read, when it is known (Redis's
    /// `entries_read`, -1 when not).
    pub entries_read: Option<u64>,
    pub(super) pel: BTreeMap<StreamId, Pending>,
    pub(super) consumers: BTreeMap<Bytes, Consumer>,
}

impl Group {
    /// A group delivering after `last_id`.
    pub fn new(last_id: StreamId, entries_read: Option<u64>) -> Self {
        Self {
            last_id,
            entries_read,
            ..Self::default()
        }
    }

    /// The pending entries, in ID order.
    pub fn pel(&self) -> &BTreeMap<StreamId, Pending> {
        &self.pel
    }

    /// The consumers, by name.
    pub fn consumers(&self) -> &BTreeMap<Bytes, Consumer> {
        &self.consumers
    }

    /// Consumer `name`.
    pub fn consumer(&self, name: &[u8]) -> Option<&Consumer> {
        self.consumers.get(name)
    }

    /// Adds consumer `name`, seen at `now`; whether it was new.
    pub(super) fn add_consumer(&mut self, name: &[u8], now: i64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        self.consumers.insert(
            Bytes::copy_from_slice(name),
            Consumer {
                seen_time: now,
                pel: BTreeSet::new(),
            },
        );
        true
    }

    /// Removes consumer `name` and its pending entries; how many it had.
    pub(super) fn remove_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        Some(c.pel.len())
    }

    /// Makes `id` pending for `consumer` (which must exist), moving it
    /// from another consumer's share if need be.
    pub(super) fn set_pending(&mut self, id: StreamId, p: Pending) {
        if let Some(old) = self.pel.get(&id) {
            if old.consumer != p.consumer {
                if let Some(c) = self.consumers.get_mut(&old.consumer) {
                    c.pel.remove(&id);
                }
            }
        }
        if let Some(c) = self.consumers.get_mut(&p.consumer) {
            c.pel.insert(id);
        }
        self.pel.insert(id, p);
    }

    /// Removes `id` from the PEL; whether it was pending.
    pub(super) fn remove_pending(&mut self, id: StreamId) -> bool {
        let Some(p) = self.pel.remove(&id) else {
            return false;
        };
        if let Some(c) = self.consumers.get_mut(&p.consumer) {
            c.pel.remove(&id);
        }
        true
    }

    /// Adds a consumer read off disk; false if it is there already.
    pub fn add_consumer_at(&mut self, name: &[u8], seen: i64) -> bool {
        self.add_consumer(name, seen)
    }

    /// Adds a pending entry read off disk; false if it is there already
    /// or its consumer is not.
    pub fn add_pending_at(&mut self, id: StreamId, p: Pending) -> bool {
        if self.pel.contains_key(&id) || !self.consumers.contains_key(&p.consumer) {
            return false;
        }
        self.set_pending(id, p);
        true
    }

    /// Whether the PEL and the consumers' shares agree (see the module
    /// header): what a group read off disk must show.
    pub(super) fn check(&self) -> bool {
        let shares: usize = self.consumers.values().map(|c| c.pel.len()).sum();
        shares == self.pel.len()
            && self.pel.iter().all(|(id, p)| {
                self.consumers
                    .get(&p.consumer)
                    .is_some_and(|c| c.pel.contains(id))
            })
    }

    /// Heap bytes held, approximately.
    pub(super) fn footprint(&self) -> usize {
        let pel = self.pel.len() * (16 + 48 + 16);
        let consumers: usize = self
            .consumers
            .iter()
            .map(|(name, c)| name.len() + 64 + c.pel.len() * 24)
            .sum();
        96 + pel + consumers
    }
}
