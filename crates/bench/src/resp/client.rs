//! A blocking RESP client over TCP where every read has a deadline: it
//! writes exactly the bytes it is given and reads the server's replies
//! frame by frame, as the bytes arrived.
//!
//! Owns the connection, its read buffer and the deadlines. It never
//! sends anything it was not asked to (no HELLO, no CLIENT SETINFO), never
//! interprets a reply beyond framing it, and never waits without a
//! deadline, so a server that hangs fails its caller instead of stalling
//! it. The server's integration tests build their helpers on it.

use super::{command, parse, ReadBuf, Reply};
use std::io::{self, ErrorKind, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// What one read brought.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// Some bytes, now in the buffer.
    Data,
    /// The server closed the connection (or reset it: a server that
    /// closes with unread input sends a reset).
    Closed,
    /// Nothing before the deadline.
    TimedOut,
}

/// Why no whole reply came.
#[derive(Debug)]
pub enum ReadError {
    /// The deadline passed first.
    TimedOut,
    /// The server closed the connection first.
    Closed,
    /// The bytes are not RESP, or the socket failed.
    Io(io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::TimedOut => f.write_str("timed out waiting for the server"),
            ReadError::Closed => f.write_str("connection closed before a whole reply"),
            ReadError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// One connection to a RESP server.
pub struct Client {
    stream: TcpStream,
    /// Bytes received and not yet returned.
    buf: ReadBuf,
    /// Whether the server has closed the connection.
    closed: bool,
}

impl Client {
    /// Connects to `addr`, giving up after `timeout`; writes that block
    /// longer than `timeout` fail too. Each write goes out at once
    /// (`TCP_NODELAY`), so requests split by the caller stay split.
    pub fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<Client> {
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_nodelay(true)?;
        stream.set_write_timeout(Some(timeout))?;
        Ok(Client {
            stream,
            // Small: tests open a thousand clients at once, and the buffer
            // doubles whenever one reply is larger.
            buf: ReadBuf::new(4096),
            closed: false,
        })
    }

    /// The socket, for its addresses and options.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Sends `bytes` as one write.
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Sends one command as a RESP array of bulk strings.
    pub fn send_command(&mut self, args: &[&[u8]]) -> io::Result<()> {
        let mut out = Vec::new();
        command(&mut out, args);
        self.send(&out)
    }

    /// Bytes received and not yet taken as a reply.
    pub fn pending(&self) -> &[u8] {
        self.buf.data()
    }

    /// Takes every byte received and not yet taken.
    pub fn take_pending(&mut self) -> Vec<u8> {
        let bytes = self.buf.data().to_vec();
        self.buf.consume(bytes.len());
        bytes
    }

    /// Reads once more, waiting until `deadline`.
    pub fn fill(&mut self, deadline: Instant) -> io::Result<Fill> {
        if self.closed {
            return Ok(Fill::Closed);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(Fill::TimedOut);
        }
        self.stream.set_read_timeout(Some(left))?;
        match self.buf.fill_blocking(&mut self.stream) {
            Ok(0) => {
                self.closed = true;
                Ok(Fill::Closed)
            }
            Ok(_) => Ok(Fill::Data),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Ok(Fill::TimedOut)
            }
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {
                self.closed = true;
                Ok(Fill::Closed)
            }
            Err(e) => Err(e),
        }
    }

    /// The next whole reply as the exact bytes the server sent, waiting
    /// until `deadline` for it to arrive.
    pub fn frame(&mut self, deadline: Instant) -> Result<Vec<u8>, ReadError> {
        loop {
            if let Some((_, len)) = parse(self.buf.data())? {
                let bytes = self.buf.data().get(..len).unwrap_or_default().to_vec();
                self.buf.consume(len);
                return Ok(bytes);
            }
            match self.fill(deadline)? {
                Fill::Data => {}
                Fill::TimedOut => return Err(ReadError::TimedOut),
                Fill::Closed => return Err(ReadError::Closed),
            }
        }
    }

    /// The next whole reply, parsed, to `f`; waits until `deadline`.
    pub fn reply<T>(
        &mut self,
        deadline: Instant,
        f: impl FnOnce(&Reply<'_>) -> T,
    ) -> Result<T, ReadError> {
        let frame = self.frame(deadline)?;
        match parse(&frame)? {
            Some((reply, _)) => Ok(f(&reply)),
            // `frame` returned exactly one whole reply.
            None => Err(ReadError::Closed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    #[test]
    fn reads_frames_as_sent_and_sees_the_close() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (go_on, wait) = std::sync::mpsc::channel::<()>();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut req = [0u8; 14];
            s.read_exact(&mut req).unwrap();
            assert_eq!(&req, b"*1\r\n$4\r\nPING\r\n");
            // One reply split in two, then a RESP3 map, then close.
            s.write_all(b"+PO").unwrap();
            wait.recv().unwrap();
            s.write_all(b"NG\r\n%1\r\n+a\r\n#t\r\n").unwrap();
        });
        let mut c = Client::connect(addr, Duration::from_secs(10)).unwrap();
        c.send_command(&[b"PING"]).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while c.pending() != b"+PO" {
            assert_eq!(c.fill(deadline).unwrap(), Fill::Data);
        }
        go_on.send(()).unwrap();
        assert_eq!(c.frame(deadline).unwrap(), b"+PONG\r\n");
        let pairs = c
            .reply(deadline, |r| match r {
                Reply::Map(e) => e.len / 2,
                _ => 0,
            })
            .unwrap();
        assert_eq!(pairs, 1);
        server.join().unwrap();
        assert!(matches!(c.frame(deadline), Err(ReadError::Closed)));
        assert!(c.pending().is_empty());
    }

    #[test]
    fn a_silent_server_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut c =
            Client::connect(listener.local_addr().unwrap(), Duration::from_secs(10)).unwrap();
        let deadline = Instant::now() + Duration::from_millis(50);
        assert!(matches!(c.frame(deadline), Err(ReadError::TimedOut)));
        drop(listener);
    }
}
