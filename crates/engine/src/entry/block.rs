//! `Entry`: one heap block per key, holding the key, the value and the
//! entry's metadata (representation, version, optional expiry deadline).
//!
//! Owns a block's memory: allocation, the raw view of it, the shared
//! value's pointer, and freeing. It is the only module that touches block
//! memory through raw pointers (`patch` only dereferences the shared
//! value's pointer, as `value` does). It must never hand out a reference
//! that outlives the block, and never let the stored size class disagree
//! with the allocation, because `Drop` rebuilds the `Layout` from it.
//!
//! Why one block: `BTreeMap<Vec<u8>, Value>` spends a 24-byte `Vec` header,
//! allocator rounding on the key, and more on an out-of-line value. Packing
//! everything behind one thin pointer puts a 16-byte key with a 64-byte value
//! in one 96-byte allocation.
//!
//! Blocks are zero-initialised when allocated, so the whole capacity is
//! initialised memory and every field is parsed through a safe `&[u8]`
//! view; the unsafe code is allocation, deallocation, forming that view, and
//! the pointer to a shared value.
//!
//! The byte format is `format`; patching a block is `patch`.

use super::class::{class_of, class_size};
use super::format::{
    get_u64, get_usize, head_len, spans, value_part_len, ALIGN, FLAGS_AT, HAS_EXPIRY, INLINE_MAX,
    KEY_LEN_AT, REPR_INLINE, REPR_MASK, REPR_SHARED, WORD,
};
use super::varint::{get_varint, put_varint};
use bytes::Bytes;
use std::alloc::{self, Layout};
use std::ptr::NonNull;

/// One stored key with its value and metadata.
///
/// An `Entry` owns its block. Cloning copies the block (a large value's
/// shared buffer is reference-counted, not copied).
pub struct Entry {
    ptr: NonNull<u8>,
}

// SAFETY: an Entry exclusively owns its block, like a `Box<[u8]>`, and the
// only thing it points to besides is a `Bytes`, which is Send + Sync.
unsafe impl Send for Entry {}
// SAFETY: `&Entry` permits only reads of the block.
unsafe impl Sync for Entry {}

/// A value to store: borrowed bytes to copy, or an owned buffer to keep
/// when it is large.
pub(crate) enum ValueIn<'a> {
    /// Bytes copied into the block (or into a new shared buffer if large).
    Slice(&'a [u8]),
    /// A buffer kept as the shared value when large, copied when small.
    Shared(Bytes),
    /// A freshly computed value: becomes the shared buffer without a copy
    /// when large, copied when small.
    Owned(Vec<u8>),
}

impl ValueIn<'_> {
    pub(super) fn len(&self) -> usize {
        match self {
            ValueIn::Slice(s) => s.len(),
            ValueIn::Shared(b) => b.len(),
            ValueIn::Owned(v) => v.len(),
        }
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            ValueIn::Slice(s) => s,
            ValueIn::Shared(b) => b,
            ValueIn::Owned(v) => v,
        }
    }
}

/// An entry's fields, read together (see `Entry::parts`).
pub(crate) struct Parts<'a> {
    pub key: &'a [u8],
    pub inline: &'a [u8],
    pub shared: Option<&'a Bytes>,
    pub expiry: Option<u64>,
}

pub(super) fn layout_of(class: u8) -> Layout {
    // Never fails: class sizes are multiples of 8 and at most MAX_BLOCK.
    Layout::from_size_align(class_size(class), ALIGN).unwrap_or(Layout::new::<u64>())
}

