//! A stream in RDB (`RDB_TYPE_STREAM_LISTPACKS` and `_2`): its nodes as
//! Redis's listpacks under 16-byte keys, its counters, and its consumer
//! groups with their pending entries and consumers.
//!
//! Owns writing a stream as Redis 7.0 writes one (type 19, each node's
//! listpack element for element as Redis builds it, so a node's bytes are
//! Redis's) and reading either version back, each listpack checked as
//! Redis's deep integrity check does (`streamValidateListpackIntegrity`)
//! and the groups as its loader checks them. It must never trust a
//! count, a length or an ID it read; the engine's `Stream::from_parts`
//! checks what it builds again.

use super::object::LoadError;
use super::packed::{self, Corrupt, Item};
use super::string::{put_len, put_string, Reader};
use std::collections::BTreeMap;
use tandem_engine::{
    Bytes, EntryParts, Group, NodeParts, Pending, Stream, StreamBuilder, StreamId, StreamMeta,
    Value,
};

/// An entry's flags in Redis's listpack (`STREAM_ITEM_FLAG_*`).
const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;

fn corrupt(why: &'static str) -> LoadError {
    LoadError::Corrupt(why)
}

fn put_id(out: &mut Vec<u8>, id: StreamId) {
    put_len(out, id.ms);
    put_len(out, id.seq);
}

/// One node's listpack, as Redis's `streamAppendItem` and
/// `streamIteratorRemoveEntry` leave it.
fn node_listpack(n: &NodeParts<'_>) -> Vec<u8> {
    let count = |x: usize| Item::Int(i64::try_from(x).unwrap_or(i64::MAX));
    let mut items = vec![count(n.live), count(n.deleted), count(n.master.len())];
    items.extend(n.master.iter().map(|f| Item::Bytes(f)));
    items.push(Item::Int(0));
    for e in &n.entries {
        let mut flags = 0;
        if e.deleted {
            flags |= FLAG_DELETED;
        }
        if e.same_fields {
            flags |= FLAG_SAMEFIELDS;
        }
        items.push(Item::Int(flags));
        items.push(Item::Int(e.id.ms.wrapping_sub(n.first.ms) as i64));
        items.push(Item::Int(e.id.seq.wrapping_sub(n.first.seq) as i64));
        let fields = e.pairs.len() / 2;
        if e.same_fields {
            items.extend(e.pairs.iter().skip(1).step_by(2).map(|v| Item::Bytes(v)));
            items.push(count(fields + 3));
        } else {
            items.push(count(fields));
            items.extend(e.pairs.iter().map(|p| Item::Bytes(p)));
            items.push(count(2 * fields + 4));
        }
    }
    packed::listpack_write(&items)
}

/// Writes `s`'s body after its type byte (19), as `rdbSaveObject` does.
pub fn write(out: &mut Vec<u8>, s: &Stream, compress: bool) {
    put_len(out, s.node_count() as u64);
    for n in s.node_parts() {
        put_string(out, &n.first.to_be_bytes(), false);
        put_string(out, &node_listpack(&n), compress);
    }
    let meta = s.meta();
    put_len(out, s.len());
    put_id(out, meta.last_id);
    put_id(out, meta.first_id);
    put_id(out, meta.max_deleted);
    put_len(out, meta.entries_added);
    put_len(out, s.groups().len() as u64);
    for (name, g) in s.groups() {
        put_string(out, name, compress);
        put_id(out, g.last_id);
        // Redis writes an unknown count (-1) as the unsigned 2^64-1.
        put_len(out, g.entries_read.unwrap_or(u64::MAX));
        put_len(out, g.pel().len() as u64);
        for (id, p) in g.pel() {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(&p.delivery_time.to_le_bytes());
            put_len(out, p.delivery_count);
        }
        put_len(out, g.consumers().len() as u64);
        for (cname, c) in g.consumers() {
            put_string(out, cname, compress);
            out.extend_from_slice(&c.seen_time.to_le_bytes());
            put_len(out, c.pending() as u64);
            for id in c.pending_ids() {
                out.extend_from_slice(&id.to_be_bytes());
            }
        }
    }
}

fn read_id(r: &mut Reader<'_>) -> Result<StreamId, LoadError> {
    Ok(StreamId::new(r.len()?, r.len()?))
}

fn raw_id(r: &mut Reader<'_>) -> Result<StreamId, LoadError> {
    let b: [u8; 16] = r
        .take(16)?
        .try_into()
        .map_err(|_| corrupt("a stream ID not 16 bytes"))?;
    Ok(StreamId::from_be_bytes(b))
}

