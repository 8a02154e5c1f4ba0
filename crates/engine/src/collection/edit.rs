//! Edits: what one change did to a collection, element by element, so
//! the log can carry the change instead of the whole collection.
//!
//! Owns the recording (a per-thread buffer each type's mutators write to
//! while a change is being logged), the edits' byte encoding
//! (`docs/STORAGE-FORMAT.md`, "Edits"), and applying encoded edits to a
//! collection during replay. The types report from their own mutators
//! (`Hash::insert`, `List::push`, ...), so every command that changes a
//! collection in place is covered without knowing about the log, as the
//! memtable reports for entries (see `journal`).
//!
//! A hash's, set's and sorted set's edits set or remove one element to an
//! absolute state, so replaying one twice changes nothing. A list's edits
//! (push, pop, trim, ...) depend on the list they apply to; the record
//! holding them names the list's change count (`List::seq`) they apply
//! to, and replay skips them unless the list is at that count. A
//! stream's record names its change count too (`Stream::seq`); its edits
//! are states where they can be: an entry added (only above the last
//! ID), deleted, marked deleted by a trim, the entries of a node a trim
//! dropped (by its first and last IDs, whichever nodes a replay built),
//! the counters as they ended, a group's and a consumer's state.
//!
//! It must never record outside a recording (building a `*STORE` result,
//! decoding, replaying), never allocate on a length it has not checked,
//! and never panic on edits read from disk: replay may apply a stale
//! record to a newer incarnation of the key, which must change it
//! harmlessly (a later record puts the key back as it was).

use super::codec::{put_bytes, put_varint, unzigzag, BadValue, Reader};
use super::stream::{Pending, StreamId, StreamMeta};
pub(super) use super::stream_edits::{
    stream_add, stream_consumer, stream_consumer_del, stream_del, stream_drop, stream_group,
    stream_group_del, stream_mark, stream_meta, stream_pending, stream_pending_del,
};
use super::{Collection, End, Limits};
use std::cell::{Cell, RefCell};

const HASH_SET: u8 = 1;
const HASH_DEL: u8 = 2;
const SET_ADD: u8 = 3;
const SET_REM: u8 = 4;
const ZSET_ADD: u8 = 5;
const ZSET_REM: u8 = 6;
const LIST_PUSH: u8 = 7;
const LIST_POP: u8 = 8;
const LIST_SET: u8 = 9;
const LIST_INSERT: u8 = 10;
const LIST_REM: u8 = 11;
const LIST_TRIM: u8 = 12;
pub(super) const STREAM_ADD: u8 = 13;
pub(super) const STREAM_DEL: u8 = 14;
pub(super) const STREAM_MARK: u8 = 15;
pub(super) const STREAM_DROP: u8 = 16;
pub(super) const STREAM_META: u8 = 17;
pub(super) const GROUP_SET: u8 = 18;
pub(super) const GROUP_DEL: u8 = 19;
pub(super) const CONSUMER_SET: u8 = 20;
pub(super) const CONSUMER_DEL: u8 = 21;
pub(super) const PENDING_SET: u8 = 22;
pub(super) const PENDING_DEL: u8 = 23;

/// Past this, a change is logged whole rather than edit by edit (its
/// edits would be about as big, and the buffer is kept per thread).
const MOST_BYTES: usize = 8 << 20;

thread_local! {
    static RECORDING: Cell<bool> = const { Cell::new(false) };
    static EDITS: RefCell<Edits> = const {
        RefCell::new(Edits { bytes: Vec::new(), overflow: false })
    };
}

struct Edits {
    bytes: Vec<u8>,
    overflow: bool,
}

/// The edits recorded on this thread since `record`; stops recording
/// when dropped.
pub(crate) struct Recording(());

/// Starts recording this thread's edits (the journal does, around one
/// in-place change while it logs).
pub(crate) fn record() -> Recording {
    EDITS.with_borrow_mut(|e| {
        e.bytes.clear();
        e.overflow = false;
    });
    RECORDING.with(|r| r.set(true));
    Recording(())
}

