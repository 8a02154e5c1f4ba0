//! `Tree`: the B+tree holding one shard's entries, in key order.
//!
//! Owns the entries of a shard (it is the only index), their order, and
//! keeping the tree balanced. It answers point lookups by fingerprint,
//! ordered seeks by heads (see `leaf`), and streams ranges leaf by leaf.
//!
//! Why a B+tree of fat leaves and not `BTreeMap` plus a hash table: on
//! this machine every dependent cache miss costs ~150 ns. A `BTreeMap`
//! whose keys live behind pointers pays a miss per comparison (~20 per
//! seek, ~1.2 µs at 1M keys); a hash table answers point lookups in three
//! misses but cannot seek, and keeping both cost ~36 bytes per key. Here a
//! point lookup costs three misses (fingerprint line, slot, block), a seek
//! about as many, and the index ~14 bytes per key.
//!
//! Balance: leaves split when full and are merged with or refilled from a
//! neighbour below a quarter full; inner nodes likewise. Every leaf is at
//! the same depth. A `Path` names a slot by the child indexes that lead to
//! it, so a caller can find an entry once and then read, change or remove
//! it without searching again.
//!
//! The tree is also the shard's timer index: every inner node keeps, per
//! child, a lower bound on the deadlines below it, so the entries due to
//! expire are found by descending only into subtrees that can hold them
//! (see `due`).

mod due;
mod heads;
mod inner;
mod leaf;

use crate::entry::Entry;
pub(crate) use heads::common_prefix;
pub(crate) use inner::Node;
use inner::{separator, Inner, INNER_CAP, INNER_MIN};
pub(crate) use leaf::Leaf;
use leaf::{prefetch, prefetch_leaf, LEAF_CAP, LEAF_MIN};
use smallvec::SmallVec;
use std::ops::Bound;

/// The route to one occupied slot: a child index per inner level, then
/// the slot in the leaf. Valid until the tree is next changed.
#[derive(Debug, Clone)]
pub(crate) struct Path {
    steps: SmallVec<[u16; 8]>,
    slot: u8,
}

// Path steps are child indexes; they must fit the step type.
const _: () = assert!(INNER_CAP <= u16::MAX as usize && LEAF_CAP <= u8::MAX as usize);

/// A shard's entries, in key order.
pub(crate) struct Tree {
    root: Node,
    /// No entry in the tree has a deadline below this (see `due`).
    root_bound: u64,
    len: usize,
    leaves: usize,
    inners: usize,
}

impl Default for Tree {
    fn default() -> Self {
        Self {
            root: Node::Leaf(Leaf::new()),
            root_bound: u64::MAX,
            len: 0,
            leaves: 1,
            inners: 0,
        }
    }
}

/// A child index as a path step (checked at compile time to fit).
fn step(i: usize) -> u16 {
    i as u16
}

/// A leaf slot as a path step (checked at compile time to fit).
fn slot(i: usize) -> u8 {
    i as u8
}

impl Tree {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Approximate heap bytes of the tree's nodes (not of the entries).
    pub(crate) fn node_bytes(&self) -> usize {
        // An inner node, estimated full: its heads array, and per child a
        // 16-byte node pointer and a separator of ~32 bytes with its
        // allocation; plus the deadline bounds, counted exactly.
        self.leaves * std::mem::size_of::<Leaf>()
            + self.inners * (64 + INNER_CAP * 48)
            + self.timer_bytes()
    }

    /// The leaf that would hold `key`, with the path to it.
    fn descend(&self, key: &[u8], steps: &mut SmallVec<[u16; 8]>) -> &Leaf {
        let mut node = &self.root;
        loop {
            match node {
                Node::Leaf(leaf) => {
                    prefetch_leaf(leaf);
                    return leaf;
                }
                Node::Inner(inner) => {
                    let c = inner.child_for(key);
                    steps.push(step(c));
                    node = &inner.children[c];
                }
            }
        }
    }

    /// The entry for `key`; `fp` is the key's fingerprint.
    pub(crate) fn get(&self, fp: u8, key: &[u8]) -> Option<&Entry> {
        let mut steps = SmallVec::new();
        let leaf = self.descend(key, &mut steps);
        leaf.find(fp, key).map(|i| leaf.entry(i))
    }

