//! Eviction's rules: the policies, a key's access word, and the pool of
//! candidates sampling fills.
//!
//! Owns what the policies mean (which keys each may take, and how a
//! sampled key is scored), the access word's stamping (`access`), and
//! `Pool`, the best candidates a thread has seen (Redis's
//! `EvictionPoolLRU`). It never takes a lock or decides when to evict:
//! `Db` samples shards and removes keys (`db/evict.rs`), and whoever
//! watches memory (the server) decides how much.
//!
//! Why a pool per evicting thread and not one for the process: Redis's
//! single thread owns its pool; here any serving thread may evict, and a
//! shared pool would be a lock every eviction takes. Each thread's pool
//! remembers the best of its own samples, which is what makes sampled
//! LRU close to true LRU.

pub mod access;
pub mod probation;

use smallvec::SmallVec;

/// Redis's `maxmemory-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    /// Never evict: writes that need memory are refused (`-OOM`).
    #[default]
    NoEviction,
    /// Any key, least recently used first.
    AllKeysLru,
    /// Any key, least frequently used first.
    AllKeysLfu,
    /// Any key, at random.
    AllKeysRandom,
    /// Keys with a TTL, least recently used first.
    VolatileLru,
    /// Keys with a TTL, least frequently used first.
    VolatileLfu,
    /// Keys with a TTL, at random.
    VolatileRandom,
    /// Keys with a TTL, the soonest to expire first.
    VolatileTtl,
    /// Any key: new keys on probation first, oldest first, unless used
    /// meanwhile (S3-FIFO's small queue and ghost, `probation`), then the
    /// least frequently used (Redis's LFU). Tandem's own, not Redis's.
    AllKeysS3Fifo,
}

impl Policy {
    /// Every policy: Redis's, in Redis's order, then Tandem's own.
    pub const ALL: [Policy; 9] = [
        Policy::VolatileLru,
        Policy::VolatileLfu,
        Policy::VolatileRandom,
        Policy::VolatileTtl,
        Policy::AllKeysLru,
        Policy::AllKeysLfu,
        Policy::AllKeysRandom,
        Policy::NoEviction,
        Policy::AllKeysS3Fifo,
    ];

    /// The policy's name in Redis's configuration.
    pub fn name(self) -> &'static str {
        match self {
            Policy::NoEviction => "noeviction",
            Policy::AllKeysLru => "allkeys-lru",
            Policy::AllKeysLfu => "allkeys-lfu",
            Policy::AllKeysRandom => "allkeys-random",
            Policy::VolatileLru => "volatile-lru",
            Policy::VolatileLfu => "volatile-lfu",
            Policy::VolatileRandom => "volatile-random",
            Policy::VolatileTtl => "volatile-ttl",
            Policy::AllKeysS3Fifo => "allkeys-s3fifo",
        }
    }

    /// The policy named `name` (case-insensitive, as Redis's enum configs).
    pub fn from_name(name: &str) -> Option<Policy> {
        Policy::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }

    /// Whether the policy may only take keys with a TTL.
    pub fn volatile_only(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
    }

    /// Whether keys are stamped for frequency rather than recency.
    pub fn lfu(self) -> bool {
        matches!(
            self,
            Policy::AllKeysLfu | Policy::VolatileLfu | Policy::AllKeysS3Fifo
        )
    }

    /// Whether new keys go on probation before LFU judges them.
    pub fn probation(self) -> bool {
        self == Policy::AllKeysS3Fifo
    }

    /// Whether the policy picks keys at random (no pool).
    pub fn random(self) -> bool {
        matches!(self, Policy::AllKeysRandom | Policy::VolatileRandom)
    }
}

/// The access clocks, read once for a whole round of sampling.
#[derive(Debug, Clone, Copy)]
pub struct Clocks {
    /// The LRU tick clock now.
    pub lru_now: u32,
    /// The LFU minute clock now.
    pub minutes: u32,
}

impl Clocks {
    /// The clocks as they read now.
    pub fn now() -> Clocks {
        let ms = access::clock_ms();
        Clocks {
            lru_now: access::lru_ticks_at(ms),
            minutes: access::minutes_at(ms),
        }
    }
}

