//! Replays a byte stream through `RequestParser` the way a connection
//! feeds it, cut into reads wherever the caller says, and checks on every
//! call what a connection relies on: a parse consumes bytes it has, finds
//! arguments inside them and within the limits, and asks for more only
//! when it needs more, never more than the limits justify.
//!
//! Shared by the parser's unit and property tests and by the fuzz targets
//! in `fuzz/`, which include this file by path: it names the parser only
//! through `super::`, and uses nothing private. It never decides what a
//! stream should parse to: callers compare replays with each other or
//! with the requests they encoded.

use super::{Form, Limits, RequestParser};

/// How a replay ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// A protocol error, with its text.
    Error(String),
    /// The stream ran out; these bytes wait for the rest of a request.
    Waiting(Vec<u8>),
}

/// What a stream parsed to: each request's arguments (an empty list for
/// `Form::Empty`), then how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    /// The requests, in order.
    pub requests: Vec<Vec<Vec<u8>>>,
    /// How it ended.
    pub end: End,
}

/// Feeds `stream` to a parser whose longest line is `max_inline`, one read
/// per chunk, a chunk ending at each of the ascending positions in `cuts`.
/// Panics when an invariant breaks: that is what a fuzzer reports.
pub fn replay(stream: &[u8], cuts: &[usize], limits: Limits, max_inline: usize) -> Replay {
    let mut parser = RequestParser::with_max_inline(max_inline);
    let mut buf = Vec::new();
    let mut requests = Vec::new();
    let mut from = 0;
    let ends = cuts.iter().copied().filter(|&c| c < stream.len());
    for to in ends.chain(std::iter::once(stream.len())) {
        if to < from {
            continue;
        }
        buf.extend_from_slice(&stream[from..to]);
        from = to;
        loop {
            match parser.parse(&buf, limits) {
                Ok(Some(parsed)) => {
                    let args = checked_args(&parser, &buf, parsed, limits);
                    requests.push(args);
                    buf.drain(..parsed.consumed);
                }
                Ok(None) => {
                    check_waiting(&parser, &buf, limits);
                    break;
                }
                Err(e) => {
                    return Replay {
                        requests,
                        end: End::Error(e.0),
                    }
                }
            }
        }
    }
    Replay {
        requests,
        end: End::Waiting(buf),
    }
}

/// The arguments of a request just parsed from `buf`, after checking that
/// they lie in the bytes it consumed and respect the limits.
fn checked_args(
    parser: &RequestParser,
    buf: &[u8],
    parsed: super::Parsed,
    limits: Limits,
) -> Vec<Vec<u8>> {
    let consumed = parsed.consumed;
    assert!(consumed >= 1, "a request consumed nothing");
    assert!(
        consumed <= buf.len(),
        "consumed {consumed} of {}",
        buf.len()
    );
    match parsed.form {
        Form::Multibulk => {
            let ranges = &parser.ranges;
            assert!(!ranges.is_empty(), "a multibulk request without arguments");
            assert!(ranges.len() as u64 <= u64::from(limits.max_args));
            let mut last = 0;
            for r in ranges {
                // Each argument is followed by two bytes, skipped unread.
                assert!(last <= r.start && r.start <= r.end && r.end + 2 <= consumed);
                assert!((r.end - r.start) as u64 <= limits.max_bulk);
                last = r.end + 2;
            }
            // Reserved from what was claimed, but never past the limit or
            // the fixed bound, and grown only by doubling.
            let claimable = (limits.max_args as usize).min(1024);
            assert!(
                ranges.capacity() <= 2 * claimable.max(4),
                "{} ranges reserved",
                ranges.capacity()
            );
            ranges.iter().map(|r| buf[r.clone()].to_vec()).collect()
        }
        Form::Inline => {
            let args = &parser.inline;
            assert!(!args.is_empty(), "an inline request without arguments");
            // Unescaping only shortens: `\x41` is one byte.
            let total: usize = args.iter().map(Vec::len).sum();
            assert!(total <= consumed, "{total} argument bytes from {consumed}");
            args.clone()
        }
        Form::Empty => Vec::new(),
    }
}

/// After `Ok(None)`: the parser waits for more than the buffer holds, and
/// for no more than the limits let one request need.
fn check_waiting(parser: &RequestParser, buf: &[u8], limits: Limits) {
    if buf.is_empty() {
        return;
    }
    let need = parser.need() as u64;
    let have = buf.len() as u64;
    assert!(need > have, "waits for {need} bytes with {have}");
    assert!(
        need <= have + limits.max_bulk + 2,
        "asks for {need} bytes with {have} and a bulk limit of {}",
        limits.max_bulk
    );
}

/// `args` as one RESP multibulk request.
pub fn multibulk(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// `args` as one inline request, every byte written as a `\xHH` escape
/// inside double quotes, so any bytes survive the trip.
pub fn inline_quoted(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.push(b'"');
        for b in a {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        }
        out.push(b'"');
    }
    out.extend_from_slice(b"\r\n");
    out
}
