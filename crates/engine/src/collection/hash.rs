//! `Hash`: a hash value's fields and values.
//!
//! Owns the two encodings and the switch between them, and the memory
//! count. Small hashes keep their fields in insertion order in a vector
//! (Redis's `listpack`: HGETALL on a small hash answers in the order the
//! fields were added, as Redis does); past `Listpack::entries` fields or
//! a field or value longer than `Listpack::value` bytes, a hash table
//! (Redis's `hashtable`). As in Redis, a hash never converts back. It must
//! never let `bytes` drift from what it holds.

use super::pairs::Pairs;
use super::table::Table;

/// When a small hash becomes a table: Redis's `hash-max-listpack-entries`
/// and `hash-max-listpack-value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listpack {
    /// Most fields a small hash holds (default 512).
    pub entries: usize,
    /// Longest field or value a small hash holds, in bytes (default 64).
    pub value: usize,
}

impl Default for Listpack {
    fn default() -> Self {
        Self {
            entries: 512,
            value: 64,
        }
    }
}

/// A field and its value, borrowed from the hash.
pub(crate) type FieldRef<'a> = (&'a [u8], &'a [u8]);

#[derive(Debug, Clone)]
enum Fields {
    Small(Pairs),
    /// Boxed: a small hash (the common case, one per key) stays small.
    Big(Box<Table>),
}

/// A hash: binary-safe fields mapped to binary-safe values.
#[derive(Debug, Clone)]
pub(crate) struct Hash {
    fields: Fields,
}

impl Default for Hash {
    fn default() -> Self {
        Self {
            fields: Fields::Small(Pairs::default()),
        }
    }
}

impl PartialEq for Hash {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(f, v)| other.get(f) == Some(v))
    }
}

impl Hash {
    /// An empty hash expecting `n` fields, small if `limits` allow.
    pub(crate) fn with_capacity(n: usize, limits: Listpack) -> Self {
        let fields = if n > limits.entries {
            Fields::Big(Box::new(Table::with_capacity(n)))
        } else {
            Fields::Small(Pairs::default())
        };
        Self { fields }
    }

