//! `List`: a list value's elements, in order.
//!
//! Owns the encoding (Redis's `quicklist`: a deque of chunks, each a
//! packed run of elements like a listpack) and the memory count. An
//! element is stored as its length (LEB128), its bytes, and its length
//! again with the bytes reversed, so a chunk is walked from either end
//! (LPOP and RPOP read one element; LINDEX near an end reads a chunk).
//! A chunk holds elements until `list-max-listpack-size` says it is full
//! (`ChunkLimit`); an element bigger than that gets a chunk of its own.
//! It must never leave an empty chunk in the deque, nor let `len` or
//! `bytes` drift from what it holds.

use super::chunk::{entry_len, Chunk, ChunkLimit, CHUNK_OVERHEAD};
use bytes::Bytes;
use std::collections::VecDeque;

/// Which end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The head (LPUSH, LPOP, LEFT).
    Left,
    /// The tail (RPUSH, RPOP, RIGHT).
    Right,
}

/// A list of binary-safe elements.
#[derive(Debug, Clone, Default)]
pub(crate) struct List {
    chunks: VecDeque<Chunk>,
    len: usize,
    /// Bytes of the chunks' data, and `CHUNK_OVERHEAD` for each.
    bytes: usize,
    /// How many changes the list has had (counted by the caller, one per
    /// command): a logged edit names the count it applies to, which makes
    /// replaying it over a snapshot exact (`edit`).
    seq: u64,
}

impl PartialEq for List {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl List {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many changes it has had (see `seq`).
    pub(crate) fn seq(&self) -> u64 {
        self.seq
    }

    pub(crate) fn set_seq(&mut self, seq: u64) {
        self.seq = seq;
    }

    pub(crate) fn footprint(&self) -> usize {
        std::mem::size_of::<Self>() + self.bytes
    }

    /// Redis 7.0's name for a list's encoding, whatever its size.
    pub(crate) fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Every element, head to tail.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + '_ {
        self.chunks.iter().flat_map(Chunk::iter)
    }

    fn recount(&mut self) {
        self.len = self.chunks.iter().map(|c| c.count).sum();
        self.bytes = self.chunks.iter().map(|c| c.len() + CHUNK_OVERHEAD).sum();
    }

    /// Adds `value` at `end`.
    pub(crate) fn push(&mut self, end: End, value: &[u8], limit: ChunkLimit) {
        super::edit::list_push(end, value);
        self.push_quiet(end, value, limit);
    }

    fn push_quiet(&mut self, end: End, value: &[u8], limit: ChunkLimit) {
        let add = entry_len(value.len());
        let chunk = match end {
            End::Left => self.chunks.front_mut(),
            End::Right => self.chunks.back_mut(),
        };
        let chunk = match chunk {
            Some(c) if limit.fits(c.len(), c.count, add) => c,
            full => {
                if let (End::Left, Some(full)) = (end, full) {
                    full.compact();
                }
                self.bytes += CHUNK_OVERHEAD;
                match end {
                    End::Left => self.chunks.push_front(Chunk::default()),
                    End::Right => self.chunks.push_back(Chunk::default()),
                }
                let fresh = match end {
                    End::Left => self.chunks.front_mut(),
                    End::Right => self.chunks.back_mut(),
                };
                let Some(c) = fresh else { return };
                c
            }
        };
        match end {
            End::Right => chunk.push_back(value),
            End::Left => chunk.push_front(value),
        }
        self.len += 1;
        self.bytes += add;
    }

    /// Removes and returns the element at `end`.
    pub(crate) fn pop(&mut self, end: End) -> Option<Bytes> {
        let value = self.pop_quiet(end)?;
        super::edit::list_pop(end);
        Some(value)
    }

    fn pop_quiet(&mut self, end: End) -> Option<Bytes> {
        let chunk = match end {
            End::Left => self.chunks.front_mut()?,
            End::Right => self.chunks.back_mut()?,
        };
        let value = match end {
            End::Left => Bytes::copy_from_slice(chunk.pop_front()?),
            End::Right => chunk.pop_back(Bytes::copy_from_slice)?,
        };
        self.bytes -= entry_len(value.len());
        self.len -= 1;
        if chunk.count == 0 {
            match end {
                End::Left => self.chunks.pop_front(),
                End::Right => self.chunks.pop_back(),
            };
            self.bytes -= CHUNK_OVERHEAD;
        }
        Some(value)
    }

