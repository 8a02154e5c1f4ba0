//! Request framing: RESP multibulk arrays and inline commands, parsed once.
//!
//! Owns turning the bytes of a client's read buffer into one request's
//! arguments. A multibulk request's arguments are byte ranges into the
//! buffer (nothing is copied); an inline request's are copied, because
//! quotes and escapes rewrite them. A request cut short by the end of the
//! buffer is resumed where it stopped when more bytes arrive, so a long
//! request is never re-read from its start.
//!
//! It never allocates what a client merely claims: a multibulk count
//! reserves at most `MAX_PREALLOC_ARGS` ranges, and the caller grows the
//! buffer only as bytes arrive. Errors carry Redis's exact text.

use memchr::{memchr, memchr2};
use std::ops::Range;

/// Longest inline request, and longest `*<count>` or `$<len>` line, as
/// Redis's `PROTO_INLINE_MAX_SIZE`.
pub const MAX_INLINE: usize = 64 * 1024;

/// Argument ranges reserved up front, however many a request claims.
const MAX_PREALLOC_ARGS: usize = 1024;

/// The limits a request must respect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest bulk string (`proto-max-bulk-len`).
    pub max_bulk: u64,
    /// Most arguments (`proto-max-multibulk-len`).
    pub max_args: u32,
}

/// Malformed input: the reply is `-ERR Protocol error: <0>` and the
/// connection closes, as in Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String);

/// One request found at the start of the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    /// Bytes it took; the next request starts after them.
    pub consumed: usize,
    /// Where its arguments are.
    pub form: Form,
}

/// Where a parsed request's arguments are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// In `RequestParser::ranges`, as ranges of the buffer.
    Multibulk,
    /// In `RequestParser::inline`, copied.
    Inline,
    /// No arguments (`*0`, `*-1` or an empty line): skip it.
    Empty,
}

/// Parses requests one at a time from the front of a buffer, keeping the
/// progress of a request that is not complete yet.
///
/// How a stream is cut into reads never changes what it parses to: the
/// same requests, and the same error after the same requests.
#[derive(Debug)]
pub struct RequestParser {
    /// The arguments of the last multibulk request, as buffer ranges.
    pub ranges: Vec<Range<usize>>,
    /// The arguments of the last inline request.
    pub inline: Vec<Vec<u8>>,
    /// A multibulk request in progress: arguments still to read, and
    /// where the next one starts.
    pending: Option<(usize, usize)>,
    /// The buffer must hold this many bytes before parsing can advance.
    need: usize,
    /// Longest inline request, and longest `*<count>` or `$<len>` line.
    max_inline: usize,
}

impl Default for RequestParser {
    fn default() -> Self {
        Self::with_max_inline(MAX_INLINE)
    }
}

impl RequestParser {
    /// A parser whose longest line is `max_inline` bytes instead of
    /// Redis's `MAX_INLINE`: the fuzzer makes it small so that the limit
    /// is reached by short inputs.
    pub fn with_max_inline(max_inline: usize) -> Self {
        RequestParser {
            ranges: Vec::new(),
            inline: Vec::new(),
            pending: None,
            need: 0,
            max_inline,
        }
    }

    /// Frees the argument list a big request grew, between requests only:
    /// a request still arriving keeps the arguments it has read so far.
    pub fn release_idle(&mut self) {
        if self.pending.is_none() && self.ranges.capacity() > MAX_PREALLOC_ARGS {
            self.ranges = Vec::new();
        }
    }

    /// How many bytes the buffer must hold before `parse` can make
    /// progress; the caller reads until then without calling it.
    pub fn need(&self) -> usize {
        self.need
    }

    /// Parses the request at the start of `buf`. `Ok(None)` means it is not
    /// complete yet: call again with the same bytes plus more. After a
    /// `Some`, drop `consumed` bytes from the buffer before the next call.
    ///
    /// Inlined into its two callers (the connection's loop and a batch's)
    /// rather than left to the compiler, which made one shared copy once
    /// the batch called it too: 0.9% fewer instructions per SET and 0.8%
    /// per LPUSH at pipeline 16 (`scripts/callgrind_per_request.sh`).
    #[inline(always)]
    pub fn parse(&mut self, buf: &[u8], limits: Limits) -> Result<Option<Parsed>, ProtocolError> {
        if buf.len() < self.need {
            return Ok(None);
        }
        if self.pending.is_none() {
            match buf.first() {
                None => return Ok(None),
                Some(b'*') => {}
                Some(_) => return self.parse_inline(buf),
            }
        }
        self.parse_multibulk(buf, limits)
    }

