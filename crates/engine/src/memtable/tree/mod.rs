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

mod balance;
mod bulk;
#[cfg(test)]
mod check;
mod due;
mod heads;
mod inner;
mod iter;
mod leaf;

use crate::entry::Entry;
use balance::{insert_rec, remove_rec, Insert};
pub(crate) use heads::common_prefix;
pub(crate) use inner::Node;
use inner::{Inner, INNER_CAP};
pub(crate) use iter::Iter;
pub(crate) use leaf::Leaf;
use leaf::{prefetch, prefetch_head, prefetch_header, prefetch_leaf, prefetch_slot, LEAF_CAP};
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
    #[expect(clippy::indexing_slicing, reason = "`child_for` returns a child index")]
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

    #[expect(
        clippy::indexing_slicing,
        reason = "a `Path` holds child indexes from a descent of this tree, valid until the tree changes"
    )]
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

    #[expect(
        clippy::indexing_slicing,
        reason = "a `Path` holds child indexes from a descent of this tree, valid until the tree changes"
    )]
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

    /// `n` entries picked at random, as `random` picks one, appended to
    /// `out`; their cache misses overlap. Independent descents would pay
    /// a leaf's miss, then its slot's, then the block's, one after
    /// another for each pick (about fifteen misses for Redis's five
    /// samples): here the picks go in three waves (every leaf's header
    /// line, then every chosen slot's line, then every block), each wave's
    /// misses at once. Only the lines needed are fetched: a whole leaf is
    /// twelve, and sixty prefetches at once fill the core's miss buffers
    /// and stall it.
    pub(crate) fn sample<'t>(
        &'t self,
        n: usize,
        pick: &mut impl FnMut(usize) -> usize,
        out: &mut SmallVec<[&'t Entry; 16]>,
    ) {
        if self.len == 0 {
            return;
        }
        let mut leaves: SmallVec<[&Leaf; 16]> = SmallVec::new();
        for _ in 0..n {
            let mut node = &self.root;
            while let Node::Inner(inner) = node {
                let k = inner.children.len();
                let Some(child) = inner.children.get(pick(k).min(k.saturating_sub(1))) else {
                    break;
                };
                node = child;
            }
            if let Node::Leaf(leaf) = node {
                prefetch_header(leaf);
                leaves.push(leaf);
            }
        }
        let mut slots: SmallVec<[(&Leaf, usize); 16]> = SmallVec::new();
        for leaf in leaves {
            let k = leaf.len();
            if k > 0 {
                let i = pick(k).min(k - 1);
                prefetch_slot(leaf, i);
                slots.push((leaf, i));
            }
        }
        for (leaf, i) in slots {
            let e = leaf.entry(i);
            prefetch_head(e);
            out.push(e);
        }
    }

    /// The path to the entry with the smallest key.
    #[expect(
        clippy::indexing_slicing,
        reason = "every inner node has a first child"
    )]
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
    #[expect(
        clippy::indexing_slicing,
        reason = "`child_for` returns a child index, and every inner node has a first child"
    )]
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