    pub(crate) fn len(&self) -> usize {
        match &self.fields {
            Fields::Small(v) => v.len(),
            Fields::Big(m) => m.len(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn footprint(&self) -> usize {
        std::mem::size_of::<Self>()
            + match &self.fields {
                Fields::Small(p) => p.bytes(),
                Fields::Big(t) => t.bytes(),
            }
    }

    /// Redis's name for the encoding in use.
    pub(crate) fn encoding(&self) -> &'static str {
        match &self.fields {
            Fields::Small(_) => "listpack",
            Fields::Big(_) => "hashtable",
        }
    }

    pub(crate) fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.fields {
            Fields::Small(p) => p.get(field),
            Fields::Big(t) => t.get(field),
        }
    }

    /// Sets `field` to `value`; true if the field is new. A small hash
    /// becomes a table if this takes it past `limits`.
    pub(crate) fn insert(&mut self, field: &[u8], value: &[u8], limits: Listpack) -> bool {
        if field.len() > limits.value || value.len() > limits.value {
            self.convert();
        }
        if let Fields::Small(p) = &self.fields {
            if p.len() >= limits.entries && p.get(field).is_none() {
                self.convert();
            }
        }
        super::edit::hash_set(field, value);
        match &mut self.fields {
            Fields::Small(p) => p.set(field, value).is_none(),
            Fields::Big(t) => t.set(field, value).is_none(),
        }
    }

    /// Removes `field`; true if it was there.
    pub(crate) fn remove(&mut self, field: &[u8]) -> bool {
        let removed = match &mut self.fields {
            Fields::Small(p) => p.remove(field).is_some(),
            Fields::Big(t) => t.remove(field).is_some(),
        };
        if removed {
            super::edit::hash_del(field);
        }
        removed
    }

    /// Every field and value: a small hash's in insertion order, a big
    /// one's in the table's (unspecified) order.
    pub(crate) fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], &[u8])> + '_> {
        match &self.fields {
            Fields::Small(p) => Box::new(p.iter()),
            Fields::Big(t) => Box::new(t.iter()),
        }
    }

    /// The fields and values at `positions` of `iter`'s order, in the order
    /// asked (repeats allowed; positions past the end are skipped): the
    /// random picks of HRANDFIELD.
    pub(crate) fn at_positions(&self, positions: &[usize]) -> Vec<FieldRef<'_>> {
        match &self.fields {
            Fields::Small(p) => {
                let all: Vec<FieldRef<'_>> = p.iter().collect();
                positions
                    .iter()
                    .filter_map(|&i| all.get(i).copied())
                    .collect()
            }
            Fields::Big(t) => t.at_positions(positions),
        }
    }

    /// The fields and values `picks` names (see `Picks`).
    pub(crate) fn picks(&self, picks: &super::Picks) -> Vec<FieldRef<'_>> {
        match (picks, &self.fields) {
            (super::Picks::Positions(p), _) => self.at_positions(p),
            (super::Picks::Random(r), Fields::Small(p)) => {
                let all: Vec<FieldRef<'_>> = p.iter().collect();
                r.iter()
                    .filter_map(|&r| all.get((r as usize) % all.len().max(1)).copied())
                    .collect()
            }
            (super::Picks::Random(r), Fields::Big(t)) => {
                r.iter().filter_map(|&r| t.random(r)).collect()
            }
        }
    }

    /// One HSCAN step from `cursor` (0 to start), asking for about `count`
    /// fields: the fields and values of this step and the next cursor (0
    /// when done). A small hash answers whole, with cursor 0, as Redis
    /// does for a listpack; a big one steps through its table
    /// (`Table::scan`).
    pub(crate) fn scan(&self, cursor: u64, count: usize) -> (u64, Vec<FieldRef<'_>>) {
        match &self.fields {
            Fields::Small(_) => (0, self.iter().collect()),
            Fields::Big(t) => t.scan(cursor, count),
        }
    }

    /// The table of a big hash.
    pub(super) fn table(&self) -> Option<&Table> {
        match &self.fields {
            Fields::Small(_) => None,
            Fields::Big(t) => Some(t),
        }
    }

    /// Switches a small hash to the table, once it outgrows its buffer.
    fn convert(&mut self) {
        if let Fields::Small(p) = &self.fields {
            let mut t = Table::with_capacity(p.len() * 2);
            for (f, value) in p.iter() {
                t.insert_new(f, value);
            }
            self.fields = Fields::Big(Box::new(t));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Listpack = Listpack {
        entries: 512,
        value: 64,
    };

    #[test]
    fn the_byte_count_follows_inserts_overwrites_and_removes() {
        let base = std::mem::size_of::<Hash>();
        for big in [false, true] {
            let mut h = Hash::default();
            if big {
                h.convert();
            }
            let per = if big { 24 } else { 2 };
            assert!(h.insert(b"f", b"one", L));
            assert!(!h.insert(b"f", b"three", L));
            assert!(h.insert(b"g", b"", L));
            assert_eq!(h.get(b"f"), Some(&b"three"[..]));
            assert_eq!(h.footprint(), base + 2 * per + 1 + 5 + 1, "big: {big}");
            assert!(h.remove(b"f"));
            assert!(!h.remove(b"f"));
            assert_eq!(h.footprint(), base + per + 1, "big: {big}");
            assert!(h.remove(b"g"));
            assert_eq!(h.footprint(), base, "big: {big}");
            assert!(h.is_empty());
        }
    }

    #[test]
    fn a_scan_returns_every_field_present_throughout_exactly_once() {
        let mut h = Hash::default();
        for i in 0..1000 {
            h.insert(format!("f{i}").as_bytes(), b"v", L);
        }
        let mut seen = std::collections::HashMap::new();
        let (mut cursor, mut steps) = (0, 0);
        loop {
            let (next, page) = h.scan(cursor, 10);
            // COUNT is kept to: a step's reply does not grow with the hash.
            assert!(page.len() <= 10, "{} fields in a step", page.len());
            let fields: Vec<Vec<u8>> = page.iter().map(|(f, _)| f.to_vec()).collect();
            for f in fields {
                *seen.entry(f).or_insert(0) += 1;
            }
            steps += 1;
            // Changes between steps: new fields may or may not be seen.
            h.insert(format!("new{steps}").as_bytes(), b"v", L);
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        assert!((90..=150).contains(&steps), "{steps} steps of 10");
        for i in 0..1000 {
            assert_eq!(seen.get(format!("f{i}").as_bytes()), Some(&1), "f{i}");
        }
        let mut small = Hash::default();
        small.insert(b"a", b"1", L);
        assert_eq!(small.scan(0, 1), (0, vec![(&b"a"[..], &b"1"[..])]));
    }

    #[test]
    fn picks_by_position_come_back_in_the_order_asked_small_or_big() {
        for n in [3usize, 2000] {
            let mut h = Hash::default();
            for i in 0..n {
                h.insert(format!("f{i}").as_bytes(), format!("{i}").as_bytes(), L);
            }
            let order: Vec<Vec<u8>> = h.iter().map(|(f, _)| f.to_vec()).collect();
            let asked = [2, 0, 2, 1, n + 5, 1];
            let got: Vec<Vec<u8>> = h
                .at_positions(&asked)
                .iter()
                .map(|(f, _)| f.to_vec())
                .collect();
            let want: Vec<Vec<u8>> = [2, 0, 2, 1, 1].iter().map(|&i| order[i].clone()).collect();
            assert_eq!(got, want, "{n} fields");
        }
    }

    #[test]
    fn small_hashes_keep_insertion_order_and_convert_past_redis_thresholds() {
        let mut h = Hash::default();
        for i in 0..L.entries {
            h.insert(format!("f{i}").as_bytes(), b"v", L);
        }
        h.remove(b"f0");
        h.insert(b"f0", b"again", L);
        let order: Vec<_> = h.iter().map(|(f, _)| f.to_vec()).collect();
        assert_eq!(order.first().map(Vec::as_slice), Some(&b"f1"[..]));
        assert_eq!(order.last().map(Vec::as_slice), Some(&b"f0"[..]));
        assert_eq!(h.encoding(), "listpack");
        h.insert(b"one more", b"v", L);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), L.entries + 1);
        assert_eq!(h.get(b"f0"), Some(&b"again"[..]));

        let mut long = Hash::default();
        long.insert(b"f", &[b'x'; 64], L);
        assert_eq!(long.encoding(), "listpack");
        long.insert(b"g", &[b'x'; 65], L);
        assert_eq!(long.encoding(), "hashtable");
        assert!(long.remove(b"g"));
        assert_eq!(long.encoding(), "hashtable", "never converts back");
    }
}
