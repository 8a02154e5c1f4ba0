//! `Set`: a set value's members.
//!
//! Owns the two encodings and the switch between them, and the memory
//! count. A set of integers only, no more than `set-max-intset-entries`
//! of them, is a sorted vector of `i64` (Redis's `intset`: SMEMBERS on it
//! answers in ascending order, as Redis does); a member that is not an
//! integer in Redis's strict form (`string2ll`), or one past the limit,
//! turns it into a hash table of the members' bytes (Redis's
//! `hashtable`). As in Redis, a set never converts back. It must never
//! hold a member twice.

use super::table::Table;
use crate::numeric::{format_i64, parse_i64};
use bytes::Bytes;

/// One member, borrowed from the set: an intset holds numbers, not text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Member<'a> {
    /// A member of an intset.
    Int(i64),
    /// A member of a hash table.
    Bytes(&'a [u8]),
}

impl Member<'_> {
    /// The member's text, copied.
    pub(crate) fn to_bytes(self) -> Bytes {
        match self {
            Member::Int(n) => Bytes::copy_from_slice(format_i64(n).as_bytes()),
            Member::Bytes(b) => Bytes::copy_from_slice(b),
        }
    }

    /// Runs `f` on the member's text (formatted on the stack for a number).
    pub(crate) fn with_text<R>(self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Member::Int(n) => f(format_i64(n).as_bytes()),
            Member::Bytes(b) => f(b),
        }
    }
}

#[derive(Debug, Clone)]
enum Members {
    /// Sorted, distinct.
    Ints(Vec<i64>),
    /// Each member's bytes, with an empty value; boxed, so an intset
    /// (one per key) stays small.
    Big(Box<Table>),
}

/// A set of distinct binary-safe members.
#[derive(Debug, Clone)]
pub(crate) struct Set {
    members: Members,
}

impl Default for Set {
    fn default() -> Self {
        Self {
            members: Members::Ints(Vec::new()),
        }
    }
}

impl PartialEq for Set {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|m| m.with_text(|t| other.contains(t)))
    }
}

impl Set {
    /// An empty set expecting `n` members: a table from the start if `n`
    /// is past `intset_entries`.
    pub(crate) fn with_capacity(n: usize, intset_entries: usize) -> Self {
        let members = if n > intset_entries {
            Members::Big(Box::new(Table::with_capacity(n)))
        } else {
            Members::Ints(Vec::with_capacity(n))
        };
        Self { members }
    }

    pub(crate) fn len(&self) -> usize {
        match &self.members {
            Members::Ints(v) => v.len(),
            Members::Big(t) => t.len(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn footprint(&self) -> usize {
        std::mem::size_of::<Self>()
            + match &self.members {
                Members::Ints(v) => v.capacity() * 8,
                Members::Big(t) => t.bytes(),
            }
    }

    /// Redis's name for the encoding in use.
    pub(crate) fn encoding(&self) -> &'static str {
        match &self.members {
            Members::Ints(_) => "intset",
            Members::Big(_) => "hashtable",
        }
    }

    pub(crate) fn contains(&self, member: &[u8]) -> bool {
        match &self.members {
            Members::Ints(v) => parse_i64(member).is_some_and(|n| v.binary_search(&n).is_ok()),
            Members::Big(t) => t.get(member).is_some(),
        }
    }

    /// Adds `member`; true if it is new. An intset becomes a table if the
    /// member is not an integer or would take it past `intset_entries`.
    pub(crate) fn insert(&mut self, member: &[u8], intset_entries: usize) -> bool {
        let added = self.insert_quiet(member, intset_entries);
        if added {
            super::edit::set_add(member);
        }
        added
    }

    fn insert_quiet(&mut self, member: &[u8], intset_entries: usize) -> bool {
        if let Members::Ints(v) = &mut self.members {
            match parse_i64(member).map(|n| (n, v.binary_search(&n))) {
                Some((_, Ok(_))) => return false,
                Some((n, Err(at))) if v.len() < intset_entries => {
                    v.insert(at, n);
                    return true;
                }
                _ => self.convert(),
            }
        }
        match &mut self.members {
            Members::Big(t) => {
                if t.get(member).is_some() {
                    return false;
                }
                t.insert_new(member, &[]);
                true
            }
            // `convert` left a table.
            Members::Ints(_) => false,
        }
    }

    /// Removes `member`; true if it was there.
    pub(crate) fn remove(&mut self, member: &[u8]) -> bool {
        let removed = match &mut self.members {
            Members::Ints(v) => {
                let at = parse_i64(member).and_then(|n| v.binary_search(&n).ok());
                let Some(at) = at else { return false };
                v.remove(at);
                true
            }
            Members::Big(t) => t.remove(member).is_some(),
        };
        if removed {
            super::edit::set_rem(member);
        }
        removed
    }

    /// Every member: an intset's in ascending order, a table's in its own
    /// (unspecified) order.
    pub(crate) fn iter(&self) -> Box<dyn Iterator<Item = Member<'_>> + '_> {
        match &self.members {
            Members::Ints(v) => Box::new(v.iter().map(|&n| Member::Int(n))),
            Members::Big(t) => Box::new(t.iter().map(|(m, _)| Member::Bytes(m))),
        }
    }

    /// The members at `positions` of `iter`'s order, in the order asked
    /// (repeats allowed; positions past the end are skipped).
    pub(crate) fn at_positions(&self, positions: &[usize]) -> Vec<Member<'_>> {
        match &self.members {
            Members::Ints(v) => positions
                .iter()
                .filter_map(|&i| v.get(i).map(|&n| Member::Int(n)))
                .collect(),
            Members::Big(t) => t
                .at_positions(positions)
                .into_iter()
                .map(|(m, _)| Member::Bytes(m))
                .collect(),
        }
    }

    /// The members `picks` names (see `Picks`).
    pub(crate) fn picks(&self, picks: &super::Picks) -> Vec<Member<'_>> {
        match (picks, &self.members) {
            (super::Picks::Positions(p), _) => self.at_positions(p),
            (super::Picks::Random(r), Members::Ints(v)) => r
                .iter()
                .filter_map(|&r| v.get((r as usize) % v.len().max(1)))
                .map(|&n| Member::Int(n))
                .collect(),
            (super::Picks::Random(r), Members::Big(t)) => r
                .iter()
                .filter_map(|&r| t.random(r))
                .map(|(m, _)| Member::Bytes(m))
                .collect(),
        }
    }

