//! `StreamId`: a stream entry's ID, `<ms>-<seq>`, and how Redis 7.0
//! reads one from a command's argument.
//!
//! Owns the ID's order, its successor and predecessor, its text, and
//! parsing with Redis's quirks (`streamGenericParseIDOrReply` over
//! `string2ull`: a canonical integer first, then C's `strtoull`, which
//! takes leading blanks, a sign, and leading zeros). It must never
//! accept what Redis refuses, nor panic on any bytes.

use crate::numeric::parse_i64;
use std::fmt;

/// A stream entry's ID: milliseconds and a sequence number, ordered as
/// one 128-bit number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    /// The time part.
    pub ms: u64,
    /// The sequence part.
    pub seq: u64,
}

/// How an ID argument was written, for the commands that care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdArg {
    /// A full or partial ID (`-` and `+` included where allowed).
    Id(StreamId),
    /// `<ms>-*`: the sequence is left to XADD.
    AutoSeq(u64),
}

impl StreamId {
    /// 0-0, the smallest ID.
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    /// The largest ID.
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    /// An ID from its two parts.
    pub const fn new(ms: u64, seq: u64) -> Self {
        Self { ms, seq }
    }

    /// The next ID, `None` past the largest (Redis's `streamIncrID`).
    pub fn next(self) -> Option<Self> {
        match (self.ms, self.seq) {
            (u64::MAX, u64::MAX) => None,
            (ms, u64::MAX) => Some(Self::new(ms + 1, 0)),
            (ms, seq) => Some(Self::new(ms, seq + 1)),
        }
    }

    /// The previous ID, `None` before the smallest (`streamDecrID`).
    pub fn prev(self) -> Option<Self> {
        match (self.ms, self.seq) {
            (0, 0) => None,
            (ms, 0) => Some(Self::new(ms - 1, u64::MAX)),
            (ms, seq) => Some(Self::new(ms, seq - 1)),
        }
    }

    /// Whether it is 0-0.
    pub fn is_zero(self) -> bool {
        self == Self::MIN
    }

    /// Reads an argument as Redis 7.0 does: `-` and `+` (unless
    /// `strict`), `<ms>-<seq>`, `<ms>` (the sequence then
    /// `missing_seq`), and with `auto_seq`, `<ms>-*`. `None` is Redis's
    /// "Invalid stream ID".
    pub fn parse_arg(arg: &[u8], missing_seq: u64, strict: bool, auto_seq: bool) -> Option<IdArg> {
        if arg.len() > 127 {
            return None;
        }
        // Redis copies the argument into a C string: a NUL ends it.
        let arg = match arg.iter().position(|&b| b == 0) {
            Some(end) => arg.get(..end)?,
            None => arg,
        };
        match arg {
            b"-" | b"+" if strict => return None,
            b"-" => return Some(IdArg::Id(Self::MIN)),
            b"+" => return Some(IdArg::Id(Self::MAX)),
            _ => {}
        }
        let Some(dash) = arg.iter().position(|&b| b == b'-') else {
            return Some(IdArg::Id(Self::new(string_to_u64(arg)?, missing_seq)));
        };
        let ms = string_to_u64(arg.get(..dash)?)?;
        let seq = arg.get(dash + 1..)?;
        if auto_seq && seq == b"*" {
            return Some(IdArg::AutoSeq(ms));
        }
        Some(IdArg::Id(Self::new(ms, string_to_u64(seq)?)))
    }

    /// [`parse_arg`](Self::parse_arg) where `<ms>-*` is not allowed.
    pub fn parse(arg: &[u8], missing_seq: u64, strict: bool) -> Option<StreamId> {
        match Self::parse_arg(arg, missing_seq, strict, false)? {
            IdArg::Id(id) => Some(id),
            IdArg::AutoSeq(_) => None,
        }
    }

