//! `Pairs`: a small hash's fields and values, packed in one buffer in
//! insertion order (Redis's `listpack` for hashes).
//!
//! Owns that layout: for each field, its length (LEB128), the field, the
//! value's length, the value. Lookups scan (a small hash holds at most
//! `hash-max-listpack-entries` fields, 512 by default, as Redis's
//! listpack does); the buffer is kept at its exact size, so a hash of ten
//! short fields costs their bytes and a few more, not two allocations and
//! 32 bytes of pointers a field. It must never hold a field twice, nor
//! let `count` drift from what the buffer holds.

use std::ops::Range;

/// One field's place in the buffer: the whole entry, and its field and
/// value.
struct Slot {
    entry: Range<usize>,
    field: Range<usize>,
    value: Range<usize>,
}

fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Fields and values, packed, in insertion order. A boxed slice, not a
/// vector: the buffer is always its exact size, and the struct is 24
/// bytes, so a small hash fits a 32-byte allocation with its tag.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pairs {
    data: Box<[u8]>,
    count: u32,
}

impl Pairs {
    pub(crate) fn len(&self) -> usize {
        self.count as usize
    }

    /// Bytes held by the buffer.
    pub(crate) fn bytes(&self) -> usize {
        self.data.len()
    }

    /// The length prefixed bytes at `at`: their range and where the next
    /// item starts.
    fn item_at(&self, at: usize) -> Option<(Range<usize>, usize)> {
        let mut n = 0usize;
        let mut pos = at;
        for shift in (0..70).step_by(7) {
            let b = *self.data.get(pos)?;
            pos += 1;
            n |= usize::from(b & 0x7f).checked_shl(shift)?;
            if b < 0x80 {
                let end = pos.checked_add(n)?;
                return (end <= self.data.len()).then_some((pos..end, end));
            }
        }
        None
    }

    fn slots(&self) -> impl Iterator<Item = Slot> + '_ {
        let mut at = 0;
        std::iter::from_fn(move || {
            let (field, next) = self.item_at(at)?;
            let (value, end) = self.item_at(next)?;
            let slot = Slot {
                entry: at..end,
                field,
                value,
            };
            at = end;
            Some(slot)
        })
    }

    fn find(&self, field: &[u8]) -> Option<Slot> {
        self.slots()
            .find(|s| self.data.get(s.field.clone()) == Some(field))
    }

    fn bytes_of(&self, r: Range<usize>) -> &[u8] {
        self.data.get(r).unwrap_or_default()
    }

    pub(crate) fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.find(field).map(|s| self.bytes_of(s.value))
    }

    /// Sets `field` to `value`: the old value's length if the field was
    /// there (it keeps its place), `None` if it is new (it goes last).
    pub(crate) fn set(&mut self, field: &[u8], value: &[u8]) -> Option<usize> {
        let mut entry = Vec::with_capacity(4 + field.len() + value.len());
        put_varint(&mut entry, field.len());
        entry.extend_from_slice(field);
        put_varint(&mut entry, value.len());
        entry.extend_from_slice(value);
        let found = self.find(field);
        let mut data = std::mem::take(&mut self.data).into_vec();
        let old = match found {
            Some(slot) => {
                let old = slot.value.len();
                data.splice(slot.entry, entry);
                Some(old)
            }
            None => {
                data.reserve_exact(entry.len());
                data.extend_from_slice(&entry);
                self.count += 1;
                None
            }
        };
        self.data = data.into_boxed_slice();
        old
    }

    /// Removes `field`: its value's length if it was there.
    pub(crate) fn remove(&mut self, field: &[u8]) -> Option<usize> {
        let slot = self.find(field)?;
        let mut data = std::mem::take(&mut self.data).into_vec();
        data.drain(slot.entry);
        self.data = data.into_boxed_slice();
        self.count -= 1;
        Some(slot.value.len())
    }

    /// Every field and value, in insertion order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.slots()
            .map(|s| (self.bytes_of(s.field), self.bytes_of(s.value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_their_place_and_the_buffer_its_exact_size() {
        let mut p = Pairs::default();
        assert_eq!(p.set(b"a", b"1"), None);
        assert_eq!(p.set(b"b", &[7u8; 300]), None);
        assert_eq!(p.set(b"", b""), None);
        assert_eq!(p.set(b"a", b"one"), Some(1));
        assert_eq!(p.len(), 3);
        let all: Vec<(Vec<u8>, Vec<u8>)> =
            p.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
        assert_eq!(all[0], (b"a".to_vec(), b"one".to_vec()));
        assert_eq!(all[1].1.len(), 300);
        assert_eq!(all[2], (Vec::new(), Vec::new()));
        assert_eq!(p.get(b"b").map(<[u8]>::len), Some(300));
        assert_eq!(p.remove(b"b"), Some(300));
        assert_eq!(p.remove(b"b"), None);
        assert_eq!(p.get(b"a"), Some(&b"one"[..]));
        assert_eq!(p.len(), 2);
        assert_eq!(p.bytes(), 1 + 1 + 1 + 3 + 1 + 1, "no slack left");
    }
}