    // Inlined with `parse`, for the same reason.
    #[inline(always)]
    fn parse_multibulk(
        &mut self,
        buf: &[u8],
        limits: Limits,
    ) -> Result<Option<Parsed>, ProtocolError> {
        let (mut left, mut pos) = match self.pending {
            Some(p) => p,
            None => {
                let Some((line, next)) =
                    line_at(buf, 1, self.max_inline, "too big mbulk count string")?
                else {
                    self.need = buf.len() + 1;
                    return Ok(None);
                };
                let count = parse_len(line).ok_or_else(|| invalid("multibulk length"))?;
                if count > i64::from(limits.max_args) {
                    return Err(invalid("multibulk length"));
                }
                if count <= 0 {
                    self.need = 0;
                    return Ok(Some(Parsed {
                        consumed: next,
                        form: Form::Empty,
                    }));
                }
                let count = usize::try_from(count).unwrap_or(usize::MAX);
                self.ranges.clear();
                self.ranges.reserve(count.min(MAX_PREALLOC_ARGS));
                (count, next)
            }
        };
        while left > 0 {
            let Some(&first) = buf.get(pos) else {
                return Ok(self.suspend(left, pos, pos + 1));
            };
            if first != b'$' {
                return Err(ProtocolError(format!(
                    "expected '$', got '{}'",
                    char::from(first)
                )));
            }
            let Some((line, start)) =
                line_at(buf, pos + 1, self.max_inline, "too big bulk count string")?
            else {
                return Ok(self.suspend(left, pos, buf.len() + 1));
            };
            let len = parse_len(line)
                .and_then(|n| u64::try_from(n).ok())
                .filter(|&n| n <= limits.max_bulk)
                .ok_or_else(|| invalid("bulk length"))?;
            // `len` fits in memory's address space once bounded above.
            let len = usize::try_from(len).map_err(|_| invalid("bulk length"))?;
            let end = start.saturating_add(len);
            let after = end.saturating_add(2);
            if buf.len() < after {
                return Ok(self.suspend(left, pos, after));
            }
            // As Redis, the two bytes after the data are skipped unread.
            self.ranges.push(start..end);
            pos = after;
            left -= 1;
        }
        self.pending = None;
        self.need = 0;
        Ok(Some(Parsed {
            consumed: pos,
            form: Form::Multibulk,
        }))
    }

    /// Remembers a multibulk request cut short: `left` arguments from
    /// `pos`, and nothing to do until the buffer holds `need` bytes.
    fn suspend(&mut self, left: usize, pos: usize, need: usize) -> Option<Parsed> {
        self.pending = Some((left, pos));
        self.need = need;
        None
    }

    fn parse_inline(&mut self, buf: &[u8]) -> Result<Option<Parsed>, ProtocolError> {
        // Redis finds the newline with `strchr`, which stops at a NUL byte:
        // a line with a NUL before its newline never ends, and is refused
        // once it passes `MAX_INLINE`. (Splitting it instead would also
        // differ from Redis, and `split_args` reads a NUL as the end.)
        let end = memchr2(b'\n', 0, buf).filter(|&i| buf.get(i) == Some(&b'\n'));
        let Some((nl, mut line)) = end.and_then(|nl| Some((nl, buf.get(..nl)?))) else {
            if buf.len() > self.max_inline {
                return Err(too_big_inline());
            }
            self.need = buf.len() + 1;
            return Ok(None);
        };
        // A line that would have been refused had it arrived in parts is
        // refused whole too, so that how the stream is cut cannot matter.
        // (Redis, which checks only between reads, accepts such a line if
        // it came in one read.)
        if nl > self.max_inline {
            return Err(too_big_inline());
        }
        self.need = 0;
        if let [head @ .., b'\r'] = line {
            line = head;
        }
        self.inline.clear();
        split_args(line, &mut self.inline)
            .ok_or_else(|| ProtocolError("unbalanced quotes in request".into()))?;
        let form = if self.inline.is_empty() {
            Form::Empty
        } else {
            Form::Inline
        };
        Ok(Some(Parsed {
            consumed: nl + 1,
            form,
        }))
    }
}

