//! `Stepped`: a big collection's `codec` encoding, copied without
//! holding a shard lock for the whole value, so a snapshot never stalls
//! the writers of a big value's shard.
//!
//! Owns which collections are copied this way and what one step copies.
//! A hash, set or sorted set is read a step at a time: about `STEP`
//! elements along its scan order (`Table::scan`, the HSCAN cursor), the
//! caller releasing the shard lock between steps, so writes to the key and
//! its shard go on. A list is taken in one step, but cheaply: its chunks
//! are shared (`Chunk` keeps its bytes in an `Arc`, copied by the next
//! write to them), and encoded once the lock is released. It must never
//! copy an element twice: the decoder refuses a repeated field, and
//! recovery would stop on the snapshot.
//!
//! Why a copy that is not a point in time is exact: the table-encoded
//! types' logged edits set absolute states (field set to this value,
//! member removed), so replaying the log from the snapshot's start fixes
//! every element that changed while the copy ran. A list's edits are
//! relative (push, pop) and name the list's change count, so a list is
//! copied at one instant, with its count. A cursor stays valid across
//! steps only within one table's order: a step that finds the key gone,
//! or another table there (the key was deleted or replaced, which the log
//! records after the snapshot's start), gives the copy up, and the
//! snapshot leaves the key to the log.

use super::codec::{put_bytes, put_varint, Reader};
use super::order::cmp_items;
use super::Collection;
use std::ops::Range;

/// Elements one step copies (about: a step ends between segments or
/// distinct hashes), and the size past which a collection is stepped.
/// 4,096 short elements are copied in about 100 µs.
pub(crate) const STEP: usize = 4096;

/// What one step found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// More to copy.
    More,
    /// The whole collection is copied.
    Done,
    /// The key is gone or holds another value: give the copy up.
    Changed,
}

/// A copy in progress.
#[derive(Debug)]
pub(crate) struct Stepped {
    tag: u8,
    /// The order the cursor follows (`Table::order_id`), from the first step.
    order: Option<u64>,
    cursor: u64,
    elements: u64,
    body: Vec<u8>,
    steps: u64,
    /// A sorted set's members as copied (score, where its record lies in
    /// `body`): the copy follows the table's order, and `finish` writes
    /// them in the set's order, as the format promises.
    scored: Vec<(f64, Range<usize>)>,
    /// A list, taken whole (its chunks shared), to encode in `finish`.
    list: Option<Collection>,
}

impl Stepped {
    /// A copy of a collection of type `tag` (`codec`'s tags).
    pub(crate) fn new(tag: u8) -> Self {
        Self {
            tag,
            order: None,
            cursor: 0,
            elements: 0,
            body: Vec::new(),
            steps: 0,
            scored: Vec::new(),
            list: None,
        }
    }

    /// Whether `c` is copied this way: a list, or a hash, set or sorted
    /// set in its table encoding, with more than one step's elements.
    pub(crate) fn applies(c: &Collection) -> bool {
        let steppable = matches!(c, Collection::List(_)) || table_order(c).is_some();
        steppable && c.len() > STEP
    }

