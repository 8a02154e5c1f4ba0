//! One client's state between requests.
//!
//! Owns what a connection remembers: its id, selected database, whether
//! it has authenticated, its name, and whether it must close after the
//! replies already produced. The protocol version lives with the output
//! buffer (`resp::Out`), which is what it changes. Its pub/sub
//! subscriptions live here too: one engine `Subscriber` on the server's
//! hub (channels and patterns) and one on the shard-channel hub.

use crate::acl::{Acl, User};
use crate::registry::{ClientEntry, Shown};
use bytes::Bytes;
use std::ops::Range;
use std::sync::Arc;
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
    /// Wait for CLIENT PAUSE to end, then go on with the input already
    /// read (the held-back command is still in it).
    Paused,
    /// Wait for a write to a key the client is blocked on (BLPOP, ...),
    /// its timeout, or CLIENT UNBLOCK, then run the blocking command
    /// again (it is still at the front of the input).
    Blocked,
    /// The next request runs a script: run the rest of the turn on a
    /// stack of its own (`script::stack`), from that request (still at
    /// the front of the input).
    OnStack,
}

/// CLIENT REPLY: which replies the client gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    /// Every reply.
    On,
    /// None.
    Off,
    /// None for the CLIENT REPLY SKIP command itself, then...
    SkipNext,
    /// ...none for the command after it, then back to `On`.
    SkipThis,
}

/// A client's state.
#[derive(Debug)]
pub struct Session {
    /// The id CLIENT ID reports.
    pub id: u64,
    /// The selected database.
    pub db: usize,
    /// Whether it has authenticated (or needed not to): commands other
    /// than AUTH, HELLO, QUIT and RESET may run once it has, or while the
    /// `default` user needs no password.
    pub authenticated: bool,
    /// The user it runs as: `default` until AUTH says otherwise. A copy,
    /// taken again when the ACL's generation moves (`refresh_user`).
    pub user: Arc<User>,
    /// The ACL generation `user` was taken at.
    acl_gen: u64,
    /// Whether `user` may run anything: the permission check is skipped.
    pub unrestricted: bool,
    /// The stats slot of the command it runs now (set at admission), for
    /// its own CLIENT INFO line and ACL log entries.
    pub running: Option<usize>,
    /// The name given by HELLO SETNAME.
    pub name: Option<Bytes>,
    /// The peer's address, for logs.
    pub peer: String,
    /// What to do once the current replies are written.
    pub after: After,
    /// While the connection runs a turn of requests, the `ticks` reading
    /// taken when its last command ended: the next one's slow-log time
    /// starts there, one clock read per command instead of two. `None`
    /// between turns, so that no idle wait is ever counted.
    pub turn_clock: Option<u64>,
    /// Channel and pattern subscriptions, once it has subscribed.
    pub sub: Option<Subscriber>,
    /// Shard-channel subscriptions (SSUBSCRIBE), once it has any.
    pub ssub: Option<Subscriber>,
    /// MONITOR's feed, once it has asked for it.
    pub monitor: Option<Subscriber>,
    /// The transaction being queued, between MULTI and EXEC or DISCARD.
    pub multi: Option<Multi>,
    /// Keys under WATCH, with what they were when watched.
    pub watched: Vec<Watched>,
    /// CLIENT REPLY's mode.
    pub reply: ReplyMode,
    /// Where in the output buffer the current request wrote pushes
    /// (subscription confirmations, also inside EXEC): not replies, so
    /// CLIENT REPLY OFF and SKIP leave them, as Redis 7.0 does.
    pub pushes: Vec<Range<usize>>,
    /// This client in the registry (CLIENT LIST, KILL).
    pub entry: Arc<ClientEntry>,
    /// The wait of a blocking command that found nothing yet.
    pub blocked: Option<crate::blocking::Blocked>,
    /// Whether EXEC is running the queued commands: a blocking command
    /// then answers at once, as in Redis.
    pub in_exec: bool,
    /// Keys written while clients were blocked (database, key), to serve
    /// them from once the request is done (`crate::blocking`).
    pub ready: Vec<(usize, bytes::Bytes)>,
}

