//! One client connection: read, parse, execute, reply.
//!
//! Owns a connection's loop and its buffers. Each turn waits until the
//! socket is readable, reads what has arrived, runs every complete request
//! in the buffer, and writes all their replies with one write
//! (pipelining). Requests run on the connection's task: engine calls take
//! only the locks of the shards they touch, briefly, and never await.
//!
//! Memory stays bounded: nothing is reserved for an idle connection's
//! input until bytes arrive, a claimed bulk length grows the buffer only
//! as its bytes arrive, and buffers that grew for a big request are
//! released once it is done. Unparsed input beyond
//! `client-query-buffer-limit` closes the connection.

mod batch;
mod requests;

use crate::command::{self, pubsub};
use crate::config::ClassLimit;
use crate::contained::{panic_message, Contained};
use crate::resp::{Limits, Out, RequestParser};
use crate::session::{After, Session};
use crate::shared::Shared;
use crate::socket::Socket;
use bytes::BytesMut;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tandem_engine::pubsub::{CutOff, Message, Subscriber};
use tokio_util::sync::WaitForCancellationFuture;

/// Bytes read per read call at least.
const READ_CHUNK: usize = 16 * 1024;
/// Most extra input reserved at once for a request still arriving.
const MAX_RESERVE: usize = 1 << 20;
/// An output buffer larger than this is released after its write.
const KEEP_OUT: usize = 4 * 1024;
/// Most bytes of pub/sub messages encoded for one write.
const MESSAGE_BATCH: usize = 64 * 1024;
/// Output a client may have pending before its output limits count it:
/// Redis's fixed reply buffer (`PROTO_REPLY_CHUNK_BYTES`), which its
/// limits never count, so `normal 1000 0 0` still lets a 3 KB reply out.
const REPLY_BUFFER: u64 = 16 * 1024;

/// What woke a waiting connection.
enum Woke {
    /// The socket is readable (`None`: the idle timeout passed first).
    Input(Option<io::Result<()>>),
    /// A message arrived, from the feed named.
    Message(Result<Message, CutOff>, Feed),
    /// Its user's channel rules narrowed (ACL SETUSER): its
    /// subscriptions must be checked again.
    AclCheck,
}

/// Where a connection's messages come from.
#[derive(Clone, Copy)]
enum Feed {
    /// Channels and patterns (SUBSCRIBE, PSUBSCRIBE).
    Channels,
    /// Shard channels (SSUBSCRIBE).
    Shard,
    /// MONITOR's lines, each already a whole reply.
    Monitor,
}

/// Resolves when the client's user's channel rules narrow, for a client
/// holding subscriptions; never for one without.
async fn acl_check(session: &Session) {
    if session.sub.is_some() || session.ssub.is_some() {
        session.entry.acl_check.notified().await;
    } else {
        std::future::pending::<()>().await;
    }
}

/// Writes `msg` from `feed` to `out`.
fn write_fed(out: &mut Out, msg: &Message, feed: Feed) {
    match feed {
        Feed::Channels => pubsub::write_message(out, msg, false),
        Feed::Shard => pubsub::write_message(out, msg, true),
        Feed::Monitor => out.buf.extend_from_slice(msg.payload()),
    }
}

/// The next message for `sub`; never resolves without a subscriber.
async fn next_message(sub: Option<&Subscriber>) -> Result<Message, CutOff> {
    match sub {
        Some(sub) => sub.recv_async().await,
        None => std::future::pending().await,
    }
}

/// Why reading stopped.
enum Stop {
    /// The client closed its end, or the socket failed.
    Gone,
    /// Idle past `timeout`.
    Idle,
    /// The server is shutting down.
    Shutdown,
    /// A subscriber fell too far behind (client-output-buffer-limit
    /// pubsub) and the hub cut it off.
    CutOff(CutOff),
    /// Its user's channel rules changed: see `lost_channels`.
    AclCheck,
}

