//! The change record: what one logged change (or atomic group of changes)
//! says, byte by byte.
//!
//! Owns the encoding of `Op`s into a log record's payload and their
//! decoding, with every length checked against the bytes there before it
//! is used. Ops carry effects, not commands: a PUT holds the key's whole
//! new value and its absolute deadline, an EDIT the elements one change
//! set or removed in a collection (a list's naming the change count it
//! applies to), a DEADLINE a key's new absolute deadline; so replay needs
//! no clock and no randomness, and replaying a record over a state that
//! already has it changes nothing (which a snapshot taken while writes go
//! on relies on; see `persist`). It must never allocate on a length it
//! has not checked.
//!
//! Layout (`docs/STORAGE-FORMAT.md`, "Change records"): a format byte (1),
//! then ops, each a tag byte and its fields; integers are LEB128.
//! - `1` PUT: db, key length, key, value type, deadline (0: none; else
//!   deadline + 1), value length, value
//! - `2` DEL: db, key length, key
//! - `3` FLUSHDB: db
//! - `4` FLUSHALL
//! - `5` SWAPDB: db, db
//! - `6` EDIT: db, key length, key, value type, change count, edits
//!   length, edits (`collection::edit`)
//! - `7` DEADLINE: db, key length, key, deadline (0: none; else
//!   deadline + 1)
//! - `8` META: name length, name, then 0 (the blob is gone) or 1, value
//!   length, value: a whole named blob the embedding program keeps beside
//!   the keyspaces (a server's function libraries)

/// The record format this build writes and the newest it reads.
pub const FORMAT: u8 = 1;

const PUT: u8 = 1;
const DEL: u8 = 2;
const FLUSHDB: u8 = 3;
const FLUSHALL: u8 = 4;
const SWAPDB: u8 = 5;
const EDIT: u8 = 6;
const DEADLINE: u8 = 7;
const META: u8 = 8;

/// One change, borrowed from a record's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op<'a> {
    /// The key now holds this value (of type `tag`) and deadline.
    Put {
        /// The database id.
        db: u32,
        /// The key.
        key: &'a [u8],
        /// The value's type (0: string).
        tag: u8,
        /// Absolute deadline, Unix ms.
        deadline: Option<u64>,
        /// The value.
        value: &'a [u8],
    },
    /// The key is gone.
    Del {
        /// The database id.
        db: u32,
        /// The key.
        key: &'a [u8],
    },
    /// Every key of the database is gone.
    FlushDb(u32),
    /// Every key of every database is gone.
    FlushAll,
    /// The two databases traded numbers.
    SwapDb(u32, u32),
    /// The collection at the key changed in place, by these edits.
    Edit {
        /// The database id.
        db: u32,
        /// The key.
        key: &'a [u8],
        /// The collection's type.
        tag: u8,
        /// The change count the edits apply to (a list's; 0 otherwise).
        seq: u64,
        /// The edits, encoded (`collection::edit`).
        edits: &'a [u8],
    },
    /// The key's deadline changed; its value did not.
    Deadline {
        /// The database id.
        db: u32,
        /// The key.
        key: &'a [u8],
        /// Absolute deadline, Unix ms.
        deadline: Option<u64>,
    },
    /// The named blob now holds this value (`None`: it is gone).
    Meta {
        /// The blob's name.
        name: &'a [u8],
        /// Its whole new value.
        value: Option<&'a [u8]>,
    },
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `op` to a record being built in `out` (which starts with
/// `FORMAT`; see `start`).
pub fn encode(op: &Op<'_>, out: &mut Vec<u8>) {
    match *op {
        Op::Put {
            db,
            key,
            tag,
            deadline,
            value,
        } => {
            out.push(PUT);
            put_varint(out, u64::from(db));
            put_varint(out, key.len() as u64);
            out.extend_from_slice(key);
            out.push(tag);
            put_varint(out, deadline.map_or(0, |d| d.saturating_add(1)));
            put_varint(out, value.len() as u64);
            out.extend_from_slice(value);
        }
        Op::Del { db, key } => {
            out.push(DEL);
            put_varint(out, u64::from(db));
            put_varint(out, key.len() as u64);
            out.extend_from_slice(key);
        }
        Op::FlushDb(db) => {
            out.push(FLUSHDB);
            put_varint(out, u64::from(db));
        }
        Op::FlushAll => out.push(FLUSHALL),
        Op::SwapDb(a, b) => {
            out.push(SWAPDB);
            put_varint(out, u64::from(a));
            put_varint(out, u64::from(b));
        }
        Op::Edit {
            db,
            key,
            tag,
            seq,
            edits,
        } => {
            out.push(EDIT);
            put_varint(out, u64::from(db));
            put_varint(out, key.len() as u64);
            out.extend_from_slice(key);
            out.push(tag);
            put_varint(out, seq);
            put_varint(out, edits.len() as u64);
            out.extend_from_slice(edits);
        }
        Op::Deadline { db, key, deadline } => {
            out.push(DEADLINE);
            put_varint(out, u64::from(db));
            put_varint(out, key.len() as u64);
            out.extend_from_slice(key);
            put_varint(out, deadline.map_or(0, |d| d.saturating_add(1)));
        }
        Op::Meta { name, value } => {
            out.push(META);
            put_varint(out, name.len() as u64);
            out.extend_from_slice(name);
            match value {
                None => out.push(0),
                Some(value) => {
                    out.push(1);
                    put_varint(out, value.len() as u64);
                    out.extend_from_slice(value);
                }
            }
        }
    }
}

/// Starts a record in `out`.
pub fn start(out: &mut Vec<u8>) {
    out.push(FORMAT);
}

/// Why a record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad change record: {0} at byte {1}")]
pub struct BadRecord(pub &'static str, pub usize);

/// Reads the ops of a record in order.
pub struct Ops<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// The ops of `record`, or an error if its format is unknown.
pub fn decode(record: &[u8]) -> Result<Ops<'_>, BadRecord> {
    match record.first() {
        Some(&FORMAT) => Ok(Ops {
            bytes: record,
            pos: 1,
        }),
        Some(_) => Err(BadRecord("unknown record format", 0)),
        None => Err(BadRecord("empty record", 0)),
    }
}

impl<'a> Ops<'a> {
    fn byte(&mut self) -> Result<u8, BadRecord> {
        let b = *self
            .bytes
            .get(self.pos)
            .ok_or(BadRecord("record ends early", self.pos))?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, BadRecord> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(BadRecord("integer too long", self.pos))
    }

    fn db(&mut self) -> Result<u32, BadRecord> {
        u32::try_from(self.varint()?).map_err(|_| BadRecord("database id too large", self.pos))
    }

    fn bytes(&mut self) -> Result<&'a [u8], BadRecord> {
        let at = self.pos;
        let len = usize::try_from(self.varint()?).map_err(|_| BadRecord("length too large", at))?;
        let end = self
            .pos
            .checked_add(len)
            .ok_or(BadRecord("length too large", at))?;
        let s = self
            .bytes
            .get(self.pos..end)
            .ok_or(BadRecord("length past the record's end", at))?;
        self.pos = end;
        Ok(s)
    }

    fn op(&mut self) -> Result<Op<'a>, BadRecord> {
        let at = self.pos;
        Ok(match self.byte()? {
            PUT => {
                let db = self.db()?;
                let key = self.bytes()?;
                let tag = self.byte()?;
                let deadline = self.varint()?.checked_sub(1);
                let value = self.bytes()?;
                Op::Put {
                    db,
                    key,
                    tag,
                    deadline,
                    value,
                }
            }
            DEL => Op::Del {
                db: self.db()?,
                key: self.bytes()?,
            },
            FLUSHDB => Op::FlushDb(self.db()?),
            FLUSHALL => Op::FlushAll,
            SWAPDB => Op::SwapDb(self.db()?, self.db()?),
            EDIT => Op::Edit {
                db: self.db()?,
                key: self.bytes()?,
                tag: self.byte()?,
                seq: self.varint()?,
                edits: self.bytes()?,
            },
            DEADLINE => Op::Deadline {
                db: self.db()?,
                key: self.bytes()?,
                deadline: self.varint()?.checked_sub(1),
            },
            META => {
                let name = self.bytes()?;
                let value = match self.byte()? {
                    0 => None,
                    1 => Some(self.bytes()?),
                    _ => return Err(BadRecord("bad blob presence byte", self.pos)),
                };
                Op::Meta { name, value }
            }
            _ => return Err(BadRecord("unknown op", at)),
        })
    }
}

