//! `Order`: a big sorted set's members in (score, member) order, with
//! ranks.
//!
//! Owns the ordered side of Redis's `skiplist` encoding. Items sit in
//! sorted chunks of at most `CHUNK_MAX`, the chunks in runs of at most
//! `RUN_MAX`, and a Fenwick tree over the runs' lengths gives the number
//! of items before any run: a B-tree of fixed height three. Finding an
//! item, its rank, or the item at a rank is a binary search per level
//! plus a walk of at most `RUN_MAX` chunk lengths, O(log N); an insert or
//! removal moves at most a chunk's items. It must never hold an item
//! twice or out of order; the caller (`zset.rs`) keeps it in step with
//! the member index.

use super::packed::Packed;
use std::cmp::Ordering;

/// Items a chunk holds before it splits in two.
const CHUNK_MAX: usize = 256;
/// Chunks a run holds before it splits in two.
const RUN_MAX: usize = 64;

/// Orders (score, member) pairs as Redis does: by score, then by the
/// members' bytes. Scores are never NaN.
pub(crate) fn cmp_items(a: (f64, &[u8]), b: (f64, &[u8])) -> Ordering {
    a.0.partial_cmp(&b.0)
        .unwrap_or(Ordering::Equal)
        .then_with(|| a.1.cmp(b.1))
}

/// One member and its score.
#[derive(Clone)]
pub(crate) struct Item {
    pub(crate) score: f64,
    member: Packed,
}

impl Item {
    pub(crate) fn member(&self) -> &[u8] {
        self.member.field()
    }

    fn key(&self) -> (f64, &[u8]) {
        (self.score, self.member())
    }
}

#[derive(Clone, Default)]
struct Run {
    chunks: Vec<Vec<Item>>,
    len: usize,
}

impl Run {
    fn last(&self) -> Option<&Item> {
        self.chunks.last().and_then(|c| c.last())
    }
}

/// Items in order, with ranks (see the module header).
#[derive(Clone, Default)]
pub(crate) struct Order {
    runs: Vec<Run>,
    /// Fenwick tree over the runs' lengths (1-based inside).
    tree: Vec<usize>,
    len: usize,
    /// Item slots allocated across every chunk (their capacities), kept
    /// as they change: a sorted set's footprint is read on every write.
    slots: usize,
}

impl std::fmt::Debug for Order {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Order")
            .field("len", &self.len)
            .field("runs", &self.runs.len())
            .finish()
    }
}

/// Where an item is, or would go.
struct Place {
    run: usize,
    chunk: usize,
    at: usize,
    found: bool,
}

impl Order {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Heap bytes held by the ordering itself (items' slots, not the
    /// members' bytes, which `zset.rs` counts).
    pub(crate) fn slot_bytes(&self) -> usize {
        self.slots * std::mem::size_of::<Item>()
    }

    fn rebuild_tree(&mut self) {
        let n = self.runs.len();
        self.tree = vec![0; n + 1];
        for (i, run) in self.runs.iter().enumerate() {
            let mut j = i + 1;
            let add = run.len;
            while j <= n {
                if let Some(t) = self.tree.get_mut(j) {
                    *t += add;
                }
                j += j & j.wrapping_neg();
            }
        }
    }

    fn tree_add(&mut self, run: usize, up: bool) {
        let mut j = run + 1;
        while let Some(t) = self.tree.get_mut(j) {
            if up {
                *t += 1;
            } else {
                *t -= 1;
            }
            j += j & j.wrapping_neg();
        }
    }

    /// Items in the runs before `run`.
    fn before_run(&self, run: usize) -> usize {
        let mut j = run;
        let mut sum = 0;
        while j > 0 {
            sum += self.tree.get(j).copied().unwrap_or(0);
            j &= j - 1;
        }
        sum
    }

    /// The run holding rank `rank`, and the rank's offset in it.
    fn run_at(&self, mut rank: usize) -> Option<(usize, usize)> {
        if rank >= self.len {
            return None;
        }
        let n = self.runs.len();
        let mut pos = 0;
        let mut step = n.next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next <= n {
                let t = self.tree.get(next).copied().unwrap_or(0);
                if t <= rank {
                    pos = next;
                    rank -= t;
                }
            }
            step >>= 1;
        }
        Some((pos, rank))
    }

    /// Items before the first item for which `below` is false; `below`
    /// must hold for a prefix of the order (true, then false).
    pub(crate) fn count_below(&self, below: impl Fn(f64, &[u8]) -> bool) -> usize {
        let test = |item: &Item| below(item.score, item.member());
        let run = self.runs.partition_point(|r| r.last().is_some_and(&test));
        let Some(r) = self.runs.get(run) else {
            return self.len;
        };
        let chunk = r.chunks.partition_point(|c| c.last().is_some_and(&test));
        let in_run: usize = r.chunks.iter().take(chunk).map(Vec::len).sum();
        let at = r.chunks.get(chunk).map_or(0, |c| c.partition_point(&test));
        self.before_run(run) + in_run + at
    }

