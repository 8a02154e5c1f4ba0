//! `Subscriber`: a subscriber's handle, for subscribing and receiving.
//!
//! Owns the receiving side: blocking, non-blocking, async and as a
//! `Stream`. A receive after a cut-off returns the reason; the queued
//! messages were already dropped. Dropping the handle unsubscribes
//! everything.

use super::message::Message;
use super::queue::{CutOff, Item, Kind, Queue};
use super::Hub;
use bytes::Bytes;
use futures_core::Stream;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// One subscriber of a `Hub`: its subscriptions and its queue.
///
/// Receive with `recv` (blocking), `try_recv`, `recv_timeout`,
/// `recv_async`, or `stream`. Each method returns `Err(CutOff)` once the
/// subscriber has been cut off for falling behind.
pub struct Subscriber {
    hub: Hub,
    queue: Arc<Queue>,
}

impl std::fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriber")
            .field("id", &self.queue.id)
            .field("subscriptions", &self.subscription_count())
            .field("queued_bytes", &self.queue.queued())
            .finish()
    }
}

impl Subscriber {
    pub(super) fn new(hub: Hub, queue: Arc<Queue>) -> Self {
        Self { hub, queue }
    }

    /// SUBSCRIBE to one channel. Returns how many channels and patterns
    /// this subscriber now holds (Redis's reply count).
    pub fn subscribe(&self, channel: &[u8]) -> usize {
        self.hub.add(&self.queue, Kind::Channel, channel)
    }

    /// UNSUBSCRIBE from one channel. Returns the subscriptions left.
    pub fn unsubscribe(&self, channel: &[u8]) -> usize {
        self.hub.remove(&self.queue, Kind::Channel, channel)
    }

    /// PSUBSCRIBE to one glob pattern (Redis syntax). Returns the
    /// subscriptions held afterwards.
    pub fn psubscribe(&self, pattern: &[u8]) -> usize {
        self.hub.add(&self.queue, Kind::Pattern, pattern)
    }

    /// PUNSUBSCRIBE from one pattern. Returns the subscriptions left.
    pub fn punsubscribe(&self, pattern: &[u8]) -> usize {
        self.hub.remove(&self.queue, Kind::Pattern, pattern)
    }

    /// The channels subscribed to, in no particular order.
    pub fn channels(&self) -> Vec<Bytes> {
        self.queue.subs.lock().channels.iter().cloned().collect()
    }

    /// The patterns subscribed to, in no particular order.
    pub fn patterns(&self) -> Vec<Bytes> {
        self.queue.subs.lock().patterns.iter().cloned().collect()
    }

    /// Channels plus patterns subscribed to.
    pub fn subscription_count(&self) -> usize {
        self.queue.subs.lock().count()
    }

    /// Bytes of messages waiting to be received (see `Message::cost`).
    pub fn queued_bytes(&self) -> u64 {
        self.queue.queued()
    }

    /// Why this subscriber was cut off, if it was.
    pub fn cut_off(&self) -> Option<CutOff> {
        self.queue.cut.get().cloned()
    }

    fn take(&self, item: Item) -> Result<Message, CutOff> {
        match item {
            Item::Message(m) => {
                self.queue.received(&m);
                // A message taken after a cut-off was queued before it;
                // the cut-off was already reported or is reported now.
                match self.queue.cut.get() {
                    Some(reason) => Err(reason.clone()),
                    None => Ok(m),
                }
            }
            Item::CutOff => Err(self.queue.reason()),
        }
    }

    /// The next message, waiting for one.
    pub fn recv(&self) -> Result<Message, CutOff> {
        self.check()?;
        match self.queue.rx.recv() {
            Ok(item) => self.take(item),
            Err(_) => Err(self.queue.reason()),
        }
    }

    /// The next message if one is queued.
    pub fn try_recv(&self) -> Result<Option<Message>, CutOff> {
        self.check()?;
        match self.queue.rx.try_recv() {
            Ok(item) => self.take(item).map(Some),
            Err(flume::TryRecvError::Empty) => Ok(None),
            Err(flume::TryRecvError::Disconnected) => Err(self.queue.reason()),
        }
    }

    /// The next message, waiting at most `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Option<Message>, CutOff> {
        self.check()?;
        match self.queue.rx.recv_timeout(timeout) {
            Ok(item) => self.take(item).map(Some),
            Err(flume::RecvTimeoutError::Timeout) => Ok(None),
            Err(flume::RecvTimeoutError::Disconnected) => Err(self.queue.reason()),
        }
    }

    /// The next message, awaiting one.
    pub async fn recv_async(&self) -> Result<Message, CutOff> {
        self.check()?;
        match self.queue.rx.recv_async().await {
            Ok(item) => self.take(item),
            Err(_) => Err(self.queue.reason()),
        }
    }

    /// The messages as an async stream. It yields `Err` once if the
    /// subscriber is cut off, then ends.
    pub fn stream(&self) -> Messages<'_> {
        Messages {
            sub: self,
            inner: self.queue.rx.stream(),
            done: false,
        }
    }

    fn check(&self) -> Result<(), CutOff> {
        match self.queue.cut.get() {
            Some(reason) => Err(reason.clone()),
            None => Ok(()),
        }
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.hub.forget(&self.queue);
    }
}

/// A subscriber's messages as a `Stream` (see `Subscriber::stream`).
pub struct Messages<'a> {
    sub: &'a Subscriber,
    inner: flume::r#async::RecvStream<'a, Item>,
    done: bool,
}

impl Stream for Messages<'_> {
    type Item = Result<Message, CutOff>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        let next = match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Some(item)) => self.sub.take(item),
            Poll::Ready(None) => Err(self.sub.queue.reason()),
        };
        self.done = next.is_err();
        Poll::Ready(Some(next))
    }
}
