//! A key's value in RDB: its type byte and its body, as DUMP writes them
//! and as RESTORE and an RDB file's loader read them.
//!
//! Owns the value types Redis 7.0 reads (every encoding back to Redis
//! 2.4's zipmaps; streams are `stream`'s) and the ones Tandem writes: the
//! plain forms (a list as its elements, a set as its members, a hash as
//! its pairs, a sorted set with binary scores), which every Redis since
//! 4.0 loads and converts to its compact encodings by its own settings,
//! and a stream in Redis 7.0's own form. Loading refuses what Redis
//! refuses (a repeated member, a NaN score, an empty collection) and
//! must never panic or allocate on a count the bytes do not back.

use super::packed::{self, Corrupt, Item};
use super::string::{put_len, put_string, Reader, Truncated};
use tandem_engine::{BuildError, Builder, Limits, Value, ValueType, Visit};

/// The value types (`rdb.h`'s `RDB_TYPE_*`).
pub const TYPE_STRING: u8 = 0;
const TYPE_LIST: u8 = 1;
const TYPE_SET: u8 = 2;
const TYPE_ZSET: u8 = 3;
const TYPE_HASH: u8 = 4;
const TYPE_ZSET_2: u8 = 5;
const TYPE_MODULE: u8 = 6;
const TYPE_MODULE_2: u8 = 7;
const TYPE_HASH_ZIPMAP: u8 = 9;
const TYPE_LIST_ZIPLIST: u8 = 10;
const TYPE_SET_INTSET: u8 = 11;
const TYPE_ZSET_ZIPLIST: u8 = 12;
const TYPE_HASH_ZIPLIST: u8 = 13;
const TYPE_LIST_QUICKLIST: u8 = 14;
const TYPE_STREAM_LISTPACKS: u8 = 15;
const TYPE_HASH_LISTPACK: u8 = 16;
const TYPE_ZSET_LISTPACK: u8 = 17;
const TYPE_LIST_QUICKLIST_2: u8 = 18;
const TYPE_STREAM_LISTPACKS_2: u8 = 19;

/// A quicklist node's container (`QUICKLIST_NODE_CONTAINER_*`): one
/// element stored as is, or a listpack of them.
const CONTAINER_PLAIN: u64 = 1;
const CONTAINER_PACKED: u64 = 2;

/// Whether `t` names a value (Redis's `rdbIsObjectType`), not an opcode.
pub fn is_value_type(t: u8) -> bool {
    t <= 7 || (9..=19).contains(&t)
}

/// Why a value could not be loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadError {
    /// The bytes are not the value they claim to be.
    Corrupt(&'static str),
    /// A collection with no element, which Redis skips in a file and
    /// refuses in a payload.
    Empty,
    /// A type this build cannot hold (a module's value).
    Unsupported(&'static str),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Corrupt(why) => write!(f, "corrupt value: {why}"),
            LoadError::Empty => f.write_str("an empty collection"),
            LoadError::Unsupported(what) => write!(f, "{what} values are not supported"),
        }
    }
}

impl From<Truncated> for LoadError {
    fn from(_: Truncated) -> Self {
        LoadError::Corrupt("a length or string past the end")
    }
}

impl From<Corrupt> for LoadError {
    fn from(_: Corrupt) -> Self {
        LoadError::Corrupt("a packed encoding that does not check out")
    }
}

impl From<BuildError> for LoadError {
    fn from(e: BuildError) -> Self {
        match e {
            BuildError::Empty => LoadError::Empty,
            BuildError::Repeated => LoadError::Corrupt("an element repeated"),
            BuildError::NanScore => LoadError::Corrupt("a NaN score"),
            BuildError::WrongShape => LoadError::Corrupt("an element of another type"),
        }
    }
}