    /// The path to `key`'s slot.
    pub(crate) fn find(&self, fp: u8, key: &[u8]) -> Option<Path> {
        let mut steps = SmallVec::new();
        let leaf = self.descend(key, &mut steps);
        let found = leaf.find(fp, key)?;
        Some(Path {
            steps,
            slot: slot(found),
        })
    }

    fn leaf_at(&self, path: &Path) -> &Leaf {
        let mut node = &self.root;
        for &s in &path.steps {
            match node {
                Node::Inner(inner) => node = &inner.children[usize::from(s)],
                Node::Leaf(_) => break,
            }
        }
        match node {
            Node::Leaf(leaf) => leaf,
            Node::Inner(_) => unreachable!("path shorter than the tree"),
        }
    }

    fn leaf_at_mut(&mut self, path: &Path) -> &mut Leaf {
        let mut node = &mut self.root;
        for &s in &path.steps {
            match node {
                Node::Inner(inner) => node = &mut inner.children[usize::from(s)],
                Node::Leaf(_) => break,
            }
        }
        match node {
            Node::Leaf(leaf) => leaf,
            Node::Inner(_) => unreachable!("path shorter than the tree"),
        }
    }

    pub(crate) fn at(&self, path: &Path) -> &Entry {
        self.leaf_at(path).entry(usize::from(path.slot))
    }

    /// The entry at `path`, to change in place. Its key must not change.
    pub(crate) fn at_mut(&mut self, path: &Path) -> &mut Entry {
        self.leaf_at_mut(path).entry_mut(usize::from(path.slot))
    }

    /// Inserts `entry`, replacing and returning an entry with the same key.
    pub(crate) fn insert(&mut self, fp: u8, entry: Entry) -> Option<Entry> {
        self.insert_inner(fp, entry, true)
    }

    /// Inserts `entry` unless its key is present; then hands it back. One
    /// descent, where a lookup and an insert would take two.
    pub(crate) fn insert_absent(&mut self, fp: u8, entry: Entry) -> Result<(), Entry> {
        match self.insert_inner(fp, entry, false) {
            None => Ok(()),
            Some(entry) => Err(entry),
        }
    }

    /// Inserts `entry`; when the key is present, replaces the entry and
    /// returns the old one if `replace`, or else returns `entry` unused.
    fn insert_inner(&mut self, fp: u8, entry: Entry, replace: bool) -> Option<Entry> {
        let mut counts = (0usize, 0usize);
        let deadline = entry.expiry().unwrap_or(u64::MAX);
        self.root_bound = self.root_bound.min(deadline);
        let at = Insert {
            fp,
            replace,
            deadline,
        };
        let (old, split) = insert_rec(&mut self.root, at, entry, &mut counts);
        if let Some((sep, right)) = split {
            let left = std::mem::replace(&mut self.root, Node::Leaf(Leaf::new()));
            let bounds = vec![self.root_bound; 2];
            self.root = Node::Inner(Inner::new(vec![sep], vec![left, right], bounds));
            counts.1 += 1;
        }
        self.leaves += counts.0;
        self.inners += counts.1;
        if old.is_none() {
            self.len += 1;
        }
        old
    }

    /// Removes and returns the entry at `path`.
    pub(crate) fn remove_at(&mut self, path: &Path) -> Entry {
        let mut freed = (0usize, 0usize);
        let entry = remove_rec(
            &mut self.root,
            &path.steps,
            usize::from(path.slot),
            &mut freed,
        );
        // A root with a single child hands the root role to that child.
        loop {
            let only_child = match &mut self.root {
                Node::Inner(inner) if inner.children.len() == 1 => inner.children.pop(),
                _ => None,
            };
            match only_child {
                Some(child) => {
                    self.root = child;
                    freed.1 += 1;
                }
                None => break,
            }
        }
        self.leaves -= freed.0;
        self.inners -= freed.1;
        self.len -= 1;
        entry
    }

    /// An entry picked at random: `pick(n)` chooses one of `n` children at
    /// each level, then one of a leaf's entries. Leaves are at least a
    /// quarter full, so no entry is more than about four times as likely
    /// as another.
    pub(crate) fn random(&self, pick: &mut impl FnMut(usize) -> usize) -> Option<&Entry> {
        if self.len == 0 {
            return None;
        }
        let mut node = &self.root;
        loop {
            match node {
                Node::Inner(inner) => {
                    let n = inner.children.len();
                    node = inner.children.get(pick(n).min(n - 1))?;
                }
                Node::Leaf(leaf) if leaf.len() > 0 => {
                    let n = leaf.len();
                    return Some(leaf.entry(pick(n).min(n - 1)));
                }
                Node::Leaf(_) => return None,
            }
        }
    }

