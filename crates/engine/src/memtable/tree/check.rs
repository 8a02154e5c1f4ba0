//! The tree's invariant checker, for tests only.
//!
//! Owns the statement of every structural invariant of a `Tree` (fences,
//! even depth, fill, deadline bounds, the entry count). It must never be
//! compiled into non-test code or change the tree.

use super::{Node, Tree, INNER_CAP};

impl Tree {
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
