//! RDB lengths and strings: Redis's `rdbSaveLen`, `rdbSaveRawString` and
//! `rdbGenericLoadStringObject`, for bytes in memory.
//!
//! Owns the three encodings of a string (plain, a small integer, LZF) and
//! the four of a length. It must never allocate on a length it has not
//! checked against the bytes that follow: a claimed length past them is
//! an error, and an LZF string may claim at most what its compressed
//! bytes could expand to.

use std::borrow::Cow;

/// Why a string could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truncated;

/// A length's first byte's top two bits: a 6-bit length, a 14-bit one,
/// a longer one (its whole first byte says which), or an encoded string.
const LEN_6: u8 = 0;
const LEN_14: u8 = 1;
const LEN_32: u8 = 0x80;
const LEN_64: u8 = 0x81;
const ENCODED: u8 = 3;

const ENC_INT8: u64 = 0;
const ENC_INT16: u64 = 1;
const ENC_INT32: u64 = 2;
const ENC_LZF: u64 = 3;

/// An LZF token of three bytes writes at most 264: nothing longer can
/// come out of `n` compressed bytes than `n * 88`.
const LZF_MAX_RATIO: u64 = 88;

/// The longest string an LZF one may expand to: Redis's default
/// `proto-max-bulk-len`, the most a client can send as one argument.
pub const MAX_EXPANDED: u64 = 512 * 1024 * 1024;