    /// The chunk holding element `index` and the element's position in it,
    /// walking from the nearer end.
    fn locate(&self, index: usize) -> Option<(usize, usize)> {
        if index >= self.len {
            return None;
        }
        if index < self.len / 2 {
            let mut skipped = 0;
            for (i, c) in self.chunks.iter().enumerate() {
                if index < skipped + c.count {
                    return Some((i, index - skipped));
                }
                skipped += c.count;
            }
        } else {
            let mut after = self.len;
            for (i, c) in self.chunks.iter().enumerate().rev() {
                after -= c.count;
                if index >= after {
                    return Some((i, index - after));
                }
            }
        }
        None
    }

    /// LINDEX: the element at `index` (0 is the head).
    pub(crate) fn get(&self, index: usize) -> Option<&[u8]> {
        let (ci, pos) = self.locate(index)?;
        let chunk = self.chunks.get(ci)?;
        // From the chunk's nearer end, so the ends of a list cost one
        // element each.
        if pos < chunk.count / 2 {
            chunk.iter().nth(pos)
        } else {
            chunk.iter().rev().nth(chunk.count - 1 - pos)
        }
    }

    /// The elements from `start` to `stop`, both included (already within
    /// the list).
    pub(crate) fn range(&self, start: usize, stop: usize) -> Vec<Bytes> {
        let Some((ci, pos)) = self.locate(start) else {
            return Vec::new();
        };
        let want = stop.saturating_sub(start) + 1;
        self.chunks
            .range(ci..)
            .flat_map(Chunk::iter)
            .skip(pos)
            .take(want)
            .map(Bytes::copy_from_slice)
            .collect()
    }

    /// Rebuilds chunk `ci` from `values`, splitting it if they no longer
    /// fit one chunk, or removing it if there are none.
    fn rebuild(&mut self, ci: usize, values: Vec<Vec<u8>>, limit: ChunkLimit) {
        let mut fresh: Vec<Chunk> = Vec::new();
        let mut current = Chunk::default();
        for v in &values {
            let add = entry_len(v.len());
            if current.count > 0 && !limit.fits(current.len(), current.count, add) {
                fresh.push(std::mem::take(&mut current));
            }
            current.push_back(v);
        }
        if current.count > 0 {
            fresh.push(current);
        }
        self.chunks.remove(ci);
        for (i, c) in fresh.into_iter().enumerate() {
            self.chunks.insert(ci + i, c);
        }
        self.recount();
    }

    fn chunk_values(&self, ci: usize) -> Vec<Vec<u8>> {
        self.chunks
            .get(ci)
            .map(|c| c.iter().map(<[u8]>::to_vec).collect())
            .unwrap_or_default()
    }

    /// LSET: replaces the element at `index`; false if there is none.
    pub(crate) fn set(&mut self, index: usize, value: &[u8], limit: ChunkLimit) -> bool {
        let Some((ci, pos)) = self.locate(index) else {
            return false;
        };
        let mut values = self.chunk_values(ci);
        match values.get_mut(pos) {
            Some(slot) => *slot = value.to_vec(),
            None => return false,
        }
        super::edit::list_set(index, value);
        self.rebuild(ci, values, limit);
        true
    }

    /// LINSERT: puts `value` before (or after) the first `pivot` from the
    /// head; false if there is no such element.
    pub(crate) fn insert(
        &mut self,
        pivot: &[u8],
        value: &[u8],
        before: bool,
        limit: ChunkLimit,
    ) -> bool {
        let found = self
            .chunks
            .iter()
            .enumerate()
            .find_map(|(ci, c)| c.iter().position(|v| v == pivot).map(|pos| (ci, pos)));
        let Some((ci, pos)) = found else {
            return false;
        };
        let mut values = self.chunk_values(ci);
        let at = if before { pos } else { pos + 1 };
        values.insert(at.min(values.len()), value.to_vec());
        super::edit::list_insert(pivot, value, before);
        self.rebuild(ci, values, limit);
        true
    }

