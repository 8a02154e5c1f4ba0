//! The tree as a timer index: finding the entries whose deadline passed.
//!
//! Owns the deadline bounds' meaning and their upkeep outside inserts and
//! rebalancing (which `mod.rs` does as it moves children). Every inner
//! node keeps, per child, a *lower bound* on the deadlines in that
//! subtree, and the tree keeps one for its root. A bound only has to be
//! lowered to stay true: an insert lowers the bounds on its path, an entry
//! given an earlier deadline in place lowers them along its `Path`, and a
//! removal or a later deadline changes nothing. A bound that became too
//! low costs one wasted descent, which then tightens it.
//!
//! Why not a separate timing wheel or deadline-ordered set: either needs
//! 16 to 25 bytes per volatile key (a pointer or key plus a deadline, and
//! the structure's slack), and pointers from it into entry blocks would
//! have to follow every block that moves or is freed. The bounds cost
//! 8 bytes per tree *node* (about 0.2 bytes per key), nothing can dangle,
//! and the deadline itself stays where it was, in the entry.

use super::{Node, Path, Tree};
use crate::entry::Entry;
use bytes::Bytes;

impl Tree {
    /// A lower bound on every deadline in the tree (`u64::MAX`: none). The
    /// earliest real deadline may be later; never earlier.
    pub(crate) fn next_deadline(&self) -> u64 {
        self.root_bound
    }

    /// Heap bytes the deadline bounds take: one `u64` per child of every
    /// inner node (every node but the root is one), and the root's.
    pub(crate) fn timer_bytes(&self) -> usize {
        8 * (self.leaves + self.inners)
    }

    /// Records that the entry at `path` now has deadline `deadline`.
    #[expect(
        clippy::indexing_slicing,
        reason = "path steps come from a descent of this unchanged tree, so each is a child index, and `bounds` runs parallel to `children`"
    )]
    pub(crate) fn lower_deadline(&mut self, path: &Path, deadline: u64) {
        self.root_bound = self.root_bound.min(deadline);
        let mut node = &mut self.root;
        for &s in &path.steps {
            match node {
                Node::Inner(inner) => {
                    let c = usize::from(s);
                    inner.bounds[c] = inner.bounds[c].min(deadline);
                    node = &mut inner.children[c];
                }
                Node::Leaf(_) => break,
            }
        }
    }

    /// Appends to `out` the keys of up to `limit` entries expired at `now`
    /// (deadline before `now`, as `Entry::is_expired`), in key order. The
    /// caller must remove every key it is given before it releases the
    /// shard: the bounds of the subtrees visited are tightened to the
    /// earliest deadline *not* reported.
    pub(crate) fn collect_due(&mut self, now: u64, limit: usize, out: &mut Vec<Bytes>) {
        if self.root_bound >= now || out.len() >= limit {
            return;
        }
        self.root_bound = due_rec(&mut self.root, now, limit, out);
    }

    /// An entry with a deadline, picked at random (the volatile eviction
    /// policies' sample, Redis's pick from `db->expires`): a descent that
    /// enters only children whose bound says they may hold one, in a
    /// random order, then the first entry with a deadline from a random
    /// slot of the leaf on. A bound left too low (a split copies its
    /// leaf's bound to both halves; a removal never raises one) may lead
    /// to a leaf without any: the descent then backs up and tries the
    /// next child, up to `VOLATILE_LEAVES` leaves, and answers `None`
    /// only if those held none.
    pub(crate) fn random_volatile(&self, pick: &mut impl FnMut(usize) -> usize) -> Option<&Entry> {
        if self.root_bound == u64::MAX {
            return None;
        }
        let mut budget = VOLATILE_LEAVES;
        volatile_rec(&self.root, pick, &mut budget)
    }
}

/// Leaves one `random_volatile` looks into at most.
const VOLATILE_LEAVES: usize = 8;

