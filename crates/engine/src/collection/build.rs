//! Values built item by item from outside the engine, and read out the
//! same way: what RESTORE and an RDB import put in, and what DUMP takes
//! out, in another store's format the engine knows nothing of.
//!
//! Owns `Value` (a whole value, not yet a key's), `Builder` (which
//! refuses what Redis's loader refuses: a repeated member or field, a
//! NaN score, an empty collection), and `Visit` (a value's items handed
//! out one by one). It must never trust a count it is given for more
//! than a hint: capacity is the caller's bound, and growth is by need.

use super::order::cmp_items;
use super::{Collection, End, Hash, Limits, List, Set, Stream, ZSet};
use crate::entry::ValueType;

/// The most items a claimed count reserves room for up front: past it,
/// a collection grows as items arrive, so a count that lies costs
/// nothing.
const MOST_RESERVED: usize = 1 << 16;

/// A whole value, ready to become a key's (`Db`'s `restore_value`).
#[derive(Debug)]
pub struct Value(pub(crate) Kind);

#[derive(Debug)]
pub(crate) enum Kind {
    String(Vec<u8>),
    Collection(Box<Collection>),
}

impl Value {
    /// A string value.
    pub fn string(bytes: Vec<u8>) -> Value {
        Value(Kind::String(bytes))
    }

    /// A stream value (built from its parts: `Stream::from_parts`).
    pub fn stream(s: Stream) -> Value {
        Value(Kind::Collection(Box::new(Collection::Stream(Box::new(s)))))
    }

    /// Its type.
    pub fn kind(&self) -> ValueType {
        match &self.0 {
            Kind::String(_) => ValueType::String,
            Kind::Collection(c) => match **c {
                Collection::Hash(_) => ValueType::Hash,
                Collection::Set(_) => ValueType::Set,
                Collection::List(_) => ValueType::List,
                Collection::ZSet(_) => ValueType::ZSet,
                Collection::Stream(_) => ValueType::Stream,
            },
        }
    }
}

/// Why items do not make a value: Redis's loader refuses the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildError {
    /// A set member, hash field or sorted set member came twice.
    Repeated,
    /// A sorted set score was NaN.
    NanScore,
    /// No item at all: an empty collection is never a key.
    Empty,
    /// An item of another type's shape (a pair pushed into a list).
    WrongShape,
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BuildError::Repeated => "an element repeated",
            BuildError::NanScore => "a NaN score",
            BuildError::Empty => "an empty collection",
            BuildError::WrongShape => "an item of another type",
        })
    }
}

/// A collection built item by item, in the compact or big encoding the
/// limits choose, as the engine's own loading builds one.
#[derive(Debug)]
pub struct Builder {
    limits: Limits,
    into: Building,
}

#[derive(Debug)]
enum Building {
    List(List),
    Set(Set),
    Hash(Hash),
    /// Members are sorted before they go in (`finish`): inserted in
    /// order, each lands at the end.
    ZSet(Vec<(f64, Vec<u8>)>),
}

impl Builder {
    /// A collection of type `kind` expecting about `count` items (a hint,
    /// never trusted past `MOST_RESERVED`); `None` for a string, and for
    /// a stream, which is built from its own parts (`Value::stream`).
    pub fn new(kind: ValueType, count: usize, limits: Limits) -> Option<Builder> {
        let n = count.min(MOST_RESERVED);
        let into = match kind {
            ValueType::List => Building::List(List::default()),
            ValueType::Set => Building::Set(Set::with_capacity(n, limits.set_intset_entries)),
            ValueType::Hash => Building::Hash(Hash::with_capacity(n, limits.hash)),
            ValueType::ZSet => Building::ZSet(Vec::with_capacity(n)),
            ValueType::String | ValueType::Stream => return None,
        };
        Some(Builder { limits, into })
    }

    /// Appends a list's next element, or adds a set's member.
    pub fn push(&mut self, item: &[u8]) -> Result<(), BuildError> {
        match &mut self.into {
            Building::List(l) => l.push(End::Right, item, self.limits.list_chunk),
            Building::Set(s) => {
                if !s.insert(item, self.limits.set_intset_entries) {
                    return Err(BuildError::Repeated);
                }
            }
            _ => return Err(BuildError::WrongShape),
        }
        Ok(())
    }

