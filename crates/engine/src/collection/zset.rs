//! `ZSet`: a sorted set's members and their scores.
//!
//! Owns the two encodings and the switch between them, and the memory
//! count. A small sorted set (at most `zset-max-listpack-entries`
//! members, none longer than `zset-max-listpack-value`) is one vector in
//! (score, member) order, Redis's `listpack`; past either limit it turns
//! into an index of member to score (`Table`) beside the ordered items
//! (`Order`), Redis's `skiplist`, and never converts back (as in Redis).
//! It must never hold a member twice, a NaN score, or an order that
//! disagrees with the index.

use super::order::{cmp_items, Order};
use super::table::Table;
use super::Listpack;

#[derive(Debug, Clone)]
struct Big {
    /// Member to score (8 bytes, little-endian `f64` bits).
    index: Table,
    order: Order,
}

#[derive(Debug, Clone)]
enum Repr {
    /// In (score, member) order.
    Small(Vec<(f64, Box<[u8]>)>),
    Big(Box<Big>),
}

/// A sorted set.
#[derive(Debug, Clone)]
pub(crate) struct ZSet {
    repr: Repr,
}

impl Default for ZSet {
    fn default() -> Self {
        Self {
            repr: Repr::Small(Vec::new()),
        }
    }
}

impl PartialEq for ZSet {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

fn score_bytes(score: f64) -> [u8; 8] {
    score.to_bits().to_le_bytes()
}

fn score_of(bytes: &[u8]) -> f64 {
    let mut b = [0u8; 8];
    if let Some(src) = bytes.get(..8) {
        b.copy_from_slice(src);
    }
    f64::from_bits(u64::from_le_bytes(b))
}

impl ZSet {
    /// An empty sorted set expecting `n` members: big from the start if
    /// `n` is past the listpack limit.
    pub(crate) fn with_capacity(n: usize, limits: Listpack) -> Self {
        let repr = if n > limits.entries {
            Repr::Big(Box::new(Big {
                index: Table::with_capacity(n),
                order: Order::default(),
            }))
        } else {
            Repr::Small(Vec::with_capacity(n))
        };
        Self { repr }
    }

    pub(crate) fn len(&self) -> usize {
        match &self.repr {
            Repr::Small(v) => v.len(),
            Repr::Big(b) => b.order.len(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn footprint(&self) -> usize {
        std::mem::size_of::<Self>()
            + match &self.repr {
                Repr::Small(v) => {
                    v.capacity() * std::mem::size_of::<(f64, Box<[u8]>)>()
                        + v.iter().map(|(_, m)| m.len()).sum::<usize>()
                }
                // The members' bytes twice: in the index and the order.
                Repr::Big(b) => b.index.bytes() * 2 + b.order.slot_bytes(),
            }
    }

    /// Redis's name for the encoding in use.
    pub(crate) fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Small(_) => "listpack",
            Repr::Big(_) => "skiplist",
        }
    }

    pub(crate) fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Small(v) => v.iter().find(|(_, m)| &m[..] == member).map(|(s, _)| *s),
            Repr::Big(b) => b.index.get(member).map(score_of),
        }
    }

    fn convert(&mut self) {
        if let Repr::Small(v) = &mut self.repr {
            let items = std::mem::take(v);
            let mut big = Big {
                index: Table::with_capacity(items.len() + 1),
                order: Order::default(),
            };
            for (score, member) in items {
                big.index.insert_new(&member, &score_bytes(score));
                big.order.insert(score, &member);
            }
            self.repr = Repr::Big(Box::new(big));
        }
    }