    /// LREM: removes up to `count` elements equal to `value` (all when
    /// `count` is 0), from the head (or, when `from_tail`, the tail); how
    /// many it removed.
    pub(crate) fn remove(&mut self, value: &[u8], count: usize, from_tail: bool) -> usize {
        let mut left = if count == 0 { usize::MAX } else { count };
        let mut removed = 0;
        let order: Vec<usize> = if from_tail {
            (0..self.chunks.len()).rev().collect()
        } else {
            (0..self.chunks.len()).collect()
        };
        let mut changed = Vec::new();
        for ci in order {
            if left == 0 {
                break;
            }
            let Some(chunk) = self.chunks.get(ci) else {
                continue;
            };
            if !chunk.iter().any(|v| v == value) {
                continue;
            }
            let mut values: Vec<&[u8]> = chunk.iter().collect();
            let positions: Vec<usize> = if from_tail {
                (0..values.len()).rev().collect()
            } else {
                (0..values.len()).collect()
            };
            let mut drop = vec![false; values.len()];
            for p in positions {
                if left == 0 {
                    break;
                }
                if values.get(p) == Some(&value) {
                    if let Some(d) = drop.get_mut(p) {
                        *d = true;
                    }
                    left -= 1;
                    removed += 1;
                }
            }
            let mut flags = drop.iter();
            values.retain(|_| !flags.next().copied().unwrap_or(false));
            changed.push((ci, Chunk::from_values(values.into_iter())));
        }
        for (ci, chunk) in changed {
            if let Some(slot) = self.chunks.get_mut(ci) {
                *slot = chunk;
            }
        }
        self.chunks.retain(|c| c.count > 0);
        self.recount();
        if removed > 0 {
            super::edit::list_rem(value, count, from_tail);
        }
        removed
    }

    /// LTRIM: keeps the elements from `start` to `stop`, both included
    /// (within the list), or none when `keep` is false.
    pub(crate) fn trim(&mut self, start: usize, stop: usize, keep: bool, limit: ChunkLimit) {
        super::edit::list_trim(start, stop, keep);
        if !keep {
            self.chunks.clear();
            self.recount();
            return;
        }
        if start == 0 && stop + 1 >= self.len {
            return;
        }
        let kept = self.range(start, stop);
        let mut fresh = List {
            seq: self.seq,
            ..List::default()
        };
        for v in &kept {
            fresh.push_quiet(End::Right, v, limit);
        }
        *self = fresh;
    }