    /// Adds a hash's field.
    pub fn pair(&mut self, field: &[u8], value: &[u8]) -> Result<(), BuildError> {
        let Building::Hash(h) = &mut self.into else {
            return Err(BuildError::WrongShape);
        };
        if h.insert(field, value, self.limits.hash) {
            Ok(())
        } else {
            Err(BuildError::Repeated)
        }
    }

    /// Adds a sorted set's member.
    pub fn scored(&mut self, member: &[u8], score: f64) -> Result<(), BuildError> {
        let Building::ZSet(items) = &mut self.into else {
            return Err(BuildError::WrongShape);
        };
        if score.is_nan() {
            return Err(BuildError::NanScore);
        }
        items.push((score, member.to_vec()));
        Ok(())
    }

    /// How many items it holds so far (a sorted set's, counting repeats
    /// not yet found).
    pub fn len(&self) -> usize {
        match &self.into {
            Building::List(l) => l.len(),
            Building::Set(s) => s.len(),
            Building::Hash(h) => h.len(),
            Building::ZSet(items) => items.len(),
        }
    }

    /// Whether it holds nothing yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value; `Empty` if no item came, `Repeated` if a sorted set's
    /// member came twice.
    pub fn finish(self) -> Result<Value, BuildError> {
        if self.is_empty() {
            return Err(BuildError::Empty);
        }
        let c = match self.into {
            Building::List(l) => Collection::List(Box::new(l)),
            Building::Set(s) => Collection::Set(s),
            Building::Hash(h) => Collection::Hash(h),
            Building::ZSet(mut items) => {
                let by_order = |a: &(f64, Vec<u8>), b: &(f64, Vec<u8>)| {
                    cmp_items((a.0, &a.1[..]), (b.0, &b.1[..]))
                };
                if !items.is_sorted_by(|a, b| by_order(a, b).is_le()) {
                    items.sort_unstable_by(by_order);
                }
                let mut z = ZSet::with_capacity(items.len(), self.limits.zset);
                for (score, member) in items {
                    if z.insert(&member, score, self.limits.zset).is_some() {
                        return Err(BuildError::Repeated);
                    }
                }
                Collection::ZSet(z)
            }
        };
        Ok(Value(Kind::Collection(Box::new(c))))
    }
}

/// What a value's items are handed to, one by one (DUMP's reading):
/// first `begin`, then the items in the value's order (a set's and a
/// hash's as they lie; a sorted set's by score).
pub trait Visit {
    /// The value's type and how many items follow (a string: its length,
    /// and one `string` call).
    fn begin(&mut self, kind: ValueType, len: usize);
    /// A string's bytes.
    fn string(&mut self, bytes: &[u8]);
    /// A list's element or a set's member.
    fn element(&mut self, item: &[u8]);
    /// A hash's field and its value.
    fn pair(&mut self, field: &[u8], value: &[u8]);
    /// A sorted set's member and its score.
    fn scored(&mut self, member: &[u8], score: f64);
    /// A stream, whole: its parts are read through `Stream`'s own API.
    fn stream(&mut self, stream: &Stream);
}

/// Hands `value`'s items to `v`, as DUMP hands a key's.
pub fn visit_value(value: &Value, v: &mut dyn Visit) {
    match &value.0 {
        Kind::String(s) => {
            v.begin(ValueType::String, s.len());
            v.string(s);
        }
        Kind::Collection(c) => visit(c, v),
    }
}