    /// Sets `member`'s score (never NaN): its old score if it was there.
    /// A small set past `limits` becomes big first.
    pub(crate) fn insert(&mut self, member: &[u8], score: f64, limits: Listpack) -> Option<f64> {
        super::edit::zset_add(member, score);
        if let Repr::Small(v) = &self.repr {
            let present = v.iter().any(|(_, m)| &m[..] == member);
            if !present && (v.len() >= limits.entries || member.len() > limits.value) {
                self.convert();
            }
        }
        match &mut self.repr {
            Repr::Small(v) => {
                // Redis's listpack keeps a score as text and reads -0 back
                // as 0; its skiplist keeps -0.
                let score = if score == 0.0 { 0.0 } else { score };
                let old = v
                    .iter()
                    .position(|(_, m)| &m[..] == member)
                    .map(|i| v.remove(i));
                let at = v.partition_point(|(s, m)| cmp_items((*s, m), (score, member)).is_lt());
                let boxed = old
                    .as_ref()
                    .map_or_else(|| member.into(), |(_, m)| m.clone());
                v.insert(at, (score, boxed));
                old.map(|(s, _)| s)
            }
            Repr::Big(b) => {
                let old = b.index.get(member).map(score_of);
                if let Some(old) = old {
                    if old.to_bits() == score.to_bits() {
                        return Some(old);
                    }
                    b.order.remove(old, member);
                }
                b.index.set(member, &score_bytes(score));
                b.order.insert(score, member);
                old
            }
        }
    }

