//! `ShardMap`: the contents of one shard.
//!
//! Owns the shard's entries (in a `Tree`), the count of bytes they hold,
//! and the shard's version counter. It knows nothing of locks, expiry or
//! Redis semantics: callers hold the shard's lock and decide what a write
//! means. The caller passes each key's hash, computed once for routing; a
//! byte of it is the key's fingerprint in the tree's leaves.
//!
//! Every change that can give an entry an earlier deadline goes through
//! here, so this is where the shard's `DueHint` is kept true: after such a
//! change the hint is lowered to the tree's bound (one compare when it is
//! not earlier, which is nearly always).
//!
//! Every change a client can see is reported to the journal here (`put`
//! after a key's new state is known, `del` before it goes), which records
//! it only inside a scope (see `journal`). `insert_absent`, `pop_first`,
//! `take` and `fill` report nothing: they move entries between memtables,
//! empty one whole or fill one for an import, and their callers log what
//! that means.

use super::tree::{Iter, Path, Tree};
use super::DueHint;
use crate::collection::Collection;
use crate::entry::{Applied, Entry, Oversize, Patch};
use crate::journal;
use bytes::Bytes;
use std::ops::Bound;
use std::sync::Arc;

/// The fingerprint of a key with hash `hash`. The low byte: routing uses
/// the hash's high bits, so within a shard the low ones still vary.
fn fingerprint(hash: u64) -> u8 {
    hash as u8
}

/// What a shard's entries add up to, kept as entries come and go so
/// that stats never walk the entries.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    /// Bytes held by entries (blocks and shared values).
    bytes: usize,
    /// Entries with a deadline (Redis's `expires`).
    volatile: usize,
    /// The sum of those deadlines, in Unix ms, for the mean TTL.
    deadlines: u128,
    /// The newest version among the entries removed from this map (see
    /// `WriteMark::newest_removed`).
    newest_removed: u64,
}

impl Tally {
    fn add(&mut self, e: &Entry) {
        self.bytes += e.footprint();
        if let Some(d) = e.expiry() {
            self.volatile += 1;
            self.deadlines += u128::from(d);
        }
    }

    fn sub(&mut self, e: &Entry) {
        self.bytes -= e.footprint();
        if let Some(d) = e.expiry() {
            self.volatile -= 1;
            self.deadlines -= u128::from(d);
        }
    }
}

/// What a watch reads of a shard (`ShardMap::write_mark`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WriteMark {
    /// The memtable the shard belongs to.
    pub(crate) memtable: u64,
    /// The last version the shard handed out.
    pub(crate) written: u64,
    /// The newest version of any entry removed from the shard (deleted,
    /// expired, evicted, flushed), as `full_version` recovers it from the
    /// entry's 32 bits: never older than the truth for an entry written
    /// in the last 2^32 versions, so a key created and removed after a
    /// watch always shows here as newer than the watch.
    pub(crate) newest_removed: u64,
}

/// The newest version at or below `written` whose low 32 bits are
/// `bits`: the whole version of an entry written in the shard's last
/// 2^32 versions, and something newer than the truth for an older one.
pub(crate) fn full_version(bits: u32, written: u64) -> u64 {
    written.saturating_sub(u64::from((written as u32).wrapping_sub(bits)))
}

/// Entries of one shard, in key order.
pub struct ShardMap {
    tree: Tree,
    /// Bytes, deadlines and their sum, of the entries.
    tally: Tally,
    /// The last version handed out: a count of this shard's writes. An
    /// entry keeps its low 32 bits; a watch keeps the whole count, to
    /// tell whether a version it sees could have been handed out since
    /// (`db::watch`).
    version: u64,
    /// The memtable this shard belongs to (`memtable::Shards::id`). A
    /// watch reads versions only against the shard that gave them.
    memtable: u64,
    /// The shard's deadline hint, shared with its `Shard`.
    due: Arc<DueHint>,
}

impl ShardMap {
    /// An empty map of memtable `memtable`, announcing its deadlines
    /// through `due`.
    pub(crate) fn new(memtable: u64, due: Arc<DueHint>) -> Self {
        Self {
            tree: Tree::default(),
            tally: Tally::default(),
            version: 0,
            memtable,
            due,
        }
    }

