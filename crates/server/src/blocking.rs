//! Clients blocked on keys: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP,
//! BZPOPMIN, BZPOPMAX, BZMPOP, and XREAD with BLOCK.
//!
//! Owns the waiting line of each key and the serving of it. A client
//! whose blocking command finds nothing registers a `Waiter` (what it
//! wants: a pop or a move) at the back of the line of each of its keys,
//! and its connection sleeps on it; no thread blocks. After a client's
//! write command (after EXEC as a whole, for a transaction) its
//! connection calls `serve` with the keys it wrote, before replying: the
//! first waiter in a key's line that waits for the key's type (a list or
//! a sorted set) is served from that key, on the writer's thread, and the
//! next, while the key holds elements, as Redis does in
//! `handleClientsBlockedOnKeys`. A stream's readers take nothing away:
//! every one in its line whose ID the stream's last ID has passed is
//! served from it, first in line first. So clients are served strictly in the
//! order they blocked, an element pushed for a waiting client is never
//! seen by a later request, and a served BLMOVE's push serves the
//! destination's line in turn. The served client is handed what it got
//! and woken to reply.
//!
//! Every change to a line, and every serve, happens under the one lock
//! on the lines, so a waiter is served at most once and never after it
//! left (timed out, unblocked or disconnected). Lock order: the lines,
//! then the engine's shard locks; never the other way.

use crate::databases::Databases;
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tandem_engine::{
    Delivered, End, Error as EngineError, GroupOp, GroupOutcome, Lists, StreamEntry, StreamGroups,
    StreamId, Streams, XRead, ZSets,
};
use tokio::sync::Notify;

/// How CLIENT UNBLOCK ends a wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unblocked {
    /// As if the timeout had passed (CLIENT UNBLOCK ... TIMEOUT).
    Timeout,
    /// With an error (CLIENT UNBLOCK ... ERROR).
    Error,
}

/// What a waiting client wants from the first of its keys that has it.
#[derive(Debug, Clone)]
pub enum Op {
    /// BLPOP, BRPOP (`many` false: one element) and BLMPOP.
    Pop { end: End, count: usize, many: bool },
    /// BLMOVE, BRPOPLPUSH: from the key waited on to `dst`.
    Move { dst: Bytes, from: End, to: End },
    /// BZPOPMIN, BZPOPMAX (`many` false: one member) and BZMPOP: from the
    /// low end, or the high end with `max`.
    ZPop { max: bool, count: usize, many: bool },
    /// XREAD: entries past each key's ID, at most `count` (0: all).
    XRead {
        after: Vec<(Bytes, StreamId)>,
        count: usize,
    },
    /// XREADGROUP with `>`: new entries for `consumer` of `group`.
    XReadGroup {
        group: Bytes,
        consumer: Bytes,
        count: usize,
        noack: bool,
    },
}

/// What a served client got.
#[derive(Debug, Clone, PartialEq)]
pub enum Served {
    /// BLPOP, BRPOP: the key and the element.
    One(Bytes, Bytes),
    /// BLMPOP: the key and the elements.
    Many(Bytes, Vec<Bytes>),
    /// BLMOVE, BRPOPLPUSH: the element.
    Moved(Bytes),
    /// BZPOPMIN, BZPOPMAX: the key, the member and its score.
    Scored(Bytes, Bytes, f64),
    /// BZMPOP: the key and the members with their scores.
    ScoredMany(Bytes, Vec<(Bytes, f64)>),
    /// XREAD: each key read and its entries.
    Streams(Vec<(Bytes, Vec<StreamEntry>)>),
    /// XREADGROUP: each key read and what it delivered.
    Delivered(Vec<(Bytes, Vec<Delivered>)>),
    /// An error line: a reader whose stream or group went away.
    Failed(&'static str),
}

/// How a wait ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Served by a write: what it got (or the error its command met: a
    /// BLMOVE's destination of another type), and the log position the
    /// reply must be settled to.
    Served(Result<Served, EngineError>, u64),
    /// CLIENT UNBLOCK.
    Unblocked(Unblocked),
}

