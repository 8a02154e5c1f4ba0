//! One subscriber's queue, as publishers see it.
//!
//! Owns delivery into a subscriber's queue and the cut-off rule. A
//! publisher never waits here: the queue is unbounded underneath (so a
//! send cannot block), and the byte count kept beside it enforces the
//! limit. A subscriber over its limit is cut off: its queue is emptied at
//! once, a marker tells its receiver why, and the hub drops its
//! subscriptions. Publishers and other subscribers only ever pay for a
//! queue push.

use super::limits::SharedLimits;
use super::message::Message;
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// Why a subscriber was cut off.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CutOff {
    /// Its queue went over the hard limit.
    #[error("subscriber queue reached {queued} bytes, over the hard limit of {limit} bytes")]
    HardLimit {
        /// Bytes queued when it was cut off.
        queued: u64,
        /// The hard limit then in force.
        limit: u64,
    },
    /// Its queue stayed over the soft limit for too long.
    #[error("subscriber queue stayed over the soft limit of {limit} bytes for more than {seconds} s ({queued} bytes queued)")]
    SoftLimit {
        /// Bytes queued when it was cut off.
        queued: u64,
        /// The soft limit then in force.
        limit: u64,
        /// How long it may stay over the soft limit.
        seconds: u64,
    },
}

/// What travels through the queue.
pub(super) enum Item {
    Message(Message),
    /// The subscriber was cut off; the reason is in `Queue::cut`.
    CutOff,
}

/// The result of offering a message to a queue.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Delivered {
    Queued,
    /// Not queued: the subscriber is gone or was cut off before.
    Refused,
    /// Not queued, and this message put the subscriber over its limit: the
    /// caller must drop its subscriptions.
    CutNow,
}

/// The channels and patterns a subscriber holds.
#[derive(Default)]
pub(super) struct Subscriptions {
    pub(super) channels: HashSet<Bytes>,
    pub(super) patterns: HashSet<Bytes>,
}

/// Which kind of subscription: a channel or a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Channel,
    Pattern,
}

impl Subscriptions {
    pub(super) fn count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    pub(super) fn of(&mut self, kind: Kind) -> &mut HashSet<Bytes> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
        }
    }
}

/// A subscriber's queue and state, shared by the hub's registries and the
/// subscriber's handle.
pub(super) struct Queue {
    pub(super) id: u64,
    tx: flume::Sender<Item>,
    pub(super) rx: flume::Receiver<Item>,
    /// Bytes of messages queued and not yet received.
    queued: AtomicU64,
    /// When the queue last went over the soft limit, in ms since `epoch`
    /// plus one; 0 while under it.
    soft_since: AtomicU64,
    epoch: Instant,
    limits: Arc<SharedLimits>,
    pub(super) cut: OnceLock<CutOff>,
    pub(super) subs: Mutex<Subscriptions>,
}

impl Queue {
    pub(super) fn new(id: u64, epoch: Instant, limits: Arc<SharedLimits>) -> Self {
        let (tx, rx) = flume::unbounded();
        Self {
            id,
            tx,
            rx,
            queued: AtomicU64::new(0),
            soft_since: AtomicU64::new(0),
            epoch,
            limits,
            cut: OnceLock::new(),
            subs: Mutex::new(Subscriptions::default()),
        }
    }

    /// Bytes queued and not yet received.
    pub(super) fn queued(&self) -> u64 {
        self.queued.load(Ordering::Acquire)
    }

    /// Offers `msg`, enforcing the limits. Never blocks.
    pub(super) fn deliver(&self, msg: Message) -> Delivered {
        if self.cut.get().is_some() {
            return Delivered::Refused;
        }
        let cost = msg.cost() as u64;
        let queued = self.queued.fetch_add(cost, Ordering::AcqRel) + cost;
        let limits = self.limits.get();
        if limits.hard_bytes > 0 && queued > limits.hard_bytes {
            return self.cut_off(CutOff::HardLimit {
                queued,
                limit: limits.hard_bytes,
            });
        }
        if limits.soft_bytes > 0 && queued > limits.soft_bytes {
            let now = u64::try_from(self.epoch.elapsed().as_millis())
                .unwrap_or(u64::MAX - 1)
                .saturating_add(1);
            if let Err(since) =
                self.soft_since
                    .compare_exchange(0, now, Ordering::AcqRel, Ordering::Acquire)
            {
                if now.saturating_sub(since) > limits.soft_seconds.saturating_mul(1000) {
                    return self.cut_off(CutOff::SoftLimit {
                        queued,
                        limit: limits.soft_bytes,
                        seconds: limits.soft_seconds,
                    });
                }
            }
        }
        match self.tx.send(Item::Message(msg)) {
            Ok(()) => Delivered::Queued,
            Err(_) => Delivered::Refused,
        }
    }

    /// Cuts the subscriber off (once): frees what it has queued and leaves
    /// a marker for its receiver.
    fn cut_off(&self, reason: CutOff) -> Delivered {
        if self.cut.set(reason).is_err() {
            return Delivered::Refused;
        }
        // Empty the queue now rather than when the subscriber next reads:
        // a subscriber that stopped reading may never do so again.
        while self.rx.try_recv().is_ok() {}
        self.queued.store(0, Ordering::Release);
        let _ = self.tx.send(Item::CutOff);
        Delivered::CutNow
    }

    /// Accounts for a message the subscriber took out of the queue.
    pub(super) fn received(&self, msg: &Message) {
        let cost = msg.cost() as u64;
        let before = self.queued.fetch_sub(cost, Ordering::AcqRel);
        let soft = self.limits.get().soft_bytes;
        if before.saturating_sub(cost) <= soft {
            self.soft_since.store(0, Ordering::Release);
        }
    }

    /// Why the subscriber was cut off; for a queue that reports closed
    /// without a reason (it cannot: this queue holds its own sender), the
    /// hard limit with what is queued.
    pub(super) fn reason(&self) -> CutOff {
        self.cut
            .get()
            .cloned()
            .unwrap_or_else(|| CutOff::HardLimit {
                queued: self.queued(),
                limit: self.limits.get().hard_bytes,
            })
    }
}