    /// Lowers the shard's hint to the tree's bound after an insert.
    fn announce(&self) {
        self.due.lower(self.tree.next_deadline());
    }

    /// Appends the keys of up to `limit` entries expired at `now` to `out`.
    /// The caller must remove them all before releasing the lock, then
    /// call `publish_deadline`.
    pub(crate) fn collect_due(&mut self, now: u64, limit: usize, out: &mut Vec<Bytes>) {
        self.tree.collect_due(now, limit, out);
    }

    /// Sets the shard's hint to the tree's bound, which reaping may have
    /// raised.
    pub(crate) fn publish_deadline(&self) {
        self.due.reset(self.tree.next_deadline());
    }

    /// Whether the map holds `key`, expired or not.
    pub(crate) fn contains(&self, hash: u64, key: &[u8]) -> bool {
        self.get(hash, key).is_some()
    }

    /// Number of entries, expired ones included until they are removed.
    pub(crate) fn len(&self) -> usize {
        self.tree.len()
    }

    /// Approximate heap bytes: entries plus the tree's nodes.
    pub(crate) fn approx_bytes(&self) -> usize {
        self.tally.bytes + self.tree.node_bytes()
    }

    /// Entries with a deadline, expired ones included until removed.
    pub(crate) fn volatile(&self) -> usize {
        self.tally.volatile
    }

    /// The sum of the deadlines of `volatile` entries, in Unix ms.
    pub(crate) fn deadline_sum(&self) -> u128 {
        self.tally.deadlines
    }

    /// Approximate heap bytes of the index (the tree's nodes).
    pub(crate) fn index_bytes(&self) -> usize {
        self.tree.node_bytes()
    }

    /// Heap bytes of the timer index (the tree's deadline bounds).
    pub(crate) fn timer_bytes(&self) -> usize {
        self.tree.timer_bytes()
    }

    /// A version newer than any this shard has handed out.
    pub(crate) fn next_version(&mut self) -> u64 {
        self.version += 1;
        self.version
    }

    /// An empty map of memtable `memtable` that has handed out `written`
    /// versions, as if after that many writes.
    #[cfg(test)]
    pub(crate) fn after_writes(memtable: u64, written: u64) -> Self {
        let alarm = Arc::default();
        let mut map = Self::new(memtable, Arc::new(DueHint::new(alarm)));
        map.version = written;
        map
    }

    /// This map, as if an entry of version `newest` had been removed.
    #[cfg(test)]
    pub(crate) fn after_removing(mut self, newest: u64) -> Self {
        self.tally.newest_removed = self.tally.newest_removed.max(newest);
        self
    }

    /// What a watch records of this shard.
    pub(crate) fn write_mark(&self) -> WriteMark {
        WriteMark {
            memtable: self.memtable,
            written: self.version,
            newest_removed: self.tally.newest_removed,
        }
    }

    /// An entry with a deadline picked at random (see
    /// `Tree::random_volatile`).
    pub(crate) fn random_volatile(&self, pick: &mut impl FnMut(usize) -> usize) -> Option<&Entry> {
        if self.tally.volatile == 0 {
            return None;
        }
        self.tree.random_volatile(pick)
    }

    /// `n` entries picked at random, appended to `out` (see
    /// `Tree::sample`).
    pub(crate) fn sample<'m>(
        &'m self,
        n: usize,
        pick: &mut impl FnMut(usize) -> usize,
        out: &mut smallvec::SmallVec<[&'m Entry; 16]>,
    ) {
        self.tree.sample(n, pick, out);
    }

    /// An entry picked at random (see `Tree::random`).
    pub(crate) fn random(&self, pick: &mut impl FnMut(usize) -> usize) -> Option<&Entry> {
        self.tree.random(pick)
    }

    pub(crate) fn get(&self, hash: u64, key: &[u8]) -> Option<&Entry> {
        self.tree.get(fingerprint(hash), key)
    }

