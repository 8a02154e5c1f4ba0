//! The edits a stream's changes record (`edit`'s kinds 13 to 23): an
//! entry added, deleted or marked deleted by a trim, a trim's dropped
//! node, the counters, and a group's, consumer's and pending entry's
//! state; each written while a change is being logged.
//!
//! Owns their encoding only (`docs/STORAGE-FORMAT.md`, "Edits"); reading
//! and applying them is `edit`'s. It must never record outside a
//! recording: `edit::note` sees to that.

use super::codec::{put_bytes, put_id, put_varint, zigzag};
use super::edit::{
    note, CONSUMER_DEL, CONSUMER_SET, GROUP_DEL, GROUP_SET, PENDING_DEL, PENDING_SET, STREAM_ADD,
    STREAM_DEL, STREAM_DROP, STREAM_MARK, STREAM_META,
};
use super::stream::{Pending, StreamId, StreamMeta};

pub(super) fn stream_add(id: StreamId, pairs: &[&[u8]]) {
    note(|b| {
        b.push(STREAM_ADD);
        put_id(b, id);
        put_varint(b, pairs.len() as u64);
        for p in pairs {
            put_bytes(b, p);
        }
    });
}

pub(super) fn stream_del(id: StreamId) {
    note(|b| {
        b.push(STREAM_DEL);
        put_id(b, id);
    });
}

pub(super) fn stream_mark(id: StreamId) {
    note(|b| {
        b.push(STREAM_MARK);
        put_id(b, id);
    });
}

pub(super) fn stream_drop(first: StreamId, last: StreamId) {
    note(|b| {
        b.push(STREAM_DROP);
        put_id(b, first);
        put_id(b, last);
    });
}

pub(super) fn stream_meta(meta: &StreamMeta) {
    note(|b| {
        b.push(STREAM_META);
        put_id(b, meta.last_id);
        put_id(b, meta.first_id);
        put_id(b, meta.max_deleted);
        put_varint(b, meta.entries_added);
    });
}

/// A read counter that may be unknown: a flag, then the count.
fn put_read(b: &mut Vec<u8>, n: Option<u64>) {
    b.push(u8::from(n.is_some()));
    put_varint(b, n.unwrap_or(0));
}

pub(super) fn stream_group(name: &[u8], last_id: StreamId, entries_read: Option<u64>) {
    note(|b| {
        b.push(GROUP_SET);
        put_bytes(b, name);
        put_id(b, last_id);
        put_read(b, entries_read);
    });
}

pub(super) fn stream_group_del(name: &[u8]) {
    note(|b| {
        b.push(GROUP_DEL);
        put_bytes(b, name);
    });
}

pub(super) fn stream_consumer(group: &[u8], name: &[u8], seen: i64) {
    note(|b| {
        b.push(CONSUMER_SET);
        put_bytes(b, group);
        put_bytes(b, name);
        put_varint(b, zigzag(seen));
    });
}

pub(super) fn stream_consumer_del(group: &[u8], name: &[u8]) {
    note(|b| {
        b.push(CONSUMER_DEL);
        put_bytes(b, group);
        put_bytes(b, name);
    });
}

pub(super) fn stream_pending(group: &[u8], id: StreamId, p: &Pending) {
    note(|b| {
        b.push(PENDING_SET);
        put_bytes(b, group);
        put_id(b, id);
        put_bytes(b, &p.consumer);
        put_varint(b, zigzag(p.delivery_time));
        put_varint(b, p.delivery_count);
    });
}

pub(super) fn stream_pending_del(group: &[u8], id: StreamId) {
    note(|b| {
        b.push(PENDING_DEL);
        put_bytes(b, group);
        put_id(b, id);
    });
}
