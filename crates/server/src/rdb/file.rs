//! A whole RDB file, as Redis 7.0 writes one: its header, its opcodes
//! (auxiliary fields, database selection, size hints, deadlines, access
//! stamps, function libraries) and its keys, then the end mark and the
//! CRC-64 of everything before it.
//!
//! Owns walking the file in order and handing each key, with its
//! database, deadline and access stamp, to a `Sink`; which checks apply
//! is Redis's `rdbLoadRio`. It must never trust the file: every length is
//! checked against the bytes there, the checksum is verified before the
//! walk is called a success, and anything it cannot read is an error that
//! says where, never a panic.

use super::object::{self, LoadError};
use super::string::{Reader, Truncated};
use super::{OPCODE_FUNCTION2, OPCODE_FUNCTION_PRE_GA, RDB_VERSION};
use std::borrow::Cow;
use tandem_engine::{Limits, Stamp, Value};

const OPCODE_MODULE_AUX: u8 = 247;
const OPCODE_IDLE: u8 = 248;
const OPCODE_FREQ: u8 = 249;
const OPCODE_AUX: u8 = 250;
const OPCODE_RESIZEDB: u8 = 251;
const OPCODE_EXPIRETIME_MS: u8 = 252;
const OPCODE_EXPIRETIME: u8 = 253;
const OPCODE_SELECTDB: u8 = 254;
const OPCODE_EOF: u8 = 255;

/// What the file's walk hands on; `'f` is the file's bytes, which a
/// key's name may borrow.
pub trait Sink<'f> {
    /// An auxiliary field (`redis-ver`, `ctime`, ...).
    fn aux(&mut self, key: &[u8], value: &[u8]);
    /// The size hint of database `db`: keys, and keys with a deadline.
    fn resize(&mut self, db: u64, keys: u64, volatile: u64);
    /// A key of database `db`. `Err` stops the walk with that message.
    fn key(&mut self, key: Key<'f>) -> Result<(), String>;
    /// A key Redis would skip: an empty collection.
    fn empty(&mut self, db: u64, key: &[u8]);
    /// A function library's record, opcode included, as FUNCTION DUMP's
    /// payload carries the same record.
    fn function(&mut self, record: &[u8]) -> Result<(), String>;
    /// How far the walk has come, in bytes (called once per key).
    fn progress(&mut self, at: usize);
}

/// A key as the file gives it.
pub struct Key<'f> {
    /// Its database.
    pub db: u64,
    /// Its name, borrowed from the file where it lies plain there.
    pub name: Cow<'f, [u8]>,
    /// Its value.
    pub value: Value,
    /// Its deadline, Unix ms.
    pub deadline: Option<u64>,
    /// Its idle time or frequency, if the file kept one.
    pub stamp: Option<Stamp>,
}

/// Why the file could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// The byte offset the problem was found at.
    pub at: usize,
    /// What was wrong.
    pub why: String,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at byte {}: {}", self.at, self.why)
    }
}

/// What the walk found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Walked {
    /// The file's RDB version.
    pub version: u16,
    /// Keys handed to the sink.
    pub keys: u64,
    /// Empty collections skipped, as Redis skips them.
    pub empty: u64,
    /// Whether the checksum was checked (a file written with
    /// `rdbchecksum no`, or before RDB 5, has none).
    pub checksum_checked: bool,
}

