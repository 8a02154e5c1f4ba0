//! The pub/sub hub: channels, glob patterns, and a bounded queue per
//! subscriber.
//!
//! Owns publishing and subscribing. The hub lives in the engine, so an
//! embedded program gets pub/sub and keyspace notifications without the
//! server, and the server's connections are just subscribers.
//!
//! - **Publishing** looks up the channel's subscribers in one of 64 lock
//!   stripes (read-locked) and tries every pattern from a lock-free
//!   snapshot (`registry`). Each delivery is a push onto the subscriber's
//!   own queue; no publish waits for any subscriber.
//! - **Slow subscribers** are cut off when their queue passes its limit
//!   (`QueueLimits`, Redis's `client-output-buffer-limit pubsub`), with a
//!   reason their next receive returns (`queue`).
//! - **Keyspace notifications** (`notify`) are published here by every
//!   keyspace sharing the hub, switched by `notify-keyspace-events` flags.
//!
//! Messages reach each subscriber in the order they were published to it
//! by one publisher; a keyspace publishes its events under the shard lock
//! of the key, so events on one key arrive in the order they happened.
//!
//! ```
//! use tandem_engine::prelude::*;
//! use tandem_engine::pubsub::NotifyFlags;
//!
//! let db = Db::default();
//! db.hub().set_notify_flags(NotifyFlags::parse(b"Ex").unwrap());
//! let events = db.hub().subscriber();
//! events.subscribe(b"__keyevent@0__:expired");
//! db.set(b"lease", b"worker-7", SetOptions {
//!     ttl: SetTtl::At(Expiry::Millis(50)),
//!     ..SetOptions::default()
//! })?;
//! let m = events.recv().unwrap(); // about 1 ms after the deadline
//! assert_eq!(&m.payload()[..], b"lease");
//!
//! let chat = db.hub().subscriber();
//! chat.psubscribe(b"room.*");
//! assert_eq!(db.hub().publish("room.1", "hi"), 1);
//! assert_eq!(chat.recv().unwrap().pattern().map(|p| &p[..]), Some(&b"room.*"[..]));
//! # Ok::<(), tandem_engine::Error>(())
//! ```

mod limits;
mod message;
mod notify;
mod queue;
mod registry;
mod subscriber;

pub use limits::QueueLimits;
pub use message::Message;
pub(crate) use notify::Notifier;
pub use notify::{InvalidNotifyFlags, NotifyFlags};
pub use queue::CutOff;
pub use subscriber::{Messages, Subscriber};

use bytes::Bytes;
use limits::SharedLimits;
use queue::{Delivered, Kind, Queue};
use registry::{Channels, Patterns};
use smallvec::SmallVec;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// A pub/sub hub. Cheap to clone: clones share subscribers. Several `Db`s
/// (the server's numbered databases) may share one (`Options::hub`).
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    channels: Channels,
    patterns: Patterns,
    limits: Arc<SharedLimits>,
    notify: AtomicU32,
    next_id: AtomicU64,
    /// Channel and pattern subscriptions held, over all subscribers.
    subscriptions: AtomicUsize,
    epoch: Instant,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new(QueueLimits::default())
    }
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field(
                "subscriptions",
                &self.inner.subscriptions.load(Ordering::Relaxed),
            )
            .field("limits", &self.limits())
            .field("notify", &self.notify_flags())
            .finish()
    }
}

impl Hub {
    /// An empty hub whose subscribers' queues are bounded by `limits`.
    pub fn new(limits: QueueLimits) -> Self {
        Self {
            inner: Arc::new(Inner {
                channels: Channels::new(),
                patterns: Patterns::new(),
                limits: Arc::new(SharedLimits::new(limits)),
                notify: AtomicU32::new(0),
                next_id: AtomicU64::new(1),
                subscriptions: AtomicUsize::new(0),
                epoch: Instant::now(),
            }),
        }
    }

    /// A new subscriber, with no subscriptions yet.
    pub fn subscriber(&self) -> Subscriber {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let queue = Queue::new(id, self.inner.epoch, self.inner.limits.clone());
        Subscriber::new(self.clone(), Arc::new(queue))
    }

