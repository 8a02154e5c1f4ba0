//! One client's state between requests.
//!
//! Owns what a connection remembers: its id, selected database, whether
//! it has authenticated, its name, and whether it must close after the
//! replies already produced. The protocol version lives with the output
//! buffer (`resp::Out`), which is what it changes. Its pub/sub
//! subscriptions live here too: one engine `Subscriber` on the server's
//! hub (channels and patterns) and one on the shard-channel hub.

use bytes::Bytes;
use tandem_engine::pubsub::Subscriber;

/// What a connection does after writing its pending replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Keep serving.
    Continue,
    /// Close this connection (QUIT, or a protocol error).
    Close,
    /// Close it and shut the server down (SHUTDOWN).
    Shutdown,
}

/// A client's state.
#[derive(Debug)]
pub struct Session {
    /// The id CLIENT ID reports.
    pub id: u64,
    /// The selected database.
    pub db: usize,
    /// Whether commands other than AUTH, HELLO, QUIT and RESET may run.
    pub authenticated: bool,
    /// The name given by HELLO SETNAME.
    pub name: Option<Bytes>,
    /// The peer's address, for logs.
    pub peer: String,
    /// What to do once the current replies are written.
    pub after: After,
    /// Channel and pattern subscriptions, once it has subscribed.
    pub sub: Option<Subscriber>,
    /// Shard-channel subscriptions (SSUBSCRIBE), once it has any.
    pub ssub: Option<Subscriber>,
}

impl Session {
    /// A new client's state: database 0, authenticated only if no
    /// password is required.
    pub fn new(id: u64, peer: String, needs_auth: bool) -> Self {
        Self {
            id,
            db: 0,
            authenticated: !needs_auth,
            name: None,
            peer,
            after: After::Continue,
            sub: None,
            ssub: None,
        }
    }

    /// Channels and patterns subscribed to (Redis's subscription count).
    pub fn subscriptions(&self) -> usize {
        self.sub.as_ref().map_or(0, Subscriber::subscription_count)
    }

    /// Shard channels subscribed to.
    pub fn shard_subscriptions(&self) -> usize {
        self.ssub.as_ref().map_or(0, Subscriber::subscription_count)
    }

    /// Whether it holds any subscription: a RESP2 client in this state may
    /// only run the commands that manage them (and PING, QUIT, RESET).
    pub fn subscribed(&self) -> bool {
        self.subscriptions() + self.shard_subscriptions() > 0
    }
}