/// Reads a value of RDB type `ty` from `r`, built for `limits`.
pub fn load(ty: u8, r: &mut Reader<'_>, limits: Limits) -> Result<Value, LoadError> {
    // A claimed count sizes nothing past the bytes that could back it.
    let builder = |kind, count: u64, remaining: usize| {
        let hint = usize::try_from(count).unwrap_or(usize::MAX).min(remaining);
        Builder::new(kind, hint, limits).ok_or(LoadError::Corrupt("not a collection"))
    };
    match ty {
        TYPE_STRING => Ok(Value::string(r.string()?)),
        TYPE_LIST | TYPE_SET => {
            let n = r.len()?;
            let kind = if ty == TYPE_LIST {
                ValueType::List
            } else {
                ValueType::Set
            };
            let mut b = builder(kind, n, r.remaining())?;
            for _ in 0..n {
                b.push(&r.string_cow()?)?;
            }
            Ok(b.finish()?)
        }
        TYPE_ZSET | TYPE_ZSET_2 => {
            let n = r.len()?;
            let mut b = builder(ValueType::ZSet, n, r.remaining())?;
            for _ in 0..n {
                let member = r.string_cow()?;
                let score = if ty == TYPE_ZSET_2 {
                    let bytes = r.take(8)?;
                    f64::from_le_bytes(bytes.try_into().map_err(|_| Truncated)?)
                } else {
                    text_score(r)?
                };
                b.scored(&member, score)?;
            }
            Ok(b.finish()?)
        }
        TYPE_HASH => {
            let n = r.len()?;
            let mut b = builder(ValueType::Hash, n, r.remaining())?;
            for _ in 0..n {
                let field = r.string_cow()?;
                b.pair(&field, &r.string_cow()?)?;
            }
            Ok(b.finish()?)
        }
        TYPE_LIST_QUICKLIST | TYPE_LIST_QUICKLIST_2 => {
            let nodes = r.len()?;
            let mut b = builder(ValueType::List, nodes, r.remaining())?;
            for _ in 0..nodes {
                let container = if ty == TYPE_LIST_QUICKLIST_2 {
                    r.len()?
                } else {
                    CONTAINER_PACKED
                };
                let node = r.string_cow()?;
                if node.is_empty() {
                    return Err(LoadError::Corrupt("an empty quicklist node"));
                }
                match container {
                    CONTAINER_PLAIN => b.push(&node)?,
                    CONTAINER_PACKED if ty == TYPE_LIST_QUICKLIST_2 => {
                        packed::listpack(&node, |i| {
                            i.with_text(|t| b.push(t)).map_err(|_| Corrupt)
                        })?;
                    }
                    CONTAINER_PACKED => {
                        packed::ziplist(&node, |i| {
                            i.with_text(|t| b.push(t)).map_err(|_| Corrupt)
                        })?;
                    }
                    _ => return Err(LoadError::Corrupt("an unknown quicklist container")),
                }
            }
            Ok(b.finish()?)
        }
        TYPE_HASH_ZIPMAP | TYPE_LIST_ZIPLIST | TYPE_SET_INTSET | TYPE_ZSET_ZIPLIST
        | TYPE_HASH_ZIPLIST | TYPE_HASH_LISTPACK | TYPE_ZSET_LISTPACK => {
            let blob = r.string_cow()?;
            load_packed(ty, &blob, limits)
        }
        TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 => {
            super::stream::load(r, ty == TYPE_STREAM_LISTPACKS_2)
        }
        TYPE_MODULE | TYPE_MODULE_2 => Err(LoadError::Unsupported("module")),
        _ => Err(LoadError::Corrupt("an unknown value type")),
    }
}