    /// PUBLISH: delivers `payload` to every subscriber of `channel` and
    /// every pattern subscription matching it. Returns how many deliveries
    /// were queued (a subscriber matching twice counts twice, as in Redis).
    pub fn publish(&self, channel: impl Into<Bytes>, payload: impl Into<Bytes>) -> usize {
        let channel = channel.into();
        let msg = Message::new(channel.clone(), payload.into());
        let mut queued = 0;
        let mut cut: SmallVec<[Arc<Queue>; 2]> = SmallVec::new();
        let mut offer = |q: &Arc<Queue>, m: Message| match q.deliver(m) {
            Delivered::Queued => queued += 1,
            Delivered::Refused => {}
            Delivered::CutNow => cut.push(q.clone()),
        };
        self.inner
            .channels
            .each(&channel, |q| offer(q, msg.clone()));
        self.inner
            .patterns
            .each_match(&channel, |p| offer(&p.queue, msg.through(&p.pattern)));
        // Dropping the subscriptions takes write locks: only after the
        // read locks above are released.
        for q in cut {
            self.forget(&q);
        }
        queued
    }

    /// Whether anyone subscribes to anything: lets keyspace notifications
    /// skip building channel names when nobody listens.
    pub fn has_subscribers(&self) -> bool {
        self.inner.subscriptions.load(Ordering::Relaxed) > 0
    }

    /// PUBSUB CHANNELS: channels with subscribers, matching `pattern`.
    pub fn channels(&self, pattern: Option<&[u8]>) -> Vec<Bytes> {
        self.inner.channels.names(pattern)
    }

    /// PUBSUB NUMSUB for one channel.
    pub fn numsub(&self, channel: &[u8]) -> usize {
        self.inner.channels.count(channel)
    }

    /// PUBSUB NUMPAT: distinct patterns subscribed to.
    pub fn numpat(&self) -> usize {
        self.inner.patterns.distinct()
    }

    /// The queue limits in force.
    pub fn limits(&self) -> QueueLimits {
        self.inner.limits.get()
    }

    /// Changes the queue limits for every subscriber, from the next message.
    pub fn set_limits(&self, limits: QueueLimits) {
        self.inner.limits.set(limits);
    }

    /// The keyspace notification flags in force (default: none).
    pub fn notify_flags(&self) -> NotifyFlags {
        NotifyFlags::from_bits(self.notify_bits())
    }

    /// Switches keyspace notifications for every keyspace on this hub.
    pub fn set_notify_flags(&self, flags: NotifyFlags) {
        self.inner.notify.store(flags.bits(), Ordering::Relaxed);
    }

    pub(crate) fn notify_bits(&self) -> u32 {
        self.inner.notify.load(Ordering::Relaxed)
    }

    /// SUBSCRIBE or PSUBSCRIBE; returns the subscriptions `q` then holds.
    fn add(&self, q: &Arc<Queue>, kind: Kind, name: &[u8]) -> usize {
        let mut subs = q.subs.lock();
        let name = Bytes::copy_from_slice(name);
        if q.cut.get().is_none() && subs.of(kind).insert(name.clone()) {
            match kind {
                Kind::Channel => self.inner.channels.add(name, q),
                Kind::Pattern => self.inner.patterns.add(name, q),
            }
            self.inner.subscriptions.fetch_add(1, Ordering::Relaxed);
        }
        subs.count()
    }

    /// UNSUBSCRIBE or PUNSUBSCRIBE; returns the subscriptions left.
    fn remove(&self, q: &Arc<Queue>, kind: Kind, name: &[u8]) -> usize {
        let mut subs = q.subs.lock();
        if subs.of(kind).remove(name) {
            self.unregister(kind, name, q.id);
        }
        subs.count()
    }

    fn unregister(&self, kind: Kind, name: &[u8], id: u64) {
        match kind {
            Kind::Channel => self.inner.channels.remove(name, id),
            Kind::Pattern => self.inner.patterns.remove(name, id),
        }
        self.inner.subscriptions.fetch_sub(1, Ordering::Relaxed);
    }

    /// Drops every subscription of `q` (cut off, or its handle dropped).
    fn forget(&self, q: &Arc<Queue>) {
        let mut subs = q.subs.lock();
        for kind in [Kind::Channel, Kind::Pattern] {
            for name in subs.of(kind).drain() {
                self.unregister(kind, &name, q.id);
            }
        }
    }
}