/// One candidate for eviction.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Higher is evicted first: idle ms (LRU), 255 minus the counter
    /// (LFU), `u64::MAX` minus the deadline (TTL).
    pub score: u64,
    /// The index of the database holding it, in the caller's list.
    pub db: usize,
    /// The key, inline when short: most candidates are dropped again,
    /// and an allocation for each was a cost of every eviction.
    pub key: SmallVec<[u8; 32]>,
    /// A hash of the key: a key offered again is found by comparing
    /// these first, not 16 keys' bytes on every offer (that memcmp was
    /// a tenth of a cache-full SET's CPU, `docs/BENCHMARKS.md`).
    fingerprint: u64,
}

/// The pool's hash of a key: fixed, so it needs no state.
fn fingerprint(key: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x9001).hash_one(key)
}

/// The best candidates seen so far, lowest score first (Redis keeps 16).
#[derive(Debug, Default)]
pub struct Pool {
    cands: Vec<Candidate>,
}

/// Candidates a pool keeps.
pub const POOL_SIZE: usize = 16;

impl Pool {
    /// Whether a candidate scoring `score` would enter the pool: it has
    /// room, or `score` beats its worst. Lets a sampler skip copying keys
    /// that would be dropped at once.
    pub fn admits(&self, score: u64) -> bool {
        self.cands.len() < POOL_SIZE || self.cands.first().is_some_and(|c| score > c.score)
    }

    /// Offers a candidate; one already pooled (same db and key) is
    /// rescored instead of added twice.
    pub fn offer(&mut self, score: u64, db: usize, key: &[u8]) {
        let fingerprint = fingerprint(key);
        let same =
            |c: &Candidate| c.fingerprint == fingerprint && c.db == db && c.key.as_slice() == key;
        if let Some(i) = self.cands.iter().position(same) {
            self.cands.remove(i);
        } else if !self.admits(score) {
            return;
        } else if self.cands.len() == POOL_SIZE {
            self.cands.remove(0);
        }
        let at = self.cands.partition_point(|c| c.score <= score);
        self.cands.insert(
            at,
            Candidate {
                score,
                db,
                key: SmallVec::from_slice(key),
                fingerprint,
            },
        );
    }

    /// Takes the best candidate.
    pub fn take_best(&mut self) -> Option<Candidate> {
        self.cands.pop()
    }

    /// Forgets every candidate (after FLUSHALL, a policy change, or when
    /// a database's keys are renumbered).
    pub fn clear(&mut self) {
        self.cands.clear();
    }

    /// Candidates held.
    pub fn len(&self) -> usize {
        self.cands.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.cands.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_round_trip_their_names() {
        for p in Policy::ALL {
            assert_eq!(Policy::from_name(p.name()), Some(p));
            assert_eq!(Policy::from_name(&p.name().to_uppercase()), Some(p));
        }
        assert_eq!(Policy::from_name("lru"), None);
    }

    #[test]
    fn the_pool_keeps_the_best_and_gives_the_best_first() {
        let mut pool = Pool::default();
        for i in 0..40u64 {
            // Scores 0..40 in a scrambled order.
            let score = (i * 17) % 40;
            pool.offer(score, 0, format!("k{score}").as_bytes());
        }
        assert_eq!(pool.len(), POOL_SIZE);
        assert!(!pool.admits(24));
        assert!(pool.admits(25));
        let scores: Vec<u64> = std::iter::from_fn(|| pool.take_best())
            .map(|c| c.score)
            .collect();
        assert_eq!(scores, (24..40).rev().collect::<Vec<_>>());
    }

    #[test]
    fn a_key_offered_again_is_rescored_not_repeated() {
        let mut pool = Pool::default();
        pool.offer(5, 0, b"a");
        pool.offer(9, 1, b"a");
        pool.offer(1, 0, b"a");
        assert_eq!(pool.len(), 2);
        let best = pool.take_best().expect("two");
        assert_eq!((best.score, best.db), (9, 1));
        assert_eq!(pool.take_best().map(|c| c.score), Some(1));
    }
}
