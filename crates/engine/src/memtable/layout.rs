//! `Layout`: which memtables a keyspace holds right now.
//!
//! Owns the description of the keyspace's current shape: the active
//! memtable (where writes go), and during a resize the frozen one being
//! drained into it. It also derives the *units* that scans and the migrator
//! lock together. A layout is immutable; a resize publishes a new one.
//!
//! It lives with the memtables it lists, so that scans and the reaper can
//! read a layout without using `keyspace`. It must never change a
//! memtable: it only names them.

use crate::memtable::Shards;
use std::ops::Range;
use std::sync::Arc;

/// The memtables of a keyspace at one moment.
pub(crate) struct Layout {
    /// Changes with every published layout.
    pub(crate) id: u64,
    /// Where writes go and lookups look first.
    pub(crate) active: Arc<Shards>,
    /// During a resize, the memtable being drained into `active`.
    pub(crate) frozen: Option<Arc<Shards>>,
}

/// Shards of the active and frozen memtables whose hash intervals overlap:
/// every key of the unit's frozen shards routes to one of its active
/// shards, and back. Locking a unit's shards together therefore freezes
/// every place its keys can be, which is what lets a scan read a unit
/// without missing a key the migrator moves, and the migrator move keys
/// without taking any lock outside the unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unit {
    pub(crate) active: Range<usize>,
    pub(crate) frozen: Range<usize>,
}

impl Layout {
    /// The units of this layout, in hash order. Without a frozen memtable
    /// each active shard is its own unit.
    pub(crate) fn units(&self) -> Vec<Unit> {
        let new = self.active.count();
        let Some(old) = &self.frozen else {
            return (0..new)
                .map(|i| Unit {
                    active: i..i + 1,
                    frozen: 0..0,
                })
                .collect();
        };
        units(old.count(), new)
    }
}

/// Units between a partition of the hash space into `old` equal intervals
/// and one into `new`: a unit closes wherever both partitions have a
/// boundary. Interval `i` of `n` ends at `(i + 1) / n`; comparing
/// `(i + 1) * new` with `(j + 1) * old` compares two ends exactly.
fn units(old: usize, new: usize) -> Vec<Unit> {
    let mut out = Vec::new();
    let (mut i0, mut j0, mut i, mut j) = (0, 0, 0, 0);
    while i < old && j < new {
        let (end_old, end_new) = ((i + 1) as u128 * new as u128, (j + 1) as u128 * old as u128);
        if end_old <= end_new {
            i += 1;
        }
        if end_new <= end_old {
            j += 1;
        }
        if end_old == end_new {
            out.push(Unit {
                active: j0..j,
                frozen: i0..i,
            });
            (i0, j0) = (i, j);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubling_pairs_each_old_shard_with_two_new_ones() {
        let u = units(4, 8);
        assert_eq!(u.len(), 4);
        assert_eq!(
            u[1],
            Unit {
                active: 2..4,
                frozen: 1..2
            }
        );
    }

    #[test]
    fn halving_pairs_two_old_shards_with_one_new_one() {
        let u = units(8, 4);
        assert_eq!(u.len(), 4);
        assert_eq!(
            u[3],
            Unit {
                active: 3..4,
                frozen: 6..8
            }
        );
    }

    #[test]
    fn any_sizes_partition_both_sides() {
        for old in 1..20 {
            for new in 1..20 {
                let u = units(old, new);
                let covered_old: Vec<usize> = u.iter().flat_map(|x| x.frozen.clone()).collect();
                let covered_new: Vec<usize> = u.iter().flat_map(|x| x.active.clone()).collect();
                assert_eq!(covered_old, (0..old).collect::<Vec<_>>(), "{old}->{new}");
                assert_eq!(covered_new, (0..new).collect::<Vec<_>>(), "{old}->{new}");
                assert!(u
                    .iter()
                    .all(|x| !x.active.is_empty() && !x.frozen.is_empty()));
            }
        }
        assert_eq!(units(4, 6).len(), 2);
    }
}
