//! The numbered databases (SELECT, MOVE, SWAPDB, FLUSHALL).
//!
//! Owns the table from database number to engine `Db`. Every database
//! publishes to one shared hub, so keyspace notifications from any of them
//! reach every subscriber, and runs on one shared `Background`, so the
//! server has one reaper and one resizer thread however many databases it
//! has (and one dead thread refuses writes in all of them). The table is swapped whole (SWAPDB), so a
//! request sees either the old numbering or the new, never a mix; a
//! request never takes a lock to find its database.
//!
//! Each database resizes itself, but never below a floor set by the
//! serving threads (`shard_floor`): one shard taking every thread's writes
//! makes them queue on its lock, and a thread preempted while holding it
//! stalls the others' connections for a time slice.

use arc_swap::ArcSwap;
use parking_lot::Mutex;
use std::sync::{Arc, OnceLock};
use tandem_engine::clock::Clock;
use tandem_engine::pubsub::Hub;
use tandem_engine::{Background, Db, Options, ResizePolicy, Store};

/// The databases, by number.
pub struct Databases {
    table: ArcSwap<Vec<Db>>,
    /// Serialises SWAPDBs, so two cannot both start from one table and
    /// lose one swap.
    swapping: Mutex<()>,
    /// The reaper and resizer every database runs on.
    background: Background,
    /// The durable store over them, once loaded: SWAPDB is logged there.
    store: OnceLock<Store>,
}

impl Databases {
    /// The fewest shards a database keeps with `threads` serving threads:
    /// eight per thread, a power of two, at most 64. With two threads on
    /// sixteen shards a write finds the other thread's shard at most one
    /// time in sixteen, and a FLUSHALL followed by a burst of writes does
    /// not start from one shard every thread queues on (measured with two
    /// threads: probe round trips of 25-34 ms in the first 30 ms of a load
    /// right after FLUSHALL with a floor of one, none with sixteen;
    /// `docs/BENCHMARKS.md`, "Growth over the network"). The cap keeps a
    /// small keyspace on a big machine from paying for hundreds of shards
    /// in every scan; more threads than eight grow it by contention.
    pub fn shard_floor(threads: usize) -> usize {
        threads.saturating_mul(8).clamp(1, 64).next_power_of_two()
    }

    /// `count` empty databases on `hub`, each limiting values to
    /// `max_value` bytes, measuring TTLs by `clock`, and keeping at least
    /// `min_shards` shards.
    pub fn new(
        count: usize,
        hub: &Hub,
        max_value: usize,
        clock: &Arc<dyn Clock>,
        min_shards: usize,
    ) -> Self {
        let background = Background::new();
        let policy = ResizePolicy {
            min_shards,
            ..ResizePolicy::default()
        };
        let table = (0..count)
            .map(|i| {
                let index = u32::try_from(i).unwrap_or(u32::MAX);
                Db::new(
                    Options::default()
                        .resize_policy(policy)
                        .hub(hub.clone())
                        .db_index(index)
                        .max_value_bytes(max_value)
                        .background(background.clone())
                        .clock(Arc::clone(clock)),
                )
            })
            .collect();
        Self {
            table: ArcSwap::from_pointee(table),
            swapping: Mutex::new(()),
            background,
            store: OnceLock::new(),
        }
    }

    /// Every database in id order (its number when it was made; SWAPDB
    /// changes numbers, not ids), as the store wants them.
    pub fn by_id(&self) -> Vec<Db> {
        let mut dbs = Vec::clone(&self.table.load());
        dbs.sort_by_key(Db::id);
        dbs
    }

    /// Numbers the databases as recovery found them: `numbering[n]` is the
    /// id of database `n`.
    pub fn renumber(&self, numbering: &[u32]) {
        let _one_at_a_time = self.swapping.lock();
        let by_id = self.by_id();
        let table: Vec<Db> = numbering
            .iter()
            .filter_map(|&id| by_id.get(id as usize).cloned())
            .collect();
        if table.len() != by_id.len() {
            return;
        }
        for (n, db) in table.iter().enumerate() {
            db.set_db_index(u32::try_from(n).unwrap_or(u32::MAX));
        }
        self.table.store(Arc::new(table));
    }

    /// From now on SWAPDB is logged in `store`.
    pub fn attach(&self, store: Store) {
        let _ = self.store.set(store);
    }

    /// The background threads every database runs on, and their health.
    pub fn background(&self) -> &Background {
        &self.background
    }

    /// How many databases there are.
    pub fn len(&self) -> usize {
        self.table.load().len()
    }

    /// Database `index` (a cheap handle). Callers check the index with
    /// `len` first; an index out of range yields database 0.
    pub fn get(&self, index: usize) -> Db {
        selected(&self.table.load(), index)
            .cloned()
            .unwrap_or_default()
    }

    /// The table as it is now (see `selected`), borrowed without touching a shared
    /// reference count (arc-swap's guard).
    pub fn table(&self) -> arc_swap::Guard<Arc<Vec<Db>>> {
        self.table.load()
    }

    /// Every database, in order.
    pub fn all(&self) -> Arc<Vec<Db>> {
        self.table.load_full()
    }

    /// SWAPDB: databases `a` and `b` trade numbers. Clients that selected
    /// `a` now see what was `b`. Returns false if either is out of range.
    pub fn swap(&self, a: usize, b: usize) -> bool {
        let _one_at_a_time = self.swapping.lock();
        let publish = || {
            let mut table = Vec::clone(&self.table.load());
            table.swap(a, b);
            for i in [a, b] {
                if let Some(db) = table.get(i) {
                    db.set_db_index(u32::try_from(i).unwrap_or(u32::MAX));
                }
            }
            self.table.store(Arc::new(table));
        };
        if a >= self.len() || b >= self.len() {
            return false;
        }
        // Logged and published under the store's numbering lock, so a
        // snapshot records the numbering before the swap or after it.
        match self.store.get() {
            Some(store) => store.swap(a, b, publish),
            None => {
                publish();
                true
            }
        }
    }
}

/// Database `index` of `table`, or database 0 for an index out of range
/// (callers check it against the count first); `None` only for an empty
/// table.
pub(crate) fn selected(table: &[Db], index: usize) -> Option<&Db> {
    table.get(index).or_else(|| table.first())
}

#[cfg(test)]
mod tests {
    use super::Databases;

    #[test]
    fn the_shard_floor_is_eight_per_thread_a_power_of_two_at_most_64() {
        let floors: Vec<usize> = [0, 1, 2, 3, 8, 9, 1000]
            .into_iter()
            .map(Databases::shard_floor)
            .collect();
        assert_eq!(floors, [1, 8, 16, 32, 64, 64, 64]);
    }
}