#[derive(Debug)]
enum State {
    Waiting,
    Done(Outcome),
    /// Out of every line, its outcome taken (or never had one).
    Left,
}

/// One blocked client.
#[derive(Debug)]
pub struct Waiter {
    client: u64,
    db: usize,
    /// The keys it waits on, in the order given.
    keys: Vec<Bytes>,
    op: Op,
    woken: Notify,
    /// Changed only under the lines' lock.
    state: Mutex<State>,
}

impl Waiter {
    /// Resolves when it is served or unblocked; a wake-up that came
    /// before the call is not lost.
    pub async fn woken(&self) {
        self.woken.notified().await;
    }

    /// How its wait ended, once it has: taken, so it is answered once.
    pub fn outcome(&self) -> Option<Outcome> {
        let mut state = self.state.lock();
        match std::mem::replace(&mut *state, State::Left) {
            State::Done(outcome) => Some(outcome),
            other => {
                *state = other;
                None
            }
        }
    }
}

type Lines = HashMap<(usize, Bytes), VecDeque<Arc<Waiter>>>;

/// Every blocked client, by key and by client id.
#[derive(Debug, Default)]
pub struct Blocking {
    /// Clients waiting: a write checks this one atomic and nothing else
    /// while no client is blocked.
    waiting: AtomicUsize,
    lines: Mutex<Lines>,
    clients: Mutex<HashMap<u64, Arc<Waiter>>>,
    /// Streams XADD added to since they were last served: only these
    /// serve their readers entries (Redis signals a stream key from XADD
    /// alone; another write to it, such as XDEL or XSETID, serves no
    /// reader, though it may end an XREADGROUP's wait with an error).
    appended: Mutex<HashSet<(usize, Bytes)>>,
}

/// What woke a stream's readers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feed {
    /// Some write to the key: only a key or group gone is answered.
    Write,
    /// XADD: readers whose ID the last ID passed are served.
    Added,
    /// A reader just registered: served if a live entry is past its ID
    /// (an XADD between its first try and its registration).
    Registered,
}

impl Blocking {
    /// Registers `client` at the back of the line of each of `keys` in
    /// database `db`, wanting `op`.
    pub fn wait(&self, client: u64, db: usize, keys: &[&[u8]], op: Op) -> Arc<Waiter> {
        let mut unique: Vec<Bytes> = Vec::with_capacity(keys.len());
        for key in keys {
            if !unique.iter().any(|k| k == key) {
                unique.push(Bytes::copy_from_slice(key));
            }
        }
        let waiter = Arc::new(Waiter {
            client,
            db,
            keys: unique,
            op,
            woken: Notify::new(),
            state: Mutex::new(State::Waiting),
        });
        let mut lines = self.lines.lock();
        for k in &waiter.keys {
            lines
                .entry((db, k.clone()))
                .or_default()
                .push_back(waiter.clone());
        }
        self.clients.lock().insert(client, waiter.clone());
        self.waiting.fetch_add(1, Ordering::Release);
        waiter
    }

    /// Takes `waiter` out of every line (the lines' lock held).
    fn remove(&self, lines: &mut Lines, waiter: &Arc<Waiter>) {
        for k in &waiter.keys {
            let id = (waiter.db, k.clone());
            if let Some(line) = lines.get_mut(&id) {
                line.retain(|w| !Arc::ptr_eq(w, waiter));
                if line.is_empty() {
                    lines.remove(&id);
                }
            }
        }
        let mut clients = self.clients.lock();
        if clients
            .get(&waiter.client)
            .is_some_and(|w| Arc::ptr_eq(w, waiter))
        {
            clients.remove(&waiter.client);
        }
        self.waiting.fetch_sub(1, Ordering::Release);
    }