/// `random_volatile` below `node`, spending `budget` leaves.
fn volatile_rec<'t>(
    node: &'t Node,
    pick: &mut impl FnMut(usize) -> usize,
    budget: &mut usize,
) -> Option<&'t Entry> {
    match node {
        Node::Inner(inner) => {
            let n = inner.children.len();
            let start = pick(n.max(1)).min(n.saturating_sub(1));
            for i in 0..n {
                let c = (start + i) % n;
                if *budget == 0 {
                    return None;
                }
                if inner.bounds.get(c).is_none_or(|b| *b == u64::MAX) {
                    continue;
                }
                let found = inner
                    .children
                    .get(c)
                    .and_then(|child| volatile_rec(child, pick, budget));
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        Node::Leaf(leaf) => {
            *budget = budget.saturating_sub(1);
            let n = leaf.len();
            if n == 0 {
                return None;
            }
            let start = pick(n).min(n - 1);
            (0..n)
                .map(|i| leaf.entry((start + i) % n))
                .find(|e| e.expiry().is_some())
        }
    }
}

/// Reports due entries below `node` and returns a new bound for what is
/// left there.
fn due_rec(node: &mut Node, now: u64, limit: usize, out: &mut Vec<Bytes>) -> u64 {
    match node {
        Node::Leaf(leaf) => {
            // Each deadline sits in its entry's block: start all the loads
            // before reading the first.
            for e in leaf.entries() {
                super::prefetch(e);
            }
            let mut bound = u64::MAX;
            for e in leaf.entries() {
                let Some(t) = e.expiry() else { continue };
                if t < now && out.len() < limit {
                    out.push(Bytes::copy_from_slice(Entry::key(e)));
                } else {
                    bound = bound.min(t);
                }
            }
            bound
        }
        Node::Inner(inner) => {
            for (bound, child) in inner.bounds.iter_mut().zip(&mut inner.children) {
                if out.len() >= limit {
                    break;
                }
                if *bound < now {
                    *bound = due_rec(child, now, limit, out);
                }
            }
            inner.min_bound()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Tree;
    use crate::entry::{Entry, Patch};
    use std::collections::BTreeMap;

    fn fp(key: &[u8]) -> u8 {
        key.first().copied().unwrap_or(0) ^ key.last().copied().unwrap_or(0)
    }

    /// Random inserts (some with deadlines), removals, deadline changes in
    /// place, and reaping, checked against a model: every reap returns
    /// exactly the model's expired keys, and the bounds stay true.
    #[test]
    fn reaping_matches_a_model_through_churn() {
        let mut t = Tree::default();
        let mut model: BTreeMap<Vec<u8>, Option<u64>> = BTreeMap::new();
        let mut rng = fastrand::Rng::with_seed(0x9e37_79b9);
        let mut rnd = |n: u64| rng.u64(..n);
        let mut now = 1_000u64;
        for round in 0..40 {
            for _ in 0..5_000 {
                let k = format!("k{:06}", rnd(40_000)).into_bytes();
                let op = rnd(10);
                let deadline = (rnd(3) > 0).then(|| now + 1 + rnd(5_000));
                if op < 6 {
                    let e = Entry::new(&k, b"v", deadline).expect("small");
                    t.insert(fp(&k), e);
                    model.insert(k, deadline);
                } else if op < 8 {
                    if let Some(p) = t.find(fp(&k), &k) {
                        drop(t.remove_at(&p));
                    }
                    model.remove(&k);
                } else if let Some(p) = t.find(fp(&k), &k) {
                    // A new deadline (or none) in place, as EXPIRE/PERSIST.
                    let patch = Patch {
                        value: None,
                        expiry: Some(deadline),
                        version: 1,
                    };
                    let entry = t.at_mut(&p);
                    if let Ok(crate::entry::Applied::Moved(e)) = entry.apply(patch) {
                        *entry = e;
                    }
                    if let Some(d) = deadline {
                        t.lower_deadline(&p, d);
                    }
                    model.insert(k, deadline);
                }
            }
            t.check();
            now += 1 + rnd(2_000);
            // Reap in small batches, as the reaper does, until nothing is due.
            let mut got = Vec::new();
            loop {
                let mut batch = Vec::new();
                t.collect_due(now, 1 + round * 7, &mut batch);
                if batch.is_empty() {
                    break;
                }
                for k in &batch {
                    let p = t.find(fp(k), k).expect("reported keys exist");
                    drop(t.remove_at(&p));
                }
                got.extend(batch.into_iter().map(|b| b.to_vec()));
            }
            got.sort();
            let want: Vec<Vec<u8>> = model
                .iter()
                .filter(|(_, d)| d.is_some_and(|d| d < now))
                .map(|(k, _)| k.clone())
                .collect();
            assert_eq!(got, want, "round {round}");
            model.retain(|_, d| d.is_none_or(|d| d >= now));
            assert_eq!(t.check(), model.len());
            let earliest = model.values().flatten().min().copied();
            assert!(earliest.is_none_or(|e| t.next_deadline() <= e));
        }
    }

    #[test]
    fn random_volatile_picks_only_entries_with_deadlines_and_reaches_them_all() {
        let mut t = Tree::default();
        let mut rng = fastrand::Rng::with_seed(7);
        let mut pick = |n: usize| rng.usize(..n);
        assert!(t.random_volatile(&mut pick).is_none());
        for i in 0..20_000u32 {
            let k = format!("k{i:05}").into_bytes();
            let deadline = (i % 100 == 0).then_some(u64::from(i));
            t.insert(fp(&k), Entry::new(&k, b"v", deadline).expect("small"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..5_000 {
            // Splits left half the leaves with a bound but no deadline:
            // the descent backs up out of them.
            let e = t.random_volatile(&mut pick).expect("200 have deadlines");
            assert!(e.expiry().is_some());
            seen.insert(e.key().to_vec());
        }
        assert_eq!(seen.len(), 200, "every volatile entry can be picked");
    }

    #[test]
    fn a_tree_without_deadlines_is_never_visited() {
        let mut t = Tree::default();
        for i in 0..10_000u32 {
            let k = format!("k{i:05}").into_bytes();
            t.insert(fp(&k), Entry::new(&k, b"v", None).expect("small"));
        }
        assert_eq!(t.next_deadline(), u64::MAX);
        let mut out = Vec::new();
        t.collect_due(u64::MAX, 10, &mut out);
        assert!(out.is_empty());
    }
}
