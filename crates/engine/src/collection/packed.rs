//! `Packed`: a field and its value in one allocation, behind an 8-byte
//! pointer: the element of a big collection's table (`Table`).
//!
//! Owns that allocation: its layout (the field's length and the value's
//! length as LEB128, then the field, then the value), its creation, its
//! reading and its freeing. Why not a `Box<[u8]>`: that is a 16-byte fat
//! pointer, and a table of N elements holds about 2N slots; with the
//! lengths inside the allocation the pointer is thin, and a slot costs 8
//! bytes (measured in `docs/BENCHMARKS.md`, "Memory per element").
//!
//! The unsafe code is creating, viewing and freeing the allocation. It
//! must never read past the allocation: the lengths at its start are
//! written once, by `new`, and describe exactly the bytes that follow, so
//! the view's length is the allocation's.

use std::ptr::NonNull;

/// A field and its value (empty for a set's member), in one allocation.
pub(crate) struct Packed(NonNull<u8>);

// SAFETY: a `Packed` owns its bytes as a `Box<[u8]>` would, with no
// interior mutability: sending or sharing it is as safe as for the box.
unsafe impl Send for Packed {}
// SAFETY: as for `Send`.
unsafe impl Sync for Packed {}

fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

impl Packed {
    pub(crate) fn new(field: &[u8], value: &[u8]) -> Self {
        let mut out = Vec::with_capacity(4 + field.len() + value.len());
        put_varint(&mut out, field.len());
        put_varint(&mut out, value.len());
        out.extend_from_slice(field);
        out.extend_from_slice(value);
        let raw = Box::into_raw(out.into_boxed_slice()).cast::<u8>();
        // SAFETY: `Box::into_raw` never returns null; the slice is not
        // empty (two lengths at least), so it is a real allocation.
        Self(unsafe { NonNull::new_unchecked(raw) })
    }

    /// The byte at `at`, which must lie within the lengths `new` wrote.
    fn header_byte(&self, at: usize) -> u8 {
        // SAFETY: callers read only the two varints at the start, which
        // `new` wrote in full inside the allocation, stopping at each
        // one's last byte (high bit clear): `at` is within it.
        let byte = unsafe { self.0.as_ptr().add(at) };
        // SAFETY: as above, and the byte was initialised by `new`.
        unsafe { *byte }
    }

    /// The varint starting at `at`: its value and the position after it.
    fn varint_at(&self, mut at: usize) -> (usize, usize) {
        let mut n = 0usize;
        let mut shift = 0;
        loop {
            let b = self.header_byte(at);
            at += 1;
            n |= usize::from(b & 0x7f) << shift;
            if b < 0x80 {
                return (n, at);
            }
            shift += 7;
        }
    }

    /// The header's length, the field's, and the value's.
    fn lengths(&self) -> (usize, usize, usize) {
        let (field, at) = self.varint_at(0);
        let (value, header) = self.varint_at(at);
        (header, field, value)
    }

    /// The whole allocation.
    fn bytes(&self) -> &[u8] {
        let (header, field, value) = self.lengths();
        // SAFETY: the allocation holds exactly the header and the field
        // and value it describes (`new`), and lives as long as `self`.
        unsafe { std::slice::from_raw_parts(self.0.as_ptr(), header + field + value) }
    }

    /// The field and the value.
    pub(crate) fn get(&self) -> (&[u8], &[u8]) {
        let (header, field, _) = self.lengths();
        let rest = self.bytes().get(header..).unwrap_or_default();
        rest.split_at(field.min(rest.len()))
    }

    pub(crate) fn field(&self) -> &[u8] {
        self.get().0
    }
}

impl Drop for Packed {
    fn drop(&mut self) {
        let len = self.bytes().len();
        let slice = std::ptr::slice_from_raw_parts_mut(self.0.as_ptr(), len);
        // SAFETY: the pointer and length are those of the boxed slice
        // `new` leaked, freed once, here.
        drop(unsafe { Box::from_raw(slice) });
    }
}

impl Clone for Packed {
    fn clone(&self) -> Self {
        let (field, value) = self.get();
        Packed::new(field, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_and_its_value_pack_behind_a_thin_pointer_and_back() {
        assert_eq!(std::mem::size_of::<Packed>(), 8);
        assert_eq!(std::mem::size_of::<Option<Packed>>(), 8);
        for (f, v) in [
            (&b""[..], &b""[..]),
            (b"f", b"value"),
            (&[7u8; 300][..], &[0u8; 3][..]),
            (b"member", b""),
            (&[1u8; 20_000][..], &[2u8; 70_000][..]),
        ] {
            let p = Packed::new(f, v);
            assert_eq!(p.get(), (f, v));
            assert_eq!(p.field(), f);
            let q = p.clone();
            drop(p);
            assert_eq!(q.get(), (f, v));
        }
        assert_eq!(Packed::new(b"element:123456", b"").bytes().len(), 16);
    }
}