/// Serves one client until it leaves, misbehaves, idles out, or the
/// server shuts down.
///
/// A panic while serving it is contained here: it closes this connection
/// only, after sending the replies of the requests that completed before
/// it. Left to reach the task, tokio would catch it too and keep the
/// serving thread's other connections going (a current-thread runtime
/// ignores task panics by default), but the log would not say which
/// client or command it was. Whatever the connection held is given back
/// the same way on every path: the session (its subscriptions) drops here,
/// and the caller's `Seat` drops after. The socket is returned, not
/// closed: the caller closes it once it has given all that back, so a
/// client that sees its connection close knows the server forgot it.
pub async fn serve(mut socket: Socket, session: Session, shared: Arc<Shared>) -> Socket {
    let mut conn = Connection {
        input: BytesMut::new(),
        parser: RequestParser::default(),
        out: Out::default(),
        session,
        last_cmd: None,
        running: None,
        shown: (0, 2, None, None, 0, 0, false, false),
    };
    let peer = conn.session.peer.clone();
    let outcome = {
        let run = conn.run(&mut socket, &shared);
        tokio::pin!(run);
        Contained { inner: run }.await
    };
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::debug!(%peer, "client connection failed: {e}"),
        Err(payload) => {
            let cmd = conn
                .running
                .and_then(|r| r.cmd)
                .and_then(|i| command::table().get(i))
                .map_or("-", |s| s.name);
            tracing::error!(
                id = conn.session.id,
                %peer,
                cmd,
                "closing client after a panic while serving it: {}",
                panic_message(payload.as_ref())
            );
            // The replies of the requests that completed before the panic
            // go out; the one it interrupted may be half written. A client
            // that does not read them keeps its seat only until it is
            // killed or the server shuts down.
            if let Some(r) = conn.running {
                conn.out.buf.truncate(r.replied);
                let kill = conn.session.entry.kill.clone();
                tokio::select! {
                    _ = socket.write_all(&conn.out.buf) => {}
                    () = kill.cancelled() => {}
                }
            }
        }
    }
    socket
}

/// The request a connection is running, while it runs.
#[derive(Debug, Clone, Copy)]
struct Running {
    /// Its command (index in the table), if it is a known one.
    cmd: Option<usize>,
    /// How much of the output buffer held complete replies before it.
    replied: usize,
}

struct Connection {
    input: BytesMut,
    parser: RequestParser,
    out: Out,
    session: Session,
    /// The last command run (its index in the table), for CLIENT LIST's
    /// `cmd`.
    last_cmd: Option<usize>,
    /// The request being run, if one is; what a panic log reports.
    running: Option<Running>,
    /// What was last published to the registry, as a cheap fingerprint.
    shown: Fingerprint,
}

/// Database, protocol, name, MULTI queue, subscription counts, blocked
/// and monitoring: when none changed, the registry already shows this
/// client right.
type Fingerprint = (
    usize,
    u8,
    Option<usize>,
    Option<usize>,
    usize,
    usize,
    bool,
    bool,
);