impl Recording {
    /// Stops recording and passes `f` the edits, or `None` if there were
    /// more than a record should carry.
    pub(crate) fn finish<R>(self, f: impl FnOnce(Option<&[u8]>) -> R) -> R {
        RECORDING.with(|r| r.set(false));
        EDITS.with_borrow(|e| f((!e.overflow).then_some(&e.bytes[..])))
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        RECORDING.with(|r| r.set(false));
        EDITS.with_borrow_mut(|e| {
            if e.bytes.capacity() > 64 * 1024 {
                e.bytes = Vec::new();
            }
        });
    }
}

#[inline]
pub(super) fn note(write: impl FnOnce(&mut Vec<u8>)) {
    if !RECORDING.with(Cell::get) {
        return;
    }
    EDITS.with_borrow_mut(|e| {
        if e.overflow {
            return;
        }
        write(&mut e.bytes);
        if e.bytes.len() > MOST_BYTES {
            e.overflow = true;
            e.bytes = Vec::new();
        }
    });
}

fn end_byte(end: End) -> u8 {
    match end {
        End::Left => 0,
        End::Right => 1,
    }
}

pub(super) fn hash_set(field: &[u8], value: &[u8]) {
    note(|b| {
        b.push(HASH_SET);
        put_bytes(b, field);
        put_bytes(b, value);
    });
}

pub(super) fn hash_del(field: &[u8]) {
    note(|b| {
        b.push(HASH_DEL);
        put_bytes(b, field);
    });
}

pub(super) fn set_add(member: &[u8]) {
    note(|b| {
        b.push(SET_ADD);
        put_bytes(b, member);
    });
}

pub(super) fn set_rem(member: &[u8]) {
    note(|b| {
        b.push(SET_REM);
        put_bytes(b, member);
    });
}

pub(super) fn zset_add(member: &[u8], score: f64) {
    note(|b| {
        b.push(ZSET_ADD);
        put_bytes(b, member);
        b.extend_from_slice(&score.to_bits().to_le_bytes());
    });
}

pub(super) fn zset_rem(member: &[u8]) {
    note(|b| {
        b.push(ZSET_REM);
        put_bytes(b, member);
    });
}

pub(super) fn list_push(end: End, value: &[u8]) {
    note(|b| {
        b.push(LIST_PUSH);
        b.push(end_byte(end));
        put_bytes(b, value);
    });
}

pub(super) fn list_pop(end: End) {
    note(|b| {
        b.push(LIST_POP);
        b.push(end_byte(end));
    });
}

pub(super) fn list_set(index: usize, value: &[u8]) {
    note(|b| {
        b.push(LIST_SET);
        put_varint(b, index as u64);
        put_bytes(b, value);
    });
}

pub(super) fn list_insert(pivot: &[u8], value: &[u8], before: bool) {
    note(|b| {
        b.push(LIST_INSERT);
        b.push(u8::from(before));
        put_bytes(b, pivot);
        put_bytes(b, value);
    });
}

pub(super) fn list_rem(value: &[u8], count: usize, from_tail: bool) {
    note(|b| {
        b.push(LIST_REM);
        b.push(u8::from(from_tail));
        put_varint(b, count as u64);
        put_bytes(b, value);
    });
}

pub(super) fn list_trim(start: usize, stop: usize, keep: bool) {
    note(|b| {
        b.push(LIST_TRIM);
        b.push(u8::from(keep));
        put_varint(b, start as u64);
        put_varint(b, stop as u64);
    });
}

