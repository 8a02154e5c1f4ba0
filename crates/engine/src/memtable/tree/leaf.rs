//! A B+tree leaf: up to `LEAF_CAP` entries in key order.
//!
//! Owns the leaf layout and the searches within one leaf. The layout is
//! chosen by cache misses, which cost ~150 ns each on our machine:
//!
//! ```text
//! line 0       fps[56]  len  prefix      one fingerprint byte per slot
//! lines 1-4    heads[56]                 4 key bytes after the prefix
//! lines 4-11   entries[56]               the owned entry blocks
//! ```
//!
//! A point lookup reads line 0, compares fingerprints, then touches one
//! entry slot and its block: three misses, as many as a hashbrown probe
//! (control group, slot, block). Ordered search (insert, seek) compares
//! heads, the 4 key bytes right after the prefix all keys in the leaf
//! share, so keys like `user:000123` are told apart without dereferencing
//! their blocks; only keys that agree on those 4 bytes are compared in full.
//!
//! Invariants: `entries[..len]` are `Some` and sorted by key, the rest
//! `None`; every key starts with the same `prefix` bytes; `heads[i]` and
//! `fps[i]` belong to `entries[i]`.

use super::heads::{common_prefix, head, search};
use crate::entry::Entry;

/// Entries per leaf: with the header in the fingerprint line, a leaf is
/// exactly 768 bytes, one of mimalloc's size classes.
pub(crate) const LEAF_CAP: usize = 56;

/// Below this many entries a leaf is merged with or refilled from a
/// neighbour, so sparse leaves cannot accumulate.
pub(super) const LEAF_MIN: usize = LEAF_CAP / 4;

/// Asks the CPU to start loading an entry's block, so that touching many
/// blocks (a scan, a head rebuild) overlaps their cache misses instead of
/// paying them one after another.
#[inline]
pub(super) fn prefetch(entry: &Entry) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let p = entry.block_addr();
        // SAFETY: SSE is part of the x86-64 baseline, and a prefetch never
        // faults or changes program state, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast()) };
        // SAFETY: as above; a block may span a second cache line.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(64).cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = entry;
}

/// Asks the CPU to start loading every cache line of `leaf`. A point
/// lookup reads the fingerprint line and then, depending on it, one slot
/// line: two dependent misses. Fetching all twelve lines the moment the
/// leaf is known overlaps them into one miss's time, for some memory
/// bandwidth.
#[inline]
pub(super) fn prefetch_leaf(leaf: &Leaf) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let base = std::ptr::from_ref(leaf).cast::<i8>();
        for line in 0..std::mem::size_of::<Leaf>() / 64 {
            // SAFETY: SSE is part of the x86-64 baseline, and a prefetch
            // never faults or changes program state, whatever the address.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(base.wrapping_add(line * 64)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = leaf;
}

/// Asks the CPU to start loading an entry's block's first line: its
/// access word, flags and the start of its key (what a sample reads).
#[inline]
pub(super) fn prefetch_head(entry: &Entry) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: SSE is part of the x86-64 baseline, and a prefetch never
        // faults or changes program state, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(entry.block_addr().cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = entry;
}

/// Asks the CPU to start loading the cache line of `leaf` at `offset`
/// bytes: its header line (offset 0, which holds `len`), or one slot's.
#[inline]
fn prefetch_at(leaf: &Leaf, offset: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let p = std::ptr::from_ref(leaf).cast::<i8>().wrapping_add(offset);
        // SAFETY: SSE is part of the x86-64 baseline, and a prefetch never
        // faults or changes program state, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (leaf, offset);
}

/// Prefetches `leaf`'s header line, where `len` is.
#[inline]
pub(super) fn prefetch_header(leaf: &Leaf) {
    prefetch_at(leaf, 0);
}

/// Prefetches the line holding slot `i`'s entry pointer.
#[inline]
pub(super) fn prefetch_slot(leaf: &Leaf, i: usize) {
    let offset = std::mem::offset_of!(Leaf, entries) + i * std::mem::size_of::<Option<Entry>>();
    prefetch_at(leaf, offset);
}

#[repr(C, align(64))]
pub(crate) struct Leaf {
    fps: [u8; LEAF_CAP],
    len: u8,
    /// Slot of the most recent insert: spots a sequential stream.
    last_insert: u8,
    prefix: u16,
    heads: [u32; LEAF_CAP],
    entries: [Option<Entry>; LEAF_CAP],
}

impl Leaf {
    pub(super) fn new() -> Box<Leaf> {
        Box::new(Leaf {
            fps: [0; LEAF_CAP],
            len: 0,
            last_insert: 0,
            prefix: 0,
            heads: [0; LEAF_CAP],
            entries: [const { None }; LEAF_CAP],
        })
    }

