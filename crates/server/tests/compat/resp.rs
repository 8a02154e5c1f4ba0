//! The compatibility runner's view of a reply: send one command as an
//! array of bulk strings, read one reply exactly as it came, as an owned
//! RESP2 value.
//!
//! Why not the `redis` crate: the runner must see the wire as it is. A
//! simple string and an error must stay distinct, a nil bulk must stay a
//! nil, and nothing may be sent that the case did not ask for (client
//! libraries send HELLO or CLIENT SETINFO, track pub/sub state, and treat
//! QUIT or SUBSCRIBE specially). The connection and framing are
//! `tandem_bench::resp`'s client, the one RESP client in the tree; this
//! file only turns its borrowed replies into owned values.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tandem_bench::resp::client::{Client, ReadError};
use tandem_bench::resp::Reply as Wire;

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
    client: Client,
}

fn protocol_error(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// The owned form of `wire`. Only RESP2 types: the runner never switches
/// protocol, so anything else is the server's mistake.
fn owned(wire: &Wire<'_>) -> io::Result<Reply> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Ok(match wire {
        Wire::Simple(s) => Reply::Simple(text(s)),
        Wire::Error(e) => Reply::Error(text(e)),
        Wire::Integer(n) => Reply::Int(*n),
        Wire::Bulk(b) => Reply::Bulk(b.map(<[u8]>::to_vec)),
        Wire::Array(None) => Reply::Array(None),
        Wire::Array(Some(items)) => Reply::Array(Some(
            items.iter().map(|i| owned(&i)).collect::<io::Result<_>>()?,
        )),
        other => {
            return Err(protocol_error(&format!(
                "unexpected reply type: {}",
                tandem_bench::resp::describe(other)
            )))
        }
    })
}

impl Conn {
    /// Connects, with the reply timeout set.
    pub fn connect(addr: SocketAddr) -> io::Result<Self> {
        Ok(Self {
            client: Client::connect(addr, REPLY_TIMEOUT)?,
        })
    }

    /// Sends `args` and reads the one reply.
    pub fn call(&mut self, args: &[Vec<u8>]) -> io::Result<Reply> {
        self.send(args)?;
        self.read()
    }

    /// Sends `args` as one RESP array of bulk strings.
    pub fn send(&mut self, args: &[Vec<u8>]) -> io::Result<()> {
        let args: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        self.client.send_command(&args)
    }

    /// Reads one reply.
    pub fn read(&mut self) -> io::Result<Reply> {
        match self.client.reply(Instant::now() + REPLY_TIMEOUT, owned) {
            Ok(reply) => reply,
            Err(ReadError::TimedOut) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "timed out waiting for a reply",
            )),
            Err(ReadError::Closed) => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed",
            )),
            Err(ReadError::Io(e)) => Err(e),
        }
    }
}