/// Walks the RDB file `bytes`, building values for `limits`.
pub fn walk<'f>(
    bytes: &'f [u8],
    limits: Limits,
    sink: &mut dyn Sink<'f>,
) -> Result<Walked, FileError> {
    let fail = |at: usize, why: &str| FileError {
        at,
        why: why.to_owned(),
    };
    let header = bytes
        .get(..9)
        .ok_or_else(|| fail(0, "shorter than an RDB header"))?;
    if header.get(..5) != Some(&b"REDIS"[..]) {
        return Err(fail(0, "not an RDB file (no REDIS signature)"));
    }
    let version = std::str::from_utf8(header.get(5..9).unwrap_or_default())
        .ok()
        .and_then(|v| v.parse::<u16>().ok())
        .filter(|v| (1..=RDB_VERSION).contains(v))
        .ok_or_else(|| fail(5, "an RDB version this build cannot read (1 to 10)"))?;
    let mut walked = Walked {
        version,
        ..Walked::default()
    };
    let mut r = Reader::new(bytes);
    r.take(9).map_err(|_| fail(0, "truncated header"))?;
    let mut db = 0u64;
    let mut deadline: Option<u64> = None;
    let mut stamp: Option<Stamp> = None;
    let truncated = |r: &Reader<'_>| fail(r.pos(), "the file ends inside a record");
    loop {
        let at = r.pos();
        let opcode = r
            .byte()
            .map_err(|_| fail(at, "the file ends before its end mark"))?;
        match opcode {
            OPCODE_EXPIRETIME => {
                let s = r.take(4).map_err(|_| truncated(&r))?;
                let s = i32::from_le_bytes(s.try_into().map_err(|_| truncated(&r))?);
                deadline = (s != -1).then(|| u64::try_from(i64::from(s) * 1000).unwrap_or(0));
            }
            OPCODE_EXPIRETIME_MS => {
                let ms = r.take(8).map_err(|_| truncated(&r))?;
                let ms = i64::from_le_bytes(ms.try_into().map_err(|_| truncated(&r))?);
                // -1 is Redis's "no deadline"; any other past one expires.
                deadline = (ms != -1).then(|| u64::try_from(ms).unwrap_or(0));
            }
            OPCODE_FREQ => stamp = Some(Stamp::Frequency(r.byte().map_err(|_| truncated(&r))?)),
            OPCODE_IDLE => stamp = Some(Stamp::IdleSeconds(r.len().map_err(|_| truncated(&r))?)),
            OPCODE_EOF => break,
            OPCODE_SELECTDB => db = r.len().map_err(|_| truncated(&r))?,
            OPCODE_RESIZEDB => {
                let keys = r.len().map_err(|_| truncated(&r))?;
                let volatile = r.len().map_err(|_| truncated(&r))?;
                sink.resize(db, keys, volatile);
            }
            OPCODE_AUX => {
                let key = r.string_cow().map_err(|_| truncated(&r))?;
                let value = r.string_cow().map_err(|_| truncated(&r))?;
                sink.aux(&key, &value);
            }
            OPCODE_MODULE_AUX => {
                return Err(fail(at, "module data, which Tandem has no module to load"));
            }
            OPCODE_FUNCTION2 | OPCODE_FUNCTION_PRE_GA => {
                skip_function(&mut r, opcode).map_err(|_| truncated(&r))?;
                let record = bytes.get(at..r.pos()).ok_or_else(|| truncated(&r))?;
                sink.function(record).map_err(|why| fail(at, &why))?;
            }
            ty if object::is_value_type(ty) => {
                let name = r.string_cow().map_err(|_| truncated(&r))?;
                match object::load(ty, &mut r, limits) {
                    Ok(value) => {
                        let key = Key {
                            db,
                            name,
                            value,
                            deadline: deadline.take(),
                            stamp: stamp.take(),
                        };
                        sink.key(key).map_err(|why| fail(at, &why))?;
                        walked.keys += 1;
                    }
                    Err(LoadError::Empty) => {
                        sink.empty(db, &name);
                        walked.empty += 1;
                    }
                    Err(e) => {
                        let name = String::from_utf8_lossy(&name);
                        return Err(fail(at, &format!("key '{name}' in db {db}: {e}")));
                    }
                }
                deadline = None;
                stamp = None;
                sink.progress(r.pos());
            }
            other => return Err(fail(at, &format!("an unknown opcode {other}"))),
        }
    }
    if version >= 5 {
        let end = r.pos();
        let stored = r
            .take(8)
            .map_err(|_| fail(end, "the file ends inside its checksum"))?;
        let stored = u64::from_le_bytes(stored.try_into().map_err(|_| fail(end, "checksum"))?);
        // A file saved with `rdbchecksum no` stores 0.
        if stored != 0 {
            let covered = bytes.get(..end).ok_or_else(|| fail(end, "checksum"))?;
            let crc = super::CRC64.checksum(covered);
            if crc != stored {
                return Err(fail(
                    end,
                    &format!(
                        "wrong checksum: the file says {stored:016x}, its bytes give {crc:016x}"
                    ),
                ));
            }
            walked.checksum_checked = true;
        }
    }
    Ok(walked)
}