    /// Ends `waiter`'s wait (timed out, or its client is going): out of
    /// every line. If it was served or unblocked first, that outcome is
    /// returned, to be answered rather than lost.
    pub fn leave(&self, waiter: &Arc<Waiter>) -> Option<Outcome> {
        let mut lines = self.lines.lock();
        let mut state = waiter.state.lock();
        match std::mem::replace(&mut *state, State::Left) {
            State::Waiting => {
                drop(state);
                self.remove(&mut lines, waiter);
                None
            }
            State::Done(outcome) => Some(outcome),
            State::Left => None,
        }
    }

    /// The keys clients wait on in database `db`: what SWAPDB may have
    /// given them (Redis's `scanDatabaseForReadyKeys`).
    pub fn keys_in(&self, db: usize) -> Vec<Bytes> {
        if !self.any() {
            return Vec::new();
        }
        let lines = self.lines.lock();
        lines
            .keys()
            .filter(|(d, _)| *d == db)
            .map(|(_, key)| key.clone())
            .collect()
    }

    /// Whether any client is blocked (one atomic load).
    pub fn any(&self) -> bool {
        self.waiting.load(Ordering::Acquire) > 0
    }

    /// XADD added to stream `key` in `db`: its readers may be served.
    pub fn note_appended(&self, db: usize, key: &[u8]) {
        if self.any() {
            self.appended
                .lock()
                .insert((db, Bytes::copy_from_slice(key)));
        }
    }

    /// A client wrote `ready` (database, key): serves the waiters of each
    /// key, first in line first, while the key holds what they want (see
    /// the module header). Runs on the writer's thread, before its reply.
    pub fn serve(&self, dbs: &Databases, ready: impl IntoIterator<Item = (usize, Bytes)>) {
        self.serve_as(dbs, ready, false);
    }

    /// A client just waited on `ready`: serves what arrived between its
    /// first try and its registration.
    pub fn serve_registered(
        &self,
        dbs: &Databases,
        ready: impl IntoIterator<Item = (usize, Bytes)>,
    ) {
        self.serve_as(dbs, ready, true);
    }

    fn serve_as(
        &self,
        dbs: &Databases,
        ready: impl IntoIterator<Item = (usize, Bytes)>,
        registered: bool,
    ) {
        if !self.any() {
            // No reader left to feed: what XADDs noted is of no use, and
            // would serve a later reader on a write that is no XADD.
            self.appended.lock().clear();
            return;
        }
        let mut ready: VecDeque<(usize, Bytes)> = ready.into_iter().collect();
        let mut lines = self.lines.lock();
        // Reads made to serve the waiters (is the key a list? a sorted
        // set?) are no client's keyspace hits or misses: Redis serves them
        // with write lookups, which count neither.
        tandem_engine::lookups::quietly(|| {
            while let Some((db, key)) = ready.pop_front() {
                let id = (db, key);
                let feed = if registered {
                    Feed::Registered
                } else if self.appended.lock().remove(&id) {
                    Feed::Added
                } else {
                    Feed::Write
                };
                self.serve_readers(&mut lines, dbs, &id, feed);
                loop {
                    let handle = dbs.get(db);
                    // The key's type decides who can be served: the first in
                    // line waiting for that type (Redis 7.0 passes over the
                    // others). A key that is gone or of another type serves
                    // no one; they keep waiting.
                    let is_list = matches!(handle.llen(&id.1), Ok(n) if n > 0);
                    let is_zset = !is_list && matches!(handle.zcard(&id.1), Ok(n) if n > 0);
                    let first = lines.get(&id).and_then(|l| {
                        l.iter()
                            .find(|w| match w.op {
                                Op::Pop { .. } | Op::Move { .. } => is_list,
                                Op::ZPop { .. } => is_zset,
                                Op::XRead { .. } | Op::XReadGroup { .. } => false,
                            })
                            .cloned()
                    });
                    let Some(first) = first else {
                        break;
                    };
                    let got = match &first.op {
                        Op::ZPop { max, count, many } => match handle.zpop(&id.1, *max, *count) {
                            Ok(mut items) if !*many => match items.pop() {
                                Some((member, score)) => {
                                    Ok(Served::Scored(id.1.clone(), member, score))
                                }
                                None => break,
                            },
                            Ok(items) if items.is_empty() => break,
                            Ok(items) => Ok(Served::ScoredMany(id.1.clone(), items)),
                            Err(e) => Err(e),
                        },
                        Op::Pop { end, count, many } => {
                            match handle.lmpop(&[&id.1], *end, *count) {
                                Ok(Some((key, mut items))) if !*many => match items.pop() {
                                    Some(item) => Ok(Served::One(key, item)),
                                    None => break,
                                },
                                Ok(Some((key, items))) => Ok(Served::Many(key, items)),
                                Ok(None) => break,
                                Err(e) => Err(e),
                            }
                        }
                        // Served by `serve_readers`; never found above.
                        Op::XRead { .. } | Op::XReadGroup { .. } => break,
                        Op::Move { dst, from, to } => match handle.lmove(&id.1, dst, *from, *to) {
                            Ok(Some(item)) => {
                                ready.push_back((db, dst.clone()));
                                Ok(Served::Moved(item))
                            }
                            Ok(None) => break,
                            // The source is a list (checked above): the error
                            // is the destination's, and the client's to see.
                            Err(e) => Err(e),
                        },
                    };
                    let lsn = tandem_engine::journal::thread_lsn();
                    *first.state.lock() = State::Done(Outcome::Served(got, lsn));
                    self.remove(&mut lines, &first);
                    first.woken.notify_one();
                }
            }
        });
    }