    /// Removes `member`: its score if it was there.
    pub(crate) fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let score = self.remove_quiet(member)?;
        super::edit::zset_rem(member);
        Some(score)
    }

    /// Removes and returns the member with the lowest score, or with
    /// `max` the highest (ZPOPMIN, ZPOPMAX): taken by rank from the
    /// order, so the big encoding makes one hash lookup and no search.
    pub(crate) fn pop_end(&mut self, max: bool) -> Option<(Box<[u8]>, f64)> {
        let (member, score) = match &mut self.repr {
            Repr::Small(v) => {
                let (score, member) = if max {
                    v.pop()?
                } else if v.is_empty() {
                    return None;
                } else {
                    v.remove(0)
                };
                (member, score)
            }
            Repr::Big(b) => {
                let rank = if max {
                    b.order.len().checked_sub(1)?
                } else {
                    0
                };
                let item = b.order.take_at(rank)?;
                b.index.remove(item.member());
                (Box::from(item.member()), item.score)
            }
        };
        super::edit::zset_rem(&member);
        Some((member, score))
    }

    fn remove_quiet(&mut self, member: &[u8]) -> Option<f64> {
        match &mut self.repr {
            Repr::Small(v) => {
                let i = v.iter().position(|(_, m)| &m[..] == member)?;
                Some(v.remove(i).0)
            }
            Repr::Big(b) => {
                let score = b.index.get(member).map(score_of)?;
                b.index.remove(member);
                b.order.remove(score, member);
                Some(score)
            }
        }
    }

    /// `member`'s rank, 0 for the lowest score.
    pub(crate) fn rank(&self, member: &[u8]) -> Option<usize> {
        match &self.repr {
            Repr::Small(v) => v.iter().position(|(_, m)| &m[..] == member),
            Repr::Big(b) => {
                let score = b.index.get(member).map(score_of)?;
                b.order.rank(score, member)
            }
        }
    }

    /// Members before the first for which `below` is false; `below` must
    /// hold for a prefix of the order (a score or a lex bound).
    pub(crate) fn count_below(&self, below: impl Fn(f64, &[u8]) -> bool) -> usize {
        match &self.repr {
            Repr::Small(v) => v.partition_point(|(s, m)| below(*s, m)),
            Repr::Big(b) => b.order.count_below(below),
        }
    }

    /// The members from rank `start` on, in order, with their scores.
    pub(crate) fn iter_from(&self, start: usize) -> Box<dyn Iterator<Item = (&[u8], f64)> + '_> {
        match &self.repr {
            Repr::Small(v) => Box::new(
                v.get(start..)
                    .unwrap_or_default()
                    .iter()
                    .map(|(s, m)| (&m[..], *s)),
            ),
            Repr::Big(b) => Box::new(b.order.iter_from(start).map(|i| (i.member(), i.score))),
        }
    }

    /// The member at rank `rank`, with its score.
    pub(crate) fn at(&self, rank: usize) -> Option<(&[u8], f64)> {
        match &self.repr {
            Repr::Small(v) => v.get(rank).map(|(s, m)| (&m[..], *s)),
            Repr::Big(b) => b.order.at(rank).map(|i| (i.member(), i.score)),
        }
    }

    /// The members `picks` names, with their scores (see `Picks`): by
    /// rank, or by random bits (a rank each, O(log N)).
    pub(crate) fn picks(&self, picks: &super::Picks) -> Vec<(&[u8], f64)> {
        let len = self.len().max(1);
        match picks {
            super::Picks::Positions(p) => p.iter().filter_map(|&r| self.at(r)).collect(),
            super::Picks::Random(r) => r
                .iter()
                .filter_map(|&r| self.at(usize::try_from(r % len as u64).unwrap_or(0)))
                .collect(),
        }
    }

    /// One ZSCAN step from `cursor` (0 to start), asking for about `count`
    /// members: the members and scores of this step and the next cursor
    /// (0 when done). A small set answers whole, as Redis does for a
    /// listpack; a big one steps through its index (`Table::scan`).
    pub(crate) fn scan(&self, cursor: u64, count: usize) -> (u64, Vec<(&[u8], f64)>) {
        match &self.repr {
            Repr::Small(_) => (0, self.iter().collect()),
            Repr::Big(b) => {
                let (next, page) = b.index.scan(cursor, count);
                (
                    next,
                    page.into_iter().map(|(m, s)| (m, score_of(s))).collect(),
                )
            }
        }
    }

    /// The member-to-score index of a big sorted set.
    pub(super) fn table(&self) -> Option<&Table> {
        match &self.repr {
            Repr::Small(_) => None,
            Repr::Big(b) => Some(&b.index),
        }
    }

    /// Every member in order, with its score.
    pub(crate) fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], f64)> + '_> {
        self.iter_from(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Listpack {
        Listpack {
            entries: 4,
            value: 8,
        }
    }

    #[test]
    fn both_encodings_keep_members_in_score_then_member_order() {
        for limits in [tiny(), Listpack::default()] {
            let mut z = ZSet::default();
            assert_eq!(z.insert(b"b", 2.0, limits), None);
            assert_eq!(z.insert(b"a", 2.0, limits), None);
            assert_eq!(z.insert(b"c", -1.5, limits), None);
            assert_eq!(z.insert(b"d", f64::INFINITY, limits), None);
            assert_eq!(z.insert(b"e", f64::NEG_INFINITY, limits), None);
            assert_eq!(z.insert(b"c", 3.0, limits), Some(-1.5));
            let order: Vec<(&[u8], f64)> = z.iter().collect();
            assert_eq!(
                order,
                vec![
                    (&b"e"[..], f64::NEG_INFINITY),
                    (b"a", 2.0),
                    (b"b", 2.0),
                    (b"c", 3.0),
                    (b"d", f64::INFINITY)
                ]
            );
            assert_eq!(
                z.encoding(),
                if limits == tiny() {
                    "skiplist"
                } else {
                    "listpack"
                }
            );
            assert_eq!(z.rank(b"b"), Some(2));
            assert_eq!(z.rank(b"zz"), None);
            assert_eq!(z.score(b"c"), Some(3.0));
            assert_eq!(z.iter_from(3).next(), Some((&b"c"[..], 3.0)));
            assert_eq!(z.count_below(|s, _| s < 2.5), 3);
            assert_eq!(z.iter_from(3).count(), 2);
            assert_eq!(z.remove(b"a"), Some(2.0));
            assert_eq!(z.remove(b"a"), None);
            assert_eq!(z.len(), 4);
        }
        let mut z = ZSet::default();
        z.insert(b"a-long-member", 1.0, tiny());
        assert_eq!(z.encoding(), "skiplist", "a member past the value limit");
    }

    #[test]
    fn equal_sets_compare_equal_across_encodings() {
        let mut small = ZSet::default();
        let mut big = ZSet::with_capacity(100, tiny());
        for i in 0..4 {
            let m = format!("m{i}");
            small.insert(m.as_bytes(), f64::from(i), Listpack::default());
            big.insert(m.as_bytes(), f64::from(i), tiny());
        }
        assert_eq!(big.encoding(), "skiplist");
        assert_eq!(small, big);
    }
}
