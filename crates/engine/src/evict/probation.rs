//! `allkeys-s3fifo`'s probation: the keys created lately, oldest first,
//! and a ghost of the ones evicted from it.
//!
//! Owns S3-FIFO's small queue and ghost queue (Yang et al., "FIFO queues
//! are all you need for cache eviction", SOSP 2023), as this keyspace
//! keeps them: which new keys are on probation, which one is next to
//! leave, and whether a key being created was evicted from probation
//! lately. It never takes a shard lock and never removes a key: `Db`
//! (`db/evict.rs`) decides, under the key's shard lock, whether the key
//! at the head was used while on probation (it stays, judged by LFU from
//! then on) or not (it is evicted, and remembered here).
//!
//! Why it wins over plain sampled LFU: most keys a cache sees are asked
//! for once (a scan, the long tail of a Zipf workload). LFU must sample
//! its way to them; probation meets them in arrival order and evicts
//! them before they cost a popular key its place. A key that comes back
//! soon after such an eviction was not a one-off after all: the ghost
//! sends it straight past probation.
//!
//! No global lock: new keys queue on one of `STRIPES` queues chosen by
//! the creating thread, so two serving threads never share one; an
//! evicting thread takes from its own stripe first. Each stripe is FIFO;
//! across stripes the order is approximate, as the whole policy is.

use parking_lot::Mutex;
use std::collections::VecDeque;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

/// Queues new keys are spread over, by creating thread.
const STRIPES: usize = 8;

/// The share of the keyspace probation may hold before its oldest keys
/// are evicted ahead of anything LFU would pick (S3-FIFO's 10%).
const SHARE_PERCENT: usize = 10;

/// Evictions between two counts of the keyspace: a count takes every
/// shard's read lock, and the share it is compared with moves slowly.
const RECOUNT: usize = 1024;

/// Keys probation holds at most while the keyspace's size is unknown or
/// small: with no eviction to drain it (no bound yet, or not reached),
/// the oldest leave without judgment, as if used, so that a copy of
/// every key created is never kept.
const CAP_MIN: usize = 65_536;

/// A stripe's capacity past which it is shrunk when three quarters empty.
const SHRINK_FROM: usize = 256;

/// The smallest ghost, in remembered keys.
const GHOST_MIN: usize = 1024;

/// The queues and the ghost of one keyspace.
#[derive(Debug)]
pub struct Probation {
    on: AtomicBool,
    stripes: [Mutex<VecDeque<Box<[u8]>>>; STRIPES],
    /// Keys queued on every stripe, counting ones since deleted.
    queued: AtomicUsize,
    ghost: arc_swap::ArcSwap<Ghost>,
    /// The keyspace's size when last counted, and calls of `keys` to go
    /// before the next count.
    keys: AtomicUsize,
    until_recount: AtomicUsize,
}

impl Default for Probation {
    fn default() -> Self {
        Self {
            on: AtomicBool::new(false),
            stripes: Default::default(),
            queued: AtomicUsize::new(0),
            ghost: arc_swap::ArcSwap::from_pointee(Ghost::with_capacity(GHOST_MIN)),
            keys: AtomicUsize::new(0),
            until_recount: AtomicUsize::new(0),
        }
    }
}

/// The fingerprints of keys evicted from probation: a fixed table a key
/// hashes into, each slot keeping the last key that landed there. A
/// collision forgets a key early or, once in 2^31, brings one back that
/// never left: either only moves a key between probation and LFU.
#[derive(Debug)]
struct Ghost {
    slots: Box<[AtomicU32]>,
}

impl Ghost {
    fn with_capacity(n: usize) -> Ghost {
        let n = n.max(GHOST_MIN).next_power_of_two();
        Ghost {
            slots: (0..n).map(|_| AtomicU32::new(0)).collect(),
        }
    }

    fn slot(&self, hash: u64) -> Option<&AtomicU32> {
        let mask = self.slots.len().wrapping_sub(1);
        self.slots.get(hash as usize & mask)
    }
}