    /// A leaf holding `items` (at most `LEAF_CAP`, in key order, no key
    /// twice), for a tree built whole (`bulk`). The last slot counts as
    /// the latest insert, as after an ascending load.
    #[expect(
        clippy::indexing_slicing,
        reason = "`n` stops at `LEAF_CAP`, the arrays' length"
    )]
    pub(super) fn filled(items: impl Iterator<Item = (u8, Entry)>) -> Box<Leaf> {
        let mut leaf = Leaf::new();
        let mut n = 0;
        for (fp, entry) in items.take(LEAF_CAP) {
            leaf.fps[n] = fp;
            leaf.entries[n] = Some(entry);
            n += 1;
        }
        leaf.len = u8::try_from(n).unwrap_or(0);
        leaf.last_insert = u8::try_from(n.saturating_sub(1)).unwrap_or(0);
        leaf.rebuild_heads();
        leaf
    }

    pub(super) fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub(super) fn is_full(&self) -> bool {
        self.len() == LEAF_CAP
    }

    /// The entry in slot `i` (< len).
    #[expect(
        clippy::indexing_slicing,
        reason = "callers pass a slot below `len`, and `len <= LEAF_CAP`, the arrays' length"
    )]
    pub(super) fn entry(&self, i: usize) -> &Entry {
        match &self.entries[i] {
            Some(e) => e,
            // Slots below `len` are always filled (module invariant).
            None => unreachable!("empty slot below len"),
        }
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "callers pass a slot below `len`, and `len <= LEAF_CAP`, the arrays' length"
    )]
    pub(super) fn entry_mut(&mut self, i: usize) -> &mut Entry {
        match &mut self.entries[i] {
            Some(e) => e,
            None => unreachable!("empty slot below len"),
        }
    }

    pub(super) fn first_key(&self) -> &[u8] {
        self.entry(0).key()
    }

    pub(super) fn last_key(&self) -> &[u8] {
        self.entry(self.len() - 1).key()
    }

    pub(super) fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().take(self.len()).flatten()
    }

    /// The slot holding `key`, found by fingerprint.
    #[expect(
        clippy::indexing_slicing,
        reason = "`len <= LEAF_CAP`, the length of `fps`"
    )]
    pub(super) fn find(&self, fp: u8, key: &[u8]) -> Option<usize> {
        let len = self.len();
        (0..len).find(|&i| self.fps[i] == fp && self.entry(i).key() == key)
    }

    /// Where `key` is (`Ok`) or would be inserted (`Err`), by binary search
    /// on heads.
    #[expect(
        clippy::indexing_slicing,
        reason = "`len <= LEAF_CAP`, and `prefix` is shared by every key of the leaf, so it is within the first one"
    )]
    pub(super) fn search(&self, key: &[u8]) -> Result<usize, usize> {
        let len = self.len();
        if len == 0 {
            return Err(0);
        }
        let prefix = &self.first_key()[..usize::from(self.prefix)];
        search(&self.heads[..len], prefix, key, |i| {
            self.entry(i).key().cmp(key)
        })
    }

    /// The first slot whose key is >= `key` (or > with `exclusive`).
    pub(super) fn lower_bound(&self, key: &[u8], exclusive: bool) -> usize {
        match self.search(key) {
            Ok(i) if exclusive => i + 1,
            Ok(i) | Err(i) => i,
        }
    }

    /// Inserts at slot `i` of a leaf that is not full.
    #[expect(
        clippy::indexing_slicing,
        reason = "the leaf is not full: `i <= len < LEAF_CAP`, the arrays' length"
    )]
    pub(super) fn insert_at(&mut self, i: usize, fp: u8, entry: Entry) {
        let len = self.len();
        debug_assert!(len < LEAF_CAP && i <= len);
        if len == 0 {
            // A lone key shares all of itself; the next insert, necessarily
            // at an edge, shortens the prefix to what the two share.
            self.prefix = u16::try_from(entry.key().len()).unwrap_or(u16::MAX);
        }
        let at_edge = len > 0 && (i == 0 || i == len);
        self.fps.copy_within(i..len, i + 1);
        self.heads.copy_within(i..len, i + 1);
        self.entries[i..=len].rotate_right(1);
        self.fps[i] = fp;
        self.heads[i] = head(entry.key(), usize::from(self.prefix));
        self.entries[i] = Some(entry);
        self.len += 1;
        self.last_insert = u8::try_from(i).unwrap_or(0);
        // A new first or last key may share less with the rest; a key in
        // between always shares what the first and last share.
        if at_edge {
            let shared = common_prefix(self.first_key(), self.last_key());
            if shared < usize::from(self.prefix) {
                self.rebuild_heads();
            }
        }
    }

    /// Removes and returns slot `i`.
    #[expect(
        clippy::indexing_slicing,
        reason = "callers pass a slot below `len <= LEAF_CAP`, the arrays' length"
    )]
    pub(super) fn remove_at(&mut self, i: usize) -> Entry {
        let len = self.len();
        let taken = self.entries[i].take();
        self.fps.copy_within(i + 1..len, i);
        self.heads.copy_within(i + 1..len, i);
        self.entries[i..len].rotate_left(1);
        self.len -= 1;
        match taken {
            Some(e) => e,
            None => unreachable!("empty slot below len"),
        }
    }

    /// Recomputes the shared prefix and every head, after entries moved in
    /// or out in bulk.
    #[expect(
        clippy::indexing_slicing,
        reason = "`len <= LEAF_CAP`, the length of `heads`"
    )]
    pub(super) fn rebuild_heads(&mut self) {
        let len = self.len();
        if len == 0 {
            self.prefix = 0;
            return;
        }
        for e in self.entries() {
            prefetch(e);
        }
        let shared = common_prefix(self.first_key(), self.last_key());
        self.prefix = u16::try_from(shared).unwrap_or(u16::MAX);
        let p = usize::from(self.prefix);
        for i in 0..len {
            self.heads[i] = head(self.entry(i).key(), p);
        }
    }

    /// Moves slots `from..` of `self` to the end of `other`.
    #[expect(
        clippy::indexing_slicing,
        reason = "callers keep `o + n <= LEAF_CAP` (checked in debug builds) and `from <= len`"
    )]
    pub(super) fn move_tail_to(&mut self, from: usize, other: &mut Leaf) {
        let len = self.len();
        let n = len - from;
        let o = other.len();
        debug_assert!(o + n <= LEAF_CAP);
        other.fps[o..o + n].copy_from_slice(&self.fps[from..len]);
        for k in 0..n {
            other.entries[o + k] = self.entries[from + k].take();
        }
        self.len = u8::try_from(from).unwrap_or(0);
        other.len = u8::try_from(o + n).unwrap_or(0);
    }

    /// Moves the first `n` slots of `self` to the end of `other`.
    #[expect(
        clippy::indexing_slicing,
        reason = "callers keep `o + n <= LEAF_CAP` and `n <= len` (checked in debug builds)"
    )]
    pub(super) fn move_head_to(&mut self, n: usize, other: &mut Leaf) {
        let len = self.len();
        let o = other.len();
        debug_assert!(o + n <= LEAF_CAP && n <= len);
        other.fps[o..o + n].copy_from_slice(&self.fps[..n]);
        for k in 0..n {
            other.entries[o + k] = self.entries[k].take();
        }
        self.fps.copy_within(n..len, 0);
        self.entries[..len].rotate_left(n);
        self.len = u8::try_from(len - n).unwrap_or(0);
        other.len = u8::try_from(o + n).unwrap_or(0);
    }

    /// Moves slots `from..` of `self` to the front of `other`.
    #[expect(
        clippy::indexing_slicing,
        reason = "callers keep `o + n <= LEAF_CAP` (checked in debug builds) and `from <= len`"
    )]
    pub(super) fn move_tail_to_front(&mut self, from: usize, other: &mut Leaf) {
        let len = self.len();
        let n = len - from;
        let o = other.len();
        debug_assert!(o + n <= LEAF_CAP);
        other.fps.copy_within(0..o, n);
        other.entries[..o + n].rotate_right(n);
        other.fps[..n].copy_from_slice(&self.fps[from..len]);
        for k in 0..n {
            other.entries[k] = self.entries[from + k].take();
        }
        self.len = u8::try_from(from).unwrap_or(0);
        other.len = u8::try_from(o + n).unwrap_or(0);
    }

    /// Splits a full leaf that must take a new entry at slot `i`. Returns
    /// the new right sibling; both halves get fresh heads.
    ///
    /// Where to split: ascending inserts must not leave half-empty leaves
    /// behind. At the end of the leaf, the new key starts the next leaf
    /// alone. Just after the previous insert (a stream appending below some
    /// other range's keys, as each loading thread does), the leaf splits at
    /// the insert, so the stream keeps filling the left part. Otherwise
    /// (random inserts) it splits in the middle.
    pub(super) fn split_insert(&mut self, i: usize, fp: u8, entry: Entry) -> Box<Leaf> {
        let mut right = Leaf::new();
        if i == LEAF_CAP {
            right.insert_at(0, fp, entry);
        } else if i > 0 && i == usize::from(self.last_insert) + 1 {
            self.move_tail_to(i, &mut right);
            self.rebuild_heads();
            right.rebuild_heads();
            self.insert_at(i, fp, entry);
        } else {
            let mid = LEAF_CAP / 2;
            self.move_tail_to(mid, &mut right);
            self.rebuild_heads();
            right.rebuild_heads();
            if i <= mid {
                self.insert_at(i, fp, entry);
            } else {
                right.insert_at(i - mid, fp, entry);
            }
        }
        right
    }

    /// Debug check of the module invariants.
    #[cfg(test)]
    pub(super) fn check(&self) {
        let len = self.len();
        let p = usize::from(self.prefix);
        for i in 0..LEAF_CAP {
            assert_eq!(self.entries[i].is_some(), i < len, "slot {i} of {len}");
        }
        for i in 0..len {
            let k = self.entry(i).key();
            assert!(k.len() >= p && k[..p] == self.first_key()[..p], "prefix");
            assert_eq!(self.heads[i], head(k, p), "head {i}");
            if i > 0 {
                assert!(self.entry(i - 1).key() < k, "order at {i}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leaf_is_one_size_class() {
        assert_eq!(std::mem::size_of::<Leaf>(), 768);
        assert_eq!(std::mem::align_of::<Leaf>(), 64);
    }
}
