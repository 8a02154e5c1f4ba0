//! Redis glob patterns: `*`, `?`, `[...]` (with `^`, ranges and `\`), `\`.
//!
//! Owns the match rules for SCAN/KEYS MATCH and, later, pub/sub patterns.
//! The rules are Redis's `stringmatchlen`, quirks included, because a
//! client's pattern must select the same keys here as there:
//!
//! - an empty string matches only an empty pattern (`**` does not match
//!   `""`; callers special-case the lone `*`, as Redis's SCAN and KEYS do);
//! - `[` opens a class that ends at `]` or at the end of the pattern, `]`
//!   first in a class closes it (`[]]` matches nothing), and `!` does not
//!   negate;
//! - a range compares bytes as signed C `char`s, as Redis does on x86-64;
//! - a pattern needing more than 1000 nested `*` never matches.
//!
//! Unlike Redis's recursive matcher this one backtracks only to the last
//! `*`, so its cost is O(pattern × string) for any input; a hostile pattern
//! cannot make it exponential.

/// Redis's recursion limit, expressed as the number of `*` groups a match
/// may pass through.
const MAX_STAR_GROUPS: usize = 1000;

/// Whether `string` matches the Redis glob `pattern`.
pub fn glob_match(pattern: &[u8], string: &[u8]) -> bool {
    if string.is_empty() {
        return pattern.is_empty();
    }
    if inner_star_groups(pattern) > MAX_STAR_GROUPS {
        return false;
    }
    let (mut p, mut s) = (0usize, 0usize);
    // Where to resume after the last `*`: (pattern index after it, string
    // index it has consumed up to).
    let mut star: Option<(usize, usize)> = None;
    while let Some(&c) = string.get(s) {
        if let Some(&b'*') = pattern.get(p) {
            while pattern.get(p) == Some(&b'*') {
                p += 1;
            }
            if p == pattern.len() {
                return true;
            }
            star = Some((p, s));
            continue;
        }
        if p < pattern.len() {
            if let Some(next) = match_one(pattern, p, c) {
                p = next;
                s += 1;
                continue;
            }
        }
        match star {
            Some((sp, ss)) => {
                p = sp;
                s = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    while pattern.get(p) == Some(&b'*') {
        p += 1;
    }
    p == pattern.len()
}

/// Groups of consecutive `*` other than one at the very end; each costs
/// Redis one level of recursion.
fn inner_star_groups(pattern: &[u8]) -> usize {
    let mut groups = 0;
    let mut i = 0;
    while let Some(&b) = pattern.get(i) {
        if b == b'*' {
            while pattern.get(i) == Some(&b'*') {
                i += 1;
            }
            if i < pattern.len() {
                groups += 1;
            }
        } else {
            // A `\` escapes the next byte, so `\*` is not a star.
            i += if b == b'\\' { 2 } else { 1 };
        }
    }
    groups
}

/// Matches the single-byte token at `pattern[p]` (not `*`) against `c`.
/// Returns the index after the token if it matches.
fn match_one(pattern: &[u8], p: usize, c: u8) -> Option<usize> {
    match *pattern.get(p)? {
        b'?' => Some(p + 1),
        b'[' => match_class(pattern, p + 1, c),
        b'\\' if p + 1 < pattern.len() => (pattern.get(p + 1) == Some(&c)).then_some(p + 2),
        lit => (lit == c).then_some(p + 1),
    }
}

/// Matches a class whose body starts at `pattern[p]` (after `[`).
fn match_class(pattern: &[u8], mut p: usize, c: u8) -> Option<usize> {
    let negate = pattern.get(p) == Some(&b'^');
    if negate {
        p += 1;
    }
    let mut matched = false;
    loop {
        let Some(&b) = pattern.get(p) else {
            // Unterminated: the class ends with the pattern. Redis steps
            // back so that its loop's final increment lands on the end.
            p -= 1;
            break;
        };
        let left = pattern.len() - p;
        if b == b'\\' && left >= 2 {
            p += 1;
            matched |= pattern.get(p) == Some(&c);
        } else if b == b']' {
            break;
        } else if let (Some(b'-'), Some(&end)) = (pattern.get(p + 1), pattern.get(p + 2)) {
            let (mut lo, mut hi) = (signed(b), signed(end));
            if lo > hi {
                std::mem::swap(&mut lo, &mut hi);
            }
            matched |= (lo..=hi).contains(&signed(c));
            p += 2;
        } else {
            matched |= b == c;
        }
        p += 1;
    }
    (matched != negate).then_some(p + 1)
}

/// A byte as x86-64 C code sees a `char`.
fn signed(b: u8) -> i8 {
    b as i8
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each pattern with the keys Redis 7.0.15's SCAN MATCH returned for it
    /// from the set below.
    #[test]
    fn matches_redis_on_quirky_patterns() {
        let keys: [&[u8]; 11] = [
            b"", b"a", b"ab", b"]", b"^", b"a-", b"-", b"b", b"\\", b"[", b"x]",
        ];
        let cases: [(&[u8], &[&[u8]]); 16] = [
            (
                b"**",
                &[
                    b"a", b"a-", b"b", b"^", b"-", b"ab", b"[", b"]", b"x]", b"\\",
                ],
            ),
            (b"?", &[b"a", b"b", b"^", b"-", b"[", b"]", b"\\"]),
            (b"[a-]", &[b"a", b"^", b"]"]),
            (b"[^", &[b"a", b"b", b"^", b"-", b"[", b"]", b"\\"]),
            (b"[", &[]),
            (b"[]]", &[]),
            (b"[a-c]", &[b"a", b"b"]),
            (b"[c-a]", &[b"a", b"b"]),
            (b"\\", &[b"\\"]),
            (b"[\\]", &[b"]"]),
            (b"a[", &[]),
            (b"[!a]", &[b"a"]),
            (b"[^a]", &[b"b", b"^", b"-", b"[", b"]", b"\\"]),
            (b"*b", &[b"b", b"ab"]),
            (b"a*", &[b"a", b"a-", b"ab"]),
            (b"[\\]]", &[b"]"]),
        ];
        for (pattern, want) in cases {
            let mut got: Vec<&[u8]> = keys
                .iter()
                .copied()
                .filter(|k| glob_match(pattern, k))
                .collect();
            let mut want = want.to_vec();
            got.sort();
            want.sort();
            assert_eq!(got, want, "pattern {:?}", String::from_utf8_lossy(pattern));
        }
    }

    #[test]
    fn ordinary_globs() {
        assert!(glob_match(b"h?llo", b"hello"));
        assert!(glob_match(b"h*llo", b"heeeello"));
        assert!(glob_match(b"h*llo", b"hllo"));
        assert!(glob_match(b"h[ae]llo", b"hallo"));
        assert!(!glob_match(b"h[ae]llo", b"hillo"));
        assert!(glob_match(b"h[^e]llo", b"hallo"));
        assert!(!glob_match(b"h[^e]llo", b"hello"));
        assert!(glob_match(b"h[a-b]llo", b"hbllo"));
        assert!(glob_match(b"user:*:name", b"user:42:name"));
        assert!(!glob_match(b"user:*:name", b"user:42:age"));
        assert!(glob_match(b"a\\*b", b"a*b"));
        assert!(!glob_match(b"a\\*b", b"axb"));
        assert!(glob_match(b"*a*b*c*", b"xxaxxbxxcxx"));
        assert!(!glob_match(b"*a*b*c*d", b"xxaxxbxxcxx"));
        assert!(glob_match(b"", b"") && !glob_match(b"", b"a"));
    }

    #[test]
    fn binary_and_signed_ranges() {
        // [a-\xff] is [-1, 97] in signed chars: it covers 0x00..=0x61 and 0xff.
        let p = b"[a-\xff]";
        assert!(glob_match(p, b"\x00"));
        assert!(glob_match(p, b"a"));
        assert!(glob_match(p, b"\xff"));
        assert!(!glob_match(p, b"b"));
        assert!(!glob_match(p, b"\x80"));
    }

    #[test]
    fn hostile_patterns_stay_fast_and_follow_the_nesting_limit() {
        let s = vec![b'a'; 10_000];
        let mut p = b"*a".repeat(500);
        p.extend_from_slice(b"*b");
        let t = std::time::Instant::now();
        assert!(!glob_match(&p, &s));
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
        let deep = b"*a".repeat(1001);
        assert!(!glob_match(&deep, &s), "over 1000 nested stars never match");
        let ok = b"*a".repeat(999);
        assert!(glob_match(&ok, &s));
    }
}