/// A key's fingerprint in the ghost: never 0, which marks an empty slot.
fn fingerprint(hash: u64) -> u32 {
    ((hash >> 32) as u32) | 1
}

/// The hash the ghost files keys under: fixed, so it needs no state.
fn hash(key: &[u8]) -> u64 {
    foldhash::fast::FixedState::with_seed(0x5eed_5eed).hash_one(key)
}

/// The stripe this thread queues on and takes from first.
fn home_stripe() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static HOME: usize = NEXT.fetch_add(1, Relaxed) % STRIPES;
    }
    HOME.with(|h| *h)
}

impl Probation {
    /// Turns probation on (`allkeys-s3fifo`) or off, forgetting every
    /// queued and remembered key when it changes.
    pub fn set_on(&self, on: bool) {
        if self.on.swap(on, Relaxed) != on {
            self.clear();
        }
    }

    /// Whether new keys go on probation.
    pub fn is_on(&self) -> bool {
        self.on.load(Relaxed)
    }

    /// Forgets every queued and remembered key (FLUSHDB, a policy change).
    pub fn clear(&self) {
        for stripe in &self.stripes {
            let mut queue = stripe.lock();
            self.queued.fetch_sub(queue.len(), Relaxed);
            *queue = VecDeque::new();
        }
        self.ghost.store(Arc::new(Ghost::with_capacity(
            self.ghost.load().slots.len(),
        )));
        self.until_recount.store(0, Relaxed);
    }

    /// A key is being created: true if it was evicted from probation
    /// lately (it is then no longer remembered, and should count as used
    /// once); else it joins the tail of probation. Does nothing while off.
    pub fn enter(&self, key: &[u8]) -> bool {
        if !self.is_on() {
            return false;
        }
        let h = hash(key);
        let fp = fingerprint(h);
        let ghost = self.ghost.load();
        let back = ghost
            .slot(h)
            .is_some_and(|s| s.compare_exchange(fp, 0, Relaxed, Relaxed).is_ok());
        if !back {
            if let Some(stripe) = self.stripes.get(home_stripe()) {
                let key = Box::from(key);
                // Counted under the stripe's lock, so a clear or a pop
                // never takes away what was not yet added.
                let mut queue = stripe.lock();
                queue.push_back(key);
                self.queued.fetch_add(1, Relaxed);
                if self.queued() > self.cap() && queue.pop_front().is_some() {
                    self.queued.fetch_sub(1, Relaxed);
                }
            }
        }
        back
    }

    /// The keyspace's size as `count` last gave it, counted again every
    /// `RECOUNT` calls. Two evicting threads may both count: no harm.
    pub fn keys(&self, count: impl FnOnce() -> usize) -> usize {
        let left = self.until_recount.load(Relaxed);
        if left > 0 {
            self.until_recount.store(left - 1, Relaxed);
            return self.keys.load(Relaxed);
        }
        self.until_recount.store(RECOUNT, Relaxed);
        let n = count();
        self.keys.store(n, Relaxed);
        n
    }

    /// The most keys probation keeps: twice its share of the keyspace as
    /// last counted, and never less than `CAP_MIN`.
    fn cap(&self) -> usize {
        let share = self.keys.load(Relaxed).saturating_mul(2 * SHARE_PERCENT) / 100;
        share.max(CAP_MIN)
    }

    /// Whether probation holds more than its share of a keyspace of
    /// `keys` keys, so its head should be evicted before anything else.
    pub fn over_share(&self, keys: usize) -> bool {
        self.is_on() && self.queued().saturating_mul(100) > keys.saturating_mul(SHARE_PERCENT)
    }

    /// Keys queued (some may since have been deleted).
    pub fn queued(&self) -> usize {
        self.queued.load(Relaxed)
    }

