//! An import's loading: a database sized for what is coming, keys built
//! on the loading threads, then put in a shard at a time.
//!
//! Owns what an import asks of a database: growing an empty keyspace to
//! the size announced, splitting keys among loading threads so that they
//! never share a shard, building each key's entry outside any lock, and
//! handing the built entries to the keyspace's bulk load
//! (`keyspace::bulk`). It must never send events or write log records:
//! no client sees an import as commands, and the import ends in a
//! snapshot, so a crash before it leaves the store as it was.

use super::access::{new_entry, sealed::Access};
use super::dump::{value_in, Stamp};
use super::Db;
use crate::collection::build::Value;
use crate::error::Result;
use crate::keyspace::Built;

/// A key built by `Db::loadable`, to put in with `Db::load`.
pub struct Loadable {
    built: Built,
    /// The keyspace whose hash it carries (`Keyspace::uid`): each
    /// keyspace seeds its own hasher, so a key built for one is routed
    /// again when loaded into another.
    home: u64,
}

/// While alive, the resizer decides nothing for the database it was taken
/// on (`Db::hold_resizes`).
pub struct ResizeHold<'d>(&'d Db);

impl Drop for ResizeHold<'_> {
    fn drop(&mut self) {
        self.0.ks.release_resizes();
    }
}

impl Db {
    /// An import's sizing: with `keys` about to arrive, grows an empty
    /// keyspace now to the shards its resize policy would grow to for
    /// them (with room to spare), so the import never waits on a
    /// migration. Nothing happens if keys are already held or no policy
    /// resizes this keyspace.
    pub fn presize(&self, keys: usize) {
        let Some(policy) = self.ks.policy else {
            return;
        };
        if self.dbsize() > 0 {
            return;
        }
        let per_shard = (policy.grow_keys_per_shard / 2).max(1);
        let mut shards = self.shard_count().max(1);
        while keys / shards > per_shard && shards < policy.max_shards {
            shards *= 2;
        }
        if shards > self.shard_count() {
            self.resize(shards.min(policy.max_shards));
        }
    }

    /// Keeps the resizer from growing or shrinking this keyspace on its
    /// own until the hold is dropped (`presize` still resizes): an import
    /// holds it while it reads, since an empty keyspace that then takes a
    /// million keys at once would be measured as idle, then as filling at
    /// a rate no client could reach.
    pub fn hold_resizes(&self) -> ResizeHold<'_> {
        self.ks.hold_resizes();
        ResizeHold(self)
    }

    /// Which of `parts` groups of shards `key` falls in: keys in
    /// different parts never share a shard, so an import's threads, each
    /// given a part, never wait on each other (while the shard count is a
    /// multiple of `parts`, as a power of two is of 2).
    pub fn part_of(&self, key: &[u8], parts: usize) -> usize {
        crate::memtable::shard_index(self.ks.hash(key), parts.max(1))
    }

    /// Builds `key` holding `value`, with `deadline` and the access
    /// `stamp`, to be put in by `load`. Takes no lock. A deadline already
    /// past is kept, for expiry to take.
    pub fn loadable(
        &self,
        key: &[u8],
        value: Value,
        deadline: Option<u64>,
        stamp: Option<Stamp>,
    ) -> Result<Loadable> {
        let ctx = self.ctx();
        // The version is given when the entry goes in.
        let entry = new_entry(key, value_in(value), 0, deadline, ctx)?;
        if let Some(stamp) = stamp {
            ctx.access.stamp_restored(&entry, stamp);
        }
        Ok(Loadable {
            built: Built::new(self.ks.hash(key), entry),
            home: self.ks.uid,
        })
    }

    /// Puts keys built by `loadable` in: an empty shard takes its keys as
    /// one tree built in key order, any other shard one key at a time.
    /// Returns a key found twice, which the import refuses as Redis
    /// refuses a key twice in one file: given twice, and then nothing
    /// goes in; or already held, and then the keys after it may not have
    /// gone in. Refused while writes are.
    pub fn load(&self, keys: Vec<Loadable>) -> Result<Option<Vec<u8>>> {
        self.check_writable()?;
        let home = self.ks.uid;
        let built = keys
            .into_iter()
            .map(|l| {
                if l.home == home {
                    l.built
                } else {
                    let entry = l.built.entry;
                    Built::new(self.ks.hash(entry.key()), entry)
                }
            })
            .collect();
        Ok(self.ks.load_built(built).map(|e| e.key().to_vec()))
    }
}