/// A value stored as one packed string.
fn load_packed<'a>(ty: u8, blob: &'a [u8], limits: Limits) -> Result<Value, LoadError> {
    let new = |kind| Builder::new(kind, 0, limits).ok_or(LoadError::Corrupt("not a collection"));
    let mut failed: Option<BuildError> = None;
    // Builder refusals are kept apart from the encoding's, to say which.
    let mut keep = |r: Result<(), BuildError>| -> Result<(), Corrupt> {
        r.map_err(|e| {
            failed = Some(e);
            Corrupt
        })
    };
    let b = match ty {
        TYPE_HASH_ZIPMAP => {
            let mut b = new(ValueType::Hash)?;
            let read = packed::zipmap(blob, |f, v| keep(b.pair(f, v)));
            settle(read, failed)?;
            b
        }
        TYPE_LIST_ZIPLIST => {
            let mut b = new(ValueType::List)?;
            let read = packed::ziplist(blob, |i| keep(i.with_text(|t| b.push(t))));
            settle(read, failed)?;
            b
        }
        TYPE_SET_INTSET => {
            let mut b = new(ValueType::Set)?;
            let read = packed::intset(blob, |n| {
                keep(b.push(itoa::Buffer::new().format(n).as_bytes()))
            });
            settle(read, failed)?;
            b
        }
        TYPE_HASH_ZIPLIST | TYPE_HASH_LISTPACK => {
            let mut b = new(ValueType::Hash)?;
            let mut field: Option<Item<'a>> = None;
            let each = |i: Item<'a>| -> Result<(), Corrupt> {
                match field.take() {
                    None => {
                        field = Some(i);
                        Ok(())
                    }
                    Some(f) => keep(f.with_text(|f| i.with_text(|v| b.pair(f, v)))),
                }
            };
            let read = if ty == TYPE_HASH_ZIPLIST {
                packed::ziplist(blob, each)
            } else {
                packed::listpack(blob, each)
            };
            settle(read, failed)?;
            if field.is_some() {
                return Err(LoadError::Corrupt("a field without its value"));
            }
            b
        }
        TYPE_ZSET_ZIPLIST | TYPE_ZSET_LISTPACK => {
            let mut b = new(ValueType::ZSet)?;
            let mut member: Option<Item<'a>> = None;
            let each = |i: Item<'a>| -> Result<(), Corrupt> {
                match member.take() {
                    None => {
                        member = Some(i);
                        Ok(())
                    }
                    Some(m) => {
                        let score = match i {
                            Item::Int(n) => n as f64,
                            Item::Bytes(t) => {
                                tandem_engine::parse_score_lenient(t).ok_or(Corrupt)?
                            }
                        };
                        keep(m.with_text(|m| b.scored(m, score)))
                    }
                }
            };
            let read = if ty == TYPE_ZSET_ZIPLIST {
                packed::ziplist(blob, each)
            } else {
                packed::listpack(blob, each)
            };
            settle(read, failed)?;
            if member.is_some() {
                return Err(LoadError::Corrupt("a member without its score"));
            }
            b
        }
        _ => return Err(LoadError::Corrupt("not a packed type")),
    };
    Ok(b.finish()?)
}

/// A packed read's outcome, with a builder's refusal named as such.
fn settle(read: Result<usize, Corrupt>, failed: Option<BuildError>) -> Result<(), LoadError> {
    match (read, failed) {
        (Ok(_), _) => Ok(()),
        (Err(_), Some(e)) => Err(e.into()),
        (Err(e), None) => Err(e.into()),
    }
}

/// A score written as text (RDB_TYPE_ZSET, before RDB 8): a length byte
/// and `%.17g`, or 253, 254, 255 for NaN and the infinities.
fn text_score(r: &mut Reader<'_>) -> Result<f64, LoadError> {
    match r.byte()? {
        253 => Err(LoadError::Corrupt("a NaN score")),
        254 => Ok(f64::INFINITY),
        255 => Ok(f64::NEG_INFINITY),
        n => {
            let text = r.take(u64::from(n))?;
            tandem_engine::parse_score_lenient(text)
                .ok_or(LoadError::Corrupt("a score not a number"))
        }
    }
}

/// Writes a value as DUMP does: its type byte, then its body.
pub struct Writer<'a> {
    out: &'a mut Vec<u8>,
    compress: bool,
    unsupported: bool,
}

impl<'a> Writer<'a> {
    /// A writer onto `out`, compressing strings as `rdbcompression` does
    /// when `compress`.
    pub fn new(out: &'a mut Vec<u8>, compress: bool) -> Writer<'a> {
        Writer {
            out,
            compress,
            unsupported: false,
        }
    }

    /// Whether the value was of a type RDB has no form for here (none
    /// today: every type Tandem holds is written).
    pub fn unsupported(&self) -> bool {
        self.unsupported
    }
}

impl Visit for Writer<'_> {
    fn begin(&mut self, kind: ValueType, len: usize) {
        let ty = match kind {
            ValueType::String => {
                self.out.push(TYPE_STRING);
                return;
            }
            ValueType::List => TYPE_LIST,
            ValueType::Set => TYPE_SET,
            ValueType::Hash => TYPE_HASH,
            ValueType::ZSet => TYPE_ZSET_2,
            // Its body, counts included, comes from `stream`.
            ValueType::Stream => {
                self.out.push(TYPE_STREAM_LISTPACKS_2);
                return;
            }
            _ => {
                self.unsupported = true;
                return;
            }
        };
        self.out.push(ty);
        put_len(self.out, len as u64);
    }

