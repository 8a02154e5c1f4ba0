//! LEB128 varints for the lengths in an entry's block.
//!
//! Owns encoding and decoding `u32` lengths in 1 to 5 bytes. It must never
//! read or write past the slice it is given beyond what the caller sized
//! with `varint_len`.

pub(super) fn varint_len(v: u32) -> usize {
    match v {
        0..=0x7f => 1,
        0x80..=0x3fff => 2,
        0x4000..=0x1f_ffff => 3,
        0x20_0000..=0xfff_ffff => 4,
        _ => 5,
    }
}

#[expect(
    clippy::indexing_slicing,
    reason = "callers size `out` with `varint_len`: at least as many bytes as the loop writes"
)]
pub(super) fn put_varint(out: &mut [u8], mut v: u32) -> usize {
    let mut i = 0;
    while v >= 0x80 {
        out[i] = (v as u8) | 0x80;
        v >>= 7;
        i += 1;
    }
    out[i] = v as u8;
    i + 1
}

pub(super) fn get_varint(inp: &[u8]) -> (u32, usize) {
    let mut v = 0u32;
    for (i, &b) in inp.iter().enumerate().take(5) {
        v |= u32::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return (v, i + 1);
        }
    }
    // Unreachable for blocks this module wrote; an empty value is the
    // harmless answer if it ever were reached.
    (0, 1)
}
