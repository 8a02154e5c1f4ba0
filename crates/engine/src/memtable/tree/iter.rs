//! `Iter`: a tree range read leaf by leaf, in key order.
//!
//! Owns walking from leaf to leaf with a stack of inner nodes and keeping
//! a prefetch window ahead of the reader. It must never change the tree.

use super::inner::{Inner, Node};
use super::leaf::{prefetch, Leaf};
use crate::entry::Entry;
use smallvec::SmallVec;
use std::ops::Bound;

/// A range of entries, in key order. Each leaf's blocks are prefetched when
/// the iterator enters it, so copying them out overlaps their cache misses.
pub(crate) struct Iter<'a, 'b> {
    pub(super) stack: SmallVec<[(&'a Inner, usize); 8]>,
    pub(super) leaf: &'a Leaf,
    pub(super) pos: usize,
    pub(super) end: Bound<&'b [u8]>,
    pub(super) done: bool,
}

/// How many entries ahead of the one being read the iterator prefetches:
/// enough misses in flight to fill the memory pipeline, few enough that a
/// short read does not fetch blocks it never uses.
const PREFETCH_AHEAD: usize = 16;

impl Iter<'_, '_> {
    /// Starts the prefetch window at a newly entered position.
    pub(super) fn prefetch_leaf(&self) {
        let end = (self.pos + PREFETCH_AHEAD).min(self.leaf.len());
        for i in self.pos..end {
            prefetch(self.leaf.entry(i));
        }
    }

    /// Moves to the first slot of the next leaf; false at the end.
    #[expect(
        clippy::indexing_slicing,
        reason = "`c + 1 < children.len()` is checked first, and every inner node has a first child"
    )]
    fn next_leaf(&mut self) -> bool {
        while let Some((inner, c)) = self.stack.pop() {
            if c + 1 < inner.children.len() {
                self.stack.push((inner, c + 1));
                let mut node = &inner.children[c + 1];
                loop {
                    match node {
                        Node::Leaf(leaf) => {
                            self.leaf = leaf;
                            self.pos = 0;
                            self.prefetch_leaf();
                            return true;
                        }
                        Node::Inner(i) => {
                            self.stack.push((&**i, 0));
                            node = &i.children[0];
                        }
                    }
                }
            }
        }
        false
    }
}

impl<'a> Iterator for Iter<'a, '_> {
    type Item = &'a Entry;

    fn next(&mut self) -> Option<&'a Entry> {
        if self.done {
            return None;
        }
        while self.pos >= self.leaf.len() {
            if !self.next_leaf() {
                self.done = true;
                return None;
            }
        }
        let leaf: &'a Leaf = self.leaf;
        let entry = leaf.entry(self.pos);
        let past_end = match self.end {
            Bound::Included(e) => entry.key() > e,
            Bound::Excluded(e) => entry.key() >= e,
            Bound::Unbounded => false,
        };
        if past_end {
            self.done = true;
            return None;
        }
        self.pos += 1;
        // Keep the window full: fetch the entry PREFETCH_AHEAD - 1 slots on
        // (the window started at `pos` covered up to that).
        let ahead = self.pos + PREFETCH_AHEAD - 1;
        if ahead < leaf.len() {
            prefetch(leaf.entry(ahead));
        }
        Some(entry)
    }
}
