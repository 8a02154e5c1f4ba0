//! `Chunk`: one packed run of a list's elements (a node of Redis's
//! `quicklist`, its listpack), and `ChunkLimit`, how full one gets.
//!
//! Owns the element layout within a chunk: an element is its length
//! (LEB128), its bytes, and its length again with the bytes reversed, so a
//! chunk is walked from either end. It must never read past an element's
//! stated length: a chunk's bytes are trusted only as far as they check.

use std::ops::Range;

/// Fixed cost counted per chunk: its vector and place in the deque.
pub(super) const CHUNK_OVERHEAD: usize = 48;

/// Largest chunk when the limit counts elements (Redis's
/// `SIZE_SAFETY_LIMIT`).
const SAFETY_BYTES: usize = 8192;

/// Redis's `list-max-listpack-size`: a negative value bounds a chunk's
/// bytes (-1: 4 KiB, -2: 8 KiB, ... -5: 64 KiB), a positive one its
/// elements (and 8 KiB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkLimit(pub i64);

impl Default for ChunkLimit {
    fn default() -> Self {
        Self(-2)
    }
}

impl ChunkLimit {
    /// Whether a chunk of `bytes` and `count` elements takes one more
    /// element of `add` bytes.
    pub(super) fn fits(self, bytes: usize, count: usize, add: usize) -> bool {
        if self.0 < 0 {
            let class = self.0.unsigned_abs().min(5);
            bytes + add <= 2048usize << class
        } else {
            let most = usize::try_from(self.0).unwrap_or(usize::MAX).max(1);
            count < most && bytes + add <= SAFETY_BYTES
        }
    }
}

fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

/// The bytes an element of `n` bytes takes in a chunk.
pub(super) fn entry_len(n: usize) -> usize {
    2 * varint_len(n) + n
}

pub(super) fn put_entry(out: &mut Vec<u8>, value: &[u8]) {
    let start = out.len();
    let mut n = value.len();
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    let header = out.len() - start;
    out.extend_from_slice(value);
    for i in (start..start + header).rev() {
        let b = out.get(i).copied().unwrap_or(0);
        out.push(b);
    }
}

/// A run of elements, packed.
#[derive(Debug, Clone, Default)]
pub(super) struct Chunk {
    pub(super) data: Vec<u8>,
    pub(super) count: usize,
}

impl Chunk {
    /// The element starting at `at`: its bytes' range and where the next
    /// element starts.
    pub(super) fn entry_at(&self, at: usize) -> Option<(Range<usize>, usize)> {
        let mut n = 0usize;
        let mut pos = at;
        for shift in (0..70).step_by(7) {
            let b = *self.data.get(pos)?;
            pos += 1;
            n |= usize::from(b & 0x7f).checked_shl(shift)?;
            if b < 0x80 {
                let end = pos.checked_add(n)?;
                return Some((pos..end, end + (pos - at)));
            }
        }
        None
    }

    /// The element ending at `end` (exclusive): its bytes' range and where
    /// it starts.
    pub(super) fn entry_before(&self, end: usize) -> Option<(Range<usize>, usize)> {
        let mut n = 0usize;
        let mut pos = end;
        for shift in (0..70).step_by(7) {
            pos = pos.checked_sub(1)?;
            let b = *self.data.get(pos)?;
            n |= usize::from(b & 0x7f).checked_shl(shift)?;
            if b < 0x80 {
                let header = end - pos;
                let start = pos.checked_sub(n)?;
                return Some((start..pos, start.checked_sub(header)?));
            }
        }
        None
    }

    pub(super) fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + '_ {
        self.entries().map(|r| self.data.get(r).unwrap_or_default())
    }

    /// The ranges of every element's bytes, front to back.
    pub(super) fn entries(&self) -> std::vec::IntoIter<Range<usize>> {
        let mut out = Vec::with_capacity(self.count);
        let mut at = 0;
        while let Some((r, next)) = self.entry_at(at) {
            out.push(r);
            at = next;
        }
        out.into_iter()
    }

    pub(super) fn from_values<'a>(values: impl Iterator<Item = &'a [u8]>) -> Self {
        let mut c = Chunk::default();
        for v in values {
            put_entry(&mut c.data, v);
            c.count += 1;
        }
        c
    }
}
