//! B+tree inner nodes: separator keys and children.
//!
//! Owns routing a key to the child whose range holds it. Separators are
//! owned keys, each its own small allocation, so comparing against them
//! touches scattered cache lines; a lookup's random traffic evicts those
//! from cache, and on our machine descending two levels that way cost more
//! than the leaf itself. So each node also keeps, in one contiguous array,
//! the 4 bytes of every separator after the prefix they all share
//! (`heads`, as in leaves): the binary search reads a few adjacent lines
//! that stay cached, and opens a separator only on a tie.
//!
//! Each child also has a *deadline bound* (`bounds`, see `due`): no entry
//! in `children[i]` expires before `bounds[i]`. A bound may be lower than
//! the earliest deadline below it (only lowering is needed to keep it
//! true), never higher.
//!
//! Invariants: `keys.len() + 1 == children.len() == bounds.len()`; every
//! key in `children[i]` is `>= keys[i - 1]` and `< keys[i]`; all children
//! are at the same depth; `heads`/`prefix` describe `keys` (call `reindex`
//! after changing `keys`).

use super::heads::{common_prefix, head, search};
use super::leaf::Leaf;

/// Most children per inner node. A node holds one more while it is being
/// split, hence `heads` has room for `INNER_CAP` separators.
pub(super) const INNER_CAP: usize = 1024;

/// Most prefix bytes an inner node keeps inline; a shorter prefix than the
/// separators really share is still correct, only less selective.
const PREFIX_INLINE: usize = 16;

/// Below this many children an inner node is merged or refilled.
pub(super) const INNER_MIN: usize = INNER_CAP / 4;

/// A node of the tree.
pub(crate) enum Node {
    Leaf(Box<Leaf>),
    Inner(Box<Inner>),
}

pub(crate) struct Inner {
    /// `keys[i]` is the smallest key child `i + 1` may hold.
    pub(super) keys: Vec<Box<[u8]>>,
    pub(super) children: Vec<Node>,
    /// `bounds[i]`: no entry in `children[i]` has a deadline below it.
    pub(super) bounds: Vec<u64>,
    /// How many bytes every separator shares (capped so they fit inline).
    prefix: usize,
    /// Those bytes, kept here so the search need not open a separator.
    prefix_bytes: [u8; PREFIX_INLINE],
    /// `heads[i]` is `head(keys[i], prefix)`.
    heads: [u32; INNER_CAP],
}

impl Inner {
    pub(super) fn new(keys: Vec<Box<[u8]>>, children: Vec<Node>, bounds: Vec<u64>) -> Box<Inner> {
        let mut inner = Box::new(Inner {
            keys,
            children,
            bounds,
            prefix: 0,
            prefix_bytes: [0; PREFIX_INLINE],
            heads: [0; INNER_CAP],
        });
        inner.reindex();
        inner
    }