    fn string(&mut self, bytes: &[u8]) {
        put_string(self.out, bytes, self.compress);
    }

    fn element(&mut self, item: &[u8]) {
        put_string(self.out, item, self.compress);
    }

    fn pair(&mut self, field: &[u8], value: &[u8]) {
        put_string(self.out, field, self.compress);
        put_string(self.out, value, self.compress);
    }

    fn scored(&mut self, member: &[u8], score: f64) {
        put_string(self.out, member, self.compress);
        self.out.extend_from_slice(&score.to_le_bytes());
    }

    fn stream(&mut self, stream: &tandem_engine::Stream) {
        super::stream::write(self.out, stream, self.compress);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_all(bytes: &[u8]) -> Result<Value, LoadError> {
        let mut r = Reader::new(bytes);
        let ty = r.byte()?;
        load(ty, &mut r, Limits::default())
    }

    #[test]
    fn a_quicklist_node_from_redis_loads() {
        // DUMP of `RPUSH l a 1 -1 300 hello 70000 -70000 5000000000` from
        // Redis 7.0.15, without its footer.
        let body = b"\x12\x01\x02\x2d\x2d\x00\x00\x00\x08\x00\x81a\x02\x01\x01\xdf\xff\x02\xc1\x2c\x02\x85hello\x06\xf2\x70\x11\x01\x04\xf2\x90\xee\xfe\x04\xf4\x00\xf2\x05\x2a\x01\x00\x00\x00\x09\xff";
        let v = load_all(body).unwrap();
        assert_eq!(v.kind(), ValueType::List);
    }

    #[test]
    fn what_redis_refuses_is_refused() {
        // An empty list; a set with a repeated member; a NaN score.
        assert_eq!(load_all(b"\x01\x00").err(), Some(LoadError::Empty));
        assert!(matches!(
            load_all(b"\x02\x02\x01a\x01a"),
            Err(LoadError::Corrupt(_))
        ));
        let mut nan = b"\x05\x01\x01m".to_vec();
        nan.extend_from_slice(&f64::NAN.to_le_bytes());
        assert!(matches!(load_all(&nan), Err(LoadError::Corrupt(_))));
        assert!(matches!(load_all(b"\x0f\x00"), Err(LoadError::Corrupt(_))));
        assert!(matches!(load_all(b"\x08"), Err(LoadError::Corrupt(_))));
        // A count far past the bytes: refused, nothing reserved for it.
        assert!(load_all(b"\x01\x81\xff\xff\xff\xff\xff\xff\xff\xff").is_err());
    }

    #[test]
    fn every_written_type_loads_back() {
        let l = Limits::default();
        let mut values = vec![Value::string(b"hello".to_vec())];
        let mut list = Builder::new(ValueType::List, 2, l).unwrap();
        list.push(b"x").unwrap();
        list.push(b"12").unwrap();
        values.push(list.finish().unwrap());
        let mut z = Builder::new(ValueType::ZSet, 2, l).unwrap();
        z.scored(b"a", 1.5).unwrap();
        z.scored(b"b", f64::NEG_INFINITY).unwrap();
        values.push(z.finish().unwrap());
        let mut h = Builder::new(ValueType::Hash, 1, l).unwrap();
        h.pair(b"f", b"v").unwrap();
        values.push(h.finish().unwrap());
        for v in values {
            let kind = v.kind();
            let mut out = Vec::new();
            let mut w = Writer::new(&mut out, true);
            tandem_engine::visit_value(&v, &mut w);
            let back = load_all(&out).unwrap();
            assert_eq!(back.kind(), kind);
            let mut again = Vec::new();
            tandem_engine::visit_value(&back, &mut Writer::new(&mut again, true));
            assert_eq!(again, out, "{kind:?}");
        }
    }
}
