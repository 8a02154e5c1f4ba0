//! `Cursor`: checked reads from bytes that came from a file, and the
//! LEB128 varints the writer and the readers share.
//!
//! Owns the one place where snapshot bytes are turned into numbers and
//! slices. It must never index, trust a length it has not checked against
//! what remains, or panic: every read returns a `Malformed` saying where
//! and what, which the caller turns into `Error::Corrupt` with its file
//! and offset.

/// Bytes that do not decode: `what` was expected at byte `at` of the
/// slice being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed {
    pub at: usize,
    pub what: &'static str,
}

/// Appends `v` as an unsigned LEB128 varint.
pub(crate) fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// A read position in an untrusted slice.
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, pos: 0 }
    }

    /// A cursor at `pos` of `bytes`; reads fail if `pos` is past the end.
    pub fn at(bytes: &'a [u8], pos: usize) -> Self {
        Cursor { bytes, pos }
    }

    /// Where the next read starts.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn fail<T>(&self, what: &'static str) -> Result<T, Malformed> {
        Err(Malformed { at: self.pos, what })
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: u64, what: &'static str) -> Result<&'a [u8], Malformed> {
        let Ok(n) = usize::try_from(n) else {
            return self.fail(what);
        };
        let Some(end) = self.pos.checked_add(n) else {
            return self.fail(what);
        };
        let Some(slice) = self.bytes.get(self.pos..end) else {
            return self.fail(what);
        };
        self.pos = end;
        Ok(slice)
    }

    /// The next `N` bytes as an array.
    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], Malformed> {
        let mut out = [0u8; N];
        let slice = self.take(N as u64, what)?;
        for (dst, src) in out.iter_mut().zip(slice) {
            *dst = *src;
        }
        Ok(out)
    }

    /// The next byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, Malformed> {
        let [b] = self.array::<1>(what)?;
        Ok(b)
    }

    /// The next eight bytes, little-endian.
    pub fn u64_le(&mut self, what: &'static str) -> Result<u64, Malformed> {
        self.array(what).map(u64::from_le_bytes)
    }

    /// The next varint. More than ten bytes, or a tenth byte carrying more
    /// than the 64th bit, is malformed rather than silently wrapped.
    pub fn varint(&mut self, what: &'static str) -> Result<u64, Malformed> {
        let start = self.pos;
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&b) = self.bytes.get(self.pos) else {
                self.pos = start;
                return self.fail(what);
            };
            self.pos += 1;
            if shift == 63 && b > 1 {
                self.pos = start;
                return self.fail(what);
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        self.pos = start;
        self.fail(what)
    }

    /// The next varint, which must fit a `u32`.
    pub fn varint_u32(&mut self, what: &'static str) -> Result<u32, Malformed> {
        let start = self.pos;
        let v = self.varint(what)?;
        u32::try_from(v).map_err(|_| Malformed { at: start, what })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_have_the_length_they_claim() {
        let samples = [
            0,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX - 1,
            u64::MAX,
        ];
        for v in samples {
            let mut buf = Vec::new();
            put_varint(&mut buf, v);
            assert_eq!(
                buf.len(),
                (64 - (v | 1).leading_zeros() as usize).div_ceil(7),
                "{v}"
            );
            let mut c = Cursor::new(&buf);
            assert_eq!(c.varint("v").unwrap(), v);
            assert!(c.is_empty());
        }
    }

    #[test]
    fn overlong_and_cut_varints_are_malformed() {
        // Eleven continuation bytes, a tenth byte above 1, and a cut one.
        for bad in [
            &[0x80u8; 11][..],
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
            &[0x80],
        ] {
            let mut c = Cursor::new(bad);
            assert_eq!(c.varint("v"), Err(Malformed { at: 0, what: "v" }));
        }
        let mut c = Cursor::new(&[0x80, 0x80, 0x80, 0x80, 0x10]);
        assert!(c.varint_u32("v").is_err());
    }

    #[test]
    fn takes_past_the_end_fail_without_moving() {
        let bytes = [1, 2, 3];
        let mut c = Cursor::new(&bytes);
        assert!(c.take(4, "t").is_err());
        assert!(c.take(u64::MAX, "t").is_err());
        assert_eq!(c.take(2, "t").unwrap(), &[1, 2]);
        assert!(c.u64_le("u").is_err());
        assert_eq!(c.u8("b").unwrap(), 3);
        assert!(c.u8("b").is_err());
        let mut far = Cursor::at(&bytes, usize::MAX);
        assert!(far.take(1, "t").is_err());
    }
}
