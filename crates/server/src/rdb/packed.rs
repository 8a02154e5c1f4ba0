//! Redis's packed encodings, as an RDB file or a DUMP payload carries
//! them inside one string: listpack (7.0), ziplist (before 7.0), intset
//! and zipmap (Redis 2.4's hashes).
//!
//! Owns reading them, every entry checked as Redis's deep integrity
//! check would: headers against the bytes there, each entry's length
//! and back-length, the end mark, the count, an intset's order. It must
//! never read past the string, trust a length it has not checked, or
//! panic on any bytes.

/// An entry: bytes or an integer (either may stand for a string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item<'a> {
    /// A string entry.
    Bytes(&'a [u8]),
    /// An integer entry, which a reader sees as its decimal text.
    Int(i64),
}

impl Item<'_> {
    /// Runs `f` on the entry as text.
    pub fn with_text<R>(self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Item::Bytes(b) => f(b),
            Item::Int(n) => f(itoa::Buffer::new().format(n).as_bytes()),
        }
    }
}

/// Bytes that are not the encoding they claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// The end mark of a listpack, a ziplist and a zipmap.
const END: u8 = 0xff;

/// A little-endian unsigned integer of `N` bytes at `at`.
fn le<const N: usize>(bytes: &[u8], at: usize) -> Result<u64, Corrupt> {
    let b = bytes
        .get(at..at.checked_add(N).ok_or(Corrupt)?)
        .ok_or(Corrupt)?;
    Ok(b.iter()
        .rev()
        .fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
}

/// `v`'s low `bits` bits as a two's complement number.
fn signed(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

/// Calls `f` on each entry of a listpack; returns how many there were.
pub fn listpack<'a>(
    lp: &'a [u8],
    mut f: impl FnMut(Item<'a>) -> Result<(), Corrupt>,
) -> Result<usize, Corrupt> {
    // Header: total bytes (4), entry count (2, 65535 when unknown).
    if lp.len() < 7 || le::<4>(lp, 0)? != lp.len() as u64 {
        return Err(Corrupt);
    }
    let claimed = le::<2>(lp, 4)?;
    let mut at = 6;
    let mut count = 0usize;
    loop {
        let first = *lp.get(at).ok_or(Corrupt)?;
        if first == END {
            break;
        }
        let (item, len) = listpack_entry(lp, at, first)?;
        // The back-length: the entry's length, 7 bits a byte, so that
        // the list can be walked from its tail.
        let back = backlen_size(len);
        let back_at = at.checked_add(len).ok_or(Corrupt)?;
        let stored = lp.get(back_at..back_at + back).ok_or(Corrupt)?;
        if stored != backlen(len, back).as_slice() {
            return Err(Corrupt);
        }
        f(item)?;
        count += 1;
        at = back_at + back;
    }
    if at + 1 != lp.len() || (claimed != 0xffff && claimed != count as u64) {
        return Err(Corrupt);
    }
    Ok(count)
}

/// A string entry at `at`: its `len` bytes after `head` bytes of
/// encoding, and the length of both.
fn string_at(buf: &[u8], at: usize, head: usize, len: u64) -> Result<(Item<'_>, usize), Corrupt> {
    let len = usize::try_from(len).map_err(|_| Corrupt)?;
    let start = at.checked_add(head).ok_or(Corrupt)?;
    let s = buf
        .get(start..start.checked_add(len).ok_or(Corrupt)?)
        .ok_or(Corrupt)?;
    Ok((Item::Bytes(s), head + len))
}

/// The byte at `i`, widened.
fn byte_at(buf: &[u8], i: usize) -> Result<u64, Corrupt> {
    buf.get(i).copied().map(u64::from).ok_or(Corrupt)
}

/// The entry at `at` (first byte `first`) and the length of its
/// encoding and data.
fn listpack_entry(lp: &[u8], at: usize, first: u8) -> Result<(Item<'_>, usize), Corrupt> {
    let string = |head: usize, len: u64| string_at(lp, at, head, len);
    let byte = |i: usize| byte_at(lp, at + i);
    Ok(match first {
        0x00..=0x7f => (Item::Int(i64::from(first)), 1),
        0x80..=0xbf => return string(1, u64::from(first & 0x3f)),
        0xc0..=0xdf => {
            let v = (u64::from(first & 0x1f) << 8) | byte(1)?;
            (Item::Int(signed(v, 13)), 2)
        }
        0xe0..=0xef => return string(2, (u64::from(first & 0x0f) << 8) | byte(1)?),
        0xf0 => return string(5, le::<4>(lp, at + 1)?),
        0xf1 => (Item::Int(signed(le::<2>(lp, at + 1)?, 16)), 3),
        0xf2 => (Item::Int(signed(le::<3>(lp, at + 1)?, 24)), 4),
        0xf3 => (Item::Int(signed(le::<4>(lp, at + 1)?, 32)), 5),
        0xf4 => (Item::Int(signed(le::<8>(lp, at + 1)?, 64)), 9),
        _ => return Err(Corrupt),
    })
}

/// How many bytes the back-length of an entry of `len` bytes takes.
fn backlen_size(len: usize) -> usize {
    match len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

/// The back-length's bytes as Redis writes them (`lpEncodeBacklen`): the
/// highest 7 bits first, every byte but the first flagged.
fn backlen(len: usize, size: usize) -> Vec<u8> {
    (0..size)
        .map(|i| {
            let shift = 7 * (size - 1 - i);
            let bits = ((len >> shift) & 0x7f) as u8;
            if i == 0 {
                bits
            } else {
                bits | 0x80
            }
        })
        .collect()
}

/// A listpack holding `items`, encoded as Redis's `lpAppend` and
/// `lpAppendInteger` encode them: a string that is a canonical integer of
/// at most 20 characters is stored as that integer, each integer in the
/// smallest of Redis's integer encodings.
pub fn listpack_write(items: &[Item<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for item in items {
        let start = body.len();
        let as_int = match *item {
            Item::Int(n) => Some(n),
            Item::Bytes(b) if b.len() <= 20 => tandem_engine::parse_i64(b),
            Item::Bytes(_) => None,
        };
        match (as_int, item) {
            (Some(n), _) => put_lp_int(&mut body, n),
            (None, Item::Bytes(b)) => {
                let len = b.len();
                if len < 64 {
                    body.push(0x80 | len as u8);
                } else if len < 4096 {
                    body.push(0xe0 | (len >> 8) as u8);
                    body.push((len & 0xff) as u8);
                } else {
                    body.push(0xf0);
                    body.extend_from_slice(&(len as u32).to_le_bytes());
                }
                body.extend_from_slice(b);
            }
            (None, Item::Int(_)) => {}
        }
        let len = body.len() - start;
        body.extend_from_slice(&backlen(len, backlen_size(len)));
    }
    let total = 6 + body.len() + 1;
    let mut lp = Vec::with_capacity(total);
    lp.extend_from_slice(&(total as u32).to_le_bytes());
    let count = u16::try_from(items.len()).unwrap_or(u16::MAX);
    lp.extend_from_slice(&count.to_le_bytes());
    lp.extend_from_slice(&body);
    lp.push(END);
    lp
}

/// An integer entry's encoding and data (`lpEncodeIntegerGetType`).
fn put_lp_int(out: &mut Vec<u8>, n: i64) {
    if (0..=127).contains(&n) {
        out.push(n as u8);
    } else if (-4096..=4095).contains(&n) {
        let v = (n as u64) & 0x1fff;
        out.push(0xc0 | (v >> 8) as u8);
        out.push((v & 0xff) as u8);
    } else if let Ok(v) = i16::try_from(n) {
        out.push(0xf1);
        out.extend_from_slice(&v.to_le_bytes());
    } else if (-8_388_608..=8_388_607).contains(&n) {
        out.push(0xf2);
        let [a, b, c, _] = (n as i32).to_le_bytes();
        out.extend_from_slice(&[a, b, c]);
    } else if let Ok(v) = i32::try_from(n) {
        out.push(0xf3);
        out.extend_from_slice(&v.to_le_bytes());
    } else {
        out.push(0xf4);
        out.extend_from_slice(&n.to_le_bytes());
    }
}

/// Calls `f` on each entry of a ziplist; returns how many there were.
pub fn ziplist<'a>(
    zl: &'a [u8],
    mut f: impl FnMut(Item<'a>) -> Result<(), Corrupt>,
) -> Result<usize, Corrupt> {
    // Header: total bytes (4), offset of the last entry (4), count (2).
    if zl.len() < 11 || le::<4>(zl, 0)? != zl.len() as u64 {
        return Err(Corrupt);
    }
    let tail = le::<4>(zl, 4)?;
    let claimed = le::<2>(zl, 8)?;
    let mut at = 10usize;
    let mut prev_len = 0usize;
    let mut last = at;
    let mut count = 0usize;
    loop {
        let first = *zl.get(at).ok_or(Corrupt)?;
        if first == END {
            break;
        }
        let start = at;
        // The previous entry's length: one byte, or 0xfe and four.
        let prev = if first < 0xfe {
            at += 1;
            usize::from(first)
        } else if first == 0xfe {
            let p = le::<4>(zl, at + 1)?;
            at += 5;
            usize::try_from(p).map_err(|_| Corrupt)?
        } else {
            return Err(Corrupt);
        };
        if prev != prev_len {
            return Err(Corrupt);
        }
        let enc = *zl.get(at).ok_or(Corrupt)?;
        let (item, used) = ziplist_entry(zl, at, enc)?;
        at = at.checked_add(used).ok_or(Corrupt)?;
        f(item)?;
        count += 1;
        prev_len = at - start;
        last = start;
    }
    let tail_ok = if count == 0 {
        tail == 10
    } else {
        tail == last as u64
    };
    if at + 1 != zl.len() || !tail_ok || (claimed != 0xffff && claimed != count as u64) {
        return Err(Corrupt);
    }
    Ok(count)
}

/// The ziplist entry whose encoding byte `enc` is at `at`, and the
/// length of its encoding and data.
fn ziplist_entry(zl: &[u8], at: usize, enc: u8) -> Result<(Item<'_>, usize), Corrupt> {
    let string = |head: usize, len: u64| string_at(zl, at, head, len);
    let byte = |i: usize| byte_at(zl, at + i);
    match enc >> 6 {
        0 => return string(1, u64::from(enc & 0x3f)),
        1 => return string(2, (u64::from(enc & 0x3f) << 8) | byte(1)?),
        2 if enc == 0x80 => {
            let len = (byte(1)? << 24) | (byte(2)? << 16) | (byte(3)? << 8) | byte(4)?;
            return string(5, len);
        }
        2 => return Err(Corrupt),
        _ => {}
    }
    Ok(match enc {
        0xc0 => (Item::Int(signed(le::<2>(zl, at + 1)?, 16)), 3),
        0xd0 => (Item::Int(signed(le::<4>(zl, at + 1)?, 32)), 5),
        0xe0 => (Item::Int(signed(le::<8>(zl, at + 1)?, 64)), 9),
        0xf0 => (Item::Int(signed(le::<3>(zl, at + 1)?, 24)), 4),
        0xfe => (Item::Int(signed(le::<1>(zl, at + 1)?, 8)), 2),
        // An immediate 0..12, stored as 1..13.
        0xf1..=0xfd => (Item::Int(i64::from(enc & 0x0f) - 1), 1),
        _ => return Err(Corrupt),
    })
}

/// Calls `f` on each member of an intset, which must be ascending with
/// no repeat; returns how many there were.
pub fn intset(is: &[u8], mut f: impl FnMut(i64) -> Result<(), Corrupt>) -> Result<usize, Corrupt> {
    let width = le::<4>(is, 0)?;
    let count = le::<4>(is, 4)?;
    let width = match width {
        2 | 4 | 8 => width as usize,
        _ => return Err(Corrupt),
    };
    let count = usize::try_from(count).map_err(|_| Corrupt)?;
    // Redis's `intsetValidateIntegrity` refuses an empty one.
    if count == 0 || count.checked_mul(width).and_then(|n| n.checked_add(8)) != Some(is.len()) {
        return Err(Corrupt);
    }
    let mut prev: Option<i64> = None;
    for i in 0..count {
        let at = 8 + i * width;
        let v = match width {
            2 => signed(le::<2>(is, at)?, 16),
            4 => signed(le::<4>(is, at)?, 32),
            _ => signed(le::<8>(is, at)?, 64),
        };
        if prev.is_some_and(|p| p >= v) {
            return Err(Corrupt);
        }
        prev = Some(v);
        f(v)?;
    }
    Ok(count)
}

/// Calls `f` on each field and value of a zipmap (Redis 2.4's small
/// hashes); returns how many pairs there were.
pub fn zipmap<'a>(
    zm: &'a [u8],
    mut f: impl FnMut(&'a [u8], &'a [u8]) -> Result<(), Corrupt>,
) -> Result<usize, Corrupt> {
    const BIGLEN: u8 = 254;
    let claimed = *zm.first().ok_or(Corrupt)?;
    let mut at = 1usize;
    // A length: one byte under 254, else 254 and four.
    let len = |at: &mut usize| -> Result<usize, Corrupt> {
        let first = *zm.get(*at).ok_or(Corrupt)?;
        if first < BIGLEN {
            *at += 1;
            Ok(usize::from(first))
        } else if first == BIGLEN {
            let n = le::<4>(zm, *at + 1)?;
            *at += 5;
            usize::try_from(n).map_err(|_| Corrupt)
        } else {
            Err(Corrupt)
        }
    };
    let take = |at: &mut usize, n: usize| -> Result<&'a [u8], Corrupt> {
        let s = zm
            .get(*at..at.checked_add(n).ok_or(Corrupt)?)
            .ok_or(Corrupt)?;
        *at += n;
        Ok(s)
    };
    let mut count = 0usize;
    while *zm.get(at).ok_or(Corrupt)? != END {
        let flen = len(&mut at)?;
        let field = take(&mut at, flen)?;
        let vlen = len(&mut at)?;
        let free = usize::from(*zm.get(at).ok_or(Corrupt)?);
        at += 1;
        let value = take(&mut at, vlen)?;
        take(&mut at, free)?;
        f(field, value)?;
        count += 1;
    }
    // Redis's `zipmapValidateIntegrity` refuses an empty one.
    if count == 0 || at + 1 != zm.len() || (claimed < BIGLEN && usize::from(claimed) != count) {
        return Err(Corrupt);
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(
        f: impl FnOnce(&mut dyn FnMut(Item<'_>) -> Result<(), Corrupt>) -> Result<usize, Corrupt>,
    ) -> Vec<String> {
        let mut out = Vec::new();
        let n = f(&mut |i: Item<'_>| {
            out.push(i.with_text(|t| String::from_utf8_lossy(t).into_owned()));
            Ok(())
        });
        assert_eq!(n, Ok(out.len()));
        out
    }

    /// A listpack as Redis 7.0.15 wrote it for `RPUSH l a 1 -1 300 hello
    /// 70000 -70000 5000000000` (DUMP's quicklist node).
    const LISTPACK: &[u8] = b"\x2d\x00\x00\x00\x08\x00\x81a\x02\x01\x01\xdf\xff\x02\xc1\x2c\x02\x85hello\x06\xf2\x70\x11\x01\x04\xf2\x90\xee\xfe\x04\xf4\x00\xf2\x05\x2a\x01\x00\x00\x00\x09\xff";

    #[test]
    fn a_listpack_reads_every_encoding() {
        assert_eq!(
            items(|f| listpack(LISTPACK, f)),
            [
                "a",
                "1",
                "-1",
                "300",
                "hello",
                "70000",
                "-70000",
                "5000000000"
            ]
        );
    }

    #[test]
    fn a_ziplist_reads_every_encoding() {
        // Built by hand to the ziplist layout: "ab", 12 (immediate), -2
        // (int8), 1000 (int16), 100000 (int24), an int32, an int64.
        let entries: &[&[u8]] = &[
            b"\x02ab",
            b"\xfd",
            b"\xfe\xfe",
            b"\xc0\xe8\x03",
            b"\xf0\xa0\x86\x01",
            b"\xd0\x00\x00\x00\x80",
            b"\xe0\x00\xe4\x0b\x54\x02\x00\x00\x00",
        ];
        let mut body = Vec::new();
        let mut prev = 0usize;
        let mut last = 0usize;
        for e in entries {
            last = 10 + body.len();
            body.push(prev as u8);
            body.extend_from_slice(e);
            prev = 1 + e.len();
        }
        let mut zl = Vec::new();
        zl.extend_from_slice(&((10 + body.len() + 1) as u32).to_le_bytes());
        zl.extend_from_slice(&(last as u32).to_le_bytes());
        zl.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        zl.extend_from_slice(&body);
        zl.push(END);
        assert_eq!(
            items(|f| ziplist(&zl, f)),
            [
                "ab",
                "12",
                "-2",
                "1000",
                "100000",
                "-2147483648",
                "10000000000"
            ]
        );
        // A wrong previous length, count or tail is refused.
        for at in [10, 8, 4] {
            let mut bad = zl.clone();
            bad[at] ^= 1;
            assert_eq!(ziplist(&bad, |_| Ok(())), Err(Corrupt), "byte {at}");
        }
    }

    #[test]
    fn an_intset_must_be_ascending() {
        let mut is = vec![2, 0, 0, 0, 3, 0, 0, 0];
        for v in [-5i16, 0, 300] {
            is.extend_from_slice(&v.to_le_bytes());
        }
        let mut got = Vec::new();
        assert_eq!(
            intset(&is, |v| {
                got.push(v);
                Ok(())
            }),
            Ok(3)
        );
        assert_eq!(got, [-5, 0, 300]);
        let mut bad = is.clone();
        bad[8..10].copy_from_slice(&400i16.to_le_bytes());
        assert_eq!(intset(&bad, |_| Ok(())), Err(Corrupt));
        assert_eq!(intset(&is[..11], |_| Ok(())), Err(Corrupt));
    }

    #[test]
    fn a_zipmap_reads_its_pairs() {
        let zm = b"\x02\x01a\x02\x00xy\x03foo\x01\x02b??\xff";
        let mut got = Vec::new();
        assert_eq!(
            zipmap(zm, |f, v| {
                got.push((f.to_vec(), v.to_vec()));
                Ok(())
            }),
            Ok(2)
        );
        assert_eq!(
            got,
            [
                (b"a".to_vec(), b"xy".to_vec()),
                (b"foo".to_vec(), b"b".to_vec())
            ]
        );
    }

    #[test]
    fn any_bytes_give_an_error_or_entries_never_a_panic() {
        for seed in 0u32..5000 {
            let mut bytes: Vec<u8> = (0..(seed % 40))
                .map(|i| (seed.wrapping_mul(2_654_435_761).rotate_left(i) >> 5) as u8)
                .collect();
            if bytes.len() >= 4 {
                let n = bytes.len() as u32;
                bytes[..4].copy_from_slice(&n.to_le_bytes());
            }
            let _ = listpack(&bytes, |_| Ok(()));
            let _ = ziplist(&bytes, |_| Ok(()));
            let _ = intset(&bytes, |_| Ok(()));
            let _ = zipmap(&bytes, |_, _| Ok(()));
        }
        let mut bad = LISTPACK.to_vec();
        bad[6] = 0x85; // "a" claims five bytes
        assert_eq!(listpack(&bad, |_| Ok(())), Err(Corrupt));
    }
}
