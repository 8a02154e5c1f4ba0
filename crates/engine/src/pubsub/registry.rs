//! Who is subscribed to what: channels in lock stripes, patterns in a
//! copy-on-write list.
//!
//! Owns the lookup a publish makes. Channels are spread over 64 stripes by
//! a seeded hash, each a read-write lock around a map from channel to its
//! subscribers: a publish read-locks one stripe, so publishers to
//! different channels share nothing and publishers to the same channel do
//! not block one another. Patterns must all be tried against every
//! channel, so they sit in one list that a publish loads without any lock
//! (`ArcSwap`); (un)subscribing a pattern copies the list, which is cheap
//! for the few patterns servers see.

use super::queue::Queue;
use crate::memtable::Padded;
use crate::scan::glob_match;
use arc_swap::ArcSwap;
use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::Arc;

const STRIPES: usize = 64;

type Subscribers = Vec<Arc<Queue>>;

/// One stripe: channels hashing to it, with their subscribers.
type Stripe = RwLock<HashMap<Bytes, Subscribers>>;

/// Channel subscriptions.
pub(super) struct Channels {
    stripes: Box<[Padded<Stripe>]>,
    hasher: foldhash::fast::RandomState,
}

impl Channels {
    pub(super) fn new() -> Self {
        Self {
            stripes: (0..STRIPES).map(|_| Padded(RwLock::default())).collect(),
            hasher: foldhash::fast::RandomState::default(),
        }
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "`new` makes `STRIPES` stripes and the index is taken modulo `STRIPES`"
    )]
    fn stripe(&self, channel: &[u8]) -> &Stripe {
        let h = self.hasher.hash_one(channel);
        &self.stripes[(h % STRIPES as u64) as usize]
    }

    pub(super) fn add(&self, channel: Bytes, queue: &Arc<Queue>) {
        let mut map = self.stripe(&channel).write();
        map.entry(channel).or_default().push(queue.clone());
    }

    pub(super) fn remove(&self, channel: &[u8], id: u64) {
        let mut map = self.stripe(channel).write();
        if let Some(subs) = map.get_mut(channel) {
            subs.retain(|q| q.id != id);
            if subs.is_empty() {
                map.remove(channel);
            }
        }
    }

    /// Runs `f` on every subscriber of `channel`, under the stripe's read
    /// lock.
    pub(super) fn each(&self, channel: &[u8], mut f: impl FnMut(&Arc<Queue>)) {
        let map = self.stripe(channel).read();
        if let Some(subs) = map.get(channel) {
            subs.iter().for_each(&mut f);
        }
    }

    pub(super) fn count(&self, channel: &[u8]) -> usize {
        self.stripe(channel).read().get(channel).map_or(0, Vec::len)
    }

    /// Channels with at least one subscriber, matching `pattern` if given.
    pub(super) fn names(&self, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let mut out = Vec::new();
        for stripe in self.stripes.iter() {
            let map = stripe.read();
            out.extend(
                map.keys()
                    .filter(|c| pattern.is_none_or(|p| glob_match(p, c)))
                    .cloned(),
            );
        }
        out
    }
}

/// One pattern subscription.
pub(super) struct PatternSub {
    pub(super) pattern: Bytes,
    pub(super) queue: Arc<Queue>,
}

/// Pattern subscriptions.
pub(super) struct Patterns {
    list: ArcSwap<Vec<PatternSub>>,
    /// Serialises writers; readers never take it.
    write: Mutex<()>,
}

impl Patterns {
    pub(super) fn new() -> Self {
        Self {
            list: ArcSwap::from_pointee(Vec::new()),
            write: Mutex::new(()),
        }
    }

    fn update(&self, f: impl FnOnce(&mut Vec<PatternSub>)) {
        let _w = self.write.lock();
        let mut next: Vec<PatternSub> = self
            .list
            .load()
            .iter()
            .map(|p| PatternSub {
                pattern: p.pattern.clone(),
                queue: p.queue.clone(),
            })
            .collect();
        f(&mut next);
        self.list.store(Arc::new(next));
    }

    pub(super) fn add(&self, pattern: Bytes, queue: &Arc<Queue>) {
        let queue = queue.clone();
        self.update(|l| l.push(PatternSub { pattern, queue }));
    }

    pub(super) fn remove(&self, pattern: &[u8], id: u64) {
        self.update(|l| l.retain(|p| !(p.queue.id == id && p.pattern == pattern)));
    }

    /// Runs `f` on every subscription whose pattern matches `channel`.
    pub(super) fn each_match(&self, channel: &[u8], mut f: impl FnMut(&PatternSub)) {
        let list = self.list.load();
        for p in list.iter() {
            if glob_match(&p.pattern, channel) {
                f(p);
            }
        }
    }

    /// Distinct patterns with at least one subscriber (PUBSUB NUMPAT).
    pub(super) fn distinct(&self) -> usize {
        let list = self.list.load();
        list.iter()
            .map(|p| &p.pattern)
            .collect::<HashSet<_>>()
            .len()
    }
}
