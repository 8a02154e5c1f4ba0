//! A client's socket, TCP, TLS or Unix, behind one type: what a
//! connection reads and writes, and what moves between runtimes when a
//! connection changes thread.
//!
//! Owns only the dispatch to the stream types; it must never buffer,
//! parse or hold state of its own (that is the connection's, and for TLS
//! rustls's: `tls::stream`).

use bytes::BytesMut;
use std::io;
use std::task::{Context, Poll};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UnixStream};

use crate::tls::stream::TlsStream;

/// A client socket.
pub enum Socket {
    /// TCP.
    Tcp(TcpStream),
    /// TLS over TCP, its handshake done.
    Tls(Box<TlsStream>),
    /// A Unix domain socket.
    Unix(UnixStream),
}

/// A client socket detached from any runtime, to be handed to another.
pub enum StdSocket {
    /// TCP.
    Tcp(std::net::TcpStream),
    /// TLS: the socket and rustls's side of the session.
    Tls(std::net::TcpStream, Box<rustls::ServerConnection>),
    /// A Unix domain socket.
    Unix(std::os::unix::net::UnixStream),
}

impl Socket {
    /// The local address, as CLIENT LIST's `laddr` shows it.
    pub fn local_addr(&self) -> String {
        match self {
            Socket::Tcp(s) => s
                .local_addr()
                .map_or_else(|_| String::new(), |a| a.to_string()),
            Socket::Tls(s) => s
                .tcp()
                .local_addr()
                .map_or_else(|_| String::new(), |a| a.to_string()),
            Socket::Unix(_) => "unix".to_string(),
        }
    }

    /// Detaches the socket from this runtime's reactor.
    pub fn into_std(self) -> io::Result<StdSocket> {
        Ok(match self {
            Socket::Tcp(s) => StdSocket::Tcp(s.into_std()?),
            Socket::Tls(s) => {
                let (tcp, conn) = s.into_parts();
                StdSocket::Tls(tcp.into_std()?, Box::new(conn))
            }
            Socket::Unix(s) => StdSocket::Unix(s.into_std()?),
        })
    }

    /// Registers a detached socket with the current runtime.
    pub fn from_std(s: StdSocket) -> io::Result<Socket> {
        Ok(match s {
            StdSocket::Tcp(s) => Socket::Tcp(TcpStream::from_std(s)?),
            StdSocket::Tls(s, conn) => {
                Socket::Tls(Box::new(TlsStream::new(TcpStream::from_std(s)?, *conn)))
            }
            StdSocket::Unix(s) => Socket::Unix(UnixStream::from_std(s)?),
        })
    }

    pub(crate) async fn readable(&self) -> io::Result<()> {
        match self {
            Socket::Tcp(s) => s.readable().await,
            Socket::Tls(s) => std::future::poll_fn(|cx| s.poll_read_ready(cx)).await,
            Socket::Unix(s) => s.readable().await,
        }
    }

    /// Ready to read, or `cx` is woken when it is.
    pub(crate) fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            Socket::Tcp(s) => s.poll_read_ready(cx),
            Socket::Tls(s) => s.poll_read_ready(cx),
            Socket::Unix(s) => s.poll_read_ready(cx),
        }
    }

    pub(crate) fn try_read_buf(&mut self, buf: &mut BytesMut) -> io::Result<usize> {
        match self {
            Socket::Tcp(s) => s.try_read_buf(buf),
            Socket::Tls(s) => s.try_read_buf(buf),
            Socket::Unix(s) => s.try_read_buf(buf),
        }
    }

    pub(crate) async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Socket::Tcp(s) => s.write_all(bytes).await,
            Socket::Tls(s) => s.write_all(bytes).await,
            Socket::Unix(s) => s.write_all(bytes).await,
        }
    }

    /// Closes the connection (best effort).
    pub async fn shutdown(&mut self) {
        // The peer may already be gone; closing is best effort.
        let _ = match self {
            Socket::Tcp(s) => s.shutdown().await,
            Socket::Tls(s) => {
                s.shutdown().await;
                Ok(())
            }
            Socket::Unix(s) => s.shutdown().await,
        };
    }
}