    /// Copies the next step of `c`, what the key holds now (`None`: it is
    /// gone).
    pub(crate) fn step(&mut self, c: Option<&Collection>) -> Step {
        let Some(c) = c.filter(|c| c.tag() == self.tag) else {
            return Step::Changed;
        };
        if let Collection::List(list) = c {
            // Shares the chunks: O(chunks), not O(elements).
            self.list = Some(Collection::List(list.clone()));
            self.steps += 1;
            return Step::Done;
        }
        let Some(order) = table_order(c) else {
            return Step::Changed;
        };
        if *self.order.get_or_insert(order) != order {
            return Step::Changed;
        }
        self.steps += 1;
        let body = &mut self.body;
        let (next, n) = match c {
            Collection::Hash(h) => {
                let (next, page) = h.scan(self.cursor, STEP);
                for (field, value) in &page {
                    put_bytes(body, field);
                    put_bytes(body, value);
                }
                (next, page.len())
            }
            Collection::Set(s) => {
                let (next, page) = s.scan(self.cursor, STEP);
                let n = page.len();
                for member in page {
                    member.with_text(|text| put_bytes(body, text));
                }
                (next, n)
            }
            Collection::ZSet(z) => {
                let (next, page) = z.scan(self.cursor, STEP);
                for &(member, score) in &page {
                    let at = body.len();
                    put_bytes(body, member);
                    body.extend_from_slice(&score.to_bits().to_le_bytes());
                    self.scored.push((score, at..body.len()));
                }
                (next, page.len())
            }
            Collection::List(_) => return Step::Changed,
        };
        self.elements += n as u64;
        self.cursor = next;
        if next == 0 {
            Step::Done
        } else {
            Step::More
        }
    }

    /// Steps taken so far.
    pub(crate) fn steps(&self) -> u64 {
        self.steps
    }

    /// Appends the finished encoding (count, then the elements) to `out`;
    /// false, appending nothing, if no element was copied (an empty
    /// collection is never stored).
    pub(crate) fn finish(self, out: &mut Vec<u8>) -> bool {
        if let Some(list) = &self.list {
            super::codec::encode(list, out);
            return true;
        }
        if self.elements == 0 {
            return false;
        }
        put_varint(out, self.elements);
        if self.scored.is_empty() {
            out.extend_from_slice(&self.body);
            return true;
        }
        let body = &self.body;
        let member = |r: &Range<usize>| {
            let mut reader = Reader {
                rest: body.get(r.clone()).unwrap_or_default(),
            };
            reader.bytes().unwrap_or_default()
        };
        let mut scored = self.scored;
        scored.sort_unstable_by(|a, b| cmp_items((a.0, member(&a.1)), (b.0, member(&b.1))));
        out.reserve(body.len());
        for (_, r) in scored {
            out.extend_from_slice(body.get(r).unwrap_or_default());
        }
        true
    }
}

/// The scan order of `c`'s table, if it is in a table encoding.
fn table_order(c: &Collection) -> Option<u64> {
    let table = match c {
        Collection::Hash(h) => h.table(),
        Collection::Set(s) => s.table(),
        Collection::ZSet(z) => z.table(),
        Collection::List(_) => None,
    };
    table.map(super::table::Table::order_id)
}

#[cfg(test)]
mod tests {
    use super::super::codec::{decode, to_vec, TAG_HASH, TAG_LIST, TAG_SET, TAG_ZSET};
    use super::super::{End, Hash, Limits, List, Set, ZSet};
    use super::*;

    fn copy(c: &Collection) -> (Vec<u8>, u64) {
        let mut s = Stepped::new(c.tag());
        while s.step(Some(c)) == Step::More {}
        let steps = s.steps();
        let mut out = Vec::new();
        assert!(s.finish(&mut out));
        (out, steps)
    }

    fn big(kind: u8, n: usize) -> Collection {
        let l = Limits::default();
        match kind {
            TAG_HASH => {
                let mut h = Hash::default();
                for i in 0..n {
                    h.insert(
                        format!("f{i}").as_bytes(),
                        format!("v{i}").as_bytes(),
                        l.hash,
                    );
                }
                Collection::Hash(h)
            }
            TAG_SET => {
                let mut s = Set::default();
                for i in 0..n {
                    s.insert(format!("m{i}").as_bytes(), l.set_intset_entries);
                }
                Collection::Set(s)
            }
            _ => {
                let mut z = ZSet::default();
                for i in 0..n {
                    z.insert(format!("m{i}").as_bytes(), (i % 97) as f64, l.zset);
                }
                Collection::ZSet(z)
            }
        }
    }

