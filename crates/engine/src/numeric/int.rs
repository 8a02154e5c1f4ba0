//! Redis's `string2ll`: the only integer syntax INCR and friends accept.

/// Longest accepted text: Redis's `LONG_STR_SIZE` (21) minus one.
const MAX_LEN: usize = 20;

/// Parses `s` as a signed 64-bit integer the way Redis's `string2ll` does.
///
/// Accepted: an optional `-`, then digits with no leading zero (a lone `0` is
/// fine), at most 20 bytes, and within `i64`. Rejected: empty input, `+`,
/// spaces, `-0`, leading zeros, and anything else.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > MAX_LEN {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut magnitude: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        magnitude = magnitude
            .checked_mul(10)?
            .checked_add(u64::from(d - b'0'))?;
    }
    if negative {
        // i64::MIN's magnitude is one more than i64::MAX.
        if magnitude > i64::MAX as u64 + 1 {
            return None;
        }
        Some((magnitude as i64).wrapping_neg())
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Formats `v` in decimal, the representation Redis stores after INCR.
pub(crate) fn format_i64(v: i64) -> itoa_buf::Buf {
    itoa_buf::Buf::new(v)
}

/// A stack buffer holding a formatted `i64`, so counters never allocate to
/// print themselves.
pub(crate) mod itoa_buf {
    /// Decimal text of one `i64`.
    pub(crate) struct Buf {
        bytes: [u8; 20],
        start: usize,
    }

    impl Buf {
        #[expect(
            clippy::indexing_slicing,
            reason = "20 bytes hold the 19 digits and the sign of any i64, so `pos` stays in bounds"
        )]
        pub(crate) fn new(v: i64) -> Self {
            let mut bytes = [0u8; 20];
            let mut pos = bytes.len();
            let mut m = v.unsigned_abs();
            loop {
                pos -= 1;
                bytes[pos] = b'0' + (m % 10) as u8;
                m /= 10;
                if m == 0 {
                    break;
                }
            }
            if v < 0 {
                pos -= 1;
                bytes[pos] = b'-';
            }
            Self { bytes, start: pos }
        }

        pub(crate) fn as_bytes(&self) -> &[u8] {
            self.bytes.get(self.start..).unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_redis_accepts() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"1"), Some(1));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
    }

    #[test]
    fn rejects_what_redis_rejects() {
        for bad in [
            &b""[..],
            b"-",
            b"+1",
            b" 1",
            b"1 ",
            b"01",
            b"-0",
            b"00",
            b"1.0",
            b"1e3",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"18446744073709551616",
            b"123456789012345678901",
            b"\xff",
            b"0x10",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn formats_round_trip() {
        for v in [0, 1, -1, 10, -10, 12345, i64::MAX, i64::MIN] {
            let buf = format_i64(v);
            assert_eq!(buf.as_bytes(), v.to_string().as_bytes());
            assert_eq!(parse_i64(buf.as_bytes()), Some(v));
        }
    }
}