/// Appends `len` as Redis writes a length.
pub fn put_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push((len as u8) | (LEN_6 << 6));
    } else if len < 1 << 14 {
        out.push(((len >> 8) as u8) | (LEN_14 << 6));
        out.push(len as u8);
    } else if let Ok(len) = u32::try_from(len) {
        out.push(LEN_32);
        out.extend_from_slice(&len.to_be_bytes());
    } else {
        out.push(LEN_64);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// Appends `s` as Redis's `rdbSaveRawString` does: as an integer if it is
/// one written canonically and fits 32 bits, LZF-compressed if
/// `compress` (Redis's `rdbcompression`, on by default) and that saves
/// more than 4 bytes, else as is.
pub fn put_string(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if s.len() <= 11 {
        if let Some(n) = canonical_int(s) {
            if let Ok(n) = i8::try_from(n) {
                out.push((ENCODED << 6) | ENC_INT8 as u8);
                out.extend_from_slice(&n.to_le_bytes());
                return;
            }
            if let Ok(n) = i16::try_from(n) {
                out.push((ENCODED << 6) | ENC_INT16 as u8);
                out.extend_from_slice(&n.to_le_bytes());
                return;
            }
            if let Ok(n) = i32::try_from(n) {
                out.push((ENCODED << 6) | ENC_INT32 as u8);
                out.extend_from_slice(&n.to_le_bytes());
                return;
            }
        }
    }
    if compress && s.len() > 20 {
        if let Ok(packed) = lzf::compress(s) {
            if packed.len() <= s.len() - 4 {
                out.push((ENCODED << 6) | ENC_LZF as u8);
                put_len(out, packed.len() as u64);
                put_len(out, s.len() as u64);
                out.extend_from_slice(&packed);
                return;
            }
        }
    }
    put_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// `s` as an integer, if it is one written as Redis writes it back.
fn canonical_int(s: &[u8]) -> Option<i64> {
    let n = tandem_engine::parse_i64(s)?;
    let mut buf = itoa::Buffer::new();
    (buf.format(n).as_bytes() == s).then_some(n)
}

/// Reads lengths and strings from a byte slice.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, pos: 0 }
    }

    /// Whether every byte was read.
    pub fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// The next byte.
    pub fn byte(&mut self) -> Result<u8, Truncated> {
        let b = *self.bytes.get(self.pos).ok_or(Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: u64) -> Result<&'a [u8], Truncated> {
        let n = usize::try_from(n).map_err(|_| Truncated)?;
        let end = self.pos.checked_add(n).ok_or(Truncated)?;
        let s = self.bytes.get(self.pos..end).ok_or(Truncated)?;
        self.pos = end;
        Ok(s)
    }

    /// A length, and whether it is a string's encoding instead.
    fn len_or_encoding(&mut self) -> Result<(u64, bool), Truncated> {
        let first = self.byte()?;
        match first >> 6 {
            LEN_6 => Ok((u64::from(first & 0x3f), false)),
            LEN_14 => Ok((
                (u64::from(first & 0x3f) << 8) | u64::from(self.byte()?),
                false,
            )),
            ENCODED => Ok((u64::from(first & 0x3f), true)),
            _ => match first {
                LEN_32 => {
                    let b = self.take(4)?;
                    Ok((
                        u64::from(u32::from_be_bytes(b.try_into().map_err(|_| Truncated)?)),
                        false,
                    ))
                }
                LEN_64 => {
                    let b = self.take(8)?;
                    Ok((
                        u64::from_be_bytes(b.try_into().map_err(|_| Truncated)?),
                        false,
                    ))
                }
                _ => Err(Truncated),
            },
        }
    }

    /// A length.
    pub fn len(&mut self) -> Result<u64, Truncated> {
        match self.len_or_encoding()? {
            (n, false) => Ok(n),
            (_, true) => Err(Truncated),
        }
    }

    /// A string, in any of its encodings.
    pub fn string(&mut self) -> Result<Vec<u8>, Truncated> {
        self.string_cow().map(Cow::into_owned)
    }

    /// A string, in any of its encodings: borrowed where it lies when
    /// it is stored plain, the common case a load reads most.
    pub fn string_cow(&mut self) -> Result<Cow<'a, [u8]>, Truncated> {
        let (n, encoded) = self.len_or_encoding()?;
        if !encoded {
            return Ok(Cow::Borrowed(self.take(n)?));
        }
        let int = |b: &[u8]| -> Cow<'a, [u8]> {
            let mut buf = itoa::Buffer::new();
            let n: i64 = match *b {
                [a] => i64::from(i8::from_le_bytes([a])),
                [a, b] => i64::from(i16::from_le_bytes([a, b])),
                [a, b, c, d] => i64::from(i32::from_le_bytes([a, b, c, d])),
                _ => 0,
            };
            Cow::Owned(buf.format(n).as_bytes().to_vec())
        };
        match n {
            ENC_INT8 => Ok(int(self.take(1)?)),
            ENC_INT16 => Ok(int(self.take(2)?)),
            ENC_INT32 => Ok(int(self.take(4)?)),
            ENC_LZF => {
                let packed_len = self.len()?;
                let len = self.len()?;
                let packed = self.take(packed_len)?;
                if len > packed_len.saturating_mul(LZF_MAX_RATIO) || len > MAX_EXPANDED {
                    return Err(Truncated);
                }
                let len = usize::try_from(len).map_err(|_| Truncated)?;
                if len == 0 {
                    return Err(Truncated);
                }
                // The decompressor allocates `len` infallibly: an
                // allocation the machine cannot make is refused here
                // rather than aborting the process there.
                let mut probe: Vec<u8> = Vec::new();
                probe.try_reserve_exact(len).map_err(|_| Truncated)?;
                drop(probe);
                let out = lzf::decompress(packed, len).map_err(|_| Truncated)?;
                if out.len() != len {
                    return Err(Truncated);
                }
                Ok(Cow::Owned(out))
            }
            _ => Err(Truncated),
        }
    }

    /// How many bytes were read.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// How many bytes are left.
    pub fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(s: &[u8], compress: bool) -> Vec<u8> {
        let mut out = Vec::new();
        put_string(&mut out, s, compress);
        let mut r = Reader::new(&out);
        let back = r.string();
        assert!(r.at_end(), "{s:?}");
        back.unwrap_or_default()
    }

    #[test]
    fn strings_come_back_in_every_encoding() {
        let long =
            b"#!lua name=lib\nredis.register_function('f', function() return 1 end)".repeat(20);
        for s in [
            &b""[..],
            b"0",
            b"-1",
            b"127",
            b"-129",
            b"32768",
            b"2147483647",
            b"2147483648",
            b"-0",
            b"007",
            b"plain text",
            &long,
            &[0xffu8; 300],
        ] {
            assert_eq!(round_trip(s, true), s);
            assert_eq!(round_trip(s, false), s);
        }
        let mut out = Vec::new();
        put_string(&mut out, &long, true);
        assert!(out.len() < long.len() / 4, "compressed: {}", out.len());
    }

    #[test]
    fn lengths_in_every_width() {
        for n in [
            0,
            63,
            64,
            16383,
            16384,
            u64::from(u32::MAX),
            u64::from(u32::MAX) + 1,
        ] {
            let mut out = Vec::new();
            put_len(&mut out, n);
            assert_eq!(Reader::new(&out).len(), Ok(n));
        }
    }

    #[test]
    fn claimed_lengths_past_the_bytes_are_refused_without_allocating() {
        // A plain string claiming 4 GiB.
        let mut out = Vec::new();
        put_len(&mut out, u64::from(u32::MAX));
        out.extend_from_slice(b"abc");
        assert_eq!(Reader::new(&out).string(), Err(Truncated));
        // An LZF string claiming far more than its bytes could hold.
        let out = [0xc3, 0x02, 0x80, 0x40, 0, 0, 0, 0x00, b'a'];
        assert_eq!(Reader::new(&out).string(), Err(Truncated));
        // Any bytes: an error or a string, never a panic.
        for seed in 0u32..2000 {
            let bytes: Vec<u8> = (0..(seed % 23))
                .map(|i| (seed.wrapping_mul(2_654_435_761).rotate_left(i) >> 7) as u8)
                .collect();
            let mut r = Reader::new(&bytes);
            let _ = r.string();
        }
    }
}