impl Connection {
    async fn run(&mut self, socket: &mut Socket, shared: &Shared) -> io::Result<()> {
        // A child token of its own, registered once: polling the server's
        // token itself would take a lock every connection shares on each
        // idle wait, and a fresh wait per read would re-register each time.
        // It is the registry entry's token, so CLIENT KILL cancels it too.
        let token = self.session.entry.kill.clone();
        let shutdown = token.cancelled();
        tokio::pin!(shutdown);
        // Set when a pause held back input already read: run it before
        // reading more.
        let mut held = false;
        loop {
            let config = shared.config.load();
            let timeout = (config.timeout > 0).then(|| Duration::from_secs(config.timeout));
            let limits = Limits {
                max_bulk: config.proto_max_bulk_len,
                max_args: config.proto_max_multibulk_len,
            };
            let query_limit =
                usize::try_from(config.client_query_buffer_limit).unwrap_or(usize::MAX);
            let output = self.output_class(&config);
            drop(config);
            // A connection that always has input ready never waits on the
            // token below, so it checks the flag each turn.
            if token.is_cancelled() {
                return Ok(());
            }
            let woke = if std::mem::take(&mut held) {
                None
            } else {
                self.read(socket, shutdown.as_mut(), timeout).await?
            };
            match woke {
                None => {}
                Some(Stop::Gone) => return Ok(()),
                Some(Stop::Idle) => {
                    tracing::debug!(peer = %self.session.peer, "closing idle client");
                    return Ok(());
                }
                Some(Stop::Shutdown) => return Ok(()),
                Some(Stop::AclCheck) => {
                    if self.lost_channels(shared) {
                        tracing::info!(
                            id = self.session.id,
                            peer = %self.session.peer,
                            "closing subscriber: its user may no longer use one of its channels"
                        );
                        return Ok(());
                    }
                    continue;
                }
                Some(Stop::CutOff(reason)) => {
                    tracing::warn!(
                        id = self.session.id,
                        peer = %self.session.peer,
                        "client closed for overcoming of output buffer limits: {reason}"
                    );
                    return Ok(());
                }
            }
            // A turn's slow-log clock starts afresh and ends with it.
            self.session.turn_clock = None;
            let mut after = self.execute_all(shared, limits);
            if after == After::OnStack {
                after = crate::script::stack::run(|| self.execute_all(shared, limits)).await;
            }
            self.session.turn_clock = None;
            // Nothing written is acknowledged before it is as durable as
            // `appendfsync` promises; if it cannot be, no reply goes out.
            if let Err(why) = crate::persistence::settle(shared).await {
                tracing::error!(
                    id = self.session.id,
                    peer = %self.session.peer,
                    "closing client: its writes could not be logged ({why})"
                );
                return Ok(());
            }
            // Shown before the replies go out: once a client has its
            // reply (to SUBSCRIBE, say), others see the change too.
            self.show();
            let pending = self.out.buf.len();
            if pending > 0 && !self.flush(socket, output).await? {
                tracing::warn!(
                    id = self.session.id,
                    peer = %self.session.peer,
                    bytes = pending,
                    "client closed for overcoming of output buffer limits"
                );
                return Ok(());
            }
            match after {
                After::Paused => {
                    tokio::select! {
                        () = shared.pause.wait() => {}
                        () = &mut shutdown => return Ok(()),
                    }
                    held = true;
                }
                After::Blocked => {
                    if !self
                        .wait_unblocked(socket, shutdown.as_mut(), query_limit)
                        .await?
                    {
                        return Ok(());
                    }
                    held = true;
                }
                // Not returned from a stack (`execute_all` runs on one to
                // the turn's end).
                After::Continue | After::OnStack => {}
                After::Close => return Ok(()),
                After::Shutdown => {
                    tracing::warn!(peer = %self.session.peer, "SHUTDOWN requested by a client");
                    shared.shutdown.cancel();
                    return Ok(());
                }
            }
            if self.input.len() > query_limit {
                tracing::warn!(
                    peer = %self.session.peer,
                    bytes = self.input.len(),
                    "closing client that reached max query buffer length"
                );
                return Ok(());
            }
            self.release_idle_buffers();
        }
    }