    /// The occupied slot for `key`, to read and change it in place.
    pub(crate) fn slot(&mut self, hash: u64, key: &[u8]) -> Option<Slot<'_>> {
        let path = self.tree.find(fingerprint(hash), key)?;
        Some(Slot {
            tree: &mut self.tree,
            tally: &mut self.tally,
            due: &self.due,
            written: self.version,
            path,
        })
    }

    /// Adds `entry`, whose key must be absent (check with `get` or `slot`).
    pub(crate) fn insert_new(&mut self, hash: u64, entry: Entry) {
        drop(self.upsert(hash, entry));
    }

    /// Adds `entry` unless its key is present, in which case it comes back.
    pub(crate) fn insert_absent(&mut self, hash: u64, entry: Entry) -> Result<(), Entry> {
        let mut added = Tally::default();
        added.add(&entry);
        self.tree.insert_absent(fingerprint(hash), entry)?;
        self.tally.bytes += added.bytes;
        self.tally.volatile += added.volatile;
        self.tally.deadlines += added.deadlines;
        self.announce();
        Ok(())
    }

    /// Fills an empty map with `entries` (each with its key's hash), which
    /// are in ascending key order with no key twice, in one build instead
    /// of an insert each; each entry gets the next version. Reports nothing
    /// to the journal, as `insert_absent`: an import, the one caller, ends
    /// in a snapshot. Returns false, taking nothing, if the map holds keys.
    pub(crate) fn fill(
        &mut self,
        entries: &mut impl ExactSizeIterator<Item = (u64, Entry)>,
    ) -> bool {
        if self.len() > 0 {
            return false;
        }
        let mut tally = self.tally;
        let mut version = self.version;
        self.tree = Tree::from_sorted(entries.map(|(hash, mut entry)| {
            version += 1;
            entry.set_version(version);
            tally.add(&entry);
            (fingerprint(hash), entry)
        }));
        self.tally = tally;
        self.version = version;
        self.announce();
        true
    }

    /// Adds or replaces the entry for `entry`'s key, returning the old one.
    pub(crate) fn upsert(&mut self, hash: u64, entry: Entry) -> Option<Entry> {
        journal::put(&entry);
        self.tally.add(&entry);
        let old = self.tree.insert(fingerprint(hash), entry);
        if let Some(old) = &old {
            self.tally.sub(old);
        }
        self.announce();
        old
    }

    pub(crate) fn remove(&mut self, hash: u64, key: &[u8]) -> Option<Entry> {
        self.slot(hash, key).map(Slot::remove)
    }

    /// Entries within the bounds, in key order.
    pub(crate) fn range<'a, 'b>(
        &'a self,
        start: Bound<&[u8]>,
        end: Bound<&'b [u8]>,
    ) -> Iter<'a, 'b> {
        self.tree.range(start, end)
    }

    /// Removes and returns the entry with the smallest key.
    pub(crate) fn pop_first(&mut self) -> Option<Entry> {
        let path = self.tree.first()?;
        let entry = self.tree.remove_at(&path);
        self.tally.sub(&entry);
        Some(entry)
    }

    /// Empties the map, returning the old contents so the caller can free
    /// them after releasing the lock.
    pub(crate) fn take(&mut self) -> ShardMap {
        // No deadlines are left; the reaper finds the hint too low once,
        // and raises it.
        let fresh = ShardMap {
            tree: Tree::default(),
            // Everything written so far may have been among what went.
            tally: Tally {
                newest_removed: self.version,
                ..Tally::default()
            },
            version: self.version,
            memtable: self.memtable,
            due: self.due.clone(),
        };
        std::mem::replace(self, fresh)
    }
}

/// An occupied slot of a `ShardMap`, found once and then read, changed or
/// removed without another search.
pub(crate) struct Slot<'a> {
    tree: &'a mut Tree,
    tally: &'a mut Tally,
    due: &'a DueHint,
    /// The map's last version handed out, for `remove`'s record.
    written: u64,
    path: Path,
}

