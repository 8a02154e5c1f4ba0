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
//! The block starts with the access word (`ACCESS_LEN` bytes, an
//! `AtomicU32`: reads update it under a shared lock), and every `&[u8]`
//! view starts after it, so no view ever covers memory another thread may
//! write.
//!
//! The byte format is `format`; patching a block is `patch`.

use super::class::{class_of, class_size};
use super::format::{
    get_u32, get_u64, get_usize, head_len, spans, value_part_len, ACCESS_LEN, ALIGN, FLAGS_AT,
    HAS_EXPIRY, INLINE_MAX, KEY_LEN_AT, REPR_INLINE, REPR_MASK, REPR_OBJECT, REPR_SHARED,
    TYPE_MASK, TYPE_SHIFT, VERSION_LEN, WORD,
};
use super::varint::{get_varint, put_varint};
use super::ValueType;
use crate::collection::{codec, Collection};
use bytes::Bytes;
use std::alloc::{self, Layout};
use std::borrow::Cow;
use std::ptr::NonNull;
use std::sync::atomic::AtomicU32;

/// One stored key with its value and metadata.
///
/// An `Entry` owns its block. Cloning copies the block (a large value's
/// shared buffer is reference-counted, not copied).
pub struct Entry {
    ptr: NonNull<u8>,
}

// SAFETY: an Entry exclusively owns its block, like a `Box<[u8]>`, and the
// only things it points to besides are a `Bytes` or a `Collection`, both
// Send + Sync.
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
    /// A collection, kept behind its pointer.
    Object(Box<Collection>),
}

impl ValueIn<'_> {
    pub(super) fn len(&self) -> usize {
        match self {
            ValueIn::Slice(s) => s.len(),
            ValueIn::Shared(b) => b.len(),
            ValueIn::Owned(v) => v.len(),
            ValueIn::Object(_) => 0,
        }
    }

    /// Bytes the value part of a block takes for this value.
    pub(super) fn part_len(&self) -> usize {
        match self {
            ValueIn::Object(_) => WORD,
            v => value_part_len(v.len()),
        }
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            ValueIn::Slice(s) => s,
            ValueIn::Shared(b) => b,
            ValueIn::Owned(v) => v,
            ValueIn::Object(_) => &[],
        }
    }
}

/// An entry's fields, read together (see `Entry::parts`).
pub(crate) struct Parts<'a> {
    pub key: &'a [u8],
    pub inline: &'a [u8],
    pub shared: Option<&'a Bytes>,
    pub collection: Option<&'a Collection>,
    pub expiry: Option<u64>,
}

pub(super) fn layout_of(class: u8) -> Layout {
    // Never fails: class sizes are multiples of 8 and at most MAX_BLOCK.
    Layout::from_size_align(class_size(class), ALIGN).unwrap_or(Layout::new::<u64>())
}

