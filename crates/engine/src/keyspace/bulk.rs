//! An import's bulk load: entries built beforehand, put in a shard at a
//! time.
//!
//! Owns grouping entries by shard, ordering each group by key, finding a
//! key given twice, and filling each empty shard with one tree build
//! under one lock hold (`ShardMap::fill`). Whatever the bulk path cannot
//! take (a resize under way, a shard already holding keys) goes in one
//! key at a time by the ordinary write protocol (rules 1 and 2), so
//! correctness never rests on the keyspace standing still. It must never
//! write to the journal: the import that calls it ends in a snapshot.

use super::Keyspace;
use crate::entry::Entry;
use crate::scan::window;

/// An entry ready to load: its key's hash and first 16 bytes (as two
/// big-endian numbers, zero-padded, high one first), which order it
/// without opening its block.
pub(crate) struct Built {
    pub(crate) hash: u64,
    order: (u64, u64),
    pub(crate) entry: Entry,
}

impl Built {
    pub(crate) fn new(hash: u64, entry: Entry) -> Built {
        let key = entry.key();
        let order = (window(key, 0), window(key, 8));
        Built { hash, order, entry }
    }
}

// An import holds one per key until its keys go in.
const _: () = assert!(std::mem::size_of::<Built>() == 32);

impl Keyspace {
    /// Puts `items` in. Returns an entry whose key was already present:
    /// given twice (found before anything goes in, so nothing does), or
    /// held before (then the entries after it, in its shard and in the
    /// shards after, may not have gone in).
    ///
    /// Sorted where they lie, by shard and then key, and handed to each
    /// shard as a run of that one vector: no second copy of the records
    /// (an import holds one for every key it read).
    pub(crate) fn load_built(&self, mut items: Vec<Built>) -> Option<Entry> {
        let layout = self.layout();
        let shards = &layout.active;
        let shard_of = |b: &Built| shards.index(b.hash);
        items.sort_unstable_by(|a, b| {
            (shard_of(a), a.order)
                .cmp(&(shard_of(b), b.order))
                .then_with(|| a.entry.key().cmp(b.entry.key()))
        });
        // A key given twice has one hash, so one shard: its copies are
        // neighbours.
        let same = |a: &Built, b: &Built| a.order == b.order && a.entry.key() == b.entry.key();
        if let Some(at) = items
            .windows(2)
            .position(|w| matches!(w, [a, b] if same(a, b)))
        {
            return items.into_iter().nth(at + 1).map(|b| b.entry);
        }
        // Each shard's run, as (shard, length).
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for b in &items {
            let i = shard_of(b);
            match runs.last_mut() {
                Some((j, n)) if *j == i => *n += 1,
                _ => runs.push((i, 1)),
            }
        }
        let mut rest = items.into_iter();
        for (i, n) in runs {
            let mut run = rest.by_ref().take(n).map(|b| (b.hash, b.entry));
            if layout.frozen.is_none() {
                let mut map = shards.shard(i).write();
                // Rule 1: once a resize has begun, what this memtable
                // holds is being moved; the keys go in one by one instead
                // (and so do the runs after this one, routed by this
                // layout to the frozen memtable).
                if !shards.is_frozen() && map.fill(&mut run) {
                    continue;
                }
            }
            if let Some(twice) = self.load_each(run) {
                return Some(twice);
            }
        }
        None
    }

    /// Puts each entry in by the write protocol; returns the first whose
    /// key was present.
    fn load_each(&self, run: impl Iterator<Item = (u64, Entry)>) -> Option<Entry> {
        for (_, mut entry) in run {
            let key = entry.key().to_vec();
            let back = self.write(&key, move |map, hash| {
                entry.set_version(map.next_version());
                map.insert_absent(hash, entry)
            });
            if let Err(entry) = back {
                return Some(entry);
            }
        }
        None
    }
}