/// Reads past a function library's record (the opcode already read).
fn skip_function(r: &mut Reader<'_>, opcode: u8) -> Result<(), Truncated> {
    if opcode == OPCODE_FUNCTION2 {
        r.string_cow()?;
        return Ok(());
    }
    // Release candidates: name, engine, a description flag (and the
    // description), code.
    r.string_cow()?;
    r.string_cow()?;
    if r.len()? != 0 {
        r.string_cow()?;
    }
    r.string_cow()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdb::string::put_string;
    use crc::{Crc, CRC_64_REDIS};

    /// A key as the test sink records it: database, name, deadline, stamp.
    type SeenKey = (u64, Vec<u8>, Option<u64>, Option<Stamp>);

    #[derive(Default)]
    struct Seen {
        keys: Vec<SeenKey>,
        aux: Vec<(Vec<u8>, Vec<u8>)>,
        functions: Vec<Vec<u8>>,
        empty: usize,
    }

    impl Sink<'_> for Seen {
        fn aux(&mut self, key: &[u8], value: &[u8]) {
            self.aux.push((key.to_vec(), value.to_vec()));
        }
        fn resize(&mut self, _: u64, _: u64, _: u64) {}
        fn key(&mut self, key: Key<'_>) -> Result<(), String> {
            self.keys
                .push((key.db, key.name.to_vec(), key.deadline, key.stamp));
            Ok(())
        }
        fn empty(&mut self, _: u64, _: &[u8]) {
            self.empty += 1;
        }
        fn function(&mut self, record: &[u8]) -> Result<(), String> {
            self.functions.push(record.to_vec());
            Ok(())
        }
        fn progress(&mut self, _: usize) {}
    }

    /// A file as Redis 7.0 lays one out, with its checksum.
    fn file(body: &[u8]) -> Vec<u8> {
        let mut f = b"REDIS0010".to_vec();
        f.extend_from_slice(body);
        f.push(OPCODE_EOF);
        let crc = Crc::<u64>::new(&CRC_64_REDIS).checksum(&f);
        f.extend_from_slice(&crc.to_le_bytes());
        f
    }

    fn sample() -> Vec<u8> {
        let mut b = vec![OPCODE_AUX];
        put_string(&mut b, b"redis-ver", false);
        put_string(&mut b, b"7.0.15", false);
        b.extend_from_slice(&[OPCODE_SELECTDB, 3, OPCODE_RESIZEDB, 2, 1]);
        b.push(OPCODE_EXPIRETIME_MS);
        b.extend_from_slice(&1_900_000_000_000u64.to_le_bytes());
        b.extend_from_slice(&[OPCODE_FREQ, 7, 0]);
        put_string(&mut b, b"k1", false);
        put_string(&mut b, b"v1", false);
        b.extend_from_slice(&[0]);
        put_string(&mut b, b"k2", false);
        put_string(&mut b, b"v2", false);
        // An empty list, which Redis skips.
        b.extend_from_slice(&[1]);
        put_string(&mut b, b"e", false);
        b.push(0);
        b.push(OPCODE_FUNCTION2);
        put_string(&mut b, b"#!lua name=x\n", false);
        file(&b)
    }

    #[test]
    fn a_file_walks_with_its_opcodes() {
        let mut seen = Seen::default();
        let walked = walk(&sample(), Limits::default(), &mut seen).unwrap();
        assert_eq!(walked.keys, 2);
        assert_eq!(walked.empty, 1);
        assert!(walked.checksum_checked);
        assert_eq!(
            seen.keys,
            [
                (
                    3,
                    b"k1".to_vec(),
                    Some(1_900_000_000_000),
                    Some(Stamp::Frequency(7))
                ),
                (3, b"k2".to_vec(), None, None),
            ]
        );
        assert_eq!(seen.aux, [(b"redis-ver".to_vec(), b"7.0.15".to_vec())]);
        assert_eq!(seen.functions.len(), 1);
        assert_eq!(seen.functions[0][0], OPCODE_FUNCTION2);
    }

    #[test]
    fn a_changed_byte_or_a_cut_is_an_error_never_a_panic() {
        let good = sample();
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x21;
            assert!(
                walk(&bad, Limits::default(), &mut Seen::default()).is_err(),
                "byte {i}"
            );
            let cut = &good[..i];
            assert!(
                walk(cut, Limits::default(), &mut Seen::default()).is_err(),
                "cut {i}"
            );
        }
    }

    #[test]
    fn a_file_without_a_checksum_loads_unchecked() {
        let mut f = sample();
        let n = f.len();
        f[n - 8..].fill(0);
        let walked = walk(&f, Limits::default(), &mut Seen::default()).unwrap();
        assert!(!walked.checksum_checked);
        assert!(walk(b"REDIS0011", Limits::default(), &mut Seen::default()).is_err());
        assert!(walk(b"RUBIS0010", Limits::default(), &mut Seen::default()).is_err());
    }
}