/// The part of a shard's write counter an entry keeps (`VERSION_LEN`).
pub(super) fn truncate(version: u64) -> u32 {
    version as u32
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
        u32::try_from(value.len()).ok()?;
        let size = head_len(key.len(), expiry.is_some()) + value.part_len();
        let class = class_of(size + ACCESS_LEN)?;
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
        raw[at..at + VERSION_LEN].copy_from_slice(&truncate(version).to_le_bytes());
        at += VERSION_LEN;
        if let Some(t) = expiry {
            raw[at..at + 8].copy_from_slice(&t.to_le_bytes());
            at += 8;
        }
        entry.write_value(at, value);
        Some(entry)
    }

    /// Where the view starts: after the access word.
    fn view_ptr(&self) -> *mut u8 {
        // `wrapping_add` needs no unsafe block: every block is at least 16
        // bytes, so the result stays inside the allocation.
        self.ptr.as_ptr().wrapping_add(ACCESS_LEN)
    }

    /// The whole view, before the class byte is trusted (construction).
    fn raw_init(&mut self, class: u8) -> &mut [u8] {
        // SAFETY: `ptr` is a live, zero-initialised allocation of exactly
        // `class_size(class)` bytes owned by `self`, borrowed mutably here;
        // the view is its bytes after the access word.
        unsafe { std::slice::from_raw_parts_mut(self.view_ptr(), class_size(class) - ACCESS_LEN) }
    }

    pub(super) fn class(&self) -> u8 {
        // SAFETY: the first byte of a live block's view is initialised and
        // is the class written at construction.
        unsafe { *self.view_ptr() }
    }

    pub(super) fn raw(&self) -> &[u8] {
        // SAFETY: the block is live, owned by `self`, fully initialised,
        // and `class_size(class)` bytes long; the view leaves out the
        // access word, the only bytes written through `&self`.
        unsafe {
            std::slice::from_raw_parts(self.view_ptr(), class_size(self.class()) - ACCESS_LEN)
        }
    }

    /// The access word: the key's LRU time or LFU counter (`crate::evict`),
    /// written by reads under a shared lock, hence atomic.
    pub(crate) fn access(&self) -> &AtomicU32 {
        let p = self.ptr.as_ptr().cast::<u32>();
        // SAFETY: the block is live for the borrow of `self`, 8-aligned
        // (`ALIGN`), and its first `ACCESS_LEN` bytes were zeroed at
        // allocation and are only ever accessed through this atomic (no
        // view covers them).
        unsafe { AtomicU32::from_ptr(p) }
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

    /// Whether the value is a collection behind a pointer.
    #[expect(
        clippy::indexing_slicing,
        reason = "every block is at least 16 bytes long, so the flags byte is in it"
    )]
    pub(super) fn is_object(&self) -> bool {
        self.raw()[FLAGS_AT] & REPR_MASK == REPR_OBJECT
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

    /// The collection's pointer, if the value is one.
    fn object_ptr(&self) -> Option<*mut Collection> {
        if !self.is_object() {
            return None;
        }
        let raw = self.raw();
        let addr = get_usize(raw, spans(raw).value_at);
        Some(std::ptr::with_exposed_provenance_mut::<Collection>(addr))
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
        raw[FLAGS_AT] &= !TYPE_MASK;
        if let ValueIn::Object(c) = value {
            let tag = ValueType::of(&c).tag();
            let addr = Box::into_raw(c).expose_provenance();
            raw[at..at + WORD].copy_from_slice(&addr.to_le_bytes());
            raw[FLAGS_AT] = (raw[FLAGS_AT] & !REPR_MASK) | REPR_OBJECT | (tag << TYPE_SHIFT);
        } else if len > INLINE_MAX {
            let bytes = match value {
                ValueIn::Shared(b) => b,
                ValueIn::Owned(v) => Bytes::from(v),
                ValueIn::Slice(s) => Bytes::copy_from_slice(s),
                ValueIn::Object(_) => Bytes::new(),
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

    /// Releases the shared buffer or collection, if any, and marks the
    /// value an inline, empty string so the block never refers to it again.
    pub(super) fn release_shared(&mut self) {
        if let Some(p) = self.shared_ptr() {
            // SAFETY: the address was produced by `Box::into_raw` in
            // `write_value` and this block is its only owner; the reference
            // is cleared below so it is never freed twice.
            drop(unsafe { Box::from_raw(p) });
            self.clear_value();
        }
        if let Some(c) = self.take_collection() {
            // A big one is freed off this thread (and off any lock held).
            crate::collection::free::release(c);
        }
    }

    /// Takes the collection out of the block, leaving an empty string.
    pub(crate) fn take_collection(&mut self) -> Option<Box<Collection>> {
        let p = self.object_ptr()?;
        // SAFETY: the address was produced by `Box::into_raw` in
        // `write_value` and this block is its only owner; the reference is
        // cleared below so it is never taken twice.
        let c = unsafe { Box::from_raw(p) };
        self.clear_value();
        Some(c)
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "a pointer value's part is a word at `value_at`, inside the block"
    )]
    fn clear_value(&mut self) {
        let at = spans(self.raw()).value_at;
        let raw = self.raw_mut();
        raw[FLAGS_AT] &= !(REPR_MASK | TYPE_MASK);
        raw[at] = 0;
    }

    /// The type of the stored value.
    #[expect(
        clippy::indexing_slicing,
        reason = "every block is at least 16 bytes long, so the flags byte is in it"
    )]
    pub fn value_type(&self) -> ValueType {
        let tag = (self.raw()[FLAGS_AT] & TYPE_MASK) >> TYPE_SHIFT;
        ValueType::from_tag(tag).unwrap_or(ValueType::String)
    }

    /// The collection, if the value is one.
    pub(crate) fn collection(&self) -> Option<&Collection> {
        // SAFETY: the box is owned by this block and lives until the block
        // releases it, which needs `&mut self`; the borrow is tied to
        // `&self`.
        self.object_ptr().map(|p| unsafe { &*p })
    }

    /// The collection, to change it in place.
    pub(crate) fn collection_mut(&mut self) -> Option<&mut Collection> {
        // SAFETY: as in `collection`; `&mut self` guarantees no other
        // borrow of the block or the box exists.
        self.object_ptr().map(|p| unsafe { &mut *p })
    }

    /// The value as the log and snapshots carry it: a string's bytes, or a
    /// collection's encoding (`collection::codec`).
    pub(crate) fn encoded_value(&self) -> Cow<'_, [u8]> {
        match self.collection() {
            Some(c) => Cow::Owned(codec::to_vec(c)),
            None => Cow::Borrowed(self.value()),
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

    /// The version: the low 32 bits of the shard's write counter when the
    /// entry was last written. Every write changes it, except one that
    /// lands exactly 2^32 writes of its shard later; a watch rules that
    /// case out (`db::watch`).
    pub fn version(&self) -> u32 {
        let raw = self.raw();
        get_u32(raw, spans(raw).version_at)
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
        Some(get_u64(raw, spans(raw).expiry_at))
    }

    /// Whether the entry is past its deadline at `now_ms`. As in Redis, a
    /// key is still alive during the millisecond of its deadline.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expiry().is_some_and(|t| now_ms > t)
    }

    /// The value's bytes: a string's; empty for a collection (check
    /// `value_type` first).
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
        if self.is_object() {
            return &[];
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
        let expiry = (raw[FLAGS_AT] & HAS_EXPIRY != 0).then(|| get_u64(raw, s.expiry_at));
        if raw[FLAGS_AT] & REPR_MASK == REPR_SHARED {
            // SAFETY: as in `value`.
            let shared = self.shared_ptr().map(|p| unsafe { &*p });
            return Parts {
                key,
                inline: &[],
                shared,
                collection: None,
                expiry,
            };
        }
        if raw[FLAGS_AT] & REPR_MASK == REPR_OBJECT {
            return Parts {
                key,
                inline: &[],
                shared: None,
                collection: self.collection(),
                expiry,
            };
        }
        let (len, n) = get_varint(&raw[s.value_at..]);
        let at = s.value_at + n;
        Parts {
            key,
            inline: &raw[at..at + len as usize],
            shared: None,
            collection: None,
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
    /// buffer or collection.
    pub fn footprint(&self) -> usize {
        let shared = match self.shared_ptr() {
            // SAFETY: as in `value`.
            Some(p) => unsafe { (*p).len() },
            None => self.collection().map_or(0, Collection::footprint),
        };
        class_size(self.class()) + shared
    }

    /// A copy of this entry under another key (RENAME): same value, same
    /// deadline. `None` if the key makes it larger than any block can be.
    pub(crate) fn with_key(&self, key: &[u8]) -> Option<Entry> {
        let value = match (self.shared_ptr(), self.collection()) {
            // SAFETY: as in `value`.
            (Some(p), _) => ValueIn::Shared(unsafe { (*p).clone() }),
            (None, Some(c)) => ValueIn::Object(Box::new(c.clone())),
            (None, None) => ValueIn::Slice(self.value()),
        };
        let copy = Entry::build(key, value, u64::from(self.version()), self.expiry())?;
        copy.carry_access(self);
        Some(copy)
    }

    /// This entry under another key (RENAME), moving a collection's
    /// pointer rather than copying its elements. `Err(self)`, unchanged,
    /// if the key makes it larger than any block can be.
    pub(crate) fn into_key(mut self, key: &[u8]) -> Result<Entry, Entry> {
        let Some(c) = self.take_collection() else {
            return self.with_key(key).ok_or(self);
        };
        let (version, expiry) = (u64::from(self.version()), self.expiry());
        if u32::try_from(key.len()).is_err()
            || class_of(head_len(key.len(), expiry.is_some()) + WORD + ACCESS_LEN).is_none()
        {
            // Put it back where it was: the value part held this pointer.
            let at = spans(self.raw()).value_at;
            self.write_value(at, ValueIn::Object(c));
            return Err(self);
        }
        match Entry::build(key, ValueIn::Object(c), version, expiry) {
            Some(moved) => {
                moved.carry_access(&self);
                Ok(moved)
            }
            None => Err(self),
        }
    }

    /// Gives this (new) block the access word of `old`, which it replaces:
    /// a rewrite is not an access of its own (Redis keeps the object's
    /// `lru` on RENAME and, under LFU, on an overwrite).
    pub(crate) fn carry_access(&self, old: &Entry) {
        use std::sync::atomic::Ordering::Relaxed;
        self.access().store(old.access().load(Relaxed), Relaxed);
    }

    /// The block's address, for prefetching.
    pub(crate) fn block_addr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "the version sits `VERSION_LEN` bytes at `version_at` (`spans`), inside every block"
    )]
    pub(crate) fn set_version(&mut self, version: u64) {
        let at = spans(self.raw()).version_at;
        self.raw_mut()[at..at + VERSION_LEN].copy_from_slice(&truncate(version).to_le_bytes());
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
            .field("type", &self.value_type())
            .field("value_len", &self.value().len())
            .field("version", &self.version())
            .field("expiry", &self.expiry())
            .finish()
    }
}

#[cfg(test)]
mod tests;