fn too_big_inline() -> ProtocolError {
    ProtocolError("too big inline request".into())
}

fn invalid(what: &str) -> ProtocolError {
    ProtocolError(format!("invalid {what}"))
}

/// The line starting at `from` (without its `\r\n`) and where the next one
/// starts, or `None` if its end has not arrived. A line longer than
/// `max` is an error (`too_big`).
fn line_at<'b>(
    buf: &'b [u8],
    from: usize,
    max: usize,
    too_big: &str,
) -> Result<Option<(&'b [u8], usize)>, ProtocolError> {
    let rest = buf.get(from..).unwrap_or_default();
    match memchr(b'\r', rest) {
        Some(cr) if cr > max => Err(ProtocolError(too_big.into())),
        // The `\n` must have arrived too before the line counts.
        Some(cr) if cr + 1 < rest.len() => Ok(rest.get(..cr).map(|line| (line, from + cr + 2))),
        Some(_) => Ok(None),
        None if rest.len() > max => Err(ProtocolError(too_big.into())),
        None => Ok(None),
    }
}

/// A count or length in Redis's strict integer syntax (`string2ll`).
fn parse_len(line: &[u8]) -> Option<i64> {
    tandem_engine::parse_i64(line)
}

/// Splits an inline request as Redis's `sdssplitargs`: words separated by
/// blanks, `"..."` with C-style escapes, `'...'` with `\'`. `None` for
/// unbalanced quotes, or a closing quote not followed by a blank.
pub(crate) fn split_args(line: &[u8], out: &mut Vec<Vec<u8>>) -> Option<()> {
    let mut i = 0;
    loop {
        while line.get(i).is_some_and(|&c| is_space(c)) {
            i += 1;
        }
        // A NUL ends the line, as the end of a C string does in Redis; it
        // must not start an argument, which would be empty and never end.
        if line.get(i).is_none_or(|&c| c == 0) {
            return Some(());
        }
        let mut arg = Vec::new();
        let (mut in_dq, mut in_sq) = (false, false);
        loop {
            let c = line.get(i).copied();
            if in_dq {
                match (c?, line.get(i + 1).copied()) {
                    (b'\\', Some(b'x'))
                        if hex(line.get(i + 2)).is_some() && hex(line.get(i + 3)).is_some() =>
                    {
                        let hi = hex(line.get(i + 2))?;
                        let lo = hex(line.get(i + 3))?;
                        arg.push(hi * 16 + lo);
                        i += 3;
                    }
                    (b'\\', Some(escaped)) => {
                        i += 1;
                        arg.push(match escaped {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 8,
                            b'a' => 7,
                            other => other,
                        });
                    }
                    (b'"', next) => {
                        // A closing quote must be followed by a blank.
                        if next.is_some_and(|c| !is_space(c)) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    (other, _) => arg.push(other),
                }
            } else if in_sq {
                match c? {
                    b'\\' if line.get(i + 1) == Some(&b'\'') => {
                        i += 1;
                        arg.push(b'\'');
                    }
                    b'\'' => {
                        if line.get(i + 1).is_some_and(|&c| !is_space(c)) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    other => arg.push(other),
                }
            } else {
                match c {
                    None => break,
                    Some(b' ' | b'\n' | b'\r' | b'\t' | 0) => break,
                    Some(b'"') => in_dq = true,
                    Some(b'\'') => in_sq = true,
                    Some(other) => arg.push(other),
                }
            }
            i += 1;
        }
        out.push(arg);
    }
}

/// C's `isspace`, which Redis uses between arguments: unlike
/// `u8::is_ascii_whitespace`, it includes the vertical tab.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn hex(c: Option<&u8>) -> Option<u8> {
    let c = *c?;
    (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod chunking;
#[cfg(test)]
mod replay;
#[cfg(test)]
mod tests;