    /// The ID as 16 big-endian bytes: Redis's radix tree key, whose byte
    /// order is the IDs' order.
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        let (ms, seq) = b.split_at_mut(8);
        ms.copy_from_slice(&self.ms.to_be_bytes());
        seq.copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    /// The ID from 16 big-endian bytes.
    pub fn from_be_bytes(b: [u8; 16]) -> Self {
        let mut ms = [0u8; 8];
        let mut seq = [0u8; 8];
        let (a, z) = b.split_at(8);
        ms.copy_from_slice(a);
        seq.copy_from_slice(z);
        Self::new(u64::from_be_bytes(ms), u64::from_be_bytes(seq))
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// Redis's `string2ull`: a canonical signed integer (negative refused),
/// else what `strtoull` makes of the whole text.
fn string_to_u64(s: &[u8]) -> Option<u64> {
    if let Some(n) = parse_i64(s) {
        return u64::try_from(n).ok();
    }
    strtoull(s)
}

/// C's `strtoull` in base 10, accepted only when it reads the whole,
/// non-empty text without overflow: leading white space, then an optional
/// sign (a `-` negates modulo 2^64), then digits.
fn strtoull(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let start = s
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?;
    let rest = s.get(start..)?;
    let (negative, digits) = match rest.split_first() {
        Some((b'-', d)) => (true, d),
        Some((b'+', d)) => (false, d),
        _ => (false, rest),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if negative { v.wrapping_neg() } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Option<StreamId> {
        StreamId::parse(s.as_bytes(), 0, true)
    }

    #[test]
    fn ids_parse_as_redis_reads_them() {
        assert_eq!(id("5-3"), Some(StreamId::new(5, 3)));
        assert_eq!(id("5"), Some(StreamId::new(5, 0)));
        assert_eq!(
            StreamId::parse(b"5", u64::MAX, false),
            Some(StreamId::new(5, u64::MAX))
        );
        assert_eq!(id("-"), None);
        assert_eq!(StreamId::parse(b"-", 0, false), Some(StreamId::MIN));
        assert_eq!(StreamId::parse(b"+", 0, false), Some(StreamId::MAX));
        // strtoull's leniency, reached when the text is not canonical.
        assert_eq!(id("01-02"), Some(StreamId::new(1, 2)));
        assert_eq!(id("+7-1"), Some(StreamId::new(7, 1)));
        assert_eq!(id(" 7"), Some(StreamId::new(7, 0)));
        assert_eq!(id("1--0"), Some(StreamId::new(1, 0)));
        assert_eq!(id("1--05"), Some(StreamId::new(1, 5u64.wrapping_neg())));
        assert_eq!(id("1--5"), None, "a canonical negative is refused");
        assert_eq!(
            id("18446744073709551615-18446744073709551615"),
            Some(StreamId::MAX)
        );
        assert_eq!(id("18446744073709551616"), None);
        assert_eq!(id("1-"), None);
        assert_eq!(id("-1"), None);
        assert_eq!(id("1-2-3"), None);
        assert_eq!(id("1 "), None);
        assert_eq!(id("1\u{0}junk"), Some(StreamId::new(1, 0)));
        assert_eq!(id(&"1".repeat(128)), None);
        assert_eq!(
            StreamId::parse_arg(b"9-*", 0, true, true),
            Some(IdArg::AutoSeq(9))
        );
        assert_eq!(id("9-*"), None);
    }

    #[test]
    fn neighbours_and_bytes_follow_the_order() {
        let a = StreamId::new(3, u64::MAX);
        assert_eq!(a.next(), Some(StreamId::new(4, 0)));
        assert_eq!(StreamId::new(4, 0).prev(), Some(a));
        assert_eq!(StreamId::MAX.next(), None);
        assert_eq!(StreamId::MIN.prev(), None);
        assert!(a.to_be_bytes() < StreamId::new(4, 0).to_be_bytes());
        assert_eq!(StreamId::from_be_bytes(a.to_be_bytes()), a);
        assert_eq!(a.to_string(), "3-18446744073709551615");
    }
}
