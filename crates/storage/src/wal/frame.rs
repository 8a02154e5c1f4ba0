//! Framing of log records: `[length u32 LE][crc32c u32 LE][payload]`.
//!
//! Owns the byte layout of one record in a segment and the check that
//! tells a complete record from a torn or corrupt one. It must never
//! allocate on a length it read before checking it against the bytes that
//! are actually there and against `MAX_RECORD`.

/// Bytes before a record's payload: its length and its checksum.
pub const FRAME_HEADER: usize = 8;

/// The largest payload a record may carry: a value may be 512 MiB
/// (`proto-max-bulk-len`), and a record holds a key and value besides its
/// own few bytes. A length above it is corruption, never an allocation.
pub const MAX_RECORD: usize = 512 * 1024 * 1024 + 64 * 1024 * 1024;

/// The checksum of a payload. Its length is covered too, so a length
/// corrupted into another plausible one is caught.
pub fn checksum(payload: &[u8]) -> u32 {
    let len = (payload.len() as u32).to_le_bytes();
    crc32c::crc32c_append(crc32c::crc32c(&len), payload)
}

/// Appends the framed `payload` to `out` (the tests' way to build frames).
#[cfg(test)]
pub fn encode(payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&header(payload));
    out.extend_from_slice(payload);
}

/// The frame header of `payload`: its length and checksum. Computed
/// before the log's buffer is locked, so the lock covers two copies only.
pub fn header(payload: &[u8]) -> [u8; FRAME_HEADER] {
    let mut h = [0u8; FRAME_HEADER];
    let (len, crc) = h.split_at_mut(4);
    len.copy_from_slice(&(payload.len() as u32).to_le_bytes());
    crc.copy_from_slice(&checksum(payload).to_le_bytes());
    h
}

/// The little-endian `u32` at `at`, if the bytes reach that far.
pub fn le_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

/// What is at some position of a segment.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A complete record whose checksum matches, and its framed length.
    Record(&'a [u8], usize),
    /// The bytes end before the record does.
    Short,
    /// A length of zero or over `MAX_RECORD`, or a checksum mismatch.
    Bad(&'static str),
}

/// Reads the frame at the start of `bytes`.
pub fn decode(bytes: &[u8]) -> Frame<'_> {
    let (Some(len), Some(crc)) = (le_u32(bytes, 0), le_u32(bytes, 4)) else {
        return Frame::Short;
    };
    let len = len as usize;
    if len == 0 || len > MAX_RECORD {
        return Frame::Bad("impossible record length");
    }
    let Some(payload) = bytes.get(FRAME_HEADER..FRAME_HEADER + len) else {
        return Frame::Short;
    };
    if checksum(payload) != crc {
        return Frame::Bad("record checksum mismatch");
    }
    Frame::Record(payload, FRAME_HEADER + len)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_and_every_cut_is_short() {
        let mut out = Vec::new();
        encode(b"hello", &mut out);
        assert_eq!(decode(&out), Frame::Record(b"hello", 13));
        for cut in 0..out.len() {
            assert_eq!(decode(&out[..cut]), Frame::Short, "cut at {cut}");
        }
    }

    #[test]
    fn every_bit_flip_is_caught() {
        let mut out = Vec::new();
        encode(b"some payload bytes", &mut out);
        for bit in 0..out.len() * 8 {
            let mut bad = out.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(
                !matches!(decode(&bad), Frame::Record(..)),
                "flip of bit {bit} went unnoticed"
            );
        }
    }

    #[test]
    fn zero_length_and_huge_lengths_are_bad_not_allocated() {
        assert!(matches!(decode(&[0; 16]), Frame::Bad(_)));
        let mut huge = u32::MAX.to_le_bytes().to_vec();
        huge.extend_from_slice(&[0; 12]);
        assert!(matches!(decode(&huge), Frame::Bad(_)));
    }
}