    /// The path to the entry with the smallest key.
    pub(crate) fn first(&self) -> Option<Path> {
        if self.len == 0 {
            return None;
        }
        let mut steps = SmallVec::new();
        let mut node = &self.root;
        while let Node::Inner(inner) = node {
            steps.push(0);
            node = &inner.children[0];
        }
        Some(Path { steps, slot: 0 })
    }

    /// Entries with keys within the bounds, in key order.
    pub(crate) fn range<'a, 'b>(
        &'a self,
        start: Bound<&[u8]>,
        end: Bound<&'b [u8]>,
    ) -> Iter<'a, 'b> {
        let mut stack = SmallVec::new();
        let mut node = &self.root;
        let leaf = loop {
            match node {
                Node::Leaf(leaf) => break &**leaf,
                Node::Inner(inner) => {
                    let c = match start {
                        Bound::Included(k) | Bound::Excluded(k) => inner.child_for(k),
                        Bound::Unbounded => 0,
                    };
                    stack.push((&**inner, c));
                    node = &inner.children[c];
                }
            }
        };
        let pos = match start {
            Bound::Included(k) => leaf.lower_bound(k, false),
            Bound::Excluded(k) => leaf.lower_bound(k, true),
            Bound::Unbounded => 0,
        };
        let iter = Iter {
            stack,
            leaf,
            pos,
            end,
            done: false,
        };
        iter.prefetch_leaf();
        iter
    }

    /// Debug check of every invariant; returns the number of entries.
    #[cfg(test)]
    pub(crate) fn check(&self) -> usize {
        #[allow(clippy::too_many_arguments)]
        fn walk(
            node: &Node,
            lo: Option<&[u8]>,
            hi: Option<&[u8]>,
            bound: u64,
            depth: usize,
            leaf_depth: &mut Option<usize>,
            root: bool,
        ) -> usize {
            match node {
                Node::Leaf(leaf) => {
                    leaf.check();
                    if !root {
                        assert!(leaf.len() >= 1, "empty non-root leaf");
                    }
                    assert_eq!(*leaf_depth.get_or_insert(depth), depth, "uneven depth");
                    for e in leaf.entries() {
                        assert!(lo.is_none_or(|l| e.key() >= l), "key below fence");
                        assert!(hi.is_none_or(|h| e.key() < h), "key above fence");
                        assert!(
                            e.expiry().is_none_or(|t| t >= bound),
                            "deadline below bound"
                        );
                    }
                    leaf.len()
                }
                Node::Inner(inner) => {
                    assert_eq!(inner.keys.len() + 1, inner.children.len());
                    assert_eq!(inner.bounds.len(), inner.children.len());
                    assert!(inner.children.len() <= INNER_CAP);
                    assert!(root || inner.children.len() >= 2);
                    assert!(
                        inner.keys.windows(2).all(|w| w[0] < w[1]),
                        "separators out of order"
                    );
                    let mut n = 0;
                    for (i, child) in inner.children.iter().enumerate() {
                        let clo = if i == 0 {
                            lo
                        } else {
                            Some(&*inner.keys[i - 1])
                        };
                        let chi = if i == inner.keys.len() {
                            hi
                        } else {
                            Some(&*inner.keys[i])
                        };
                        let b = inner.bounds[i];
                        assert!(b >= bound, "child bound below its parent's");
                        n += walk(child, clo, chi, b, depth + 1, leaf_depth, false);
                    }
                    n
                }
            }
        }
        let n = walk(&self.root, None, None, self.root_bound, 0, &mut None, true);
        assert_eq!(n, self.len, "len");
        n
    }
}

type Split = Option<(Box<[u8]>, Node)>;

/// What an insert needs besides the entry, passed down unchanged.
#[derive(Clone, Copy)]
struct Insert {
    fp: u8,
    /// Replace an entry with the same key (else hand the new one back).
    replace: bool,
    /// The new entry's deadline, `u64::MAX` for none.
    deadline: u64,
}