    /// Takes the oldest key of this thread's stripe, or of the first
    /// other stripe holding one.
    pub fn pop(&self) -> Option<Box<[u8]>> {
        let home = home_stripe();
        (0..STRIPES).find_map(|i| {
            let mut queue = self.stripes.get((home + i) % STRIPES)?.lock();
            let key = queue.pop_front()?;
            self.queued.fetch_sub(1, Relaxed);
            // A cache fills with every key on probation, then evicts down
            // to its share: the room that took is given back, or it would
            // hold memory the keys could use.
            if queue.capacity() > SHRINK_FROM && queue.len() < queue.capacity() / 4 {
                let keep = queue.len() * 2;
                queue.shrink_to(keep);
            }
            Some(key)
        })
    }

    /// Remembers a key evicted from probation, in a ghost sized for a
    /// keyspace of `keys` keys (S3-FIFO's ghost is as long as its main
    /// queue): a smaller ghost is replaced, forgetting what it held.
    pub fn remember(&self, key: &[u8], keys: usize) {
        let mut ghost = self.ghost.load();
        if ghost.slots.len() < keys {
            self.ghost.store(Arc::new(Ghost::with_capacity(keys)));
            ghost = self.ghost.load();
        }
        let h = hash(key);
        if let Some(slot) = ghost.slot(h) {
            slot.store(fingerprint(h), Relaxed);
        }
    }

    /// Slots in the ghost (for the tests of its sizing).
    pub fn ghost_slots(&self) -> usize {
        self.ghost.load().slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_leave_in_the_order_they_came() {
        let p = Probation::default();
        assert!(!p.enter(b"off"), "nothing queues while off");
        assert_eq!(p.queued(), 0);
        p.set_on(true);
        for k in [&b"a"[..], b"b", b"c"] {
            assert!(!p.enter(k));
        }
        assert_eq!(p.queued(), 3);
        assert!(p.over_share(29));
        assert!(!p.over_share(30));
        let order: Vec<Box<[u8]>> = std::iter::from_fn(|| p.pop()).collect();
        assert_eq!(order, [&b"a"[..], b"b", b"c"].map(Box::from));
        assert_eq!(p.queued(), 0);
    }

    #[test]
    fn an_evicted_key_is_remembered_once() {
        let p = Probation::default();
        p.set_on(true);
        p.remember(b"k", 10);
        assert!(p.enter(b"k"), "back from the ghost");
        assert_eq!(p.queued(), 0, "a returning key skips probation");
        assert!(!p.enter(b"k"), "and is forgotten once back");
        assert_eq!(p.queued(), 1);
    }

    #[test]
    fn the_ghost_grows_with_the_keyspace_and_clears_on_a_change() {
        let p = Probation::default();
        p.set_on(true);
        assert_eq!(p.ghost_slots(), GHOST_MIN);
        p.remember(b"k", 5_000);
        assert_eq!(p.ghost_slots(), 8_192);
        p.enter(b"queued");
        p.set_on(false);
        p.set_on(true);
        assert_eq!(p.queued(), 0);
        assert!(!p.enter(b"k"), "a policy change forgets the ghost");
    }

    #[test]
    fn without_evictions_probation_keeps_a_bounded_number_of_keys() {
        let p = Probation::default();
        p.set_on(true);
        for i in 0..100_000u32 {
            p.enter(&i.to_be_bytes());
        }
        assert_eq!(p.queued(), CAP_MIN);
        // The oldest left; the newest are still on probation.
        let first = p.pop().expect("queued");
        assert_eq!(&*first, &(100_000u32 - CAP_MIN as u32).to_be_bytes()[..]);
    }

    #[test]
    fn a_stripe_gives_back_the_room_a_full_probation_took() {
        let p = Probation::default();
        p.set_on(true);
        for i in 0..10_000u32 {
            p.enter(&i.to_be_bytes());
        }
        let room = |p: &Probation| p.stripes.iter().map(|s| s.lock().capacity()).sum::<usize>();
        assert!(room(&p) >= 10_000);
        for _ in 0..9_900 {
            p.pop();
        }
        assert!(room(&p) <= 400, "{}", room(&p));
        assert_eq!(p.pop().as_deref(), Some(&9_900u32.to_be_bytes()[..]));
    }
}
