//! `Message`: what a subscriber receives.
//!
//! Owns the shape of a delivered message and its cost against a
//! subscriber's queue limit. The channel and payload sit behind one shared
//! allocation, so fanning a message out to a thousand subscribers costs a
//! thousand reference-count increments, not a thousand copies.

use bytes::Bytes;
use std::sync::Arc;

/// A published message, as one subscriber receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The pattern that matched, for a pattern subscription.
    pattern: Option<Bytes>,
    body: Arc<Body>,
}

#[derive(Debug, PartialEq, Eq)]
struct Body {
    channel: Bytes,
    payload: Bytes,
}

/// Approximate framing bytes of a RESP `message` push (`*3`, the word
/// "message", three length headers); a `pmessage` adds its pattern.
const FRAMING: usize = 32;

impl Message {
    pub(crate) fn new(channel: Bytes, payload: Bytes) -> Self {
        Self {
            pattern: None,
            body: Arc::new(Body { channel, payload }),
        }
    }

    /// The same message, as delivered through pattern `pattern`.
    pub(crate) fn through(&self, pattern: &Bytes) -> Self {
        Self {
            pattern: Some(pattern.clone()),
            body: self.body.clone(),
        }
    }

    /// The channel it was published to.
    pub fn channel(&self) -> &Bytes {
        &self.body.channel
    }

    /// What was published.
    pub fn payload(&self) -> &Bytes {
        &self.body.payload
    }

    /// The pattern this subscriber matched it with (`PMESSAGE`), or `None`
    /// for a channel subscription (`MESSAGE`).
    pub fn pattern(&self) -> Option<&Bytes> {
        self.pattern.as_ref()
    }

    /// What the message counts against a queue limit: about the bytes its
    /// RESP reply takes, as Redis counts its output buffer.
    pub fn cost(&self) -> usize {
        let pattern = self.pattern.as_ref().map_or(0, |p| p.len() + 16);
        FRAMING + self.body.channel.len() + self.body.payload.len() + pattern
    }
}