    #[test]
    fn a_copy_in_steps_decodes_to_the_collection() {
        for kind in [TAG_HASH, TAG_SET, TAG_ZSET] {
            let c = big(kind, 3 * STEP + 17);
            assert!(Stepped::applies(&c));
            let (bytes, steps) = copy(&c);
            assert!(steps >= 3, "type {kind}: {steps} steps");
            if kind == TAG_ZSET {
                // In the set's order, as a copy in one piece writes it.
                assert_eq!(bytes, to_vec(&c));
            }
            assert_eq!(
                decode(kind, &bytes, Limits::default()),
                Ok(Some(c)),
                "type {kind}"
            );
        }
    }

    #[test]
    fn small_collections_are_copied_under_the_lock() {
        assert!(!Stepped::applies(&big(TAG_SET, STEP)));
        assert!(!Stepped::applies(&big(TAG_HASH, 100)));
    }

    #[test]
    fn a_list_is_taken_at_once_and_later_writes_leave_the_copy_alone() {
        let l = Limits::default();
        let mut list = List::default();
        for i in 0..2 * STEP {
            list.push(End::Right, format!("e{i}").as_bytes(), l.list_chunk);
        }
        list.set_seq(7);
        let c = Collection::List(Box::new(list));
        assert!(Stepped::applies(&c));
        let expected = to_vec(&c);
        let mut s = Stepped::new(c.tag());
        assert_eq!(s.step(Some(&c)), Step::Done);
        // Writes at both ends and in the middle after the copy was taken.
        let Collection::List(mut list) = c else {
            unreachable!()
        };
        list.push(End::Left, b"new", l.list_chunk);
        list.pop(End::Right);
        assert!(list.set(STEP, b"changed", l.list_chunk));
        let mut out = Vec::new();
        assert!(s.finish(&mut out));
        assert_eq!(out, expected);
        assert_eq!(
            decode(TAG_LIST, &out, l).map(|c| c.map(|c| c.seq())),
            Ok(Some(7))
        );
    }

    #[test]
    fn changes_between_steps_never_repeat_an_element() {
        let l = Limits::default();
        let Collection::Set(mut set) = big(TAG_SET, 4 * STEP) else {
            unreachable!()
        };
        let mut s = Stepped::new(TAG_SET);
        let mut round = 0;
        // Between steps, remove some members, add new ones and re-add
        // removed ones, forcing segment splits.
        while s.step(Some(&Collection::Set(set.clone()))) == Step::More {
            for i in 0..STEP {
                let m = format!("m{}", (i * 7 + round) % (4 * STEP));
                set.remove(m.as_bytes());
                set.insert(format!("new{round}-{i}").as_bytes(), l.set_intset_entries);
                set.insert(m.as_bytes(), l.set_intset_entries);
            }
            round += 1;
        }
        let mut out = Vec::new();
        assert!(s.finish(&mut out));
        let Ok(Some(Collection::Set(copied))) = decode(TAG_SET, &out, l) else {
            panic!("the copy does not decode");
        };
        // Every member present throughout is there.
        for i in 0..4 * STEP {
            assert!(copied.contains(format!("m{i}").as_bytes()), "m{i}");
        }
    }

    #[test]
    fn another_table_or_type_at_the_key_gives_the_copy_up() {
        let c = big(TAG_HASH, 2 * STEP);
        let mut s = Stepped::new(TAG_HASH);
        assert_eq!(s.step(Some(&c)), Step::More);
        // The same fields in a table of its own (another order).
        assert_eq!(s.step(Some(&big(TAG_HASH, 2 * STEP))), Step::Changed);
        let mut s = Stepped::new(TAG_HASH);
        assert_eq!(s.step(Some(&c)), Step::More);
        assert_eq!(s.step(Some(&big(TAG_SET, 2 * STEP))), Step::Changed);
        assert_eq!(s.step(None), Step::Changed);
        let mut out = Vec::new();
        assert!(!Stepped::new(TAG_HASH).finish(&mut out), "nothing copied");
        assert!(out.is_empty());
    }
}
