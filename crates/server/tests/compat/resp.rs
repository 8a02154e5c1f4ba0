//! A minimal RESP2 client for the compatibility runner: send one command
//! as an array of bulk strings, read one reply exactly as it came.
//!
//! Why not the `redis` crate: the runner must see the wire as it is. A
//! simple string and an error must stay distinct, a nil bulk must stay a
//! nil, and nothing may be sent that the case did not ask for (client
//! libraries send HELLO or CLIENT SETINFO, track pub/sub state, and treat
//! QUIT or SUBSCRIBE specially). One command out, one reply in, over a
//! plain `TcpStream`, is also all the cases need.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// How long one reply may take. The cases' blocking commands wait at
/// most a few seconds; a server that hangs fails the command instead of
/// hanging the test.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// One RESP2 reply, keeping every distinction the protocol makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+text`
    Simple(String),
    /// `-text`
    Error(String),
    /// `:n`
    Int(i64),
    /// `$n` (None for `$-1`)
    Bulk(Option<Vec<u8>>),
    /// `*n` (None for `*-1`)
    Array(Option<Vec<Reply>>),
}

/// One connection to the server under test.
pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

fn protocol_error(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

impl Conn {
    /// Connects, with the reply timeout set.
    pub fn connect(addr: SocketAddr) -> io::Result<Self> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(REPLY_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(Self {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    /// Sends `args` and reads the one reply.
    pub fn call(&mut self, args: &[Vec<u8>]) -> io::Result<Reply> {
        self.send(args)?;
        self.read()
    }

    /// Sends `args` as one RESP array of bulk strings.
    pub fn send(&mut self, args: &[Vec<u8>]) -> io::Result<()> {
        let mut frame = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            frame.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            frame.extend_from_slice(a);
            frame.extend_from_slice(b"\r\n");
        }
        self.writer.write_all(&frame)
    }

    /// One line without its CRLF.
    fn line(&mut self) -> io::Result<Vec<u8>> {
        let mut line = Vec::new();
        self.reader.read_until(b'\n', &mut line)?;
        if line.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        if !line.ends_with(b"\r\n") {
            return Err(protocol_error("line not ended by CRLF"));
        }
        line.truncate(line.len() - 2);
        Ok(line)
    }

    fn length(text: &[u8]) -> io::Result<Option<usize>> {
        let n: i64 = std::str::from_utf8(text)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| protocol_error("bad length"))?;
        match n {
            -1 => Ok(None),
            n => usize::try_from(n)
                .map(Some)
                .map_err(|_| protocol_error("negative length")),
        }
    }

    /// Reads one reply. Only RESP2 types: the runner never switches
    /// protocol, so anything else is the server's mistake.
    pub fn read(&mut self) -> io::Result<Reply> {
        let line = self.line()?;
        let Some((&kind, rest)) = line.split_first() else {
            return Err(protocol_error("empty line"));
        };
        let text = || String::from_utf8_lossy(rest).into_owned();
        match kind {
            b'+' => Ok(Reply::Simple(text())),
            b'-' => Ok(Reply::Error(text())),
            b':' => text()
                .parse()
                .map(Reply::Int)
                .map_err(|_| protocol_error("bad integer")),
            b'$' => match Self::length(rest)? {
                None => Ok(Reply::Bulk(None)),
                Some(n) => {
                    let mut data = vec![0; n + 2];
                    self.reader.read_exact(&mut data)?;
                    if !data.ends_with(b"\r\n") {
                        return Err(protocol_error("bulk not ended by CRLF"));
                    }
                    data.truncate(n);
                    Ok(Reply::Bulk(Some(data)))
                }
            },
            b'*' => match Self::length(rest)? {
                None => Ok(Reply::Array(None)),
                Some(n) => (0..n)
                    .map(|_| self.read())
                    .collect::<io::Result<Vec<_>>>()
                    .map(|items| Reply::Array(Some(items))),
            },
            other => Err(protocol_error(&format!(
                "unexpected reply type {:?}",
                char::from(other)
            ))),
        }
    }
}
