//! `Entry`: one heap block per key, holding the key, the value and the
//! entry's metadata (representation, version, optional expiry deadline).
//!
//! Owns the byte layout of a block, and is the only module that touches
//! block memory through raw pointers. It must never hand out a reference
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
//! Layout (no alignment; multi-byte fields are little-endian):
//! ```text
//! 0    class    u8      allocation size class (entry::class)
//! 1    flags    u8      bits 0-2 representation, bit 3 has-expiry
//! 2    key_len  LEB128  u32
//! ..   key      key_len bytes
//! ..   version  u64
//! ..   expiry   u64     Unix ms; present only with has-expiry
//! ..   value    inline: LEB128 u32 length, then the bytes
//!               shared: the address of a `Box<Bytes>` (usize)
//! ```

use super::class::{class_of, class_size};
use bytes::Bytes;
use std::alloc::{self, Layout};
use std::ptr::NonNull;

/// Values longer than this live in a shared, reference-counted buffer
/// rather than inside the block. A GET of a large value then clones a
/// reference instead of copying under the shard lock, and APPEND can grow
/// the buffer in place instead of rewriting the block.
pub(crate) const INLINE_MAX: usize = 4096;

const FLAGS_AT: usize = 1;
const KEY_LEN_AT: usize = 2;
const HAS_EXPIRY: u8 = 0b1000;
const REPR_MASK: u8 = 0b0111;
const REPR_INLINE: u8 = 0;
const REPR_SHARED: u8 = 1;
const WORD: usize = std::mem::size_of::<usize>();
const ALIGN: usize = 8;

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
    fn len(&self) -> usize {
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

/// A change to an entry: any of value and expiry, and always a new version.
pub(crate) struct Patch<'a> {
    /// The new value, or `None` to keep the current one.
    pub value: Option<ValueIn<'a>>,
    /// The new expiry (`Some(None)` removes it), or `None` to keep it.
    pub expiry: Option<Option<u64>>,
    /// The version the entry has after the change.
    pub version: u64,
}

fn varint_len(v: u32) -> usize {
    match v {
        0..=0x7f => 1,
        0x80..=0x3fff => 2,
        0x4000..=0x1f_ffff => 3,
        0x20_0000..=0xfff_ffff => 4,
        _ => 5,
    }
}

fn put_varint(out: &mut [u8], mut v: u32) -> usize {
    let mut i = 0;
    while v >= 0x80 {
        out[i] = (v as u8) | 0x80;
        v >>= 7;
        i += 1;
    }
    out[i] = v as u8;
    i + 1
}

fn get_varint(inp: &[u8]) -> (u32, usize) {
    let mut v = 0u32;
    for (i, &b) in inp.iter().enumerate().take(5) {
        v |= u32::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return (v, i + 1);
        }
    }
    // Unreachable for blocks this module wrote; an empty value is the
    // harmless answer if it ever were reached.
    (0, 1)
}

fn get_u64(raw: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&raw[at..at + 8]);
    u64::from_le_bytes(b)
}

fn get_usize(raw: &[u8], at: usize) -> usize {
    let mut b = [0u8; WORD];
    b.copy_from_slice(&raw[at..at + WORD]);
    usize::from_le_bytes(b)
}

/// Where the fields of a block sit.
struct Spans {
    key_at: usize,
    key_len: usize,
    version_at: usize,
    value_at: usize,
}

fn spans(raw: &[u8]) -> Spans {
    let (key_len, n) = get_varint(&raw[KEY_LEN_AT..]);
    let key_at = KEY_LEN_AT + n;
    let key_len = key_len as usize;
    let version_at = key_at + key_len;
    let expiry_len = if raw[FLAGS_AT] & HAS_EXPIRY != 0 {
        8
    } else {
        0
    };
    Spans {
        key_at,
        key_len,
        version_at,
        value_at: version_at + 8 + expiry_len,
    }
}

/// Bytes from the start of the block to the start of the value.
fn head_len(key_len: usize, has_expiry: bool) -> usize {
    KEY_LEN_AT + varint_len(key_len as u32) + key_len + 8 + if has_expiry { 8 } else { 0 }
}

/// Bytes the value part takes for a value of `len` bytes.
fn value_part_len(len: usize) -> usize {
    if len > INLINE_MAX {
        WORD
    } else {
        varint_len(len as u32) + len
    }
}

