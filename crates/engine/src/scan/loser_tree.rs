//! `LoserTree`: which unit cursor holds the smallest key.
//!
//! Owns the tournament over the merge's cursors and the flat array of
//! their current key windows. It must never read or lock shards: it only
//! compares what the cursors already copied.

use super::shard_cursor::ShardCursor;

/// A loser tree (tournament tree) over the cursors, ordered by each
/// cursor's current key; a cursor with nothing left counts as +infinity.
/// Taking the smallest key and replaying its cursor costs one comparison
/// per level, log2(cursors), half a binary heap's sift-down. Each leaf's
/// current key window (see `MergeCursor::offset`) sits in one flat array,
/// so a comparison is one integer comparison unless the windows are equal.
#[derive(Default)]
pub(super) struct LoserTree {
    /// Leaves, rounded up to a power of two (the padding is +infinity).
    k: usize,
    /// `nodes[0]` is the winner; `nodes[1..k]` hold each match's loser.
    nodes: Vec<usize>,
    /// The current key window of every leaf, `u64::MAX` when it has none.
    windows: Vec<u64>,
}

impl LoserTree {
    /// Whether leaf `a`'s current key sorts before leaf `b`'s.
    #[inline]
    #[expect(
        clippy::indexing_slicing,
        reason = "leaves are below `k`, the length of `windows` (`build` sizes it)"
    )]
    fn before(&self, a: usize, b: usize, cursors: &[ShardCursor], bufs: &[Vec<u8>]) -> bool {
        let (wa, wb) = (self.windows[a], self.windows[b]);
        if wa != wb {
            return wa < wb;
        }
        // Equal windows: an exhausted leaf or padding is larger than any
        // key; two keys compare in full.
        let live = |i: usize| cursors.get(i).filter(|c| c.has_item());
        match (live(a), live(b)) {
            (Some(ca), Some(cb)) => ca.key(bufs) < cb.key(bufs),
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    /// Re-reads leaf `i`'s window from its cursor.
    #[expect(
        clippy::indexing_slicing,
        reason = "callers pass a leaf below `k`, the length of `windows`"
    )]
    fn refresh(&mut self, i: usize, cursors: &[ShardCursor]) {
        self.windows[i] = match cursors.get(i) {
            Some(c) if c.has_item() => c.window(),
            _ => u64::MAX,
        };
    }

    /// Refreshes every window (after the window offset changed).
    pub(super) fn refresh_all(&mut self, cursors: &[ShardCursor]) {
        for i in 0..cursors.len().min(self.windows.len()) {
            self.refresh(i, cursors);
        }
    }

    /// Plays every match from scratch.
    #[expect(
        clippy::indexing_slicing,
        reason = "`winners` has `2k` slots and `nodes` `k`: node `n` in `1..k` has children `2n + 1 < 2k`"
    )]
    pub(super) fn build(&mut self, cursors: &[ShardCursor], bufs: &[Vec<u8>]) {
        self.k = cursors.len().max(1).next_power_of_two();
        self.nodes = vec![0; self.k];
        self.windows = vec![u64::MAX; self.k];
        self.refresh_all(cursors);
        // winners[i] for the subtree rooted at i, leaves at k..2k.
        let mut winners: Vec<usize> = vec![0; 2 * self.k];
        for (leaf, w) in winners[self.k..].iter_mut().enumerate() {
            *w = leaf;
        }
        for node in (1..self.k).rev() {
            let (l, r) = (winners[2 * node], winners[2 * node + 1]);
            let (win, lose) = if self.before(r, l, cursors, bufs) {
                (r, l)
            } else {
                (l, r)
            };
            winners[node] = win;
            self.nodes[node] = lose;
        }
        self.nodes[0] = winners[1];
    }

    /// The cursor with the smallest key, if any has one.
    pub(super) fn winner(&self, cursors: &[ShardCursor]) -> Option<usize> {
        let w = *self.nodes.first()?;
        cursors.get(w).filter(|c| c.has_item()).map(|_| w)
    }

    /// Replays the matches on the winner's path after its cursor moved.
    #[expect(
        clippy::indexing_slicing,
        reason = "`node` starts at a leaf's parent, `(leaf + k) / 2 < k`, and halves, so it stays below `k`, the length of `nodes`"
    )]
    pub(super) fn replay(&mut self, cursors: &[ShardCursor], bufs: &[Vec<u8>]) {
        let Some(&popped) = self.nodes.first() else {
            return;
        };
        self.refresh(popped, cursors);
        let mut winner = popped;
        let mut node = (popped + self.k) / 2;
        while node > 0 {
            let other = self.nodes[node];
            if self.before(other, winner, cursors, bufs) {
                self.nodes[node] = winner;
                winner = other;
            }
            node /= 2;
        }
        self.nodes[0] = winner;
    }
}
