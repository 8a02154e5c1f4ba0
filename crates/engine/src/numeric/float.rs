//! INCRBYFLOAT arithmetic, delegated to the C `long double` shim.
//!
//! See `csrc/longdouble.c` for why this is C: Redis computes in `long
//! double` and its replies show that precision.

use crate::error::Error;
use std::ffi::{c_char, c_int, c_uchar};

/// Redis's `MAX_LONG_DOUBLE_CHARS`.
const OUT_CAP: usize = 5 * 1024;

unsafe extern "C" {
    fn tandem_ld_incr(
        current: *const c_uchar,
        current_len: usize,
        incr: *const c_uchar,
        incr_len: usize,
        out: *mut c_char,
        out_cap: usize,
    ) -> c_int;
    fn tandem_ld_timeout_ms(s: *const c_uchar, len: usize, ms: *mut i64) -> c_int;
    fn tandem_parse_double(s: *const c_char, lenient: c_int, out: *mut f64) -> c_int;
    fn tandem_format_double(v: f64, out: *mut c_char, cap: usize) -> c_int;
    fn tandem_parse_sort_score(s: *const c_char, out: *mut f64) -> c_int;
}

/// Which of the C parsers `parse_double_c` runs.
#[derive(Clone, Copy)]
enum Rules {
    /// `getDoubleFromObject`.
    Strict,
    /// `zslParseRange` after a `(`.
    Lenient,
    /// SORT's weights.
    Sort,
}

/// Runs the C parser on `text` made NUL-terminated (on the stack when
/// short). As in Redis, whose strings end in a NUL, the text ends at its
/// first NUL byte.
fn parse_double_c(text: &[u8], rules: Rules) -> Option<f64> {
    let mut stack = [0u8; 64];
    let mut heap = Vec::new();
    let buf: &mut [u8] = if text.len() < stack.len() {
        stack.get_mut(..=text.len())?
    } else {
        heap.resize(text.len() + 1, 0);
        &mut heap
    };
    buf.get_mut(..text.len())?.copy_from_slice(text);
    let mut out = 0.0;
    let s = buf.as_ptr().cast::<c_char>();
    let ok = match rules {
        // SAFETY: `buf` holds `text` and a NUL after it, and lives across
        // the call; the parser reads up to the first NUL and writes `out`
        // once.
        Rules::Strict => unsafe { tandem_parse_double(s, 0, &mut out) },
        // SAFETY: as above.
        Rules::Lenient => unsafe { tandem_parse_double(s, 1, &mut out) },
        // SAFETY: as above.
        Rules::Sort => unsafe { tandem_parse_sort_score(s, &mut out) },
    };
    (ok == 1).then_some(out)
}

/// A score or increment as Redis reads one (`getDoubleFromObject`):
/// `strtod`'s syntax over the whole text, not empty, no leading space, no
/// overflow, not NaN.
pub fn parse_score(text: &[u8]) -> Option<f64> {
    parse_double_c(text, Rules::Strict)
}

/// A SORT weight as Redis 7.0 reads one: `strtod` over the whole text
/// (empty reads as 0, leading space allowed), not out of range, not NaN.
pub fn parse_sort_score(text: &[u8]) -> Option<f64> {
    parse_double_c(text, Rules::Sort)
}

/// The number after a range's `(` (`zslParseRange`): `strtod`'s syntax
/// over the whole text (empty reads as 0), not NaN.
pub fn parse_score_lenient(text: &[u8]) -> Option<f64> {
    parse_double_c(text, Rules::Lenient)
}

/// A score as Redis 7.0 replies with one: `%.17g`, and `inf`, `-inf`.
pub fn format_score(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    // `%.17g` writes an integral value under 1e17 as its exact digits, with
    // no point and no exponent: the common case (a counter a script passes
    // to `redis.call`, a whole score) skips `snprintf`, ~2,000 instructions.
    // -0 keeps its sign there, so it takes the C path.
    if v.fract() == 0.0 && v.abs() < 1e17 && !(v == 0.0 && v.is_sign_negative()) {
        // Exact: |v| < 1e17 < 2^63.
        #[allow(clippy::cast_possible_truncation)]
        return (v as i64).to_string();
    }
    format_score_c(v)
}