fn layout_of(class: u8) -> Layout {
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

    fn class(&self) -> u8 {
        // SAFETY: the first byte of a live block is initialised and is
        // the class written at construction.
        unsafe { *self.ptr.as_ptr() }
    }

    fn raw(&self) -> &[u8] {
        // SAFETY: the block is live, owned by `self`, fully initialised,
        // and `class_size(class)` bytes long.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), class_size(self.class())) }
    }

    fn raw_mut(&mut self) -> &mut [u8] {
        let class = self.class();
        self.raw_init(class)
    }

    fn is_shared(&self) -> bool {
        self.raw()[FLAGS_AT] & REPR_MASK == REPR_SHARED
    }

    /// The shared buffer's pointer, if the value is shared.
    fn shared_ptr(&self) -> Option<*mut Bytes> {
        if !self.is_shared() {
            return None;
        }
        let raw = self.raw();
        let addr = get_usize(raw, spans(raw).value_at);
        Some(std::ptr::with_exposed_provenance_mut::<Bytes>(addr))
    }

    /// Writes `value` at `at` and sets the representation bits. Any shared
    /// buffer previously referenced from there must already be released.
    fn write_value(&mut self, at: usize, value: ValueIn<'_>) {
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
    fn release_shared(&mut self) {
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

    pub(crate) fn set_version(&mut self, version: u64) {
        let at = spans(self.raw()).version_at;
        self.raw_mut()[at..at + 8].copy_from_slice(&version.to_le_bytes());
    }

    /// Applies `patch`: in place when the result fits this block's capacity
    /// without wasting most of it, otherwise by building a replacement block
    /// that the caller must swap in (`self` is then left unchanged).
    pub(crate) fn apply(&mut self, patch: Patch<'_>) -> Result<Applied, Oversize> {
        let raw = self.raw();
        let s = spans(raw);
        let old_expiry = self.expiry();
        let new_expiry = patch.expiry.unwrap_or(old_expiry);
        let old_value_part = if self.is_shared() {
            WORD
        } else {
            let (len, n) = get_varint(&raw[s.value_at..]);
            n + len as usize
        };
        let new_value_part = match &patch.value {
            None => old_value_part,
            Some(v) => value_part_len(v.len()),
        };
        let new_size = head_len(s.key_len, new_expiry.is_some()) + new_value_part;
        let class = self.class();
        let fits = match class_of(new_size) {
            Some(c) => new_size <= class_size(class) && c.saturating_add(2) >= class,
            None => false,
        };
        if !fits {
            let value = match patch.value {
                Some(v) => v,
                None => match self.shared_ptr() {
                    // SAFETY: as in `value`; the clone is a new reference.
                    Some(p) => ValueIn::Shared(unsafe { (*p).clone() }),
                    None => ValueIn::Slice(self.value()),
                },
            };
            return Entry::build(self.key(), value, patch.version, new_expiry)
                .map(Applied::Moved)
                .ok_or(Oversize);
        }
        let new_value_at = s.version_at + 8 + if new_expiry.is_some() { 8 } else { 0 };
        match patch.value {
            None => {
                if new_value_at != s.value_at {
                    self.raw_mut()
                        .copy_within(s.value_at..s.value_at + old_value_part, new_value_at);
                }
            }
            Some(v) => {
                self.release_shared();
                self.write_value(new_value_at, v);
            }
        }
        let raw = self.raw_mut();
        raw[s.version_at..s.version_at + 8].copy_from_slice(&patch.version.to_le_bytes());
        match new_expiry {
            Some(t) => {
                raw[FLAGS_AT] |= HAS_EXPIRY;
                raw[s.version_at + 8..s.version_at + 16].copy_from_slice(&t.to_le_bytes());
            }
            None => raw[FLAGS_AT] &= !HAS_EXPIRY,
        }
        Ok(Applied::InPlace)
    }
}

/// How a patch was applied.
pub(crate) enum Applied {
    /// The block was rewritten where it is.
    InPlace,
    /// The result needed another block; swap it in for the old one.
    Moved(Entry),
}

/// A patch whose result would be larger than any block can be.
#[derive(Debug)]
pub(crate) struct Oversize;

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

    fn patch(value: Option<&[u8]>, expiry: Option<Option<u64>>, version: u64) -> Patch<'_> {
        Patch {
            value: value.map(ValueIn::Slice),
            expiry,
            version,
        }
    }

    fn apply(e: &mut Entry, p: Patch<'_>) {
        if let Ok(Applied::Moved(new)) = e.apply(p) {
            *e = new;
        }
    }

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
    fn patches_in_place_and_by_replacement_agree() {
        let big = vec![1u8; INLINE_MAX + 10];
        let values: [&[u8]; 5] = [b"", b"x", &[2u8; 60], &[3u8; 300], &big];
        let expiries = [None, Some(None), Some(Some(5)), Some(Some(u64::MAX))];
        for start in values {
            for start_exp in [None, Some(9)] {
                for value in [None, Some(values[1]), Some(values[3]), Some(&big[..])] {
                    for expiry in expiries {
                        let mut e = Entry::build(b"key", ValueIn::Slice(start), 1, start_exp)
                            .expect("small");
                        apply(&mut e, patch(value, expiry, 2));
                        assert_eq!(e.key(), b"key");
                        assert_eq!(e.value(), value.unwrap_or(start));
                        assert_eq!(e.expiry(), expiry.unwrap_or(start_exp));
                        assert_eq!(e.version(), 2);
                    }
                }
            }
        }
    }

    #[test]
    fn shrinking_a_value_a_lot_reallocates() {
        let mut e = Entry::new(b"k", &[0u8; 2000], None).expect("small");
        assert!(matches!(
            e.apply(patch(Some(b"tiny"), None, 1)),
            Ok(Applied::Moved(_))
        ));
        let mut e = Entry::new(b"k", &[0u8; 60], None).expect("small");
        assert!(matches!(
            e.apply(patch(Some(&[1u8; 58]), None, 1)),
            Ok(Applied::InPlace)
        ));
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
