//! Eviction on a `Db`: sampling its shards for candidates and removing
//! the ones chosen, and choosing across a server's databases.
//!
//! Owns how a policy's sample is drawn from a keyspace (one random shard
//! per round, under its read lock, as Redis samples one dict per db), how
//! `allkeys-s3fifo` judges the key at the head of probation (under that
//! key's shard lock), and how an evicted key leaves: the `evicted` event,
//! the `evicted_keys` count, a DEL in the log (the shard map logs every
//! removal), and its memory freed after the shard lock is released. It
//! never decides how much to evict: that is the caller's, which watches
//! memory.

use super::Db;
use crate::entry::Entry;
use crate::error::Result;
use crate::evict::{access::idle_ms, Clocks, Policy, Pool};
use crate::memtable::ShardMap;
use crate::pubsub::NotifyFlags;
use bytes::Bytes;
use smallvec::SmallVec;
use std::sync::atomic::Ordering::Relaxed;

/// What one eviction freed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evicted {
    /// The index of the database the key was in, in the caller's list.
    pub db: usize,
    /// The entry's footprint (`Entry::footprint`): roughly what its
    /// removal gives back.
    pub bytes: usize,
}

/// Where a thread's eviction left off: its pool, and the database a
/// random policy takes from next (Redis's `next_db`).
#[derive(Debug, Default)]
pub struct EvictState {
    /// The best candidates sampled so far.
    pub pool: Pool,
    next_db: usize,
    /// Per database, evictions to go before sampling it again after a
    /// sample found nothing: most of a server's 16 databases are empty,
    /// and sampling one still costs its layout and a shard lock.
    resting: Vec<u16>,
}

/// Evictions a database whose sample found nothing sits out: looking
/// means a read lock on each of its shards, and most of a server's 16
/// databases are empty. A database that gets keys meanwhile waits at
/// most this long to be sampled (at once if every other one is empty).
const REST: u16 = 256;

/// Rounds of sampling one eviction may take before it gives up: keys can
/// vanish between the sample and the removal, and a volatile policy's
/// sample can miss.
const ROUNDS: usize = 16;

impl Db {
    /// Sets how lookups stamp keys for `policy`: for LFU (else LRU), with
    /// Redis's `lfu-log-factor` and `lfu-decay-time` (minutes); and
    /// whether new keys go on probation (`allkeys-s3fifo`).
    pub fn set_access_rules(&self, policy: Policy, log_factor: u32, decay_minutes: u32) {
        let ctx = &self.ks.ctx;
        ctx.access.set(policy.lfu(), log_factor, decay_minutes);
        ctx.probation.set_on(policy.probation());
    }

    /// Keys on probation (`allkeys-s3fifo`), counting ones since deleted.
    pub fn on_probation(&self) -> usize {
        self.ks.ctx.probation.queued()
    }

    /// Keys evicted from this keyspace (Redis's `evicted_keys`).
    pub fn evicted_keys(&self) -> u64 {
        self.ks.ctx.evicted.load(Relaxed)
    }

    /// OBJECT IDLETIME: milliseconds since the key was last used, `None`
    /// if it does not exist. Meaningful while keys are stamped for LRU.
    pub fn idle_ms(&self, key: &[u8]) -> Result<Option<u64>> {
        let word = self.access_word(key)?;
        Ok(word.map(|w| idle_ms(w, Clocks::now().lru_now)))
    }

    /// OBJECT FREQ: the key's LFU counter after decay, `None` if it does
    /// not exist. Meaningful while keys are stamped for LFU.
    pub fn frequency(&self, key: &[u8]) -> Result<Option<u32>> {
        let word = self.access_word(key)?;
        let now = Clocks::now().minutes;
        Ok(word.map(|w| self.ks.ctx.access.decayed(w, now)))
    }

    /// The key's access word, read without counting an access.
    fn access_word(&self, key: &[u8]) -> Result<Option<u32>> {
        use super::access::sealed::Access;
        self.read_key(key, |m, h| {
            super::access::peek(m, h, key, self.ctx()).map(|e| e.access().load(Relaxed))
        })
    }

