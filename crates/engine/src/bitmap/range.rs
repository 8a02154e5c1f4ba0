//! BITCOUNT and BITPOS over a range, as Redis 7.0 reads the range:
//! negative indexes count from the end, both ends are clamped into the
//! string, and in `BIT` units the edge bytes are masked.

/// What a range's numbers count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Bytes (the default).
    Byte,
    /// Bits.
    Bit,
}

/// A range as a client gave it. `end` is `None` only for BITPOS given a
/// start alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// First index, inclusive.
    pub start: i64,
    /// Last index, inclusive.
    pub end: Option<i64>,
    /// Bytes or bits.
    pub unit: Unit,
}

/// A non-empty run of bytes, inclusive, with the bits of its first and
/// last byte that lie outside the range (`BIT` units only).
struct Span {
    start: usize,
    end: usize,
    first_out: u8,
    last_out: u8,
}

/// The bytes `start..=end` (in `unit`s) cover in a string of `len` bytes,
/// clamped as Redis clamps them; `None` when nothing is left.
fn span(len: usize, start: i64, end: i64, unit: Unit) -> Option<Span> {
    // A string holds at most 4 GiB here, so its length in bits fits.
    let bytes = i64::try_from(len).unwrap_or(i64::MAX >> 3);
    let total = if unit == Unit::Bit { bytes << 3 } else { bytes };
    let from_end = |i: i64| if i < 0 { total + i } else { i };
    let start = from_end(start).max(0);
    let end = from_end(end).max(0).min(total - 1);
    if start > end {
        return None;
    }
    let (first_out, last_out, start, end) = if unit == Unit::Bit {
        let first_out = !(0xffu8 >> (start & 7));
        let last_out = 0x7fu8 >> (end & 7);
        (first_out, last_out, start >> 3, end >> 3)
    } else {
        (0, 0, start, end)
    };
    Some(Span {
        start: usize::try_from(start).ok()?,
        end: usize::try_from(end).ok()?,
        first_out,
        last_out,
    })
}

fn ones(bytes: &[u8]) -> u64 {
    bytes.iter().map(|b| u64::from(b.count_ones())).sum()
}

/// BITCOUNT of an existing string: every bit, or those in `range` (whose
/// `end` is given).
pub fn count(bytes: &[u8], range: Option<Range>) -> u64 {
    let Some(r) = range else {
        return ones(bytes);
    };
    let end = r.end.unwrap_or(-1);
    // Two negative indexes the wrong way round: empty before any clamping.
    if r.start < 0 && end < 0 && r.start > end {
        return 0;
    }
    let Some(s) = span(bytes.len(), r.start, end, r.unit) else {
        return 0;
    };
    let inside = ones(bytes.get(s.start..=s.end).unwrap_or_default());
    let edge =
        |i: usize, out: u8| u64::from((bytes.get(i).copied().unwrap_or(0) & out).count_ones());
    inside - edge(s.start, s.first_out) - edge(s.end, s.last_out)
}

/// Where the first `bit` is in `bytes`, read as zero-padded past their
/// end: for a 1 not there, -1; for a 0 not there, the bit just past them.
fn first(bytes: &[u8], bit: bool) -> i64 {
    let skip = if bit { 0x00 } else { 0xff };
    let at = bytes.iter().position(|&b| b != skip);
    let bits = |n: usize| i64::try_from(n).unwrap_or(i64::MAX >> 3) << 3;
    match at {
        None if bit => -1,
        None => bits(bytes.len()),
        Some(i) => {
            let b = bytes.get(i).copied().unwrap_or(skip);
            let within = if bit {
                b.leading_zeros()
            } else {
                b.leading_ones()
            };
            bits(i) + i64::from(within)
        }
    }
}

