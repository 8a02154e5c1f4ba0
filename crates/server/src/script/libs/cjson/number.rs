//! Numbers as C writes and reads them: `%.<precision>g` and `strtod`'s
//! prefix reading (decimal, hexadecimal, `inf`, `nan`).

/// C's `%.<precision>g`.
pub fn format_g(n: f64, precision: usize) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "inf" } else { "-inf" }.into();
    }
    let p = precision.max(1);
    if n == 0.0 {
        return if n.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{:.*e}", p - 1, n);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= p as i64 {
        let mantissa = strip_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        let decimals = usize::try_from(p as i64 - 1 - exp).unwrap_or(0);
        strip_zeros(&format!("{n:.decimals$}")).to_owned()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// `strtod` on the start of `s`: the number and how many bytes it took
/// (decimal, hexadecimal, `inf`, `infinity`, `nan`, with a sign).
pub fn strtod(s: &[u8]) -> Option<(f64, usize)> {
    let mut i = 0;
    let negative = match s.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let signed = |v: f64| if negative { -v } else { v };
    let rest = s.get(i..).unwrap_or_default();
    let word = |w: &[u8]| {
        rest.len() >= w.len()
            && rest
                .get(..w.len())
                .is_some_and(|r| r.eq_ignore_ascii_case(w))
    };
    if word(b"infinity") {
        return Some((signed(f64::INFINITY), i + 8));
    }
    if word(b"inf") {
        return Some((signed(f64::INFINITY), i + 3));
    }
    if word(b"nan") {
        let mut end = i + 3;
        if s.get(end) == Some(&b'(') {
            if let Some(close) = s.get(end..).and_then(|r| r.iter().position(|&b| b == b')')) {
                let inside = s.get(end + 1..end + close).unwrap_or_default();
                if inside
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
                {
                    end += close + 1;
                }
            }
        }
        return Some((signed(f64::NAN), end));
    }
    if rest.len() > 2
        && rest.first() == Some(&b'0')
        && rest.get(1).is_some_and(|b| b | 0x20 == b'x')
    {
        if let Some((v, used)) = hex_float(rest.get(2..).unwrap_or_default()) {
            return Some((signed(v), i + 2 + used));
        }
        // "0x" without digits reads as the 0.
        return Some((signed(0.0), i + 1));
    }
    let mut j = i;
    let digits = |s: &[u8], mut j: usize| {
        while s.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        j
    };
    let int_end = digits(s, j);
    let mut end = int_end;
    let mut any = int_end > j;
    if s.get(end) == Some(&b'.') {
        let frac_end = digits(s, end + 1);
        any |= frac_end > end + 1;
        end = frac_end;
    }
    if !any {
        return None;
    }
    if s.get(end).is_some_and(|b| b | 0x20 == b'e') {
        let mut k = end + 1;
        if matches!(s.get(k), Some(b'+' | b'-')) {
            k += 1;
        }
        let exp_end = digits(s, k);
        if exp_end > k {
            end = exp_end;
        }
    }
    j = end;
    let text = std::str::from_utf8(s.get(i..j).unwrap_or_default()).ok()?;
    let v: f64 = text.parse().ok()?;
    Some((signed(v), j))
}

/// The digits after `0x`: `[hex][.hex][p[+-]dec]`.
fn hex_float(s: &[u8]) -> Option<(f64, usize)> {
    let mut v = 0f64;
    let mut i = 0;
    let mut any = false;
    while let Some(d) = s.get(i).and_then(|&b| char::from(b).to_digit(16)) {
        v = v * 16.0 + f64::from(d);
        i += 1;
        any = true;
    }
    if s.get(i) == Some(&b'.') {
        let mut scale = 1.0 / 16.0;
        let mut k = i + 1;
        while let Some(d) = s.get(k).and_then(|&b| char::from(b).to_digit(16)) {
            v += f64::from(d) * scale;
            scale /= 16.0;
            k += 1;
            any = true;
        }
        if any {
            i = k;
        }
    }
    if !any {
        return None;
    }
    if s.get(i).is_some_and(|b| b | 0x20 == b'p') {
        let mut k = i + 1;
        let neg = match s.get(k) {
            Some(b'-') => {
                k += 1;
                true
            }
            Some(b'+') => {
                k += 1;
                false
            }
            _ => false,
        };
        let start = k;
        let mut e: i32 = 0;
        while let Some(d) = s.get(k).filter(|b| b.is_ascii_digit()) {
            e = e.saturating_mul(10).saturating_add(i32::from(d - b'0'));
            k += 1;
        }
        if k > start {
            v *= 2f64.powi(if neg { -e } else { e });
            i = k;
        }
    }
    Some((v, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_c_g_does() {
        for (n, p, text) in [
            (1.0, 14, "1"),
            (0.1, 14, "0.1"),
            (0.1 + 0.2, 14, "0.3"),
            (1e15, 14, "1e+15"),
            (123456789012345.0, 14, "1.2345678901234e+14"),
            (1e-5, 14, "1e-05"),
            (0.0001, 14, "0.0001"),
            (-2.5, 14, "-2.5"),
            (1.23456, 3, "1.23"),
            (-0.0, 14, "-0"),
        ] {
            assert_eq!(format_g(n, p), text, "{n} at {p}");
        }
    }

    #[test]
    fn strtod_reads_prefixes() {
        assert_eq!(strtod(b"12abc"), Some((12.0, 2)));
        assert_eq!(strtod(b"-1.5e3,"), Some((-1500.0, 6)));
        assert_eq!(strtod(b"0x1F]"), Some((31.0, 4)));
        assert_eq!(strtod(b"1e"), Some((1.0, 1)));
        assert_eq!(strtod(b"-inf"), Some((f64::NEG_INFINITY, 4)));
        assert_eq!(strtod(b"-x"), None);
        assert!(strtod(b"nan").is_some_and(|(v, n)| v.is_nan() && n == 3));
    }
}
