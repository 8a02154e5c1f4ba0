//! `Chunk`: one packed run of a list's elements (a node of Redis's
//! `quicklist`, its listpack), and `ChunkLimit`, how full one gets.
//!
//! Owns the element layout within a chunk: an element is its length
//! (LEB128), its bytes, and its length again with the bytes reversed, so a
//! chunk is walked from either end. It must never read past an element's
//! stated length: a chunk's bytes are trusted only as far as they check.

use std::ops::Range;
use std::sync::Arc;

/// Fixed cost counted per chunk: its place in the deque (24 bytes) and its
/// shared vector's header and counts (a 48-byte allocation).
pub(super) const CHUNK_OVERHEAD: usize = 72;

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

/// The LEB128 bytes of `n`: the array and how many of them are used.
fn header(mut n: usize) -> ([u8; 10], usize) {
    let mut out = [0u8; 10];
    let mut used = 0;
    for slot in out.iter_mut() {
        used += 1;
        if n < 0x80 {
            *slot = n as u8;
            break;
        }
        *slot = (n as u8) | 0x80;
        n >>= 7;
    }
    (out, used)
}

fn put_entry(out: &mut Vec<u8>, value: &[u8]) {
    let (hdr, used) = header(value.len());
    let hdr = hdr.get(..used).unwrap_or_default();
    out.extend_from_slice(hdr);
    out.extend_from_slice(value);
    out.extend(hdr.iter().rev());
}

/// Most room made at a chunk's front at once for elements pushed there.
const FRONT_ROOM: usize = 512;

/// A run of elements, packed.
///
/// Its bytes are shared on clone and copied on the next write (`Arc`):
/// a snapshot clones a big list under its shard's lock in O(chunks) and
/// encodes the clone after the lock is released, and a writer meanwhile
/// copies only the chunks it changes (`collection::stepped`).
#[derive(Debug, Clone, Default)]
pub(super) struct Chunk {
    /// The elements are `data[head..]`; the bytes before `head` are room
    /// for elements pushed at the front (LPUSH), so that a push or a pop
    /// there does not move the whole chunk, as one at the back does not.
    data: Arc<Vec<u8>>,
    head: usize,
    pub(super) count: usize,
}

impl Chunk {
    /// The packed elements.
    fn bytes(&self) -> &[u8] {
        self.data.get(self.head..).unwrap_or_default()
    }

    /// The packed elements' size in bytes.
    pub(super) fn len(&self) -> usize {
        self.data.len() - self.head
    }

    /// Gives back the room in front (the chunk is full, and another takes
    /// the pushes there): one move per chunk filled, not one per push.
    pub(super) fn compact(&mut self) {
        if self.head > 0 {
            self.data = Arc::new(self.bytes().to_vec());
            self.head = 0;
        }
    }

    pub(super) fn push_back(&mut self, value: &[u8]) {
        put_entry(Arc::make_mut(&mut self.data), value);
        self.count += 1;
    }

    /// Adds `value` in front: into the room there, made first (at most
    /// `FRONT_ROOM` more than needed, so the waste stays small) when it
    /// is short.
    pub(super) fn push_front(&mut self, value: &[u8]) {
        let add = entry_len(value.len());
        if self.head < add {
            let room = add.max(self.len().min(FRONT_ROOM));
            let mut fresh = Vec::with_capacity(room + self.len());
            fresh.resize(room, 0);
            fresh.extend_from_slice(self.bytes());
            self.data = Arc::new(fresh);
            self.head = room;
        }
        let start = self.head - add;
        let (hdr, used) = header(value.len());
        let hdr = hdr.get(..used).unwrap_or_default();
        // The gap is `add` bytes: the header, the value, the header again.
        let Some((front, rest)) = Arc::make_mut(&mut self.data)
            .get_mut(start..self.head)
            .and_then(|gap| gap.split_at_mut_checked(used))
        else {
            return;
        };
        let Some((middle, back)) = rest.split_at_mut_checked(value.len()) else {
            return;
        };
        front.copy_from_slice(hdr);
        middle.copy_from_slice(value);
        for (b, h) in back.iter_mut().zip(hdr.iter().rev()) {
            *b = *h;
        }
        self.head = start;
        self.count += 1;
    }

    /// Removes the first element: its bytes.
    pub(super) fn pop_front(&mut self) -> Option<&[u8]> {
        let (r, next) = self.entry_at(0)?;
        let at = self.head;
        self.head += next;
        self.count -= 1;
        self.data.get(at + r.start..at + r.end)
    }

    /// Removes the last element, handing its bytes to `take` first.
    pub(super) fn pop_back<R>(&mut self, take: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let (r, start) = self.entry_before(self.len())?;
        let taken = take(self.bytes().get(r)?);
        let keep = self.head + start;
        match Arc::get_mut(&mut self.data) {
            Some(data) => data.truncate(keep),
            // Shared with a snapshot's copy: copy only what stays.
            None => self.data = Arc::new(self.data.get(..keep).unwrap_or_default().to_vec()),
        }
        self.count -= 1;
        Some(taken)
    }

    /// The element starting at `at`: its bytes' range and where the next
    /// element starts.
    pub(super) fn entry_at(&self, at: usize) -> Option<(Range<usize>, usize)> {
        let mut n = 0usize;
        let mut pos = at;
        for shift in (0..70).step_by(7) {
            let b = *self.bytes().get(pos)?;
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
            let b = *self.bytes().get(pos)?;
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
        self.entries()
            .map(|r| self.bytes().get(r).unwrap_or_default())
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
            c.push_back(v);
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// Pushes and pops at both ends, against a deque: the room in front
    /// is made, used and given back without an element moving or lost.
    #[test]
    fn both_ends_push_and_pop_as_a_deque_does() {
        let mut rng = fastrand::Rng::with_seed(11);
        let mut chunk = Chunk::default();
        let mut model: VecDeque<Vec<u8>> = VecDeque::new();
        for step in 0..20_000 {
            let value: Vec<u8> = vec![(step % 251) as u8; rng.usize(0..300)];
            match rng.u8(0..10) {
                0..=3 => {
                    chunk.push_front(&value);
                    model.push_front(value);
                }
                4..=5 => {
                    chunk.push_back(&value);
                    model.push_back(value);
                }
                6..=7 => {
                    let got = chunk.pop_front().map(<[u8]>::to_vec);
                    assert_eq!(got, model.pop_front(), "step {step}");
                }
                8 => {
                    let got = chunk.pop_back(<[u8]>::to_vec);
                    assert_eq!(got, model.pop_back(), "step {step}");
                }
                _ => chunk.compact(),
            }
            assert_eq!(chunk.count, model.len(), "step {step}");
            let want: usize = model.iter().map(|v| entry_len(v.len())).sum();
            assert_eq!(chunk.len(), want, "step {step}");
            if step % 97 == 0 {
                assert!(chunk.iter().eq(model.iter().map(Vec::as_slice)));
                assert!(chunk.iter().rev().eq(model.iter().rev().map(Vec::as_slice)));
            }
        }
    }
}
