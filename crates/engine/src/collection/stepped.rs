//! `Stepped`: a big collection's `codec` encoding, copied without
//! holding a shard lock for the whole value, so a snapshot never stalls
//! the writers of a big value's shard.
//!
//! Owns which collections are copied this way and what one step copies.
//! A hash, set or sorted set is read a step at a time: one segment of its
//! table along its scan order (`Table::copy_runs`, the HSCAN cursor), the
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

use super::codec::{put_bytes, put_varint, TAG_HASH, TAG_ZSET};
use super::table::Table;
use super::Collection;

/// The size past which a collection is copied this way: a little more
/// than one step, which copies one segment of its table (at most 3,584
/// elements, about 100 µs for short ones).
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
            list: None,
        }
    }

    /// Whether `c` is copied this way: a list, or a hash, set or sorted
    /// set in its table encoding, with more than one step's elements.
    pub(crate) fn applies(c: &Collection) -> bool {
        let steppable = matches!(c, Collection::List(_)) || table_of(c).is_some();
        steppable && c.len() > STEP
    }

    /// Makes room for the next step, to be called before the lock is
    /// taken: a vector that grew under the lock would copy everything
    /// copied so far while writers wait (tens of milliseconds at millions
    /// of elements). A step that outgrows this room (a segment of fields
    /// over 1 MiB in all) still grows under the lock.
    pub(crate) fn make_room(&mut self) {
        const ROOM: usize = 1 << 20;
        if self.body.capacity() - self.body.len() < ROOM {
            self.body.reserve(self.body.len().max(ROOM));
        }
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
        let Some(table) = table_of(c) else {
            return Step::Changed;
        };
        let order = table.order_id();
        if *self.order.get_or_insert(order) != order {
            return Step::Changed;
        }
        if self.steps == 0 {
            // Sized once (the table's byte count is a little over its
            // encoding's), so it is not doubled up through copies of a
            // large body; an allocation, not a copy, under the lock.
            self.body.reserve(table.bytes());
            self.body.resize(COUNT_ROOM, 0);
        }
        self.steps += 1;
        let body = &mut self.body;
        let mut n = 0usize;
        let tag = self.tag;
        // One segment a step: at most 3,584 fields under the lock.
        let next = table.copy_runs(self.cursor, 1, |(field, value)| {
            n += 1;
            put_bytes(body, field);
            match tag {
                TAG_HASH => put_bytes(body, value),
                TAG_ZSET => {
                    // The index keeps a score as the encoding does: 8
                    // bytes, little-endian. Written in the table's order,
                    // not the set's: the decoder sorts, at load.
                    let bits = value.try_into().map_or(0, u64::from_le_bytes);
                    body.extend_from_slice(&bits.to_le_bytes());
                }
                _ => {}
            }
        });
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

    /// The finished encoding (count, then the elements); `None` if no
    /// element was copied (an empty collection is never stored).
    pub(crate) fn finish(self) -> Option<Encoded> {
        if let Some(list) = &self.list {
            return Some(Encoded {
                bytes: super::codec::to_vec(list),
                start: 0,
            });
        }
        if self.elements == 0 {
            return None;
        }
        let mut count = Vec::with_capacity(COUNT_ROOM);
        put_varint(&mut count, self.elements);
        let start = COUNT_ROOM.checked_sub(count.len())?;
        let mut bytes = self.body;
        bytes.get_mut(start..COUNT_ROOM)?.copy_from_slice(&count);
        Some(Encoded { bytes, start })
    }
}

/// Room kept at the front of a copy's body for its element count (a
/// varint, at most 10 bytes), so that `finish` writes the count in place
/// rather than copying the body behind it.
const COUNT_ROOM: usize = 10;

/// A finished copy: a collection's `codec` encoding.
#[derive(Debug)]
pub(crate) struct Encoded {
    bytes: Vec<u8>,
    start: usize,
}

impl Encoded {
    /// The encoding's bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        self.bytes.get(self.start..).unwrap_or_default()
    }
}

/// `c`'s table, if it is in a table encoding.
fn table_of(c: &Collection) -> Option<&Table> {
    match c {
        Collection::Hash(h) => h.table(),
        Collection::Set(s) => s.table(),
        Collection::ZSet(z) => z.table(),
        Collection::List(_) | Collection::Stream(_) => None,
    }
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
        (s.finish().unwrap().as_slice().to_vec(), steps)
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
        let out = s.finish().unwrap().as_slice().to_vec();
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
        let out = s.finish().unwrap().as_slice().to_vec();
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
        assert!(Stepped::new(TAG_HASH).finish().is_none(), "nothing copied");
    }
}