/// Inserts into the subtree at `node`, lowering the deadline bounds on the
/// way down. Returns the replaced entry, and the separator and new right
/// sibling if `node` split. `counts` collects new (leaves, inner nodes).
fn insert_rec(
    node: &mut Node,
    at: Insert,
    entry: Entry,
    counts: &mut (usize, usize),
) -> (Option<Entry>, Split) {
    let Insert { fp, replace, .. } = at;
    match node {
        Node::Leaf(leaf) => match leaf.search(entry.key()) {
            Ok(i) if replace => (Some(std::mem::replace(leaf.entry_mut(i), entry)), None),
            Ok(_) => (Some(entry), None),
            Err(i) if !leaf.is_full() => {
                leaf.insert_at(i, fp, entry);
                (None, None)
            }
            Err(i) => {
                let right = leaf.split_insert(i, fp, entry);
                let sep = separator(leaf.last_key(), right.first_key());
                counts.0 += 1;
                (None, Some((sep, Node::Leaf(right))))
            }
        },
        Node::Inner(inner) => {
            let c = inner.child_for(entry.key());
            inner.bounds[c] = inner.bounds[c].min(at.deadline);
            let (old, split) = insert_rec(&mut inner.children[c], at, entry, counts);
            if let Some((sep, right)) = split {
                // Both halves hold entries the split child's bound covered.
                let bound = inner.bounds[c];
                inner.insert_child(c, sep, right, bound);
                if inner.children.len() > INNER_CAP {
                    let (up, right) = inner.split();
                    counts.1 += 1;
                    return (old, Some((up, Node::Inner(right))));
                }
            }
            (old, None)
        }
    }
}

fn is_underfull(node: &Node) -> bool {
    match node {
        Node::Leaf(leaf) => leaf.len() < LEAF_MIN,
        Node::Inner(inner) => inner.children.len() < INNER_MIN,
    }
}

/// Removes the slot at `steps`/`slot` below `node`, then repairs any child
/// left under-full. `freed` collects removed (leaves, inner nodes).
fn remove_rec(node: &mut Node, steps: &[u16], slot: usize, freed: &mut (usize, usize)) -> Entry {
    match node {
        Node::Leaf(leaf) => leaf.remove_at(slot),
        Node::Inner(inner) => {
            let Some((&first, rest)) = steps.split_first() else {
                unreachable!("path shorter than the tree")
            };
            let c = usize::from(first);
            let entry = remove_rec(&mut inner.children[c], rest, slot, freed);
            if is_underfull(&inner.children[c]) && inner.children.len() > 1 {
                repair(inner, c, freed);
            }
            entry
        }
    }
}

/// Merges child `c` of `inner` with a neighbour, or moves entries from the
/// neighbour into it, so that no non-root node stays under-full.
fn repair(inner: &mut Inner, c: usize, freed: &mut (usize, usize)) {
    let l = if c + 1 < inner.children.len() {
        c
    } else {
        c - 1
    };
    let (left_part, right_part) = inner.children.split_at_mut(l + 1);
    match (&mut left_part[l], &mut right_part[0]) {
        (Node::Leaf(left), Node::Leaf(right)) => {
            let total = left.len() + right.len();
            if total <= LEAF_CAP * 3 / 4 {
                let n = right.len();
                right.move_head_to(n, left);
                left.rebuild_heads();
                drop(inner.remove_child(l));
                freed.0 += 1;
                return;
            }
            let want_left = total / 2;
            if left.len() < want_left {
                right.move_head_to(want_left - left.len(), left);
            } else {
                left.move_tail_to_front(want_left, right);
            }
            left.rebuild_heads();
            right.rebuild_heads();
            let sep = separator(left.last_key(), right.first_key());
            inner.set_key(l, sep);
            // Entries moved one way or the other: each side gets a bound
            // that covers both.
            let bound = inner.bounds[l].min(inner.bounds[l + 1]);
            inner.bounds[l] = bound;
            inner.bounds[l + 1] = bound;
        }
        (Node::Inner(left), Node::Inner(right)) => {
            let total = left.children.len() + right.children.len();
            if total <= INNER_CAP * 3 / 4 {
                left.keys.push(inner.keys[l].clone());
                left.keys.append(&mut right.keys);
                left.children.append(&mut right.children);
                left.bounds.append(&mut right.bounds);
                left.reindex();
                drop(inner.remove_child(l));
                freed.1 += 1;
                return;
            }
            // Rotate children through the parent's separator.
            let want_left = total / 2;
            while left.children.len() < want_left {
                let sep = std::mem::replace(&mut inner.keys[l], right.keys.remove(0));
                left.keys.push(sep);
                left.children.push(right.children.remove(0));
                left.bounds.push(right.bounds.remove(0));
            }
            while left.children.len() > want_left {
                let (Some(k), Some(child), Some(bound)) =
                    (left.keys.pop(), left.children.pop(), left.bounds.pop())
                else {
                    break;
                };
                let sep = std::mem::replace(&mut inner.keys[l], k);
                right.keys.insert(0, sep);
                right.children.insert(0, child);
                right.bounds.insert(0, bound);
            }
            left.reindex();
            right.reindex();
            // Children moved with their own bounds; recompute both sides.
            let bounds = (left.min_bound(), right.min_bound());
            inner.reindex();
            (inner.bounds[l], inner.bounds[l + 1]) = bounds;
        }
        // Siblings are always at the same depth.
        _ => unreachable!("siblings of different kinds"),
    }
}