fn ms_time(r: &mut Reader<'_>) -> Result<i64, LoadError> {
    let b: [u8; 8] = r
        .take(8)?
        .try_into()
        .map_err(|_| corrupt("a time not 8 bytes"))?;
    Ok(i64::from_le_bytes(b))
}

/// A listpack item as an integer, as Redis reads one with `lpGetInteger`.
fn int(i: Option<&Item<'_>>) -> Result<i64, LoadError> {
    match i {
        Some(Item::Int(n)) => Ok(*n),
        Some(Item::Bytes(b)) => {
            tandem_engine::parse_i64(b).ok_or(corrupt("a stream listpack field not an integer"))
        }
        None => Err(corrupt("a stream listpack cut short")),
    }
}

/// An item's text, kept in `texts` when it was an integer.
fn text<'a>(i: Option<&Item<'a>>, texts: &'a [Vec<u8>], at: usize) -> Result<&'a [u8], LoadError> {
    match i {
        Some(Item::Bytes(b)) => Ok(b),
        Some(Item::Int(_)) => texts
            .get(at)
            .map(Vec::as_slice)
            .ok_or(corrupt("a stream listpack cut short")),
        None => Err(corrupt("a stream listpack cut short")),
    }
}

/// A node read from its key and listpack, checked as Redis's
/// `streamValidateListpackIntegrity` checks one.
fn read_node<'a>(
    first: StreamId,
    items: &'a [Item<'a>],
    texts: &'a [Vec<u8>],
) -> Result<NodeParts<'a>, LoadError> {
    let mut at = 0usize;
    let next_int = |at: &mut usize| {
        let v = int(items.get(*at));
        *at += 1;
        v
    };
    let live = usize::try_from(next_int(&mut at)?).map_err(|_| corrupt("a negative count"))?;
    let deleted = usize::try_from(next_int(&mut at)?).map_err(|_| corrupt("a negative count"))?;
    let nmaster = usize::try_from(next_int(&mut at)?).map_err(|_| corrupt("a negative count"))?;
    if nmaster > items.len() {
        return Err(corrupt("a master field count past the listpack"));
    }
    let mut master = Vec::with_capacity(nmaster);
    for _ in 0..nmaster {
        master.push(text(items.get(at), texts, at)?);
        at += 1;
    }
    if next_int(&mut at)? != 0 {
        return Err(corrupt("a master entry without its terminator"));
    }
    let mut entries = Vec::new();
    while at < items.len() {
        let flags = next_int(&mut at)?;
        if flags & !(FLAG_DELETED | FLAG_SAMEFIELDS) != 0 {
            return Err(corrupt("unknown stream entry flags"));
        }
        let ms = first.ms.wrapping_add(next_int(&mut at)? as u64);
        let seq = first.seq.wrapping_add(next_int(&mut at)? as u64);
        let same = flags & FLAG_SAMEFIELDS != 0;
        let fields = if same {
            nmaster
        } else {
            usize::try_from(next_int(&mut at)?).map_err(|_| corrupt("a negative field count"))?
        };
        // Each field takes at least one item (its value), two unless it
        // is a master field: a count is never trusted past what is left.
        if fields > items.len().saturating_sub(at) {
            return Err(corrupt("a field count past the listpack"));
        }
        let mut pairs = Vec::with_capacity(fields * 2);
        for i in 0..fields {
            if same {
                pairs.push(*master.get(i).ok_or(corrupt("a master field missing"))?);
            } else {
                pairs.push(text(items.get(at), texts, at)?);
                at += 1;
            }
            pairs.push(text(items.get(at), texts, at)?);
            at += 1;
        }
        let lp_count = next_int(&mut at)?;
        let want = if same { fields + 3 } else { 2 * fields + 4 };
        if usize::try_from(lp_count).ok() != Some(want) {
            return Err(corrupt("a stream entry's element count is wrong"));
        }
        entries.push(EntryParts {
            id: StreamId::new(ms, seq),
            deleted: flags & FLAG_DELETED != 0,
            same_fields: same,
            pairs,
        });
    }
    if entries.len() != live.saturating_add(deleted) {
        return Err(corrupt("a stream node's counts disagree with its entries"));
    }
    Ok(NodeParts {
        first,
        master,
        live,
        deleted,
        entries,
    })
}

