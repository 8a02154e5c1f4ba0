//! Block framing: how any block's contents are stored, and checked on
//! the way back.
//!
//! Owns compression and the 9-byte trailer (`flag: u8`, `uncompressed
//! length: u32`, `crc32c: u32` of everything before it in the block). It
//! must never know what a block holds (data, index, bloom or properties)
//! and never allocate for a block's contents before its claimed length is
//! checked against the bytes actually stored and the fixed bound.

use super::cursor::Malformed;
use super::{MAX_BLOCK_LEN, VERIFY_CHECKSUMS};

/// Bytes of the trailer that ends every block.
pub(crate) const TRAILER_LEN: usize = 9;

/// Trailer flag: the contents are stored as they are.
const FLAG_RAW: u8 = 0;
/// Trailer flag: the contents are an lz4 block (no size prefix).
const FLAG_LZ4: u8 = 1;

/// lz4 cannot expand input by more than this: a sequence's match length
/// grows by at most 255 per byte spent on it. A claimed length above
/// `LZ4_MAX_RATIO * stored + LZ4_SLACK` is corruption, which is what
/// bounds a reader's allocation by the file's own size.
const LZ4_MAX_RATIO: usize = 255;
const LZ4_SLACK: usize = 16;

/// Makes `contents` into a stored block in `out` (replacing what it held):
/// lz4-compressed if `compress` and if that is smaller, then the trailer.
/// Fails only if `contents` is over `MAX_BLOCK_LEN`, which the builder's
/// own limits prevent.
pub(crate) fn seal(contents: &[u8], compress: bool, out: &mut Vec<u8>) -> Result<(), &'static str> {
    if contents.len() > MAX_BLOCK_LEN {
        return Err("block is over the format's limit");
    }
    let len = contents.len() as u32;
    out.clear();
    let mut flag = FLAG_RAW;
    if compress && !contents.is_empty() {
        // `resize` only zeroes growth, and `out` is reused, so after the
        // first block this costs no more than the compressor's own pass.
        out.resize(lz4_flex::block::get_maximum_output_size(contents.len()), 0);
        match lz4_flex::block::compress_into(contents, out) {
            Ok(n) if n < contents.len() => {
                out.truncate(n);
                flag = FLAG_LZ4;
            }
            // Incompressible (or a compressor failure, which costs only
            // the saving): store as is.
            _ => out.clear(),
        }
    }
    if flag == FLAG_RAW {
        out.extend_from_slice(contents);
    }
    out.push(flag);
    out.extend_from_slice(&len.to_le_bytes());
    let crc = crc32c::crc32c(out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(())
}