    fn locate(&self, key: (f64, &[u8])) -> Place {
        let below = |item: &Item| cmp_items(item.key(), key) == Ordering::Less;
        let last_run = self.runs.len().saturating_sub(1);
        let run = self
            .runs
            .partition_point(|r| r.last().is_some_and(below))
            .min(last_run);
        let Some(r) = self.runs.get(run) else {
            return Place {
                run: 0,
                chunk: 0,
                at: 0,
                found: false,
            };
        };
        let chunk = r
            .chunks
            .partition_point(|c| c.last().is_some_and(below))
            .min(r.chunks.len().saturating_sub(1));
        let (at, found) = match r.chunks.get(chunk) {
            Some(c) => match c.binary_search_by(|item| cmp_items(item.key(), key)) {
                Ok(at) => (at, true),
                Err(at) => (at, false),
            },
            None => (0, false),
        };
        Place {
            run,
            chunk,
            at,
            found,
        }
    }

    /// The rank of `member` at `score`, if it is there.
    pub(crate) fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        let p = self.locate((score, member));
        if !p.found {
            return None;
        }
        let r = self.runs.get(p.run)?;
        let in_run: usize = r.chunks.iter().take(p.chunk).map(Vec::len).sum();
        Some(self.before_run(p.run) + in_run + p.at)
    }

    /// Adds `member` at `score`; it must not be there.
    pub(crate) fn insert(&mut self, score: f64, member: &[u8]) {
        let item = Item {
            score,
            member: Packed::new(member, b""),
        };
        if self.runs.is_empty() {
            let chunk = vec![item];
            self.slots = chunk.capacity();
            self.runs.push(Run {
                chunks: vec![chunk],
                len: 1,
            });
            self.len = 1;
            self.rebuild_tree();
            return;
        }
        let p = self.locate((score, member));
        let mut restructured = false;
        if let Some(run) = self.runs.get_mut(p.run) {
            if run.chunks.is_empty() {
                run.chunks.push(Vec::new());
            }
            if let Some(chunk) = run.chunks.get_mut(p.chunk) {
                let before = chunk.capacity();
                chunk.insert(p.at.min(chunk.len()), item);
                if chunk.len() > CHUNK_MAX {
                    let tail = chunk.split_off(CHUNK_MAX / 2);
                    // The insert that filled it doubled its capacity: the
                    // half left behind would sit in a quarter of it.
                    chunk.shrink_to_fit();
                    self.slots = self.slots + chunk.capacity() + tail.capacity() - before;
                    run.chunks.insert(p.chunk + 1, tail);
                } else {
                    self.slots = self.slots + chunk.capacity() - before;
                }
            }
            run.len += 1;
            if run.chunks.len() > RUN_MAX {
                let tail = run.chunks.split_off(RUN_MAX / 2);
                let moved: usize = tail.iter().map(Vec::len).sum();
                run.len -= moved;
                self.runs.insert(
                    p.run + 1,
                    Run {
                        chunks: tail,
                        len: moved,
                    },
                );
                restructured = true;
            }
        }
        self.len += 1;
        if restructured {
            self.rebuild_tree();
        } else {
            self.tree_add(p.run, true);
        }
    }

    /// Removes `member` at `score`; whether it was there.
    pub(crate) fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        let p = self.locate((score, member));
        if !p.found {
            return false;
        }
        self.remove_at(p.run, p.chunk, p.at).is_some()
    }

    /// Removes and returns the item at rank `rank`, found by rank rather
    /// than searched for by key: ZPOPMIN's and ZPOPMAX's first or last.
    pub(crate) fn take_at(&mut self, rank: usize) -> Option<Item> {
        let (run, mut offset) = self.run_at(rank)?;
        let mut chunk_i = 0;
        for chunk in &self.runs.get(run)?.chunks {
            if offset < chunk.len() {
                break;
            }
            offset -= chunk.len();
            chunk_i += 1;
        }
        self.remove_at(run, chunk_i, offset)
    }

    fn remove_at(&mut self, run_i: usize, chunk_i: usize, at: usize) -> Option<Item> {
        let mut restructured = false;
        let mut taken = None;
        if let Some(run) = self.runs.get_mut(run_i) {
            if let Some(chunk) = run.chunks.get_mut(chunk_i) {
                if at < chunk.len() {
                    taken = Some(chunk.remove(at));
                    run.len -= 1;
                    self.len -= 1;
                }
                let small = chunk.len() < CHUNK_MAX / 8;
                if chunk.is_empty() {
                    self.slots -= chunk.capacity();
                    run.chunks.remove(chunk_i);
                } else if small {
                    // Merged with the next chunk while both fit in one, so
                    // removals never leave a trail of near-empty chunks.
                    let fits = run
                        .chunks
                        .get(chunk_i + 1)
                        .is_some_and(|next| next.len() + CHUNK_MAX / 8 <= CHUNK_MAX);
                    if fits {
                        let next = run.chunks.remove(chunk_i + 1);
                        if let Some(chunk) = run.chunks.get_mut(chunk_i) {
                            let before = chunk.capacity() + next.capacity();
                            chunk.extend(next);
                            self.slots = self.slots + chunk.capacity() - before;
                        }
                    }
                }
            }
            if run.chunks.is_empty() {
                self.runs.remove(run_i);
                restructured = true;
            }
        }
        if restructured {
            self.rebuild_tree();
        } else if taken.is_some() {
            self.tree_add(run_i, false);
        }
        taken
    }

    /// The item at rank `rank`.
    pub(crate) fn at(&self, rank: usize) -> Option<&Item> {
        let (run, mut offset) = self.run_at(rank)?;
        for chunk in &self.runs.get(run)?.chunks {
            if offset < chunk.len() {
                return chunk.get(offset);
            }
            offset -= chunk.len();
        }
        None
    }

    /// The items from rank `start` on, in order.
    pub(crate) fn iter_from(&self, start: usize) -> impl Iterator<Item = &Item> + '_ {
        let (run, offset) = self.run_at(start).unwrap_or((self.runs.len(), 0));
        let mut skip = offset;
        self.runs
            .iter()
            .skip(run)
            .flat_map(|r| r.chunks.iter())
            .flat_map(move |c| {
                let from = skip.min(c.len());
                skip -= from;
                c.get(from..).unwrap_or_default().iter()
            })
    }

    /// Every item, in order.
    #[cfg(test)]
    fn iter(&self) -> impl Iterator<Item = &Item> + '_ {
        self.runs
            .iter()
            .flat_map(|r| r.chunks.iter())
            .flat_map(|c| c.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(o: &Order, model: &[(f64, Vec<u8>)]) {
        assert_eq!(o.len(), model.len());
        let slots: usize = o
            .runs
            .iter()
            .flat_map(|r| r.chunks.iter())
            .map(Vec::capacity)
            .sum();
        assert_eq!(o.slots, slots, "the slot count kept as chunks change");
        let got: Vec<(f64, Vec<u8>)> = o.iter().map(|i| (i.score, i.member().to_vec())).collect();
        assert_eq!(got, model);
        for (rank, (s, m)) in model.iter().enumerate().step_by(37) {
            assert_eq!(o.rank(*s, m), Some(rank));
            assert_eq!(o.at(rank).map(Item::member), Some(&m[..]));
            assert_eq!(o.iter_from(rank).next().map(Item::member), Some(&m[..]));
            assert_eq!(
                o.count_below(|sc, mb| cmp_items((sc, mb), (*s, m)).is_lt()),
                rank
            );
        }
        assert!(o.at(model.len()).is_none());
        assert_eq!(o.iter_from(model.len()).count(), 0);
    }

    /// ZPOPMIN and ZPOPMAX take by rank: from both ends, and from the
    /// middle, through chunk merges and emptied runs, the order, ranks and
    /// slot count stay those of a model.
    #[test]
    fn taking_by_rank_keeps_order_and_ranks() {
        let mut o = Order::default();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        for i in 0..20_000u32 {
            let score = f64::from(i % 997);
            let member = format!("m{i:05}").into_bytes();
            o.insert(score, &member);
            let at = model.partition_point(|(s, m)| cmp_items((*s, m), (score, &member)).is_lt());
            model.insert(at, (score, member));
        }
        check(&o, &model);
        let mut step = 0usize;
        while !model.is_empty() {
            let rank = match step % 3 {
                0 => 0,
                1 => model.len() - 1,
                _ => model.len() / 2,
            };
            let item = o.take_at(rank).map(|i| (i.score, i.member().to_vec()));
            assert_eq!(item, Some(model.remove(rank)));
            step += 1;
            if step.is_multiple_of(2_500) {
                check(&o, &model);
            }
        }
        check(&o, &model);
        assert!(o.take_at(0).is_none());
    }

    #[test]
    fn ranks_and_order_hold_through_splits_and_removals() {
        let mut o = Order::default();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        let mut scores: std::collections::HashMap<Vec<u8>, f64> = Default::default();
        let mut x: u64 = 7;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..40_000u64 {
            let r = next();
            let score = f64::from(u32::try_from(r % 500).unwrap_or(0)) - 250.0;
            let member = format!("m{}", r % 30_000).into_bytes();
            let pos = scores.get(&member).map(|s| {
                model.partition_point(|(ms, mm)| cmp_items((*ms, mm), (*s, &member)).is_lt())
            });
            match pos {
                Some(i) if r % 3 == 0 => {
                    let (s, m) = model.remove(i);
                    scores.remove(&m);
                    assert!(o.remove(s, &m));
                }
                Some(_) => {}
                None => {
                    o.insert(score, &member);
                    scores.insert(member.clone(), score);
                    let at = model
                        .partition_point(|(s, m)| cmp_items((*s, m), (score, &member)).is_lt());
                    model.insert(at, (score, member));
                }
            }
            if round.is_multiple_of(5_000) {
                check(&o, &model);
            }
        }
        check(&o, &model);
        assert!(o.runs.len() > 1, "split into runs");
        while let Some((s, m)) = model.pop() {
            assert!(o.remove(s, &m));
            if model.len().is_multiple_of(3_001) {
                check(&o, &model);
            }
        }
        assert!(o.runs.is_empty());
        assert!(!o.remove(1.0, b"gone"));
    }
}
