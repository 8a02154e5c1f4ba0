//! A TLS connection after its handshake: rustls over the TCP socket,
//! driven by readiness as the connection drives a plain socket.
//!
//! Owns moving bytes between the socket and rustls: ciphertext read when
//! the socket is readable and no plaintext is waiting, records written
//! until rustls has nothing left. It keeps no request bytes of its own
//! beyond what rustls holds (at most a record or two), and never parses
//! them.

use bytes::BytesMut;
use rustls::ServerConnection;
use std::io::{self, Read, Write};
use std::task::{Context, Poll};
use tokio::net::TcpStream;

/// A TLS connection.
pub struct TlsStream {
    tcp: TcpStream,
    conn: ServerConnection,
    /// Plaintext rustls holds that was not read yet: the socket need not
    /// be readable for a read to find something.
    pending: bool,
}

/// Reads ciphertext without blocking (`WouldBlock` clears the socket's
/// readiness, so the next poll waits for more).
struct TryRead<'a>(&'a TcpStream);

impl Read for TryRead<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buf)
    }
}

/// Writes ciphertext without blocking.
struct TryWrite<'a>(&'a TcpStream);

impl Write for TryWrite<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl TlsStream {
    /// A connection whose handshake is done. Plaintext that came with the
    /// handshake's last flight may already be in `conn`.
    pub fn new(tcp: TcpStream, conn: ServerConnection) -> Self {
        Self {
            tcp,
            conn,
            pending: true,
        }
    }

    /// The TCP socket underneath.
    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    /// Both halves, to move to another runtime.
    pub fn into_parts(self) -> (TcpStream, ServerConnection) {
        (self.tcp, self.conn)
    }

    /// Ready to read (plaintext waiting, or ciphertext arriving), or `cx`
    /// is woken when it is.
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.pending {
            return Poll::Ready(Ok(()));
        }
        self.tcp.poll_read_ready(cx)
    }

    /// Reads the plaintext there is into `buf`: `Ok(0)` at the end of the
    /// stream, `WouldBlock` when none has arrived.
    pub fn try_read_buf(&mut self, buf: &mut BytesMut) -> io::Result<usize> {
        loop {
            let state = match self.conn.process_new_packets() {
                Ok(state) => state,
                Err(e) => {
                    // The alert rustls queued tells the client why.
                    let _ = self.conn.write_tls(&mut TryWrite(&self.tcp));
                    return Err(io::Error::new(io::ErrorKind::InvalidData, e));
                }
            };
            // Session tickets and key updates go out as soon as they can.
            self.send_what_can_go()?;
            let ready = state.plaintext_bytes_to_read();
            if ready > 0 {
                let start = buf.len();
                buf.resize(start + ready, 0);
                let got = match buf.get_mut(start..) {
                    Some(room) => self.conn.reader().read(room)?,
                    None => 0,
                };
                buf.truncate(start + got);
                // A close_notify read with the data is seen on the next
                // read, even if no more bytes (nor a FIN) ever come.
                self.pending = got < ready || state.peer_has_closed();
                return Ok(got);
            }
            self.pending = false;
            if state.peer_has_closed() {
                return Ok(0);
            }
            if self.conn.read_tls(&mut TryRead(&self.tcp))? == 0 {
                return Ok(0);
            }
        }
    }

    /// Writes what rustls has queued, as far as the socket takes it now.
    fn send_what_can_go(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut TryWrite(&self.tcp)) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Writes everything rustls has queued, waiting for the socket.
    async fn flush_tls(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut TryWrite(&self.tcp)) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.tcp.writable().await?,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Encrypts and writes all of `bytes`.
    pub async fn write_all(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let taken = self.conn.writer().write(bytes)?;
            bytes = bytes.get(taken..).unwrap_or_default();
            self.flush_tls().await?;
        }
        self.flush_tls().await
    }

    /// Says goodbye (close_notify) as far as the socket takes it now, and
    /// closes it: never waits for a client that does not read.
    pub async fn shutdown(&mut self) {
        self.conn.send_close_notify();
        let _ = self.send_what_can_go();
        let _ = tokio::io::AsyncWriteExt::shutdown(&mut self.tcp).await;
    }
}
