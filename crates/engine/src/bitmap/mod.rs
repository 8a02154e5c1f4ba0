//! Bits of a string value, as Redis 7.0's bitops.c reads and writes them:
//! bit 0 is the most significant bit of byte 0, and a string reads as
//! zero-padded past its end.
//!
//! Owns the arithmetic of GETBIT/SETBIT, BITCOUNT and BITPOS over a range
//! (`range.rs`), BITFIELD's typed fields and overflow rules (`field.rs`),
//! and BITOP's combination of strings. Pure functions over bytes: no key,
//! no lock, no allocation beyond the result. It must never index past the
//! bytes it is given, whatever offset or range a client sent.

mod field;
mod range;

pub use field::{BitStore, Field, FieldOp, FieldType, Outcome, Overflow};
pub use range::{count, position, Range, Unit};

/// The bit at `offset` (0 past the end).
pub fn get_bit(bytes: &[u8], offset: u64) -> bool {
    let Ok(byte) = usize::try_from(offset >> 3) else {
        return false;
    };
    bytes
        .get(byte)
        .is_some_and(|b| b & (0x80 >> (offset & 7)) != 0)
}

/// Sets the bit at `offset` to `on` (the caller made `bytes` long enough;
/// an offset past the end changes nothing).
pub fn set_bit(bytes: &mut [u8], offset: u64, on: bool) {
    let Ok(byte) = usize::try_from(offset >> 3) else {
        return;
    };
    if let Some(b) = bytes.get_mut(byte) {
        let mask = 0x80 >> (offset & 7);
        if on {
            *b |= mask;
        } else {
            *b &= !mask;
        }
    }
}

/// BITOP's operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitOp {
    /// AND of every source.
    And,
    /// OR of every source.
    Or,
    /// XOR of every source.
    Xor,
    /// NOT of the one source.
    Not,
}

/// BITOP's result: as long as the longest source, a shorter source read
/// as zero-padded. Empty when every source is.
pub fn combine(op: BitOp, sources: &[&[u8]]) -> Vec<u8> {
    let len = sources.iter().map(|s| s.len()).max().unwrap_or(0);
    let byte = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    let mut out = Vec::with_capacity(len);
    for i in 0..len {
        let mut it = sources.iter().map(|s| byte(s, i));
        let first = it.next().unwrap_or(0);
        out.push(match op {
            BitOp::Not => !first,
            BitOp::And => it.fold(first, |a, b| a & b),
            BitOp::Or => it.fold(first, |a, b| a | b),
            BitOp::Xor => it.fold(first, |a, b| a ^ b),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_count_from_the_most_significant_end() {
        let mut b = vec![0u8; 2];
        set_bit(&mut b, 0, true);
        set_bit(&mut b, 15, true);
        assert_eq!(b, [0x80, 0x01]);
        assert!(get_bit(&b, 0) && get_bit(&b, 15) && !get_bit(&b, 1));
        assert!(!get_bit(&b, 16) && !get_bit(&b, u64::MAX));
        set_bit(&mut b, 99, true);
        set_bit(&mut b, 0, false);
        assert_eq!(b, [0x00, 0x01]);
    }

    #[test]
    fn bitop_pads_shorter_sources_with_zeros() {
        // "foobar" and "abcdef", recorded from Redis 7.0.15.
        assert_eq!(combine(BitOp::And, &[b"foobar", b"abcdef"]), b"`bc`ab");
        assert_eq!(combine(BitOp::Or, &[b"foobar", b"abcdef"]), b"goofev");
        assert_eq!(combine(BitOp::Or, &[b"foobar", b"ab"]), b"goobar");
        assert_eq!(
            combine(BitOp::And, &[b"foobar", b"ab"]),
            b"`b\0\0\0\0".to_vec()
        );
        assert_eq!(combine(BitOp::Not, &[b"\x00\xf0"]), [0xff, 0x0f]);
        assert!(combine(BitOp::Or, &[b"", b""]).is_empty());
    }
}
