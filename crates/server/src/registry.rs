//! The registry of connected clients, for CLIENT LIST, INFO and KILL.
//!
//! Owns what one connection shows to others. Each connection registers
//! once when admitted and leaves when it closes (one lock each time, never
//! per request). Per request it only stores into its own entry: the time
//! of its last turn and its last command, relaxed atomics on a cache line
//! no other connection writes. What changes rarely (name, database,
//! subscriptions, MULTI) is published under the entry's own lock when it
//! changes. Killing a client cancels its token, which its connection
//! waits on.

use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

/// What CLIENT LIST shows of a client that changes only now and then.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shown {
    /// CLIENT SETNAME's name.
    pub name: Option<Bytes>,
    /// Selected database.
    pub db: usize,
    /// Channels subscribed to.
    pub sub: usize,
    /// Patterns subscribed to.
    pub psub: usize,
    /// Shard channels subscribed to.
    pub ssub: usize,
    /// Commands queued in MULTI, -1 outside one.
    pub multi: i64,
    /// Protocol version, 2 or 3.
    pub resp: u8,
    /// Waiting in a blocking command (flag `b`).
    pub blocked: bool,
    /// In MONITOR mode (flag `O`).
    pub monitor: bool,
}

/// One connected client as others see it.
#[derive(Debug)]
pub struct ClientEntry {
    /// Its id.
    pub id: u64,
    /// The peer's address (`ip:port`, or `unix`).
    pub addr: String,
    /// The local address it connected to.
    pub laddr: String,
    /// When it connected.
    pub created: Instant,
    /// Cancelled to close it (CLIENT KILL), or by shutdown (a child of the
    /// server's token).
    pub kill: CancellationToken,
    /// Milliseconds after `created` of its last turn.
    last_active_ms: AtomicU64,
    /// Its last command, as its stats slot (a subcommand has its own, so
    /// CLIENT LIST shows `client|list` as Redis 7.0 does).
    last_cmd: AtomicU64,
    /// CLIENT NO-EVICT.
    pub no_evict: AtomicBool,
    shown: Mutex<Shown>,
    /// The user it runs as (CLIENT LIST's `user`, CLIENT KILL USER, ACL
    /// DELUSER), set when it authenticates.
    user: Mutex<Vec<u8>>,
    /// Woken when its user's channel permissions narrow: a subscribed
    /// connection waits on it and checks its subscriptions again.
    pub acl_check: tokio::sync::Notify,
}

impl ClientEntry {
    /// Records a turn, with the last command run.
    pub fn touch(&self, last_cmd: Option<usize>) {
        let ms = u64::try_from(self.created.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_active_ms.store(ms, Ordering::Relaxed);
        // None (an unknown command) shows as NULL.
        let slot = last_cmd.and_then(|i| u64::try_from(i).ok());
        self.last_cmd
            .store(slot.unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// Records the user it now runs as.
    pub fn set_user(&self, name: &[u8]) {
        let mut user = self.user.lock();
        if *user != name {
            *user = name.to_vec();
        }
    }

    /// The user it runs as.
    pub fn user(&self) -> Vec<u8> {
        self.user.lock().clone()
    }

    /// Whether it runs as `name`.
    pub fn is_user(&self, name: &[u8]) -> bool {
        *self.user.lock() == name
    }

    /// Publishes what the client shows now (CLIENT LIST and INFO show
    /// the asking client as it is, not as of its last turn).
    pub fn publish(&self, shown: Shown) {
        *self.shown.lock() = shown;
    }

    /// The CLIENT LIST line (without the newline), in Redis's field order
    /// for the fields Tandem tracks. `command_name` maps a command's stats
    /// slot to its name: the table lives above the registry, which only
    /// stores the slot. `running` is the command the client runs now, for
    /// its own line (CLIENT INFO, its ACL log entries): Redis shows that
    /// one, with no idle time, where other clients' lines show their last.
    pub fn line(
        &self,
        command_name: impl Fn(usize) -> Option<&'static str>,
        running: Option<usize>,
    ) -> String {
        let shown = self.shown.lock().clone();
        let age = self.created.elapsed().as_secs();
        let idle_ms = match running {
            Some(_) => 0,
            None => u64::try_from(self.created.elapsed().as_millis())
                .unwrap_or(u64::MAX)
                .saturating_sub(self.last_active_ms.load(Ordering::Relaxed)),
        };
        let mut flags = String::new();
        // Redis's order: O, then P, x, b, ...
        if shown.monitor {
            flags.push('O');
        }
        if shown.sub + shown.psub + shown.ssub > 0 {
            flags.push('P');
        }
        if shown.multi >= 0 {
            flags.push('x');
        }
        if shown.blocked {
            flags.push('b');
        }
        if self.no_evict.load(Ordering::Relaxed) {
            flags.push('e');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        let cmd = running
            .or_else(|| usize::try_from(self.last_cmd.load(Ordering::Relaxed)).ok())
            .and_then(command_name)
            .unwrap_or("NULL");
        let name = shown
            .name
            .as_ref()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default();
        format!(
            "id={} addr={} laddr={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} cmd={} user={} resp={}",
            self.id,
            self.addr,
            self.laddr,
            name,
            age,
            idle_ms / 1000,
            flags,
            shown.db,
            shown.sub,
            shown.psub,
            shown.ssub,
            shown.multi,
            cmd,
            String::from_utf8_lossy(&self.user.lock()),
            shown.resp
        )
    }

    /// Whether it is a pub/sub client (CLIENT LIST TYPE pubsub).
    pub fn is_pubsub(&self) -> bool {
        let s = self.shown.lock();
        s.sub + s.psub + s.ssub > 0
    }
}

/// Every connected client, by id.
#[derive(Debug, Default)]
pub struct Clients {
    map: Mutex<HashMap<u64, Arc<ClientEntry>>>,
}

impl Clients {
    /// Registers a new client.
    pub fn register(
        &self,
        id: u64,
        addr: String,
        laddr: String,
        kill: CancellationToken,
    ) -> Arc<ClientEntry> {
        let entry = Arc::new(ClientEntry {
            id,
            addr,
            laddr,
            created: Instant::now(),
            kill,
            last_active_ms: AtomicU64::new(0),
            last_cmd: AtomicU64::new(u64::MAX),
            no_evict: AtomicBool::new(false),
            shown: Mutex::new(Shown {
                multi: -1,
                resp: 2,
                ..Shown::default()
            }),
            user: Mutex::new(b"default".to_vec()),
            acl_check: tokio::sync::Notify::new(),
        });
        self.map.lock().insert(id, Arc::clone(&entry));
        entry
    }

    /// Forgets a client that has closed.
    pub fn remove(&self, id: u64) {
        self.map.lock().remove(&id);
    }

    /// Every client, by id.
    pub fn all(&self) -> Vec<Arc<ClientEntry>> {
        let mut all: Vec<_> = self.map.lock().values().cloned().collect();
        all.sort_by_key(|e| e.id);
        all
    }
}