    /// LPOS: the positions of elements equal to `value`, the `rank`-th
    /// match first (from the tail when `from_tail`), at most `count` of
    /// them (0: all), looking at no more than `maxlen` elements (0: all).
    pub(crate) fn positions(
        &self,
        value: &[u8],
        rank: usize,
        from_tail: bool,
        count: usize,
        maxlen: usize,
    ) -> Vec<usize> {
        let limit = if maxlen == 0 { self.len } else { maxlen };
        let want = if count == 0 { usize::MAX } else { count };
        let mut skip = rank.saturating_sub(1);
        let mut out = Vec::new();
        let mut check = |i: usize, v: &[u8]| {
            if v == value {
                if skip > 0 {
                    skip -= 1;
                } else {
                    out.push(i);
                }
            }
            out.len() < want
        };
        if from_tail {
            for (k, v) in self.iter().rev().take(limit).enumerate() {
                if !check(self.len - 1 - k, v) {
                    break;
                }
            }
        } else {
            for (i, v) in self.iter().take(limit).enumerate() {
                if !check(i, v) {
                    break;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(l: &List) -> Vec<String> {
        l.iter()
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect()
    }

    const SMALL: ChunkLimit = ChunkLimit(3);

    #[test]
    fn pushes_and_pops_at_both_ends_across_chunks() {
        let mut l = List::default();
        for i in 0..10 {
            l.push(End::Right, format!("r{i}").as_bytes(), SMALL);
            l.push(End::Left, format!("l{i}").as_bytes(), SMALL);
        }
        assert_eq!(l.len(), 20);
        assert!(l.chunks.len() >= 7, "{} chunks", l.chunks.len());
        assert_eq!(l.get(0), Some(&b"l9"[..]));
        assert_eq!(l.get(19), Some(&b"r9"[..]));
        assert_eq!(l.get(10), Some(&b"r0"[..]));
        assert_eq!(l.get(20), None);
        assert_eq!(l.pop(End::Left).as_deref(), Some(&b"l9"[..]));
        assert_eq!(l.pop(End::Right).as_deref(), Some(&b"r9"[..]));
        while l.pop(End::Right).is_some() {}
        assert!(l.is_empty());
        assert!(l.chunks.is_empty());
        assert_eq!(l.bytes, 0);
    }

    #[test]
    fn long_elements_read_back_from_either_end() {
        let mut l = List::default();
        let big = vec![b'x'; 20_000];
        l.push(End::Right, b"a", ChunkLimit::default());
        l.push(End::Right, &big, ChunkLimit::default());
        l.push(End::Right, &[], ChunkLimit::default());
        l.push(End::Left, &[b'y'; 200], ChunkLimit::default());
        assert_eq!(l.get(2).map(<[u8]>::len), Some(20_000));
        assert_eq!(l.pop(End::Right).as_deref(), Some(&b""[..]));
        assert_eq!(l.pop(End::Right).map(|b| b.len()), Some(20_000));
        assert_eq!(l.pop(End::Left).map(|b| b.len()), Some(200));
        assert_eq!(texts(&l), vec!["a"]);
    }

    #[test]
    fn middle_changes_keep_the_order_and_the_counts() {
        let mut l = List::default();
        for v in ["1", "2", "3", "2", "1", "2", "4"] {
            l.push(End::Right, v.as_bytes(), SMALL);
        }
        assert!(l.insert(b"3", b"x", true, SMALL));
        assert!(l.insert(b"4", b"y", false, SMALL));
        assert!(!l.insert(b"zz", b"q", true, SMALL));
        assert_eq!(texts(&l), ["1", "2", "x", "3", "2", "1", "2", "4", "y"]);
        assert_eq!(l.remove(b"2", 2, true), 2);
        assert_eq!(texts(&l), ["1", "2", "x", "3", "1", "4", "y"]);
        assert_eq!(l.remove(b"1", 0, false), 2);
        assert!(l.set(0, b"first", SMALL));
        assert!(!l.set(9, b"no", SMALL));
        assert_eq!(texts(&l), ["first", "x", "3", "4", "y"]);
        assert_eq!(
            l.range(1, 3),
            vec![
                Bytes::from_static(b"x"),
                Bytes::from_static(b"3"),
                Bytes::from_static(b"4")
            ]
        );
        l.trim(1, 2, true, SMALL);
        assert_eq!(texts(&l), ["x", "3"]);
        let before = l.bytes;
        let mut again = List::default();
        for v in ["x", "3"] {
            again.push(End::Right, v.as_bytes(), SMALL);
        }
        assert_eq!(before, again.bytes, "counts as if built fresh");
        assert_eq!(l.len, 2);
    }

    #[test]
    fn positions_follow_rank_count_and_maxlen() {
        let mut l = List::default();
        for v in ["a", "b", "c", "a", "b", "c"] {
            l.push(End::Right, v.as_bytes(), SMALL);
        }
        assert_eq!(l.positions(b"b", 1, false, 1, 0), vec![1]);
        assert_eq!(l.positions(b"b", 2, false, 1, 0), vec![4]);
        assert_eq!(l.positions(b"b", 1, true, 1, 0), vec![4]);
        assert_eq!(l.positions(b"b", 1, false, 0, 0), vec![1, 4]);
        assert_eq!(l.positions(b"b", 1, false, 1, 1), Vec::<usize>::new());
        assert_eq!(l.positions(b"c", 1, false, 1, 3), vec![2]);
    }
}
