//! Redis's serialization format (RDB), as far as Tandem reads and writes
//! it: the payloads of FUNCTION DUMP and FUNCTION RESTORE, which Redis
//! and Tandem exchange byte for byte.
//!
//! Owns the payload's frame (the body, then the RDB version in two bytes
//! and a CRC-64 in eight, both little-endian) and its strings
//! (`string.rs`). It must never trust a length it reads: every one is
//! checked against the bytes there before anything is allocated.

pub mod file;
pub mod object;
pub mod packed;
pub mod stream;
pub mod string;

use crc::{Crc, Table, CRC_64_REDIS};

/// The RDB version Redis 7.0 writes (and the newest it reads).
pub const RDB_VERSION: u16 = 10;

/// An opcode: a function library's code follows, as one string.
pub const OPCODE_FUNCTION2: u8 = 245;
/// The opcode of Redis 7.0's release candidates' libraries (name, engine,
/// description, code), still read by Redis 7.0.
pub const OPCODE_FUNCTION_PRE_GA: u8 = 246;

/// Redis's CRC-64, sliced by 16 bytes: a byte-at-a-time table reads an
/// RDB file's 32 MB in about 90 ms, a tenth of the import (perf); this
/// reads it several times faster. The table is built at compile time.
pub(crate) static CRC64: Crc<u64, Table<16>> = Crc::<u64, Table<16>>::new(&CRC_64_REDIS);

/// Ends `body` as a payload: the version and the checksum of everything
/// before it.
pub fn seal(mut body: Vec<u8>) -> Vec<u8> {
    body.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = CRC64.checksum(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    body
}

/// The body of `payload` and its RDB version, if its version is one
/// Redis 7.0 reads and its checksum is right (Redis's
/// `verifyDumpPayload`).
pub fn open(payload: &[u8]) -> Option<(&[u8], u16)> {
    let split = payload.len().checked_sub(10)?;
    let (body, footer) = payload.split_at(split);
    let (version, crc) = footer.split_at(2);
    let version = u16::from_le_bytes(version.try_into().ok()?);
    if version > RDB_VERSION {
        return None;
    }
    let crc = u64::from_le_bytes(crc.try_into().ok()?);
    let covered = payload.get(..split + 2)?;
    (CRC64.checksum(covered) == crc).then_some((body, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_payload_opens_and_a_changed_byte_does_not() {
        let payload = seal(b"body".to_vec());
        assert_eq!(open(&payload), Some((&b"body"[..], RDB_VERSION)));
        for i in 0..payload.len() {
            let mut bad = payload.clone();
            if let Some(b) = bad.get_mut(i) {
                *b ^= 0x10;
            }
            assert_eq!(open(&bad), None, "byte {i} changed");
        }
        assert_eq!(open(b"short"), None);
    }

    #[test]
    fn the_checksum_is_redis_crc64() {
        // Redis's crc64 test vector (crc64.c): "123456789".
        assert_eq!(CRC64.checksum(b"123456789"), 0xe9c6_d914_c4b8_d9ca);
    }
}
