//! One client's state between requests.
//!
//! Owns what a connection remembers: its id, selected database, whether
//! it has authenticated, its name, and whether it must close after the
//! replies already produced. The protocol version lives with the output
//! buffer (`resp::Out`), which is what it changes. Pub/sub subscriptions
//! and a MULTI queue (issue 6) belong here too.

use bytes::Bytes;

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
        }
    }
}