/// Reads a stream's body after its type byte: `v2` for type 19 (with the
/// first ID, the largest deleted ID, entries added and read counters).
pub fn load(r: &mut Reader<'_>, v2: bool) -> Result<Value, LoadError> {
    let n = r.len()?;
    // Each node takes at least its key and a listpack's header.
    if n > (r.remaining() / 20) as u64 {
        return Err(corrupt("more stream nodes than bytes"));
    }
    // One node at a time, read, checked and built: what a node's items
    // take is held for that node alone.
    let mut built = StreamBuilder::default();
    let mut first_live: Option<StreamId> = None;
    for _ in 0..n {
        let key = r.string_cow()?;
        let key: [u8; 16] = key
            .as_ref()
            .try_into()
            .map_err(|_| corrupt("a stream node key not the size of a stream ID"))?;
        let first = StreamId::from_be_bytes(key);
        let lp = r.string_cow()?;
        let mut items = Vec::new();
        packed::listpack(&lp, |i| {
            items.push(i);
            Ok(())
        })
        .map_err(|Corrupt| corrupt("a stream node's listpack does not check out"))?;
        if items.is_empty() {
            return Err(corrupt("an empty listpack inside a stream"));
        }
        let texts: Vec<Vec<u8>> = items
            .iter()
            .map(|i| match i {
                Item::Int(n) => itoa::Buffer::new().format(*n).as_bytes().to_vec(),
                Item::Bytes(_) => Vec::new(),
            })
            .collect();
        let node = read_node(first, &items, &texts)?;
        if first_live.is_none() {
            first_live = node.entries.iter().find(|e| !e.deleted).map(|e| e.id);
        }
        built.add_node(node).map_err(|e| LoadError::Corrupt(e.0))?;
    }
    let len = r.len()?;
    let last_id = read_id(r)?;
    let (first_id, max_deleted, entries_added) = if v2 {
        (read_id(r)?, read_id(r)?, r.len()?)
    } else {
        (first_live.unwrap_or_default(), StreamId::MIN, len)
    };
    let meta = StreamMeta {
        last_id,
        first_id,
        max_deleted,
        entries_added,
    };
    let ngroups = r.len()?;
    let mut groups: BTreeMap<Bytes, Group> = BTreeMap::new();
    for _ in 0..ngroups {
        let name = Bytes::from(r.string_cow()?.into_owned());
        let last = read_id(r)?;
        let read = if v2 {
            match r.len()? {
                u64::MAX => None,
                n => Some(n),
            }
        } else {
            None
        };
        let mut g = Group::new(last, read);
        // Pending entries, then consumers naming them.
        let pel = r.len()?;
        if pel > (r.remaining() / 25) as u64 {
            return Err(corrupt("more pending entries than bytes"));
        }
        let mut nacks: Vec<(StreamId, i64, u64)> = Vec::new();
        for _ in 0..pel {
            nacks.push((raw_id(r)?, ms_time(r)?, r.len()?));
        }
        let consumers = r.len()?;
        let mut owner: BTreeMap<StreamId, Bytes> = BTreeMap::new();
        for _ in 0..consumers {
            let cname = Bytes::from(r.string_cow()?.into_owned());
            let seen = ms_time(r)?;
            if !g.add_consumer_at(&cname, seen) {
                return Err(corrupt("a stream consumer repeated"));
            }
            let mine = r.len()?;
            if mine > (r.remaining() / 16) as u64 {
                return Err(corrupt("more pending entries than bytes"));
            }
            for _ in 0..mine {
                if owner.insert(raw_id(r)?, cname.clone()).is_some() {
                    return Err(corrupt("a pending entry owned twice"));
                }
            }
        }
        if owner.len() != nacks.len() {
            return Err(corrupt("a pending entry without its consumer"));
        }
        for (id, time, count) in nacks {
            let consumer = owner.get(&id).cloned().ok_or(corrupt(
                "a consumer's entry not in its group's pending list",
            ))?;
            let p = Pending {
                consumer,
                delivery_time: time,
                delivery_count: count,
            };
            if !g.add_pending_at(id, p) {
                return Err(corrupt("a pending entry repeated"));
            }
        }
        if groups.insert(name, g).is_some() {
            return Err(corrupt("a consumer group repeated"));
        }
    }
    // Version 1 knows no read counters: estimated once the stream is built.
    let s = built
        .finish(meta, len, groups)
        .map_err(|e| LoadError::Corrupt(e.0))?;
    let s = if v2 { s } else { s.with_estimated_reads() };
    Ok(Value::stream(s))
}
