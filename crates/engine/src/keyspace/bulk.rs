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

/// An entry ready to load: its key's hash and first 16 bytes (as two
/// big-endian numbers, zero-padded), which order it without opening its
/// block. Two `u64`s rather than a `u128`, which would align the whole
/// record to 16 bytes and make it half as large again.
pub(crate) struct Built {
    pub(crate) hash: u64,
    order: (u64, u64),
    pub(crate) entry: Entry,
}

impl Built {
    pub(crate) fn new(hash: u64, entry: Entry) -> Built {
        let mut b = [0u8; 16];
        let key = entry.key();
        let n = key.len().min(16);
        if let (Some(dst), Some(src)) = (b.get_mut(..n), key.get(..n)) {
            dst.copy_from_slice(src);
        }
        let [a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7] = b;
        Built {
            hash,
            order: (
                u64::from_be_bytes([a0, a1, a2, a3, a4, a5, a6, a7]),
                u64::from_be_bytes([b0, b1, b2, b3, b4, b5, b6, b7]),
            ),
            entry,
        }
    }
}

// 32 bytes; with a `u128` it would be 48.
const _: () = assert!(std::mem::size_of::<Built>() == 32);

impl Keyspace {
    /// Puts `items` in. Returns an entry whose key was already present
    /// (given twice, or held before); the entries after it in its shard's
    /// order may not have gone in.
    pub(crate) fn load_built(&self, items: Vec<Built>) -> Option<Entry> {
        let layout = self.layout();
        let shards = &layout.active;
        let mut groups: Vec<Vec<Built>> = (0..shards.count()).map(|_| Vec::new()).collect();
        for b in items {
            if let Some(g) = groups.get_mut(shards.index(b.hash)) {
                g.push(b);
            }
        }
        for (i, mut group) in groups.into_iter().enumerate() {
            if group.is_empty() {
                continue;
            }
            group.sort_unstable_by(|a, b| {
                a.order
                    .cmp(&b.order)
                    .then_with(|| a.entry.key().cmp(b.entry.key()))
            });
            if let Some(at) = group.windows(2).position(
                |w| matches!(w, [a, b] if a.order == b.order && a.entry.key() == b.entry.key()),
            ) {
                return group.into_iter().nth(at + 1).map(|b| b.entry);
            }
            let run: Vec<(u64, Entry)> = group.into_iter().map(|b| (b.hash, b.entry)).collect();
            let refused = if layout.frozen.is_none() {
                let mut map = shards.shard(i).write();
                // Rule 1: a resize that began since the load moves what
                // this memtable holds; the keys go in one by one instead.
                if shards.is_frozen() {
                    Err(run)
                } else {
                    map.fill(run)
                }
            } else {
                Err(run)
            };
            if let Err(run) = refused {
                if let Some(twice) = self.load_each(run) {
                    return Some(twice);
                }
            }
        }
        None
    }

    /// Puts each entry in by the write protocol; returns the first whose
    /// key was present.
    fn load_each(&self, run: Vec<(u64, Entry)>) -> Option<Entry> {
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