/// Hands `c`'s items to `v`.
pub(crate) fn visit(c: &Collection, v: &mut dyn Visit) {
    match c {
        Collection::List(l) => {
            v.begin(ValueType::List, l.len());
            l.iter().for_each(|e| v.element(e));
        }
        Collection::Set(s) => {
            v.begin(ValueType::Set, s.len());
            s.iter().for_each(|m| m.with_text(|t| v.element(t)));
        }
        Collection::Hash(h) => {
            v.begin(ValueType::Hash, h.len());
            h.iter().for_each(|(f, val)| v.pair(f, val));
        }
        Collection::ZSet(z) => {
            v.begin(ValueType::ZSet, z.len());
            z.iter().for_each(|(m, s)| v.scored(m, s));
        }
        Collection::Stream(s) => {
            v.begin(ValueType::Stream, c.len());
            v.stream(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Items(Vec<String>);

    impl Visit for Items {
        fn begin(&mut self, kind: ValueType, len: usize) {
            self.0.push(format!("{} {len}", kind.as_str()));
        }
        fn string(&mut self, bytes: &[u8]) {
            self.0.push(String::from_utf8_lossy(bytes).into());
        }
        fn element(&mut self, item: &[u8]) {
            self.0.push(String::from_utf8_lossy(item).into());
        }
        fn pair(&mut self, field: &[u8], value: &[u8]) {
            let (f, v) = (
                String::from_utf8_lossy(field),
                String::from_utf8_lossy(value),
            );
            self.0.push(format!("{f}={v}"));
        }
        fn scored(&mut self, member: &[u8], score: f64) {
            self.0
                .push(format!("{}:{score}", String::from_utf8_lossy(member)));
        }
        fn stream(&mut self, stream: &Stream) {
            self.0.push(format!("stream of {}", stream.len()));
        }
    }

    fn items(value: &Value) -> Vec<String> {
        let mut out = Items::default();
        visit_value(value, &mut out);
        out.0
    }

    #[test]
    fn each_type_builds_and_reads_back_in_order() {
        let l = Limits::default();
        let mut b = Builder::new(ValueType::List, 2, l).unwrap();
        b.push(b"a").unwrap();
        b.push(b"b").unwrap();
        assert_eq!(items(&b.finish().unwrap()), ["list 2", "a", "b"]);

        let mut b = Builder::new(ValueType::ZSet, 1_000_000_000, l).unwrap();
        b.scored(b"b", 2.0).unwrap();
        b.scored(b"a", 2.0).unwrap();
        b.scored(b"c", -1.0).unwrap();
        assert_eq!(
            items(&b.finish().unwrap()),
            ["zset 3", "c:-1", "a:2", "b:2"]
        );

        let mut b = Builder::new(ValueType::Hash, 1, l).unwrap();
        b.pair(b"f", b"v").unwrap();
        assert_eq!(items(&b.finish().unwrap()), ["hash 1", "f=v"]);
        assert!(Builder::new(ValueType::String, 1, l).is_none());
    }

    #[test]
    fn what_redis_refuses_is_refused() {
        let l = Limits::default();
        let mut b = Builder::new(ValueType::Set, 2, l).unwrap();
        b.push(b"1").unwrap();
        assert_eq!(b.push(b"1"), Err(BuildError::Repeated));
        assert_eq!(b.pair(b"f", b"v"), Err(BuildError::WrongShape));

        let mut b = Builder::new(ValueType::Hash, 2, l).unwrap();
        b.pair(b"f", b"1").unwrap();
        assert_eq!(b.pair(b"f", b"2"), Err(BuildError::Repeated));

        let mut b = Builder::new(ValueType::ZSet, 2, l).unwrap();
        assert_eq!(b.scored(b"m", f64::NAN), Err(BuildError::NanScore));
        b.scored(b"m", 1.0).unwrap();
        b.scored(b"m", 2.0).unwrap();
        assert_eq!(b.finish().map(|_| ()), Err(BuildError::Repeated));

        let b = Builder::new(ValueType::List, 0, l).unwrap();
        assert_eq!(b.finish().map(|_| ()), Err(BuildError::Empty));
    }

    #[test]
    fn a_big_set_of_numbers_reads_back_as_text() {
        let l = Limits::default();
        let mut b = Builder::new(ValueType::Set, 3, l).unwrap();
        for m in [&b"-5"[..], b"7", b"x"] {
            b.push(m).unwrap();
        }
        let mut got = items(&b.finish().unwrap());
        got.sort();
        assert_eq!(got, ["-5", "7", "set 3", "x"]);
    }
}