impl<'a> Iterator for Ops<'a> {
    type Item = Result<Op<'a>, BadRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.bytes.len() {
            return None;
        }
        let op = self.op();
        if op.is_err() {
            // One error ends the iteration: what follows cannot be framed.
            self.pos = self.bytes.len();
        }
        Some(op)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sample() -> Vec<Op<'static>> {
        vec![
            Op::Put {
                db: 3,
                key: b"k\x00ey",
                tag: 0,
                deadline: Some(0),
                value: b"",
            },
            Op::Put {
                db: u32::MAX,
                key: b"",
                tag: 7,
                deadline: None,
                value: &[0xff; 300],
            },
            Op::Put {
                db: 0,
                key: b"x",
                tag: 0,
                deadline: Some(u64::MAX - 1),
                value: b"v",
            },
            Op::Del {
                db: 1,
                key: b"gone",
            },
            Op::FlushDb(9),
            Op::FlushAll,
            Op::SwapDb(0, 15),
            Op::Edit {
                db: 2,
                key: b"list",
                tag: 3,
                seq: 1 << 40,
                edits: &[7, 1, 1, b'x'],
            },
            Op::Deadline {
                db: 0,
                key: b"ttl",
                deadline: Some(1_700_000_000_000),
            },
            Op::Deadline {
                db: 0,
                key: b"persisted",
                deadline: None,
            },
            Op::Meta {
                name: b"functions",
                value: Some(b"\xf5lib"),
            },
            Op::Meta {
                name: b"functions",
                value: None,
            },
        ]
    }

    #[test]
    fn ops_round_trip() {
        let mut rec = Vec::new();
        start(&mut rec);
        for op in sample() {
            encode(&op, &mut rec);
        }
        let back: Vec<Op<'_>> = decode(&rec).unwrap().map(Result::unwrap).collect();
        assert_eq!(back, sample());
    }

    #[test]
    fn every_truncation_is_an_error_never_a_panic() {
        let mut rec = Vec::new();
        start(&mut rec);
        for op in sample() {
            encode(&op, &mut rec);
        }
        let whole = decode(&rec).unwrap().count();
        for cut in 0..rec.len() {
            let Ok(ops) = decode(rec.get(..cut).unwrap()) else {
                continue;
            };
            let results: Vec<_> = ops.collect();
            let ok = results.iter().take_while(|r| r.is_ok()).count();
            assert!(ok < whole, "cut at {cut} read every op");
        }
    }

    #[test]
    fn a_claimed_huge_length_is_refused() {
        let mut rec = vec![FORMAT, DEL, 0];
        put_varint(&mut rec, u64::MAX / 2);
        let mut ops = decode(&rec).unwrap();
        assert!(matches!(ops.next(), Some(Err(_))));
        assert!(ops.next().is_none());
    }
}