/// `format_score` through C's `snprintf`.
fn format_score_c(v: f64) -> String {
    let mut buf = [0u8; 64];
    // SAFETY: `buf` is valid for `cap` bytes; the formatter writes at most
    // that many, NUL included, and keeps no pointer.
    let n = unsafe { tandem_format_double(v, buf.as_mut_ptr().cast::<c_char>(), buf.len()) };
    let n = usize::try_from(n).unwrap_or(0);
    String::from_utf8_lossy(buf.get(..n).unwrap_or_default()).into_owned()
}

/// A timeout given in seconds (`BLPOP`'s), in milliseconds as Redis 7.0
/// computes it: `long double` syntax and product, rounded up; past the
/// `i64` range it is `i64::MIN`, which Redis reports as negative. `None`
/// when the text is not a float.
pub fn seconds_to_ms(text: &[u8]) -> Option<i64> {
    let mut ms: i64 = 0;
    // SAFETY: `text` is valid for its length and `ms` for one write; the
    // shim reads at most `text.len()` bytes and keeps no pointer.
    let ok = unsafe { tandem_ld_timeout_ms(text.as_ptr(), text.len(), &mut ms) };
    (ok == 1).then_some(ms)
}

/// Adds the decimal `increment` to `current` (a missing key counts as 0) and
/// returns the new value's text, exactly as Redis would store it.
pub(crate) fn incr_by_float(current: Option<&[u8]>, increment: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = vec![0u8; OUT_CAP];
    let (cur_ptr, cur_len) = match current {
        Some(c) => (c.as_ptr(), c.len()),
        None => (std::ptr::null(), 0),
    };
    // SAFETY: every pointer is valid for the length passed with it (or null
    // with length 0 for a missing value); the shim reads at most those
    // lengths, writes at most `out.len()` bytes and keeps no pointer.
    let n = unsafe {
        tandem_ld_incr(
            cur_ptr,
            cur_len,
            increment.as_ptr(),
            increment.len(),
            out.as_mut_ptr().cast::<c_char>(),
            out.len(),
        )
    };
    match n {
        -1 | -2 => Err(Error::NotFloat),
        -3 => Err(Error::NanOrInfinity),
        n => {
            out.truncate(usize::try_from(n).map_err(|_| Error::NotFloat)?);
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(cur: Option<&str>, inc: &str) -> Result<String, Error> {
        incr_by_float(cur.map(str::as_bytes), inc.as_bytes())
            .map(|v| String::from_utf8(v).expect("ascii"))
    }

    #[test]
    fn scores_read_and_print_as_redis_7_0() {
        assert_eq!(parse_score(b"1.5"), Some(1.5));
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(
            parse_score(b"1\0junk"),
            Some(1.0),
            "ends at a NUL, as in Redis"
        );
        assert_eq!(parse_score(b""), None);
        assert_eq!(parse_score(b" 1"), None);
        assert_eq!(parse_score(b"nan"), None);
        assert_eq!(parse_score(b"1e400"), None);
        assert_eq!(parse_score(b"1x"), None);
        assert!(parse_score(&[b'1'; 100])
            .is_some_and(|v| (v / 1.111_111_111_111_111e99 - 1.0).abs() < 1e-15));
        assert_eq!(parse_score_lenient(b""), Some(0.0));
        assert_eq!(parse_score_lenient(b" 2"), Some(2.0));
        assert_eq!(parse_score_lenient(b"nan"), None);
        assert_eq!(parse_sort_score(b""), Some(0.0));
        assert_eq!(parse_sort_score(b" 3"), Some(3.0));
        assert_eq!(parse_sort_score(b"1e-400"), None, "underflow");
        assert_eq!(parse_sort_score(b"x"), None);
        assert_eq!(format_score(1.1), "1.1000000000000001");
        assert_eq!(format_score(2.0), "2");
        assert_eq!(format_score(-0.0), "-0");
        assert_eq!(format_score(1e300), "1.0000000000000001e+300");
        assert_eq!(format_score(f64::INFINITY), "inf");
    }

    #[test]
    fn whole_numbers_print_as_snprintf_prints_them() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut values = vec![
            0.0,
            1.0,
            -1.0,
            9_007_199_254_740_992.0,
            9_007_199_254_740_993.0,
            99_999_999_999_999_984.0,
            -99_999_999_999_999_984.0,
            1e17,
            -1e17,
            1e16,
        ];
        for shift in 0..64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = (x >> shift) as f64;
            values.extend([v, -v, v.trunc() * 0.5]);
        }
        for v in values {
            assert_eq!(format_score(v), format_score_c(v), "{v:e}");
        }
    }

    #[test]
    fn timeouts_read_as_redis_7_0_reads_them() {
        assert_eq!(seconds_to_ms(b"0"), Some(0));
        assert_eq!(seconds_to_ms(b"1.5"), Some(1500));
        assert_eq!(seconds_to_ms(b"0.001"), Some(1));
        assert_eq!(
            seconds_to_ms(b"0.0001"),
            Some(1),
            "rounded up, not for ever"
        );
        assert_eq!(seconds_to_ms(b"9223372036854775.807"), Some(i64::MAX));
        assert_eq!(seconds_to_ms(b"9223372036854776"), Some(i64::MIN));
        assert_eq!(seconds_to_ms(b"0x10"), Some(16000), "strtold reads hex");
        assert_eq!(seconds_to_ms(b"-1"), Some(-1000));
        assert_eq!(seconds_to_ms(b"inf"), Some(i64::MIN));
        assert_eq!(seconds_to_ms(b"1e400"), Some(i64::MIN));
        assert_eq!(seconds_to_ms(b"nan"), None);
        assert_eq!(seconds_to_ms(b" 1"), None);
        assert_eq!(seconds_to_ms(b""), None);
        assert_eq!(seconds_to_ms(b"x"), None);
    }

    /// Replies recorded from Redis 7.0.15 on x86-64.
    #[test]
    fn matches_redis_replies() {
        assert_eq!(add(Some("0.1"), "0.2").as_deref(), Ok("0.3"));
        assert_eq!(
            add(Some("123456.789"), "0").as_deref(),
            Ok("123456.78900000000000148")
        );
        assert_eq!(add(Some("10.5"), "0.1").as_deref(), Ok("10.6"));
        assert_eq!(
            add(Some("1e20"), "1").as_deref(),
            Ok("100000000000000000000")
        );
        assert_eq!(add(Some("3.0e3"), "0").as_deref(), Ok("3000"));
        assert_eq!(add(Some("0.5"), "1.123").as_deref(), Ok("1.623"));
        assert_eq!(add(Some("-0.0"), "0").as_deref(), Ok("0"));
        assert_eq!(add(Some("0.0000001"), "0").as_deref(), Ok("0.0000001"));
        assert_eq!(add(None, "5").as_deref(), Ok("5"));
    }

    #[test]
    fn rejects_non_floats_and_overflow() {
        assert_eq!(add(Some("abc"), "1"), Err(Error::NotFloat));
        assert_eq!(add(Some("1"), "abc"), Err(Error::NotFloat));
        assert_eq!(add(Some(" 1"), "1"), Err(Error::NotFloat));
        assert_eq!(add(Some("1"), ""), Err(Error::NotFloat));
        assert_eq!(add(Some("nan"), "1"), Err(Error::NotFloat));
        assert_eq!(add(Some("1"), "inf"), Err(Error::NanOrInfinity));
        assert_eq!(add(Some("1e4932"), "1e4932"), Err(Error::NanOrInfinity));
        let long = "1".repeat(6000);
        assert_eq!(add(Some(&long), "1"), Err(Error::NotFloat));
    }
}