/// BITPOS of an existing string: the first `bit` in it, or in `range`,
/// with Redis 7.0's results at the edges (a 0 looked for without an end
/// may be found just past the string; with an end, or in an empty range,
/// not found is -1).
pub fn position(bytes: &[u8], bit: bool, range: Option<Range>) -> i64 {
    let len = bytes.len();
    let (start, end, unit, end_given) = match range {
        None => (0, i64::try_from(len).unwrap_or(0) - 1, Unit::Byte, false),
        Some(r) => {
            let bytes_len = i64::try_from(len).unwrap_or(0);
            let end = r.end.unwrap_or(match r.unit {
                Unit::Bit => (bytes_len << 3) + 7,
                Unit::Byte => bytes_len - 1,
            });
            (r.start, end, r.unit, r.end.is_some())
        }
    };
    let Some(s) = span(len, start, end, unit) else {
        return -1;
    };
    let byte = |i: usize| bytes.get(i).copied().unwrap_or(0);
    // Out-of-range edge bits set to what is not looked for.
    let masked = |b: u8, out: u8| if bit { b & !out } else { b | out };
    let mut start = s.start;
    let mut left = s.end - s.start + 1;
    let found = 'found: {
        if s.first_out != 0 {
            let mut b = masked(byte(start), s.first_out);
            if left == 1 {
                b = masked(b, s.last_out);
            }
            let pos = first(&[b], bit);
            if left == 1 || (pos != -1 && pos != 8) {
                break 'found pos;
            }
            start += 1;
            left -= 1;
        }
        let whole = left - usize::from(s.last_out != 0);
        if whole > 0 {
            let pos = first(bytes.get(start..start + whole).unwrap_or_default(), bit);
            let past = i64::try_from(whole).unwrap_or(0) << 3;
            if left == whole || (pos != -1 && pos != past) {
                break 'found pos;
            }
            start += whole;
            left -= whole;
        }
        first(&[masked(byte(s.end), s.last_out)], bit)
    };
    let past = i64::try_from(left).unwrap_or(0) << 3;
    if end_given && !bit && found == past {
        return -1;
    }
    if found == -1 {
        return -1;
    }
    found + (i64::try_from(start).unwrap_or(0) << 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: i64, end: Option<i64>, unit: Unit) -> Option<Range> {
        Some(Range { start, end, unit })
    }

    #[test]
    fn counts_as_redis_7_0_counts() {
        // Replies recorded from Redis 7.0.15 for "foobar".
        let s = b"foobar";
        assert_eq!(count(s, None), 26);
        assert_eq!(count(s, r(0, Some(0), Unit::Byte)), 4);
        assert_eq!(count(s, r(1, Some(1), Unit::Byte)), 6);
        assert_eq!(count(s, r(5, Some(30), Unit::Bit)), 17);
        assert_eq!(count(s, r(-1, Some(-1), Unit::Byte)), 4);
        assert_eq!(count(s, r(-2, Some(-1), Unit::Bit)), 1);
        assert_eq!(count(s, r(2, Some(1), Unit::Byte)), 0);
        assert_eq!(count(s, r(-100, Some(100), Unit::Byte)), 26);
        assert_eq!(count(s, r(i64::MAX, Some(i64::MIN), Unit::Byte)), 0);
        assert_eq!(count(s, r(i64::MIN, Some(i64::MAX), Unit::Bit)), 26);
        assert_eq!(count(b"", r(0, Some(-1), Unit::Byte)), 0);
    }

    #[test]
    fn finds_bits_as_redis_7_0_finds_them() {
        let s = b"foobar";
        assert_eq!(position(s, true, r(2, None, Unit::Byte)), 17);
        assert_eq!(position(s, true, r(7, Some(15), Unit::Bit)), 9);
        assert_eq!(position(s, false, r(7, Some(15), Unit::Bit)), 7);
        assert_eq!(position(s, true, r(-3, Some(-1), Unit::Bit)), 46);
        assert_eq!(position(s, false, r(-3, Some(-1), Unit::Bit)), 45);
        assert_eq!(position(s, false, r(100, None, Unit::Byte)), -1);
        let full = [0xffu8];
        assert_eq!(position(&full, false, None), 8);
        assert_eq!(position(&full, false, r(0, None, Unit::Byte)), 8);
        assert_eq!(position(&full, false, r(0, Some(-1), Unit::Byte)), -1);
        assert_eq!(position(&full, false, r(0, Some(7), Unit::Bit)), -1);
        assert_eq!(position(&[0, 0, 0], true, None), -1);
        assert_eq!(position(&[0, 0, 0], false, None), 0);
        assert_eq!(position(b"", false, None), -1);
        let grow = [0x80u8, 0x00, 0x01];
        assert_eq!(position(&grow, true, r(1, Some(-1), Unit::Bit)), 23);
        assert_eq!(position(&grow, false, r(-1, Some(-1), Unit::Bit)), -1);
        assert_eq!(position(&grow, false, r(-100, Some(-50), Unit::Byte)), 1);
        assert_eq!(position(&grow, true, r(1, Some(22), Unit::Bit)), -1);
    }
}