    /// Recomputes `prefix` and `heads` after `keys` changed.
    #[expect(
        clippy::indexing_slicing,
        reason = "`p` is at most the prefix `a` shares with `b`, so within `a`, and at most `PREFIX_INLINE`"
    )]
    pub(super) fn reindex(&mut self) {
        self.prefix = match (self.keys.first(), self.keys.last()) {
            (Some(a), Some(b)) => {
                let p = common_prefix(a, b).min(PREFIX_INLINE);
                self.prefix_bytes[..p].copy_from_slice(&a[..p]);
                p
            }
            _ => 0,
        };
        for (h, k) in self.heads.iter_mut().zip(&self.keys) {
            *h = head(k, self.prefix);
        }
    }

    /// Whether `key` starts with the prefix every separator shares.
    #[expect(
        clippy::indexing_slicing,
        reason = "`prefix` is at most `PREFIX_INLINE` (`reindex` caps it)"
    )]
    fn shares_prefix(&self, key: &[u8]) -> bool {
        key.get(..self.prefix) == Some(&self.prefix_bytes[..self.prefix])
    }

    /// Inserts separator `sep` at `c` and `child` (with deadline bound
    /// `bound`) after it, keeping the heads without recomputing them all
    /// unless the prefix must shrink.
    #[expect(
        clippy::indexing_slicing,
        reason = "inserts go into nodes of at most `INNER_CAP` children, so `c <= keys.len() < INNER_CAP`, the length of `heads`"
    )]
    pub(super) fn insert_child(&mut self, c: usize, sep: Box<[u8]>, child: Node, bound: u64) {
        let n = self.keys.len();
        let keeps_prefix = n > 0 && self.shares_prefix(&sep);
        if keeps_prefix {
            self.heads.copy_within(c..n, c + 1);
            self.heads[c] = head(&sep, self.prefix);
        }
        self.keys.insert(c, sep);
        self.children.insert(c + 1, child);
        self.bounds.insert(c + 1, bound);
        if !keeps_prefix {
            self.reindex();
        }
    }

    /// Removes separator `k` and child `k + 1`, returning the child. The
    /// remaining separators still share the prefix. Child `k`'s bound
    /// takes in the removed child's, so it stays true if the caller moved
    /// that child's entries into child `k`.
    #[expect(
        clippy::indexing_slicing,
        reason = "`k` is a separator index, below `keys.len() <= INNER_CAP`, and `bounds` has one more slot than `keys`"
    )]
    pub(super) fn remove_child(&mut self, k: usize) -> Node {
        let n = self.keys.len();
        self.heads.copy_within(k + 1..n, k);
        self.keys.remove(k);
        let bound = self.bounds.remove(k + 1);
        self.bounds[k] = self.bounds[k].min(bound);
        self.children.remove(k + 1)
    }

    /// The lowest of the children's bounds: a bound for the whole node.
    pub(super) fn min_bound(&self) -> u64 {
        self.bounds.iter().copied().min().unwrap_or(u64::MAX)
    }

    /// Replaces separator `k`.
    #[expect(
        clippy::indexing_slicing,
        reason = "`k` is a separator index, below `keys.len() <= INNER_CAP`"
    )]
    pub(super) fn set_key(&mut self, k: usize, sep: Box<[u8]>) {
        if self.shares_prefix(&sep) {
            self.heads[k] = head(&sep, self.prefix);
            self.keys[k] = sep;
        } else {
            self.keys[k] = sep;
            self.reindex();
        }
    }

    /// The child whose range holds `key`: the number of separators `<= key`.
    #[expect(
        clippy::indexing_slicing,
        reason = "`keys.len() <= INNER_CAP` (the length of `heads`), `prefix <= PREFIX_INLINE`, and `search` calls `cmp` only with indexes below `keys.len()`"
    )]
    pub(super) fn child_for(&self, key: &[u8]) -> usize {
        let n = self.keys.len();
        let prefix = &self.prefix_bytes[..self.prefix];
        match search(&self.heads[..n], prefix, key, |i| (*self.keys[i]).cmp(key)) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    /// Splits an over-full node; returns the separator that moves up and the
    /// new right sibling.
    pub(super) fn split(&mut self) -> (Box<[u8]>, Box<Inner>) {
        let mid = self.children.len() / 2;
        let children = self.children.split_off(mid);
        let bounds = self.bounds.split_off(mid);
        let mut keys = self.keys.split_off(mid - 1);
        let up = keys.remove(0);
        self.reindex();
        (up, Inner::new(keys, children, bounds))
    }
}

/// The shortest key `s` with `left < s <= right`, used as a separator so
/// that inner nodes hold as few bytes as possible.
pub(super) fn separator(left: &[u8], right: &[u8]) -> Box<[u8]> {
    let shared = common_prefix(left, right);
    right.get(..=shared).unwrap_or(right).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_are_short_and_between() {
        let cases: [(&[u8], &[u8]); 4] = [
            (b"key:0001", b"key:0002"),
            (b"a", b"abc"),
            (b"abc", b"b"),
            (b"", b"\0"),
        ];
        for (l, r) in cases {
            let s = separator(l, r);
            assert!(l < &*s && &*s <= r, "{l:?} {s:?} {r:?}");
        }
        assert_eq!(&*separator(b"key:0001", b"key:0002"), b"key:0002");
        assert_eq!(&*separator(b"apple", b"banana"), b"b");
    }
}
