//! The key-ordered index of one shard.
//!
//! Owns a `BTreeSet` of non-owning references to the blocks that the
//! shard's hash table owns, so ordered scans need no copy of the keys.
//!
//! Safety contract, upheld by `ShardMap` (its only user): every reference
//! in the set points to a block owned by the same map's table; it is
//! removed or replaced before that block is freed, and replaced while the
//! old block is still alive (the set compares keys during the swap).

use crate::entry::Entry;
use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::mem::ManuallyDrop;
use std::ops::Bound;

/// A non-owning view of a block: a bitwise copy of its `Entry`, never dropped.
struct EntryRef(ManuallyDrop<Entry>);

// SAFETY: an EntryRef is only read, under the shard lock that also guards
// the owning table, and `Entry` itself is Send + Sync.
unsafe impl Send for EntryRef {}
// SAFETY: as above.
unsafe impl Sync for EntryRef {}

impl EntryRef {
    fn entry(&self) -> &Entry {
        &self.0
    }
}

impl PartialEq for EntryRef {
    fn eq(&self, other: &Self) -> bool {
        self.entry().key() == other.entry().key()
    }
}

impl Eq for EntryRef {}

impl PartialOrd for EntryRef {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for EntryRef {
    fn cmp(&self, other: &Self) -> Ordering {
        self.entry().key().cmp(other.entry().key())
    }
}

impl Borrow<[u8]> for EntryRef {
    fn borrow(&self) -> &[u8] {
        self.entry().key()
    }
}

/// Blocks of one shard in key order.
#[derive(Default)]
pub(crate) struct OrderIndex {
    set: BTreeSet<EntryRef>,
}

impl OrderIndex {
    /// Adds `entry`, whose key must not be present yet.
    ///
    /// # Safety
    /// `entry`'s block must stay alive until it is removed from this index
    /// or replaced in it.
    pub(crate) unsafe fn insert(&mut self, entry: &Entry) {
        // SAFETY: forwarded to the caller.
        let r = EntryRef(ManuallyDrop::new(unsafe { entry.alias() }));
        self.set.insert(r);
    }

    /// Points the key of `entry` at `entry`'s block instead of the old one.
    ///
    /// # Safety
    /// As for `insert`, and the old block for this key must still be alive.
    pub(crate) unsafe fn replace(&mut self, entry: &Entry) {
        // SAFETY: forwarded to the caller.
        let r = EntryRef(ManuallyDrop::new(unsafe { entry.alias() }));
        self.set.replace(r);
    }

    /// Forgets `key`. Call before its block is freed.
    pub(crate) fn remove(&mut self, key: &[u8]) {
        self.set.remove(key);
    }

    /// Entries with keys in the given bounds, in key order.
    pub(crate) fn range<'a>(
        &'a self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
    ) -> impl Iterator<Item = &'a Entry> + 'a {
        // BTreeSet::range panics on an empty-or-inverted pair of bounds;
        // those select nothing, so answer that without asking it.
        let empty = match (start, end) {
            (Bound::Included(s), Bound::Included(e)) => s > e,
            (Bound::Included(s) | Bound::Excluded(s), Bound::Excluded(e))
            | (Bound::Excluded(s), Bound::Included(e)) => s >= e,
            _ => false,
        };
        let range = if empty {
            None
        } else {
            Some(self.set.range::<[u8], _>((start, end)).map(EntryRef::entry))
        };
        range.into_iter().flatten()
    }

    /// The key of the first entry, for draining in order.
    pub(crate) fn first(&self) -> Option<&Entry> {
        self.set.first().map(EntryRef::entry)
    }

    pub(crate) fn clear(&mut self) {
        self.set.clear();
    }
}