    /// Serves the stream readers in `id`'s line whose ID (or group's last
    /// ID) the stream's last ID has passed, each with that stream's
    /// entries alone, first in line first (the lines' lock held). A key
    /// that is not a stream serves no XREAD, and ends every XREADGROUP's
    /// wait with an error, as its group went with it; so does a group
    /// destroyed.
    fn serve_readers(&self, lines: &mut Lines, dbs: &Databases, id: &(usize, Bytes), feed: Feed) {
        let readers: Vec<Arc<Waiter>> = match lines.get(id) {
            Some(line) => line
                .iter()
                .filter(|w| matches!(w.op, Op::XRead { .. } | Op::XReadGroup { .. }))
                .cloned()
                .collect(),
            None => return,
        };
        if readers.is_empty() {
            return;
        }
        let handle = dbs.get(id.0);
        let key = &id.1;
        for w in readers {
            let got = match &w.op {
                Op::XRead { after, count } => {
                    let Some(&(_, since)) = after.iter().find(|(k, _)| k == key) else {
                        continue;
                    };
                    if feed == Feed::Write {
                        continue;
                    }
                    match handle.xread(key, since, *count, feed == Feed::Added) {
                        Ok(XRead::Entries(entries)) => {
                            Served::Streams(vec![(key.clone(), entries)])
                        }
                        _ => continue,
                    }
                }
                Op::XReadGroup {
                    group,
                    consumer,
                    count,
                    noack,
                } => {
                    let outcome = if feed == Feed::Write {
                        // Only whether the key and the group are still there.
                        let mut has_group = false;
                        handle
                            .xinspect(key, &mut |s| has_group = s.group(group).is_some())
                            .and_then(|exists| match (exists, has_group) {
                                (false, _) => Err(EngineError::NoStreamKey),
                                (true, false) => Err(EngineError::NoGroup),
                                (true, true) => Ok(GroupOutcome::New(None)),
                            })
                    } else {
                        let op = GroupOp::Read {
                            group,
                            consumer,
                            after: None,
                            count: *count,
                            noack: *noack,
                            blocked: feed == Feed::Added,
                        };
                        handle.xgroup(key, &op)
                    };
                    match outcome {
                        Ok(GroupOutcome::New(Some(entries))) => Served::Delivered(vec![(
                            key.clone(),
                            entries.into_iter().map(Delivered::Entry).collect(),
                        )]),
                        Ok(_) => continue,
                        Err(EngineError::NoGroup) => Served::Failed(
                            "NOGROUP the consumer group this client was blocked on no longer exists",
                        ),
                        Err(_) => Served::Failed("UNBLOCKED the stream key no longer exists"),
                    }
                }
                _ => continue,
            };
            let lsn = tandem_engine::journal::thread_lsn();
            *w.state.lock() = State::Done(Outcome::Served(Ok(got), lsn));
            self.remove(lines, &w);
            w.woken.notify_one();
        }
    }