/// A transaction being queued.
#[derive(Debug, Default)]
pub struct Multi {
    /// The queued requests, each its arguments (the name first).
    pub queue: Vec<Vec<Bytes>>,
    /// Whether a request failed to queue (unknown command, wrong arity,
    /// a `no-multi` command, ...): EXEC then refuses the whole
    /// transaction.
    pub failed: bool,
    /// Whether a queued request writes (or may replicate, as PUBLISH):
    /// CLIENT PAUSE WRITE then holds EXEC back, as Redis does.
    pub writes: bool,
    /// Whether a queued request may grow memory (`denyoom`): over the
    /// memory bound, EXEC is then refused with `-OOM`, as Redis does.
    pub denyoom: bool,
    /// Whether a queued command runs a script (EXEC then needs a stack of
    /// its own, see `script::stack`).
    pub scripts: bool,
}

/// A key under WATCH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    /// The database it was watched in.
    pub db: usize,
    /// The key.
    pub key: Bytes,
    /// What WATCH saw of it, for EXEC to compare (`KeyValue::unchanged`):
    /// a write, deletion or expiry since always shows as a change.
    pub seen: tandem_engine::Watch,
}

impl Session {
    /// A new client's state: database 0, the `default` user,
    /// authenticated only if that user needs no password.
    pub fn new(entry: Arc<ClientEntry>, acl: &Acl) -> Self {
        let acl_gen = acl.generation();
        let user = acl.default_user();
        Self {
            id: entry.id,
            peer: entry.addr.clone(),
            db: 0,
            authenticated: !acl.auth_required(),
            unrestricted: user.unrestricted(),
            running: None,
            user,
            acl_gen,
            name: None,
            after: After::Continue,
            turn_clock: None,
            sub: None,
            ssub: None,
            monitor: None,
            multi: None,
            watched: Vec::new(),
            reply: ReplyMode::On,
            pushes: Vec::new(),
            entry,
            blocked: None,
            in_exec: false,
            ready: Vec::new(),
        }
    }

    /// Takes its user again if any user changed since it was taken: a
    /// change applies from the next command on. Returns `false` when its
    /// user was deleted meanwhile, or an ACL change closed its client
    /// (ACL LOAD replaces users under the same names): it is then left as
    /// `default`, unauthenticated, and must run nothing more (its
    /// connection is being closed, as Redis frees such a client). The
    /// closing is seen here because the ACL's generation moves again
    /// after the clients are told (`Acl::touch`).
    #[inline]
    pub fn refresh_user(&mut self, acl: &Acl) -> bool {
        let now = acl.generation();
        if now != self.acl_gen {
            self.acl_gen = now;
            if self.entry.kill.is_cancelled() {
                self.user = acl.default_user();
                self.authenticated = false;
                self.unrestricted = false;
                self.after = After::Close;
                return false;
            }
            match acl.user(&self.user.name) {
                Some(u) => self.user = u,
                None => {
                    self.user = acl.default_user();
                    self.authenticated = false;
                    self.unrestricted = false;
                    self.after = After::Close;
                    return false;
                }
            }
            self.unrestricted = self.user.unrestricted();
        }
        true
    }

    /// Runs as `user` from now on (AUTH, HELLO AUTH, RESET), as the
    /// registry shows too.
    pub fn set_user(&mut self, user: Arc<User>) {
        self.entry.set_user(&user.name);
        self.unrestricted = user.unrestricted();
        self.user = user;
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

impl Session {
    /// What CLIENT LIST shows of this session, speaking RESP `resp`.
    pub fn shown(&self, resp: u8) -> Shown {
        let (sub, psub) = self
            .sub
            .as_ref()
            .map_or((0, 0), |s| (s.channels().len(), s.patterns().len()));
        Shown {
            name: self.name.clone(),
            db: self.db,
            sub,
            psub,
            ssub: self.shard_subscriptions(),
            multi: self
                .multi
                .as_ref()
                .map_or(-1, |m| i64::try_from(m.queue.len()).unwrap_or(i64::MAX)),
            resp,
            blocked: self.blocked.is_some(),
            monitor: self.monitor.is_some(),
        }
    }
}
