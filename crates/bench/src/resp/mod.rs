//! RESP from the client's side: a request encoder, a reply parser that
//! knows every RESP2 and RESP3 type, a read buffer, and a blocking client
//! with deadlines (`client`).
//!
//! One copy for every client Tandem's own code needs: the network load
//! generators (`tandem bench net`) and the server's integration tests,
//! which take this crate as a dev-dependency. Owns byte-level framing only;
//! what a reply must be is the caller's business. The parser never scans a
//! bulk string's contents (it skips by length), so a subscriber counting
//! 64-byte messages pays for headers only, and it never allocates: replies
//! borrow the buffer. It must never depend on the server's own parser, so
//! that the tests check the server against an independent reading.

pub mod client;

use std::io;

/// Appends one command, as a RESP array of bulk strings, to `out`.
pub fn command(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.push(b'*');
    push_decimal(out, args.len());
    out.extend_from_slice(b"\r\n");
    for a in args {
        out.push(b'$');
        push_decimal(out, a.len());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Appends `n` in decimal; by hand, because requests are built per
/// transaction and `write!` would go through the formatting machinery.
fn push_decimal(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(i..).unwrap_or_default());
}

/// One complete reply, borrowing the buffer it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply<'a> {
    /// `+...`
    Simple(&'a [u8]),
    /// `-...`
    Error(&'a [u8]),
    /// `:n`
    Integer(i64),
    /// `$n` (None for the nil bulk `$-1`).
    Bulk(Option<&'a [u8]>),
    /// `*n` or a RESP3 push `>n` (None for the nil array `*-1`).
    Array(Option<Elements<'a>>),
    /// RESP3 `_`.
    Null,
    /// RESP3 `#t` or `#f`.
    Boolean(bool),
    /// RESP3 `,` (its text, as sent: `inf`, `1.5e3`, ...).
    Double(&'a [u8]),
    /// RESP3 `(`, its digits.
    BigNumber(&'a [u8]),
    /// RESP3 `!n`, a bulk error.
    BulkError(&'a [u8]),
    /// RESP3 `=n`, a verbatim string with its `txt:` format prefix.
    Verbatim(&'a [u8]),
    /// RESP3 `%n`: keys and values alternate, so `len` is twice the pairs.
    Map(Elements<'a>),
    /// RESP3 `~n`.
    Set(Elements<'a>),
}

/// An array's elements, complete, parsed again on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elements<'a> {
    /// How many elements.
    pub len: usize,
    body: &'a [u8],
}

impl<'a> Elements<'a> {
    /// The elements in order.
    pub fn iter(&self) -> impl Iterator<Item = Reply<'a>> + 'a {
        let mut rest = self.body;
        let mut left = self.len;
        std::iter::from_fn(move || {
            if left == 0 {
                return None;
            }
            left -= 1;
            // The body was checked complete when the array was parsed.
            let (r, used) = parse(rest).ok().flatten()?;
            rest = rest.get(used..).unwrap_or_default();
            Some(r)
        })
    }

    /// The first element, if any.
    pub fn first(&self) -> Option<Reply<'a>> {
        self.iter().next()
    }
}

/// Nesting deeper than this is refused rather than recursed into, so a
/// hostile reply cannot overflow the stack; COMMAND DOCS, the deepest
/// reply Redis sends, nests seven levels.
const MAX_DEPTH: usize = 32;

/// Parses one reply from the start of `buf`: `Ok(None)` if it is not
/// complete yet, else the reply and the bytes it took.
pub fn parse(buf: &[u8]) -> io::Result<Option<(Reply<'_>, usize)>> {
    parse_at(buf, 0)
}

fn parse_at(buf: &[u8], depth: usize) -> io::Result<Option<(Reply<'_>, usize)>> {
    let Some((&kind, _)) = buf.split_first() else {
        return Ok(None);
    };
    let Some((line, after)) = line(buf)? else {
        return Ok(None);
    };
    let text = line.get(1..).unwrap_or_default();
    let done = |r| Ok(Some((r, after)));
    match kind {
        b'+' => done(Reply::Simple(text)),
        b'-' => done(Reply::Error(text)),
        b':' => done(Reply::Integer(integer(text)?)),
        b'_' => done(Reply::Null),
        b',' => done(Reply::Double(text)),
        b'(' => done(Reply::BigNumber(text)),
        b'#' => match text {
            b"t" => done(Reply::Boolean(true)),
            b"f" => done(Reply::Boolean(false)),
            _ => Err(bad("boolean neither t nor f")),
        },
        b'$' | b'!' | b'=' => {
            let n = integer(text)?;
            if n < 0 {
                return match kind {
                    b'$' => done(Reply::Bulk(None)),
                    _ => Err(bad("negative length")),
                };
            }
            let n = usize::try_from(n).map_err(|_| bad("bulk length"))?;
            let end = after.checked_add(n).ok_or_else(|| bad("bulk length"))?;
            let crlf = end.checked_add(2).ok_or_else(|| bad("bulk length"))?;
            let body = buf.get(after..end);
            match (buf.get(end..crlf), body) {
                (Some(b"\r\n"), Some(body)) => {
                    let r = match kind {
                        b'!' => Reply::BulkError(body),
                        b'=' => Reply::Verbatim(body),
                        _ => Reply::Bulk(Some(body)),
                    };
                    Ok(Some((r, crlf)))
                }
                (Some(_), _) => Err(bad("bulk string not followed by CRLF")),
                (None, _) => Ok(None),
            }
        }
        b'*' | b'>' | b'~' | b'%' | b'|' => {
            let n = integer(text)?;
            if n < 0 {
                return match kind {
                    b'*' => done(Reply::Array(None)),
                    _ => Err(bad("negative length")),
                };
            }
            if depth >= MAX_DEPTH {
                return Err(bad("replies nested too deeply"));
            }
            let n = usize::try_from(n).map_err(|_| bad("aggregate length"))?;
            let len = match kind {
                b'%' | b'|' => n.checked_mul(2).ok_or_else(|| bad("map length"))?,
                _ => n,
            };
            let mut end = after;
            for _ in 0..len {
                let rest = buf.get(end..).unwrap_or_default();
                match parse_at(rest, depth + 1)? {
                    Some((_, used)) => end += used,
                    None => return Ok(None),
                }
            }
            let elements = Elements {
                len,
                body: buf.get(after..end).unwrap_or_default(),
            };
            match kind {
                b'~' => Ok(Some((Reply::Set(elements), end))),
                b'%' => Ok(Some((Reply::Map(elements), end))),
                // Attributes describe the value that follows them: skip
                // to it, and count their bytes as part of it.
                b'|' => {
                    let rest = buf.get(end..).unwrap_or_default();
                    Ok(parse_at(rest, depth + 1)?.map(|(r, used)| (r, end + used)))
                }
                _ => Ok(Some((Reply::Array(Some(elements)), end))),
            }
        }
        other => Err(bad(&format!("unexpected reply type byte {other:#04x}"))),
    }
}

/// The first line of `buf` without its CRLF, and the offset after the CRLF;
/// `Ok(None)` until the LF has arrived.
fn line(buf: &[u8]) -> io::Result<Option<(&[u8], usize)>> {
    let Some(lf) = buf.iter().position(|&b| b == b'\n') else {
        return Ok(None);
    };
    match lf.checked_sub(1).and_then(|cr| Some((*buf.get(cr)?, cr))) {
        Some((b'\r', cr)) => Ok(Some((buf.get(..cr).unwrap_or_default(), lf + 1))),
        _ => Err(bad("header line not ended by CRLF")),
    }
}

fn integer(text: &[u8]) -> io::Result<i64> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("malformed integer"))
}

fn bad(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("protocol error: {what}"),
    )
}

/// A reply as short printable text, for error messages.
pub fn describe(r: &Reply<'_>) -> String {
    match r {
        Reply::Simple(s) => format!("+{}", String::from_utf8_lossy(s)),
        Reply::Error(s) => format!("-{}", String::from_utf8_lossy(s)),
        Reply::Integer(n) => format!(":{n}"),
        Reply::Bulk(None) => "nil bulk".to_string(),
        Reply::Bulk(Some(b)) => format!("bulk of {} bytes", b.len()),
        Reply::Array(None) => "nil array".to_string(),
        Reply::Array(Some(e)) => format!("array of {}", e.len),
        Reply::Null => "null".to_string(),
        Reply::Boolean(b) => format!("boolean {b}"),
        Reply::Double(d) => format!(",{}", String::from_utf8_lossy(d)),
        Reply::BigNumber(n) => format!("({}", String::from_utf8_lossy(n)),
        Reply::BulkError(e) => format!("!{}", String::from_utf8_lossy(e)),
        Reply::Verbatim(v) => format!("verbatim of {} bytes", v.len()),
        Reply::Map(e) => format!("map of {}", e.len / 2),
        Reply::Set(e) => format!("set of {}", e.len),
    }
}

/// A read buffer that replies are parsed from in place: bytes between
/// `start` and `end` are unparsed. Sized once, grown only if one reply is
/// larger than it, so steady-state reads do not allocate.
pub struct ReadBuf {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl ReadBuf {
    /// A buffer of `capacity` bytes (64 at least).
    pub fn new(capacity: usize) -> Self {
        Self {
            buf: vec![0; capacity.max(64)],
            start: 0,
            end: 0,
        }
    }

    /// The unparsed bytes.
    pub fn data(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    /// Marks `n` bytes of `data()` parsed.
    pub fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Free space to read into, after moving unparsed bytes to the front
    /// (or growing, if they fill the buffer).
    fn spare(&mut self) -> &mut [u8] {
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                let len = self.buf.len();
                self.buf.resize(len * 2, 0);
            }
        }
        self.buf.get_mut(self.end..).unwrap_or_default()
    }

    /// Reads once from an async stream; `Ok(0)` at end of stream.
    pub async fn fill<R>(&mut self, r: &mut R) -> io::Result<usize>
    where
        R: tokio::io::AsyncRead + Unpin,
    {
        use tokio::io::AsyncReadExt;
        let n = r.read(self.spare()).await?;
        self.end += n;
        Ok(n)
    }

    /// Reads once from a blocking stream; `Ok(0)` at end of stream.
    pub fn fill_blocking<R: io::Read>(&mut self, r: &mut R) -> io::Result<usize> {
        let n = r.read(self.spare())?;
        self.end += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_commands() {
        let mut out = Vec::new();
        command(&mut out, &[b"SET", b"k", b""]);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
        out.clear();
        push_decimal(&mut out, 0);
        push_decimal(&mut out, 1234567890);
        assert_eq!(out, b"01234567890");
    }

    /// Every reply in `all`, described; `all` must hold whole replies.
    fn describe_all(all: &[u8]) -> Vec<String> {
        let mut rest = all;
        let mut got = Vec::new();
        while let Some((r, used)) = parse(rest).unwrap() {
            got.push(describe(&r));
            rest = &rest[used..];
        }
        assert!(rest.is_empty());
        got
    }

    #[test]
    fn parses_every_kind_and_waits_for_more() {
        let all: &[u8] =
            b"+OK\r\n-ERR x\r\n:-12\r\n$3\r\nabc\r\n$-1\r\n*2\r\n:1\r\n*1\r\n+QUEUED\r\n*-1\r\n";
        let got = describe_all(all);
        assert_eq!(
            got,
            [
                "+OK",
                "-ERR x",
                ":-12",
                "bulk of 3 bytes",
                "nil bulk",
                "array of 2",
                "nil array"
            ]
        );
        // Every strict prefix is incomplete, never an error.
        for cut in 0..all.len() {
            let r = parse(&all[..cut]).unwrap();
            if let Some((_, used)) = r {
                assert!(used <= cut);
            }
        }
        let (r, _) = parse(b"*3\r\n$7\r\nmessage\r\n$5\r\nbench\r\n$2\r\nhi\r\n")
            .unwrap()
            .unwrap();
        let Reply::Array(Some(e)) = r else {
            panic!("not an array")
        };
        let items: Vec<_> = e.iter().collect();
        assert_eq!(items[0], Reply::Bulk(Some(b"message")));
        assert_eq!(items[2], Reply::Bulk(Some(b"hi")));
        assert_eq!(items.len(), 3);
    }

    #[test]
    fn parses_resp3_as_redis_sends_it() {
        // HELLO 3's first pair, and types from Redis 7.0's RESP3 replies.
        let all: &[u8] = b"%1\r\n$6\r\nserver\r\n$5\r\nredis\r\n_\r\n#f\r\n,3.5\r\n\
            (12345678901234567890\r\n!3\r\nERR\r\n=7\r\ntxt:abc\r\n~2\r\n:1\r\n:2\r\n\
            >3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n|1\r\n+a\r\n:1\r\n:7\r\n";
        let got = describe_all(all);
        assert_eq!(
            got,
            [
                "map of 1",
                "null",
                "boolean false",
                ",3.5",
                "(12345678901234567890",
                "!ERR",
                "verbatim of 7 bytes",
                "set of 2",
                "array of 3",
                ":7"
            ]
        );
        for cut in 0..all.len() {
            if let Some((_, used)) = parse(&all[..cut]).unwrap() {
                assert!(used <= cut);
            }
        }
        let nested = b"*1\r\n".repeat(MAX_DEPTH + 1);
        assert!(parse(&nested).is_err());
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse(b"?\r\n").is_err());
        assert!(parse(b":x\r\n").is_err());
        assert!(parse(b"$2\r\nabcd\r\n").is_err());
        assert!(parse(b"+OK\n").is_err());
    }

    #[test]
    fn read_buf_compacts_and_grows() {
        let mut rb = ReadBuf::new(64);
        let mut src: &[u8] = &[7u8; 200];
        while rb.fill_blocking(&mut src).unwrap() > 0 {}
        assert_eq!(rb.data().len(), 200);
        rb.consume(150);
        assert_eq!(rb.data().len(), 50);
        rb.consume(50);
        assert!(rb.data().is_empty());
    }
}