    /// One SSCAN step (see `Table::scan`); an intset answers whole, with
    /// cursor 0, as Redis does.
    pub(crate) fn scan(&self, cursor: u64, count: usize) -> (u64, Vec<Member<'_>>) {
        match &self.members {
            Members::Ints(_) => (0, self.iter().collect()),
            Members::Big(t) => {
                let (next, page) = t.scan(cursor, count);
                (
                    next,
                    page.into_iter().map(|(m, _)| Member::Bytes(m)).collect(),
                )
            }
        }
    }

    /// The table of a big set.
    pub(super) fn table(&self) -> Option<&Table> {
        match &self.members {
            Members::Ints(_) => None,
            Members::Big(t) => Some(t),
        }
    }

    /// Switches an intset to a table.
    fn convert(&mut self) {
        if let Members::Ints(v) = &self.members {
            let mut t = Table::with_capacity(v.len() * 2);
            for &n in v {
                t.insert_new(format_i64(n).as_bytes(), &[]);
            }
            self.members = Members::Big(Box::new(t));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &Set) -> Vec<Vec<u8>> {
        s.iter().map(|m| m.to_bytes().to_vec()).collect()
    }

    #[test]
    fn an_intset_stays_sorted_and_converts_at_a_text_member_or_past_the_limit() {
        let mut s = Set::default();
        for m in ["5", "-3", "100", "5"] {
            s.insert(m.as_bytes(), 4);
        }
        assert_eq!(s.encoding(), "intset");
        assert_eq!(
            texts(&s),
            vec![b"-3".to_vec(), b"5".to_vec(), b"100".to_vec()]
        );
        let base = std::mem::size_of::<Set>();
        assert!(s.footprint() >= base + 24);
        // Not integers in Redis's strict form: they are text members.
        assert!(!s.contains(b"05"));
        assert!(s.insert(b"7", 4));
        assert_eq!(s.encoding(), "intset", "exactly at the limit");
        assert!(s.insert(b"8", 4));
        assert_eq!(s.encoding(), "hashtable", "past the limit");
        assert_eq!(s.len(), 5);
        assert!(s.contains(b"-3") && s.contains(b"8"));
        assert_eq!(s.footprint(), base + 5 * 24 + 2 + 1 + 3 + 1 + 1);

        let mut t = Set::default();
        t.insert(b"1", 512);
        assert!(t.insert(b"+1", 512), "+1 is text, not 1");
        assert_eq!(t.encoding(), "hashtable");
        assert!(!t.insert(b"1", 512));
        assert!(t.remove(b"1") && t.remove(b"+1"));
        assert!(t.is_empty());
        assert_eq!(t.footprint(), std::mem::size_of::<Set>());
        assert_eq!(t.encoding(), "hashtable", "never converts back");
    }

    #[test]
    fn removes_keep_the_byte_count() {
        let mut s = Set::default();
        s.insert(b"1", 512);
        s.insert(b"2", 512);
        assert!(!s.remove(b"x"));
        assert!(s.remove(b"2"));
        assert!(!s.remove(b"2"));
        assert!(s.footprint() >= std::mem::size_of::<Set>() + 8);
        assert_eq!(s, {
            let mut o = Set::with_capacity(10, 0);
            o.insert(b"1", 0);
            o
        });
    }

    #[test]
    fn picks_and_scans_reach_every_member() {
        let mut s = Set::default();
        for i in 0..3000 {
            s.insert(format!("m{i}").as_bytes(), 512);
        }
        let order = texts(&s);
        let got: Vec<Vec<u8>> = s
            .at_positions(&[7, 0, 7, 9999])
            .into_iter()
            .map(|m| m.to_bytes().to_vec())
            .collect();
        assert_eq!(
            got,
            vec![order[7].clone(), order[0].clone(), order[7].clone()]
        );
        let (mut cursor, mut seen) = (0, 0);
        loop {
            let (next, page) = s.scan(cursor, 100);
            seen += page.len();
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen, 3000);
    }
}