    /// Offers `samples` keys of one random shard to `pool`, scored by
    /// `policy` (only keys with a TTL for a volatile one). `db` is this
    /// keyspace's index in the caller's list, kept with each candidate.
    /// Returns how many keys it sampled: 0 when no shard holds a key that
    /// qualifies (or every pick missed).
    pub fn sample_for_eviction(
        &self,
        policy: Policy,
        samples: usize,
        db: usize,
        clocks: Clocks,
        pool: &mut Pool,
    ) -> usize {
        let volatile = policy.volatile_only();
        self.on_candidate_shard(volatile, |map| {
            let mut pick = |n: usize| fastrand::usize(..n.max(1));
            let mut picked: SmallVec<[&Entry; 16]> = SmallVec::new();
            if volatile {
                picked.extend((0..samples).filter_map(|_| map.random_volatile(&mut pick)));
            } else {
                map.sample(samples, &mut pick, &mut picked);
            }
            for entry in &picked {
                let score = self.score(policy, entry, clocks);
                if pool.admits(score) {
                    pool.offer(score, db, entry.key());
                }
            }
            picked.len()
        })
        .unwrap_or(0)
    }

    /// Runs `f` on the first shard, from a random one on, holding a key a
    /// policy may take (one with a TTL if `volatile_only`), under its read
    /// lock: a sparse keyspace is not passed over for its empty shards.
    /// `None` if no shard holds one.
    fn on_candidate_shard<R>(
        &self,
        volatile_only: bool,
        f: impl FnOnce(&ShardMap) -> R,
    ) -> Option<R> {
        let layout = self.keyspace().layout();
        let active = layout.active.count();
        let total = active + layout.frozen.as_ref().map_or(0, |f| f.count());
        // The i-th shard across the active set and the frozen one, without
        // gathering them: a keyspace has dozens of shards, and a list of
        // them per sample was an allocation per eviction.
        let nth = |i: usize| {
            let (set, at) = if i < active {
                (Some(&layout.active), i)
            } else {
                (layout.frozen.as_ref(), i - active)
            };
            set.map(|s| s.shard(at))
        };
        let start = fastrand::usize(..total.max(1));
        let map = (0..total).find_map(|i| {
            let map = nth((start + i) % total)?.read();
            let candidates = if volatile_only {
                map.volatile()
            } else {
                map.len()
            };
            (candidates > 0).then_some(map)
        })?;
        Some(f(&map))
    }
    /// How `policy` ranks `entry`: higher is evicted first.
    fn score(&self, policy: Policy, entry: &Entry, clocks: Clocks) -> u64 {
        let word = entry.access().load(Relaxed);
        match policy {
            Policy::VolatileTtl => u64::MAX - entry.expiry().unwrap_or(u64::MAX),
            p if p.lfu() => 255 - u64::from(self.ks.ctx.access.decayed(word, clocks.minutes)),
            _ => idle_ms(word, clocks.lru_now),
        }
    }

    /// A random key `policy` may evict (with a TTL for a volatile one).
    fn random_evictable(&self, volatile_only: bool) -> Option<Bytes> {
        self.on_candidate_shard(volatile_only, |map| {
            let mut pick = |n: usize| fastrand::usize(..n.max(1));
            let entry = if volatile_only {
                map.random_volatile(&mut pick)
            } else {
                map.random(&mut pick)
            };
            entry.map(|e| Bytes::copy_from_slice(e.key()))
        })
        .flatten()
    }

    /// Evicts `key` if it is still there (and, for a volatile policy,
    /// still has a TTL): removed with an `evicted` event, logged as a
    /// delete. Returns the bytes its entry held, `None` if it was gone.
    pub fn evict(&self, key: &[u8], volatile_only: bool) -> Result<Option<usize>> {
        self.evict_if(key, |e| !volatile_only || e.expiry().is_some())
    }