/// Checks the stored block in `stored` (contents and trailer) and leaves
/// its contents in `contents`; `stored` is left holding scratch bytes.
/// Both buffers are the caller's, reused across blocks, so reading a table
/// allocates only when a block is bigger than any before it.
///
/// `min_len` is the fewest content bytes the caller knows the block must
/// have (from its entry count); a smaller claim is corruption.
pub(crate) fn unseal(
    stored: &mut Vec<u8>,
    contents: &mut Vec<u8>,
    min_len: usize,
) -> Result<(), Malformed> {
    let Some(body_len) = stored.len().checked_sub(TRAILER_LEN) else {
        return Err(Malformed {
            at: 0,
            what: "block shorter than its trailer",
        });
    };
    let (body, trailer) = stored.split_at(body_len);
    let bad = |what| Malformed { at: body_len, what };
    let [flag, l0, l1, l2, l3, c0, c1, c2, c3] =
        <[u8; TRAILER_LEN]>::try_from(trailer).map_err(|_| bad("trailer"))?;
    let claimed = u32::from_le_bytes([l0, l1, l2, l3]) as usize;
    let crc = u32::from_le_bytes([c0, c1, c2, c3]);
    if VERIFY_CHECKSUMS {
        let covered = stored.get(..body_len + 5).ok_or(bad("trailer"))?;
        if crc32c::crc32c(covered) != crc {
            return Err(bad("block checksum mismatch"));
        }
    }
    if claimed < min_len {
        return Err(bad("block shorter than its entry count needs"));
    }
    if claimed > MAX_BLOCK_LEN {
        return Err(bad("block length over the format's limit"));
    }
    match flag {
        FLAG_RAW => {
            if claimed != body_len {
                return Err(bad("stored length differs from the trailer's"));
            }
            // The contents are the stored bytes: hand the buffer over
            // instead of copying a block that may be a 512 MiB value.
            stored.truncate(body_len);
            std::mem::swap(stored, contents);
        }
        FLAG_LZ4 => {
            if claimed
                > body_len
                    .saturating_mul(LZ4_MAX_RATIO)
                    .saturating_add(LZ4_SLACK)
            {
                return Err(bad("uncompressed length beyond what lz4 can expand to"));
            }
            contents.clear();
            contents.resize(claimed, 0);
            match lz4_flex::block::decompress_into(body, contents) {
                Ok(n) if n == claimed => {}
                _ => {
                    return Err(Malformed {
                        at: 0,
                        what: "lz4 data does not decompress to the trailer's length",
                    })
                }
            }
        }
        _ => return Err(bad("unknown compression flag")),
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn round_trip(contents: &[u8], compress: bool) -> Vec<u8> {
        let mut stored = Vec::new();
        seal(contents, compress, &mut stored).unwrap();
        let mut out = vec![7; 3];
        unseal(&mut stored, &mut out, 0).unwrap();
        out
    }

    #[test]
    fn blocks_round_trip_compressed_or_not() {
        let repetitive = b"abcabcabc".repeat(100);
        let random: Vec<u8> = (0..1000).map(|_| fastrand::u8(..)).collect();
        for contents in [&[][..], b"x", &repetitive, &random] {
            for compress in [false, true] {
                assert_eq!(round_trip(contents, compress), contents);
            }
        }
    }

    #[test]
    fn compression_is_used_only_when_it_saves() {
        let mut stored = Vec::new();
        let repetitive = vec![b'x'; 4096];
        seal(&repetitive, true, &mut stored).unwrap();
        assert!(stored.len() < 100);
        assert_eq!(stored[stored.len() - TRAILER_LEN], FLAG_LZ4);
        let random: Vec<u8> = (0..4096).map(|_| fastrand::u8(..)).collect();
        seal(&random, true, &mut stored).unwrap();
        assert_eq!(stored.len(), random.len() + TRAILER_LEN);
        assert_eq!(stored[random.len()], FLAG_RAW);
    }

    /// A block whose trailer claims 1 GiB from a few stored bytes, with a
    /// valid checksum: refused before anything is allocated for it.
    #[test]
    fn a_huge_claimed_length_is_refused_before_allocating() {
        for (flag, claimed) in [
            (FLAG_LZ4, 1u32 << 30),
            (FLAG_LZ4, 4000),
            (FLAG_RAW, 1 << 30),
            (FLAG_LZ4, u32::MAX),
        ] {
            let mut stored = vec![0x1f, 0, 0, 0];
            stored.push(flag);
            stored.extend_from_slice(&claimed.to_le_bytes());
            let crc = crc32c::crc32c(&stored);
            stored.extend_from_slice(&crc.to_le_bytes());
            let mut contents = Vec::new();
            assert!(unseal(&mut stored, &mut contents, 0).is_err());
            assert!(
                contents.capacity() < 1 << 20,
                "allocated {}",
                contents.capacity()
            );
        }
    }

    #[test]
    fn the_entry_count_bound_is_enforced() {
        let mut stored = Vec::new();
        seal(b"0123456789", false, &mut stored).unwrap();
        let mut contents = Vec::new();
        assert!(unseal(&mut stored.clone(), &mut contents, 11).is_err());
        assert!(unseal(&mut stored, &mut contents, 10).is_ok());
    }
}