impl Slot<'_> {
    pub(crate) fn get(&self) -> &Entry {
        self.tree.at(&self.path)
    }

    /// Applies `patch`, moving the entry to a new block if it must.
    pub(crate) fn apply(&mut self, patch: Patch<'_>) -> Result<(), Oversize> {
        let mut before = Tally::default();
        before.add(self.get());
        // A patch that keeps or removes the deadline cannot make it earlier.
        let sets_deadline = matches!(patch.expiry, Some(Some(_)));
        // EXPIRE or PERSIST: the log needs the deadline, not the value
        // again (a big collection's would cost its size).
        let deadline_only = patch.value.is_none();
        match self.tree.at_mut(&self.path).apply(patch)? {
            Applied::InPlace => {
                self.tally.bytes -= before.bytes;
                self.tally.volatile -= before.volatile;
                self.tally.deadlines -= before.deadlines;
                self.tally.add(self.tree.at(&self.path));
                if sets_deadline {
                    self.announce();
                }
            }
            Applied::Moved(new) => drop(self.swap(new)),
        }
        if deadline_only {
            journal::deadline(self.get());
        } else {
            journal::put(self.get());
        }
        Ok(())
    }

    /// Takes the entry's deadline, if any, into the tree's bounds and the
    /// shard's hint.
    fn announce(&mut self) {
        if let Some(deadline) = self.get().expiry() {
            self.tree.lower_deadline(&self.path, deadline);
            self.due.lower(deadline);
        }
    }

    /// Replaces the entry with `new` (same key), returning the old one,
    /// for the caller to log.
    fn swap(&mut self, new: Entry) -> Entry {
        self.tally.add(&new);
        let old = std::mem::replace(self.tree.at_mut(&self.path), new);
        self.tally.sub(&old);
        self.announce();
        old
    }

    /// Runs `f` on a large value's shared buffer, if it has one, keeping the
    /// byte count right; `version` becomes the entry's version.
    pub(crate) fn with_shared<R>(
        &mut self,
        version: u64,
        f: impl FnOnce(&mut Bytes) -> R,
    ) -> Option<R> {
        // Only the value's buffer changes: the deadline stays.
        let before = self.get().footprint();
        let entry = self.tree.at_mut(&self.path);
        let r = f(entry.shared_mut()?);
        entry.set_version(version);
        self.tally.bytes = self.tally.bytes - before + self.get().footprint();
        journal::put(self.get());
        Some(r)
    }

    /// Runs `f` on the entry's collection, if it holds one, keeping the
    /// byte count right. `f` says whether it changed anything; only then
    /// does `version` become the entry's version, the collection count
    /// the change, and the change get logged, by the edits it made (a
    /// failed or empty-handed command must not disturb a WATCH).
    /// A collection left empty is not logged: the caller removes the key.
    pub(crate) fn with_collection<R, E>(
        &mut self,
        version: u64,
        f: impl FnOnce(&mut Collection) -> Result<(R, bool), E>,
    ) -> Option<Result<R, E>> {
        let before = self.get().footprint();
        let c = self.tree.at_mut(&self.path).collection_mut()?;
        let seq = c.seq();
        let recording = journal::edits();
        let r = f(c);
        if matches!(r, Ok((_, true))) {
            c.count_change();
        }
        self.tally.bytes = self.tally.bytes - before + self.get().footprint();
        let Ok((r, changed)) = r else {
            return Some(r.map(|(r, _)| r));
        };
        if changed {
            self.tree.at_mut(&self.path).set_version(version);
            if !self.get().collection().is_some_and(Collection::is_empty) {
                journal::changed(self.get(), seq, recording);
            }
        }
        Some(Ok(r))
    }

    pub(crate) fn remove(self) -> Entry {
        journal::del(self.get().key());
        let old = self.tree.remove_at(&self.path);
        self.tally.sub(&old);
        let removed = full_version(old.version(), self.written);
        self.tally.newest_removed = self.tally.newest_removed.max(removed);
        old
    }
}

#[cfg(test)]
mod tests {
    use super::full_version;

    const SPAN: u64 = 1 << 32;

    #[test]
    fn full_versions_come_back_from_their_bits() {
        assert_eq!(full_version(7, 9), 7);
        assert_eq!(full_version(9, 9), 9);
        assert_eq!(full_version(5, SPAN + 10), SPAN + 5);
        assert_eq!(full_version(u32::MAX, SPAN + 1), SPAN - 1);
        // Bits from another counter, above this one: never below zero.
        assert_eq!(full_version(100, 10), 0);
    }
}
