//! `Hash`: a hash value's fields and values.
//!
//! Owns the two encodings and the switch between them, and the memory
//! count. Small hashes keep their fields in insertion order in a vector
//! (Redis's `listpack`: HGETALL on a small hash answers in the order the
//! fields were added, as Redis does); past `MAX_LISTPACK_ENTRIES` fields
//! or a field or value longer than `MAX_LISTPACK_VALUE`, a hash table
//! (Redis's `hashtable`). As in Redis, a hash never converts back. It must
//! never let `bytes` drift from what it holds.

use foldhash::fast::RandomState;
use std::collections::HashMap;

/// Redis's `hash-max-listpack-entries` default.
pub(crate) const MAX_LISTPACK_ENTRIES: usize = 128;
/// Redis's `hash-max-listpack-value` default.
pub(crate) const MAX_LISTPACK_VALUE: usize = 64;

/// Per-field overhead counted on top of the bytes: two boxed slices (32
/// bytes) and, in a table, its control byte, rounded as allocators do.
const SLOT_BYTES: usize = 48;

type Pair = (Box<[u8]>, Box<[u8]>);

#[derive(Debug, Clone)]
enum Fields {
    Small(Vec<Pair>),
    Big(HashMap<Box<[u8]>, Box<[u8]>, RandomState>),
}

/// A hash: binary-safe fields mapped to binary-safe values.
#[derive(Debug, Clone)]
pub(crate) struct Hash {
    fields: Fields,
    /// Bytes of fields and values held, with `SLOT_BYTES` for each.
    bytes: usize,
}

impl Default for Hash {
    fn default() -> Self {
        Self {
            fields: Fields::Small(Vec::new()),
            bytes: 0,
        }
    }
}

impl PartialEq for Hash {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(f, v)| other.get(f) == Some(v))
    }
}

impl Hash {
    /// An empty hash expecting `n` fields.
    pub(crate) fn with_capacity(n: usize) -> Self {
        let fields = if n > MAX_LISTPACK_ENTRIES {
            Fields::Big(HashMap::with_capacity_and_hasher(n, RandomState::default()))
        } else {
            Fields::Small(Vec::with_capacity(n))
        };
        Self { fields, bytes: 0 }
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
        std::mem::size_of::<Self>() + self.bytes
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
            Fields::Small(v) => v.iter().find(|(f, _)| &f[..] == field).map(|(_, v)| &v[..]),
            Fields::Big(m) => m.get(field).map(|v| &v[..]),
        }
    }

    /// Sets `field` to `value`; true if the field is new.
    pub(crate) fn insert(&mut self, field: &[u8], value: &[u8]) -> bool {
        if field.len() > MAX_LISTPACK_VALUE || value.len() > MAX_LISTPACK_VALUE {
            self.convert();
        }
        let slot = match &mut self.fields {
            Fields::Small(v) => v.iter_mut().find(|(f, _)| &f[..] == field).map(|(_, v)| v),
            Fields::Big(m) => m.get_mut(field),
        };
        if let Some(old) = slot {
            self.bytes = self.bytes - old.len() + value.len();
            *old = value.into();
            return false;
        }
        if self.len() >= MAX_LISTPACK_ENTRIES {
            self.convert();
        }
        self.bytes += SLOT_BYTES + field.len() + value.len();
        match &mut self.fields {
            Fields::Small(v) => v.push((field.into(), value.into())),
            Fields::Big(m) => drop(m.insert(field.into(), value.into())),
        }
        true
    }

    /// Removes `field`; true if it was there.
    pub(crate) fn remove(&mut self, field: &[u8]) -> bool {
        let old = match &mut self.fields {
            Fields::Small(v) => v
                .iter()
                .position(|(f, _)| &f[..] == field)
                .map(|i| v.remove(i).1),
            Fields::Big(m) => m.remove(field),
        };
        match old {
            Some(old) => {
                self.bytes -= SLOT_BYTES + field.len() + old.len();
                true
            }
            None => false,
        }
    }

    /// Every field and value: a small hash's in insertion order, a big
    /// one's in the table's (unspecified) order.
    pub(crate) fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], &[u8])> + '_> {
        match &self.fields {
            Fields::Small(v) => Box::new(v.iter().map(|(f, v)| (&f[..], &v[..]))),
            Fields::Big(m) => Box::new(m.iter().map(|(f, v)| (&f[..], &v[..]))),
        }
    }

    /// The field and value at position `i` of `iter`'s order, if any: a
    /// random pick for HRANDFIELD. O(1) small, O(i) big.
    pub(crate) fn nth(&self, i: usize) -> Option<(&[u8], &[u8])> {
        match &self.fields {
            Fields::Small(v) => v.get(i).map(|(f, v)| (&f[..], &v[..])),
            Fields::Big(m) => m.iter().nth(i).map(|(f, v)| (&f[..], &v[..])),
        }
    }

    /// Switches a small hash to the table, once it outgrows the vector.
    fn convert(&mut self) {
        if let Fields::Small(v) = &mut self.fields {
            let mut m = HashMap::with_capacity_and_hasher(v.len() * 2, RandomState::default());
            m.extend(v.drain(..));
            self.fields = Fields::Big(m);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_count_follows_inserts_overwrites_and_removes() {
        let mut h = Hash::default();
        assert!(h.insert(b"f", b"one"));
        assert!(!h.insert(b"f", b"three"));
        assert!(h.insert(b"g", b""));
        assert_eq!(h.get(b"f"), Some(&b"three"[..]));
        assert_eq!(h.bytes, 2 * SLOT_BYTES + 1 + 5 + 1);
        assert!(h.remove(b"f"));
        assert!(!h.remove(b"f"));
        assert_eq!(h.bytes, SLOT_BYTES + 1);
        assert!(h.remove(b"g"));
        assert_eq!(h.bytes, 0);
        assert!(h.is_empty());
    }

    #[test]
    fn small_hashes_keep_insertion_order_and_convert_past_redis_thresholds() {
        let mut h = Hash::default();
        for i in 0..MAX_LISTPACK_ENTRIES {
            h.insert(format!("f{i}").as_bytes(), b"v");
        }
        h.remove(b"f0");
        h.insert(b"f0", b"again");
        let order: Vec<_> = h.iter().map(|(f, _)| f.to_vec()).collect();
        assert_eq!(order.first().map(Vec::as_slice), Some(&b"f1"[..]));
        assert_eq!(order.last().map(Vec::as_slice), Some(&b"f0"[..]));
        assert_eq!(h.encoding(), "listpack");
        h.insert(b"one more", b"v");
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), MAX_LISTPACK_ENTRIES + 1);
        assert_eq!(h.get(b"f0"), Some(&b"again"[..]));

        let mut long = Hash::default();
        long.insert(b"f", &[b'x'; MAX_LISTPACK_VALUE]);
        assert_eq!(long.encoding(), "listpack");
        long.insert(b"g", &[b'x'; MAX_LISTPACK_VALUE + 1]);
        assert_eq!(long.encoding(), "hashtable");
        assert!(long.remove(b"g"));
        assert_eq!(long.encoding(), "hashtable", "never converts back");
    }
}
