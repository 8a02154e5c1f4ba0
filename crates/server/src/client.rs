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

use crate::command;
use crate::resp::{Form, Limits, Out, RequestParser};
use crate::session::{After, Session};
use crate::shared::Shared;
use bytes::{Buf, BytesMut};
use smallvec::SmallVec;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UnixStream};
use tokio_util::sync::WaitForCancellationFuture;

/// Bytes read per read call at least.
const READ_CHUNK: usize = 16 * 1024;
/// Most extra input reserved at once for a request still arriving.
const MAX_RESERVE: usize = 1 << 20;
/// An output buffer larger than this is released after its write.
const KEEP_OUT: usize = 4 * 1024;

/// A client socket.
pub enum Socket {
    /// TCP.
    Tcp(TcpStream),
    /// A Unix domain socket.
    Unix(UnixStream),
}

/// A client socket detached from any runtime, to be handed to another.
pub enum StdSocket {
    /// TCP.
    Tcp(std::net::TcpStream),
    /// A Unix domain socket.
    Unix(std::os::unix::net::UnixStream),
}

impl Socket {
    /// Detaches the socket from this runtime's reactor.
    pub fn into_std(self) -> io::Result<StdSocket> {
        Ok(match self {
            Socket::Tcp(s) => StdSocket::Tcp(s.into_std()?),
            Socket::Unix(s) => StdSocket::Unix(s.into_std()?),
        })
    }

    /// Registers a detached socket with the current runtime.
    pub fn from_std(s: StdSocket) -> io::Result<Socket> {
        Ok(match s {
            StdSocket::Tcp(s) => Socket::Tcp(TcpStream::from_std(s)?),
            StdSocket::Unix(s) => Socket::Unix(UnixStream::from_std(s)?),
        })
    }

    async fn readable(&self) -> io::Result<()> {
        match self {
            Socket::Tcp(s) => s.readable().await,
            Socket::Unix(s) => s.readable().await,
        }
    }

    fn try_read_buf(&self, buf: &mut BytesMut) -> io::Result<usize> {
        match self {
            Socket::Tcp(s) => s.try_read_buf(buf),
            Socket::Unix(s) => s.try_read_buf(buf),
        }
    }

    pub(crate) async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Socket::Tcp(s) => s.write_all(bytes).await,
            Socket::Unix(s) => s.write_all(bytes).await,
        }
    }

    async fn shutdown(&mut self) {
        // The peer may already be gone; closing is best effort.
        let _ = match self {
            Socket::Tcp(s) => s.shutdown().await,
            Socket::Unix(s) => s.shutdown().await,
        };
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
}

/// Serves one client until it leaves, misbehaves, idles out, or the
/// server shuts down.
pub async fn serve(mut socket: Socket, session: Session, shared: Arc<Shared>) {
    let mut conn = Connection {
        input: BytesMut::new(),
        parser: RequestParser::default(),
        out: Out::default(),
        session,
    };
    let peer = conn.session.peer.clone();
    match conn.run(&mut socket, &shared).await {
        Ok(()) => {}
        Err(e) => tracing::debug!(%peer, "client connection failed: {e}"),
    }
    socket.shutdown().await;
}

struct Connection {
    input: BytesMut,
    parser: RequestParser,
    out: Out,
    session: Session,
}

impl Connection {
    async fn run(&mut self, socket: &mut Socket, shared: &Shared) -> io::Result<()> {
        // A child token of its own, registered once: polling the server's
        // token itself would take a lock every connection shares on each
        // idle wait, and a fresh wait per read would re-register each time.
        let token = shared.shutdown.child_token();
        let shutdown = token.cancelled();
        tokio::pin!(shutdown);
        loop {
            let config = shared.config.load();
            let timeout = (config.timeout > 0).then(|| Duration::from_secs(config.timeout));
            let limits = Limits {
                max_bulk: config.proto_max_bulk_len,
                max_args: config.proto_max_multibulk_len,
            };
            let query_limit =
                usize::try_from(config.client_query_buffer_limit).unwrap_or(usize::MAX);
            drop(config);
            // A connection that always has input ready never waits on the
            // token below, so it checks the flag each turn.
            if shared.shutdown.is_cancelled() {
                return Ok(());
            }
            match self.read(socket, shutdown.as_mut(), timeout).await? {
                None => {}
                Some(Stop::Gone) => return Ok(()),
                Some(Stop::Idle) => {
                    tracing::debug!(peer = %self.session.peer, "closing idle client");
                    return Ok(());
                }
                Some(Stop::Shutdown) => return Ok(()),
            }
            let after = self.execute_all(shared, limits);
            if !self.out.buf.is_empty() {
                socket.write_all(&self.out.buf).await?;
                self.out.buf.clear();
            }
            match after {
                After::Continue => {}
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

    /// Waits for input and reads it. `None` when bytes were read.
    async fn read(
        &mut self,
        socket: &Socket,
        mut shutdown: Pin<&mut WaitForCancellationFuture<'_>>,
        timeout: Option<Duration>,
    ) -> io::Result<Option<Stop>> {
        loop {
            let ready = async {
                match timeout {
                    Some(t) => tokio::time::timeout(t, socket.readable()).await.ok(),
                    None => Some(socket.readable().await),
                }
            };
            let ready = tokio::select! {
                // Input first: when it is ready (the busy case) the token is
                // not polled at all; `run` checks its flag each turn.
                biased;
                r = ready => r,
                () = &mut shutdown => return Ok(Some(Stop::Shutdown)),
            };
            match ready {
                None => return Ok(Some(Stop::Idle)),
                Some(Err(_)) => return Ok(Some(Stop::Gone)),
                Some(Ok(())) => {}
            }
            self.reserve_input();
            match socket.try_read_buf(&mut self.input) {
                Ok(0) => return Ok(Some(Stop::Gone)),
                Ok(_) => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(_) => return Ok(Some(Stop::Gone)),
            }
        }
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

    /// Runs every complete request in the input buffer, appending replies.
    fn execute_all(&mut self, shared: &Shared, limits: Limits) -> After {
        loop {
            let parsed = match self.parser.parse(&self.input, limits) {
                Ok(Some(p)) => p,
                Ok(None) => return After::Continue,
                Err(e) => {
                    tracing::debug!(peer = %self.session.peer, "protocol error: {}", e.0);
                    self.out.error(&format!("ERR Protocol error: {}", e.0));
                    return After::Close;
                }
            };
            let args: SmallVec<[&[u8]; 8]> = match parsed.form {
                Form::Multibulk => self
                    .parser
                    .ranges
                    .iter()
                    .map(|r| self.input.get(r.clone()).unwrap_or_default())
                    .collect(),
                Form::Inline => self.parser.inline.iter().map(Vec::as_slice).collect(),
                Form::Empty => SmallVec::new(),
            };
            if !args.is_empty() {
                command::execute(&args, &mut self.out, &mut self.session, shared);
            }
            drop(args);
            self.input.advance(parsed.consumed);
            if self.session.after != After::Continue {
                return self.session.after;
            }
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
        if self.parser.ranges.capacity() > 1024 {
            self.parser.ranges = Vec::new();
        }
    }
}