/// One edit, borrowed from the encoded bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Edit<'a> {
    HashSet(&'a [u8], &'a [u8]),
    HashDel(&'a [u8]),
    SetAdd(&'a [u8]),
    SetRem(&'a [u8]),
    ZSetAdd(&'a [u8], f64),
    ZSetRem(&'a [u8]),
    Push(End, &'a [u8]),
    Pop(End),
    Set(u64, &'a [u8]),
    Insert {
        before: bool,
        pivot: &'a [u8],
        value: &'a [u8],
    },
    Rem {
        from_tail: bool,
        count: u64,
        value: &'a [u8],
    },
    Trim {
        keep: bool,
        start: u64,
        stop: u64,
    },
    /// An entry: its ID, how many fields and values, and them encoded.
    StreamAdd(StreamId, usize, &'a [u8]),
    StreamDel(StreamId),
    StreamMark(StreamId),
    /// A node's first and last IDs: every entry between them goes.
    StreamDrop(StreamId, StreamId),
    StreamMeta(StreamMeta),
    GroupSet(&'a [u8], StreamId, Option<u64>),
    GroupDel(&'a [u8]),
    ConsumerSet(&'a [u8], &'a [u8], i64),
    ConsumerDel(&'a [u8], &'a [u8]),
    /// Group, ID, consumer, delivery time, delivery count.
    PendingSet(&'a [u8], StreamId, &'a [u8], i64, u64),
    PendingDel(&'a [u8], StreamId),
}

impl Edit<'_> {
    /// The type tag (`codec`) of the collections this edit applies to.
    fn tag(&self) -> u8 {
        use super::codec::{TAG_HASH, TAG_LIST, TAG_SET, TAG_STREAM, TAG_ZSET};
        match self {
            Edit::StreamAdd(..)
            | Edit::StreamDel(_)
            | Edit::StreamMark(_)
            | Edit::StreamDrop(..)
            | Edit::StreamMeta(_)
            | Edit::GroupSet(..)
            | Edit::GroupDel(_)
            | Edit::ConsumerSet(..)
            | Edit::ConsumerDel(..)
            | Edit::PendingSet(..)
            | Edit::PendingDel(..) => TAG_STREAM,
            Edit::HashSet(..) | Edit::HashDel(_) => TAG_HASH,
            Edit::SetAdd(_) | Edit::SetRem(_) => TAG_SET,
            Edit::ZSetAdd(..) | Edit::ZSetRem(_) => TAG_ZSET,
            _ => TAG_LIST,
        }
    }
}

/// The edits in `rest`, one at a time.
struct EditReader<'a>(Reader<'a>);

impl<'a> EditReader<'a> {
    fn flag(&mut self) -> Result<bool, BadValue> {
        match self.0.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(BadValue("edit flag neither 0 nor 1")),
        }
    }

    fn end(&mut self) -> Result<End, BadValue> {
        Ok(if self.flag()? { End::Right } else { End::Left })
    }

    fn varint(&mut self) -> Result<u64, BadValue> {
        self.0.varint()
    }

    fn bytes(&mut self) -> Result<&'a [u8], BadValue> {
        self.0.bytes()
    }

    fn read_count(&mut self) -> Result<Option<u64>, BadValue> {
        let known = self.flag()?;
        let n = self.varint()?;
        Ok(known.then_some(n))
    }

    fn id(&mut self) -> Result<StreamId, BadValue> {
        Ok(StreamId::new(self.varint()?, self.varint()?))
    }

    /// A stream entry's fields and values: their count, and the bytes
    /// holding them, each checked against what is left.
    fn pairs(&mut self) -> Result<(usize, &'a [u8]), BadValue> {
        let n = usize::try_from(self.varint()?).map_err(|_| BadValue("count"))?;
        if n > self.0.rest.len() || n % 2 != 0 || n == 0 {
            return Err(BadValue("a stream entry's field count"));
        }
        let all = self.0.rest;
        for _ in 0..n {
            self.bytes()?;
        }
        let used = all.len() - self.0.rest.len();
        Ok((n, all.get(..used).unwrap_or_default()))
    }

    fn next(&mut self) -> Option<Result<Edit<'a>, BadValue>> {
        if self.0.rest.is_empty() {
            return None;
        }
        Some(self.edit())
    }

    fn edit(&mut self) -> Result<Edit<'a>, BadValue> {
        Ok(match self.0.byte()? {
            HASH_SET => Edit::HashSet(self.bytes()?, self.bytes()?),
            HASH_DEL => Edit::HashDel(self.bytes()?),
            SET_ADD => Edit::SetAdd(self.bytes()?),
            SET_REM => Edit::SetRem(self.bytes()?),
            ZSET_ADD => Edit::ZSetAdd(self.bytes()?, self.0.score()?),
            ZSET_REM => Edit::ZSetRem(self.bytes()?),
            LIST_PUSH => Edit::Push(self.end()?, self.bytes()?),
            LIST_POP => Edit::Pop(self.end()?),
            LIST_SET => Edit::Set(self.varint()?, self.bytes()?),
            LIST_INSERT => Edit::Insert {
                before: self.flag()?,
                pivot: self.bytes()?,
                value: self.bytes()?,
            },
            LIST_REM => Edit::Rem {
                from_tail: self.flag()?,
                count: self.varint()?,
                value: self.bytes()?,
            },
            LIST_TRIM => Edit::Trim {
                keep: self.flag()?,
                start: self.varint()?,
                stop: self.varint()?,
            },
            STREAM_ADD => {
                let id = self.id()?;
                let (n, body) = self.pairs()?;
                Edit::StreamAdd(id, n, body)
            }
            STREAM_DEL => Edit::StreamDel(self.id()?),
            STREAM_MARK => Edit::StreamMark(self.id()?),
            STREAM_DROP => Edit::StreamDrop(self.id()?, self.id()?),
            STREAM_META => Edit::StreamMeta(StreamMeta {
                last_id: self.id()?,
                first_id: self.id()?,
                max_deleted: self.id()?,
                entries_added: self.varint()?,
            }),
            GROUP_SET => Edit::GroupSet(self.bytes()?, self.id()?, self.read_count()?),
            GROUP_DEL => Edit::GroupDel(self.bytes()?),
            CONSUMER_SET => {
                Edit::ConsumerSet(self.bytes()?, self.bytes()?, unzigzag(self.varint()?))
            }
            CONSUMER_DEL => Edit::ConsumerDel(self.bytes()?, self.bytes()?),
            PENDING_SET => Edit::PendingSet(
                self.bytes()?,
                self.id()?,
                self.bytes()?,
                unzigzag(self.varint()?),
                self.varint()?,
            ),
            PENDING_DEL => Edit::PendingDel(self.bytes()?, self.id()?),
            _ => return Err(BadValue("unknown edit")),
        })
    }
}

/// Whether `edits` are well-formed edits of a collection of type `tag`;
/// says what is wrong if not (`tandem check`, and replay before it
/// applies any).
pub(crate) fn check(tag: u8, edits: &[u8]) -> Result<(), BadValue> {
    if edits.is_empty() {
        return Err(BadValue("no edits"));
    }
    let mut r = EditReader(Reader { rest: edits });
    while let Some(edit) = r.next() {
        if edit?.tag() != tag {
            return Err(BadValue("edit of another type"));
        }
    }
    Ok(())
}

/// Applies `edits` (already `check`ed against `c`'s type) to `c`, with
/// the thresholds of the moment.
pub(crate) fn apply(c: &mut Collection, edits: &[u8], limits: Limits) -> Result<(), BadValue> {
    let mut r = EditReader(Reader { rest: edits });
    while let Some(edit) = r.next() {
        apply_one(c, edit?, limits);
    }
    Ok(())
}

fn apply_one(c: &mut Collection, edit: Edit<'_>, limits: Limits) {
    match (c, edit) {
        (Collection::Hash(h), Edit::HashSet(f, v)) => drop(h.insert(f, v, limits.hash)),
        (Collection::Hash(h), Edit::HashDel(f)) => drop(h.remove(f)),
        (Collection::Set(s), Edit::SetAdd(m)) => drop(s.insert(m, limits.set_intset_entries)),
        (Collection::Set(s), Edit::SetRem(m)) => drop(s.remove(m)),
        (Collection::ZSet(z), Edit::ZSetAdd(m, score)) => drop(z.insert(m, score, limits.zset)),
        (Collection::ZSet(z), Edit::ZSetRem(m)) => drop(z.remove(m)),
        (Collection::List(l), edit) => {
            let len = l.len();
            let index = |i: u64| usize::try_from(i).ok().filter(|&i| i < len);
            match edit {
                Edit::Push(end, v) => l.push(end, v, limits.list_chunk),
                Edit::Pop(end) => drop(l.pop(end)),
                Edit::Set(i, v) => {
                    if let Some(i) = index(i) {
                        l.set(i, v, limits.list_chunk);
                    }
                }
                Edit::Insert {
                    before,
                    pivot,
                    value,
                } => drop(l.insert(pivot, value, before, limits.list_chunk)),
                Edit::Rem {
                    from_tail,
                    count,
                    value,
                } => {
                    let count = usize::try_from(count).unwrap_or(usize::MAX);
                    l.remove(value, count, from_tail);
                }
                Edit::Trim { keep, start, stop } => match (index(start), index(stop)) {
                    (Some(start), Some(stop)) if keep && start <= stop => {
                        l.trim(start, stop, true, limits.list_chunk);
                    }
                    // Only a stale record gets here (a live trim's bounds
                    // are within its list): any change will do.
                    _ => l.trim(0, 0, false, limits.list_chunk),
                },
                _ => {}
            }
        }
        (Collection::Stream(s), edit) => match edit {
            Edit::StreamAdd(id, n, body) => {
                let mut r = Reader { rest: body };
                let pairs: Vec<&[u8]> = (0..n).map_while(|_| r.bytes().ok()).collect();
                s.replay_add(id, &pairs, limits.stream_node);
            }
            Edit::StreamDel(id) => s.replay_del(id),
            Edit::StreamMark(id) => s.replay_mark(id),
            Edit::StreamDrop(first, last) => s.replay_drop(first, last),
            Edit::StreamMeta(meta) => s.replay_meta(meta),
            Edit::GroupSet(name, id, read) => s.replay_group(name, id, read),
            Edit::GroupDel(name) => s.replay_group_del(name),
            Edit::ConsumerSet(group, name, seen) => s.replay_consumer(group, name, seen),
            Edit::ConsumerDel(group, name) => s.replay_consumer_del(group, name),
            Edit::PendingSet(group, id, consumer, time, count) => s.replay_pending(
                group,
                id,
                Pending {
                    consumer: bytes::Bytes::copy_from_slice(consumer),
                    delivery_time: time,
                    delivery_count: count,
                },
            ),
            Edit::PendingDel(group, id) => s.replay_pending_del(group, id),
            _ => {}
        },
        // `check` refused edits of another type.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collection::{codec, Hash, List};

    fn recorded(change: impl FnOnce()) -> Vec<u8> {
        let rec = record();
        change();
        rec.finish(|e| e.map(<[u8]>::to_vec)).unwrap_or_default()
    }

    #[test]
    fn edits_replay_what_was_recorded() {
        let limits = Limits::default();
        let mut list = List::default();
        for v in [&b"a"[..], b"b", b"c", b"b", b"d"] {
            list.push(End::Right, v, limits.list_chunk);
        }
        let before = Collection::List(Box::new(list.clone()));
        let edits = recorded(|| {
            list.push(End::Left, b"z", limits.list_chunk);
            list.pop(End::Right);
            list.set(1, b"A", limits.list_chunk);
            list.insert(b"b", b"x", false, limits.list_chunk);
            list.remove(b"b", 0, true);
            list.trim(1, 2, true, limits.list_chunk);
        });
        assert!(check(codec::TAG_LIST, &edits).is_ok());
        let mut replayed = before;
        apply(&mut replayed, &edits, limits).unwrap();
        assert_eq!(replayed, Collection::List(Box::new(list)));
    }

    #[test]
    fn nothing_is_recorded_outside_a_recording() {
        let mut h = Hash::default();
        let rec = record();
        drop(rec);
        h.insert(b"f", b"v", Limits::default().hash);
        assert!(recorded(|| {}).is_empty());
    }

    #[test]
    fn malformed_edits_are_refused_and_stale_ones_change_harmlessly() {
        for bad in [
            &[][..],
            &[LIST_PUSH, 2, 0],
            &[HASH_SET, 5, b'a'],
            &[ZSET_ADD, 1, b'm', 0, 0, 0, 0, 0, 0, 0xf8, 0x7f],
            &[99],
        ] {
            assert!(check(codec::TAG_LIST, bad).is_err() || check(codec::TAG_HASH, bad).is_err());
        }
        assert_eq!(
            check(codec::TAG_SET, &[HASH_DEL, 1, b'f']),
            Err(BadValue("edit of another type"))
        );
        let limits = Limits::default();
        let mut list = List::default();
        list.push(End::Right, b"only", limits.list_chunk);
        let mut c = Collection::List(Box::new(list));
        let mut stale = vec![LIST_TRIM, 1];
        put_varint(&mut stale, u64::MAX);
        put_varint(&mut stale, 3);
        stale.extend_from_slice(&[LIST_SET, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, b'x']);
        assert!(check(codec::TAG_LIST, &stale).is_ok());
        apply(&mut c, &stale, limits).unwrap();
        assert!(c.is_empty());
    }
}