    /// CLIENT UNBLOCK: ends `client`'s wait as `how` says; whether it was
    /// blocked.
    pub fn unblock(&self, client: u64, how: Unblocked) -> bool {
        let mut lines = self.lines.lock();
        let Some(w) = self.clients.lock().get(&client).cloned() else {
            return false;
        };
        {
            let mut state = w.state.lock();
            if !matches!(*state, State::Waiting) {
                return false;
            }
            *state = State::Done(Outcome::Unblocked(how));
        }
        self.remove(&mut lines, &w);
        w.woken.notify_one();
        true
    }

    /// Clients blocked now (INFO's `blocked_clients`).
    pub fn blocked_clients(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }
}

/// A client's wait, held by its session: leaving the lines when dropped,
/// so a client that disconnects while blocked leaves nothing behind.
#[derive(Debug)]
pub struct Blocked {
    lines: Arc<Blocking>,
    /// Its place in the lines.
    pub waiter: Arc<Waiter>,
    /// When it gives up (`None`: never).
    pub deadline: Option<tokio::time::Instant>,
    /// Set by the connection when `deadline` passed.
    pub timed_out: bool,
}

impl Blocked {
    /// Registers `client` on `keys` (see `Blocking::wait`).
    pub fn new(
        lines: &Arc<Blocking>,
        client: u64,
        db: usize,
        keys: &[&[u8]],
        op: Op,
        deadline: Option<tokio::time::Instant>,
    ) -> Self {
        Self {
            waiter: lines.wait(client, db, keys, op),
            lines: lines.clone(),
            deadline,
            timed_out: false,
        }
    }

    /// How the wait ended, if it has: served, unblocked, or (once the
    /// deadline passed and nothing else came first) `None` with the wait
    /// over. `Err(())` while it goes on.
    pub fn ended(&self) -> Result<Option<Outcome>, ()> {
        if let Some(outcome) = self.waiter.outcome() {
            return Ok(Some(outcome));
        }
        if self.timed_out {
            return Ok(self.lines.leave(&self.waiter));
        }
        Err(())
    }
}

impl Drop for Blocked {
    fn drop(&mut self) {
        // An outcome still here was never answered: the client is gone.
        // (An element it was served is lost to it, as in Redis when a
        // served client disconnects before its reply is written.)
        let _ = self.lines.leave(&self.waiter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaving_and_unblocking_take_a_waiter_out_of_every_line_once() {
        let b = Blocking::default();
        assert!(!b.any());
        let pop = || Op::Pop {
            end: End::Left,
            count: 1,
            many: false,
        };
        let first = b.wait(1, 0, &[b"k", b"other", b"k"], pop());
        let second = b.wait(2, 0, &[b"k"], pop());
        assert_eq!(b.blocked_clients(), 2);
        assert_eq!(
            b.lines
                .lock()
                .get(&(0, Bytes::from_static(b"k")))
                .map(VecDeque::len),
            Some(2)
        );
        assert_eq!(b.leave(&first), None);
        assert_eq!(b.leave(&first), None, "leaving twice changes nothing");
        assert_eq!(b.blocked_clients(), 1);
        assert!(b.unblock(2, Unblocked::Error));
        assert!(!b.unblock(2, Unblocked::Timeout), "no longer blocked");
        assert_eq!(second.outcome(), Some(Outcome::Unblocked(Unblocked::Error)));
        assert_eq!(second.outcome(), None, "answered once");
        assert_eq!(b.leave(&second), None);
        assert!(!b.any());
        assert!(b.lines.lock().is_empty());
        assert!(b.clients.lock().is_empty());
    }
}