    /// Evicts `key` if it is there and `may(entry)` under its shard's
    /// write lock; as `evict`.
    fn evict_if(&self, key: &[u8], may: impl FnOnce(&Entry) -> bool) -> Result<Option<usize>> {
        use super::access::sealed::Access;
        let ctx = self.ctx();
        let removed = self.write_key(key, |m, h| {
            let slot = m.slot(h, key)?;
            if !may(slot.get()) {
                return None;
            }
            let entry = slot.remove();
            ctx.notify(NotifyFlags::EVICTED, "evicted", key);
            Some(entry)
        })?;
        // Freed here, after the shard lock (a big collection on the
        // `tandem-free` thread).
        Ok(removed.map(|e| e.footprint()))
    }

    /// Evicts the oldest key on probation that was not used since it was
    /// created, if probation holds more than its share of the keys: the
    /// used ones it passes leave probation and stay. Returns the bytes
    /// freed, `None` when probation is within its share or runs dry.
    pub fn evict_from_probation(&self, clocks: Clocks) -> Result<Option<usize>> {
        let ctx = &self.ks.ctx;
        let keys = ctx.probation.keys(|| self.ks.len());
        for _ in 0..PROBATION_LOOKS {
            if !ctx.probation.over_share(keys) {
                return Ok(None);
            }
            let Some(key) = ctx.probation.pop() else {
                return Ok(None);
            };
            let unused = |e: &Entry| {
                !ctx.access
                    .used_since_new(e.access().load(Relaxed), clocks.minutes)
            };
            if let Some(bytes) = self.evict_if(&key, unused)? {
                ctx.probation.remember(&key, keys);
                return Ok(Some(bytes));
            }
        }
        Ok(None)
    }
}

/// Keys on probation one eviction may look at before it leaves the
/// choice to LFU: each costs a shard's write lock.
const PROBATION_LOOKS: usize = 64;

/// Evicts one key from `dbs` by `policy`, sampling `samples` keys per
/// database per round (Redis's `maxmemory-samples`). `None` if nothing
/// could be evicted: the policy is `noeviction`, or no key qualifies.
pub fn evict_one(
    dbs: &[Db],
    policy: Policy,
    samples: usize,
    state: &mut EvictState,
) -> Result<Option<Evicted>> {
    if policy == Policy::NoEviction || dbs.is_empty() {
        return Ok(None);
    }
    let volatile = policy.volatile_only();
    if policy.probation() {
        let clocks = Clocks::now();
        for _ in 0..dbs.len() {
            let i = state.next_db % dbs.len();
            state.next_db = state.next_db.wrapping_add(1);
            let Some(db) = dbs.get(i) else { continue };
            if let Some(bytes) = db.evict_from_probation(clocks)? {
                return Ok(Some(Evicted { db: i, bytes }));
            }
        }
    }
    for _ in 0..ROUNDS {
        if policy.random() {
            // Databases take turns, as Redis's `next_db`.
            for _ in 0..dbs.len() {
                let i = state.next_db % dbs.len();
                state.next_db = state.next_db.wrapping_add(1);
                let Some(db) = dbs.get(i) else { continue };
                if let Some(key) = db.random_evictable(volatile) {
                    if let Some(bytes) = db.evict(&key, volatile)? {
                        return Ok(Some(Evicted { db: i, bytes }));
                    }
                }
            }
            continue;
        }
        let clocks = Clocks::now();
        state.resting.resize(dbs.len(), 0);
        let mut asked = 0;
        for (i, db) in dbs.iter().enumerate() {
            let Some(rest) = state.resting.get_mut(i) else {
                continue;
            };
            if *rest > 0 {
                *rest -= 1;
                continue;
            }
            asked += 1;
            if db.sample_for_eviction(policy, samples, i, clocks, &mut state.pool) == 0 {
                *rest = REST;
            }
        }
        if asked == 0 {
            // Every database rests: none may be passed over for good.
            state.resting.fill(0);
        }
        while let Some(best) = state.pool.take_best() {
            let Some(db) = dbs.get(best.db) else { continue };
            if let Some(bytes) = db.evict(&best.key, volatile)? {
                return Ok(Some(Evicted { db: best.db, bytes }));
            }
        }
    }
    Ok(None)
}