impl Entry {
    /// Creates an entry holding a string value. The version starts at 0; a
    /// memtable assigns a fresh one when the entry is inserted.
    ///
    /// Returns `None` if the key or value is larger than any block can be
    /// (over 4 GiB); the engine's size limits stop such input earlier.
    pub fn new(key: &[u8], value: &[u8], expiry: Option<u64>) -> Option<Entry> {
        Self::build(key, ValueIn::Slice(value), 0, expiry)
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "`class_of(size)` chose a block of at least `size` bytes, and every write below stays within the `size` computed from these same lengths"
    )]
    pub(crate) fn build(
        key: &[u8],
        value: ValueIn<'_>,
        version: u64,
        expiry: Option<u64>,
    ) -> Option<Entry> {
        let key_len32 = u32::try_from(key.len()).ok()?;
        let value_len = value.len();
        u32::try_from(value_len).ok()?;
        let size = head_len(key.len(), expiry.is_some()) + value_part_len(value_len);
        let class = class_of(size)?;
        let layout = layout_of(class);
        // SAFETY: the layout has a non-zero size (at least 16 bytes).
        let ptr = unsafe { alloc::alloc_zeroed(layout) };
        let Some(ptr) = NonNull::new(ptr) else {
            alloc::handle_alloc_error(layout)
        };
        let mut entry = Entry { ptr };
        let raw = entry.raw_init(class);
        raw[0] = class;
        raw[FLAGS_AT] = if expiry.is_some() { HAS_EXPIRY } else { 0 };
        let mut at = KEY_LEN_AT + put_varint(&mut raw[KEY_LEN_AT..], key_len32);
        raw[at..at + key.len()].copy_from_slice(key);
        at += key.len();
        raw[at..at + 8].copy_from_slice(&version.to_le_bytes());
        at += 8;
        if let Some(t) = expiry {
            raw[at..at + 8].copy_from_slice(&t.to_le_bytes());
            at += 8;
        }
        entry.write_value(at, value);
        Some(entry)
    }

    /// The whole block, before the class byte is trusted (construction).
    fn raw_init(&mut self, class: u8) -> &mut [u8] {
        // SAFETY: `ptr` is a live, zero-initialised allocation of exactly
        // `class_size(class)` bytes owned by `self`, borrowed mutably here.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), class_size(class)) }
    }

    pub(super) fn class(&self) -> u8 {
        // SAFETY: the first byte of a live block is initialised and is
        // the class written at construction.
        unsafe { *self.ptr.as_ptr() }
    }

    pub(super) fn raw(&self) -> &[u8] {
        // SAFETY: the block is live, owned by `self`, fully initialised,
        // and `class_size(class)` bytes long.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), class_size(self.class())) }
    }

    pub(super) fn raw_mut(&mut self) -> &mut [u8] {
        let class = self.class();
        self.raw_init(class)
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "every block is at least 16 bytes long, so the flags byte is in it"
    )]
    pub(super) fn is_shared(&self) -> bool {
        self.raw()[FLAGS_AT] & REPR_MASK == REPR_SHARED
    }

    /// The shared buffer's pointer, if the value is shared.
    pub(super) fn shared_ptr(&self) -> Option<*mut Bytes> {
        if !self.is_shared() {
            return None;
        }
        let raw = self.raw();
        let addr = get_usize(raw, spans(raw).value_at);
        Some(std::ptr::with_exposed_provenance_mut::<Bytes>(addr))
    }

    /// Writes `value` at `at` and sets the representation bits. Any shared
    /// buffer previously referenced from there must already be released.
    #[expect(
        clippy::indexing_slicing,
        reason = "the caller sized the block for this value at `at` (`value_part_len`), so the value part fits in it"
    )]
    pub(super) fn write_value(&mut self, at: usize, value: ValueIn<'_>) {
        let len = value.len();
        let raw = self.raw_mut();
        if len > INLINE_MAX {
            let bytes = match value {
                ValueIn::Shared(b) => b,
                ValueIn::Owned(v) => Bytes::from(v),
                ValueIn::Slice(s) => Bytes::copy_from_slice(s),
            };
            let addr = Box::into_raw(Box::new(bytes)).expose_provenance();
            raw[at..at + WORD].copy_from_slice(&addr.to_le_bytes());
            raw[FLAGS_AT] = (raw[FLAGS_AT] & !REPR_MASK) | REPR_SHARED;
        } else {
            let n = put_varint(&mut raw[at..], len as u32);
            raw[at + n..at + n + len].copy_from_slice(value.as_slice());
            raw[FLAGS_AT] = (raw[FLAGS_AT] & !REPR_MASK) | REPR_INLINE;
        }
    }

    /// Releases the shared buffer, if any, and marks the value inline and
    /// empty so the block never refers to it again.
    #[expect(
        clippy::indexing_slicing,
        reason = "a shared value's part is a word at `value_at`, inside the block"
    )]
    pub(super) fn release_shared(&mut self) {
        if let Some(p) = self.shared_ptr() {
            // SAFETY: the address was produced by `Box::into_raw` in
            // `write_value` and this block is its only owner; we clear the
            // reference below so it is never freed twice.
            drop(unsafe { Box::from_raw(p) });
            let at = spans(self.raw()).value_at;
            let raw = self.raw_mut();
            raw[FLAGS_AT] &= !REPR_MASK;
            raw[at] = 0;
        }
    }

    /// The key.
    #[expect(
        clippy::indexing_slicing,
        reason = "offsets from `spans` of a block this module built or patched lie within it: its class size is at least `head_len + value_part_len`"
    )]
    pub fn key(&self) -> &[u8] {
        let raw = self.raw();
        let s = spans(raw);
        &raw[s.key_at..s.key_at + s.key_len]
    }

    /// The version: changed by every write to the entry.
    pub fn version(&self) -> u64 {
        let raw = self.raw();
        get_u64(raw, spans(raw).version_at)
    }

    /// The absolute expiry deadline in Unix milliseconds, if any.
    #[expect(
        clippy::indexing_slicing,
        reason = "offsets from `spans` of a block this module built or patched lie within it: its class size is at least `head_len + value_part_len`"
    )]
    pub fn expiry(&self) -> Option<u64> {
        let raw = self.raw();
        if raw[FLAGS_AT] & HAS_EXPIRY == 0 {
            return None;
        }
        Some(get_u64(raw, spans(raw).version_at + 8))
    }

    /// Whether the entry is past its deadline at `now_ms`. As in Redis, a
    /// key is still alive during the millisecond of its deadline.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expiry().is_some_and(|t| now_ms > t)
    }

    /// The value's bytes.
    #[expect(
        clippy::indexing_slicing,
        reason = "offsets from `spans` of a block this module built or patched lie within it: its class size is at least `head_len + value_part_len`"
    )]
    pub fn value(&self) -> &[u8] {
        if let Some(p) = self.shared_ptr() {
            // SAFETY: the box is owned by this block and lives until the
            // block releases it, which needs `&mut self`; the returned
            // borrow is tied to `&self`.
            return unsafe { &*p };
        }
        let raw = self.raw();
        let at = spans(raw).value_at;
        let (len, n) = get_varint(&raw[at..]);
        &raw[at + n..at + n + len as usize]
    }

    /// Everything a scan reads of an entry, from one parse of the header:
    /// key, inline value (empty when shared), shared buffer, deadline.
    #[expect(
        clippy::indexing_slicing,
        reason = "offsets from `spans` of a block this module built or patched lie within it: its class size is at least `head_len + value_part_len`"
    )]
    pub(crate) fn parts(&self) -> Parts<'_> {
        let raw = self.raw();
        let s = spans(raw);
        let key = &raw[s.key_at..s.key_at + s.key_len];
        let expiry = (raw[FLAGS_AT] & HAS_EXPIRY != 0).then(|| get_u64(raw, s.version_at + 8));
        if raw[FLAGS_AT] & REPR_MASK == REPR_SHARED {
            // SAFETY: as in `value`.
            let shared = self.shared_ptr().map(|p| unsafe { &*p });
            return Parts {
                key,
                inline: &[],
                shared,
                expiry,
            };
        }
        let (len, n) = get_varint(&raw[s.value_at..]);
        let at = s.value_at + n;
        Parts {
            key,
            inline: &raw[at..at + len as usize],
            shared: None,
            expiry,
        }
    }

    /// The value as an owned buffer: a copy when inline, a new reference
    /// when shared.
    pub fn value_bytes(&self) -> Bytes {
        match self.shared_ptr() {
            // SAFETY: as in `value`.
            Some(p) => unsafe { (*p).clone() },
            None => Bytes::copy_from_slice(self.value()),
        }
    }

    /// The shared buffer of a large value, for growing it in place.
    pub(crate) fn shared_mut(&mut self) -> Option<&mut Bytes> {
        let p = self.shared_ptr()?;
        // SAFETY: the box is owned by this block; `&mut self` guarantees
        // no other borrow of the block or the box exists.
        Some(unsafe { &mut *p })
    }

    /// Approximate heap bytes this entry holds: its block plus any shared
    /// buffer.
    pub fn footprint(&self) -> usize {
        let shared = match self.shared_ptr() {
            // SAFETY: as in `value`.
            Some(p) => unsafe { (*p).len() },
            None => 0,
        };
        class_size(self.class()) + shared
    }

    /// A copy of this entry under another key (RENAME): same value, same
    /// deadline. `None` if the key makes it larger than any block can be.
    pub(crate) fn with_key(&self, key: &[u8]) -> Option<Entry> {
        let value = match self.shared_ptr() {
            // SAFETY: as in `value`.
            Some(p) => ValueIn::Shared(unsafe { (*p).clone() }),
            None => ValueIn::Slice(self.value()),
        };
        Entry::build(key, value, self.version(), self.expiry())
    }

    /// The block's address, for prefetching.
    pub(crate) fn block_addr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "the version sits 8 bytes at `version_at` (`spans`), inside every block"
    )]
    pub(crate) fn set_version(&mut self, version: u64) {
        let at = spans(self.raw()).version_at;
        self.raw_mut()[at..at + 8].copy_from_slice(&version.to_le_bytes());
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.release_shared();
        let layout = layout_of(self.class());
        // SAFETY: `ptr` was allocated in `build` with exactly this layout
        // (the class byte is never changed after construction), and is
        // freed only here.
        unsafe { alloc::dealloc(self.ptr.as_ptr(), layout) };
    }
}

