//! Building a whole tree at once from entries already in key order.
//!
//! Owns the bottom-up build an import uses for an empty shard: leaves
//! filled in one pass, then each inner level over the one below, with
//! separators and deadline bounds as inserts would have left them. One
//! descent per key, with its key compares and splits, costs about a
//! microsecond at a million keys; this reads each entry once (its key for
//! the leaf's heads, its deadline for the bounds) and compares no keys
//! but a leaf's edges. It must never be given entries out of order or a
//! key twice: callers sort and dedupe (debug builds check the order where
//! leaves meet).

use super::inner::{separator, Inner, Node, INNER_CAP};
use super::leaf::{Leaf, LEAF_CAP};
use super::Tree;
use crate::entry::Entry;

/// A node of the level being built, with the lowest deadline below it.
struct Built {
    node: Node,
    bound: u64,
}

/// `total` items shared as evenly as possible among the fewest groups of
/// at most `cap`: group sizes, in order. Even shares keep every group at
/// least half full, above the rebalancing minimum of a quarter.
fn shares(total: usize, cap: usize) -> impl Iterator<Item = usize> {
    let groups = total.div_ceil(cap).max(1);
    let (base, extra) = (total / groups, total % groups);
    (0..groups).map(move |g| base + usize::from(g < extra))
}

impl Tree {
    /// A tree holding `entries` (with their fingerprints), which are in
    /// ascending key order with no key twice.
    pub(crate) fn from_sorted(mut items: impl ExactSizeIterator<Item = (u8, Entry)>) -> Tree {
        let len = items.len();
        if len == 0 {
            return Tree::default();
        }
        let mut level: Vec<Built> = Vec::with_capacity(len.div_ceil(LEAF_CAP));
        // `seps[i]` divides `level[i]` from `level[i + 1]`.
        let mut seps: Vec<Box<[u8]>> = Vec::with_capacity(level.capacity());
        for n in shares(len, LEAF_CAP) {
            let leaf = Leaf::filled(items.by_ref().take(n));
            let bound = leaf
                .entries()
                .filter_map(Entry::expiry)
                .min()
                .unwrap_or(u64::MAX);
            if let Some(prev) = level.last() {
                if let Node::Leaf(prev) = &prev.node {
                    debug_assert!(prev.last_key() < leaf.first_key(), "entries out of order");
                    seps.push(separator(prev.last_key(), leaf.first_key()));
                }
            }
            level.push(Built {
                node: Node::Leaf(leaf),
                bound,
            });
        }
        let leaves = level.len();
        let mut inners = 0;
        while level.len() > 1 {
            let mut children = level.into_iter();
            let mut keys = seps.into_iter();
            let count = children.len();
            let mut up: Vec<Built> = Vec::with_capacity(count.div_ceil(INNER_CAP));
            let mut up_seps: Vec<Box<[u8]>> = Vec::with_capacity(up.capacity());
            for n in shares(count, INNER_CAP) {
                let group: Vec<Built> = children.by_ref().take(n).collect();
                let inner_keys: Vec<Box<[u8]>> = keys.by_ref().take(n - 1).collect();
                // The separator after this group divides it from the next.
                if let Some(sep) = keys.next() {
                    up_seps.push(sep);
                }
                let bounds: Vec<u64> = group.iter().map(|b| b.bound).collect();
                let bound = bounds.iter().copied().min().unwrap_or(u64::MAX);
                let nodes = group.into_iter().map(|b| b.node).collect();
                up.push(Built {
                    node: Node::Inner(Inner::new(inner_keys, nodes, bounds)),
                    bound,
                });
                inners += 1;
            }
            level = up;
            seps = up_seps;
        }
        let Some(root) = level.pop() else {
            return Tree::default();
        };
        Tree {
            root: root.node,
            root_bound: root.bound,
            len,
            leaves,
            inners,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ops::Bound;

    fn fp(key: &[u8]) -> u8 {
        key.iter()
            .fold(7u8, |a, b| a.wrapping_mul(31).wrapping_add(*b))
    }

    fn built(keys: &[Vec<u8>]) -> Tree {
        let entries: Vec<(u8, Entry)> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let deadline = (i % 7 == 3).then_some(1_000_000 + (i as u64 * 7919) % 10_000);
                (fp(k), Entry::new(k, b"v", deadline).expect("small"))
            })
            .collect();
        Tree::from_sorted(entries.into_iter())
    }

    #[test]
    fn every_size_builds_a_valid_tree() {
        // Around every leaf and inner boundary: one leaf, two, a full
        // inner level, and a third level.
        let sizes = [
            0,
            1,
            2,
            LEAF_CAP - 1,
            LEAF_CAP,
            LEAF_CAP + 1,
            2 * LEAF_CAP + 1,
            LEAF_CAP * INNER_CAP,
            LEAF_CAP * INNER_CAP + 1,
            LEAF_CAP * INNER_CAP * 2 + 17,
        ];
        for n in sizes {
            let keys: Vec<Vec<u8>> = (0..n).map(|i| format!("key:{i:09}").into_bytes()).collect();
            let t = built(&keys);
            assert_eq!(t.check(), n, "size {n}");
            let got: Vec<Vec<u8>> = t
                .range(Bound::Unbounded, Bound::Unbounded)
                .map(|e| e.key().to_vec())
                .collect();
            assert_eq!(got, keys, "size {n}");
            for k in keys.iter().step_by(97) {
                assert!(t.get(fp(k), k).is_some(), "size {n}: {k:?}");
            }
            let deadlines = keys
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 7 == 3)
                .map(|(i, _)| 1_000_000 + (i as u64 * 7919) % 10_000)
                .min()
                .unwrap_or(u64::MAX);
            assert_eq!(t.next_deadline(), deadlines, "size {n}");
        }
    }

    #[test]
    fn a_built_tree_takes_inserts_and_removes_like_any_other() {
        let mut rng = fastrand::Rng::with_seed(7);
        let mut model = std::collections::BTreeSet::new();
        while model.len() < 40_000 {
            model.insert(format!("k{}", rng.u32(..1_000_000)).into_bytes());
        }
        let keys: Vec<Vec<u8>> = model.iter().cloned().collect();
        let mut t = built(&keys);
        t.check();
        for _ in 0..60_000 {
            let k = format!("k{}", rng.u32(..1_000_000)).into_bytes();
            if rng.bool() {
                let had = !model.insert(k.clone());
                let e = Entry::new(&k, b"w", None).expect("small");
                assert_eq!(t.insert(fp(&k), e).is_some(), had);
            } else {
                let gone = t.find(fp(&k), &k).map(|p| t.remove_at(&p));
                assert_eq!(gone.is_some(), model.remove(&k));
            }
        }
        assert_eq!(t.check(), model.len());
        let got: Vec<Vec<u8>> = t
            .range(Bound::Unbounded, Bound::Unbounded)
            .map(|e| e.key().to_vec())
            .collect();
        assert_eq!(got, model.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn keys_with_long_shared_prefixes_and_binary_bytes() {
        let mut keys: Vec<Vec<u8>> = (0..5_000u32)
            .map(|i| {
                let mut k = if i % 3 == 0 {
                    vec![b'p'; 300]
                } else {
                    b"x".to_vec()
                };
                k.extend_from_slice(&i.to_be_bytes());
                k
            })
            .collect();
        keys.push(Vec::new());
        keys.sort();
        keys.dedup();
        let t = built(&keys);
        assert_eq!(t.check(), keys.len());
        for k in &keys {
            assert_eq!(t.get(fp(k), k).map(Entry::key), Some(&k[..]));
        }
    }
}