    /// Waits while a blocking command's wait goes on: until a write wakes
    /// it, its deadline passes (marked on the wait, for the command to
    /// answer its timeout), or CLIENT UNBLOCK. Input that arrives meanwhile
    /// is read and kept for after, up to the query buffer limit. `false`
    /// when the client went away, overran that limit, or the server is
    /// shutting down.
    async fn wait_unblocked(
        &mut self,
        socket: &mut Socket,
        mut shutdown: Pin<&mut WaitForCancellationFuture<'_>>,
        query_limit: usize,
    ) -> io::Result<bool> {
        let Some(blocked) = &self.session.blocked else {
            return Ok(true);
        };
        let waiter = blocked.waiter.clone();
        let deadline = blocked.deadline;
        loop {
            let timeout = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = waiter.woken() => return Ok(true),
                () = timeout => {
                    if let Some(b) = self.session.blocked.as_mut() {
                        b.timed_out = true;
                    }
                    return Ok(true);
                }
                () = &mut shutdown => return Ok(false),
                r = socket.readable() => {
                    if r.is_err() {
                        return Ok(false);
                    }
                    self.reserve_input();
                    match socket.try_read_buf(&mut self.input) {
                        Ok(0) => return Ok(false),
                        Ok(_) => {}
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(_) => return Ok(false),
                    }
                    if self.input.len() > query_limit {
                        tracing::warn!(
                            peer = %self.session.peer,
                            bytes = self.input.len(),
                            "closing blocked client that reached max query buffer length"
                        );
                        return Ok(false);
                    }
                }
            }
        }
    }

    /// Waits for input, or for pub/sub messages, and takes them: input is
    /// read into the input buffer, messages are encoded into the output
    /// buffer. `None` when there is something to process or send.
    async fn read(
        &mut self,
        socket: &mut Socket,
        mut shutdown: Pin<&mut WaitForCancellationFuture<'_>>,
        timeout: Option<Duration>,
    ) -> io::Result<Option<Stop>> {
        // As in Redis, the idle timeout spares subscribers and monitors:
        // they may wait for messages as long as they like.
        let timeout = timeout.filter(|_| {
            self.session.sub.is_none()
                && self.session.ssub.is_none()
                && self.session.monitor.is_none()
        });
        // Whether this read had to wait for input (see below).
        let mut waited = false;
        loop {
            let readable = std::future::poll_fn(|cx| {
                let ready = socket.poll_read_ready(cx);
                if ready.is_pending() {
                    waited = true;
                }
                ready
            });
            let ready = async {
                match timeout {
                    Some(t) => tokio::time::timeout(t, readable).await.ok(),
                    None => Some(readable.await),
                }
            };
            let woke = tokio::select! {
                // In order: a narrowed user's subscriber is checked before
                // anything else it does, so that traffic cannot put the check
                // off (for a client without subscriptions it is never
                // ready); then input: when it is ready (the busy case) the
                // rest is not polled at all; `run` checks the shutdown flag
                // each turn.
                biased;
                () = acl_check(&self.session) => Woke::AclCheck,
                r = ready => Woke::Input(r),
                m = next_message(self.session.sub.as_ref()) => Woke::Message(m, Feed::Channels),
                m = next_message(self.session.ssub.as_ref()) => Woke::Message(m, Feed::Shard),
                m = next_message(self.session.monitor.as_ref()) => {
                    Woke::Message(m, Feed::Monitor)
                }
                () = &mut shutdown => return Ok(Some(Stop::Shutdown)),
            };
            match woke {
                Woke::Input(None) => return Ok(Some(Stop::Idle)),
                Woke::Input(Some(Err(_))) => return Ok(Some(Stop::Gone)),
                Woke::Input(Some(Ok(()))) => {}
                Woke::Message(Err(reason), _) => return Ok(Some(Stop::CutOff(reason))),
                Woke::AclCheck => return Ok(Some(Stop::AclCheck)),
                Woke::Message(Ok(msg), feed) => {
                    write_fed(&mut self.out, &msg, feed);
                    return Ok(self.drain_messages().err().map(Stop::CutOff));
                }
            }
            self.reserve_input();
            match socket.try_read_buf(&mut self.input) {
                Ok(0) => return Ok(Some(Stop::Gone)),
                Ok(_) => {
                    if !waited {
                        // The input was there before this connection
                        // looked: its client keeps it fed (a pipeline),
                        // and it has just had a turn. Redis reads each
                        // client once per turn of its event loop; here
                        // the thread's other connections get their turn
                        // first, or one busy client holds another's GET
                        // for as long as tokio's budget lets it run (a
                        // probe's p99 was 30 ms beside 50 pipelining
                        // clients, BENCHMARKS "Taking turns").
                        tokio::task::yield_now().await;
                    }
                    return Ok(None);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(_) => return Ok(Some(Stop::Gone)),
            }
        }
    }

    /// Encodes the messages already queued for this client, up to
    /// `MESSAGE_BATCH` bytes of output: one write carries many messages,
    /// and what is not taken yet stays counted against the subscriber's
    /// limits in the hub.
    fn drain_messages(&mut self) -> Result<(), CutOff> {
        let monitor = self.session.monitor.as_ref();
        let feeds = [
            (self.session.sub.as_ref(), Feed::Channels),
            (self.session.ssub.as_ref(), Feed::Shard),
            (monitor, Feed::Monitor),
        ];
        for (sub, feed) in feeds {
            let Some(sub) = sub else { continue };
            while self.out.buf.len() < MESSAGE_BATCH {
                match sub.try_recv()? {
                    Some(msg) => write_fed(&mut self.out, &msg, feed),
                    None => break,
                }
            }
        }
        Ok(())
    }

    /// The output limits that apply to this client now: a subscriber's
    /// queue is limited in the hub, and the few replies and messages
    /// encoded at a time here are bounded by `MESSAGE_BATCH`, so only
    /// the normal class is checked here.
    fn output_class(&self, config: &crate::config::Config) -> Option<ClassLimit> {
        let normal = config.client_output_buffer_limit.normal;
        let limited = normal.hard > 0 || normal.soft > 0;
        (limited && !self.session.subscribed() && self.session.monitor.is_none()).then_some(normal)
    }

    /// Writes the pending output. `false` when it broke the client's
    /// output limit: over the hard limit at once, or still unwritten after
    /// the soft limit's seconds while over the soft limit.
    async fn flush(&mut self, socket: &mut Socket, limit: Option<ClassLimit>) -> io::Result<bool> {
        let len = (self.out.buf.len() as u64).saturating_sub(REPLY_BUFFER);
        let done = match limit {
            Some(l) if l.hard > 0 && len > l.hard => false,
            Some(l) if l.soft > 0 && len > l.soft => {
                let patience = Duration::from_secs(l.seconds);
                match tokio::time::timeout(patience, socket.write_all(&self.out.buf)).await {
                    Ok(r) => r.map(|()| true)?,
                    Err(_) => false,
                }
            }
            _ => socket.write_all(&self.out.buf).await.map(|()| true)?,
        };
        self.out.buf.clear();
        Ok(done)
    }

    /// Makes room to read into: at least `READ_CHUNK`, and more only for a
    /// request known to need it, never more than `MAX_RESERVE` at once.
    fn reserve_input(&mut self) {
        let wanted = self.parser.need().saturating_sub(self.input.len());
        let room = wanted.clamp(READ_CHUNK, MAX_RESERVE);
        if self.input.capacity() - self.input.len() < room / 2 {
            self.input.reserve(room);
        }
    }

    /// Takes the user's new rules and says whether a channel or pattern
    /// it is subscribed to is no longer allowed: Redis closes such a
    /// subscriber (`ACLKillPubsubClientsIfNeeded`).
    fn lost_channels(&mut self, shared: &Shared) -> bool {
        use crate::acl::check::channel_allowed;
        if !self.session.refresh_user(&shared.acl) {
            return true;
        }
        let user = &self.session.user;
        let mut all = Vec::new();
        if let Some(sub) = &self.session.sub {
            all.extend(sub.patterns().into_iter().map(|p| (p, true)));
            all.extend(sub.channels().into_iter().map(|c| (c, false)));
        }
        if let Some(ssub) = &self.session.ssub {
            all.extend(ssub.channels().into_iter().map(|c| (c, false)));
        }
        all.iter()
            .any(|(c, pattern)| !channel_allowed(user, c, *pattern))
    }

    /// Shows this turn to the registry: when it was, its last command, and
    /// (only when something changed) its name, database, subscriptions.
    fn show(&mut self) {
        let entry = &self.session.entry;
        entry.touch(self.last_cmd);
        let print = (
            self.session.db,
            self.out.resp_version(),
            self.session.name.as_ref().map(|n| n.as_ptr() as usize),
            self.session.multi.as_ref().map(|m| m.queue.len()),
            self.session.subscriptions(),
            self.session.shard_subscriptions(),
            self.session.blocked.is_some(),
            self.session.monitor.is_some(),
        );
        if print != self.shown {
            self.shown = print;
            entry.publish(self.session.shown(self.out.resp_version()));
        }
    }

    /// Gives back memory between turns, so an idle connection holds
    /// almost none: an empty input buffer is freed (the next read takes a
    /// fresh one from the allocator's thread cache, which costs far less
    /// than the read itself), and an output buffer a big reply grew.
    fn release_idle_buffers(&mut self) {
        if self.input.is_empty() {
            self.input = BytesMut::new();
        }
        if self.out.buf.capacity() > KEEP_OUT {
            self.out.buf = BytesMut::new();
        }
        self.parser.release_idle();
    }
}
