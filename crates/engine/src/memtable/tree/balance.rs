//! The recursive descents that change a `Tree` and keep it balanced.
//!
//! Owns splitting full nodes on the way back up from an insert, and
//! merging or refilling under-full ones after a remove, with the per-child
//! deadline bounds kept covering the entries below them. It must never
//! search for keys on its own: callers pass a path or a key already routed.

use super::inner::{separator, Inner, Node, INNER_CAP, INNER_MIN};
use super::leaf::{LEAF_CAP, LEAF_MIN};
use crate::entry::Entry;

pub(super) type Split = Option<(Box<[u8]>, Node)>;

/// What an insert needs besides the entry, passed down unchanged.
#[derive(Clone, Copy)]
pub(super) struct Insert {
    pub(super) fp: u8,
    /// Replace an entry with the same key (else hand the new one back).
    pub(super) replace: bool,
    /// The new entry's deadline, `u64::MAX` for none.
    pub(super) deadline: u64,
}

/// Inserts into the subtree at `node`, lowering the deadline bounds on the
/// way down. Returns the replaced entry, and the separator and new right
/// sibling if `node` split. `counts` collects new (leaves, inner nodes).
#[expect(
    clippy::indexing_slicing,
    reason = "`child_for` returns an index below `children.len() == bounds.len()`"
)]
pub(super) fn insert_rec(
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
#[expect(
    clippy::indexing_slicing,
    reason = "path steps come from a descent of this unchanged tree, so each is a child index"
)]
pub(super) fn remove_rec(
    node: &mut Node,
    steps: &[u16],
    slot: usize,
    freed: &mut (usize, usize),
) -> Entry {
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
#[expect(
    clippy::indexing_slicing,
    reason = "`c` is a child of a node with at least two, so `l` and `l + 1` are children and `l` a separator (`keys.len() + 1 == children.len() == bounds.len()`)"
)]
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