/// A range of entries, in key order. Each leaf's blocks are prefetched when
/// the iterator enters it, so copying them out overlaps their cache misses.
pub(crate) struct Iter<'a, 'b> {
    stack: SmallVec<[(&'a Inner, usize); 8]>,
    leaf: &'a Leaf,
    pos: usize,
    end: Bound<&'b [u8]>,
    done: bool,
}

/// How many entries ahead of the one being read the iterator prefetches:
/// enough misses in flight to fill the memory pipeline, few enough that a
/// short read does not fetch blocks it never uses.
const PREFETCH_AHEAD: usize = 16;

impl Iter<'_, '_> {
    /// Starts the prefetch window at a newly entered position.
    fn prefetch_leaf(&self) {
        let end = (self.pos + PREFETCH_AHEAD).min(self.leaf.len());
        for i in self.pos..end {
            prefetch(self.leaf.entry(i));
        }
    }

    /// Moves to the first slot of the next leaf; false at the end.
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn fp(key: &[u8]) -> u8 {
        key.iter()
            .fold(7u8, |a, b| a.wrapping_mul(31).wrapping_add(*b))
    }

    fn entry(key: &[u8]) -> Entry {
        Entry::new(key, key, None).expect("small")
    }

    fn remove(t: &mut Tree, key: &[u8]) -> Option<Entry> {
        t.find(fp(key), key).map(|p| t.remove_at(&p))
    }

    /// Random inserts and removes against a `BTreeMap`, checking every
    /// invariant as the tree grows several levels deep and shrinks back.
    #[test]
    fn matches_btreemap_through_growth_and_shrinkage() {
        let mut t = Tree::default();
        let mut model = BTreeMap::new();
        let mut rng = fastrand::Rng::with_seed(12345);
        let mut rnd = |n: u64| rng.u64(..n);
        for round in 0..3 {
            for _ in 0..60_000 {
                let k = format!("key:{:08}", rnd(200_000)).into_bytes();
                let had = model.insert(k.clone(), ()).is_some();
                assert_eq!(t.insert(fp(&k), entry(&k)).is_some(), had);
            }
            assert_eq!(t.check(), model.len());
            let removes = if round == 2 { 1_000_000 } else { 40_000 };
            for _ in 0..removes {
                if model.is_empty() {
                    break;
                }
                let k = format!("key:{:08}", rnd(200_000)).into_bytes();
                assert_eq!(remove(&mut t, &k).is_some(), model.remove(&k).is_some());
            }
            // Remove everything that is left in the last round.
            if round == 2 {
                let keys: Vec<Vec<u8>> = model.keys().cloned().collect();
                for k in keys {
                    assert!(remove(&mut t, &k).is_some());
                    model.remove(&k);
                }
            }
            assert_eq!(t.check(), model.len());
            let got: Vec<Vec<u8>> = t
                .range(Bound::Unbounded, Bound::Unbounded)
                .map(|e| e.key().to_vec())
                .collect();
            let want: Vec<Vec<u8>> = model.keys().cloned().collect();
            assert_eq!(got, want);
        }
        assert_eq!(t.len(), 0);
        assert_eq!((t.leaves, t.inners), (1, 0), "a drained tree is one leaf");
    }

    #[test]
    fn insert_absent_keeps_the_present_entry() {
        let mut t = Tree::default();
        let put = |t: &mut Tree, i: usize, value: &[u8]| {
            let k = format!("k{i:05}").into_bytes();
            let e = Entry::new(&k, value, None).expect("small");
            t.insert_absent(fp(&k), e)
        };
        for i in 0..5_000 {
            assert!(put(&mut t, i, b"first").is_ok());
        }
        for i in (0..10_000).step_by(2) {
            match put(&mut t, i, b"second") {
                Ok(()) => assert!(i >= 5_000),
                Err(back) => {
                    assert!(i < 5_000);
                    assert_eq!(back.value(), b"second", "the new entry comes back");
                }
            }
        }
        assert_eq!(t.check(), 7_500);
        for i in 0..5_000 {
            let k = format!("k{i:05}").into_bytes();
            let e = t.get(fp(&k), &k).expect("present");
            assert_eq!(e.value(), b"first");
        }
    }

    #[test]
    fn ascending_load_fills_leaves() {
        let mut t = Tree::default();
        for i in 0..100_000u32 {
            let k = format!("key:{i:012}").into_bytes();
            t.insert(fp(&k), entry(&k));
        }
        t.check();
        let fill = t.len() as f64 / (t.leaves * LEAF_CAP) as f64;
        assert!(fill > 0.95, "fill {fill}");
    }

    #[test]
    fn interleaved_ascending_streams_fill_leaves() {
        // Writers each loading an ascending range, as the benchmark's
        // threads do; every stream but the last appends below another
        // range's first keys.
        let mut t = Tree::default();
        for i in 0..50_000u32 {
            for base in [0u32, 250_000, 500_000, 750_000] {
                let k = format!("key:{:012}", base + i).into_bytes();
                t.insert(fp(&k), entry(&k));
            }
        }
        t.check();
        let fill = t.len() as f64 / (t.leaves * LEAF_CAP) as f64;
        assert!(fill > 0.9, "fill {fill}");
    }

    #[test]
    fn ranges_honour_every_bound_kind() {
        let mut t = Tree::default();
        let mut model = BTreeMap::new();
        for i in (0..5000u32).step_by(3) {
            let k = format!("{i:05}").into_bytes();
            t.insert(fp(&k), entry(&k));
            model.insert(k, ());
        }
        let probes: Vec<Vec<u8>> = (0..5010u32)
            .step_by(7)
            .map(|i| format!("{i:05}").into_bytes())
            .collect();
        for a in probes.iter().step_by(5) {
            for b in probes.iter().step_by(11) {
                for (s, e) in [
                    (Bound::Included(&a[..]), Bound::Excluded(&b[..])),
                    (Bound::Excluded(&a[..]), Bound::Included(&b[..])),
                    (Bound::Unbounded, Bound::Included(&b[..])),
                    (Bound::Excluded(&a[..]), Bound::Unbounded),
                ] {
                    let got: Vec<&[u8]> = t.range(s, e).map(Entry::key).collect();
                    let valid = match (s, e) {
                        (
                            Bound::Included(x) | Bound::Excluded(x),
                            Bound::Included(y) | Bound::Excluded(y),
                        ) => x <= y,
                        _ => true,
                    };
                    if !valid {
                        continue;
                    }
                    let want: Vec<&[u8]> = model
                        .range::<[u8], _>((s, e))
                        .map(|(k, _)| &k[..])
                        .collect();
                    assert_eq!(got, want);
                }
            }
        }
    }

    #[test]
    fn keys_sharing_long_prefixes_and_binary_keys() {
        let mut t = Tree::default();
        let mut model = BTreeMap::new();
        let long = vec![b'p'; 70_000];
        for i in 0..3000u32 {
            let mut k = if i % 3 == 0 {
                long.clone()
            } else {
                b"x".to_vec()
            };
            k.extend_from_slice(&i.to_be_bytes());
            if i % 5 == 0 {
                k.truncate(k.len() - 1);
            }
            let had = model.insert(k.clone(), ()).is_some();
            assert_eq!(t.insert(fp(&k), entry(&k)).is_some(), had);
        }
        t.check();
        for k in model.keys() {
            assert_eq!(t.get(fp(k), k).map(Entry::key), Some(&k[..]));
        }
        assert!(t.get(fp(b"x"), b"x").is_none());
    }
}
