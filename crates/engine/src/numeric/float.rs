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