impl Clone for Entry {
    fn clone(&self) -> Self {
        match self.with_key(self.key()) {
            Some(e) => e,
            // `self` proves a block of this size can be built.
            None => alloc::handle_alloc_error(layout_of(self.class())),
        }
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("key", &String::from_utf8_lossy(self.key()))
            .field("value_len", &self.value().len())
            .field("version", &self.version())
            .field("expiry", &self.expiry())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::format::INLINE_MAX;

    #[test]

    fn round_trips_fields() {
        let e = Entry::build(b"key", ValueIn::Slice(b"value"), 7, Some(1234)).expect("small");
        assert_eq!(e.key(), b"key");
        assert_eq!(e.value(), b"value");
        assert_eq!(e.version(), 7);
        assert_eq!(e.expiry(), Some(1234));
        let e = Entry::new(b"", b"", None).expect("small");
        assert_eq!(e.key(), b"");
        assert_eq!(e.value(), b"");
        assert_eq!(e.expiry(), None);
    }

    #[test]

    fn sixteen_byte_key_and_64_byte_value_fit_96_bytes() {
        let e = Entry::new(&[b'k'; 16], &[b'v'; 64], None).expect("small");
        assert_eq!(e.footprint(), 96);
        let e = Entry::new(&[b'k'; 16], &[b'v'; 64], Some(1)).expect("small");
        assert_eq!(e.footprint(), 112);
    }

    #[test]

    fn expiry_is_exclusive_of_the_deadline() {
        let e = Entry::new(b"k", b"v", Some(100)).expect("small");
        assert!(!e.is_expired(99));
        assert!(!e.is_expired(100));
        assert!(e.is_expired(101));
    }

    #[test]

    fn large_values_are_shared_not_copied() {
        let big = vec![7u8; INLINE_MAX + 1];
        let e = Entry::new(b"k", &big, None).expect("fits");
        assert_eq!(e.value(), &big[..]);
        let a = e.value_bytes();
        let b = e.value_bytes();
        assert_eq!(
            a.as_ptr(),
            b.as_ptr(),
            "a GET of a large value clones a reference"
        );
        let c = e.clone();
        assert_eq!(c.value(), &big[..]);
        drop(e);
        assert_eq!(c.value(), &big[..]);
    }

    #[test]
    fn shared_buffer_can_grow_in_place() {
        let mut e = Entry::new(b"k", &[0u8; INLINE_MAX + 1], None).expect("fits");
        let buf = e.shared_mut().expect("shared");
        let mut v = std::mem::take(buf).to_vec();
        v.push(9);
        *buf = Bytes::from(v);
        assert_eq!(e.value().len(), INLINE_MAX + 2);
        assert_eq!(e.value().last(), Some(&9));
    }
}
